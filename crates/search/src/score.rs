//! Ranking: exact identifiers first, then the best name match, ties broken by name and id so that the
//! order is the same on every engine and every run.

use crate::{Query, sound_keys, within_one_edit, words};

/// The searchable facts of one candidate, as the storage layer read them.
#[derive(Debug, Clone)]
pub struct Candidate<K> {
    pub key: K,
    /// Lower-case name words joined by spaces (first, middle, last, preferred).
    pub name_text: String,
    pub phone_e164: Option<String>,
    pub email_key: Option<String>,
    pub id_number_key: Option<String>,
}

/// How a query word matched a name word, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    /// Spelt differently, sounds the same ("sofia" for Sophia).
    Sound = 1,
    /// One letter added, dropped, changed or two swapped ("jonh" for John).
    Typo = 2,
    Substring = 3,
    Prefix = 4,
    Word = 5,
}

const EXACT_IDENTIFIER: u32 = 10_000;
const PARTIAL_IDENTIFIER: u32 = 5_000;

/// How well one query word matches the best of the name's words: the kind of match, then how much of the
/// name word it covers (so `mill` finds Miller before Millerton). `sounds` are the query word's sound keys.
///
/// Any text match outranks any typo or sound-alike, so the edit distance and the sound keys (the costly
/// part of ranking a few hundred candidates) are only computed when no name word contains the query word.
fn word_match(
    query_word: &str,
    sounds: &[String],
    name_words: &[&str],
) -> Option<(MatchKind, u32)> {
    let query_len = query_word.chars().count() as u32;
    let coverage = |w: &str| {
        let word_len = (w.chars().count() as u32).max(1);
        50 * query_len.min(word_len) / word_len
    };
    let text_match = name_words
        .iter()
        .filter_map(|w| {
            let kind = if *w == query_word {
                MatchKind::Word
            } else if w.starts_with(query_word) {
                MatchKind::Prefix
            } else if w.contains(query_word) {
                MatchKind::Substring
            } else {
                return None;
            };
            Some((kind, coverage(w)))
        })
        .max();
    if text_match.is_some() {
        return text_match;
    }
    let typo = query_len as usize >= crate::MIN_TYPO_LEN;
    name_words
        .iter()
        .filter_map(|w| {
            let kind = if typo
                && w.chars().count() >= crate::MIN_TYPO_LEN
                && within_one_edit(query_word, w)
            {
                MatchKind::Typo
            } else if !sounds.is_empty() && sound_keys(w).iter().any(|k| sounds.contains(k)) {
                MatchKind::Sound
            } else {
                return None;
            };
            Some((kind, coverage(w)))
        })
        .max()
}

/// The score of one candidate, or `None` when it does not match the query at all (candidates from a
/// broad index probe are filtered here).
pub fn score<K>(query: &Query, c: &Candidate<K>) -> Option<u32> {
    let mut score = 0;
    if let (Some(digits), Some(phone)) = (&query.phone_digits, &c.phone_e164) {
        let phone_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if phone_digits == *digits || (digits.len() == 10 && phone_digits == format!("1{digits}")) {
            score = score.max(EXACT_IDENTIFIER);
        } else if phone_digits.ends_with(digits.as_str()) {
            score = score.max(PARTIAL_IDENTIFIER + digits.len() as u32);
        }
    }
    if let (Some(prefix), Some(email)) = (&query.email_prefix, &c.email_key) {
        if email == prefix {
            score = score.max(EXACT_IDENTIFIER);
        } else if email.starts_with(prefix.as_str()) {
            score = score.max(PARTIAL_IDENTIFIER);
        }
    }
    if let (Some(id), Some(key)) = (&query.id_number, &c.id_number_key) {
        if id == key {
            score = score.max(EXACT_IDENTIFIER);
        } else if key.starts_with(id.as_str()) {
            score = score.max(PARTIAL_IDENTIFIER + id.len() as u32);
        }
    }
    if !query.name_words.is_empty() {
        let in_area = query.area_code.as_ref().is_none_or(|area| {
            c.phone_e164
                .as_deref()
                .and_then(|p| p.strip_prefix("+1"))
                .is_some_and(|national| national.starts_with(area.as_str()))
        });
        let name_words: Vec<&str> = words(&c.name_text).collect();
        let mut name_score = 0;
        let mut all = in_area;
        let no_sounds = Vec::new();
        let sounds = query
            .name_sounds
            .iter()
            .chain(std::iter::repeat(&no_sounds));
        for (qw, sounds) in query
            .name_words
            .iter()
            .chain(&query.short_words)
            .zip(sounds)
        {
            match word_match(qw, sounds, &name_words) {
                Some((kind, coverage)) => name_score += 100 * kind as u32 + coverage,
                None => all = false,
            }
        }
        if all {
            score = score.max(name_score);
        }
    }
    (score > 0).then_some(score)
}

/// Scores, filters and orders candidates best first, keeping at most `limit`.
pub fn rank<K: Ord + Clone>(query: &Query, candidates: Vec<Candidate<K>>, limit: usize) -> Vec<K> {
    rank_scored(query, candidates, limit)
        .into_iter()
        .map(|(_, key)| key)
        .collect()
}

/// Like [`rank`], with each result's score (higher is better).
pub fn rank_scored<K: Ord + Clone>(
    query: &Query,
    candidates: Vec<Candidate<K>>,
    limit: usize,
) -> Vec<(u32, K)> {
    let mut scored: Vec<(u32, Candidate<K>)> = candidates
        .into_iter()
        .filter_map(|c| score(query, &c).map(|s| (s, c)))
        .collect();
    scored.sort_by(|(sa, a), (sb, b)| {
        sb.cmp(sa)
            .then_with(|| a.name_text.cmp(&b.name_text))
            .then_with(|| a.key.cmp(&b.key))
    });
    scored.dedup_by(|(_, a), (_, b)| a.key == b.key);
    scored
        .into_iter()
        .take(limit)
        .map(|(score, c)| (score, c.key))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(key: u32, name: &str, phone: Option<&str>, email: Option<&str>) -> Candidate<u32> {
        Candidate {
            key,
            name_text: name.into(),
            phone_e164: phone.map(Into::into),
            email_key: email.map(Into::into),
            id_number_key: None,
        }
    }

    #[test]
    fn a_whole_word_outranks_a_prefix_which_outranks_a_substring_and_a_typo() {
        let q = Query::parse("smith");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "ann blacksmith", None, None),
                candidate(2, "jo smithers", None, None),
                candidate(3, "sam smyth", None, None),
                candidate(4, "jane smith", None, None),
                candidate(5, "jane jones", None, None),
            ],
            10,
        );
        assert_eq!(ranked, [4, 2, 1, 3]);
    }

    #[test]
    fn an_exact_phone_match_ranks_above_a_suffix_match() {
        let q = Query::parse("303-555-0142");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "a b", Some("+17203035550142"), None),
                candidate(2, "c d", Some("+13035550142"), None),
            ],
            10,
        );
        assert_eq!(ranked, [2, 1]);
    }

    #[test]
    fn every_query_word_must_match() {
        let q = Query::parse("sarah mil");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "sarah jones", None, None),
                candidate(2, "sarah miller", None, None),
            ],
            10,
        );
        assert_eq!(ranked, [2]);
    }

    #[test]
    fn a_typo_in_a_three_letter_name_does_not_match() {
        let q = Query::parse("amx");
        assert!(rank(&q, vec![candidate(1, "amy doe", None, None)], 10).is_empty());
    }

    #[test]
    fn one_typo_in_a_four_letter_name_matches_below_the_exact_name() {
        let q = Query::parse("reid");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "ann reed", None, None),
                candidate(2, "bo reid", None, None),
                candidate(3, "cy rand", None, None),
            ],
            10,
        );
        assert_eq!(ranked, [2, 1]);
        let q = Query::parse("jonh smith");
        assert_eq!(
            rank(&q, vec![candidate(1, "john smith", None, None)], 10),
            [1]
        );
    }

    #[test]
    fn a_name_word_containing_the_query_outranks_another_word_one_typo_away() {
        let q = Query::parse("reed");
        let scored = rank_scored(&q, vec![candidate(1, "reid reedman", None, None)], 10);
        let prefix_only = rank_scored(&q, vec![candidate(2, "reedman", None, None)], 10);
        assert_eq!(scored[0].0, prefix_only[0].0);
        let typo_only = rank_scored(&q, vec![candidate(3, "reid", None, None)], 10);
        assert!(typo_only[0].0 < scored[0].0);
    }

    #[test]
    fn a_name_spelt_as_it_sounds_matches_below_typos_and_exact_names() {
        let q = Query::parse("sofia");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "sophia lee", None, None),
                candidate(2, "sofia lee", None, None),
                candidate(3, "sonia lee", None, None),
                candidate(4, "maria lee", None, None),
            ],
            10,
        );
        assert_eq!(ranked, [2, 3, 1]);
    }

    #[test]
    fn an_area_code_keeps_only_customers_whose_phone_has_it() {
        let q = Query::parse("303 miller");
        let ranked = rank(
            &q,
            vec![
                candidate(1, "sarah miller", Some("+17205550142"), None),
                candidate(2, "sam miller", Some("+13035550199"), None),
                candidate(3, "ann miller", None, None),
            ],
            10,
        );
        assert_eq!(ranked, [2]);
    }

    #[test]
    fn the_start_of_an_id_number_matches_below_the_whole_number() {
        let q = Query::parse("s123");
        let mut a = candidate(1, "a b", None, None);
        a.id_number_key = Some("S1234567".into());
        let mut b = candidate(2, "c d", None, None);
        b.id_number_key = Some("S123".into());
        assert_eq!(rank(&q, vec![a, b], 10), [2, 1]);
    }
}
