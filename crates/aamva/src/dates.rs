//! Reading AAMVA dates.
//!
//! The standard changed its date layout twice: AAMVA-2000 (v01) writes
//! `CCYYMMDD`, the 2003 edition (v02) `MMDDCCYY` everywhere, and from v03 the
//! US keeps `MMDDCCYY` while Canada uses `CCYYMMDD`. Cards do not always
//! follow their own version (Wyoming and West Virginia v04 write
//! `CCYYMMDD`), so the expected layout is tried first and the other one
//! second. The two cannot be confused for years 1900–2199: read the wrong
//! way round, the century digits land in the month position (19, 20, 21),
//! which is never a month.
//!
//! Anything that is not a real date in that range (`00000000`, `NONE`,
//! `unavl`, the literal `MMDDCCYY` on specimen cards, `09312035`) reads as
//! absent. A bad optional date must never fail a scan.

use jiff::civil::Date;

/// Digit order of an eight-digit date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `MMDDCCYY`
    MonthFirst,
    /// `CCYYMMDD`
    YearFirst,
}

impl Layout {
    fn other(self) -> Self {
        match self {
            Layout::MonthFirst => Layout::YearFirst,
            Layout::YearFirst => Layout::MonthFirst,
        }
    }
}

/// The layout the card's own version and country prescribe.
pub(crate) fn expected_layout(version: u8, canadian: bool) -> Layout {
    match version {
        0 | 1 => Layout::YearFirst,
        2 => Layout::MonthFirst,
        _ if canadian => Layout::YearFirst,
        _ => Layout::MonthFirst,
    }
}

/// Plausible years for any date printed on a licence.
const YEARS: std::ops::RangeInclusive<i16> = 1900..=2199;

/// Reads a date element, trying `layout` first and the other layout second.
pub(crate) fn parse(raw: &str, layout: Layout) -> Option<Date> {
    let digits = eight_digits(raw.trim())?;
    build(&digits, layout).or_else(|| build(&digits, layout.other()))
}

/// The eight date digits: the first eight characters when they are digits
/// (New Hampshire appends a letter, `06092016M`), or, for short values
/// written with separators (`12-10-2024`), their digits when there are
/// exactly eight.
fn eight_digits(v: &str) -> Option<[u8; 8]> {
    let b = v.as_bytes();
    if let Some(first) = b.get(..8).filter(|s| s.iter().all(u8::is_ascii_digit)) {
        return first.try_into().ok();
    }
    if b.len() > 10
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'/' | b'.'))
    {
        return None;
    }
    let mut out = [0u8; 8];
    let mut n = 0;
    for &c in b.iter().filter(|c| c.is_ascii_digit()) {
        *out.get_mut(n)? = c;
        n += 1;
    }
    (n == 8).then_some(out)
}

fn num(d: &[u8]) -> i16 {
    d.iter()
        .fold(0i16, |acc, &c| acc * 10 + i16::from(c - b'0'))
}

fn build(d: &[u8; 8], layout: Layout) -> Option<Date> {
    let (y, m, day) = match layout {
        Layout::YearFirst => (num(&d[..4]), num(&d[4..6]), num(&d[6..])),
        Layout::MonthFirst => (num(&d[4..]), num(&d[..2]), num(&d[2..4])),
    };
    if !YEARS.contains(&y) {
        return None;
    }
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn expected_layout_follows_version_and_country() {
        assert_eq!(expected_layout(1, false), Layout::YearFirst);
        assert_eq!(expected_layout(2, true), Layout::MonthFirst);
        assert_eq!(expected_layout(3, true), Layout::YearFirst);
        assert_eq!(expected_layout(10, false), Layout::MonthFirst);
    }

    #[test]
    fn wrong_layout_falls_back() {
        assert_eq!(
            parse("20211031", Layout::MonthFirst),
            Some(date(2021, 10, 31))
        );
        assert_eq!(
            parse("10241993", Layout::YearFirst),
            Some(date(1993, 10, 24))
        );
    }

    #[test]
    fn trailing_junk_is_ignored() {
        assert_eq!(
            parse("06092016M", Layout::MonthFirst),
            Some(date(2016, 6, 9))
        );
    }

    #[test]
    fn separated_dates_are_read() {
        assert_eq!(
            parse("12-10-2024", Layout::MonthFirst),
            Some(date(2024, 12, 10))
        );
    }

    #[test]
    fn junk_reads_as_absent() {
        for junk in [
            "00000000", "NONE", "unavl", "MMDDCCYY", "09312035", "", "1234", "99999999",
        ] {
            assert_eq!(parse(junk, Layout::MonthFirst), None, "{junk}");
        }
    }
}
