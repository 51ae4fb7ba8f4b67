//! Splitting names written as one string.
//!
//! From v04 names come in separate elements (`DCS`/`DAC`/`DAD`/`DCU`) and need
//! no splitting. Older cards put several parts in one element: v02–v03
//! `DCT` holds all given names, and v01 `DAA` the whole name, usually
//! `LAST,FIRST,MIDDLE,SUFFIX` but also `LAST, FIRST MIDDLE` (Oregon) and,
//! in Pennsylvania, `FIRST MIDDLE… LAST` with spaces only.
//!
//! The reading of a space-only `DAA`: separate elements (`DCS`/`DAB`,
//! `DAC`) win when the card has them; a separate family name that is the
//! first or the last word of `DAA` settles the order; otherwise the words read
//! `FIRST MIDDLE… LAST` (the one order public test suites show on real cards)
//! and the card names the ambiguity in its `problems`.

/// A name split into parts; any part may be missing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct NameParts {
    pub first: Option<String>,
    pub middle: Option<String>,
    pub last: Option<String>,
    pub suffix: Option<String>,
}

fn owned(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Joins name words with single spaces; `None` when there are none.
fn join<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut out = String::new();
    for w in words.into_iter().filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    (!out.is_empty()).then_some(out)
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', ',']).filter(|w| !w.is_empty())
}

/// Generational suffixes as the standard lists them (`JR`, `SR`, `1ST`–`9TH`,
/// `I`–`IX`), tolerating a trailing full stop.
pub(crate) fn is_suffix(word: &str) -> bool {
    const SUFFIXES: [&str; 20] = [
        "JR", "SR", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "1ST", "2ND", "3RD",
        "4TH", "5TH", "6TH", "7TH", "8TH", "9TH",
    ];
    let w = word.trim_end_matches('.');
    SUFFIXES.iter().any(|s| s.eq_ignore_ascii_case(w))
}

/// Middle names: v04 `DAD` separates several with commas; they are joined
/// with spaces so every version yields the same shape.
pub(crate) fn middle(raw: &str) -> Option<String> {
    join(words(raw))
}

/// Splits v02–v03 `DCT` ("given names") at the first space or comma:
/// `JUSTIN,WILLIAM`, `MARY S`, `MARY ROSE`.
pub(crate) fn given_names(raw: &str) -> (Option<String>, Option<String>) {
    let mut w = words(raw);
    let first = w.next().map(str::to_owned);
    (first, join(w))
}

/// Whether a v01 `DAA` is written with spaces only and holds at least two name
/// words (a trailing suffix aside). The standard defines only the delimited
/// form (`LAST,FIRST,MIDDLE,SUFFIX`), so such a name does not say which word
/// is the family name: Pennsylvania writes `FIRST MIDDLE… LAST`, and nothing
/// rules out `LAST FIRST` elsewhere.
pub(crate) fn is_space_only(raw: &str) -> bool {
    let raw = raw.trim();
    if raw.contains([',', '$', '@']) {
        return false;
    }
    let mut w: Vec<&str> = raw.split(' ').filter(|w| !w.is_empty()).collect();
    if w.len() > 2 && w.last().is_some_and(|s| is_suffix(s)) {
        w.pop();
    }
    w.len() >= 2
}

/// Splits a space-only v01 `DAA` when the card also names the family name on
/// its own (`DAB`, or `DCS`): that word's place settles the order. `None`
/// when it is neither the first nor the last name word.
pub(crate) fn space_only_with_family(raw: &str, family: &str) -> Option<NameParts> {
    let mut w: Vec<&str> = raw.split(' ').filter(|w| !w.is_empty()).collect();
    let suffix = match w.last() {
        Some(s) if w.len() > 2 && is_suffix(s) => w.pop().map(str::to_owned),
        _ => None,
    };
    let family = family.trim();
    if w.len() < 2 || family.contains(' ') {
        return None;
    }
    let given: Vec<&str> = match (w.split_first(), w.split_last()) {
        (Some((first, rest)), _) if first.eq_ignore_ascii_case(family) => rest.to_vec(),
        (_, Some((last, rest))) if last.eq_ignore_ascii_case(family) => rest.to_vec(),
        _ => return None,
    };
    let mut given = given.into_iter();
    Some(NameParts {
        first: given.next().map(str::to_owned),
        middle: join(given),
        last: Some(family.to_owned()),
        suffix,
    })
}

/// Splits v01 `DAA`.
///
/// With any of `,` `$` `@` present (the 2000 standard's `@`, written `,` in
/// the barcode), the parts are `LAST, FIRST, MIDDLE, SUFFIX`, and a given-name
/// part may itself hold `FIRST MIDDLE`. Without delimiters the name reads
/// `FIRST MIDDLE… LAST` (Pennsylvania), so the last word is the family name.
pub(crate) fn full_name(raw: &str) -> NameParts {
    let raw = raw.trim();
    if raw.contains([',', '$', '@']) {
        let mut parts = raw.split([',', '$', '@']);
        let last = parts.next().and_then(owned);
        let mut given: Vec<&str> = Vec::new();
        let mut suffix = None;
        for (i, part) in parts.enumerate() {
            let part = part.trim();
            // The fourth field, or a trailing suffix word, is the suffix.
            if i >= 2 || (is_suffix(part) && !given.is_empty()) {
                if suffix.is_none() {
                    suffix = owned(part);
                }
                continue;
            }
            given.extend(part.split(' ').filter(|w| !w.is_empty()));
        }
        let mut given = given.into_iter();
        return NameParts {
            first: given.next().map(str::to_owned),
            middle: join(given),
            last,
            suffix,
        };
    }
    let mut w: Vec<&str> = raw.split(' ').filter(|w| !w.is_empty()).collect();
    let suffix = match w.last() {
        Some(s) if w.len() > 2 && is_suffix(s) => w.pop().map(str::to_owned),
        _ => None,
    };
    let last = if w.len() > 1 {
        w.pop().map(str::to_owned)
    } else {
        None
    };
    let mut w = w.into_iter();
    let first = w.next().map(str::to_owned);
    match (first, last) {
        // One word only: a family name is the safer reading.
        (Some(only), None) => NameParts {
            last: Some(only),
            suffix,
            ..NameParts::default()
        },
        (first, last) => NameParts {
            first,
            middle: join(w),
            last,
            suffix,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        first: Option<&str>,
        middle: Option<&str>,
        last: Option<&str>,
        suffix: Option<&str>,
    ) -> NameParts {
        let o = |s: Option<&str>| s.map(str::to_owned);
        NameParts {
            first: o(first),
            middle: o(middle),
            last: o(last),
            suffix: o(suffix),
        }
    }

    #[test]
    fn comma_delimited_full_names() {
        assert_eq!(
            full_name("CTLIC,ADULT,A"),
            parts(Some("ADULT"), Some("A"), Some("CTLIC"), None)
        );
        assert_eq!(
            full_name("CORTEZ,PABLO,,JR"),
            parts(Some("PABLO"), None, Some("CORTEZ"), Some("JR"))
        );
        assert_eq!(
            full_name("SMITH, MARY JONES"),
            parts(Some("MARY"), Some("JONES"), Some("SMITH"), None)
        );
        assert_eq!(
            full_name("SMITH,MARY,ROBINS,"),
            parts(Some("MARY"), Some("ROBINS"), Some("SMITH"), None)
        );
        assert_eq!(
            full_name("LastNameTest,FirstNameTest, ,"),
            parts(Some("FirstNameTest"), None, Some("LastNameTest"), None)
        );
        assert_eq!(
            full_name("DOE,JOHN,JR"),
            parts(Some("JOHN"), None, Some("DOE"), Some("JR"))
        );
    }

    #[test]
    fn space_only_full_names_end_with_the_family_name() {
        assert_eq!(
            full_name("JOHN ROBERT LEE SMITH"),
            parts(Some("JOHN"), Some("ROBERT LEE"), Some("SMITH"), None)
        );
        assert_eq!(
            full_name("JOHN SMITH III"),
            parts(Some("JOHN"), None, Some("SMITH"), Some("III"))
        );
        assert_eq!(full_name("SMITH"), parts(None, None, Some("SMITH"), None));
    }

    #[test]
    fn space_only_full_names_take_their_order_from_a_separate_family_name() {
        for (raw, family, want) in [
            (
                "PUBLIC JOHN QUINCY",
                "PUBLIC",
                Some(parts(Some("JOHN"), Some("QUINCY"), Some("PUBLIC"), None)),
            ),
            (
                "JOHN QUINCY PUBLIC",
                "PUBLIC",
                Some(parts(Some("JOHN"), Some("QUINCY"), Some("PUBLIC"), None)),
            ),
            (
                "PUBLIC JOHN JR",
                "public",
                Some(parts(Some("JOHN"), None, Some("public"), Some("JR"))),
            ),
            ("JOHN QUINCY PUBLIC", "SMITH", None),
            ("PUBLIC", "PUBLIC", None),
        ] {
            assert_eq!(
                space_only_with_family(raw, family),
                want,
                "{raw} / {family}"
            );
        }
    }

    #[test]
    fn only_undelimited_names_of_two_or_more_words_are_ambiguous() {
        for (raw, ambiguous) in [
            ("JOHN ROBERT LEE SMITH", true),
            ("PUBLIC JOHN", true),
            ("JOHN SMITH III", true),
            ("SMITH JR", true),
            ("SMITH", false),
            ("PUBLIC,JOHN,Q", false),
            ("SMITH, MARY JONES", false),
            ("PUBLIC$JOHN", false),
            ("  ", false),
        ] {
            assert_eq!(is_space_only(raw), ambiguous, "{raw}");
        }
    }

    #[test]
    fn given_names_split_at_first_separator() {
        assert_eq!(
            given_names("JUSTIN,WILLIAM"),
            (Some("JUSTIN".into()), Some("WILLIAM".into()))
        );
        assert_eq!(
            given_names("MARY ROSE ANN"),
            (Some("MARY".into()), Some("ROSE ANN".into()))
        );
        assert_eq!(given_names("LUIS "), (Some("LUIS".into()), None));
    }

    #[test]
    fn comma_separated_middles_are_space_joined() {
        assert_eq!(middle("ANN,MARIE"), Some("ANN MARIE".into()));
    }
}
