//! The customer record and the one place raw input becomes a valid customer.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::text::{optional, required};
use crate::{CustomerId, Email, FieldError, NoteId, PhoneNumber, Region};

/// What the law treats the customer as. Medical patients and caregivers get different limits and ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerType {
    #[default]
    AdultUse,
    Medical,
    Caregiver,
}

impl CustomerType {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerType::AdultUse => "adult_use",
            CustomerType::Medical => "medical",
            CustomerType::Caregiver => "caregiver",
        }
    }

    pub fn parse(value: &str) -> Option<CustomerType> {
        match value {
            "adult_use" | "adult-use" => Some(CustomerType::AdultUse),
            "medical" => Some(CustomerType::Medical),
            "caregiver" => Some(CustomerType::Caregiver),
            _ => None,
        }
    }
}

/// Where the profile was first created; kept so a store can see which channel brings customers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Pos,
    Online,
    #[default]
    BackOffice,
    Import,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Pos => "pos",
            Channel::Online => "online",
            Channel::BackOffice => "back_office",
            Channel::Import => "import",
        }
    }

    pub fn parse(value: &str) -> Option<Channel> {
        match value {
            "pos" => Some(Channel::Pos),
            "online" => Some(Channel::Online),
            "back_office" => Some(Channel::BackOffice),
            "import" => Some(Channel::Import),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdDocumentKind {
    DriversLicense,
    StateId,
    Passport,
    MilitaryId,
    TribalId,
    Other,
}

/// The government ID the customer showed. `number_key` (upper-case, letters and digits only) is what
/// duplicate detection and lookup compare, because scanners and humans disagree on dashes and spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdDocument {
    pub kind: IdDocumentKind,
    pub number: String,
    pub jurisdiction: Option<String>,
    pub expiry: Option<Date>,
}

impl IdDocument {
    pub fn number_key(&self) -> String {
        id_number_key(&self.number)
    }
}

/// The comparable form of an ID number.
pub fn id_number_key(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub label: Option<String>,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    #[serde(default = "default_country")]
    pub country: String,
    #[serde(default)]
    pub delivery_instructions: Option<String>,
}

fn default_country() -> String {
    "US".to_string()
}

impl Address {
    fn validated(self, at: &str) -> Result<Address, FieldError> {
        let within = |e: FieldError| e.within(at);
        Ok(Address {
            label: optional("label", self.label.as_deref(), 40).map_err(within)?,
            line1: required("line1", &self.line1, 200).map_err(within)?,
            line2: optional("line2", self.line2.as_deref(), 200).map_err(within)?,
            city: required("city", &self.city, 100).map_err(within)?,
            region: required("region", &self.region, 50).map_err(within)?,
            postal_code: required("postal_code", &self.postal_code, 20).map_err(within)?,
            country: required("country", &self.country, 2)
                .map_err(within)?
                .to_ascii_uppercase(),
            delivery_instructions: optional(
                "delivery_instructions",
                self.delivery_instructions.as_deref(),
                500,
            )
            .map_err(within)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub first: String,
    pub middle: Option<String>,
    pub last: String,
    pub preferred: Option<String>,
}

impl PersonName {
    /// How staff greet the customer: preferred name if set, and the last initial ("Sarah M.").
    pub fn greeting(&self) -> String {
        let first = self.preferred.as_deref().unwrap_or(&self.first);
        match self.last.chars().next() {
            Some(initial) => format!("{first} {initial}."),
            None => first.to_string(),
        }
    }

    /// Every name word in lower case, for search indexes.
    pub fn search_text(&self) -> String {
        [
            Some(self.first.as_str()),
            self.middle.as_deref(),
            Some(self.last.as_str()),
            self.preferred.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
    }
}

/// A ban keeps the record (for compliance) but blocks every transaction while it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub reason: String,
    pub note: Option<String>,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    pub by: Option<String>,
}

impl Ban {
    pub fn in_force_at(&self, at: Timestamp) -> bool {
        self.since <= at && self.until.is_none_or(|until| at < until)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub customer_id: CustomerId,
    pub body: String,
    pub author: String,
    pub created_at: Timestamp,
}

/// A stored customer. It only comes from storage or from a validated [`CustomerDraft`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    #[serde(flatten)]
    pub details: CustomerDraft,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub ban: Option<Ban>,
}

impl Customer {
    pub fn banned_at(&self, at: Timestamp) -> bool {
        self.ban.as_ref().is_some_and(|ban| ban.in_force_at(at))
    }
}

/// Valid customer details, not yet (or not necessarily) stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerDraft {
    #[serde(flatten, serialize_with = "serialize_name")]
    pub name: PersonName,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub date_of_birth: Option<Date>,
    pub customer_type: CustomerType,
    pub addresses: Vec<Address>,
    pub id_document: Option<IdDocument>,
    pub created_channel: Channel,
}

fn serialize_name<S: serde::Serializer>(name: &PersonName, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(4))?;
    map.serialize_entry("first_name", &name.first)?;
    map.serialize_entry("middle_name", &name.middle)?;
    map.serialize_entry("last_name", &name.last)?;
    map.serialize_entry("preferred_name", &name.preferred)?;
    map.end()
}

/// Raw customer fields as a client sends them. Every field is optional here so that one type serves
/// create (checked for required fields) and JSON-merge-patch updates (applied over the stored record first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub date_of_birth: Option<String>,
    pub customer_type: Option<String>,
    pub addresses: Option<Vec<Address>>,
    pub id_document: Option<IdDocumentInput>,
    pub created_channel: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdDocumentInput {
    pub kind: Option<String>,
    pub number: Option<String>,
    pub jurisdiction: Option<String>,
    pub expiry: Option<String>,
}

impl From<&CustomerDraft> for CustomerPatch {
    fn from(d: &CustomerDraft) -> Self {
        CustomerPatch {
            first_name: Some(d.name.first.clone()),
            middle_name: d.name.middle.clone(),
            last_name: Some(d.name.last.clone()),
            preferred_name: d.name.preferred.clone(),
            phone: d.phone.as_ref().map(|p| p.as_str().to_string()),
            email: d.email.as_ref().map(|e| e.as_str().to_string()),
            date_of_birth: d.date_of_birth.map(|d| d.to_string()),
            customer_type: Some(d.customer_type.as_str().to_string()),
            addresses: Some(d.addresses.clone()),
            id_document: d.id_document.as_ref().map(|doc| IdDocumentInput {
                kind: serde_json::to_value(doc.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string)),
                number: Some(doc.number.clone()),
                jurisdiction: doc.jurisdiction.clone(),
                expiry: doc.expiry.map(|d| d.to_string()),
            }),
            created_channel: Some(d.created_channel.as_str().to_string()),
        }
    }
}

impl CustomerPatch {
    /// The single gate from raw input to a valid draft. `today` is the store's local date, used to refuse
    /// birth dates in the future. Stops at the first invalid field; see [`CustomerPatch::validate_all`].
    pub fn validate(self, region: Region, today: Date) -> Result<CustomerDraft, FieldError> {
        self.validate_all(region, today)
            .map_err(|mut errors| errors.swap_remove(0))
    }

    /// Like [`CustomerPatch::validate`], but refuses with every invalid field at once (in form order,
    /// never empty), so a form can mark them all after one submit instead of one per submit.
    pub fn validate_all(
        self,
        region: Region,
        today: Date,
    ) -> Result<CustomerDraft, Vec<FieldError>> {
        fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let mut errors = Vec::new();
        let first = keep(
            &mut errors,
            required("first_name", self.first_name.as_deref().unwrap_or(""), 100),
        );
        let middle = keep(
            &mut errors,
            optional("middle_name", self.middle_name.as_deref(), 100),
        );
        let last = keep(
            &mut errors,
            required("last_name", self.last_name.as_deref().unwrap_or(""), 100),
        );
        let preferred = keep(
            &mut errors,
            optional("preferred_name", self.preferred_name.as_deref(), 100),
        );
        let phone = keep(
            &mut errors,
            match self.phone.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(p) => PhoneNumber::parse(p, region).map(Some),
            },
        );
        let email = keep(
            &mut errors,
            match self.email.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(e) => Email::parse(e).map(Some),
            },
        );
        let date_of_birth = keep(
            &mut errors,
            match self.date_of_birth.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(raw) => parse_birth_date(raw, today).map(Some),
            },
        );
        let customer_type = keep(
            &mut errors,
            match self.customer_type.as_deref() {
                None => Ok(CustomerType::default()),
                Some(raw) => CustomerType::parse(raw).ok_or_else(|| {
                    FieldError::new(
                        "customer_type",
                        "invalid_choice",
                        "customer_type must be adult_use, medical or caregiver",
                    )
                }),
            },
        );
        let addresses = self.addresses.unwrap_or_default();
        let addresses =
            match crate::bounds::list("addresses", addresses.len(), crate::bounds::MAX_ADDRESSES) {
                Err(e) => {
                    errors.push(e);
                    None
                }
                Ok(()) => {
                    let mut valid = Vec::with_capacity(addresses.len());
                    for (i, a) in addresses.into_iter().enumerate() {
                        match a.validated(&format!("addresses[{i}]")) {
                            Ok(a) => valid.push(a),
                            Err(e) => errors.push(e),
                        }
                    }
                    Some(valid)
                }
            };
        let id_document = keep(
            &mut errors,
            self.id_document.map(IdDocumentInput::validated).transpose(),
        );
        let created_channel = match self.created_channel.as_deref() {
            None => Some(Channel::default()),
            Some(raw) => match Channel::parse(raw) {
                Some(c) => Some(c),
                None => {
                    errors.push(FieldError::new(
                        "created_channel",
                        "invalid_choice",
                        "created_channel must be pos, online, back_office or import",
                    ));
                    None
                }
            },
        };
        match (
            first,
            middle,
            last,
            preferred,
            phone,
            email,
            date_of_birth,
            customer_type,
            addresses,
            id_document,
            created_channel,
        ) {
            (
                Some(first),
                Some(middle),
                Some(last),
                Some(preferred),
                Some(phone),
                Some(email),
                Some(date_of_birth),
                Some(customer_type),
                Some(addresses),
                Some(id_document),
                Some(created_channel),
            ) if errors.is_empty() => Ok(CustomerDraft {
                name: PersonName {
                    first,
                    middle,
                    last,
                    preferred,
                },
                phone,
                email,
                date_of_birth,
                customer_type,
                addresses,
                id_document,
                created_channel,
            }),
            _ => Err(errors),
        }
    }
}

impl IdDocumentInput {
    fn validated(self) -> Result<IdDocument, FieldError> {
        let within = |e: FieldError| e.within("id_document");
        let kind_raw = self.kind.as_deref().unwrap_or("drivers_license");
        let kind: IdDocumentKind = serde_json::from_value(serde_json::Value::String(
            kind_raw.to_string(),
        ))
        .map_err(|_| {
            within(FieldError::new(
                "kind",
                "invalid_choice",
                "kind must be drivers_license, state_id, passport, military_id, tribal_id or other",
            ))
        })?;
        let number =
            required("number", self.number.as_deref().unwrap_or(""), 40).map_err(within)?;
        if id_number_key(&number).is_empty() {
            return Err(within(FieldError::new(
                "number",
                "invalid_id_number",
                "number must contain letters or digits",
            )));
        }
        let jurisdiction = optional("jurisdiction", self.jurisdiction.as_deref(), 10)
            .map_err(within)?
            .map(|j| j.to_ascii_uppercase());
        let expiry = match self.expiry.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<Date>().map_err(|_| {
                within(FieldError::new(
                    "expiry",
                    "invalid_date",
                    "expiry must be a date as YYYY-MM-DD",
                ))
            })?),
        };
        Ok(IdDocument {
            kind,
            number,
            jurisdiction,
            expiry,
        })
    }
}

fn parse_birth_date(raw: &str, today: Date) -> Result<Date, FieldError> {
    let date: Date = raw.parse().map_err(|_| {
        FieldError::new(
            "date_of_birth",
            "invalid_date",
            "date_of_birth must be a date as YYYY-MM-DD",
        )
    })?;
    if date > today {
        return Err(FieldError::new(
            "date_of_birth",
            "invalid_date",
            "date_of_birth is in the future",
        ));
    }
    if today.year() - date.year() > 130 {
        return Err(FieldError::new(
            "date_of_birth",
            "invalid_date",
            "date_of_birth is more than 130 years ago",
        ));
    }
    Ok(date)
}

/// Whole years between `dob` and `on`, counting a 29 February birthday as reached on 1 March in common years.
pub fn age_on(dob: Date, on: Date) -> i16 {
    let mut years = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn input() -> CustomerPatch {
        CustomerPatch {
            first_name: Some(" Sarah ".into()),
            last_name: Some("Miller".into()),
            phone: Some("(303) 555-0142".into()),
            email: Some("Sarah@Example.com".into()),
            date_of_birth: Some("1998-02-11".into()),
            ..Default::default()
        }
    }

    #[test]
    fn every_invalid_field_is_reported_at_once_in_form_order() {
        let patch = CustomerPatch {
            first_name: Some("  ".into()),
            phone: Some("12".into()),
            email: Some("not-an-email".into()),
            date_of_birth: Some("2099-01-01".into()),
            ..input()
        };
        let errors = patch
            .clone()
            .validate_all(Region::US, date(2026, 11, 23))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["first_name", "phone", "email", "date_of_birth"]);
        // The one-error form reports the first of them.
        let first = patch.validate(Region::US, date(2026, 11, 23)).unwrap_err();
        assert_eq!(
            (first.field.as_str(), first.code),
            ("first_name", "required")
        );
    }

    #[test]
    fn a_valid_input_becomes_a_normalised_draft() {
        let draft = input().validate(Region::US, date(2026, 11, 23)).unwrap();
        assert_eq!(draft.name.first, "Sarah");
        assert_eq!(draft.phone.unwrap().as_str(), "+13035550142");
        assert_eq!(draft.email.unwrap().key(), "sarah@example.com");
        assert_eq!(draft.customer_type, CustomerType::AdultUse);
    }

    #[test]
    fn a_missing_last_name_names_the_field() {
        let err = CustomerPatch {
            last_name: None,
            ..input()
        }
        .validate(Region::US, date(2026, 1, 1))
        .unwrap_err();
        assert_eq!((err.field.as_str(), err.code), ("last_name", "required"));
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        let err = CustomerPatch {
            date_of_birth: Some("2030-01-01".into()),
            ..input()
        }
        .validate(Region::US, date(2026, 1, 1))
        .unwrap_err();
        assert_eq!(err.field, "date_of_birth");
    }

    #[test]
    fn address_errors_point_at_the_address() {
        let bad = Address {
            label: None,
            line1: " ".into(),
            line2: None,
            city: "Denver".into(),
            region: "CO".into(),
            postal_code: "80202".into(),
            country: "US".into(),
            delivery_instructions: None,
        };
        let err = CustomerPatch {
            addresses: Some(vec![bad]),
            ..input()
        }
        .validate(Region::US, date(2026, 1, 1))
        .unwrap_err();
        assert_eq!(err.field, "addresses[0].line1");
    }

    #[test]
    fn age_counts_whole_years_and_leap_day_birthdays() {
        assert_eq!(age_on(date(2005, 11, 24), date(2026, 11, 23)), 20);
        assert_eq!(age_on(date(2005, 11, 23), date(2026, 11, 23)), 21);
        assert_eq!(age_on(date(2004, 2, 29), date(2025, 2, 28)), 20);
        assert_eq!(age_on(date(2004, 2, 29), date(2025, 3, 1)), 21);
    }

    #[test]
    fn a_ban_with_an_end_date_lapses() {
        let since: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let until: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
        let ban = Ban {
            reason: "theft".into(),
            note: None,
            since,
            until: Some(until),
            by: None,
        };
        assert!(ban.in_force_at("2026-01-15T00:00:00Z".parse().unwrap()));
        assert!(!ban.in_force_at(until));
    }

    #[test]
    fn id_numbers_compare_without_punctuation() {
        assert_eq!(id_number_key("s-658 074.12"), "S65807412");
    }
}
