//! Cross-cutting behaviour: returns, DST days, enforcement modes, external allotments,
//! lookback, the JSON contract and input errors.
mod support;
use support::*;

use canopy_limits::{
    AllotmentMode, ExternalAllotment, LimitsError, ManagerOverride, Unit, Verdict, day_bounds,
};
use jiff::tz::TimeZone;

// ----- returns restore allotment -----

#[test]
fn a_returned_sale_no_longer_counts() {
    let s = au("US-CO", "2026-03-14T15:30:00-06:00")
        .returned("2026-03-14T10:00:00-06:00", [flower("28.3495")]);
    check(s.cart([flower("28.3495")]), Allowed);
}

#[test]
fn a_partial_return_recorded_against_the_sale_restores_that_much() {
    let s = au("US-MA", "2026-03-14T15:30:00-04:00")
        .bought("2026-03-14T10:00:00-04:00", [flower("28")])
        .bought(
            "2026-03-14T10:00:00-04:00",
            [Item::new(Category::Flower, -1).with_net_weight_g(d("10"))],
        );
    check(s.clone().cart([flower("10.3495")]), Allowed);
    check(
        s.cart([flower("10.35")]),
        over(&["au-dry-weight-equivalent"]),
    );
}

#[test]
fn returns_never_create_credit_beyond_zero() {
    let s = au("US-CA", "2026-03-14T15:30:00-07:00").bought(
        "2026-03-14T10:00:00-07:00",
        [Item::new(Category::Flower, -3).with_net_weight_g(d("10"))],
    );
    check(s.cart([flower("28.51")]), over(&["au-non-concentrated"]));
}

use canopy_limits::{Category, Item};

// ----- DST: store-local calendar days are 23 or 25 hours -----

#[test]
fn spring_forward_day_is_23_hours_in_denver() {
    let tz = TimeZone::get("America/Denver").unwrap();
    let span = day_bounds("2026-03-08T12:00:00-06:00".parse().unwrap(), &tz).unwrap();
    assert_eq!(span.start.to_string(), "2026-03-08T07:00:00Z");
    assert_eq!((span.end - span.start).as_hours(), 23);
}

#[test]
fn fall_back_day_is_25_hours_in_denver() {
    let tz = TimeZone::get("America/Denver").unwrap();
    let span = day_bounds("2026-11-01T12:00:00-07:00".parse().unwrap(), &tz).unwrap();
    assert_eq!((span.end - span.start).as_hours(), 25);
}

#[test]
fn co_purchase_just_after_midnight_on_spring_forward_day_counts_late_that_day() {
    // 00:30 MST and 23:30 MDT are the same Denver calendar day, 22 hours apart.
    let s = au("US-CO", "2026-03-08T23:30:00-06:00")
        .bought("2026-03-08T00:30:00-07:00", [flower("20")]);
    check(s.cart([flower("8.35")]), over(&["au-flower-equivalent"]));
}

#[test]
fn co_purchase_before_midnight_does_not_count_on_spring_forward_day() {
    let s = au("US-CO", "2026-03-08T00:30:00-07:00")
        .bought("2026-03-07T23:59:00-07:00", [flower("20")]);
    check(s.cart([flower("28.3495")]), Allowed);
}

#[test]
fn co_fall_back_day_25th_hour_still_same_day() {
    // 00:30 MDT on 1 Nov and 23:30 MST the same day: 24 hours apart, same local day.
    let s = au("US-CO", "2026-11-01T23:30:00-07:00")
        .bought("2026-11-01T00:30:00-06:00", [flower("20")]);
    check(s.cart([flower("8.35")]), over(&["au-flower-equivalent"]));
}

#[test]
fn rolling_window_counts_calendar_days_across_dst() {
    // MI rolling 30 days evaluated on 2026-03-20 15:00 EDT covers 20 March and the 29 days
    // before it: it starts at local midnight on 2026-02-19, still EST.
    let s = med("US-MI", "2026-03-20T15:00:00-04:00");
    let span = s
        .evaluate()
        .unwrap()
        .outcomes
        .iter()
        .find(|o| o.rule == "med-30-days")
        .unwrap()
        .window_span
        .unwrap();
    assert_eq!(span.start.to_string(), "2026-02-19T05:00:00Z");
}

#[test]
fn store_time_zone_overrides_the_default() {
    // 2026-03-14 01:00 in Denver is still 13 March in Los Angeles? No: 00:00 PT. A purchase at
    // 23:30 PT on the 13th is the previous day in LA but the same day in Denver.
    let base = au("US-CO", "2026-03-14T07:30:00Z").bought("2026-03-14T06:30:00Z", [flower("28")]);
    check(
        base.clone().cart([flower("1")]),
        over(&["au-flower-equivalent"]),
    );
    check(
        base.zone("America/Los_Angeles").cart([flower("1")]),
        Allowed,
    );
}

#[test]
fn a_purchase_on_day_one_of_a_rolling_30_days_no_longer_counts_on_day_31() {
    // Bought late on 1 March; 30 calendar days later (31 March) it has left the window even at
    // an earlier hour of the day, and on 30 March it still counts.
    let bought =
        |at: &str| med("US-MI", at).bought("2026-03-01T22:00:00-05:00", [flower("283.495")]);
    check(
        bought("2026-03-30T09:00:00-04:00").cart([flower("1")]),
        over(&["med-30-days"]),
    );
    check(
        bought("2026-03-31T09:00:00-04:00").cart([flower("1")]),
        Allowed,
    );
}

// ----- enforcement mode -----

#[test]
fn warn_mode_asks_for_a_manager_override() {
    let d = au("US-CO", "2026-03-14T15:30:00-06:00")
        .warn()
        .cart([flower("30")])
        .evaluate()
        .unwrap();
    assert!(!d.allowed);
    assert_eq!(d.verdict, Verdict::OverrideRequired);
    let rec = ManagerOverride::for_decision(
        &d,
        "staff-7",
        "regular customer",
        "2026-03-14T22:31:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(rec.rules[0].rule, "au-flower-equivalent");
    assert_eq!(rec.rules[0].unit, Unit::Oz);
}

#[test]
fn block_mode_has_no_override() {
    let d = au("US-CO", "2026-03-14T15:30:00-06:00")
        .cart([flower("30")])
        .evaluate()
        .unwrap();
    assert_eq!(d.verdict, Verdict::Blocked);
    assert!(
        ManagerOverride::for_decision(&d, "x", "y", "2026-03-14T22:31:00Z".parse().unwrap())
            .is_none()
    );
}

#[test]
fn under_age_is_blocked_even_in_warn_mode() {
    let d = au("US-CO", "2026-03-14T15:30:00-06:00")
        .warn()
        .age(20)
        .cart([flower("1")])
        .evaluate()
        .unwrap();
    assert_eq!(d.verdict, Verdict::Blocked);
}

#[test]
fn history_over_the_limit_does_not_block_a_cart_that_adds_nothing_to_it() {
    // Bought 1 oz today (e.g. under a manager override); a topical adds nothing to the rule.
    let s = au("US-CO", "2026-03-14T15:30:00-06:00")
        .bought("2026-03-14T10:00:00-06:00", [flower("30")]);
    check(s.clone().cart([topical("100")]), Allowed);
    check(s.cart([flower("0.1")]), over(&["au-flower-equivalent"]));
}

// ----- external allotments (Metrc-style) -----

fn metrc(rule: &str, remaining: &str, unit: Unit, mode: AllotmentMode) -> ExternalAllotment {
    ExternalAllotment {
        rule: rule.into(),
        remaining: d(remaining),
        unit,
        mode,
        source: Some("metrc".into()),
    }
}

#[test]
fn external_allotment_replaces_local_history() {
    let s = med("US-MD", "2026-03-14T15:30:00-04:00")
        .bought("2026-03-01T12:00:00-05:00", [flower("100")])
        .external(metrc(
            "med-usable-30-days",
            "50",
            Unit::G,
            AllotmentMode::Replace,
        ));
    check(s.clone().cart([flower("50")]), Allowed);
    check(s.cart([flower("50.01")]), over(&["med-usable-30-days"]));
}

#[test]
fn external_allotment_only_tightens_by_default() {
    let s = med("US-MD", "2026-03-14T15:30:00-04:00")
        .bought("2026-03-01T12:00:00-05:00", [flower("100")])
        .external(metrc(
            "med-usable-30-days",
            "50",
            Unit::G,
            AllotmentMode::Tighten,
        ));
    // Local history leaves 20 g, the state says 50 g: the smaller wins.
    check(s.clone().cart([flower("20")]), Allowed);
    check(s.cart([flower("20.01")]), over(&["med-usable-30-days"]));
}

#[test]
fn external_allotment_in_ounces_for_a_rule_in_ounces() {
    let s = med("US-AZ", "2026-03-14T15:30:00-07:00").external(metrc(
        "med-14-days",
        "0.5",
        Unit::Oz,
        AllotmentMode::Replace,
    ));
    check(s.clone().cart([flower("14.17475")]), Allowed);
    check(s.cart([flower("14.18")]), over(&["med-14-days"]));
}

// ----- lookback for the server's history query -----

#[test]
fn lookback_is_the_longest_window_in_force() {
    let book = book();
    let at = "2026-03-14T20:00:00Z".parse().unwrap();
    let mi = book
        .lookback_start(&"US-MI".parse().unwrap(), at, None)
        .unwrap()
        .unwrap();
    // 30 store days ending 14 March start at midnight EST on 13 February.
    assert_eq!(mi.to_string(), "2026-02-13T05:00:00Z");
    let co = book
        .lookback_start(&"US-CO".parse().unwrap(), at, None)
        .unwrap()
        .unwrap();
    assert_eq!(co.to_string(), "2026-03-14T06:00:00Z"); // Denver midnight (MDT)
    let on = book
        .lookback_start(&"CA-ON".parse().unwrap(), at, None)
        .unwrap();
    assert_eq!(on, None, "Ontario is per transaction only");
    let oh = book
        .lookback_start(&"US-OH".parse().unwrap(), at, None)
        .unwrap()
        .unwrap();
    assert_eq!(oh.to_string(), "2025-12-15T05:00:00Z"); // 90 store days, from midnight EST
}

#[test]
fn day_bounds_for_a_jurisdiction_use_its_zone() {
    let span = book()
        .day_bounds(
            &"US-AK".parse().unwrap(),
            "2026-07-04T12:00:00Z".parse().unwrap(),
            None,
        )
        .unwrap();
    assert_eq!(span.start.to_string(), "2026-07-04T08:00:00Z"); // AKDT midnight
}

// ----- JSON contract -----

#[test]
fn cli_json_contract_round_trips() {
    let input = r#"{"jurisdiction": "us-co", "at": "2026-03-14T15:30:00-07:00",
        "customer": {"class": "medical", "age": 25, "resident": true,
                     "overrides": [{"kind": "hardship_exemption", "amount": "16", "unit": "oz", "category": "flower"}]},
        "cart": [{"category": "flower", "quantity": 2, "net_weight_g": 3.5, "concentrate_g": null, "thc_mg": null, "volume_ml": null},
                 {"category": "concentrate", "quantity": 1, "net_weight_g": "0.1"}],
        "history": [{"at": "2026-03-14T09:00:00-07:00", "class": "medical", "items": [{"category": "flower", "net_weight_g": "0.1"}]}]}"#;
    let request: canopy_limits::EvaluationRequest = serde_json::from_str(input).unwrap();
    let decision = book().evaluate(&request).unwrap();
    assert!(decision.allowed);
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["allowed"], true);
    assert_eq!(json["violations"], serde_json::json!([]));
    let flower = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == "med-flower")
        .unwrap();
    // 7.1 g in the rule's unit (oz), limit from the hardship exemption.
    assert_eq!(flower["used"], "0.2504");
    assert_eq!(flower["limit"], "16");
    assert_eq!(flower["unit"], "oz");
    assert_eq!(flower["window"], "day");
    assert_eq!(flower["limit_source"]["kind"], "customer_override");
}

#[test]
fn float_json_numbers_are_read_exactly() {
    let item: Item =
        serde_json::from_str(r#"{"category": "flower", "net_weight_g": 0.1}"#).unwrap();
    assert_eq!(item.net_weight_g, Some(d("0.1")));
}

#[test]
fn unknown_fields_are_rejected_so_typos_cannot_drop_history() {
    let input = r#"{"jurisdiction": "US-CO", "at": "2026-03-14T15:30:00-07:00",
        "customer": {"class": "adult-use", "age": 25}, "cart": [], "histroy": []}"#;
    let err = serde_json::from_str::<canopy_limits::EvaluationRequest>(input).unwrap_err();
    assert!(err.to_string().contains("histroy"), "{err}");
}

// ----- input errors -----

#[test]
fn unknown_jurisdiction_is_an_error() {
    let err = au("US-ZZ", "2026-03-14T15:30:00-07:00")
        .evaluate()
        .unwrap_err();
    assert!(matches!(err, LimitsError::UnknownJurisdiction(_)));
}

#[test]
fn a_sale_before_the_first_rule_version_is_an_error() {
    let err = au("CA-ON", "2017-01-01T12:00:00-05:00")
        .evaluate()
        .unwrap_err();
    assert!(matches!(err, LimitsError::NoVersionInForce { .. }), "{err}");
}

#[test]
fn negative_cart_quantities_are_rejected() {
    let err = au("US-CO", "2026-03-14T15:30:00-06:00")
        .cart([Item::new(Category::Flower, -1).with_net_weight_g(d("1"))])
        .evaluate()
        .unwrap_err();
    assert!(matches!(err, LimitsError::InvalidItem { .. }), "{err}");
}

#[test]
fn an_item_without_the_measure_a_rule_needs_is_an_error_naming_the_field() {
    let err = au("US-CO", "2026-03-14T15:30:00-06:00")
        .cart([Item::new(Category::Edible, 1)])
        .evaluate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cart[0]: edible item lacks thc_mg (required by rule au-flower-equivalent)"
    );
}

#[test]
fn unknown_time_zone_is_an_error() {
    let err = au("US-CO", "2026-03-14T15:30:00-06:00")
        .zone("Mars/Olympus")
        .evaluate()
        .unwrap_err();
    assert!(matches!(err, LimitsError::UnknownTimeZone(_)));
}

#[test]
fn overrides_of_a_kind_the_jurisdiction_does_not_define_are_ignored_with_a_notice() {
    // Michigan defines no per-patient overrides (Dutchie: they break compliance).
    let o = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::PhysicianRecommendation,
        amount: Some(d("20")),
        unit: Some(Unit::Oz),
        category: None,
        rule: None,
        valid_from: None,
        valid_until: None,
        reference: None,
    };
    let d = check(
        med("US-MI", "2026-03-14T15:30:00-04:00")
            .with_override(o)
            .cart([flower("71")]),
        over(&["med-day"]),
    );
    assert!(
        d.notices.iter().any(|n| n.contains("ignored")),
        "{:?}",
        d.notices
    );
}

// ----- rule-file validation -----

#[test]
fn rule_files_must_cite_their_source() {
    let text = r#"
jurisdiction = "US-XX"
name = "Test"
time_zone = "America/Denver"
grams_per_ounce = "28.3495"
[[versions]]
id = "v1"
effective = "2020-01-01"
[[versions.rules]]
id = "r"
label = "R"
classes = ["adult-use"]
window = "day"
limit = "1 oz"
counts = [{ categories = ["flower"], measure = "net_weight" }]
citation = { source = "", section = "" }
"#;
    let err = canopy_limits::RuleBook::from_sources([("us-xx.toml", text)]).unwrap_err();
    assert!(err.to_string().contains("citation"), "{err}");
}

#[test]
fn rule_files_reject_mismatched_dimensions() {
    let text = r#"
jurisdiction = "US-XX"
name = "Test"
time_zone = "America/Denver"
grams_per_ounce = "28.3495"
[[versions]]
id = "v1"
effective = "2020-01-01"
[[versions.rules]]
id = "r"
label = "R"
classes = ["adult-use"]
window = "day"
limit = "1 oz"
counts = [{ categories = ["beverage"], measure = "volume" }]
citation = { source = "x", section = "y" }
"#;
    let err = canopy_limits::RuleBook::from_sources([("us-xx.toml", text)]).unwrap_err();
    assert!(err.to_string().contains("per/counts_as"), "{err}");
}

#[test]
fn every_rule_has_a_citation_and_every_conservative_choice_is_explained() {
    for set in book().rule_sets() {
        for v in set.versions() {
            for r in v.rules() {
                assert!(
                    r.citation().source.starts_with("http"),
                    "{} {}",
                    set.jurisdiction(),
                    r.id()
                );
            }
        }
    }
}
