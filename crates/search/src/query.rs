//! Reading what the budtender typed: a phone number, an email, an ID number or a name.

/// The longest query read, in characters. The longest real lookup (a full name with a middle name, or an
/// email address) is well under it; the HTTP layer refuses longer ones, and [`Query::parse`] reads only
/// this much of anything longer, so no query costs more than one of this size.
pub const MAX_QUERY_CHARS: usize = 200;

/// The most words a query's name part holds; more are refused by the HTTP layer and ignored here. Each
/// word is one group of an index probe.
pub const MAX_QUERY_WORDS: usize = 6;

/// The longest word that takes part in typo matching (no name word in real use comes near it). Longer
/// words still match as substrings, but get no one-edit neighbourhood, whose size grows with the square of
/// the word's length.
pub const MAX_WORD_CHARS: usize = 40;

/// Why a query is refused before it is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    TooManyWords,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::TooLong => write!(f, "q must be at most {MAX_QUERY_CHARS} characters"),
            QueryError::TooManyWords => write!(f, "q must be at most {MAX_QUERY_WORDS} words"),
        }
    }
}

/// One lookup query, analysed once. A query can be several things at once (`0142` is a phone suffix and
/// could be an ID number), so each field is independent and the storage layer runs every lookup that applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The trimmed, lower-cased text.
    pub text: String,
    /// Name words to find as substrings (at least 3 characters each, the trigram minimum).
    pub name_words: Vec<String>,
    /// Name words of 1–2 characters: filtered in the ranker, not searchable by trigram.
    pub short_words: Vec<String>,
    /// The digits, when the text reads as a phone number or the end of one.
    pub phone_digits: Option<String>,
    /// The lower-cased text as an email prefix.
    pub email_prefix: Option<String>,
    /// Upper-case letters and digits, when the text could be an ID number or the start of one.
    pub id_number: Option<String>,
    /// A three-digit area code typed with a name ("303 miller"): only customers whose phone number has
    /// it match.
    pub area_code: Option<String>,
    /// The sound keys of each of `name_words`, in the same order.
    pub name_sounds: Vec<Vec<String>>,
}

/// Every ASCII digit in `text`, in order.
pub fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

impl Query {
    /// Refuses a query longer than [`MAX_QUERY_CHARS`] or with more than [`MAX_QUERY_WORDS`] words.
    pub fn check(raw: &str) -> Result<(), QueryError> {
        let raw = raw.trim();
        // Counting stops one past the limit, so checking a huge query costs no more than a long one.
        if raw.chars().nth(MAX_QUERY_CHARS).is_some() {
            return Err(QueryError::TooLong);
        }
        if crate::words(raw).nth(MAX_QUERY_WORDS).is_some() {
            return Err(QueryError::TooManyWords);
        }
        Ok(())
    }

    /// Reads at most [`MAX_QUERY_CHARS`] characters and [`MAX_QUERY_WORDS`] name words of `raw`.
    pub fn parse(raw: &str) -> Query {
        let bounded: String = raw.trim().chars().take(MAX_QUERY_CHARS).collect();
        let text = bounded.trim().to_lowercase();
        let mut query = Query {
            text: text.clone(),
            ..Query::default()
        };
        if text.is_empty() {
            return query;
        }
        let digits = digits_of(&text);
        let phone_like = text
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-.+".contains(c));
        if phone_like && digits.len() >= 4 && digits.len() <= 15 {
            query.phone_digits = Some(digits.clone());
        }
        let single_token = !text.contains(char::is_whitespace);
        if text.contains('@') || (single_token && text.len() >= 3 && !phone_like) {
            query.email_prefix = Some(text.clone());
        }
        let id_key: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if single_token && !text.contains('@') && id_key.len() >= 4 && !digits.is_empty() {
            query.id_number = Some(id_key);
        }
        // Names do not contain '@', '.', '_' or '+' inside a word; a token with one is an address or an id.
        let address_like = single_token && text.contains(['@', '.', '_', '+']);
        if !address_like && !phone_like {
            let words: Vec<&str> = crate::words(&text).take(MAX_QUERY_WORDS).collect();
            let is_area_code = |w: &str| w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit());
            for word in &words {
                if is_area_code(word) && words.len() > 1 && query.area_code.is_none() {
                    query.area_code = Some(word.to_string());
                } else if word.chars().count() >= 3 {
                    query.name_words.push(word.to_string());
                    query.name_sounds.push(crate::sound_keys(word));
                } else {
                    query.short_words.push(word.to_string());
                }
            }
        }
        query
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_phone_numbers_read_as_digits() {
        for raw in ["(303) 555-0142", "303.555.0142", "+13035550142", "0142"] {
            let q = Query::parse(raw);
            assert!(q.phone_digits.is_some(), "{raw}");
            assert!(q.name_words.is_empty(), "{raw}");
        }
        assert_eq!(
            Query::parse("(303) 555-0142").phone_digits.as_deref(),
            Some("3035550142")
        );
    }

    #[test]
    fn three_digits_are_too_few_for_a_phone_lookup() {
        assert_eq!(Query::parse("014").phone_digits, None);
    }

    #[test]
    fn an_address_with_at_is_only_an_email() {
        let q = Query::parse("Sarah.M@ex");
        assert_eq!(q.email_prefix.as_deref(), Some("sarah.m@ex"));
        assert!(q.name_words.is_empty() && q.id_number.is_none());
    }

    #[test]
    fn a_dotted_token_is_an_email_prefix_not_a_name() {
        let q = Query::parse("sarah.mi");
        assert_eq!(q.email_prefix.as_deref(), Some("sarah.mi"));
        assert!(q.name_words.is_empty());
    }

    #[test]
    fn names_split_into_searchable_and_short_words() {
        let q = Query::parse("Sarah Mi");
        assert_eq!(q.name_words, ["sarah"]);
        assert_eq!(q.short_words, ["mi"]);
        assert_eq!(q.email_prefix, None);
    }

    #[test]
    fn a_query_past_the_limits_is_refused_and_read_only_up_to_them() {
        let huge = "a".repeat(12_000);
        assert_eq!(Query::check(&huge), Err(QueryError::TooLong));
        assert_eq!(Query::check(&"a".repeat(MAX_QUERY_CHARS)), Ok(()));
        assert_eq!(Query::check("a b c d e f g"), Err(QueryError::TooManyWords));
        assert_eq!(Query::check("  sarah   miller  "), Ok(()));
        let q = Query::parse(&huge);
        assert_eq!(q.text.chars().count(), MAX_QUERY_CHARS);
        assert_eq!(
            Query::parse("a b c d e f g h").short_words.len(),
            MAX_QUERY_WORDS
        );
    }

    #[test]
    fn three_digits_beside_a_name_are_an_area_code() {
        let q = Query::parse("303 Miller");
        assert_eq!(q.area_code.as_deref(), Some("303"));
        assert_eq!(q.name_words, ["miller"]);
        assert_eq!(q.phone_digits, None);
        assert_eq!(Query::parse("303").area_code, None);
    }

    #[test]
    fn licence_numbers_read_as_id_numbers() {
        assert_eq!(
            Query::parse("s658-07412").id_number.as_deref(),
            Some("S65807412")
        );
    }
}
