//! Splitting the text after the header into `(element ID, value)` pairs.
//!
//! The standard separates elements with LF and ends each subfile with CR. Real
//! payloads have CRLF, LF only, `|`, or nothing at all, so instead of honouring
//! the standard's separators this module treats any control character (and `|`
//! when the header shows pipes) as a boundary and recognises elements by the
//! shape of their three-letter ID. Subfile type markers (`DL`, `ID`, `ZV`…)
//! are recognised where they sit in front of an element and dropped.

use crate::bytes::{at, digits_at, is_upper};

/// One data element, borrowed from the payload. The value is raw: padding and
/// placeholders are left for the field mappers to interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub id: &'a str,
    pub value: &'a str,
}

/// What the body scan found.
#[derive(Debug, Default)]
pub(crate) struct Body<'a> {
    pub elements: Vec<Element<'a>>,
    /// Subfile type markers met in the body, in order.
    pub subfiles: Vec<[u8; 2]>,
}

impl<'a> Body<'a> {
    /// The first value recorded for `id`. The first wins because anything
    /// repeated later is more likely to sit inside a jurisdiction blob.
    pub(crate) fn get(&self, id: &str) -> Option<&'a str> {
        self.elements.iter().find(|e| e.id == id).map(|e| e.value)
    }

    fn push(&mut self, text: &'a str, start: usize, end: usize) {
        let (Some(id), Some(value)) = (text.get(start..start + 3), text.get(start + 3..end)) else {
            return;
        };
        if !self.elements.iter().any(|e| e.id == id) {
            self.elements.push(Element { id, value });
        }
    }
}

/// How the body's elements are delimited.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Separators {
    /// `|` stands in for LF/CR (web forms and some wedge configurations).
    pub pipes: bool,
}

impl Separators {
    fn is_sep(self, c: u8) -> bool {
        (c < 0x20 && c != b'\t') || (self.pipes && c == b'|')
    }
}

/// True for the three-byte shapes element IDs take: `D[A-D]?` (standard
/// elements), `Z??` (jurisdiction elements) and `PA?` (AAMVA-2000 permits).
pub(crate) fn is_element_id(b: &[u8], i: usize) -> bool {
    let (c0, c1, c2) = (at(b, i), at(b, i + 1), at(b, i + 2));
    if !is_upper(c2) {
        return false;
    }
    match c0 {
        b'D' => matches!(c1, b'A'..=b'D'),
        b'Z' => is_upper(c1),
        b'P' => c1 == b'A',
        _ => false,
    }
}

/// True when a subfile type marker starts at `i` and an element of that
/// subfile follows it. `D?` element IDs never have `L` second, and `I`/`E`
/// never start one, so `DLDAQ…` or `IDDAQ…` cannot be misread. Jurisdiction
/// subfiles repeat their type in their element IDs (`ZVZVA…`), which is what
/// tells `ZV` + `ZVA` apart from an element `ZVZ`.
pub(crate) fn is_subfile_start(b: &[u8], i: usize) -> bool {
    let (t0, t1) = (at(b, i), at(b, i + 1));
    match (t0, t1) {
        (b'D', b'L') | (b'I', b'D') | (b'E', b'N') => {
            at(b, i + 2) == b'D' && is_element_id(b, i + 2)
        }
        (b'Z', t1) if is_upper(t1) => {
            at(b, i + 2) == b'Z' && at(b, i + 3) == t1 && is_upper(at(b, i + 4))
        }
        _ => false,
    }
}

/// True when `i` holds only a subfile type marker (an empty subfile such as
/// `ZD` followed by a separator).
fn is_bare_subfile_type(b: &[u8], i: usize, end: usize) -> bool {
    end == i + 2
        && matches!(
            (at(b, i), at(b, i + 1)),
            (b'D', b'L') | (b'I', b'D') | (b'E', b'N') | (b'Z', b'A'..=b'Z')
        )
}

/// Splits the body into elements.
///
/// `z_types` are the jurisdiction subfile types the header designates; a
/// jurisdiction subfile glued onto the last DL element without a separator
/// (`DDB03162012MZWZWA…`, Wisconsin) is cut off at `ZWZW?`.
pub(crate) fn split<'a>(
    body: &'a str,
    seps: Separators,
    z_types: &[[u8; 2]],
    version: u8,
) -> Body<'a> {
    let b = body.as_bytes();
    let mut out = Body {
        elements: Vec::with_capacity(48),
        subfiles: Vec::new(),
    };
    // A keyboard wedge adds a newline after a separator-less body, so only
    // separators with data after them count.
    let data_end = b
        .iter()
        .rposition(|&c| !seps.is_sep(c))
        .map_or(0, |i| i + 1);
    let data = b.get(..data_end).unwrap_or_default();
    if data.len() > 8 && !data.iter().any(|&c| seps.is_sep(c)) {
        let text = body.get(..data_end).unwrap_or_default();
        scan_without_separators(text, z_types, version, &mut out);
        return out;
    }
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && seps.is_sep(at(b, i)) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !seps.is_sep(at(b, i)) {
            i += 1;
        }
        segment(body, start, i, z_types, &mut out);
    }
    out
}

/// Reads one separator-delimited segment, which normally holds one element,
/// possibly preceded by a subfile marker and followed by a glued-on
/// jurisdiction subfile.
fn segment<'a>(text: &'a str, mut s: usize, e: usize, z_types: &[[u8; 2]], out: &mut Body<'a>) {
    let b = text.as_bytes();
    loop {
        if is_bare_subfile_type(b, s, e) {
            out.subfiles.push([at(b, s), at(b, s + 1)]);
            return;
        }
        if is_subfile_start(b, s) {
            out.subfiles.push([at(b, s), at(b, s + 1)]);
            s += 2;
        }
        if s + 3 > e || !is_element_id(b, s) {
            return;
        }
        let glued = if at(b, s) == b'D' {
            find_z_start(b, s + 3, e, z_types)
        } else {
            None
        };
        match glued {
            Some(k) => {
                out.push(text, s, k);
                s = k;
            }
            None => {
                out.push(text, s, e);
                return;
            }
        }
    }
}

/// Finds `TTTT?` for a designated jurisdiction type `TT` inside `from..to`.
fn find_z_start(b: &[u8], from: usize, to: usize, z_types: &[[u8; 2]]) -> Option<usize> {
    if z_types.is_empty() {
        return None;
    }
    (from..to.saturating_sub(4)).find(|&k| {
        at(b, k) == b'Z' && z_types.iter().any(|t| at(b, k + 1) == t[1]) && is_subfile_start(b, k)
    })
}

/// Element IDs defined by AAMVA-2000 (v01).
const V01_IDS: &[&[u8; 3]] = &[
    b"DAA", b"DAB", b"DAC", b"DAD", b"DAE", b"DAF", b"DAG", b"DAH", b"DAI", b"DAJ", b"DAK", b"DAL",
    b"DAM", b"DAN", b"DAO", b"DAP", b"DAQ", b"DAR", b"DAS", b"DAT", b"DAU", b"DAV", b"DAW", b"DAX",
    b"DAY", b"DAZ", b"DBA", b"DBB", b"DBC", b"DBD", b"DBE", b"DBF", b"DBG", b"DBH", b"DBI", b"DBJ",
    b"DBK", b"DBL", b"DBM", b"DBN", b"DBO", b"DBP", b"DBQ", b"DBR", b"DBS", b"PAA", b"PAB", b"PAC",
    b"PAD", b"PAE", b"PAF",
];

/// Element IDs defined by the 2003–2025 editions (v02 onwards), merged:
/// jurisdictions mix IDs across editions, and only the no-separator scan
/// uses this list.
const V02_IDS: &[&[u8; 3]] = &[
    b"DAB", b"DAC", b"DAD", b"DAG", b"DAH", b"DAI", b"DAJ", b"DAK", b"DAQ", b"DAU", b"DAW", b"DAX",
    b"DAY", b"DAZ", b"DBA", b"DBB", b"DBC", b"DBD", b"DBG", b"DBN", b"DBS", b"DCA", b"DCB", b"DCD",
    b"DCE", b"DCF", b"DCG", b"DCH", b"DCI", b"DCJ", b"DCK", b"DCL", b"DCM", b"DCN", b"DCO", b"DCP",
    b"DCQ", b"DCR", b"DCS", b"DCT", b"DCU", b"DDA", b"DDB", b"DDC", b"DDD", b"DDE", b"DDF", b"DDG",
    b"DDH", b"DDI", b"DDJ", b"DDK", b"DDL", b"DDM", b"DDN", b"DDO",
];

const DATE_IDS: &[&[u8; 3]] = &[
    b"DBA", b"DBB", b"DBD", b"DDB", b"DDC", b"DDH", b"DDI", b"DDJ",
];

fn id_at(b: &[u8], i: usize) -> Option<&[u8; 3]> {
    b.get(i..i + 3)?.try_into().ok()
}

/// Best-effort reading of a body whose separators were all stripped
/// (`…DAQK03-76-9213DCSHAECHERLDDENDACJANA…`, six of the seven aamvajs
/// fixtures). Elements are found by known IDs only; an ID already seen is
/// not a boundary (so `…F2208DBDCGUSA` does not end at a second `DBD`), and
/// a date ID is a boundary only when eight digits or `NONE` follow. Names
/// that happen to contain a known ID can still be cut short; this path exists
/// so such a scan yields something a person can check, not to be exact.
fn scan_without_separators<'a>(
    text: &'a str,
    z_types: &[[u8; 2]],
    version: u8,
    out: &mut Body<'a>,
) {
    let b = text.as_bytes();
    let known: &[&[u8; 3]] = if version <= 1 { V01_IDS } else { V02_IDS };
    let mut seen: Vec<[u8; 3]> = Vec::with_capacity(40);
    let is_boundary = |k: usize, seen: &[[u8; 3]]| -> bool {
        if !matches!(at(b, k), b'D' | b'P') {
            return false;
        }
        let Some(id) = id_at(b, k) else { return false };
        if !known.contains(&id) || seen.contains(id) {
            return false;
        }
        !DATE_IDS.contains(&id) || digits_at(b, k + 3, 8) || b.get(k + 3..k + 7) == Some(b"NONE")
    };
    let is_z_start = |k: usize| {
        at(b, k) == b'Z' && z_types.iter().any(|t| at(b, k + 1) == t[1]) && is_subfile_start(b, k)
    };

    let mut p = 0;
    if is_subfile_start(b, p) {
        out.subfiles.push([at(b, p), at(b, p + 1)]);
        p += 2;
    }
    if !is_boundary(p, &seen) {
        match (p..b.len()).find(|&k| is_boundary(k, &seen)) {
            Some(k) => p = k,
            None => return,
        }
    }
    // Standard elements up to the first jurisdiction subfile.
    let mut z_at = None;
    loop {
        if let Some(id) = id_at(b, p) {
            seen.push(*id);
        }
        let next = (p + 3..b.len()).find(|&k| is_boundary(k, &seen) || is_z_start(k));
        let end = next.unwrap_or(b.len());
        out.push(text, p, end);
        match next {
            Some(k) if is_z_start(k) => {
                z_at = Some(k);
                break;
            }
            Some(k) => p = k,
            None => break,
        }
    }
    // Jurisdiction elements: `TT` + one letter, values unconstrained.
    let Some(z) = z_at else { return };
    let t = [at(b, z), at(b, z + 1)];
    out.subfiles.push(t);
    let mut p = z + 2;
    loop {
        let next = (p + 3..b.len())
            .find(|&k| at(b, k) == t[0] && at(b, k + 1) == t[1] && is_upper(at(b, k + 2)));
        let end = next.unwrap_or(b.len());
        out.push(text, p, end);
        match next {
            Some(k) => p = k,
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<'a>(body: &Body<'a>) -> Vec<(&'a str, &'a str)> {
        body.elements.iter().map(|e| (e.id, e.value)).collect()
    }

    const LF: Separators = Separators { pipes: false };

    #[test]
    fn subfile_markers_are_dropped_and_recorded() {
        let body = split("DLDAQ123\nDCSDOE\rZVZVAX\r", LF, &[*b"ZV"], 9);
        assert_eq!(
            ids(&body),
            vec![("DAQ", "123"), ("DCS", "DOE"), ("ZVA", "X")]
        );
        assert_eq!(body.subfiles, vec![*b"DL", *b"ZV"]);
    }

    #[test]
    fn glued_jurisdiction_subfile_is_cut_off() {
        let body = split("DLDDB03162012MZWZWA5415\n", LF, &[*b"ZW"], 5);
        assert_eq!(ids(&body), vec![("DDB", "03162012M"), ("ZWA", "5415")]);
    }

    #[test]
    fn lines_that_are_not_elements_are_ignored() {
        let body = split("DDAN\n888888\n\\928\\111\r\n", LF, &[], 5);
        assert_eq!(ids(&body), vec![("DDA", "N")]);
    }

    #[test]
    fn first_value_of_a_repeated_id_wins() {
        let body = split("DBB01011990\nDBB02021992\n", LF, &[], 9);
        assert_eq!(body.get("DBB"), Some("01011990"));
    }

    #[test]
    fn pipes_separate_when_enabled() {
        let body = split("DLDAQ1|DCSX|", Separators { pipes: true }, &[], 4);
        assert_eq!(ids(&body), vec![("DAQ", "1"), ("DCS", "X")]);
    }

    #[test]
    fn body_without_separators_is_scanned_for_known_ids() {
        let body = split(
            "DLDAQK03DCSHAECHERLDDENDACJANADBD10152016DCF2208DBDCGUSADBBNONEZKZKAZKB1",
            LF,
            &[*b"ZK"],
            6,
        );
        assert_eq!(
            ids(&body),
            vec![
                ("DAQ", "K03"),
                ("DCS", "HAECHERL"),
                ("DDE", "N"),
                ("DAC", "JANA"),
                ("DBD", "10152016"),
                ("DCF", "2208DB"),
                ("DCG", "USA"),
                ("DBB", "NONE"),
                ("ZKA", ""),
                ("ZKB", "1"),
            ]
        );
    }
}
