//! Comparing two profiles signal by signal.

use canopy_domain::{CustomerDraft, IdDocument};
use jiff::civil::Date;
use serde::Serialize;

use crate::names::{nickname_of, normalise};

/// What matching reads of a customer: normalised once, compared many times (a bulk scan compares each
/// profile with every other in its blocks).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// Normalised given names the person goes by: first, and preferred when different.
    pub given: Vec<String>,
    /// Normalised last name.
    pub last: String,
    pub date_of_birth: Option<Date>,
    /// E.164.
    pub phone: Option<String>,
    /// The lower-case matching key.
    pub email: Option<String>,
    /// (number key, jurisdiction) of the ID document.
    pub id_document: Option<(String, Option<String>)>,
    /// (normalised first address line, postal code) per address.
    pub addresses: Vec<(String, String)>,
}

impl From<&CustomerDraft> for Profile {
    fn from(d: &CustomerDraft) -> Self {
        let mut given = vec![normalise(&d.name.first)];
        if let Some(preferred) = d.name.preferred.as_deref().map(normalise)
            && !preferred.is_empty()
            && !given.contains(&preferred)
        {
            given.push(preferred);
        }
        Profile {
            given,
            last: normalise(&d.name.last),
            date_of_birth: d.date_of_birth,
            phone: d.phone.as_ref().map(|p| p.as_str().to_string()),
            email: d.email.as_ref().map(|e| e.key()),
            id_document: d.id_document.as_ref().map(|doc| {
                (
                    IdDocument::number_key(doc),
                    doc.jurisdiction.as_ref().map(|j| j.to_ascii_uppercase()),
                )
            }),
            addresses: d
                .addresses
                .iter()
                .map(|a| (normalise_line(&a.line1), postal(&a.postal_code)))
                .collect(),
        }
    }
}

/// Street lines compared without case, punctuation or the usual abbreviations ("Street"/"St").
pub fn normalise_line(line: &str) -> String {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.as_str() {
                "street" => "st".to_string(),
                "avenue" => "ave".to_string(),
                "road" => "rd".to_string(),
                "drive" => "dr".to_string(),
                "boulevard" => "blvd".to_string(),
                "lane" => "ln".to_string(),
                "apartment" | "unit" | "#" => "apt".to_string(),
                _ => w,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn postal(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Which piece of information a signal compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    IdDocument,
    Email,
    Phone,
    Name,
    DateOfBirth,
    Address,
}

/// How the two profiles compare on one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Same,
    /// Not equal but close enough to be a typo, a nickname or a transposition.
    Close,
    Different,
    /// One or both profiles lack it; it counts neither way.
    Unknown,
}

/// One signal's contribution, with the sentence staff read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub signal: SignalKind,
    pub agreement: Agreement,
    /// Points added to (or taken from) the score.
    pub weight: i32,
    /// "names one letter apart", "different phones".
    pub reason: &'static str,
}

/// How strongly two profiles look like one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Unlikely,
    /// Worth a manager's review (the bulk scan's review list).
    Possible,
    /// Shown to staff at intake before a second profile is created.
    Likely,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unlikely => "unlikely",
            Level::Possible => "possible",
            Level::Likely => "likely",
        }
    }
}

/// The result of comparing two profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchScore {
    /// 0–100.
    pub score: i32,
    pub level: Level,
    /// The same ID document: the one signal that settles it on its own.
    pub decisive: bool,
    /// Every signal that said something, strongest first.
    pub signals: Vec<Signal>,
    /// The signals' reasons in one line: "same date of birth, names one letter apart, different phones".
    pub explanation: String,
}

/// A score at or above this is a likely duplicate: staff see it before creating a profile.
pub const LIKELY: i32 = 55;
/// A score at or above this (and below [`LIKELY`]) is a possible duplicate: it goes to review.
pub const POSSIBLE: i32 = 35;

// The weights. They are additive evidence (roughly log-odds scaled to points), chosen so that:
// no single signal except the ID document reaches LIKELY; a phone alone (families share phones) or a
// name alone stays below POSSIBLE; name + date of birth, or email + name, is LIKELY; a different date of
// birth (the signal that separates a parent from a child with the same name) cancels a name match.
const ID_SAME: i32 = 100;
const ID_DIFFERENT: i32 = -25;
const EMAIL_SAME: i32 = 35;
const EMAIL_DIFFERENT: i32 = -3;
const PHONE_SAME: i32 = 20;
const PHONE_DIFFERENT: i32 = -3;
const NAME_SAME: i32 = 30;
const NAME_NICKNAME: i32 = 28;
const NAME_TYPO: i32 = 25;
const NAME_INITIAL: i32 = 10;
const NAME_OTHER_FIRST: i32 = -10;
const NAME_OTHER_LAST: i32 = 0;
const NAME_DIFFERENT: i32 = -20;
const DOB_SAME: i32 = 35;
const DOB_TYPO: i32 = 10;
const DOB_DIFFERENT: i32 = -40;
const ADDRESS_SAME: i32 = 15;
const ADDRESS_POSTAL: i32 = 4;

/// The level alone, without building the explanation: what a bulk scan asks of millions of pairs
/// before it explains the few worth a review. Always agrees with [`score`].
pub fn level(a: &Profile, b: &Profile) -> Level {
    let mut total = 0;
    let mut decisive = false;
    for s in [
        id_document(a, b),
        email(a, b),
        phone(a, b),
        name(a, b),
        date_of_birth(a, b),
        address(a, b),
    ]
    .into_iter()
    .flatten()
    {
        decisive |= s.signal == SignalKind::IdDocument && s.agreement == Agreement::Same;
        total += s.weight;
    }
    classify(total.clamp(0, 100), decisive)
}

fn classify(score: i32, decisive: bool) -> Level {
    if decisive || score >= LIKELY {
        Level::Likely
    } else if score >= POSSIBLE {
        Level::Possible
    } else {
        Level::Unlikely
    }
}

/// Compares two profiles. Symmetric: `score(a, b) == score(b, a)`.
pub fn score(a: &Profile, b: &Profile) -> MatchScore {
    let signals: Vec<Signal> = [
        id_document(a, b),
        email(a, b),
        phone(a, b),
        name(a, b),
        date_of_birth(a, b),
        address(a, b),
    ]
    .into_iter()
    .flatten()
    .collect();
    let decisive = signals
        .iter()
        .any(|s| s.signal == SignalKind::IdDocument && s.agreement == Agreement::Same);
    let total: i32 = signals.iter().map(|s| s.weight).sum();
    let score = total.clamp(0, 100);
    let level = classify(score, decisive);
    let mut ordered = signals;
    ordered.sort_by_key(|s| std::cmp::Reverse(s.weight.abs()));
    let explanation = ordered
        .iter()
        .map(|s| s.reason)
        .collect::<Vec<_>>()
        .join(", ");
    MatchScore {
        score: if decisive { 100 } else { score },
        level,
        decisive,
        signals: ordered,
        explanation,
    }
}

fn signal(
    kind: SignalKind,
    agreement: Agreement,
    weight: i32,
    reason: &'static str,
) -> Option<Signal> {
    Some(Signal {
        signal: kind,
        agreement,
        weight,
        reason,
    })
}

fn id_document(a: &Profile, b: &Profile) -> Option<Signal> {
    let ((na, ja), (nb, jb)) = (a.id_document.as_ref()?, b.id_document.as_ref()?);
    let kind = SignalKind::IdDocument;
    if na == nb && ja == jb {
        signal(kind, Agreement::Same, ID_SAME, "same ID document")
    } else if ja == jb {
        // People renew and replace IDs, but one jurisdiction's number for one person rarely changes.
        signal(
            kind,
            Agreement::Different,
            ID_DIFFERENT,
            "different ID numbers",
        )
    } else {
        // IDs from two jurisdictions say nothing either way (people move).
        None
    }
}

fn email(a: &Profile, b: &Profile) -> Option<Signal> {
    let (x, y) = (a.email.as_ref()?, b.email.as_ref()?);
    if x == y {
        signal(SignalKind::Email, Agreement::Same, EMAIL_SAME, "same email")
    } else {
        signal(
            SignalKind::Email,
            Agreement::Different,
            EMAIL_DIFFERENT,
            "different emails",
        )
    }
}

fn phone(a: &Profile, b: &Profile) -> Option<Signal> {
    let (x, y) = (a.phone.as_ref()?, b.phone.as_ref()?);
    if x == y {
        signal(SignalKind::Phone, Agreement::Same, PHONE_SAME, "same phone")
    } else {
        signal(
            SignalKind::Phone,
            Agreement::Different,
            PHONE_DIFFERENT,
            "different phones",
        )
    }
}

/// How two given or family names compare: 3 equal, 2 a nickname, 1 one typo apart, 0 different.
fn word_closeness(x: &str, y: &str, nicknames: bool) -> u8 {
    if x.is_empty() || y.is_empty() {
        return 0;
    }
    if x == y {
        return 3;
    }
    if nicknames && nickname_of(x, y) {
        return 2;
    }
    // One edit (Damerau: a swap of neighbours counts as one) in a word long enough that one letter
    // is a typo rather than another name ("ann"/"amy" are two names).
    let shortest = x.chars().count().min(y.chars().count());
    if shortest >= 4 && strsim::damerau_levenshtein(x, y) <= 1 {
        return 1;
    }
    0
}

fn name(a: &Profile, b: &Profile) -> Option<Signal> {
    if a.last.is_empty() || b.last.is_empty() || a.given.is_empty() || b.given.is_empty() {
        return None;
    }
    let first = a
        .given
        .iter()
        .flat_map(|x| b.given.iter().map(move |y| word_closeness(x, y, true)))
        .max()
        .unwrap_or(0);
    let initial = a.given.iter().any(|x| {
        b.given
            .iter()
            .any(|y| (x.len() == 1 || y.len() == 1) && x.chars().next() == y.chars().next())
    });
    let last = word_closeness(&a.last, &b.last, false);
    let kind = SignalKind::Name;
    match (first, last) {
        (3, 3) => signal(kind, Agreement::Same, NAME_SAME, "same name"),
        (2, 3) => signal(
            kind,
            Agreement::Close,
            NAME_NICKNAME,
            "nickname of the same name",
        ),
        (1, 3) | (3, 1) => signal(kind, Agreement::Close, NAME_TYPO, "names one letter apart"),
        (2, 1) | (1, 1) => signal(
            kind,
            Agreement::Close,
            NAME_TYPO - 5,
            "names two letters apart",
        ),
        (0, 1 | 3) if initial => signal(
            kind,
            Agreement::Close,
            NAME_INITIAL,
            "same last name and initial",
        ),
        (0, 1 | 3) => signal(
            kind,
            Agreement::Different,
            NAME_OTHER_FIRST,
            "different first names",
        ),
        (2 | 3, 0) => signal(
            kind,
            Agreement::Different,
            NAME_OTHER_LAST,
            "different last names",
        ),
        _ => {
            // A name entered in the wrong order ("Smith John") is the same name.
            let swapped = a.given.first().is_some_and(|g| *g == b.last)
                && b.given.first().is_some_and(|g| *g == a.last);
            if swapped {
                signal(
                    kind,
                    Agreement::Close,
                    NAME_TYPO,
                    "first and last names swapped",
                )
            } else {
                signal(
                    kind,
                    Agreement::Different,
                    NAME_DIFFERENT,
                    "different names",
                )
            }
        }
    }
}

fn date_of_birth(a: &Profile, b: &Profile) -> Option<Signal> {
    let (x, y) = (a.date_of_birth?, b.date_of_birth?);
    let kind = SignalKind::DateOfBirth;
    if x == y {
        return signal(kind, Agreement::Same, DOB_SAME, "same date of birth");
    }
    // Typing slips: day and month swapped, or one digit wrong.
    let swapped = x.year() == y.year() && x.month() == y.day() && x.day() == y.month();
    let (sx, sy) = (x.to_string(), y.to_string());
    let one_digit =
        sx.len() == sy.len() && sx.chars().zip(sy.chars()).filter(|(p, q)| p != q).count() == 1;
    if swapped || one_digit {
        signal(
            kind,
            Agreement::Close,
            DOB_TYPO,
            "dates of birth one slip apart",
        )
    } else {
        signal(
            kind,
            Agreement::Different,
            DOB_DIFFERENT,
            "different dates of birth",
        )
    }
}

fn address(a: &Profile, b: &Profile) -> Option<Signal> {
    if a.addresses.is_empty() || b.addresses.is_empty() {
        return None;
    }
    let same = a.addresses.iter().any(|x| b.addresses.contains(x));
    let postal = a
        .addresses
        .iter()
        .any(|(_, p)| !p.is_empty() && b.addresses.iter().any(|(_, q)| q == p));
    let kind = SignalKind::Address;
    if same {
        signal(kind, Agreement::Same, ADDRESS_SAME, "same address")
    } else if postal {
        signal(kind, Agreement::Close, ADDRESS_POSTAL, "same postal code")
    } else {
        // People move; another address is no evidence against.
        None
    }
}
