//! Consent to be contacted, per channel and purpose, as an append-only ledger.
//!
//! A customer's consent is never a stored boolean: every change is an entry saying who or what changed it,
//! through which source, and which disclosure text the customer saw. The current consent for one
//! (channel, purpose) is the latest entry for it. Marketing needs an explicit grant; transactional messages
//! (the order the customer placed is ready) are allowed until the customer revokes them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{ActorKind, CustomerId, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChannel {
    Sms,
    Email,
}

impl ConsentChannel {
    pub const ALL: [ConsentChannel; 2] = [ConsentChannel::Sms, ConsentChannel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentChannel::Sms => "sms",
            ConsentChannel::Email => "email",
        }
    }

    pub fn parse(value: &str) -> Option<ConsentChannel> {
        ConsentChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == value.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// Messages about something the customer asked for (order status).
    Transactional,
    /// Promotions; needs prior express written consent.
    Marketing,
}

impl ConsentPurpose {
    pub const ALL: [ConsentPurpose; 2] = [ConsentPurpose::Transactional, ConsentPurpose::Marketing];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::Transactional => "transactional",
            ConsentPurpose::Marketing => "marketing",
        }
    }

    pub fn parse(value: &str) -> Option<ConsentPurpose> {
        ConsentPurpose::ALL
            .into_iter()
            .find(|p| p.as_str() == value.trim())
    }
}

/// Where a consent change came from; evidence in a TCPA dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// Staff recorded it at the register.
    Pos,
    /// The customer ticked a box in the online store.
    Online,
    /// Carried over from another system by a CSV import.
    Import,
    /// The customer texted a keyword (STOP, START).
    SmsKeyword,
    /// An integration called the API.
    Api,
    /// Carried over from a duplicate profile when two were merged (or restored by undoing that merge).
    Merge,
}

impl ConsentSource {
    pub const ALL: [ConsentSource; 6] = [
        ConsentSource::Pos,
        ConsentSource::Online,
        ConsentSource::Import,
        ConsentSource::SmsKeyword,
        ConsentSource::Api,
        ConsentSource::Merge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Pos => "pos",
            ConsentSource::Online => "online",
            ConsentSource::Import => "import",
            ConsentSource::SmsKeyword => "sms_keyword",
            ConsentSource::Api => "api",
            ConsentSource::Merge => "merge",
        }
    }

    pub fn parse(value: &str) -> Option<ConsentSource> {
        ConsentSource::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    Granted,
    Revoked,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<ConsentStatus> {
        match value {
            "granted" => Some(ConsentStatus::Granted),
            "revoked" => Some(ConsentStatus::Revoked),
            _ => None,
        }
    }
}

/// One change to record, valid by construction (see [`ConsentChange::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentChange {
    pub channel: ConsentChannel,
    pub purpose: ConsentPurpose,
    pub status: ConsentStatus,
    pub source: ConsentSource,
    /// The version of the disclosure text the customer was shown ("sms-2026-01").
    pub disclosure_version: Option<String>,
    /// Evidence that is not the actor: the phone a keyword came from, the IP address of an online form.
    pub address: Option<String>,
    /// What the customer actually sent or ticked ("STOP", "checkbox: text me deals").
    pub evidence: Option<String>,
}

impl ConsentChange {
    /// Refuses a marketing grant without the disclosure version that was shown: without it the grant is
    /// not evidence of prior express written consent.
    pub fn new(
        channel: ConsentChannel,
        purpose: ConsentPurpose,
        status: ConsentStatus,
        source: ConsentSource,
        disclosure_version: Option<String>,
    ) -> Result<ConsentChange, FieldError> {
        let disclosure_version =
            crate::text::optional("disclosure_version", disclosure_version.as_deref(), 100)?;
        if purpose == ConsentPurpose::Marketing
            && status == ConsentStatus::Granted
            && disclosure_version.is_none()
        {
            return Err(FieldError::new(
                "disclosure_version",
                "required",
                "a marketing opt-in must say which disclosure text the customer was shown",
            ));
        }
        Ok(ConsentChange {
            channel,
            purpose,
            status,
            source,
            disclosure_version,
            address: None,
            evidence: None,
        })
    }

    pub fn with_address(mut self, address: Option<String>) -> Self {
        self.address = address;
        self
    }

    pub fn with_evidence(mut self, evidence: Option<String>) -> Self {
        self.evidence = evidence;
        self
    }
}

/// One stored ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEntry {
    pub seq: i64,
    pub customer_id: CustomerId,
    #[serde(flatten)]
    pub change: ConsentChange,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    /// The staff member, key or system process that recorded it.
    pub actor_label: String,
    pub recorded_at: Timestamp,
}

/// The consent in force for one (channel, purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentState {
    pub channel: ConsentChannel,
    pub purpose: ConsentPurpose,
    /// The latest recorded status; `None` when nothing was ever recorded.
    pub status: Option<ConsentStatus>,
    /// Whether Canopy may send this kind of message now.
    pub allowed: bool,
    /// The entry that decided it.
    pub latest: Option<ConsentEntry>,
}

/// Whether a message may be sent given the latest status: marketing only after a grant, transactional
/// unless revoked.
pub fn allowed(purpose: ConsentPurpose, latest: Option<ConsentStatus>) -> bool {
    match purpose {
        ConsentPurpose::Marketing => latest == Some(ConsentStatus::Granted),
        ConsentPurpose::Transactional => latest != Some(ConsentStatus::Revoked),
    }
}

/// The current state of every (channel, purpose) from a customer's entries (any order).
pub fn current(entries: &[ConsentEntry]) -> Vec<ConsentState> {
    let mut out = Vec::new();
    for channel in ConsentChannel::ALL {
        for purpose in ConsentPurpose::ALL {
            let latest = entries
                .iter()
                .filter(|e| e.change.channel == channel && e.change.purpose == purpose)
                .max_by_key(|e| e.seq)
                .cloned();
            let status = latest.as_ref().map(|e| e.change.status);
            out.push(ConsentState {
                channel,
                purpose,
                status,
                allowed: allowed(purpose, status),
                latest,
            });
        }
    }
    out
}

/// What a reply keyword asks for. Carriers and the CTIA handbook define the words; a message counts only
/// when the keyword is the whole message (so "please don't stop" is not an opt-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsKeyword {
    /// Stop every text: marketing and transactional.
    OptOut,
    /// Resume transactional texts (marketing needs a fresh written opt-in).
    OptIn,
    Help,
}

const OPT_OUT_WORDS: [&str; 8] = [
    "STOP",
    "STOPALL",
    "QUIT",
    "END",
    "REVOKE",
    "OPT OUT",
    "CANCEL",
    "UNSUBSCRIBE",
];
const OPT_IN_WORDS: [&str; 2] = ["START", "UNSTOP"];

impl SmsKeyword {
    pub fn parse(body: &str) -> Option<SmsKeyword> {
        let spaced: String = body
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let normalised = spaced
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        let squashed = normalised.replace(' ', "");
        if OPT_OUT_WORDS
            .iter()
            .any(|w| *w == normalised || w.replace(' ', "") == squashed)
        {
            Some(SmsKeyword::OptOut)
        } else if OPT_IN_WORDS.contains(&normalised.as_str()) {
            Some(SmsKeyword::OptIn)
        } else if normalised == "HELP" || normalised == "INFO" {
            Some(SmsKeyword::Help)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, purpose: ConsentPurpose, status: ConsentStatus) -> ConsentEntry {
        ConsentEntry {
            seq,
            customer_id: CustomerId::new(),
            change: ConsentChange::new(
                ConsentChannel::Sms,
                purpose,
                status,
                ConsentSource::Pos,
                Some("v1".into()),
            )
            .unwrap(),
            actor_kind: ActorKind::User,
            actor_id: None,
            actor_label: "sam".into(),
            recorded_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn every_carrier_opt_out_word_is_an_opt_out_whatever_its_case() {
        for body in [
            "STOP",
            "stop",
            " Stop. ",
            "QUIT",
            "end",
            "Revoke",
            "OPT OUT",
            "opt-out",
            "optout",
            "cancel",
            "UNSUBSCRIBE",
            "stopall",
        ] {
            assert_eq!(SmsKeyword::parse(body), Some(SmsKeyword::OptOut), "{body}");
        }
    }

    #[test]
    fn start_and_unstop_opt_back_in_and_sentences_are_not_keywords() {
        assert_eq!(SmsKeyword::parse("start"), Some(SmsKeyword::OptIn));
        assert_eq!(SmsKeyword::parse("UNSTOP"), Some(SmsKeyword::OptIn));
        assert_eq!(SmsKeyword::parse("please don't stop"), None);
        assert_eq!(SmsKeyword::parse("when do you close?"), None);
        assert_eq!(SmsKeyword::parse("help"), Some(SmsKeyword::Help));
    }

    #[test]
    fn marketing_is_never_allowed_without_a_grant_and_transactional_until_revoked() {
        let states = current(&[]);
        let sms = |p| {
            states
                .iter()
                .find(|s| s.channel == ConsentChannel::Sms && s.purpose == p)
                .unwrap()
                .allowed
        };
        assert!(!sms(ConsentPurpose::Marketing));
        assert!(sms(ConsentPurpose::Transactional));
    }

    #[test]
    fn the_latest_entry_decides() {
        let entries = [
            entry(3, ConsentPurpose::Marketing, ConsentStatus::Revoked),
            entry(1, ConsentPurpose::Marketing, ConsentStatus::Granted),
        ];
        let marketing = current(&entries)
            .into_iter()
            .find(|s| s.channel == ConsentChannel::Sms && s.purpose == ConsentPurpose::Marketing)
            .unwrap();
        assert_eq!(marketing.status, Some(ConsentStatus::Revoked));
        assert!(!marketing.allowed);
    }

    #[test]
    fn a_marketing_grant_needs_the_disclosure_version() {
        let err = ConsentChange::new(
            ConsentChannel::Email,
            ConsentPurpose::Marketing,
            ConsentStatus::Granted,
            ConsentSource::Online,
            None,
        )
        .unwrap_err();
        assert_eq!(err.field, "disclosure_version");
        assert!(
            ConsentChange::new(
                ConsentChannel::Email,
                ConsentPurpose::Marketing,
                ConsentStatus::Revoked,
                ConsentSource::Online,
                None,
            )
            .is_ok()
        );
    }
}
