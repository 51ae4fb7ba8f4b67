//! Finding the AAMVA header and reading the parts of it that survive scanning.
//!
//! Only 21 of the 108 readable payloads in our research corpus start with the
//! textbook `@` LF RS CR `ANSI `. The rest have junk (`@a\n`, `@\n6M`,
//! `@\nÜM`, a leading space), missing or replaced control characters, or
//! `AAMVA` as file type. What does survive is the printable part: a file-type
//! word followed by a run of digits (IIN, version, jurisdiction version,
//! entry count). So the header is found by that word and digit run, not by
//! its position or its control characters.
//!
//! The digit run's length also settles whether the jurisdiction-version field
//! is present: 10 digits is the AAMVA-2000 (v01) layout, 12 is v02 onwards.
//! Reading that field by version alone is how other parsers misread v02
//! headers.
//!
//! Subfile offsets and lengths are recorded for audit but never used to
//! slice: Alberta writes `abac`, Ontario `0000`, South Carolina is off by one,
//! and once line endings are rewritten almost every offset is a few bytes off.

use crate::bytes::{at, digit_run, digits_at, is_upper, number_at};
use crate::elements::{is_element_id, is_subfile_start};
use serde::Serialize;

/// A subfile designator as written in the header. Offset and length are
/// `None` when the card wrote something other than four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubfileDesignator {
    /// Subfile type: `DL`, `ID`, `EN`, or `Z` + a jurisdiction letter.
    pub subfile_type: String,
    /// Byte offset from the `@`, as written (unreliable, see module docs).
    pub offset: Option<u32>,
    /// Subfile length, as written (unreliable, see module docs).
    pub length: Option<u32>,
}

/// The header fields the parser uses.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub iin: &'a str,
    pub version: u8,
    pub jurisdiction_version: Option<u8>,
    pub number_of_entries: Option<u8>,
    pub designators: Vec<SubfileDesignator>,
    /// `|` appears between `@` and the file type: a web form or wedge
    /// replaced every control character with a pipe.
    pub pipes: bool,
    /// Byte index in the text where the subfile data begins.
    pub body_start: usize,
}

/// File-type words, longest first so `ANSI ` wins over `ANSI`. `AMVA` covers
/// the aamvajs CT fixture (`@AMVA 636…`); a missing space after `ANSI` is a
/// wedge artefact.
const FILE_TYPES: [&[u8]; 5] = [b"ANSI ", b"AAMVA", b"AMVA ", b"ANSI", b"AMVA"];

/// IIN (6) + version (2): the least a header must keep to be usable.
const MIN_DIGITS: usize = 8;

/// Upper bound on designators read, whatever the entry count claims: a
/// real card has two or three.
const MAX_DESIGNATORS: u32 = 16;

/// Finds the first file-type word followed by at least an IIN and version.
pub(crate) fn find(text: &str) -> Option<Header<'_>> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(off) = b.get(from..)?.iter().position(|&c| c == b'A') {
        let start = from + off;
        for word in FILE_TYPES {
            if b.get(start..start + word.len()) == Some(word) {
                let digits_start = start + word.len();
                if digit_run(b, digits_start) >= MIN_DIGITS {
                    let pipes = b.get(..start).is_some_and(|p| p.contains(&b'|'));
                    return read(text, digits_start, pipes);
                }
            }
        }
        from = start + 1;
    }
    None
}

fn two_digits(b: &[u8], i: usize) -> Option<u8> {
    number_at(b, i, 2).and_then(|n| u8::try_from(n).ok())
}

fn read(text: &str, d: usize, pipes: bool) -> Option<Header<'_>> {
    let b = text.as_bytes();
    let iin = text.get(d..d + 6)?;
    let version = two_digits(b, d + 6)?;
    let run = digit_run(b, d);
    let (jurisdiction_version, entries_at) = if run >= 12 && version >= 2 {
        (two_digits(b, d + 8), Some(d + 10))
    } else if run >= 10 {
        (None, Some(d + 8))
    } else {
        (None, None)
    };
    let number_of_entries = entries_at.and_then(|i| two_digits(b, i));
    let mut pos = entries_at.map_or(d + run, |i| i + 2);
    let mut designators = Vec::new();

    let is_sep = |c: u8| (c < 0x20 && c != b'\t') || (pipes && c == b'|');
    let claimed = number_of_entries.map_or(0, u32::from).min(MAX_DESIGNATORS);
    let mut count = 0;
    while count < MAX_DESIGNATORS {
        while is_sep(at(b, pos)) && pos < b.len() {
            pos += 1;
        }
        let (t0, t1) = (at(b, pos), at(b, pos + 1));
        if !is_upper(t0) || !is_upper(t1) || is_subfile_start(b, pos) {
            break;
        }
        let well_formed = digits_at(b, pos + 2, 8);
        if !well_formed && (count >= claimed || is_element_id(b, pos)) {
            break;
        }
        let subfile_type = String::from_utf8_lossy(&[t0, t1]).into_owned();
        if well_formed {
            designators.push(SubfileDesignator {
                subfile_type,
                offset: number_at(b, pos + 2, 4),
                length: number_at(b, pos + 6, 4),
            });
            pos += 10;
            count += 1;
            continue;
        }
        // A designator with junk for offset/length (Alberta's `DLabac`): keep
        // its type, then resume where the subfile data visibly starts.
        designators.push(SubfileDesignator {
            subfile_type,
            offset: None,
            length: None,
        });
        pos = resync(b, pos + 2);
        break;
    }
    Some(Header {
        iin,
        version,
        jurisdiction_version,
        number_of_entries,
        designators,
        pipes,
        body_start: pos,
    })
}

/// Where the data starts after a malformed designator: the next subfile
/// marker followed by an element, else an element ID within a few bytes
/// (the junk replaced offset and length), else right here.
fn resync(b: &[u8], from: usize) -> usize {
    if let Some(k) = (from..b.len()).find(|&k| is_subfile_start(b, k)) {
        return k;
    }
    (from..from + 10)
        .find(|&k| at(b, k) == b'D' && is_element_id(b, k))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_v10_header() {
        let h = find("@\n\x1e\rANSI 636000100002DL00410278ZV03190008DLDAQT1\n").unwrap();
        assert_eq!(
            (
                h.iin,
                h.version,
                h.jurisdiction_version,
                h.number_of_entries
            ),
            ("636000", 10, Some(0), Some(2))
        );
        assert_eq!(h.designators.len(), 2);
        assert_eq!(h.designators[1].offset, Some(319));
        assert_eq!(h.body_start, 41);
    }

    #[test]
    fn v01_header_has_no_jurisdiction_version() {
        let h = find("@\n6AAMVA6360060101DL00290179DAAX,Y\n").unwrap();
        assert_eq!(
            (h.version, h.jurisdiction_version, h.number_of_entries),
            (1, None, Some(1))
        );
        assert_eq!(h.body_start, 28);
    }

    #[test]
    fn non_numeric_offset_resyncs_on_the_subfile_marker() {
        let text = "@\n\nANSI 990876030001DLabacDLDCSMOTORIST\n";
        let h = find(text).unwrap();
        assert_eq!(h.designators[0].offset, None);
        assert_eq!(&text[h.body_start..], "DLDCSMOTORIST\n");
    }

    #[test]
    fn entry_count_larger_than_designators_stops_at_data() {
        let text = "@\n\x1e\rANSI 636000100003DL00410278DLDAQ1\n";
        let h = find(text).unwrap();
        assert_eq!(h.designators.len(), 1);
        assert_eq!(&text[h.body_start..], "DLDAQ1\n");
    }

    #[test]
    fn text_without_file_type_is_not_a_header() {
        assert!(find("https://example.com/ANSI").is_none());
        assert!(find("ANSI 6360").is_none());
    }
}
