//! Postal code normalisation.
//!
//! `DAK` is a fixed 11-character field: a 9-digit ZIP with `0000` when the +4
//! is unknown, or a Canadian `A1A 1A1`, space padded. Cards also write
//! hyphens (`20009-1234`), stray padding digits (Hawaii `96826     0`,
//! Massachusetts `0210800000`) or 5-digit ZIPs. The profile wants one form per
//! country: `ZIP5`, `ZIP5-ZIP4` when the +4 is real, `A1A 1A1`. The raw value
//! stays in the element map.

use crate::jurisdiction::Country;

/// Normalises a postal code; values that fit no known shape are returned
/// trimmed rather than dropped.
pub(crate) fn postal_code(raw: &str, country: Option<Country>) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(ca) = canadian(t) {
        return Some(ca);
    }
    if country == Some(Country::Canada)
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b' ' || c == b'-')
    {
        return Some(t.to_owned());
    }
    us_zip(t).or_else(|| Some(t.to_owned()))
}

/// `A1A 1A1` from any spacing or hyphenation of six such characters.
fn canadian(t: &str) -> Option<String> {
    let chars: Vec<char> = t.chars().filter(char::is_ascii_alphanumeric).collect();
    let [a, b, c, d, e, f] = chars.as_slice() else {
        return None;
    };
    let shape = [a, b, c, d, e, f].iter().enumerate().all(|(i, ch)| {
        if i % 2 == 0 {
            ch.is_ascii_alphabetic()
        } else {
            ch.is_ascii_digit()
        }
    });
    shape.then(|| format!("{a}{b}{c} {d}{e}{f}").to_ascii_uppercase())
}

/// US ZIP from the digits of a field; the +4 is kept when present and not
/// `0000`. Digits after the ninth are padding.
fn us_zip(t: &str) -> Option<String> {
    // Hawaii pads with spaces and then a stray digit: only the first run of
    // digits (allowing one hyphen) counts.
    let head = t.split("  ").next().unwrap_or(t);
    let digits: String = head.chars().filter(char::is_ascii_digit).collect();
    let zip5 = digits.get(..5)?;
    match digits.get(5..9) {
        Some(plus4) if plus4 != "0000" => Some(format!("{zip5}-{plus4}")),
        _ => Some(zip5.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(raw: &str) -> Option<String> {
        postal_code(raw, Some(Country::Usa))
    }

    #[test]
    fn us_zips() {
        assert_eq!(us("021330000  ").as_deref(), Some("02133"));
        assert_eq!(us("0210800000  ").as_deref(), Some("02108"));
        assert_eq!(us("074182554").as_deref(), Some("07418-2554"));
        assert_eq!(us("20009-1234 ").as_deref(), Some("20009-1234"));
        assert_eq!(us("96826     0").as_deref(), Some("96826"));
        assert_eq!(us("633011      ").as_deref(), Some("63301"));
        assert_eq!(us("82930      ").as_deref(), Some("82930"));
        assert_eq!(us("123").as_deref(), Some("123"));
        assert_eq!(us("   "), None);
    }

    #[test]
    fn canadian_codes() {
        assert_eq!(
            postal_code("T4G 7A7", Some(Country::Canada)).as_deref(),
            Some("T4G 7A7")
        );
        assert_eq!(postal_code("a5k4x9", None).as_deref(), Some("A5K 4X9"));
    }
}
