//! Customer import from another POS's CSV export.
//!
//! Three passes, so nothing is half-imported: every row is parsed and validated (through
//! `CustomerPatch::validate`, the same gate the API uses); the valid rows are matched against existing
//! customers by phone, email or ID number (name and date of birth when a row has none of those); and only
//! when no row has an error is the whole plan written in one transaction. A row that matches a customer
//! and brings nothing new is left alone, so running the same file twice changes nothing.
//!
//! Loyalty points become one opening ledger entry per customer (never a second: the ledger's unique cause
//! key decides, and the planner reads it first so the report says so). Group names match existing groups
//! whatever their case; groups that do not exist are created without discounts, in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use canopy_domain::{
    Actor, Address, ConsentChange, ConsentChannel, ConsentPurpose, ConsentSource, ConsentStatus,
    Customer, CustomerDraft, CustomerId, CustomerPatch, FieldError, GroupId, IdDocumentInput,
    Region, id_number_key,
};
use canopy_store::{CustomerImport, NewCustomerRecord, Store, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::columns::{Field, Mapping, MappingError};

/// How to read the file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Region for phone numbers written without a country code.
    pub region: Region,
    /// The store's date today (birth dates after it are refused).
    pub today: Date,
    /// `COLUMN=FIELD` overrides of the default header aliases.
    pub map: Vec<String>,
    /// Report what would happen without writing anything.
    pub dry_run: bool,
    /// Recorded as the disclosure version of marketing opt-ins carried over from the old system.
    pub consent_disclosure: String,
    /// Where the file came from (e.g. its name), for the reason of opening loyalty balances:
    /// "Opening balance imported from …".
    pub source: String,
    /// Staff checked the file's new people against the likely duplicates the import reported: create
    /// them anyway and record each pair as "not the same person" (as intake's `different_person`).
    pub different_people: bool,
}

impl ImportOptions {
    pub fn new(region: Region, today: Date) -> ImportOptions {
        ImportOptions {
            region,
            today,
            map: Vec::new(),
            dry_run: false,
            consent_disclosure: "imported from previous system".into(),
            source: "previous system".into(),
            different_people: false,
        }
    }
}

/// What happened (or, in a dry run, would happen) to one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RowOutcome {
    Create {
        customer_id: CustomerId,
        name: String,
    },
    Update {
        customer_id: CustomerId,
        name: String,
        /// What changes: customer fields, `notes`, `sms_opt_in`, `email_opt_in`, `loyalty_points` (an
        /// opening balance; only for a customer who has none yet), `groups` (new memberships).
        changes: Vec<String>,
    },
    Unchanged {
        customer_id: CustomerId,
        name: String,
    },
    Error {
        /// The CSV column at fault, as named in the file.
        column: Option<String>,
        /// The customer field at fault.
        field: Option<String>,
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport {
    /// The line in the file (the header is line 1).
    pub line: u64,
    #[serde(flatten)]
    pub outcome: RowOutcome,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: usize,
    /// Customers given an opening loyalty balance (one ledger entry each).
    pub opening_balances: usize,
    /// Groups named in the file that do not exist yet and are created.
    pub groups_created: usize,
    /// Group memberships added.
    pub memberships: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// True only when the plan was written (no errors, not a dry run).
    pub written: bool,
    pub summary: Summary,
    pub rows: Vec<RowReport>,
    /// Columns of the file that feed no field.
    pub unmapped_columns: Vec<String>,
    /// Names of the groups the import creates (spelled as first seen in the file).
    pub new_groups: Vec<String>,
    /// Data the file carries that this import did not bring over.
    pub warnings: Vec<String>,
}

impl ImportReport {
    pub fn errors(&self) -> impl Iterator<Item = &RowReport> {
        self.rows
            .iter()
            .filter(|r| matches!(r.outcome, RowOutcome::Error { .. }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not readable CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("the file has no header row")]
    NoHeader,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One row after parsing: the customer fields plus what an import carries besides them.
struct Row {
    line: u64,
    /// The Canopy customer the row names by id, when it names one (see [`Field::CustomerId`]).
    customer_id: Option<CustomerId>,
    patch: CustomerPatch,
    draft: CustomerDraft,
    note: Option<String>,
    sms_opt_in: Option<(bool, String)>,
    email_opt_in: Option<(bool, String)>,
    points: Option<i64>,
    groups: Vec<String>,
}

impl Row {
    fn name(&self) -> String {
        format!("{} {}", self.draft.name.first, self.draft.name.last)
    }
}

struct RowError {
    field: Option<Field>,
    domain_field: Option<String>,
    code: String,
    message: String,
}

impl RowError {
    fn new(field: Field, code: &str, message: impl Into<String>) -> RowError {
        RowError {
            field: Some(field),
            domain_field: Some(field.name().to_string()),
            code: code.into(),
            message: message.into(),
        }
    }

    fn from_field_error(err: FieldError, full_name: bool) -> RowError {
        let field = match err.field.as_str() {
            "first_name" | "last_name" if full_name => Some(Field::FullName),
            "first_name" => Some(Field::FirstName),
            "last_name" => Some(Field::LastName),
            "middle_name" => Some(Field::MiddleName),
            "preferred_name" => Some(Field::PreferredName),
            "phone" => Some(Field::Phone),
            "email" => Some(Field::Email),
            "date_of_birth" => Some(Field::DateOfBirth),
            "customer_type" => Some(Field::CustomerType),
            "id_document.number" => Some(Field::IdNumber),
            "id_document.kind" => Some(Field::IdKind),
            "id_document.jurisdiction" => Some(Field::IdJurisdiction),
            "id_document.expiry" => Some(Field::IdExpiry),
            f if f.ends_with(".line1") => Some(Field::AddressLine1),
            f if f.ends_with(".line2") => Some(Field::AddressLine2),
            f if f.ends_with(".city") => Some(Field::City),
            f if f.ends_with(".region") => Some(Field::State),
            f if f.ends_with(".postal_code") => Some(Field::PostalCode),
            f if f.ends_with(".country") => Some(Field::Country),
            _ => None,
        };
        RowError {
            field,
            domain_field: Some(err.field),
            code: err.code.into(),
            message: err.message,
        }
    }
}

/// A cell as the other system meant it: trimmed, and without the `'` that spreadsheet-safe exports
/// (ours included) put before a leading `=`, `+`, `-` or `@`.
fn cell(record: &csv::StringRecord, index: Option<usize>) -> Option<String> {
    let raw = record.get(index?)?.trim();
    let value = match raw.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => raw,
    };
    (!value.is_empty()).then(|| value.to_string())
}

/// Dates as other systems write them: `1990-04-02`, `1990/04/02`, `04/02/1990` (US month first),
/// optionally followed by a time.
fn normalise_date(raw: &str) -> Option<String> {
    let date_part = raw.split(['T', ' ']).next()?;
    let parts: Vec<&str> = date_part.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 {
        (a, b, c)
    } else if c.len() == 4 {
        (c, a, b)
    } else {
        return None;
    };
    let (y, m, d): (i16, i8, i8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Date::new(y, m, d).ok().map(|d| d.to_string())
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "1" | "x" | "opted in" | "opt-in" | "optin" | "subscribed" => {
            Some(true)
        }
        "n" | "no" | "false" | "0" | "opted out" | "opt-out" | "optout" | "unsubscribed" => {
            Some(false)
        }
        _ => None,
    }
}

fn customer_type(raw: &str) -> Option<&'static str> {
    let key: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "adultuse" | "adult" | "rec" | "recreational" | "retail" => Some("adult_use"),
        "medical" | "med" | "patient" | "medicalpatient" => Some("medical"),
        "caregiver" => Some("caregiver"),
        _ => None,
    }
}

fn id_kind(raw: &str) -> Option<&'static str> {
    let key: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "dl" | "driverslicense" | "driverlicense" | "driverslicence" | "license" | "licence" => {
            Some("drivers_license")
        }
        "stateid" | "id" | "idcard" | "stateidcard" => Some("state_id"),
        "passport" => Some("passport"),
        "military" | "militaryid" => Some("military_id"),
        "tribal" | "tribalid" => Some("tribal_id"),
        "other" => Some("other"),
        _ => None,
    }
}

fn parse_row(
    line: u64,
    record: &csv::StringRecord,
    mapping: &Mapping,
    options: &ImportOptions,
) -> Result<Row, RowError> {
    let get = |f: Field| cell(record, mapping.column_of(f));
    let full_name = mapping.column_of(Field::FirstName).is_none()
        || mapping.column_of(Field::LastName).is_none();
    let (first, last) = if full_name {
        let name = get(Field::FullName).unwrap_or_default();
        match name.rsplit_once(' ') {
            Some((first, last)) => (Some(first.trim().to_string()), Some(last.to_string())),
            None => (Some(name), None),
        }
    } else {
        (get(Field::FirstName), get(Field::LastName))
    };
    let date_of_birth = match get(Field::DateOfBirth) {
        None => None,
        Some(raw) => Some(normalise_date(&raw).ok_or_else(|| {
            RowError::new(
                Field::DateOfBirth,
                "invalid_date",
                format!("'{raw}' is not a date (use YYYY-MM-DD or MM/DD/YYYY)"),
            )
        })?),
    };
    let customer_type = match get(Field::CustomerType) {
        None => None,
        Some(raw) => Some(
            customer_type(&raw)
                .ok_or_else(|| {
                    RowError::new(
                        Field::CustomerType,
                        "invalid_choice",
                        format!("'{raw}' is not adult_use, medical or caregiver"),
                    )
                })?
                .to_string(),
        ),
    };
    let id_document = match get(Field::IdNumber) {
        None => None,
        Some(number) => Some(IdDocumentInput {
            kind: match get(Field::IdKind) {
                None => None,
                Some(raw) => Some(
                    id_kind(&raw)
                        .ok_or_else(|| {
                            RowError::new(
                                Field::IdKind,
                                "invalid_choice",
                                format!("'{raw}' is not a known ID kind"),
                            )
                        })?
                        .to_string(),
                ),
            },
            number: Some(number),
            jurisdiction: get(Field::IdJurisdiction),
            expiry: match get(Field::IdExpiry) {
                None => None,
                Some(raw) => Some(normalise_date(&raw).ok_or_else(|| {
                    RowError::new(
                        Field::IdExpiry,
                        "invalid_date",
                        format!("'{raw}' is not a date"),
                    )
                })?),
            },
        }),
    };
    let addresses = get(Field::AddressLine1).map(|line1| {
        vec![Address {
            label: None,
            line1,
            line2: get(Field::AddressLine2),
            city: get(Field::City).unwrap_or_default(),
            region: get(Field::State).unwrap_or_default(),
            postal_code: get(Field::PostalCode).unwrap_or_default(),
            country: get(Field::Country).unwrap_or_else(|| "US".into()),
            delivery_instructions: None,
        }]
    });
    let patch = CustomerPatch {
        first_name: first,
        middle_name: get(Field::MiddleName),
        last_name: last,
        preferred_name: get(Field::PreferredName),
        phone: get(Field::Phone),
        email: get(Field::Email),
        date_of_birth,
        customer_type,
        addresses,
        id_document,
        created_channel: Some("import".into()),
    };
    let draft = patch
        .clone()
        .validate(options.region, options.today)
        .map_err(|e| RowError::from_field_error(e, full_name))?;
    let opt_in = |field: Field| -> Result<Option<(bool, String)>, RowError> {
        match get(field) {
            None => Ok(None),
            Some(raw) => parse_bool(&raw)
                .map(|b| Some((b, raw.clone())))
                .ok_or_else(|| {
                    RowError::new(
                        field,
                        "invalid_boolean",
                        format!("'{raw}' is not yes or no"),
                    )
                }),
        }
    };
    let points = match get(Field::LoyaltyPoints) {
        None => None,
        Some(raw) => {
            let cleaned: String = raw.chars().filter(|c| *c != ',').collect();
            let cleaned = cleaned
                .strip_suffix(".0")
                .or(cleaned.strip_suffix(".00"))
                .unwrap_or(&cleaned);
            let points = cleaned.parse::<i64>().map_err(|_| {
                RowError::new(
                    Field::LoyaltyPoints,
                    "invalid_points",
                    format!("'{raw}' is not a whole number of points"),
                )
            })?;
            if points < 0 {
                return Err(RowError::new(
                    Field::LoyaltyPoints,
                    "invalid_points",
                    format!("'{raw}' is negative: an opening balance is 0 points or more"),
                ));
            }
            if points > MAX_OPENING_POINTS {
                return Err(RowError::new(
                    Field::LoyaltyPoints,
                    "invalid_points",
                    format!(
                        "'{raw}' is more than the {MAX_OPENING_POINTS} points an opening balance may hold"
                    ),
                ));
            }
            Some(points)
        }
    };
    Ok(Row {
        line,
        // Only a Canopy id can name a customer here; another system's own ids are ignored.
        customer_id: get(Field::CustomerId).and_then(|raw| raw.parse().ok()),
        note: get(Field::Notes),
        sms_opt_in: opt_in(Field::SmsOptIn)?,
        email_opt_in: opt_in(Field::EmailOptIn)?,
        points,
        groups: group_names(get(Field::Groups).as_deref())?,
        patch,
        draft,
    })
}

/// The most points an opening balance may hold (the ledger's limit for one adjustment).
const MAX_OPENING_POINTS: i64 = 1_000_000_000;

/// The longest group name staff may give a group.
const MAX_GROUP_NAME: usize = 100;

/// A `groups` cell as names: split on `;`, `|` or `,`, trimmed, each name once (ignoring case).
fn group_names(cell: Option<&str>) -> Result<Vec<String>, RowError> {
    let mut names: Vec<String> = Vec::new();
    for name in cell
        .unwrap_or_default()
        .split([';', '|', ','])
        .map(str::trim)
    {
        if name.is_empty()
            || names
                .iter()
                .any(|n| n.to_lowercase() == name.to_lowercase())
        {
            continue;
        }
        if name.chars().count() > MAX_GROUP_NAME {
            return Err(RowError::new(
                Field::Groups,
                "invalid_group",
                format!("group names are at most {MAX_GROUP_NAME} characters"),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// The unique keys of a draft, as stored.
struct Keys {
    phone: Option<String>,
    email: Option<String>,
    id: Option<(String, Option<String>)>,
}

impl Keys {
    fn of(draft: &CustomerDraft) -> Keys {
        Keys {
            phone: draft.phone.as_ref().map(|p| p.as_str().to_string()),
            email: draft.email.as_ref().map(|e| e.key()),
            id: draft
                .id_document
                .as_ref()
                .map(|d| (id_number_key(&d.number), d.jurisdiction.clone())),
        }
    }

    fn is_empty(&self) -> bool {
        self.phone.is_none() && self.email.is_none() && self.id.is_none()
    }
}

/// `existing` with every field the row provides laid over it.
fn overlay(
    existing: &CustomerDraft,
    row: &CustomerPatch,
    options: &ImportOptions,
) -> Result<CustomerDraft, FieldError> {
    let mut merged = CustomerPatch::from(existing);
    let take = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    take(&mut merged.first_name, &row.first_name);
    take(&mut merged.middle_name, &row.middle_name);
    take(&mut merged.last_name, &row.last_name);
    take(&mut merged.preferred_name, &row.preferred_name);
    take(&mut merged.phone, &row.phone);
    take(&mut merged.email, &row.email);
    take(&mut merged.date_of_birth, &row.date_of_birth);
    take(&mut merged.customer_type, &row.customer_type);
    if let Some(new) = &row.id_document {
        let doc = merged
            .id_document
            .get_or_insert_with(IdDocumentInput::default);
        let same_number =
            doc.number.as_deref().map(id_number_key) == new.number.as_deref().map(id_number_key);
        if !same_number {
            *doc = IdDocumentInput::default();
        }
        take(&mut doc.kind, &new.kind);
        take(&mut doc.number, &new.number);
        take(&mut doc.jurisdiction, &new.jurisdiction);
        take(&mut doc.expiry, &new.expiry);
    }
    if let Some(new) = &row.addresses {
        let addresses = merged.addresses.get_or_insert_with(Vec::new);
        for address in new {
            let known = addresses.iter().any(|a| {
                a.line1.eq_ignore_ascii_case(&address.line1)
                    && a.postal_code.eq_ignore_ascii_case(&address.postal_code)
            });
            if !known {
                addresses.push(address.clone());
            }
        }
    }
    let mut draft = merged.validate(options.region, options.today)?;
    draft.created_channel = existing.created_channel;
    Ok(draft)
}

/// The top-level customer fields whose values differ.
fn changed_fields(before: &CustomerDraft, after: &CustomerDraft) -> Vec<String> {
    let (a, b) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    b.keys()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Parses, validates, matches and (unless a dry run or any row fails) writes a customer CSV.
pub async fn import_customers<R: Read>(
    store: &Store,
    input: R,
    options: &ImportOptions,
    actor: &Actor,
    now: Timestamp,
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ImportError::NoHeader);
    }
    let mapping = Mapping::new(&headers, &options.map)?;

    // Pass 1: parse and validate every row.
    let mut outcomes: BTreeMap<u64, RowOutcome> = BTreeMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match parse_row(line, &record, &mapping, options) {
            Ok(row) => rows.push(row),
            Err(e) => {
                outcomes.insert(line, error_outcome(e, &mapping));
            }
        }
    }

    // Pass 2: match against the file itself and the database.
    let mut seen_phone: HashMap<String, u64> = HashMap::new();
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_id: HashMap<(String, Option<String>), u64> = HashMap::new();
    let mut seen_name: HashMap<(String, String, Option<Date>), u64> = HashMap::new();
    let mut unique_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let keys = Keys::of(&row.draft);
        let duplicate = keys
            .phone
            .as_ref()
            .and_then(|k| seen_phone.get(k).map(|l| ("phone", *l)))
            .or_else(|| {
                keys.email
                    .as_ref()
                    .and_then(|k| seen_email.get(k).map(|l| ("email", *l)))
            })
            .or_else(|| {
                keys.id
                    .as_ref()
                    .and_then(|k| seen_id.get(k).map(|l| ("ID number", *l)))
            });
        let name_key = (
            row.draft.name.first.to_lowercase(),
            row.draft.name.last.to_lowercase(),
            row.draft.date_of_birth,
        );
        let duplicate = duplicate.or_else(|| {
            keys.is_empty()
                .then(|| {
                    seen_name
                        .get(&name_key)
                        .map(|l| ("name and date of birth", *l))
                })
                .flatten()
        });
        if let Some((what, first)) = duplicate {
            outcomes.insert(
                row.line,
                RowOutcome::Error {
                    column: None,
                    field: None,
                    code: "duplicate_in_file".into(),
                    message: format!("same {what} as line {first}"),
                },
            );
            continue;
        }
        if let Some(k) = keys.phone.clone() {
            seen_phone.insert(k, row.line);
        }
        if let Some(k) = keys.email.clone() {
            seen_email.insert(k, row.line);
        }
        if let Some(k) = keys.id.clone() {
            seen_id.insert(k, row.line);
        }
        if keys.is_empty() {
            seen_name.insert(name_key, row.line);
        }
        unique_rows.push((row, keys));
    }
    let rows = unique_rows;

    let phones: Vec<String> = rows.iter().filter_map(|(_, k)| k.phone.clone()).collect();
    let emails: Vec<String> = rows.iter().filter_map(|(_, k)| k.email.clone()).collect();
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|(_, k)| k.id.as_ref().map(|(n, _)| n.clone()))
        .collect();
    let mut existing: HashMap<CustomerId, Customer> = HashMap::new();
    for c in store.customers_by_keys(&phones, &emails, &ids).await? {
        existing.insert(c.id, c);
    }
    // Rows naming a Canopy customer by id land on that customer, or on the profile it was merged into.
    let named: Vec<CustomerId> = rows.iter().filter_map(|(r, _)| r.customer_id).collect();
    let resolved = store.resolve_customers(&named).await?;
    let mut survivors: Vec<CustomerId> = resolved
        .values()
        .copied()
        .filter(|id| !existing.contains_key(id))
        .collect();
    survivors.sort();
    survivors.dedup();
    for c in store.customers_by_ids(&survivors).await? {
        existing.insert(c.id, c);
    }
    let keyless_names: Vec<String> = rows
        .iter()
        .filter(|(_, k)| k.is_empty())
        .map(|(r, _)| r.draft.name.last.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let by_name = store.customers_by_last_names(&keyless_names).await?;
    let mut by_phone: HashMap<String, CustomerId> = HashMap::new();
    let mut by_email: HashMap<String, CustomerId> = HashMap::new();
    let mut by_id: HashMap<(String, Option<String>), CustomerId> = HashMap::new();
    for c in existing.values() {
        let k = Keys::of(&c.details);
        if let Some(p) = k.phone {
            by_phone.insert(p, c.id);
        }
        if let Some(e) = k.email {
            by_email.insert(e, c.id);
        }
        if let Some(i) = k.id {
            by_id.insert(i, c.id);
        }
    }
    let mut by_name_key: HashMap<(String, String, Option<Date>), Vec<CustomerId>> = HashMap::new();
    for c in by_name {
        if Keys::of(&c.details).is_empty() || c.details.date_of_birth.is_some() {
            let key = (
                c.details.name.first.to_lowercase(),
                c.details.name.last.to_lowercase(),
                c.details.date_of_birth,
            );
            by_name_key.entry(key).or_default().push(c.id);
            existing.insert(c.id, c);
        }
    }

    let mut matched: Vec<(Row, Option<CustomerId>)> = Vec::with_capacity(rows.len());
    let mut claimed: HashMap<CustomerId, u64> = HashMap::new();
    for (row, keys) in rows {
        let mut found: Vec<(&str, CustomerId)> = Vec::new();
        if let Some(id) = keys.phone.as_ref().and_then(|k| by_phone.get(k)) {
            found.push(("phone", *id));
        }
        if let Some(id) = keys.email.as_ref().and_then(|k| by_email.get(k)) {
            found.push(("email", *id));
        }
        if let Some(id) = keys.id.as_ref().and_then(|k| by_id.get(k)) {
            found.push(("ID number", *id));
        }
        let by_customer_id = row.customer_id.and_then(|id| resolved.get(&id));
        if let Some(id) = by_customer_id {
            found.push(("id", *id));
        }
        if keys.is_empty() && by_customer_id.is_none() {
            let key = (
                row.draft.name.first.to_lowercase(),
                row.draft.name.last.to_lowercase(),
                row.draft.date_of_birth,
            );
            match by_name_key.get(&key).map(Vec::as_slice) {
                Some([one]) => found.push(("name and date of birth", *one)),
                Some([_, _, ..]) => {
                    outcomes.insert(row.line, RowOutcome::Error {
                        column: None,
                        field: None,
                        code: "ambiguous_match".into(),
                        message: "several customers have this name and date of birth; add a phone, email or ID number".into(),
                    });
                    continue;
                }
                _ => {}
            }
        }
        let ids: HashSet<CustomerId> = found.iter().map(|(_, id)| *id).collect();
        if ids.len() > 1 {
            let detail: Vec<String> = found
                .iter()
                .map(|(what, id)| format!("{what} → {id}"))
                .collect();
            outcomes.insert(
                row.line,
                RowOutcome::Error {
                    column: None,
                    field: None,
                    code: "ambiguous_match".into(),
                    message: format!(
                        "the row matches different customers ({})",
                        detail.join(", ")
                    ),
                },
            );
            continue;
        }
        let target = ids.into_iter().next();
        if let Some(id) = target
            && let Some(first) = claimed.insert(id, row.line)
        {
            outcomes.insert(
                row.line,
                RowOutcome::Error {
                    column: None,
                    field: None,
                    code: "duplicate_in_file".into(),
                    message: format!("matches the same customer ({id}) as line {first}"),
                },
            );
            continue;
        }
        matched.push((row, target));
    }

    // Likely duplicates: a new person who looks like a live profile (by the bulk scan's blocking keys and
    // the intake's score) is a row error, unless staff said the file's new people are different people.
    let new_drafts: Vec<&CustomerDraft> = matched
        .iter()
        .filter(|(_, target)| target.is_none())
        .map(|(row, _)| &row.draft)
        .collect();
    let mut likely = store
        .likely_duplicates_of_new(&new_drafts)
        .await?
        .into_iter();
    let mut dismiss_for_line: HashMap<u64, Vec<CustomerId>> = HashMap::new();
    let mut unique_matched = Vec::with_capacity(matched.len());
    for (row, target) in matched {
        if target.is_none() {
            let candidates = likely.next().unwrap_or_default();
            if let Some(best) = candidates.first() {
                if !options.different_people {
                    let c = &best.customer;
                    outcomes.insert(
                        row.line,
                        RowOutcome::Error {
                            column: None,
                            field: None,
                            code: "likely_duplicate".into(),
                            message: format!(
                                "likely the same person as customer {} ({} {}): {}; add that customer's \
                                 phone, email or id to the row, or import with different_people if they \
                                 are not",
                                c.id,
                                c.details.name.first,
                                c.details.name.last,
                                best.score.explanation
                            ),
                        },
                    );
                    continue;
                }
                dismiss_for_line
                    .insert(row.line, candidates.iter().map(|d| d.customer.id).collect());
            }
        }
        unique_matched.push((row, target));
    }
    let matched = unique_matched;

    // Pass 3: decide each row's changes.
    let matched_ids: Vec<CustomerId> = matched.iter().filter_map(|(_, id)| *id).collect();
    let notes = store.note_bodies(&matched_ids).await?;
    let consents = store.latest_consents(&matched_ids).await?;
    let mut known = Known::load(store, &matched_ids).await?;
    let mut plan = CustomerImport {
        source: options.source.clone(),
        ..CustomerImport::default()
    };
    for (row, target) in matched {
        let name = row.name();
        let (customer_id, mut changes) = match target {
            None => {
                let id = CustomerId::new();
                for existing in dismiss_for_line.remove(&row.line).unwrap_or_default() {
                    plan.dismissals.push((id, existing));
                }
                plan.creates.push(NewCustomerRecord {
                    id,
                    draft: row.draft.clone(),
                    created_at: now,
                    ban: None,
                    notes: row
                        .note
                        .iter()
                        .map(|n| (actor.label.clone(), n.clone()))
                        .collect(),
                });
                (id, None)
            }
            Some(id) => {
                let Some(customer) = existing.get(&id) else {
                    continue;
                };
                let merged = match overlay(&customer.details, &row.patch, options) {
                    Ok(d) => d,
                    Err(e) => {
                        outcomes.insert(
                            row.line,
                            error_outcome(RowError::from_field_error(e, false), &mapping),
                        );
                        continue;
                    }
                };
                let mut changes = changed_fields(&customer.details, &merged);
                if !changes.is_empty() {
                    let diff = canopy_store::audit_diff(
                        &serde_json::to_value(&customer.details).unwrap_or_default(),
                        &serde_json::to_value(&merged).unwrap_or_default(),
                    );
                    plan.updates.push((id, merged, diff));
                }
                if let Some(note) = &row.note {
                    let known = notes
                        .get(&id)
                        .is_some_and(|bodies| bodies.iter().any(|b| b == note));
                    if !known {
                        plan.notes.push((id, actor.label.clone(), note.clone()));
                        changes.push("notes".into());
                    }
                }
                (id, Some(changes))
            }
        };
        for (channel, wanted, column) in [
            (ConsentChannel::Sms, &row.sms_opt_in, Field::SmsOptIn),
            (ConsentChannel::Email, &row.email_opt_in, Field::EmailOptIn),
        ] {
            let Some((granted, raw)) = wanted else {
                continue;
            };
            let current = consents
                .get(&(customer_id, channel, ConsentPurpose::Marketing))
                .copied();
            let status = if *granted {
                ConsentStatus::Granted
            } else {
                ConsentStatus::Revoked
            };
            let differs = match status {
                ConsentStatus::Granted => current != Some(ConsentStatus::Granted),
                ConsentStatus::Revoked => current == Some(ConsentStatus::Granted),
            };
            if differs {
                let evidence = format!(
                    "{}: {raw}",
                    mapping
                        .column_of(column)
                        .map(|i| mapping.headers[i].as_str())
                        .unwrap_or(column.name())
                );
                plan.consents.push((
                    customer_id,
                    ConsentChange {
                        channel,
                        purpose: ConsentPurpose::Marketing,
                        status,
                        source: ConsentSource::Import,
                        disclosure_version: Some(options.consent_disclosure.clone()),
                        address: None,
                        evidence: Some(evidence),
                    },
                ));
                if let Some(changes) = changes.as_mut() {
                    changes.push(column.name().to_string());
                }
            }
        }
        let points_added = known.plan_points(&mut plan, customer_id, row.points);
        let groups_added = known.plan_groups(&mut plan, customer_id, &row.groups);
        if let Some(changes) = changes.as_mut() {
            if points_added {
                changes.push(Field::LoyaltyPoints.name().to_string());
            }
            if groups_added {
                changes.push(Field::Groups.name().to_string());
            }
        }
        let outcome = match changes {
            None => RowOutcome::Create { customer_id, name },
            Some(changes) if changes.is_empty() => RowOutcome::Unchanged { customer_id, name },
            Some(changes) => RowOutcome::Update {
                customer_id,
                name,
                changes,
            },
        };
        outcomes.insert(row.line, outcome);
    }

    let rows: Vec<RowReport> = outcomes
        .into_iter()
        .map(|(line, outcome)| RowReport { line, outcome })
        .collect();
    let mut summary = Summary {
        rows: rows.len(),
        opening_balances: plan.opening_balances.len(),
        groups_created: plan.new_groups.len(),
        memberships: plan.memberships.len(),
        ..Summary::default()
    };
    for r in &rows {
        match r.outcome {
            RowOutcome::Create { .. } => summary.created += 1,
            RowOutcome::Update { .. } => summary.updated += 1,
            RowOutcome::Unchanged { .. } => summary.unchanged += 1,
            RowOutcome::Error { .. } => summary.errors += 1,
        }
    }
    let written = if options.dry_run || summary.errors > 0 || plan.is_empty() {
        false
    } else {
        store.apply_customer_import(&plan, actor, now).await?;
        true
    };
    Ok(ImportReport {
        dry_run: options.dry_run,
        written,
        summary,
        rows,
        unmapped_columns: mapping.unmapped(),
        new_groups: plan.new_groups.into_iter().map(|(_, name)| name).collect(),
        warnings: Vec::new(),
    })
}

/// What the database already holds for the matched customers beyond their details, and the groups by
/// name, so a row that brings nothing new (a second run of the same file) plans nothing.
struct Known {
    /// Customers who already have an opening loyalty balance (there is one per customer, ever).
    opening_balances: HashSet<CustomerId>,
    /// Existing memberships of the matched customers, and those planned so far.
    memberships: HashSet<(GroupId, CustomerId)>,
    /// Existing and planned groups by lower-case name: names match whatever their case.
    groups: HashMap<String, GroupId>,
}

impl Known {
    async fn load(store: &Store, matched: &[CustomerId]) -> Result<Known, StoreError> {
        Ok(Known {
            opening_balances: store.customers_with_opening_balance(matched).await?,
            memberships: store.group_memberships(matched).await?,
            groups: store
                .group_names()
                .await?
                .into_iter()
                .map(|(id, name)| (name.to_lowercase(), id))
                .collect(),
        })
    }

    /// Plans the row's opening balance; true when one will be written (0 points writes nothing, and a
    /// customer who already has an opening balance keeps it).
    fn plan_points(
        &self,
        plan: &mut CustomerImport,
        customer: CustomerId,
        points: Option<i64>,
    ) -> bool {
        match points {
            Some(points) if points > 0 && !self.opening_balances.contains(&customer) => {
                plan.opening_balances.push((customer, points));
                true
            }
            _ => false,
        }
    }

    /// Plans the row's memberships, and the groups no one has created yet; true when any membership is new.
    fn plan_groups(
        &mut self,
        plan: &mut CustomerImport,
        customer: CustomerId,
        names: &[String],
    ) -> bool {
        let mut added = false;
        for name in names {
            let group = *self.groups.entry(name.to_lowercase()).or_insert_with(|| {
                let id = GroupId::new();
                plan.new_groups.push((id, name.clone()));
                id
            });
            if self.memberships.insert((group, customer)) {
                plan.memberships.push((group, customer));
                added = true;
            }
        }
        added
    }
}

fn error_outcome(e: RowError, mapping: &Mapping) -> RowOutcome {
    RowOutcome::Error {
        column: e
            .field
            .and_then(|f| mapping.column_of(f))
            .map(|i| mapping.headers[i].clone()),
        field: e.domain_field,
        code: e.code,
        message: e.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_usual_export_formats_normalise() {
        assert_eq!(normalise_date("1990-04-02").as_deref(), Some("1990-04-02"));
        assert_eq!(normalise_date("04/02/1990").as_deref(), Some("1990-04-02"));
        assert_eq!(normalise_date("4/2/1990").as_deref(), Some("1990-04-02"));
        assert_eq!(
            normalise_date("1990/04/02 00:00:00").as_deref(),
            Some("1990-04-02")
        );
        assert_eq!(normalise_date("02/30/1990"), None);
        assert_eq!(
            normalise_date("4/2/90"),
            None,
            "two-digit years are ambiguous"
        );
    }

    #[test]
    fn a_quote_that_guarded_a_formula_is_removed_on_the_way_back_in() {
        let record = csv::StringRecord::from(vec!["'+13035550142", "'hello", "  "]);
        assert_eq!(cell(&record, Some(0)).as_deref(), Some("+13035550142"));
        assert_eq!(cell(&record, Some(1)).as_deref(), Some("'hello"));
        assert_eq!(cell(&record, Some(2)), None);
    }
}
