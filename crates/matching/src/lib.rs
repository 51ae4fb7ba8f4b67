//! Duplicate matching: is this profile the same person as that one, and why?
//!
//! Pure: profiles in, scores out; no clock, no database. The store feeds it candidates (from its indexes
//! at intake, or from [`candidate_pairs`] in a bulk scan) and records what a manager decides.
//!
//! # How a score is made
//! Each signal people share — ID document, email, phone, name, date of birth, address — adds or takes
//! away points, and says why in words staff read ("same date of birth, names one letter apart, different
//! phones"). The weights are fixed, documented constants in `score.rs`, not a trained model: staff must
//! be able to predict them, and a false merge is worse than a missed duplicate. Two thresholds split the
//! score: [`LIKELY`] (shown at intake) and [`POSSIBLE`] (sent to review). Only the same ID document
//! (number and jurisdiction) is decisive on its own; a shared phone never is (families share phones).
//! Nothing here merges: every merge is a manager's decision.
//!
//! Names are compared normalised (case, accents and punctuation dropped), with nicknames from a table
//! ("Bill" for "William") and one-letter typos measured by Damerau–Levenshtein distance from `strsim`.

mod blocking;
pub mod fields;
pub mod names;
mod score;

pub use blocking::{Blocks, blocking_keys, candidate_pairs};
pub use score::{
    Agreement, LIKELY, Level, MatchScore, POSSIBLE, Profile, Signal, SignalKind, level,
    normalise_line, score,
};

/// A pair found by [`scan`]: indexes into the scanned profiles (smaller first) and their score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPair {
    pub a: u32,
    pub b: u32,
    pub score: MatchScore,
}

/// What a bulk scan found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanResult {
    /// Pairs compared (sharing a blocking key).
    pub compared: usize,
    /// Blocks skipped for being larger than the cap.
    pub oversized_blocks: usize,
    /// Pairs scoring at least [`POSSIBLE`], best first.
    pub found: Vec<FoundPair>,
}

/// Compares every pair of `profiles` that shares a blocking key and keeps those worth a review.
pub fn scan(profiles: &[Profile], max_block: usize) -> ScanResult {
    let blocks = candidate_pairs(profiles, max_block);
    let mut found: Vec<FoundPair> = blocks
        .pairs
        .iter()
        .filter_map(|&(a, b)| {
            let (x, y) = (&profiles[a as usize], &profiles[b as usize]);
            (level(x, y) >= Level::Possible).then(|| FoundPair {
                a,
                b,
                score: score(x, y),
            })
        })
        .collect();
    found.sort_by(|x, y| {
        y.score
            .score
            .cmp(&x.score.score)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    ScanResult {
        compared: blocks.pairs.len(),
        oversized_blocks: blocks.oversized_blocks,
        found,
    }
}
