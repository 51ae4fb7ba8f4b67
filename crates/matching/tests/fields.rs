//! Which value the survivor keeps, field by field.

use std::collections::BTreeMap;

use canopy_domain::{CustomerPatch, Region};
use canopy_matching::fields::{Field, Source, default_source, merged_details, resolve};
use jiff::Timestamp;
use serde_json::json;

fn draft(body: serde_json::Value) -> canopy_domain::CustomerDraft {
    let patch: CustomerPatch = serde_json::from_value(body).unwrap();
    patch
        .validate(Region::US, jiff::civil::date(2026, 6, 1))
        .unwrap()
}

#[test]
fn a_chosen_field_comes_from_its_profile_and_an_empty_one_is_filled_from_the_other() {
    let survivor =
        draft(json!({"first_name": "Sarah", "last_name": "Miller", "phone": "3035550142"}));
    let merged = draft(
        json!({"first_name": "Sara", "last_name": "Miller", "phone": "3035550177",
        "email": "sara@example.com"}),
    );
    let choices = BTreeMap::from([(Field::Phone, Source::Merged)]);
    let sources = resolve(&choices, Source::Survivor).unwrap();
    let out = merged_details(&survivor, &merged, &sources);
    assert_eq!(out.name.first, "Sarah");
    assert_eq!(out.phone.unwrap().as_str(), "+13035550177");
    assert_eq!(
        out.email.unwrap().as_str(),
        "sara@example.com",
        "only the merged profile had one"
    );
}

#[test]
fn addresses_default_to_both_and_only_addresses_may_keep_both() {
    let sources = resolve(&BTreeMap::new(), Source::Survivor).unwrap();
    assert_eq!(sources[&Field::Addresses], Source::Both);
    assert_eq!(sources[&Field::Name], Source::Survivor);
    let err = resolve(
        &BTreeMap::from([(Field::Phone, Source::Both)]),
        Source::Survivor,
    )
    .unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.code),
        ("fields.phone", "invalid_choice")
    );
}

#[test]
fn the_default_is_the_newest_verified_profile_then_the_newest_edit() {
    let t = |s: i64| Timestamp::from_second(s).unwrap();
    assert_eq!(
        default_source(Some(t(10)), Some(t(20)), t(0), t(0)),
        Source::Merged
    );
    assert_eq!(
        default_source(Some(t(30)), Some(t(20)), t(0), t(0)),
        Source::Survivor
    );
    assert_eq!(
        default_source(Some(t(1)), None, t(0), t(99)),
        Source::Survivor,
        "verified beats edited"
    );
    assert_eq!(default_source(None, None, t(5), t(9)), Source::Merged);
}
