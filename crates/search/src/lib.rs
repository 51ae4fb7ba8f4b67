//! How a lookup query is read and how candidates are ranked, independent of the storage engine.
//!
//! Both engines fetch candidates with their own index (SQLite FTS5 trigram, PostgreSQL pg_trgm), then rank
//! them here with one scorer, so a query returns the same order on both. Typo tolerance uses a deletion
//! dictionary ([`deletion_variants`]): two words within one edit share a variant made by deleting at most
//! one letter, which turns fuzzy matching into exact index lookups.

mod query;
mod score;

pub use query::{Query, digits_of};
pub use score::{Candidate, MatchKind, rank};

/// Words shorter than this never match by typo: one edit in a four-letter name is another name.
pub const MIN_TYPO_LEN: usize = 5;

/// The word itself and every string made by deleting one character (the "deletion neighbourhood").
pub fn deletion_variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(word.to_string());
    for skip in 0..chars.len() {
        let variant: String = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| *c)
            .collect();
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    out
}

/// Lower-case name words long enough to be indexed in the deletion dictionary. Stored words may be one
/// letter shorter than [`MIN_TYPO_LEN`], because a five-letter query can be a four-letter name plus a typo.
pub fn dictionary_words(name_text: &str) -> impl Iterator<Item = String> + '_ {
    words(name_text)
        .filter(|w| w.chars().count() >= MIN_TYPO_LEN - 1)
        .map(str::to_string)
}

/// Splits lower-cased text into words on anything that is not a letter, digit or apostrophe.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
}

/// True when two words are at most one insertion, deletion, substitution or adjacent swap apart.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    strsim::damerau_levenshtein(a, b) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_one_edit_apart_share_a_deletion_variant() {
        for (typed, stored) in [
            ("smoth", "smith"),
            ("smtih", "smith"),
            ("smiths", "smith"),
            ("smth", "smith"),
        ] {
            let a = deletion_variants(typed);
            let b = deletion_variants(stored);
            assert!(a.iter().any(|v| b.contains(v)), "{typed} vs {stored}");
            assert!(within_one_edit(typed, stored));
        }
    }

    #[test]
    fn short_words_are_left_out_of_the_dictionary() {
        let words: Vec<_> = dictionary_words("al lee jones o'brien").collect();
        assert_eq!(words, ["jones", "o'brien"]);
    }
}
