//! Which values the surviving profile keeps when two are merged.

use std::collections::BTreeMap;

use canopy_domain::{CustomerDraft, FieldError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A field of the profile that a merge chooses per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Phone,
    Email,
    DateOfBirth,
    CustomerType,
    IdDocument,
    Addresses,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::Phone,
        Field::Email,
        Field::DateOfBirth,
        Field::CustomerType,
        Field::IdDocument,
        Field::Addresses,
    ];
}

/// Whose value a field keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Survivor,
    Merged,
    /// Addresses only: the survivor's, then the merged profile's that the survivor lacks.
    Both,
}

/// The profile whose values a field keeps when the manager does not choose: the one with the newer ID
/// verification (a verified profile beats an unverified one); when neither is verified, the one edited
/// last.
pub fn default_source(
    survivor_verified_at: Option<Timestamp>,
    merged_verified_at: Option<Timestamp>,
    survivor_updated_at: Timestamp,
    merged_updated_at: Timestamp,
) -> Source {
    match (survivor_verified_at, merged_verified_at) {
        (Some(s), Some(m)) if m > s => Source::Merged,
        (None, Some(_)) => Source::Merged,
        (None, None) if merged_updated_at > survivor_updated_at => Source::Merged,
        _ => Source::Survivor,
    }
}

/// Every field's source: the manager's choice, else `default` (addresses default to both). A field the
/// chosen profile leaves empty is taken from the other, so a merge never loses a phone or an email that
/// only one profile had.
pub fn resolve(
    choices: &BTreeMap<Field, Source>,
    default: Source,
) -> Result<BTreeMap<Field, Source>, FieldError> {
    let mut out = BTreeMap::new();
    for field in Field::ALL {
        let source = match choices.get(&field) {
            Some(Source::Both) if field != Field::Addresses => {
                return Err(FieldError::new(
                    format!("fields.{}", field_name(field)),
                    "invalid_choice",
                    "only addresses can keep both profiles' values; choose survivor or merged",
                ));
            }
            Some(s) => *s,
            None if field == Field::Addresses => Source::Both,
            None => default,
        };
        out.insert(field, source);
    }
    Ok(out)
}

fn field_name(field: Field) -> String {
    serde_json::to_value(field)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The survivor's details after the merge, field by field from `sources` (see [`resolve`]).
pub fn merged_details(
    survivor: &CustomerDraft,
    merged: &CustomerDraft,
    sources: &BTreeMap<Field, Source>,
) -> CustomerDraft {
    fn pick<T: Clone>(s: &Option<T>, m: &Option<T>, source: Source) -> Option<T> {
        match source {
            Source::Merged => m.clone().or_else(|| s.clone()),
            _ => s.clone().or_else(|| m.clone()),
        }
    }
    let source = |f: Field| sources.get(&f).copied().unwrap_or(Source::Survivor);
    let mut out = survivor.clone();
    if source(Field::Name) == Source::Merged {
        out.name = merged.name.clone();
    }
    out.phone = pick(&survivor.phone, &merged.phone, source(Field::Phone));
    out.email = pick(&survivor.email, &merged.email, source(Field::Email));
    out.date_of_birth = pick(
        &survivor.date_of_birth,
        &merged.date_of_birth,
        source(Field::DateOfBirth),
    );
    if source(Field::CustomerType) == Source::Merged {
        out.customer_type = merged.customer_type;
    }
    out.id_document = pick(
        &survivor.id_document,
        &merged.id_document,
        source(Field::IdDocument),
    );
    out.addresses = match source(Field::Addresses) {
        Source::Survivor => survivor.addresses.clone(),
        Source::Merged => merged.addresses.clone(),
        Source::Both => {
            let mut all = survivor.addresses.clone();
            for a in &merged.addresses {
                if !all.contains(a) {
                    all.push(a.clone());
                }
            }
            all
        }
    };
    out
}
