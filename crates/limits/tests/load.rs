//! Every embedded rule file loads and validates.
use canopy_limits::RuleBook;

#[test]
fn all_embedded_rule_sets_load() {
    let book = RuleBook::embedded().unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<&str> = book
        .rule_sets()
        .map(|s| s.jurisdiction().as_str())
        .collect();
    assert_eq!(codes.len(), 22, "{codes:?}");
    for code in [
        "US-CA", "US-CO", "US-WA", "US-OR", "US-MI", "US-IL", "US-MA", "US-NV", "US-AZ", "US-NY",
        "US-NJ", "US-MD", "US-MO", "US-ME", "US-AK", "US-MT", "US-CT", "US-VT", "US-OH", "US-MN",
        "US-DE", "CA-ON",
    ] {
        assert!(codes.contains(&code), "missing {code}");
    }
}
