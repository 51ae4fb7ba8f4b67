//! Instant lookup. Each engine fetches candidates with its own index — SQLite FTS5 with the trigram
//! tokenizer, PostgreSQL pg_trgm GIN — plus B-tree ranges for phone suffixes and email prefixes; then
//! `canopy_search::rank` orders them the same way on both. No query scans the table.

use sqlx::AssertSqlSafe;
use std::collections::BTreeSet;

use canopy_domain::{Customer, CustomerId};
use canopy_search::{Candidate, MIN_TYPO_LEN, Query, deletion_variants, within_one_edit};

use crate::backend::{Backend, Tx, on_read, on_tx};
use crate::{Result, Store};

/// How many candidates one index probe may return before ranking. Enough to hold every exact match of a
/// real query, small enough that ranking stays far below a millisecond.
const PROBE_LIMIT: i64 = 300;

/// Below this many exact results, a lookup also tries names one typo away.
const TYPO_THRESHOLD: usize = 5;

const CANDIDATE_COLUMNS: &str = "id, name_text, phone_e164, email_key, id_number_key";

type CandidateRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The smallest string greater than every string starting with `prefix` (byte order, as both engines compare
/// these columns).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A double-quoted FTS5 string: the trigram tokenizer matches it as a substring.
fn fts_phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// Customers matching what staff typed, best first: exact phone, email or ID number, then names by how
    /// well they match (whole word, prefix, substring, one typo).
    pub async fn search_customers(&self, raw: &str, limit: usize) -> Result<Vec<Customer>> {
        let query = Query::parse(raw);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<CandidateRow> = Vec::new();
        if let Some(digits) = &query.phone_digits {
            let reversed: String = digits.chars().rev().collect();
            rows.extend(self.range_probe("phone_rev", &reversed).await?);
        }
        if let Some(prefix) = &query.email_prefix {
            rows.extend(self.range_probe("email_key", prefix).await?);
        }
        if let Some(id) = &query.id_number {
            let sql = format!(
                "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE id_number_key = $1 LIMIT 20"
            );
            let found: Vec<CandidateRow> =
                on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                    .bind(id)
                    .fetch_all(p)
                    .await)?;
            rows.extend(found);
        }
        let mut ranked = rank(&query, rows.clone(), limit);
        if !query.name_words.is_empty() {
            let exact: Vec<Vec<String>> =
                query.name_words.iter().map(|w| vec![w.clone()]).collect();
            rows.extend(self.name_probe(&exact).await?);
            ranked = rank(&query, rows.clone(), limit);
            // Typo candidates only when exact text found (almost) nothing: a query that already has
            // several real matches is not a misspelling, and the wider probe is the slowest one.
            if ranked.len() < limit.min(TYPO_THRESHOLD) {
                let fuzzy = self.with_typo_alternatives(&query.name_words).await?;
                if fuzzy != exact {
                    rows.extend(self.name_probe(&fuzzy).await?);
                    ranked = rank(&query, rows, limit);
                }
            }
        }
        self.live_customers_by_ids(&ranked).await
    }

    async fn range_probe(&self, column: &str, prefix: &str) -> Result<Vec<CandidateRow>> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE {column} >= $1 AND {column} < $2 LIMIT $3"
        );
        let end = prefix_end(prefix);
        Ok(on_read!(self, |p| sqlx::query_as(AssertSqlSafe(
            sql.clone()
        ))
        .bind(prefix)
        .bind(&end)
        .bind(PROBE_LIMIT)
        .fetch_all(p)
        .await)?)
    }

    /// Customers whose name contains, for every group, at least one of the group's words.
    async fn name_probe(&self, groups: &[Vec<String>]) -> Result<Vec<CandidateRow>> {
        match &self.backend {
            Backend::Sqlite { read, .. } => {
                let expr = groups
                    .iter()
                    .map(|alts| {
                        format!(
                            "({})",
                            alts.iter()
                                .map(|w| fts_phrase(w))
                                .collect::<Vec<_>>()
                                .join(" OR ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let sql = format!(
                    "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE seq IN \
                     (SELECT rowid FROM customers_fts WHERE customers_fts MATCH $1 LIMIT $2)"
                );
                Ok(sqlx::query_as(AssertSqlSafe(sql.clone()))
                    .bind(expr)
                    .bind(PROBE_LIMIT)
                    .fetch_all(read)
                    .await?)
            }
            Backend::Postgres(pool) => {
                let mut n = 0;
                let expr = groups
                    .iter()
                    .map(|alts| {
                        let ors: Vec<String> = alts
                            .iter()
                            .map(|_| {
                                n += 1;
                                format!("name_text LIKE ${n}")
                            })
                            .collect();
                        format!("({})", ors.join(" OR "))
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let sql = format!(
                    "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE {expr} LIMIT ${}",
                    n + 1
                );
                let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                for word in groups.iter().flatten() {
                    q = q.bind(like_pattern(word));
                }
                Ok(q.bind(PROBE_LIMIT).fetch_all(pool).await?)
            }
        }
    }

    /// Each query word with the dictionary words one edit away from it (for words long enough to allow a typo).
    async fn with_typo_alternatives(&self, words: &[String]) -> Result<Vec<Vec<String>>> {
        let mut groups = Vec::with_capacity(words.len());
        for word in words {
            let mut alts = vec![word.clone()];
            if word.chars().count() >= MIN_TYPO_LEN {
                let variants = deletion_variants(word);
                let placeholders: Vec<String> =
                    (1..=variants.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT DISTINCT term FROM name_terms WHERE variant IN ({})",
                    placeholders.join(", ")
                );
                let terms: Vec<(String,)> = on_read!(self, |p| {
                    let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                    for v in &variants {
                        q = q.bind(v);
                    }
                    q.fetch_all(p).await
                })?;
                alts.extend(
                    terms
                        .into_iter()
                        .map(|(t,)| t)
                        .filter(|t| t != word && within_one_edit(word, t)),
                );
            }
            groups.push(alts);
        }
        Ok(groups)
    }
}

fn rank(query: &Query, rows: Vec<CandidateRow>, limit: usize) -> Vec<CustomerId> {
    let candidates = rows
        .into_iter()
        .filter_map(|(id, name_text, phone_e164, email_key, id_number_key)| {
            Some(Candidate {
                key: id.parse::<CustomerId>().ok()?,
                name_text,
                phone_e164,
                email_key,
                id_number_key,
            })
        })
        .collect();
    canopy_search::rank(query, candidates, limit)
}

/// Adds name words and their one-deletion variants to the typo dictionary (idempotent).
pub(crate) async fn add_dictionary_words(tx: &mut Tx, words: BTreeSet<String>) -> Result<()> {
    let pairs: Vec<(String, String)> = words
        .iter()
        .flat_map(|w| {
            deletion_variants(w)
                .into_iter()
                .map(move |v| (v, w.clone()))
        })
        .collect();
    for chunk in pairs.chunks(500) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO name_terms (variant, term) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (variant, term) in chunk {
                q = q.bind(variant).bind(term);
            }
            q.execute(&mut **c).await.map(|_| ()).map(|_| ())
        })?;
    }
    Ok(())
}
