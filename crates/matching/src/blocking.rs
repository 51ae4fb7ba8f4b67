//! Blocking: which pairs a bulk scan compares at all.
//!
//! Comparing every profile with every other is n²/2 comparisons (5·10¹¹ at a million customers). Instead
//! each profile gets a few keys that a true duplicate very likely shares with it, and only profiles that
//! share a key are compared. Every key tolerates a different slip: the phone, email and ID document keys
//! catch a misspelt name; the name key catches a mistyped date of birth; the two date-of-birth keys catch
//! a typo in the first or the last name. A duplicate with a typo in both names and no shared contact point
//! is missed; the intake check, which compares against search results, still sees it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::names::canonical;
use crate::score::Profile;

/// The keys a profile is blocked under, as text (for tests and reports).
pub fn blocking_keys(p: &Profile) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(phone) = &p.phone {
        keys.push(format!("phone:{phone}"));
    }
    if let Some(email) = &p.email {
        keys.push(format!("email:{email}"));
    }
    if let Some((number, jurisdiction)) = &p.id_document {
        keys.push(format!(
            "id:{number}:{}",
            jurisdiction.as_deref().unwrap_or("")
        ));
    }
    let first = p.given.first().map(|g| canonical(g)).unwrap_or("");
    if !p.last.is_empty() && !first.is_empty() {
        // Ordered, so a name entered last-name-first lands in the same block.
        let (x, y) = if first <= p.last.as_str() {
            (first, p.last.as_str())
        } else {
            (p.last.as_str(), first)
        };
        keys.push(format!("name:{x}:{y}"));
    }
    if let Some(dob) = p.date_of_birth {
        if !p.last.is_empty() {
            keys.push(format!("dob-last:{dob}:{}", p.last));
        }
        if !first.is_empty() {
            keys.push(format!("dob-first:{dob}:{first}"));
        }
    }
    keys
}

/// What blocking produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blocks {
    /// Distinct pairs of profile indexes (smaller first), each once, sorted.
    pub pairs: Vec<(u32, u32)>,
    /// Blocks larger than the cap, skipped (a shared office phone, a placeholder email).
    pub oversized_blocks: usize,
}

/// The pairs of `profiles` that share at least one blocking key. A block with more than `max_block`
/// members is skipped and counted: a key shared by hundreds of profiles (a store's own phone number
/// typed for walk-ins) says nothing about any two of them, and would dominate the work.
pub fn candidate_pairs(profiles: &[Profile], max_block: usize) -> Blocks {
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(profiles.len() * 5);
    for (i, p) in profiles.iter().enumerate() {
        let Ok(index) = u32::try_from(i) else { break };
        for key in blocking_keys(p) {
            let mut h = DefaultHasher::new();
            key.hash(&mut h);
            keyed.push((h.finish(), index));
        }
    }
    keyed.sort_unstable();
    let mut blocks = Blocks::default();
    let mut start = 0;
    while start < keyed.len() {
        let key = keyed[start].0;
        let end = start + keyed[start..].iter().take_while(|(k, _)| *k == key).count();
        let members = &keyed[start..end];
        if members.len() > max_block {
            blocks.oversized_blocks += 1;
        } else {
            for (n, (_, a)) in members.iter().enumerate() {
                for (_, b) in &members[n + 1..] {
                    if a != b {
                        blocks.pairs.push(((*a).min(*b), (*a).max(*b)));
                    }
                }
            }
        }
        start = end;
    }
    blocks.pairs.sort_unstable();
    blocks.pairs.dedup();
    blocks
}
