//! Blocking finds the duplicates the scorer would, without comparing everyone with everyone.

use canopy_matching::{Level, Profile, blocking_keys, candidate_pairs, names::normalise, scan};
use jiff::civil::Date;

fn person(first: &str, last: &str, dob: &str, phone: Option<&str>) -> Profile {
    Profile {
        given: vec![normalise(first)],
        last: normalise(last),
        date_of_birth: Some(dob.parse::<Date>().unwrap()),
        phone: phone.map(str::to_string),
        ..Profile::default()
    }
}

#[test]
fn a_nickname_and_its_long_form_share_a_name_key() {
    let bill = blocking_keys(&person("Bill", "Evans", "1980-01-01", None));
    let william = blocking_keys(&person("William", "Evans", "1981-01-01", None));
    assert!(bill.contains(&"name:evans:william".to_string()), "{bill:?}");
    assert!(william.contains(&"name:evans:william".to_string()));
}

#[test]
fn typos_in_either_name_still_meet_through_the_birth_date() {
    let profiles = vec![
        person("Maria", "Gonzalez", "1990-01-15", None),
        person("Maria", "Gonzales", "1990-01-15", None),
        person("Mraia", "Gonzalez", "1990-01-15", None),
        person("Otto", "Berg", "1950-06-06", None),
    ];
    let pairs = candidate_pairs(&profiles, 100).pairs;
    assert!(pairs.contains(&(0, 1)));
    assert!(pairs.contains(&(0, 2)));
    assert!(!pairs.iter().any(|&(a, b)| a == 3 || b == 3));
}

#[test]
fn oversized_blocks_are_skipped_and_counted() {
    let store_phone = Some("+13035550000");
    let names = [
        "Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo",
    ];
    let profiles: Vec<Profile> = names
        .iter()
        .enumerate()
        .map(|(i, n)| person(n, n, &format!("19{}-01-01", 50 + i), store_phone))
        .collect();
    let blocks = candidate_pairs(&profiles, 5);
    assert_eq!(blocks.oversized_blocks, 1);
    assert!(blocks.pairs.is_empty());
}

#[test]
fn a_scan_keeps_only_pairs_worth_a_review() {
    let profiles = vec![
        person("Jon", "Smith", "1988-04-02", Some("+13035550101")),
        person("Jonathan", "Smith", "1988-04-02", Some("+13035550199")),
        person("Ann", "Lee", "1970-03-03", Some("+13035550111")),
        person("Tom", "Lee", "2001-07-19", Some("+13035550111")),
    ];
    let result = scan(&profiles, 100);
    assert_eq!(result.compared, 2);
    assert_eq!(result.found.len(), 1);
    assert_eq!((result.found[0].a, result.found[0].b), (0, 1));
    assert_eq!(result.found[0].score.level, Level::Likely);
}
