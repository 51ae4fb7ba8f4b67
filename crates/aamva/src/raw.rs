//! The raw element map kept on every parsed card.
//!
//! A card has 20–40 elements. Stored as a map of owned strings they cost two
//! allocations each, which was half of the parse time; stored as one text
//! buffer plus an index they cost two in total.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// Every element read from a card: element ID (`DAQ`, `ZVA`…) → raw value as
/// written, padding included. Iterates and serialises in ID order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elements {
    /// `ID` + value, back to back.
    text: String,
    /// (start, end) of each `ID`+value in `text`, sorted by ID.
    index: Vec<(u32, u32)>,
}

impl Elements {
    pub(crate) fn from_pairs<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = Elements {
            text: String::new(),
            index: Vec::with_capacity(pairs.len()),
        };
        for (id, value) in pairs {
            let (Ok(start), Ok(end)) = (
                u32::try_from(out.text.len()),
                u32::try_from(out.text.len() + id.len() + value.len()),
            ) else {
                break;
            };
            out.text.push_str(id);
            out.text.push_str(value);
            out.index.push((start, end));
        }
        let text = &out.text;
        out.index
            .sort_by(|a, b| id_at(text, *a).cmp(id_at(text, *b)));
        out
    }

    /// The raw value of an element, if the card has it.
    pub fn get(&self, id: &str) -> Option<&str> {
        let i = self
            .index
            .binary_search_by(|e| id_at(&self.text, *e).cmp(id))
            .ok()?;
        self.index.get(i).map(|e| value_at(&self.text, *e))
    }

    /// `(ID, raw value)` pairs in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.index
            .iter()
            .map(|e| (id_at(&self.text, *e), value_at(&self.text, *e)))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no element was read.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

fn id_at(text: &str, (start, _): (u32, u32)) -> &str {
    let s = start as usize;
    text.get(s..s + 3).unwrap_or_default()
}

fn value_at(text: &str, (start, end): (u32, u32)) -> &str {
    text.get(start as usize + 3..end as usize)
        .unwrap_or_default()
}

impl Serialize for Elements {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (id, value) in self.iter() {
            map.serialize_entry(id, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_order() {
        let e = Elements::from_pairs([("DCS", "DOE "), ("DAQ", "1"), ("ZVA", "")].into_iter());
        assert_eq!(e.get("DCS"), Some("DOE "));
        assert_eq!(e.get("ZVA"), Some(""));
        assert_eq!(e.get("DBB"), None);
        assert_eq!(
            e.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            ["DAQ", "DCS", "ZVA"]
        );
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"DAQ":"1","DCS":"DOE ","ZVA":""}"#
        );
    }
}
