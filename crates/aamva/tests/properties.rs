//! The parser must return, not panic, on anything a scanner, a web form or a
//! fuzzer can produce; a clean result must still honour the type's promises.

use canopy_aamva::{ParseError, parse, parse_bytes};
use proptest::prelude::*;
use serde_json::Value;

fn payloads() -> &'static [String] {
    static PAYLOADS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let json: Value =
            serde_json::from_str(include_str!("fixtures/aamva-vectors.json")).unwrap();
        json.as_array()
            .unwrap()
            .iter()
            .map(|v| v["payload"].as_str().unwrap().to_owned())
            .collect()
    })
}

/// What every result must satisfy.
fn check(result: Result<canopy_aamva::IdCard, ParseError>) {
    if let Ok(card) = result {
        assert!(
            card.license_number
                .as_deref()
                .is_none_or(|n| !n.trim().is_empty())
        );
        serde_json::to_string(&card).unwrap();
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, char),
    Delete(usize, usize),
    Replace(usize, char),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![
        Just('\n'),
        Just('\r'),
        Just('\u{1e}'),
        Just('|'),
        Just('@'),
        Just('\u{90}'),
        Just('\u{feff}'),
        Just('Ü'),
        proptest::char::range('0', '9'),
        proptest::char::range('A', 'Z'),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..60).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

/// Applies a mutation on character positions, so the result stays valid UTF-8.
fn apply(s: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let len = chars.len().max(1);
    match *m {
        Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
        Mutation::Delete(i, n) => {
            let start = i % len;
            let end = (start + n).min(chars.len());
            chars.drain(start.min(end)..end);
        }
        Mutation::Replace(i, c) => {
            if let Some(slot) = chars.get_mut(i % len) {
                *slot = c;
            }
        }
        Mutation::Truncate(i) => chars.truncate(i % len),
        Mutation::Duplicate(i, n) => {
            let start = i % len;
            let end = (start + n).min(chars.len());
            let copy: Vec<char> = chars[start.min(end)..end].to_vec();
            for (k, c) in copy.into_iter().enumerate() {
                chars.insert(end + k, c);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check(parse(&s));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(parse_bytes(&b));
    }

    #[test]
    fn header_shaped_strings_never_panic(
        prefix in "[@ \n\r\u{1e}|a-z0-9]{0,6}",
        word in prop_oneof![Just("ANSI "), Just("AAMVA"), Just("ANSI"), Just("AMVA ")],
        digits in "[0-9]{8,14}",
        rest in "([A-Z]{2}[0-9a-z]{0,10}|D[A-D][A-Z][ -~]{0,12}[\n\r|]?|Z[A-Z]{2}.{0,8}){0,12}",
    ) {
        check(parse(&format!("{prefix}{word}{digits}{rest}")));
    }

    #[test]
    fn mutated_real_payloads_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let payloads = payloads();
        let mut s = index.get(payloads).clone();
        for m in &mutations {
            s = apply(&s, m);
        }
        check(parse(&s));
        check(parse_bytes(s.as_bytes()));
    }

    /// Every prefix of a real payload: what a scanner that stops early sends.
    #[test]
    fn truncated_real_payloads_never_panic(index in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let payloads = payloads();
        let s = index.get(payloads);
        let bytes = s.as_bytes();
        let at = cut.index(bytes.len() + 1);
        check(parse_bytes(&bytes[..at]));
    }
}
