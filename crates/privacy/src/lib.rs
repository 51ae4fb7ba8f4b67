//! Privacy rules as data, and the pure decisions built on them.
//!
//! - [`Policies`]: one TOML file per jurisdiction under `privacy/` (embedded at build time), each rule with
//!   its citation; a state that is silent on a rule gets the conservative default (`privacy/default.toml`),
//!   marked `inherited`. An installation with stores in several states follows [`Policy::strictest`].
//! - [`retention`]: the instant before which something is purged.
//! - [`fingerprint`]: keyed hashes of an erased person's identifiers (the tombstone).
//! - [`erasure_refusal`]: when an erasure must wait.
//!
//! Like the limits engine this crate never reads the clock, files or the database: callers pass `now`
//! and the facts in.

pub mod fingerprint;
mod policy;

pub use fingerprint::{Fingerprint, IdentifierKind, Identifiers, fingerprints};
pub use policy::{
    Applied, Citation, IdImageRule, IdScanRule, Policies, Policy, ProfileRule, RequestLogRule,
    SalesRecordRule, ScanField, SensitiveField, SensitiveRule,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("privacy policy {file}: {message}")]
    Parse { file: String, message: String },
    #[error("the default privacy policy must set {section}")]
    Incomplete { section: String },
    #[error("two privacy policies for {0}")]
    Duplicate(String),
}

/// Retention arithmetic.
pub mod retention {
    use jiff::{SignedDuration, Timestamp};

    /// Anything recorded before the returned instant is past a `days`-day retention period at `now`.
    /// Days are 24-hour spans of UTC time: a retention period is a maximum, so it must not stretch
    /// over a daylight-saving change.
    pub fn cutoff(now: Timestamp, days: u32) -> Timestamp {
        now.checked_sub(SignedDuration::from_hours(i64::from(days) * 24))
            .unwrap_or(Timestamp::MIN)
    }
}

/// Why an erasure cannot happen yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErasureRefusal {
    /// Open orders still need the person (pickup, delivery, a refund to make).
    #[error(
        "the customer has {0} open order(s); complete or cancel them before erasing the customer"
    )]
    OpenOrders(usize),
    /// The person may have a second profile: a pair on the duplicate review list that no manager has
    /// merged or dismissed yet. Erasing one profile would leave the person's data in the other.
    #[error(
        "the customer may be the same person as customer {0} (a pair on the duplicate review list); \
         merge or dismiss the pair before erasing the customer"
    )]
    PendingMerge(String),
    /// The profile was merged into another; the person's data now lives with the survivor.
    #[error("this profile was merged into customer {0}; erase that customer instead")]
    MergedProfile(String),
    #[error("the customer was already erased")]
    AlreadyErased,
}

impl ErasureRefusal {
    /// A stable machine-readable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            ErasureRefusal::OpenOrders(_) => "open_orders",
            ErasureRefusal::PendingMerge(_) => "pending_merge",
            ErasureRefusal::MergedProfile(_) => "merged_profile",
            ErasureRefusal::AlreadyErased => "already_erased",
        }
    }
}

/// What an erasure depends on, as the store found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureFacts {
    pub already_erased: bool,
    /// The survivor this profile was merged into, if it was.
    pub merged_into: Option<String>,
    /// Orders still to be handed over (received, ready, out for delivery).
    pub open_orders: usize,
    /// Another live profile paired with this one on the review list, neither merged nor dismissed.
    pub pending_merge_with: Option<String>,
}

/// Whether an erasure may go ahead, given what still depends on the person.
pub fn erasure_refusal(facts: &ErasureFacts) -> Option<ErasureRefusal> {
    if facts.already_erased {
        Some(ErasureRefusal::AlreadyErased)
    } else if let Some(survivor) = &facts.merged_into {
        Some(ErasureRefusal::MergedProfile(survivor.clone()))
    } else if facts.open_orders > 0 {
        Some(ErasureRefusal::OpenOrders(facts.open_orders))
    } else {
        facts
            .pending_merge_with
            .clone()
            .map(ErasureRefusal::PendingMerge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies() -> Policies {
        Policies::builtin().expect("embedded policies parse")
    }

    /// `jurisdiction`'s policy as `canopy privacy list` reads it: one check per rule.
    fn check(jurisdiction: &str, expected: &str) {
        let p = policies().for_jurisdiction(jurisdiction).clone();
        let actual = format!(
            "scan {}d keep {:?}; images {}d; permission {}; sales {}d; requests {}d",
            p.scan_retain_days(),
            p.id_scan.rule.fields,
            p.id_images.rule.retain_days,
            p.profile.rule.permission_to_retain,
            p.sales_records.rule.retain_days,
            p.requests.rule.log_retain_days,
        );
        assert_eq!(actual, expected, "{jurisdiction}");
    }

    #[test]
    fn oregon_sb_863_keeps_no_document_number_or_image_and_needs_permission_to_retain() {
        check(
            "US-OR",
            "scan 0d keep [DateOfBirth, Expiry]; images 0d; permission true; sales 2557d; requests 730d",
        );
    }

    #[test]
    fn california_keeps_records_seven_years_and_needs_no_permission_to_retain() {
        check(
            "US-CA",
            "scan 180d keep [DateOfBirth, Expiry, DocumentNumber]; images 30d; permission false; sales 2557d; requests 730d",
        );
        let ca = policies().for_jurisdiction("us-ca").clone();
        assert!(!ca.sales_records.inherited);
        assert!(ca.id_images.inherited, "Civ. §1798.90.1 gives no period");
    }

    #[test]
    fn montana_keeps_scan_data_at_most_180_days() {
        check(
            "US-MT",
            "scan 180d keep [DateOfBirth, Expiry, DocumentNumber]; images 30d; permission true; sales 2557d; requests 730d",
        );
    }

    #[test]
    fn a_state_without_a_file_gets_the_conservative_default() {
        let p = policies();
        assert_eq!(p.for_jurisdiction("US-ZZ"), p.default_policy());
        assert!(p.default_policy().profile.rule.permission_to_retain);
    }

    #[test]
    fn every_rule_of_every_policy_has_a_citation() {
        let p = policies();
        for policy in p.states().iter().chain([p.default_policy()]) {
            for c in [
                &policy.id_scan.rule.citation,
                &policy.id_images.rule.citation,
                &policy.profile.rule.citation,
                &policy.sales_records.rule.citation,
                &policy.sensitive.rule.citation,
                &policy.requests.rule.citation,
            ] {
                assert!(c.source.starts_with("https://"), "{}", policy.jurisdiction);
                assert!(!c.section.is_empty(), "{}", policy.jurisdiction);
            }
        }
    }

    #[test]
    fn washington_marks_medical_cards_sensitive_and_sharing_needs_consent() {
        let wa = policies().for_jurisdiction("US-WA").clone();
        assert!(wa.is_sensitive(SensitiveField::MedicalCard));
        assert!(wa.sensitive.rule.share_requires_consent);
        assert!(wa.sensitive.rule.citation.section.contains("19.373"));
    }

    #[test]
    fn stores_in_several_states_follow_the_strictest_of_each_rule() {
        let p = policies();
        let both = p.for_stores(["US-CA", "US-OR", "US-CA"]);
        assert_eq!(both.scan_retain_days(), 0, "Oregon's");
        assert_eq!(both.id_images.rule.retain_days, 0);
        assert!(both.profile.rule.permission_to_retain, "Oregon's");
        assert!(!both.keeps_scan_field(ScanField::DocumentNumber));
        assert_eq!(both.sales_records.rule.retain_days, 2557);
        assert_eq!(both.jurisdiction, "US-CA+US-OR");
        assert!(both.id_scan.rule.citation.section.contains("SB 863"));
    }

    #[test]
    fn an_installation_without_stores_follows_the_default() {
        let p = policies();
        assert_eq!(&p.for_stores([]), p.default_policy());
    }

    #[test]
    fn an_unknown_key_in_a_policy_file_is_an_error_not_ignored() {
        let default = include_str!("../../../privacy/default.toml");
        let bad = "jurisdiction = \"US-XX\"\nname = \"X\"\nversion = \"1\"\n[profile]\npermision_to_retain = true\ncitation = { source = \"https://x\", section = \"y\" }\n";
        let err = Policies::from_texts(default, &[("us-xx.toml", bad)]).unwrap_err();
        assert!(matches!(err, PolicyError::Parse { .. }), "{err}");
    }

    #[test]
    fn retention_cutoff_counts_whole_24_hour_days_back_from_now() {
        let now: jiff::Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        assert_eq!(
            retention::cutoff(now, 30).to_string(),
            "2026-02-08T12:00:00Z"
        );
        assert_eq!(retention::cutoff(now, 0), now);
    }

    #[test]
    fn erasure_waits_for_open_orders_and_pending_merges() {
        let facts = |erased, merged: Option<&str>, open, pair: Option<&str>| ErasureFacts {
            already_erased: erased,
            merged_into: merged.map(str::to_string),
            open_orders: open,
            pending_merge_with: pair.map(str::to_string),
        };
        assert_eq!(erasure_refusal(&facts(false, None, 0, None)), None);
        assert_eq!(
            erasure_refusal(&facts(false, None, 2, Some("b"))),
            Some(ErasureRefusal::OpenOrders(2))
        );
        let pending = erasure_refusal(&facts(false, None, 0, Some("b"))).unwrap();
        assert_eq!(pending.code(), "pending_merge");
        assert!(pending.to_string().contains("customer b"), "{pending}");
        assert_eq!(
            erasure_refusal(&facts(false, Some("s"), 0, None)).map(|r| r.code()),
            Some("merged_profile")
        );
        assert_eq!(
            erasure_refusal(&facts(true, Some("s"), 1, Some("b"))),
            Some(ErasureRefusal::AlreadyErased)
        );
    }
}
