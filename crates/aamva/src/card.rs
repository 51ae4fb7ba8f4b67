//! The parsed card and the mapping from elements to its fields.

use jiff::civil::Date;
use serde::Serialize;

use crate::address;
use crate::dates;
use crate::elements::Body;
use crate::error::ParseError;
use crate::header::{Header, SubfileDesignator};
use crate::jurisdiction::{self, Country};
use crate::names::{self, NameParts};
use crate::raw::Elements;

/// Sex as printed on the card (`DBC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Sex {
    /// `1`, or `M` on AAMVA-2000 cards.
    #[serde(rename = "M")]
    Male,
    /// `2`, or `F` on AAMVA-2000 cards.
    #[serde(rename = "F")]
    Female,
    /// `9` ("not specified", 2020 edition) or `X`: the card deliberately
    /// states neither, which is different from an unreadable field.
    #[serde(rename = "X")]
    Unspecified,
}

impl Sex {
    fn from_code(raw: &str) -> Option<Self> {
        let code = raw.trim();
        let is = |s: &str| code.eq_ignore_ascii_case(s);
        if is("1") || is("M") || is("MALE") {
            Some(Sex::Male)
        } else if is("2") || is("F") || is("FEMALE") {
            Some(Sex::Female)
        } else if is("9") || is("X") {
            Some(Sex::Unspecified)
        } else {
            None
        }
    }
}

/// Kind of document, from the subfile type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DocumentType {
    /// `DL`: driver licence.
    #[serde(rename = "DL")]
    DriverLicense,
    /// `ID`: non-driver identification card.
    #[serde(rename = "ID")]
    IdCard,
    /// `EN`: enhanced driver licence (2020 edition).
    #[serde(rename = "EN")]
    EnhancedDriverLicense,
}

impl DocumentType {
    fn from_type(t: &[u8]) -> Option<Self> {
        match t {
            b"DL" => Some(DocumentType::DriverLicense),
            b"ID" => Some(DocumentType::IdCard),
            b"EN" => Some(DocumentType::EnhancedDriverLicense),
            _ => None,
        }
    }
}

/// A problem with one field of a card that leaves the rest readable: a damaged
/// or odd card still yields every other field, and staff are told why it
/// cannot be used for what needs that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardProblem {
    /// The output field name (`license_number`).
    pub field: &'static str,
    /// `placeholder` (the card writes `NONE`, `unavl`… there), `missing`, or
    /// `ambiguous_name_order` (a v01 full name without commas; see `last_name`).
    pub code: &'static str,
    /// What staff read out: what the card says there and what follows.
    pub message: String,
}

/// Everything read from one AAMVA payload.
///
/// Only the date of birth (the age check cannot do without it) and the
/// header's `iin` and `aamva_version` are guaranteed. Every other field is
/// `None` when the card lacks it, writes a placeholder (`NONE`, `unavl`) or
/// writes something unreadable; a missing or placeholder document number is
/// also named in `problems`, since without it the card cannot verify anyone. Text fields are trimmed
/// of padding and trailing commas. `elements` keeps every raw value as
/// written, for audit and for fields this struct does not map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IdCard {
    /// Given name (`DAC`; v02–v03 first word of `DCT`; v01 from `DAA`).
    pub first_name: Option<String>,
    /// Middle name(s), space separated (`DAD`; rest of `DCT`; from `DAA`).
    pub middle_name: Option<String>,
    /// Family name (`DCS`; v01 `DAB` or from `DAA`).
    pub last_name: Option<String>,
    /// Name suffix such as `JR` (`DCU`; v01 `DAE` or from `DAA`).
    pub suffix: Option<String>,
    /// Date of birth (`DBB`).
    pub dob: Date,
    /// Document expiry (`DBA`).
    pub expiry: Option<Date>,
    /// Document issue date (`DBD`).
    pub issue_date: Option<Date>,
    /// Sex (`DBC`).
    pub sex: Option<Sex>,
    /// Customer ID number (`DAQ`), trimmed but otherwise as printed: dashes
    /// and spaces are kept because that is how staff will read it off the card.
    /// `None` when the card leaves it out or writes a placeholder (see `problems`).
    pub license_number: Option<String>,
    /// Address state/province (`DAJ`), else the issuing jurisdiction.
    pub state: Option<String>,
    /// Issuing jurisdiction from the IIN (e.g. `VA`, `ON`), else `DAJ`.
    pub jurisdiction: Option<String>,
    /// Street line 1 (`DAG`; v01 residence `DAL` when `DAG` is empty).
    pub street: Option<String>,
    /// Street line 2 (`DAH`).
    pub street2: Option<String>,
    /// City (`DAI`).
    pub city: Option<String>,
    /// Postal code: `ZIP5`, `ZIP5-ZIP4`, or `A1A 1A1` (see `address`).
    pub postal_code: Option<String>,
    /// Country (`DCG`, else from the IIN).
    pub country: Option<Country>,
    /// AAMVA version from the header (1 = AAMVA-2000 … 10 = 2020 edition).
    pub aamva_version: u8,
    /// Jurisdiction version; `None` for v01, whose header has no such field.
    pub jurisdiction_version: Option<u8>,
    /// Issuer Identification Number from the header.
    pub iin: String,
    /// DL, ID or enhanced DL.
    pub document_type: Option<DocumentType>,
    /// "Under 18 until" (`DDH`, v04+).
    pub under_18_until: Option<Date>,
    /// "Under 19 until" (`DDI`, v04+).
    pub under_19_until: Option<Date>,
    /// "Under 21 until" (`DDJ`, v04+): a cross-check for the age rule.
    pub under_21_until: Option<Date>,
    /// Number of subfile entries the header claims.
    pub number_of_entries: Option<u8>,
    /// Subfile designators as written in the header.
    pub subfiles: Vec<SubfileDesignator>,
    /// Every element read, ID → raw value (jurisdiction `Z??` elements too).
    pub elements: Elements,
    /// Fields that could not be read, with why.
    pub problems: Vec<CardProblem>,
}

/// Trims padding and trailing commas (Canadian v03 writes `TESTER,`) and
/// reads placeholders as absent.
pub(crate) fn text(raw: &str) -> Option<&str> {
    let t = raw.trim().trim_end_matches(',').trim_end();
    let placeholder = ["NONE", "UNAVL", "UNAVAIL", "N/A"]
        .iter()
        .any(|p| t.eq_ignore_ascii_case(p));
    (!t.is_empty() && !placeholder).then_some(t)
}

fn owned(raw: Option<&str>) -> Option<String> {
    raw.and_then(text).map(str::to_owned)
}

/// Builds the card from the header and the elements found.
pub(crate) fn assemble(header: Header<'_>, body: &Body<'_>) -> Result<IdCard, ParseError> {
    if body.elements.is_empty() {
        return Err(ParseError::NoElements);
    }
    let get = |id: &str| body.get(id).and_then(text);
    let issuer = jurisdiction::issuer(header.iin);
    let country = get("DCG")
        .and_then(Country::from_code)
        .or(issuer.map(|(_, c)| c));
    let layout = dates::expected_layout(header.version, country == Some(Country::Canada));
    let date = |id: &str| body.get(id).and_then(|v| dates::parse(v, layout));

    let Some(dob) = date("DBB") else {
        return Err(ParseError::MissingFields(vec!["dob"]));
    };
    let license_number = get("DAQ");
    let mut problems = Vec::new();
    if license_number.is_none() {
        problems.push(match body.get("DAQ").map(str::trim).filter(|r| !r.is_empty()) {
            Some(raw) => CardProblem {
                field: "license_number",
                code: "placeholder",
                message: format!(
                    "the card's document number reads {raw:?}: it cannot verify the holder; ask for another ID"
                ),
            },
            None => CardProblem {
                field: "license_number",
                code: "missing",
                message: "the card has no document number: it cannot verify the holder; ask for another ID".into(),
            },
        });
    }

    let (name, name_problem) = name(body, header.iin);
    problems.extend(name_problem);
    let street = get("DAG").or_else(|| get("DAL"));
    let city = get("DAI").or_else(|| get("DAN"));
    let street2 = get("DAH")
        .or_else(|| get("DAM"))
        .filter(|line| !is_city_line(line, city));
    let issuer_code = issuer.and_then(|(code, _)| code);
    let state = get("DAJ").or_else(|| get("DAO"));
    let document_type = header
        .designators
        .iter()
        .find_map(|d| DocumentType::from_type(d.subfile_type.as_bytes()))
        .or_else(|| {
            body.subfiles
                .iter()
                .find_map(|t| DocumentType::from_type(t))
        });

    Ok(IdCard {
        first_name: name.first,
        middle_name: name.middle,
        last_name: name.last,
        suffix: name.suffix,
        dob,
        expiry: date("DBA"),
        issue_date: date("DBD"),
        sex: get("DBC").and_then(Sex::from_code),
        license_number: license_number.map(str::to_owned),
        state: state.or(issuer_code).map(str::to_owned),
        jurisdiction: issuer_code.or(state).map(str::to_owned),
        street: street.map(str::to_owned),
        street2: street2.map(str::to_owned),
        city: city.map(str::to_owned),
        postal_code: get("DAK")
            .or_else(|| get("DAP"))
            .and_then(|p| address::postal_code(p, country)),
        country,
        aamva_version: header.version,
        jurisdiction_version: header.jurisdiction_version,
        iin: header.iin.to_owned(),
        document_type,
        under_18_until: date("DDH"),
        under_19_until: date("DDI"),
        under_21_until: date("DDJ"),
        number_of_entries: header.number_of_entries,
        subfiles: header.designators,
        elements: Elements::from_pairs(body.elements.iter().map(|e| (e.id, e.value))),
        problems,
    })
}

/// Wyoming (and some others) write "CITY, ST ZIP" as street line 2; that is
/// not an address line.
fn is_city_line(line: &str, city: Option<&str>) -> bool {
    city.is_some_and(|c| {
        line.strip_prefix(c)
            .is_some_and(|rest| rest.trim_start().starts_with(','))
    })
}

/// Picks the name elements by what the card carries rather than by version
/// alone: separate elements (`DCS`/`DAC`/`DAD`, v01 `DAB`/`DAC`/`DAD`) win,
/// then v02–v03 `DCT`, then v01 `DAA`. Alberta's v03 card carries both
/// `DCT` and `DAC`/`DAD`, and they agree.
///
/// A v01 `DAA` written with spaces only does not say which word is the family
/// name (see [`names`]): a separate family name settles it; without one the
/// words read `FIRST MIDDLE… LAST` and the ambiguity comes back as a problem
/// unless a separate given name (`DAC`, `DCT`) makes the split moot.
fn name(body: &Body<'_>, iin: &str) -> (NameParts, Option<CardProblem>) {
    let get = |id: &str| body.get(id).and_then(text);
    let daa = get("DAA");
    let family = owned(get("DCS")).or_else(|| owned(get("DAB")));
    let settled = match (daa, family.as_deref()) {
        (Some(raw), Some(family)) if names::is_space_only(raw) => {
            names::space_only_with_family(raw, family)
        }
        _ => None,
    };
    let problem = match daa {
        Some(raw)
            if names::is_space_only(raw)
                && settled.is_none()
                && get("DAC").is_none()
                && get("DCT").is_none() =>
        {
            Some(CardProblem {
                field: "last_name",
                code: "ambiguous_name_order",
                message: format!(
                    "the card writes the full name {raw:?} without commas, so it does not say which word is \
                     the family name; it was read as first … last: check it against the front of the card"
                ),
            })
        }
        _ => None,
    };
    let full = settled.unwrap_or_else(|| daa.map(names::full_name).unwrap_or_default());
    let last = family.or(full.last.clone());
    let suffix = owned(get("DCU"))
        .or_else(|| owned(get("DAE")))
        .or(full.suffix.clone());

    let (first, middle) = if let Some(first) = get("DAC") {
        let middle = get("DAD").and_then(names::middle);
        match (middle, first.split_once(' ')) {
            // Wyoming v04 puts the middle initial in DAC and leaves DAD
            // empty. Only Wyoming: elsewhere a space in DAC is a two-word
            // first name ("MARY ANN").
            (None, Some((f, m))) if iin == jurisdiction::WYOMING => {
                (Some(f.to_owned()), names::middle(m))
            }
            (middle, _) => (Some(first.to_owned()), middle),
        }
    } else if let Some(given) = get("DCT") {
        names::given_names(given)
    } else {
        (full.first, full.middle)
    };
    (
        NameParts {
            first,
            middle,
            last,
            suffix,
        },
        problem,
    )
}

/// The `canopy id parse` output contract: exactly these keys, in this order.
/// Dates serialise as `YYYY-MM-DD`, absent values as `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// See [`IdCard::first_name`].
    pub first_name: Option<String>,
    /// See [`IdCard::middle_name`].
    pub middle_name: Option<String>,
    /// See [`IdCard::last_name`].
    pub last_name: Option<String>,
    /// See [`IdCard::suffix`].
    pub suffix: Option<String>,
    /// See [`IdCard::dob`].
    pub dob: Date,
    /// See [`IdCard::expiry`].
    pub expiry: Option<Date>,
    /// See [`IdCard::issue_date`].
    pub issue_date: Option<Date>,
    /// See [`IdCard::sex`].
    pub sex: Option<Sex>,
    /// See [`IdCard::license_number`].
    pub license_number: Option<String>,
    /// See [`IdCard::state`].
    pub state: Option<String>,
    /// See [`IdCard::city`].
    pub city: Option<String>,
    /// See [`IdCard::street`].
    pub street: Option<String>,
    /// See [`IdCard::postal_code`].
    pub postal_code: Option<String>,
    /// See [`IdCard::country`].
    pub country: Option<Country>,
    /// See [`IdCard::aamva_version`].
    pub aamva_version: u8,
    /// See [`IdCard::iin`].
    pub iin: String,
    /// See [`IdCard::document_type`].
    pub document_type: Option<DocumentType>,
    /// See [`IdCard::problems`].
    pub problems: Vec<CardProblem>,
}

impl From<IdCard> for Summary {
    fn from(c: IdCard) -> Self {
        Summary {
            first_name: c.first_name,
            middle_name: c.middle_name,
            last_name: c.last_name,
            suffix: c.suffix,
            dob: c.dob,
            expiry: c.expiry,
            issue_date: c.issue_date,
            sex: c.sex,
            license_number: c.license_number,
            state: c.state,
            city: c.city,
            street: c.street,
            postal_code: c.postal_code,
            country: c.country,
            aamva_version: c.aamva_version,
            iin: c.iin,
            document_type: c.document_type,
            problems: c.problems,
        }
    }
}
