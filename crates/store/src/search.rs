//! Instant lookup. Each engine fetches candidates with its own index — SQLite FTS5 with the trigram
//! tokenizer, PostgreSQL pg_trgm GIN — plus B-tree ranges for phone suffixes and email prefixes; then
//! `canopy_search::rank` orders them the same way on both. No query scans the table.

use sqlx::AssertSqlSafe;
use std::collections::BTreeSet;

use canopy_domain::{Customer, CustomerId};
use canopy_search::{
    Candidate, MIN_TYPO_LEN, Query, deletion_variants, sound_keys, within_one_edit,
};

use crate::backend::{Backend, Tx, on_read, on_tx};
use crate::{Result, Store};

/// How many candidates one index probe may return before ranking: five pages of 20. Each candidate is a
/// row read from the table, and at a million customers those reads, scattered over the file, were most of
/// a lookup's time when a probe took 300 (a common surname matches thousands of rows, of which any few
/// hundred are as arbitrary a sample as any hundred). A deeper page asks for more.
const PROBE_LIMIT: i64 = 100;

/// Below this many exact results, a lookup also tries names one typo away and names that sound the same.
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

/// The first phone number past those starting with `prefix` (`+1` and a three-digit area code): the next
/// area code, written in digits only so that the bound holds under any collation the column has.
fn area_end(prefix: &str) -> String {
    match prefix
        .strip_prefix("+1")
        .and_then(|a| a.parse::<u16>().ok())
    {
        Some(area) if area < 999 => format!("+1{:03}", area + 1),
        _ => "+2".to_string(),
    }
}

fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of search results, best first.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub items: Vec<Customer>,
    /// True when asking for the next page (`offset` + `limit`) may find more.
    pub has_more: bool,
}

/// The furthest a search pages (`offset` + `limit`): past a few pages staff refine the query instead, and
/// each page ranks every candidate before it.
pub const MAX_SEARCH_DEPTH: usize = 1_000;

/// Candidates gathered so far, and whether any probe stopped at its limit (so more may exist).
#[derive(Default)]
struct Gathered {
    rows: Vec<CandidateRow>,
    truncated: bool,
}

impl Gathered {
    fn add(&mut self, rows: Vec<CandidateRow>, limit: i64) {
        self.truncated |= rows.len() as i64 >= limit;
        self.rows.extend(rows);
    }
}

impl Store {
    /// Customers matching what staff typed, best first: exact phone, email or ID number, then names by how
    /// well they match (whole word, prefix, substring, one typo, same sound).
    pub async fn search_customers(&self, raw: &str, limit: usize) -> Result<Vec<Customer>> {
        Ok(self.search_customers_page(raw, 0, limit).await?.items)
    }

    /// The page of `limit` results after the first `offset` (`offset + limit` at most
    /// [`MAX_SEARCH_DEPTH`]; a deeper page is empty).
    pub async fn search_customers_page(
        &self,
        raw: &str,
        offset: usize,
        limit: usize,
    ) -> Result<SearchPage> {
        let query = Query::parse(raw);
        let want = offset.saturating_add(limit);
        if query.is_empty() || limit == 0 || want > MAX_SEARCH_DEPTH {
            return Ok(SearchPage {
                items: Vec::new(),
                has_more: false,
            });
        }
        // One more than the page, so a full page can tell whether another follows it.
        let probe_limit = PROBE_LIMIT.max(want as i64 + 1);
        let mut found = Gathered::default();
        if let Some(digits) = &query.phone_digits {
            let reversed: String = digits.chars().rev().collect();
            let rows = self
                .range_probe("phone_rev", &reversed, probe_limit)
                .await?;
            found.add(rows, probe_limit);
        }
        if let Some(prefix) = &query.email_prefix {
            let rows = self.range_probe("email_key", prefix, probe_limit).await?;
            found.add(rows, probe_limit);
        }
        if let Some(id) = &query.id_number {
            let rows = self.range_probe("id_number_key", id, probe_limit).await?;
            found.add(rows, probe_limit);
        }
        let mut ranked = rank(&query, found.rows.clone(), want + 1);
        if !query.name_words.is_empty() {
            let exact: Vec<Vec<String>> =
                query.name_words.iter().map(|w| vec![w.clone()]).collect();
            let area = query.area_code.as_deref();
            let rows = self.name_probe(&exact, area, probe_limit).await?;
            found.add(rows, probe_limit);
            ranked = rank(&query, found.rows.clone(), want + 1);
            // Typo and sound-alike candidates only when exact text found too few for the page: a query
            // with enough real matches is not a misspelling, and the wider probe is the slowest one.
            if ranked.len() < want.min(TYPO_THRESHOLD) {
                let fuzzy = self.with_alternatives(&query).await?;
                if fuzzy != exact {
                    let rows = self.name_probe(&fuzzy, area, probe_limit).await?;
                    found.add(rows, probe_limit);
                    ranked = rank(&query, found.rows, want + 1);
                }
            }
        }
        let has_more = ranked.len() > want || found.truncated;
        let page: Vec<CustomerId> = ranked.into_iter().skip(offset).take(limit).collect();
        Ok(SearchPage {
            items: self.live_customers_by_ids(&page).await?,
            has_more,
        })
    }

    async fn range_probe(
        &self,
        column: &str,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<CandidateRow>> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE {column} >= $1 AND {column} < $2 LIMIT $3"
        );
        let end = prefix_end(prefix);
        Ok(on_read!(self, |p| sqlx::query_as(AssertSqlSafe(
            sql.clone()
        ))
        .bind(prefix)
        .bind(&end)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// Customers whose name contains, for every group, at least one of the group's words (and whose phone
    /// has the area code, when one is given).
    async fn name_probe(
        &self,
        groups: &[Vec<String>],
        area_code: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CandidateRow>> {
        let area_prefix = area_code.map(|a| format!("+1{a}"));
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
                let sql = if area_prefix.is_some() {
                    format!(
                        "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE seq IN \
                         (SELECT rowid FROM customers_fts WHERE customers_fts MATCH $1) \
                         AND substr(phone_e164, 1, 5) = $3 LIMIT $2"
                    )
                } else {
                    format!(
                        "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE seq IN \
                         (SELECT rowid FROM customers_fts WHERE customers_fts MATCH $1 LIMIT $2)"
                    )
                };
                let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(expr).bind(limit);
                if let Some(area) = &area_prefix {
                    q = q.bind(area.clone());
                }
                Ok(q.fetch_all(read).await?)
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
                // A range, not `substr(...) = ...`, so that the phone index narrows the rows the name
                // index found before any is read (a bitmap AND), instead of reading every namesake.
                let area_filter = if area_prefix.is_some() {
                    format!(" AND phone_e164 >= ${} AND phone_e164 < ${}", n + 2, n + 3)
                } else {
                    String::new()
                };
                let sql = format!(
                    "SELECT {CANDIDATE_COLUMNS} FROM customers WHERE {expr}{area_filter} LIMIT ${}",
                    n + 1
                );
                let mut q = sqlx::query_as(AssertSqlSafe(sql));
                for word in groups.iter().flatten() {
                    q = q.bind(like_pattern(word));
                }
                q = q.bind(limit);
                if let Some(area) = &area_prefix {
                    q = q.bind(area.clone()).bind(area_end(area));
                }
                Ok(q.fetch_all(pool).await?)
            }
        }
    }

    /// Each query word with the dictionary words one edit away from it (for words long enough to allow a
    /// typo) and those that sound the same, read with one lookup per dictionary table for all the words.
    ///
    /// When some query words are dictionary words and others are not ("sarah mixler"), only the others are
    /// widened: a real name typed as stored is not the slip, and widening it too would make the probe
    /// gather every sound-alike of "sarah" as well. When every word is a dictionary word, any may be the
    /// slip ("reid" for Reed), so all are widened.
    async fn with_alternatives(&self, query: &Query) -> Result<Vec<Vec<String>>> {
        let typo_words: Vec<&String> = query
            .name_words
            .iter()
            .filter(|w| w.chars().count() >= MIN_TYPO_LEN)
            .collect();
        let variants: Vec<String> = typo_words
            .iter()
            .flat_map(|w| deletion_variants(w))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let near_terms = if variants.is_empty() {
            Vec::new()
        } else {
            self.dictionary_lookup(
                "SELECT DISTINCT term, term FROM name_terms WHERE variant",
                &variants,
            )
            .await?
        };
        let sounds: Vec<String> = query
            .name_sounds
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let sound_terms = if sounds.is_empty() {
            Vec::new()
        } else {
            self.dictionary_lookup("SELECT sound, term FROM name_sounds WHERE sound", &sounds)
                .await?
        };
        // Words too short for the dictionary have nothing to widen into, so they count as known.
        let known =
            |w: &String| w.chars().count() < MIN_TYPO_LEN || near_terms.iter().any(|(_, t)| t == w);
        let widen_all = query.name_words.iter().all(known);
        let mut groups = Vec::with_capacity(query.name_words.len());
        for (word, keys) in query.name_words.iter().zip(&query.name_sounds) {
            let mut alts = vec![word.clone()];
            if widen_all || !known(word) {
                if word.chars().count() >= MIN_TYPO_LEN {
                    alts.extend(
                        near_terms
                            .iter()
                            .filter(|(_, t)| t != word && within_one_edit(word, t))
                            .map(|(_, t)| t.clone()),
                    );
                }
                for (_, term) in sound_terms.iter().filter(|(k, _)| keys.contains(k)) {
                    if !alts.contains(term) {
                        alts.push(term.clone());
                    }
                }
            }
            groups.push(alts);
        }
        Ok(groups)
    }

    /// `select` (two columns, the second a dictionary word, ending in the key column) `IN (keys)`.
    async fn dictionary_lookup(
        &self,
        select: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>> {
        let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{select} IN ({}) ORDER BY 2, 1", placeholders.join(", "));
        on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for k in keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await
        })
        .map_err(Into::into)
    }

    /// Files every dictionary word under its sound keys, once, for a database whose dictionary was filled
    /// before sound-alike lookup existed (new words are filed as they are added).
    pub(crate) async fn backfill_name_sounds(&self) -> Result<()> {
        let has_sounds: Option<(String,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT term FROM name_sounds LIMIT 1"
        )
        .fetch_optional(p)
        .await)?;
        if has_sounds.is_some() {
            return Ok(());
        }
        let terms: Vec<(String,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT DISTINCT term FROM name_terms"
        )
        .fetch_all(p)
        .await)?;
        if terms.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        add_sounds(&mut tx, terms.iter().map(|(t,)| t)).await?;
        tx.commit().await
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

/// Files `words` under their sound keys (idempotent).
async fn add_sounds<'a>(tx: &mut Tx, words: impl Iterator<Item = &'a String>) -> Result<()> {
    let pairs: Vec<(String, &String)> = words
        .flat_map(|w| sound_keys(w).into_iter().map(move |k| (k, w)))
        .collect();
    for chunk in pairs.chunks(500) {
        let sql = tx.bulk_sql(format!(
            "INSERT INTO name_sounds (sound, term) VALUES {} ON CONFLICT DO NOTHING",
            crate::events::placeholders(chunk.len(), 2)
        ));
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (sound, term) in chunk {
                q = q.bind(sound).bind(*term);
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Adds name words, their one-deletion variants and their sound keys to the dictionary (idempotent).
pub(crate) async fn add_dictionary_words(tx: &mut Tx, words: BTreeSet<String>) -> Result<()> {
    add_sounds(tx, words.iter()).await?;
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
