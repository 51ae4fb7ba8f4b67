//! Data policies: one TOML file per jurisdiction under `privacy/`, embedded in the binary.
//!
//! A state file names only what its law says; every section it leaves out is taken from `default.toml`
//! (the strictest value found among the researched states) and marked `inherited`, so `canopy privacy
//! list` shows which rules are the state's own and which are the conservative default.

use serde::{Deserialize, Serialize};

use crate::PolicyError;

/// Where a rule comes from: the source's address and the section that says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    pub source: String,
    pub section: String,
}

/// A field of a scanned ID that a policy may allow to stay on file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanField {
    DateOfBirth,
    Expiry,
    DocumentNumber,
    Name,
    Address,
}

/// Data whose reading is audited and which leaves Canopy (exports, webhooks) only with consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveField {
    IdNumber,
    MedicalCard,
    IdImage,
}

/// What may be kept from a scanned ID, why, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdScanRule {
    pub fields: Vec<ScanField>,
    pub purposes: Vec<String>,
    /// Days after a verification its scan-derived fields outside `fields` are purged (the document
    /// number). `None` in a state file means the state is silent.
    pub retain_days: Option<u32>,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdImageRule {
    /// Days an ID image is kept after it was taken.
    pub retain_days: u32,
    /// Whether the photos a customer submitted for review are deleted as soon as staff decide
    /// (approved or rejected) instead of being kept `retain_days`.
    #[serde(default)]
    pub delete_after_review: bool,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    /// Whether a profile keeps more than a sale needs only after the customer's permission to retain
    /// is recorded in the consent ledger.
    pub permission_to_retain: bool,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesRecordRule {
    /// Days sales records (orders, limits history, loyalty totals) are kept.
    pub retain_days: u32,
    /// Whether the records must keep the buyer's identity through an erasure (none researched does).
    pub keep_identity: bool,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitiveRule {
    pub fields: Vec<SensitiveField>,
    /// Whether sensitive data leaves Canopy (exports, webhooks) only with the customer's consent.
    pub share_requires_consent: bool,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLogRule {
    /// Days the log of know and delete requests is kept.
    pub log_retain_days: u32,
    pub citation: Citation,
}

/// One rule as it applies: its value and whether it came from the conservative default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied<T> {
    #[serde(flatten)]
    pub rule: T,
    /// True when the jurisdiction's file is silent and the default applies.
    pub inherited: bool,
}

/// A jurisdiction's data policy, every section resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub jurisdiction: String,
    pub name: String,
    pub version: String,
    pub notes: Option<String>,
    pub id_scan: Applied<IdScanRule>,
    pub id_images: Applied<IdImageRule>,
    pub profile: Applied<ProfileRule>,
    pub sales_records: Applied<SalesRecordRule>,
    pub sensitive: Applied<SensitiveRule>,
    pub requests: Applied<RequestLogRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    jurisdiction: String,
    name: String,
    version: String,
    notes: Option<String>,
    id_scan: Option<IdScanRule>,
    id_images: Option<IdImageRule>,
    profile: Option<ProfileRule>,
    sales_records: Option<SalesRecordRule>,
    sensitive: Option<SensitiveRule>,
    requests: Option<RequestLogRule>,
}

fn resolve<T: Clone>(own: Option<T>, default: &T) -> Applied<T> {
    match own {
        Some(rule) => Applied {
            rule,
            inherited: false,
        },
        None => Applied {
            rule: default.clone(),
            inherited: true,
        },
    }
}

fn own<T>(rule: T) -> Applied<T> {
    Applied {
        rule,
        inherited: false,
    }
}

fn parse_file(name: &str, text: &str) -> Result<PolicyFile, PolicyError> {
    toml::from_str(text).map_err(|e| PolicyError::Parse {
        file: name.to_string(),
        message: e.to_string(),
    })
}

impl Policy {
    /// Reads a state file over the default policy.
    fn from_file(file: PolicyFile, default: &Policy) -> Policy {
        let mut id_scan = resolve(file.id_scan, &default.id_scan.rule);
        if id_scan.rule.retain_days.is_none() {
            // Silent on the period only: the default period with the state's own fields and purposes.
            id_scan.rule.retain_days = default.id_scan.rule.retain_days;
        }
        Policy {
            jurisdiction: file.jurisdiction,
            name: file.name,
            version: file.version,
            notes: file.notes,
            id_scan,
            id_images: resolve(file.id_images, &default.id_images.rule),
            profile: resolve(file.profile, &default.profile.rule),
            sales_records: resolve(file.sales_records, &default.sales_records.rule),
            sensitive: resolve(file.sensitive, &default.sensitive.rule),
            requests: resolve(file.requests, &default.requests.rule),
        }
    }

    fn default_from(file: PolicyFile) -> Result<Policy, PolicyError> {
        let missing = |section: &str| PolicyError::Incomplete {
            section: section.to_string(),
        };
        let id_scan = file.id_scan.ok_or_else(|| missing("id_scan"))?;
        if id_scan.retain_days.is_none() {
            return Err(missing("id_scan.retain_days"));
        }
        Ok(Policy {
            jurisdiction: file.jurisdiction,
            name: file.name,
            version: file.version,
            notes: file.notes,
            id_scan: own(id_scan),
            id_images: own(file.id_images.ok_or_else(|| missing("id_images"))?),
            profile: own(file.profile.ok_or_else(|| missing("profile"))?),
            sales_records: own(file.sales_records.ok_or_else(|| missing("sales_records"))?),
            sensitive: own(file.sensitive.ok_or_else(|| missing("sensitive"))?),
            requests: own(file.requests.ok_or_else(|| missing("requests"))?),
        })
    }

    /// Days the document number (and other scan fields the policy does not allow) is kept.
    pub fn scan_retain_days(&self) -> u32 {
        self.id_scan.rule.retain_days.unwrap_or(0)
    }

    /// Whether a scanned field may stay on file past the scan-retention period.
    pub fn keeps_scan_field(&self, field: ScanField) -> bool {
        self.id_scan.rule.fields.contains(&field)
    }

    pub fn is_sensitive(&self, field: SensitiveField) -> bool {
        self.sensitive.rule.fields.contains(&field)
    }

    /// The policy an installation whose stores sit in several jurisdictions must follow: every limit at
    /// its strictest (shortest retention of ID data, longest of sales records and of the request log,
    /// permission to retain and consent to share if any requires them, only the scan fields all allow).
    /// Each rule keeps the citation of the policy it came from.
    pub fn strictest<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<Policy> {
        let mut iter = policies.into_iter();
        let mut out = iter.next()?.clone();
        for p in iter {
            out.jurisdiction = format!("{}+{}", out.jurisdiction, p.jurisdiction);
            out.name = format!("{}, {}", out.name, p.name);
            out.notes = None;
            let (mine, theirs) = (out.scan_retain_days(), p.scan_retain_days());
            let fields: Vec<ScanField> = out
                .id_scan
                .rule
                .fields
                .iter()
                .copied()
                .filter(|f| p.id_scan.rule.fields.contains(f))
                .collect();
            let purposes: Vec<String> = out
                .id_scan
                .rule
                .purposes
                .iter()
                .filter(|f| p.id_scan.rule.purposes.contains(f))
                .cloned()
                .collect();
            if theirs < mine {
                out.id_scan = p.id_scan.clone();
            }
            out.id_scan.rule.fields = fields;
            out.id_scan.rule.purposes = purposes;
            let delete_after_review =
                out.id_images.rule.delete_after_review || p.id_images.rule.delete_after_review;
            if p.id_images.rule.retain_days < out.id_images.rule.retain_days {
                out.id_images = p.id_images.clone();
            }
            out.id_images.rule.delete_after_review = delete_after_review;
            if p.profile.rule.permission_to_retain && !out.profile.rule.permission_to_retain {
                out.profile = p.profile.clone();
            }
            if p.sales_records.rule.retain_days > out.sales_records.rule.retain_days {
                let keep_identity = out.sales_records.rule.keep_identity;
                out.sales_records = p.sales_records.clone();
                out.sales_records.rule.keep_identity |= keep_identity;
            } else {
                out.sales_records.rule.keep_identity |= p.sales_records.rule.keep_identity;
            }
            let mut sensitive = out.sensitive.rule.fields.clone();
            sensitive.extend(p.sensitive.rule.fields.iter().copied());
            sensitive.sort();
            sensitive.dedup();
            if p.sensitive.rule.share_requires_consent && !out.sensitive.rule.share_requires_consent
            {
                out.sensitive = p.sensitive.clone();
            }
            out.sensitive.rule.fields = sensitive;
            if p.requests.rule.log_retain_days > out.requests.rule.log_retain_days {
                out.requests = p.requests.clone();
            }
        }
        Some(out)
    }
}

/// Every embedded policy: the default and one per jurisdiction that has its own file.
#[derive(Debug, Clone)]
pub struct Policies {
    default: Policy,
    states: Vec<Policy>,
}

const FILES: &[(&str, &str)] = &[
    ("us-ca.toml", include_str!("../../../privacy/us-ca.toml")),
    ("us-co.toml", include_str!("../../../privacy/us-co.toml")),
    ("us-mi.toml", include_str!("../../../privacy/us-mi.toml")),
    ("us-mt.toml", include_str!("../../../privacy/us-mt.toml")),
    ("us-or.toml", include_str!("../../../privacy/us-or.toml")),
    ("us-wa.toml", include_str!("../../../privacy/us-wa.toml")),
];

const DEFAULT_FILE: &str = include_str!("../../../privacy/default.toml");

impl Policies {
    /// The policies compiled into this build.
    pub fn builtin() -> Result<Policies, PolicyError> {
        Self::from_texts(DEFAULT_FILE, FILES)
    }

    /// [`Policies::builtin`], parsed once per process.
    pub fn embedded() -> Result<&'static Policies, PolicyError> {
        static PARSED: std::sync::OnceLock<Result<Policies, PolicyError>> =
            std::sync::OnceLock::new();
        PARSED
            .get_or_init(Policies::builtin)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Policies from file texts: `default` and `(file name, text)` per jurisdiction.
    pub fn from_texts(default: &str, files: &[(&str, &str)]) -> Result<Policies, PolicyError> {
        let default = Policy::default_from(parse_file("default.toml", default)?)?;
        let mut states = Vec::new();
        for (name, text) in files {
            let policy = Policy::from_file(parse_file(name, text)?, &default);
            if states
                .iter()
                .any(|p: &Policy| p.jurisdiction == policy.jurisdiction)
            {
                return Err(PolicyError::Duplicate(policy.jurisdiction));
            }
            states.push(policy);
        }
        states.sort_by(|a, b| a.jurisdiction.cmp(&b.jurisdiction));
        Ok(Policies { default, states })
    }

    pub fn default_policy(&self) -> &Policy {
        &self.default
    }

    /// The jurisdictions with a file of their own, in code order.
    pub fn states(&self) -> &[Policy] {
        &self.states
    }

    /// The policy of one jurisdiction (`US-CA`), or the conservative default where there is no file.
    pub fn for_jurisdiction(&self, jurisdiction: &str) -> &Policy {
        self.states
            .iter()
            .find(|p| p.jurisdiction.eq_ignore_ascii_case(jurisdiction))
            .unwrap_or(&self.default)
    }

    /// The policy an installation follows: the strictest of its stores' jurisdictions (the default
    /// when it has no stores yet).
    pub fn for_stores<'a>(&self, jurisdictions: impl IntoIterator<Item = &'a str>) -> Policy {
        let mut chosen: Vec<&Policy> = jurisdictions
            .into_iter()
            .map(|j| self.for_jurisdiction(j))
            .collect();
        chosen.sort_by(|a, b| a.jurisdiction.cmp(&b.jurisdiction));
        chosen.dedup_by(|a, b| a.jurisdiction == b.jurisdiction);
        Policy::strictest(chosen).unwrap_or_else(|| self.default.clone())
    }
}
