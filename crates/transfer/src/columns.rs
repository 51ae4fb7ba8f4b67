//! Which CSV column feeds which customer field. Other POS systems name their columns differently
//! ("Mobile", "Cell Phone", "DOB", "Zip"), so each field has aliases; `--map Column=field` overrides them.

use std::fmt;

/// A customer field an import can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// A Canopy customer id (our own export's `id`): the row lands on that customer, or on the profile it
    /// was merged into. Ids from other systems (not a Canopy id, or naming no customer) are ignored.
    CustomerId,
    FirstName,
    MiddleName,
    LastName,
    PreferredName,
    /// "Sarah Miller" in one column, split at the last space when first/last are not mapped.
    FullName,
    Phone,
    Email,
    DateOfBirth,
    CustomerType,
    IdNumber,
    IdKind,
    IdJurisdiction,
    IdExpiry,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    Country,
    LoyaltyPoints,
    Groups,
    Notes,
    SmsOptIn,
    EmailOptIn,
    /// Read nothing from this column.
    Ignore,
}

/// (field, canonical name, aliases). Aliases are compared lower-cased with everything but letters and
/// digits removed, so "E-mail Address" matches `emailaddress`.
const FIELDS: &[(Field, &str, &[&str])] = &[
    (
        Field::CustomerId,
        "id",
        &["id", "customerid", "canopyid", "canopycustomerid"],
    ),
    (
        Field::FirstName,
        "first_name",
        &["first", "firstname", "fname", "givenname", "given"],
    ),
    (
        Field::MiddleName,
        "middle_name",
        &["middle", "middlename", "mi", "middleinitial"],
    ),
    (
        Field::LastName,
        "last_name",
        &["last", "lastname", "lname", "surname", "familyname"],
    ),
    (
        Field::PreferredName,
        "preferred_name",
        &["preferred", "preferredname", "nickname"],
    ),
    (
        Field::FullName,
        "name",
        &["name", "fullname", "customername", "customer"],
    ),
    (
        Field::Phone,
        "phone",
        &[
            "phone",
            "phonenumber",
            "mobile",
            "mobilephone",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "mobilenumber",
        ],
    ),
    (Field::Email, "email", &["email", "emailaddress", "mail"]),
    (
        Field::DateOfBirth,
        "date_of_birth",
        &[
            "dob",
            "dateofbirth",
            "birthdate",
            "birthday",
            "birthdateymd",
        ],
    ),
    (
        Field::CustomerType,
        "customer_type",
        &["customertype", "type", "patienttype", "medicalrec"],
    ),
    (
        Field::IdNumber,
        "id_number",
        &[
            "idnumber",
            "licensenumber",
            "license",
            "dlnumber",
            "driverslicense",
            "driverslicensenumber",
            "documentnumber",
        ],
    ),
    (
        Field::IdKind,
        "id_kind",
        &["idkind", "idtype", "documenttype"],
    ),
    (
        Field::IdJurisdiction,
        "id_jurisdiction",
        &[
            "idjurisdiction",
            "idstate",
            "licensestate",
            "issuingstate",
            "dlstate",
        ],
    ),
    (
        Field::IdExpiry,
        "id_expiry",
        &[
            "idexpiry",
            "idexpiration",
            "idexpirationdate",
            "licenseexpiration",
            "dlexpiration",
            "expirationdate",
        ],
    ),
    (
        Field::AddressLine1,
        "address_line1",
        &[
            "address",
            "address1",
            "addressline1",
            "street",
            "streetaddress",
        ],
    ),
    (
        Field::AddressLine2,
        "address_line2",
        &["address2", "addressline2", "apt", "unit", "suite"],
    ),
    (Field::City, "city", &["city", "town"]),
    (Field::State, "state", &["state", "province", "region"]),
    (
        Field::PostalCode,
        "postal_code",
        &["zip", "zipcode", "postalcode", "postcode"],
    ),
    (Field::Country, "country", &["country", "countrycode"]),
    (
        Field::LoyaltyPoints,
        "loyalty_points",
        &[
            "points",
            "loyaltypoints",
            "loyaltybalance",
            "pointsbalance",
            "rewardspoints",
            "rewards",
        ],
    ),
    (
        Field::Groups,
        "groups",
        &["groups", "group", "customergroups", "tags", "segments"],
    ),
    (
        Field::Notes,
        "notes",
        &["notes", "note", "comments", "comment"],
    ),
    (
        Field::SmsOptIn,
        "sms_opt_in",
        &[
            "smsoptin",
            "textoptin",
            "smsconsent",
            "textconsent",
            "smsmarketing",
            "acceptstexts",
        ],
    ),
    (
        Field::EmailOptIn,
        "email_opt_in",
        &[
            "emailoptin",
            "emailconsent",
            "emailmarketing",
            "acceptsemail",
            "acceptsemails",
        ],
    ),
    (Field::Ignore, "ignore", &[]),
];

impl Field {
    pub fn name(self) -> &'static str {
        FIELDS
            .iter()
            .find(|(f, ..)| *f == self)
            .map(|(_, name, _)| *name)
            .unwrap_or("ignore")
    }

    /// A canonical name as `--map` takes it.
    pub fn parse(name: &str) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(_, n, _)| *n == name.trim())
            .map(|(f, ..)| *f)
    }

    /// The field a header names by default, if any.
    fn from_header(header: &str) -> Option<Field> {
        let key: String = header
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        FIELDS
            .iter()
            .find(|(_, name, aliases)| {
                name.replace('_', "") == key || aliases.contains(&key.as_str())
            })
            .map(|(f, ..)| *f)
    }

    pub fn all_names() -> String {
        FIELDS
            .iter()
            .map(|(_, n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A problem with the header row or the mapping: nothing can be imported until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("--map {0}: expected COLUMN=FIELD")]
    BadOverride(String),
    #[error("--map {column}={field}: unknown field (fields: {all})", all = Field::all_names())]
    UnknownField { column: String, field: String },
    #[error("--map {0}: the file has no such column")]
    UnknownColumn(String),
    #[error(
        "columns '{first}' and '{second}' both map to {field}; choose one with --map \"{second}=ignore\""
    )]
    Ambiguous {
        field: Field,
        first: String,
        second: String,
    },
    #[error("no column holds the customer's name: map first_name and last_name (or name)")]
    NoName,
}

/// The header row resolved to fields.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Per column: the field it feeds.
    pub columns: Vec<Option<Field>>,
    pub headers: Vec<String>,
}

impl Mapping {
    /// Resolves `headers` with the default aliases, then `overrides` (`COLUMN=FIELD`, column names as in
    /// the file, case-insensitive).
    pub fn new(headers: &[String], overrides: &[String]) -> Result<Mapping, MappingError> {
        let mut columns: Vec<Option<Field>> =
            headers.iter().map(|h| Field::from_header(h)).collect();
        for raw in overrides {
            let (column, field) = raw
                .split_once('=')
                .ok_or_else(|| MappingError::BadOverride(raw.clone()))?;
            let target = Field::parse(field).ok_or_else(|| MappingError::UnknownField {
                column: column.to_string(),
                field: field.to_string(),
            })?;
            let index = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(column.trim()))
                .ok_or_else(|| MappingError::UnknownColumn(column.to_string()))?;
            columns[index] = Some(target);
        }
        for (i, field) in columns.iter().enumerate() {
            let Some(field) = field.filter(|f| *f != Field::Ignore) else {
                continue;
            };
            if let Some(j) = columns[i + 1..].iter().position(|f| *f == Some(field)) {
                return Err(MappingError::Ambiguous {
                    field,
                    first: headers[i].clone(),
                    second: headers[i + 1 + j].clone(),
                });
            }
        }
        let has = |f: Field| columns.contains(&Some(f));
        if !(has(Field::FullName) || (has(Field::FirstName) && has(Field::LastName))) {
            return Err(MappingError::NoName);
        }
        Ok(Mapping {
            columns,
            headers: headers.to_vec(),
        })
    }

    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|f| *f == Some(field))
    }

    /// Columns that feed nothing, to tell the operator what was left behind.
    pub fn unmapped(&self) -> Vec<String> {
        self.headers
            .iter()
            .zip(&self.columns)
            .filter(|(h, f)| f.is_none() && !h.trim().is_empty())
            .map(|(h, _)| h.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn common_headers_from_other_systems_map_without_help() {
        let m = Mapping::new(
            &headers(&[
                "First Name",
                "Last Name",
                "Mobile",
                "E-mail Address",
                "DOB",
                "Zip",
                "Loyalty Balance",
                "Favourite Strain",
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(
            m.columns,
            vec![
                Some(Field::FirstName),
                Some(Field::LastName),
                Some(Field::Phone),
                Some(Field::Email),
                Some(Field::DateOfBirth),
                Some(Field::PostalCode),
                Some(Field::LoyaltyPoints),
                None
            ]
        );
        assert_eq!(m.unmapped(), vec!["Favourite Strain"]);
    }

    #[test]
    fn overrides_win_and_can_ignore_a_column() {
        let m = Mapping::new(
            &headers(&["fname", "lname", "Phone", "Cell"]),
            &["Phone=ignore".into(), "CELL=phone".into()],
        )
        .unwrap();
        assert_eq!(m.column_of(Field::Phone), Some(3));
    }

    #[test]
    fn two_columns_for_one_field_or_no_name_are_refused() {
        let err = Mapping::new(&headers(&["first", "last", "Phone", "Cell"]), &[]).unwrap_err();
        assert!(matches!(
            err,
            MappingError::Ambiguous {
                field: Field::Phone,
                ..
            }
        ));
        assert_eq!(
            Mapping::new(&headers(&["Phone"]), &[]).unwrap_err(),
            MappingError::NoName
        );
        assert!(matches!(
            Mapping::new(&headers(&["first", "last"]), &["first=given".into()]).unwrap_err(),
            MappingError::UnknownField { .. }
        ));
    }
}
