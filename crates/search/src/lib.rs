//! How a lookup query is read and how candidates are ranked, independent of the storage engine.
//!
//! Both engines fetch candidates with their own index (SQLite FTS5 trigram, PostgreSQL pg_trgm), then rank
//! them here with one scorer, so a query returns the same order on both. Typo tolerance uses a deletion
//! dictionary ([`deletion_variants`]): two words within one edit share a variant made by deleting at most
//! one letter, which turns fuzzy matching into exact index lookups. Names that sound alike but are spelt
//! differently ("Sofia", "Sophia") share a Double Metaphone key ([`sound_keys`]), looked up the same way.

mod query;
mod score;

pub use query::{MAX_QUERY_CHARS, MAX_QUERY_WORDS, MAX_WORD_CHARS, Query, QueryError, digits_of};
pub use score::{Candidate, MatchKind, rank};

/// Words shorter than this never match by typo: one edit in a three-letter name ("Ann", "Amy") is
/// another name, while in four letters it is a slip ("Jonh", "Reid" for Reed). Typos rank below exact
/// matches, so a real four-letter name is still listed first.
pub const MIN_TYPO_LEN: usize = 4;

/// Words shorter than this get no sound key: the key of a three-letter word ("sra" is `SR`, as Sarah
/// is) says too little, as one typo in three letters does.
pub const MIN_SOUND_LEN: usize = 4;

/// The word itself and every string made by deleting one character (the "deletion neighbourhood").
///
/// A word of n letters has n + 1 variants of about n letters each, so the neighbourhood grows with the
/// square of the length; words longer than [`MAX_WORD_CHARS`] (no real name word is) get no variants but
/// themselves, which keeps one call to at most 41 short strings whatever it is given.
pub fn deletion_variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() > MAX_WORD_CHARS {
        return vec![word.to_string()];
    }
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(word.to_string());
    for skip in 0..chars.len() {
        // Deleting either letter of a doubled pair gives the same string; keep the first.
        if skip > 0 && chars[skip] == chars[skip - 1] {
            continue;
        }
        let variant: String = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| *c)
            .collect();
        out.push(variant);
    }
    out
}

/// Lower-case name words long enough to be indexed in the deletion dictionary (and by sound).
pub fn dictionary_words(name_text: &str) -> impl Iterator<Item = String> + '_ {
    words(name_text)
        .filter(|w| (MIN_TYPO_LEN..=MAX_WORD_CHARS).contains(&w.chars().count()))
        .map(str::to_string)
}

/// The Double Metaphone keys of a name word (primary, and the alternate when it differs): words that
/// sound alike share one ("sofia" and "sophia" are both `SF`, "catherine" and "kathryn" `K0RN`). Empty for
/// words too short to say much, or too long to be a name.
pub fn sound_keys(word: &str) -> Vec<String> {
    let len = word.chars().count();
    if !(MIN_SOUND_LEN..=MAX_WORD_CHARS).contains(&len) {
        return Vec::new();
    }
    let encoded = rphonetic::DoubleMetaphone::default().double_metaphone(word);
    let mut keys = vec![encoded.primary()];
    let alternate = encoded.alternate();
    if alternate != keys[0] {
        keys.push(alternate);
    }
    keys.retain(|k| k.len() >= 2);
    keys
}

/// True when two words share a sound key.
pub fn sound_alike(a: &str, b: &str) -> bool {
    let keys = sound_keys(a);
    !keys.is_empty() && sound_keys(b).iter().any(|k| keys.contains(k))
}

/// Splits lower-cased text into words on anything that is not a letter, digit or apostrophe.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
}

/// True when two words are at most one insertion, deletion, substitution or adjacent swap apart.
///
/// Words whose lengths differ by more than one never are, so the edit distance (quadratic in time and
/// memory) only runs on words of nearly the same length, and not at all past [`MAX_WORD_CHARS`].
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.abs_diff(lb) > 1 || la.max(lb) > MAX_WORD_CHARS + 1 {
        return false;
    }
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
    fn a_doubled_letter_gives_one_variant_not_two() {
        assert_eq!(deletion_variants("anna"), ["anna", "nna", "ana", "ann"]);
    }

    #[test]
    fn a_huge_word_has_no_variants_but_itself() {
        let word = "a".repeat(12_000);
        assert_eq!(deletion_variants(&word), std::slice::from_ref(&word));
        assert!(!within_one_edit(&word, &word[1..]));
        assert_eq!(dictionary_words(&word).count(), 0);
    }

    #[test]
    fn names_spelt_as_they_sound_share_a_key() {
        for (typed, stored) in [
            ("sofia", "sophia"),
            ("katherine", "catherine"),
            ("jonathon", "jonathan"),
            ("stephen", "steven"),
            ("smyth", "smith"),
        ] {
            assert!(sound_alike(typed, stored), "{typed} vs {stored}");
        }
        assert!(!sound_alike("sofia", "maria"));
        assert!(sound_keys("sra").is_empty());
        assert!(sound_keys(&"b".repeat(12_000)).is_empty());
    }

    #[test]
    fn short_words_are_left_out_of_the_dictionary() {
        let words: Vec<_> = dictionary_words("al lee jones o'brien").collect();
        assert_eq!(words, ["jones", "o'brien"]);
    }
}
