//! The scorer as a table: each row is two people and what staff should be told about them.

use canopy_matching::{Level, Profile, score};
use jiff::civil::Date;

/// A profile from a compact description: "First Last", date of birth, phone, email, ID "NUMBER@ST".
fn person(name: &str, dob: &str, phone: &str, email: &str, id: &str) -> Profile {
    let mut words = name
        .split_whitespace()
        .map(canopy_matching::names::normalise);
    let first = words.next().unwrap_or_default();
    let last = words.next_back().unwrap_or_default();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Profile {
        given: vec![first],
        last,
        date_of_birth: (!dob.is_empty()).then(|| dob.parse::<Date>().unwrap()),
        phone: opt(phone),
        email: opt(email),
        id_document: (!id.is_empty()).then(|| {
            let (n, j) = id.split_once('@').unwrap();
            (n.to_string(), Some(j.to_string()))
        }),
        addresses: Vec::new(),
    }
}

struct Case {
    what: &'static str,
    a: Profile,
    b: Profile,
    level: Level,
    explanation: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "nickname with the same birthday and different phones",
            a: person("Jon Smith", "1988-04-02", "+13035550101", "", ""),
            b: person("Jonathan Smith", "1988-04-02", "+13035550199", "", ""),
            level: Level::Likely,
            explanation: "same date of birth, nickname of the same name, different phones",
        },
        Case {
            what: "one-letter typo in the last name",
            a: person("Maria Gonzalez", "1990-01-15", "", "", ""),
            b: person("Maria Gonzales", "1990-01-15", "", "", ""),
            level: Level::Likely,
            explanation: "same date of birth, names one letter apart",
        },
        Case {
            what: "the same ID document settles it whatever the name",
            a: person("Robert Jones", "", "", "", "D1234567@CO"),
            b: person("Bobby J", "", "", "", "D1234567@CO"),
            level: Level::Likely,
            explanation: "same ID document, different last names",
        },
        Case {
            what: "a shared phone alone is a household, not a duplicate",
            a: person("Ann Lee", "1970-03-03", "+13035550111", "", ""),
            b: person("Tom Lee", "2001-07-19", "+13035550111", "", ""),
            level: Level::Unlikely,
            explanation: "different dates of birth, same phone, different first names",
        },
        Case {
            what: "a parent and child with the same name are told apart by birth date",
            a: person("James Carter", "1961-05-05", "+13035550123", "", ""),
            b: person("James Carter", "1990-11-30", "+13035550123", "", ""),
            level: Level::Unlikely,
            explanation: "different dates of birth, same name, same phone",
        },
        Case {
            what: "same email and name without a birth date",
            a: person("Priya Patel", "", "", "priya@example.com", ""),
            b: person("Priya Patel", "", "+13035550177", "priya@example.com", ""),
            level: Level::Likely,
            explanation: "same email, same name",
        },
        Case {
            what: "same name and a shared phone but no birth dates goes to review",
            a: person("Chris Young", "", "+13035550144", "", ""),
            b: person("Chris Young", "", "+13035550144", "", ""),
            level: Level::Possible,
            explanation: "same name, same phone",
        },
        Case {
            what: "day and month swapped in the birth date",
            a: person("Lena Novak", "1985-03-07", "", "", ""),
            b: person("Lena Novak", "1985-07-03", "", "", ""),
            level: Level::Possible,
            explanation: "same name, dates of birth one slip apart",
        },
        Case {
            what: "twins share a birthday and a last name",
            a: person("Ava Brown", "2000-02-02", "", "", ""),
            b: person("Mia Brown", "2000-02-02", "", "", ""),
            level: Level::Unlikely,
            explanation: "same date of birth, different first names",
        },
        Case {
            what: "strangers",
            a: person(
                "Kim Park",
                "1979-09-09",
                "+13035550001",
                "kim@example.com",
                "K1@CO",
            ),
            b: person(
                "Leo Ruiz",
                "1992-12-12",
                "+13035550002",
                "leo@example.com",
                "L2@CO",
            ),
            level: Level::Unlikely,
            explanation: "different dates of birth, different ID numbers, different names, different emails, different phones",
        },
    ]
}

#[test]
fn each_case_scores_at_its_level_with_its_explanation() {
    for case in cases() {
        let s = score(&case.a, &case.b);
        assert_eq!(
            s.level, case.level,
            "{}: scored {} ({})",
            case.what, s.score, s.explanation
        );
        assert_eq!(s.explanation, case.explanation, "{}", case.what);
    }
}

#[test]
fn scoring_is_symmetric() {
    for case in cases() {
        assert_eq!(
            score(&case.a, &case.b),
            score(&case.b, &case.a),
            "{}",
            case.what
        );
    }
}

#[test]
fn a_phone_is_never_decisive_on_its_own() {
    let a = person("", "", "+13035550111", "", "");
    let s = score(&a, &a.clone());
    assert!(!s.decisive);
    assert!(s.level < Level::Possible, "{s:?}");
}

#[test]
fn scores_stay_between_0_and_100() {
    for case in cases() {
        let s = score(&case.a, &case.b);
        assert!((0..=100).contains(&s.score), "{}", case.what);
    }
}

#[test]
fn the_quick_level_agrees_with_the_full_score() {
    for case in cases() {
        assert_eq!(
            canopy_matching::level(&case.a, &case.b),
            score(&case.a, &case.b).level,
            "{}",
            case.what
        );
    }
}
