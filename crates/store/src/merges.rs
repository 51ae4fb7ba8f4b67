//! Duplicate profiles: candidates, merges that move everything to the survivor, and undo.
//!
//! A merge is one transaction. The merged-away profile keeps its row, points at the survivor
//! (`merged_into`) and gives up its phone, email and ID keys (so the survivor may take them); every row
//! that belonged to it moves to the survivor, and the ids of exactly those rows are kept on the merge, so
//! undo moves back what the merge moved and nothing the survivor gained since. Points move as ledger
//! entries (see `loyalty/merge.rs`); consent only ever becomes more restrictive.

use std::collections::{BTreeMap, HashMap, HashSet};

use canopy_domain::{
    Actor, Ban, ConsentChange, ConsentChannel, ConsentPurpose, ConsentSource, ConsentStatus,
    Customer, CustomerDraft, CustomerId, EventKind, MergeId,
};
use canopy_matching::fields::{Field, Source, default_source, merged_details, resolve};
use canopy_matching::{Level, MatchScore, Profile, score};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::{CUSTOMER_COLUMNS, CustomerRow, audit_view, fetch_customer, write_draft};
use crate::loyalty::merge::{MovedPoints, move_for_merge, return_for_undo};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit, consent, events};

/// A caregiver link the merge re-pointed: `(caregiver, patient)` before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedLink {
    pub caregiver_id: String,
    pub patient_id: String,
    pub new_caregiver_id: String,
    pub new_patient_id: String,
}

/// A consent the merge made more restrictive on the survivor, and what it was before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedConsent {
    pub channel: ConsentChannel,
    pub purpose: ConsentPurpose,
    /// The survivor's status before (`None`: never recorded).
    pub before: Option<ConsentStatus>,
    pub before_disclosure_version: Option<String>,
    /// The entry the merge appended.
    pub seq: i64,
}

/// Everything one merge moved, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub orders: Vec<String>,
    /// Orders placed for the merged profile as a caregiver's patient.
    pub patient_orders: Vec<String>,
    pub notes: Vec<String>,
    pub groups: Vec<String>,
    pub verifications: Vec<String>,
    pub medical_card: bool,
    pub caregiver_links: Vec<MovedLink>,
    pub checkins: Vec<String>,
    pub sms: Vec<String>,
    pub consent: Vec<MovedConsent>,
    pub loyalty: MovedPoints,
    /// The merged profile's ban was put on the survivor (which had none).
    pub ban: Option<Ban>,
}

impl Moved {
    /// How many of each kind moved, as the merge screen previews it.
    pub fn counts(&self) -> BTreeMap<&'static str, i64> {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        BTreeMap::from([
            ("orders", n(self.orders.len())),
            ("patient_orders", n(self.patient_orders.len())),
            ("notes", n(self.notes.len())),
            ("groups", n(self.groups.len())),
            ("verifications", n(self.verifications.len())),
            ("medical_card", i64::from(self.medical_card)),
            ("caregiver_links", n(self.caregiver_links.len())),
            ("checkins", n(self.checkins.len())),
            ("sms", n(self.sms.len())),
            ("consent", n(self.consent.len())),
            ("loyalty_points", self.loyalty.points()),
            ("ban", i64::from(self.ban.is_some())),
        ])
    }
}

/// One merge as it is read back (`GET /merges/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct Merge {
    pub id: MergeId,
    pub survivor_id: CustomerId,
    pub merged_id: CustomerId,
    /// The source each field's value came from.
    pub fields: BTreeMap<Field, Source>,
    pub survivor_before: Customer,
    pub survivor_after: Customer,
    pub merged_before: Customer,
    pub moved: Moved,
    pub counts: BTreeMap<&'static str, i64>,
    pub merged_at: Timestamp,
    pub merged_by: String,
    pub undone_at: Option<Timestamp>,
    pub undone_by: Option<String>,
}

/// A profile that may be the same person, with why.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateCandidate {
    pub customer: Customer,
    #[serde(flatten)]
    pub score: MatchScore,
}

/// A pair on the review list.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewPair {
    pub a: Customer,
    pub b: Customer,
    pub score: i32,
    pub level: String,
    pub signals: serde_json::Value,
    pub found_at: Timestamp,
}

/// One page of the review list, best score first; `next_cursor` continues it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewPage {
    pub items: Vec<ReviewPair>,
    pub next_cursor: Option<String>,
}

/// What creating a customer at intake did.
#[derive(Debug, Clone)]
pub enum IntakeOutcome {
    Created(Box<Customer>),
    /// Nothing was written: these profiles are likely the same person.
    LikelyDuplicates(Vec<DuplicateCandidate>),
}

/// What a bulk scan did.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub customers: usize,
    pub compared: usize,
    pub oversized_blocks: usize,
    pub pairs_found: usize,
    pub likely: usize,
    pub dismissed_skipped: usize,
    pub load_ms: u128,
    pub match_ms: u128,
    pub save_ms: u128,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

fn field_error(e: canopy_domain::FieldError) -> StoreError {
    StoreError::invalid(e.field, e.code, e.message)
}

fn ordered(a: CustomerId, b: CustomerId) -> (String, String) {
    let (x, y) = (a.to_string(), b.to_string());
    if x < y { (x, y) } else { (y, x) }
}

/// `UPDATE {table} SET {column} = to WHERE {column} = from RETURNING {key}`: the keys of the rows moved.
async fn move_all(
    tx: &mut Tx,
    table: &str,
    column: &str,
    key: &str,
    from: CustomerId,
    to: CustomerId,
) -> Result<Vec<String>> {
    let sql = format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2 RETURNING {key}");
    let mut ids: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql.clone()))
        .bind(to.to_string())
        .bind(from.to_string())
        .fetch_all(&mut **c)
        .await)?;
    ids.sort();
    Ok(ids)
}

/// Moves back the rows with these keys that still belong to `from`.
async fn move_back(
    tx: &mut Tx,
    table: &str,
    column: &str,
    key: &str,
    keys: &[String],
    from: CustomerId,
    to: CustomerId,
) -> Result<()> {
    for chunk in keys.chunks(500) {
        let list: Vec<String> = (3..chunk.len() + 3).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE {table} SET {column} = $1 WHERE {column} = $2 AND {key} IN ({})",
            list.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(to.to_string())
                .bind(from.to_string());
            for k in chunk {
                q = q.bind(k.as_str());
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Locks both customers' rows for the rest of the transaction (PostgreSQL; SQLite has one writer), in id
/// order, so a checkout that read either one waits for the merge and then sees it.
async fn lock_customers(tx: &mut Tx, a: CustomerId, b: CustomerId) -> Result<()> {
    if let Tx::Postgres(c) = tx {
        let (x, y) = ordered(a, b);
        sqlx::query("SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE")
            .bind(x)
            .bind(y)
            .fetch_all(&mut **c)
            .await?;
    }
    Ok(())
}

async fn merged_into_in(tx: &mut Tx, id: CustomerId) -> Result<Option<CustomerId>> {
    let raw: Option<Option<String>> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT merged_into FROM customers WHERE id = $1"
    )
    .bind(id.to_string())
    .fetch_optional(&mut **c)
    .await)?;
    match raw {
        None => Err(StoreError::NotFound { entity: "customer" }),
        Some(v) => v
            .map(|s| {
                s.parse()
                    .map_err(|_| StoreError::Corrupt(format!("merged_into {s:?}")))
            })
            .transpose(),
    }
}

async fn latest_verified_at(tx: &mut Tx, id: CustomerId) -> Result<Option<Timestamp>> {
    let at: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT MAX(verified_at) FROM id_verifications WHERE customer_id = $1"
    )
    .bind(id.to_string())
    .fetch_one(&mut **c)
    .await)?;
    Ok(at.map(from_micros))
}

async fn write_ban(tx: &mut Tx, id: CustomerId, ban: Option<&Ban>) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE customers SET ban_reason = $1, ban_note = $2, ban_since = $3, ban_until = $4, ban_by = $5 WHERE id = $6"
    )
    .bind(ban.map(|b| b.reason.clone()))
    .bind(ban.and_then(|b| b.note.clone()))
    .bind(ban.map(|b| to_micros(b.since)))
    .bind(ban.and_then(|b| b.until.map(to_micros)))
    .bind(ban.and_then(|b| b.by.clone()))
    .bind(id.to_string())
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// The customer's caregiver links as (caregiver, patient).
async fn links_of(tx: &mut Tx, id: CustomerId) -> Result<Vec<(String, String)>> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT caregiver_id, patient_id FROM caregiver_patients WHERE caregiver_id = $1 OR patient_id = $1 \
         ORDER BY caregiver_id, patient_id"
    )
    .bind(id.to_string())
    .fetch_all(&mut **c)
    .await
    })?)
}

async fn relink(tx: &mut Tx, from: (&str, &str), to: (&str, &str)) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE caregiver_patients SET caregiver_id = $1, patient_id = $2 WHERE caregiver_id = $3 AND patient_id = $4"
    )
    .bind(to.0)
    .bind(to.1)
    .bind(from.0)
    .bind(from.1)
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// Re-points the merged profile's caregiver links to the survivor, except links the survivor already has
/// or that would link the survivor to itself (those stay on the merged-away profile).
async fn move_links(tx: &mut Tx, from: CustomerId, to: CustomerId) -> Result<Vec<MovedLink>> {
    let (f, t) = (from.to_string(), to.to_string());
    let existing: HashSet<(String, String)> = links_of(tx, to).await?.into_iter().collect();
    let mut moved = Vec::new();
    for (caregiver, patient) in links_of(tx, from).await? {
        let swap = |x: &String| if *x == f { t.clone() } else { x.clone() };
        let (nc, np) = (swap(&caregiver), swap(&patient));
        if nc == np || existing.contains(&(nc.clone(), np.clone())) {
            continue;
        }
        relink(tx, (&caregiver, &patient), (&nc, &np)).await?;
        moved.push(MovedLink {
            caregiver_id: caregiver,
            patient_id: patient,
            new_caregiver_id: nc,
            new_patient_id: np,
        });
    }
    Ok(moved)
}

/// The latest entry of one (channel, purpose): status and disclosure version.
async fn latest_consent(
    tx: &mut Tx,
    customer: CustomerId,
    channel: ConsentChannel,
    purpose: ConsentPurpose,
) -> Result<Option<(i64, ConsentStatus, Option<String>)>> {
    let row: Option<(i64, String, Option<String>)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT seq, status, disclosure_version FROM consent_entries WHERE customer_id = $1 AND channel = $2 \
         AND purpose = $3 ORDER BY seq DESC LIMIT 1"
    )
    .bind(customer.to_string())
    .bind(channel.as_str())
    .bind(purpose.as_str())
    .fetch_optional(&mut **c)
    .await
    })?;
    row.map(|(seq, s, v)| {
        ConsentStatus::parse(&s)
            .map(|status| (seq, status, v))
            .ok_or_else(|| StoreError::Corrupt(format!("consent status {s:?}")))
    })
    .transpose()
}

/// The most restrictive consent wins: a revocation on the merged profile is appended to the survivor.
async fn merge_consent(
    tx: &mut Tx,
    actor: &Actor,
    from: CustomerId,
    to: CustomerId,
    merge_id: MergeId,
    now: Timestamp,
) -> Result<Vec<MovedConsent>> {
    let mut moved = Vec::new();
    for channel in ConsentChannel::ALL {
        for purpose in ConsentPurpose::ALL {
            let theirs = latest_consent(tx, from, channel, purpose).await?;
            let ours = latest_consent(tx, to, channel, purpose).await?;
            let revoked_there = matches!(theirs, Some((_, ConsentStatus::Revoked, _)));
            let revoked_here = matches!(ours, Some((_, ConsentStatus::Revoked, _)));
            if !revoked_there || revoked_here {
                continue;
            }
            let change = ConsentChange::new(
                channel,
                purpose,
                ConsentStatus::Revoked,
                ConsentSource::Merge,
                None,
            )
            .map_err(field_error)?
            .with_evidence(Some(format!(
                "revoked on {from}, merged by merge {merge_id}"
            )));
            let entry = consent::append(tx, to, &change, actor, now).await?;
            moved.push(MovedConsent {
                channel,
                purpose,
                before: ours.as_ref().map(|o| o.1),
                before_disclosure_version: ours.and_then(|o| o.2),
                seq: entry.seq,
            });
        }
    }
    Ok(moved)
}

/// Undo of [`merge_consent`]: where the merge's revocation is still the survivor's latest word, the
/// survivor's earlier grant is restored (an earlier silence stays revoked: for marketing that is the same,
/// and transactional texts are allowed until revoked, so a grant restores that).
async fn unmerge_consent(
    tx: &mut Tx,
    actor: &Actor,
    moved: &[MovedConsent],
    survivor: CustomerId,
    merge_id: MergeId,
    now: Timestamp,
) -> Result<()> {
    for m in moved {
        let latest = latest_consent(tx, survivor, m.channel, m.purpose).await?;
        if latest.map(|l| l.0) != Some(m.seq) {
            continue;
        }
        let restore = match (m.before, m.purpose) {
            (Some(ConsentStatus::Granted), _) | (None, ConsentPurpose::Transactional) => {
                ConsentStatus::Granted
            }
            _ => continue,
        };
        let change = ConsentChange::new(
            m.channel,
            m.purpose,
            restore,
            ConsentSource::Merge,
            m.before_disclosure_version.clone(),
        )
        .map_err(field_error)?
        .with_evidence(Some(format!("restored by undoing merge {merge_id}")));
        consent::append(tx, survivor, &change, actor, now).await?;
    }
    Ok(())
}

/// The columns a merge chose per field (never the id, creation, ban or times).
const NOT_DRAFT: [&str; 9] = [
    "id",
    "created_channel",
    "created_at",
    "updated_at",
    "ban_reason",
    "ban_note",
    "ban_since",
    "ban_until",
    "ban_by",
];

/// Field by field, the survivor's value before the merge wherever the merge set it and nothing changed
/// it since (a later edit, or a later merge, wins over the undo). A value that itself came from an earlier
/// merge into the same survivor that was undone since is traced back to what the survivor had before
/// that one (`earlier_undone`: newest first), so undoing A←B and then A←C leaves A's own phone, not B's.
fn restore_fields(
    before: &Customer,
    after: &Customer,
    current: &Customer,
    earlier_undone: &[(Customer, Customer)],
) -> Result<CustomerDraft> {
    let to_json = |c: &Customer| {
        serde_json::to_value(CustomerRow::from(c)).map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let (b, a, mut c) = (to_json(before)?, to_json(after)?, to_json(current)?);
    let earlier: Vec<(serde_json::Value, serde_json::Value)> = earlier_undone
        .iter()
        .map(|(eb, ea)| Ok((to_json(eb)?, to_json(ea)?)))
        .collect::<Result<_>>()?;
    if let (Some(b), Some(a), Some(c)) = (b.as_object(), a.as_object(), c.as_object_mut()) {
        for (key, old) in b {
            if NOT_DRAFT.contains(&key.as_str()) {
                continue;
            }
            if a.get(key) != Some(old) && c.get(key) == a.get(key) {
                let mut value = old.clone();
                for (eb, ea) in &earlier {
                    if ea.get(key) == Some(&value) && eb.get(key) != ea.get(key) {
                        value = eb.get(key).cloned().unwrap_or_default();
                    }
                }
                c.insert(key.clone(), value);
            }
        }
    }
    let row: CustomerRow = serde_json::from_value(c)
        .map_err(|e| StoreError::Corrupt(format!("restored profile: {e}")))?;
    Ok(Customer::try_from(row)?.details)
}

#[derive(sqlx::FromRow)]
struct MergeRow {
    id: String,
    survivor_id: String,
    merged_id: String,
    fields: String,
    survivor_before: String,
    survivor_after: String,
    merged_before: String,
    moved: String,
    merged_at: i64,
    merged_by: String,
    undone_at: Option<i64>,
    undone_by: Option<String>,
}

const MERGE_COLUMNS: &str = "id, survivor_id, merged_id, fields, survivor_before, survivor_after, merged_before, moved, \
     merged_at, merged_by, undone_at, undone_by";

fn store_customer(c: &Customer) -> String {
    serde_json::to_string(&CustomerRow::from(c)).unwrap_or_default()
}

/// Every profile merged into `survivor`, directly or through a chain (C into B, then B into A), and not
/// undone: the ones whose rows still point there.
pub(crate) async fn merged_into_transitively(
    tx: &mut Tx,
    survivor: CustomerId,
) -> Result<Vec<CustomerId>> {
    let mut found = Vec::new();
    let mut frontier = vec![survivor];
    while let Some(next) = frontier.pop() {
        let rows: Vec<(String,)> = on_tx!(tx, |c| {
            sqlx::query_as("SELECT id FROM customers WHERE merged_into = $1 ORDER BY id")
                .bind(next.to_string())
                .fetch_all(&mut **c)
                .await
        })?;
        for (id,) in rows {
            let id: CustomerId = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("customer id {id}")))?;
            if !found.contains(&id) && id != survivor {
                found.push(id);
                frontier.push(id);
            }
        }
    }
    Ok(found)
}

/// The names `profile` had in its merges' snapshots (before and after each merge), which a name change
/// since may have left in the search dictionary.
pub(crate) async fn snapshot_names(
    tx: &mut Tx,
    profile: CustomerId,
) -> Result<Vec<canopy_domain::PersonName>> {
    let rows: Vec<(String, String, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT survivor_before, survivor_after, merged_before FROM customer_merges \
             WHERE survivor_id = $1 OR merged_id = $1",
        )
        .bind(profile.to_string())
        .fetch_all(&mut **c)
        .await
    })?;
    let mut names = Vec::new();
    for (before, after, merged) in rows {
        for raw in [before, after, merged] {
            names.push(load_customer(&raw)?.details.name);
        }
    }
    Ok(names)
}

/// Replaces every merge snapshot of `profile` with the profile as it is now: an erasure leaves no
/// copy of the person in the merge history.
pub(crate) async fn forget_snapshots_of(tx: &mut Tx, profile: &Customer) -> Result<()> {
    let snapshot = store_customer(profile);
    let key = profile.id.to_string();
    for sql in [
        "UPDATE customer_merges SET survivor_before = $1, survivor_after = $1 WHERE survivor_id = $2",
        "UPDATE customer_merges SET merged_before = $1 WHERE merged_id = $2",
    ] {
        on_tx!(tx, |c| {
            sqlx::query(sql)
                .bind(&snapshot)
                .bind(&key)
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
    }
    Ok(())
}

fn load_customer(raw: &str) -> Result<Customer> {
    let row: CustomerRow = serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("merge snapshot: {e}")))?;
    Customer::try_from(row)
}

impl TryFrom<MergeRow> for Merge {
    type Error = StoreError;
    fn try_from(r: MergeRow) -> Result<Merge> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("merge {}: {what}", r.id));
        let moved: Moved = serde_json::from_str(&r.moved).map_err(|_| corrupt("moved"))?;
        Ok(Merge {
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            survivor_id: r.survivor_id.parse().map_err(|_| corrupt("survivor_id"))?,
            merged_id: r.merged_id.parse().map_err(|_| corrupt("merged_id"))?,
            fields: serde_json::from_str(&r.fields).map_err(|_| corrupt("fields"))?,
            survivor_before: load_customer(&r.survivor_before)?,
            survivor_after: load_customer(&r.survivor_after)?,
            merged_before: load_customer(&r.merged_before)?,
            counts: moved.counts(),
            moved,
            merged_at: from_micros(r.merged_at),
            merged_by: r.merged_by,
            undone_at: r.undone_at.map(from_micros),
            undone_by: r.undone_by,
        })
    }
}

async fn merge_in(tx: &mut Tx, id: MergeId) -> Result<Merge> {
    let sql = format!("SELECT {MERGE_COLUMNS} FROM customer_merges WHERE id = $1");
    let row: Option<MergeRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await)?;
    row.ok_or(StoreError::NotFound { entity: "merge" })?
        .try_into()
}

/// The whole merge inside `tx` (committed by [`Store::merge_customers`], rolled back by the preview).
async fn merge_tx(
    tx: &mut Tx,
    survivor_id: CustomerId,
    merged_id: CustomerId,
    choices: &BTreeMap<Field, Source>,
    actor: &Actor,
    now: Timestamp,
) -> Result<Merge> {
    if survivor_id == merged_id {
        return Err(StoreError::invalid(
            "merged_id",
            "same_customer",
            "a profile cannot be merged into itself",
        ));
    }
    lock_customers(tx, survivor_id, merged_id).await?;
    let survivor = fetch_customer(tx, survivor_id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    let merged = fetch_customer(tx, merged_id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    for (who, id) in [("survivor", survivor_id), ("merged", merged_id)] {
        if let Some(into) = merged_into_in(tx, id).await? {
            return Err(refused(
                "already_merged",
                format!("the {who} profile {id} was already merged into {into}"),
            ));
        }
    }
    let default = default_source(
        latest_verified_at(tx, survivor_id).await?,
        latest_verified_at(tx, merged_id).await?,
        survivor.updated_at,
        merged.updated_at,
    );
    let sources = resolve(choices, default).map_err(field_error)?;
    let details = merged_details(&survivor.details, &merged.details, &sources);
    let merge_id = MergeId::new();

    // The merged-away row keeps its data for reading but gives up the unique keys.
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE customers SET merged_into = $1, phone_e164 = NULL, phone_rev = NULL, email_key = NULL, \
         id_number_key = NULL, updated_at = $2 WHERE id = $3"
    )
    .bind(survivor_id.to_string())
    .bind(to_micros(now))
    .bind(merged_id.to_string())
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    Store::ensure_unique(tx, &details, Some(survivor_id)).await?;
    write_draft(tx, survivor_id, &details, now).await?;

    let mut moved = Moved::default();
    // A ban on either profile survives: the survivor keeps its own, or takes the merged profile's.
    if survivor.ban.is_none()
        && let Some(ban) = merged.ban.clone()
    {
        write_ban(tx, survivor_id, Some(&ban)).await?;
        moved.ban = Some(ban);
    }
    let (from, to) = (merged_id, survivor_id);
    moved.orders = move_all(tx, "orders", "customer_id", "id", from, to).await?;
    moved.patient_orders = move_all(tx, "orders", "patient_id", "id", from, to).await?;
    moved.notes = move_all(tx, "customer_notes", "customer_id", "id", from, to).await?;
    moved.groups = {
        let sql = "UPDATE group_members SET customer_id = $1 WHERE customer_id = $2 AND group_id NOT IN \
                   (SELECT group_id FROM group_members WHERE customer_id = $1) RETURNING group_id";
        let mut ids: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(sql)
            .bind(to.to_string())
            .bind(from.to_string())
            .fetch_all(&mut **c)
            .await)?;
        ids.sort();
        ids
    };
    moved.verifications = move_all(tx, "id_verifications", "customer_id", "id", from, to).await?;
    moved.medical_card = {
        let n = on_tx!(tx, |c| sqlx::query(
            "UPDATE medical_cards SET customer_id = $1 WHERE customer_id = $2 AND NOT EXISTS \
             (SELECT 1 FROM medical_cards m WHERE m.customer_id = $1)"
        )
        .bind(to.to_string())
        .bind(from.to_string())
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected()))?;
        n > 0
    };
    moved.caregiver_links = move_links(tx, from, to).await?;
    moved.checkins = move_all(tx, "checkins", "customer_id", "id", from, to).await?;
    moved.sms = move_all(tx, "sms_outbox", "customer_id", "id", from, to).await?;
    moved.consent = merge_consent(tx, actor, from, to, merge_id, now).await?;
    moved.loyalty = move_for_merge(tx, actor, from, to, &merge_id.to_string(), now).await?;

    let survivor_after = fetch_customer(tx, survivor_id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    let fields_json = serde_json::to_string(&sources).unwrap_or_default();
    let moved_json =
        serde_json::to_string(&moved).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO customer_merges (id, survivor_id, merged_id, fields, survivor_before, survivor_after, \
         merged_before, moved, merged_at, merged_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(merge_id.to_string())
    .bind(survivor_id.to_string())
    .bind(merged_id.to_string())
    .bind(&fields_json)
    .bind(store_customer(&survivor))
    .bind(store_customer(&survivor_after))
    .bind(store_customer(&merged))
    .bind(&moved_json)
    .bind(to_micros(now))
    .bind(&actor.label)
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    let counts = moved.counts();
    let changes = audit::diff(&audit_view(&survivor), &audit_view(&survivor_after));
    audit::record(
        tx,
        actor,
        now,
        "customer.merge",
        "customer",
        Some(&survivor_id.to_string()),
        &serde_json::json!({ "merge_id": merge_id, "merged_id": merged_id, "fields": sources,
            "changes": changes, "moved": counts }),
    )
    .await?;
    audit::record(
        tx,
        actor,
        now,
        "customer.merged_into",
        "customer",
        Some(&merged_id.to_string()),
        &serde_json::json!({ "merge_id": merge_id, "survivor_id": survivor_id }),
    )
    .await?;
    events::emit(
        tx,
        EventKind::CustomerMerged,
        &survivor_id.to_string(),
        serde_json::json!({ "merge_id": merge_id, "survivor_id": survivor_id, "merged_id": merged_id,
            "customer": audit_view(&survivor_after), "moved": counts }),
        now,
    )
    .await?;
    Ok(Merge {
        id: merge_id,
        survivor_id,
        merged_id,
        fields: sources,
        survivor_before: survivor,
        survivor_after,
        merged_before: merged,
        counts,
        moved,
        merged_at: now,
        merged_by: actor.label.clone(),
        undone_at: None,
        undone_by: None,
    })
}

impl Store {
    /// Merges `merged_id` into `survivor_id` in one transaction: the survivor's fields from `choices`
    /// (unchosen fields from the profile verified most recently), everything of the merged profile moved to
    /// the survivor, audit rows and a `customer.merged` event. The caller checks `customers:merge`.
    pub async fn merge_customers(
        &self,
        survivor_id: CustomerId,
        merged_id: CustomerId,
        choices: &BTreeMap<Field, Source>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Merge> {
        let mut tx = self.begin().await?;
        let merge = merge_tx(&mut tx, survivor_id, merged_id, choices, actor, now).await?;
        tx.commit().await?;
        Ok(merge)
    }

    /// What [`Store::merge_customers`] would do, without doing it: the same transaction, rolled back.
    pub async fn preview_merge(
        &self,
        survivor_id: CustomerId,
        merged_id: CustomerId,
        choices: &BTreeMap<Field, Source>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Merge> {
        let mut tx = self.begin().await?;
        let merge = merge_tx(&mut tx, survivor_id, merged_id, choices, actor, now).await?;
        drop(tx);
        Ok(merge)
    }

    pub async fn merge(&self, id: MergeId) -> Result<Merge> {
        let sql = format!("SELECT {MERGE_COLUMNS} FROM customer_merges WHERE id = $1");
        let row: Option<MergeRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::NotFound { entity: "merge" })?
            .try_into()
    }

    /// Merges a customer took part in (as survivor or merged), newest first: the profile's history.
    pub async fn merges_of_customer(&self, id: CustomerId) -> Result<Vec<Merge>> {
        let sql = format!(
            "SELECT {MERGE_COLUMNS} FROM customer_merges WHERE survivor_id = $1 OR merged_id = $1 \
             ORDER BY merged_at DESC, id DESC LIMIT 100"
        );
        let rows: Vec<MergeRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Merge::try_from).collect()
    }

    /// Undoes a merge in one transaction: moves back exactly what it moved, restores the fields it set
    /// (unless changed since) and the merged profile as it was, with audit rows and a `customer.unmerged`
    /// event. Refuses (`StoreError::Refused`, nothing written) when that cannot be done safely.
    pub async fn undo_merge(&self, id: MergeId, actor: &Actor, now: Timestamp) -> Result<Merge> {
        let mut tx = self.begin().await?;
        let merge = merge_in(&mut tx, id).await?;
        if merge.undone_at.is_some() {
            return Err(refused("already_undone", "this merge was already undone"));
        }
        let (survivor_id, merged_id) = (merge.survivor_id, merge.merged_id);
        lock_customers(&mut tx, survivor_id, merged_id).await?;
        let (erased,): (Option<i64>,) = on_tx!(&mut tx, |c| {
            sqlx::query_as("SELECT erased_at FROM customers WHERE id = $1")
                .bind(survivor_id.to_string())
                .fetch_one(&mut **c)
                .await
        })?;
        if erased.is_some() {
            return Err(refused(
                "customer_erased",
                "this person's data was erased; there is nothing left to move back",
            ));
        }
        if let Some(into) = merged_into_in(&mut tx, survivor_id).await? {
            return Err(refused(
                "survivor_merged",
                format!(
                    "the surviving profile was merged into {into} afterwards; undo that merge first"
                ),
            ));
        }
        if merged_into_in(&mut tx, merged_id).await? != Some(survivor_id) {
            return Err(refused(
                "not_merged",
                "the merged profile no longer points at the survivor",
            ));
        }
        let current = fetch_customer(&mut tx, survivor_id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let sql = format!(
            "SELECT {MERGE_COLUMNS} FROM customer_merges WHERE survivor_id = $1 AND merged_at <= $2 AND id <> $3 \
             AND undone_at IS NOT NULL ORDER BY merged_at DESC, id DESC"
        );
        let earlier: Vec<MergeRow> =
            on_tx!(&mut tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(survivor_id.to_string())
                .bind(to_micros(merge.merged_at))
                .bind(id.to_string())
                .fetch_all(&mut **c)
                .await)?;
        let earlier: Vec<(Customer, Customer)> = earlier
            .into_iter()
            .map(|r| {
                Ok((
                    load_customer(&r.survivor_before)?,
                    load_customer(&r.survivor_after)?,
                ))
            })
            .collect::<Result<_>>()?;
        let restored = restore_fields(
            &merge.survivor_before,
            &merge.survivor_after,
            &current,
            &earlier,
        )?;
        Self::ensure_unique(&mut tx, &restored, Some(survivor_id)).await?;
        write_draft(&mut tx, survivor_id, &restored, now).await?;
        let conflict =
            Self::ensure_unique(&mut tx, &merge.merged_before.details, Some(merged_id)).await;
        if let Err(StoreError::DuplicateCustomer { field, existing }) = conflict {
            let whose = existing
                .map(|e| format!(" customer {e}"))
                .unwrap_or_else(|| " another customer".into());
            return Err(refused(
                "field_taken",
                format!(
                    "the merged profile's {field} now belongs to{whose}; change it there first"
                ),
            ));
        }
        conflict?;
        write_draft(&mut tx, merged_id, &merge.merged_before.details, now).await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE customers SET merged_into = NULL WHERE id = $1"
        )
        .bind(merged_id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        if let Some(ban) = &merge.moved.ban
            && current.ban.as_ref() == Some(ban)
        {
            write_ban(&mut tx, survivor_id, None).await?;
        }
        let m = &merge.moved;
        let (from, to) = (survivor_id, merged_id);
        move_back(&mut tx, "orders", "customer_id", "id", &m.orders, from, to).await?;
        move_back(
            &mut tx,
            "orders",
            "patient_id",
            "id",
            &m.patient_orders,
            from,
            to,
        )
        .await?;
        move_back(
            &mut tx,
            "customer_notes",
            "customer_id",
            "id",
            &m.notes,
            from,
            to,
        )
        .await?;
        move_back(
            &mut tx,
            "group_members",
            "customer_id",
            "group_id",
            &m.groups,
            from,
            to,
        )
        .await?;
        move_back(
            &mut tx,
            "id_verifications",
            "customer_id",
            "id",
            &m.verifications,
            from,
            to,
        )
        .await?;
        if m.medical_card {
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE medical_cards SET customer_id = $1 WHERE customer_id = $2"
            )
            .bind(to.to_string())
            .bind(from.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ()))?;
        }
        for link in &m.caregiver_links {
            relink(
                &mut tx,
                (&link.new_caregiver_id, &link.new_patient_id),
                (&link.caregiver_id, &link.patient_id),
            )
            .await?;
        }
        move_back(
            &mut tx,
            "checkins",
            "customer_id",
            "id",
            &m.checkins,
            from,
            to,
        )
        .await?;
        move_back(&mut tx, "sms_outbox", "customer_id", "id", &m.sms, from, to).await?;
        unmerge_consent(&mut tx, actor, &m.consent, survivor_id, id, now).await?;
        if let Err(short) = return_for_undo(
            &mut tx,
            actor,
            &m.loyalty,
            survivor_id,
            merged_id,
            &id.to_string(),
            now,
        )
        .await?
        {
            return Err(refused(
                "points_spent",
                format!(
                    "{} of the merged points were already redeemed and the survivor's own balance has only {}; \
                     adjust the survivor's points first",
                    short.needed, short.available
                ),
            ));
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE customer_merges SET undone_at = $1, undone_by = $2 WHERE id = $3"
        )
        .bind(to_micros(now))
        .bind(&actor.label)
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        let survivor_now = fetch_customer(&mut tx, survivor_id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let merged_now = fetch_customer(&mut tx, merged_id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let details = serde_json::json!({ "merge_id": id, "survivor_id": survivor_id, "merged_id": merged_id });
        for customer in [survivor_id, merged_id] {
            audit::record(
                &mut tx,
                actor,
                now,
                "customer.unmerge",
                "customer",
                Some(&customer.to_string()),
                &details,
            )
            .await?;
        }
        events::emit(
            &mut tx,
            EventKind::CustomerUnmerged,
            &survivor_id.to_string(),
            serde_json::json!({ "merge_id": id, "survivor_id": survivor_id, "merged_id": merged_id,
                "survivor": audit_view(&survivor_now), "restored": audit_view(&merged_now) }),
            now,
        )
        .await?;
        tx.commit().await?;
        self.merge(id).await
    }

    /// The survivor a merged-away id points at (`None` for a live profile).
    pub async fn merged_into(&self, id: CustomerId) -> Result<Option<CustomerId>> {
        let raw: Option<Option<String>> = on_read!(self, |p| sqlx::query_scalar(
            "SELECT merged_into FROM customers WHERE id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(p)
        .await)?;
        match raw {
            None => Err(StoreError::NotFound { entity: "customer" }),
            Some(v) => v
                .map(|s| {
                    s.parse()
                        .map_err(|_| StoreError::Corrupt(format!("merged_into {s:?}")))
                })
                .transpose(),
        }
    }

    /// The live profile an id stands for: itself, or the end of its chain of merges. Checkout and
    /// integrations naming a merged-away id land on the survivor.
    pub async fn resolve_customer(&self, id: CustomerId) -> Result<CustomerId> {
        let mut current = id;
        for _ in 0..16 {
            match self.merged_into(current).await? {
                Some(next) => current = next,
                None => return Ok(current),
            }
        }
        Err(StoreError::Corrupt(format!(
            "merge chain from {id} does not end"
        )))
    }

    /// `customers_by_ids` without merged-away profiles (search never returns them).
    pub async fn live_customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
        let merged = self.merged_among(ids).await?;
        let live: Vec<CustomerId> = ids
            .iter()
            .copied()
            .filter(|id| !merged.contains(id))
            .collect();
        self.customers_by_ids(&live).await
    }

    async fn merged_among(&self, ids: &[CustomerId]) -> Result<HashSet<CustomerId>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM customers WHERE merged_into IS NOT NULL AND id IN ({})",
            list.join(", ")
        );
        let rows: Vec<String> = on_read!(self, |p| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql.clone()));
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().filter_map(|s| s.parse().ok()).collect())
    }

    /// Live profiles that may be the same person as `draft` (scored at least `at_least`), best first,
    /// leaving out `except` and pairs staff already said are different people. Candidates come from the
    /// indexes: same phone, email or ID number, same date of birth, and a typo-tolerant name search.
    pub async fn duplicate_candidates(
        &self,
        draft: &CustomerDraft,
        except: Option<CustomerId>,
        at_least: Level,
        limit: usize,
    ) -> Result<Vec<DuplicateCandidate>> {
        let profile = Profile::from(draft);
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE merged_into IS NULL AND id <> $1 AND \
             (phone_e164 = $2 OR email_key = $3 OR id_number_key = $4) LIMIT 50"
        );
        let except_s = except.map(|e| e.to_string()).unwrap_or_default();
        let mut rows: Vec<CustomerRow> =
            on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(&except_s)
                .bind(profile.phone.as_deref())
                .bind(profile.email.as_deref())
                .bind(profile.id_document.as_ref().map(|d| d.0.as_str()))
                .fetch_all(p)
                .await)?;
        if let Some(dob) = draft.date_of_birth {
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE date_of_birth = $1 AND merged_into IS NULL \
                 AND id <> $2 LIMIT 500"
            );
            rows.extend(on_read!(self, |p| sqlx::query_as::<_, CustomerRow>(
                AssertSqlSafe(sql.clone())
            )
            .bind(dob.to_string())
            .bind(&except_s)
            .fetch_all(p)
            .await)?);
        }
        let mut seen: HashSet<CustomerId> = HashSet::new();
        let mut found: Vec<Customer> = Vec::new();
        for row in rows {
            let c = Customer::try_from(row)?;
            if Some(c.id) != except && seen.insert(c.id) {
                found.push(c);
            }
        }
        let name = format!("{} {}", draft.name.first, draft.name.last);
        for c in self.search_customers(&name, 20).await? {
            if Some(c.id) != except && seen.insert(c.id) {
                found.push(c);
            }
        }
        let dismissed = match except {
            Some(id) => self.dismissed_with(id).await?,
            None => HashSet::new(),
        };
        let mut scored: Vec<DuplicateCandidate> = found
            .into_iter()
            .filter(|c| !dismissed.contains(&c.id))
            .map(|c| DuplicateCandidate {
                score: score(&profile, &Profile::from(&c.details)),
                customer: c,
            })
            .filter(|d| d.score.level >= at_least)
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .score
                .cmp(&a.score.score)
                .then(a.customer.id.cmp(&b.customer.id))
        });
        scored.truncate(limit);
        Ok(scored)
    }

    /// Likely duplicates among live profiles for many new people at once (an import): for each draft, the
    /// profiles sharing one of its blocking keys (the bulk scan's, `canopy_matching::blocking_keys`) that
    /// score "likely", best first. Candidates are read in chunks by last name and by date of birth, the
    /// blocks a new person can share with someone whose phone, email and ID differ.
    pub async fn likely_duplicates_of_new(
        &self,
        drafts: &[&CustomerDraft],
    ) -> Result<Vec<Vec<DuplicateCandidate>>> {
        let mut last_names: Vec<String> = drafts.iter().map(|d| d.name.last.clone()).collect();
        last_names.sort();
        last_names.dedup();
        let mut dates: Vec<String> = drafts
            .iter()
            .filter_map(|d| d.date_of_birth.map(|b| b.to_string()))
            .collect();
        dates.sort();
        dates.dedup();
        let mut found: HashMap<CustomerId, Customer> = HashMap::new();
        for (column, keys) in [("last_name", &last_names), ("date_of_birth", &dates)] {
            for chunk in keys.chunks(500) {
                let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {column} IN ({}) \
                     AND merged_into IS NULL AND erased_at IS NULL",
                    list.join(", ")
                );
                let rows: Vec<CustomerRow> = on_read!(self, |p| {
                    let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    q.fetch_all(p).await
                })?;
                for row in rows {
                    let c = Customer::try_from(row)?;
                    found.insert(c.id, c);
                }
            }
        }
        let mut by_key: HashMap<String, Vec<CustomerId>> = HashMap::new();
        let profiles: HashMap<CustomerId, Profile> = found
            .values()
            .map(|c| (c.id, Profile::from(&c.details)))
            .collect();
        for (id, p) in &profiles {
            for key in canopy_matching::blocking_keys(p) {
                by_key.entry(key).or_default().push(*id);
            }
        }
        Ok(drafts
            .iter()
            .map(|draft| {
                let profile = Profile::from(*draft);
                let mut seen = HashSet::new();
                let mut out: Vec<DuplicateCandidate> = canopy_matching::blocking_keys(&profile)
                    .iter()
                    .filter_map(|k| by_key.get(k))
                    .flatten()
                    .filter(|id| seen.insert(**id))
                    .filter_map(|id| {
                        let s = score(&profile, &profiles[id]);
                        (s.level >= Level::Likely).then(|| DuplicateCandidate {
                            customer: found[id].clone(),
                            score: s,
                        })
                    })
                    .collect();
                out.sort_by(|a, b| {
                    b.score
                        .score
                        .cmp(&a.score.score)
                        .then(a.customer.id.cmp(&b.customer.id))
                });
                out
            })
            .collect())
    }

    /// The live profile each of these ids stands for (the end of its merges), for the ids that name a
    /// customer who was not erased. An erased customer stands for no one: a row naming one is treated as a
    /// new person, which the erasure tombstone then refuses.
    pub async fn resolve_customers(
        &self,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, CustomerId>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, merged_into FROM customers WHERE erased_at IS NULL AND id IN ({})",
                list.join(", ")
            );
            let rows: Vec<(String, Option<String>)> = on_read!(self, |p| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(id.to_string());
                }
                q.fetch_all(p).await
            })?;
            for (id, merged_into) in rows {
                let id: CustomerId = id
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("customer id {id:?}")))?;
                let live = match merged_into {
                    None => id,
                    Some(_) => self.resolve_customer(id).await?,
                };
                out.insert(id, live);
            }
        }
        Ok(out)
    }

    async fn dismissed_with(&self, id: CustomerId) -> Result<HashSet<CustomerId>> {
        let rows: Vec<(String, String)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT customer_a, customer_b FROM duplicate_dismissals WHERE customer_a = $1 OR customer_b = $1"
        )
        .bind(id.to_string())
        .fetch_all(p)
        .await
        })?;
        let me = id.to_string();
        Ok(rows
            .into_iter()
            .filter_map(|(a, b)| {
                if a == me {
                    b.parse().ok()
                } else {
                    a.parse().ok()
                }
            })
            .collect())
    }

    /// Creates a customer at intake. Unless `different_person` is set, a likely duplicate answers with the
    /// candidates and writes nothing; with it, the customer is created and each likely candidate is
    /// recorded as "not the same person" (audited), in one transaction. The exact-duplicate check (phone,
    /// email, ID number already on file) comes first and is never overridden.
    pub async fn create_customer_at_intake(
        &self,
        draft: CustomerDraft,
        different_person: bool,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<IntakeOutcome> {
        {
            let mut tx = self.begin().await?;
            Self::ensure_unique(&mut tx, &draft, None).await?;
        }
        let candidates = self
            .duplicate_candidates(&draft, None, Level::Likely, 10)
            .await?;
        if !candidates.is_empty() && !different_person {
            return Ok(IntakeOutcome::LikelyDuplicates(candidates));
        }
        let mut tx = self.begin().await?;
        crate::privacy::refuse_erased(&mut tx, &[&draft], now).await?;
        let customer = crate::customers::create_in_tx(&mut tx, draft, actor, now).await?;
        for c in &candidates {
            dismiss_in(&mut tx, customer.id, c.customer.id, "intake", actor, now).await?;
        }
        tx.commit().await?;
        Ok(IntakeOutcome::Created(Box::new(customer)))
    }

    /// Records that two profiles are different people (audited): neither intake nor the review list
    /// offers the pair again.
    pub async fn dismiss_duplicate(
        &self,
        a: CustomerId,
        b: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        if a == b {
            return Err(StoreError::invalid(
                "customer_ids",
                "same_customer",
                "give two different customers",
            ));
        }
        let mut tx = self.begin().await?;
        for id in [a, b] {
            fetch_customer(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound { entity: "customer" })?;
        }
        dismiss_in(&mut tx, a, b, "review", actor, now).await?;
        tx.commit().await
    }

    /// The review list: pairs the scan found, best score first, without dismissed pairs or merged-away
    /// profiles. `cursor` is the `next_cursor` of the previous page.
    pub async fn duplicate_review(&self, cursor: Option<&str>, limit: u32) -> Result<ReviewPage> {
        let (score_after, a_after, b_after) = match cursor.and_then(|c| {
            let mut parts = c.splitn(3, ':');
            Some((
                parts.next()?.parse::<i64>().ok()?,
                parts.next()?.to_string(),
                parts.next()?.to_string(),
            ))
        }) {
            Some(c) => c,
            None if cursor.is_some() => {
                return Err(StoreError::invalid(
                    "cursor",
                    "invalid_cursor",
                    "cursor is not valid",
                ));
            }
            None => (i64::MAX, String::new(), String::new()),
        };
        let sql = format!(
            "SELECT p.customer_a, p.customer_b, p.score, p.level, p.reasons, p.found_at FROM duplicate_pairs p \
             WHERE {OPEN_PAIR} \
             AND (p.score < $1 OR (p.score = $1 AND (p.customer_a > $2 OR (p.customer_a = $2 AND p.customer_b > $3)))) \
             ORDER BY p.score DESC, p.customer_a, p.customer_b LIMIT $4"
        );
        let rows: Vec<(String, String, i64, String, String, i64)> = on_read!(self, |p| {
            sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(score_after)
                .bind(&a_after)
                .bind(&b_after)
                .bind(i64::from(limit) + 1)
                .fetch_all(p)
                .await
        })?;
        let more = rows.len() > limit as usize;
        let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
        let ids: Vec<CustomerId> = rows
            .iter()
            .flat_map(|r| [r.0.parse().ok(), r.1.parse().ok()])
            .flatten()
            .collect();
        let customers: HashMap<CustomerId, Customer> = self
            .customers_by_ids(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let next_cursor = if more {
            rows.last().map(|r| format!("{}:{}:{}", r.2, r.0, r.1))
        } else {
            None
        };
        let mut items = Vec::new();
        for (a, b, score, level, reasons, found_at) in rows {
            let (Some(a), Some(b)) = (
                a.parse()
                    .ok()
                    .and_then(|id: CustomerId| customers.get(&id).cloned()),
                b.parse()
                    .ok()
                    .and_then(|id: CustomerId| customers.get(&id).cloned()),
            ) else {
                continue;
            };
            items.push(ReviewPair {
                a,
                b,
                score: i32::try_from(score).unwrap_or(0),
                level,
                signals: serde_json::from_str(&reasons).unwrap_or_default(),
                found_at: from_micros(found_at),
            });
        }
        Ok(ReviewPage { items, next_cursor })
    }

    /// The review list's score for a pair, if the last scan found it.
    pub async fn duplicate_pair_score(&self, a: CustomerId, b: CustomerId) -> Result<Option<i64>> {
        let (x, y) = ordered(a, b);
        Ok(on_read!(self, |p| sqlx::query_scalar(
            "SELECT score FROM duplicate_pairs WHERE customer_a = $1 AND customer_b = $2"
        )
        .bind(&x)
        .bind(&y)
        .fetch_optional(p)
        .await)?)
    }

    /// The bulk scan: every live customer, compared within blocks (see `canopy_matching::candidate_pairs`);
    /// the pairs worth a review replace the review list (dismissed pairs are skipped).
    pub async fn scan_duplicates(
        &self,
        max_block: usize,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ScanReport> {
        let started = std::time::Instant::now();
        let (ids, profiles) = self.match_profiles().await?;
        let load_ms = started.elapsed().as_millis();
        let started = std::time::Instant::now();
        let result = canopy_matching::scan(&profiles, max_block);
        let match_ms = started.elapsed().as_millis();
        let started = std::time::Instant::now();
        let dismissed: HashSet<(String, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT customer_a, customer_b FROM duplicate_dismissals"
        )
        .fetch_all(p)
        .await)?
        .into_iter()
        .collect();
        let mut rows: Vec<(String, String, i64, &'static str, String)> = Vec::new();
        let mut skipped = 0;
        let mut likely = 0;
        for f in &result.found {
            let (a, b) = (&ids[f.a as usize], &ids[f.b as usize]);
            let (a, b) = if a < b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            if dismissed.contains(&(a.clone(), b.clone())) {
                skipped += 1;
                continue;
            }
            if f.score.level == Level::Likely {
                likely += 1;
            }
            let reasons = serde_json::to_string(&f.score.signals).unwrap_or_default();
            rows.push((
                a,
                b,
                i64::from(f.score.score),
                f.score.level.as_str(),
                reasons,
            ));
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query("DELETE FROM duplicate_pairs")
            .execute(&mut **c)
            .await
            .map(|_| ()))?;
        for chunk in rows.chunks(400) {
            let sql = tx.bulk_sql(format!(
                "INSERT INTO duplicate_pairs (customer_a, customer_b, score, level, reasons, found_at) VALUES {}",
                crate::events::placeholders(chunk.len(), 6)
            ));
            on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (a, b, s, l, r) in chunk {
                    q = q
                        .bind(a.as_str())
                        .bind(b.as_str())
                        .bind(*s)
                        .bind(*l)
                        .bind(r.as_str())
                        .bind(to_micros(now));
                }
                q.execute(&mut **c).await.map(|_| ())
            })?;
        }
        let report = ScanReport {
            customers: profiles.len(),
            compared: result.compared,
            oversized_blocks: result.oversized_blocks,
            pairs_found: rows.len(),
            likely,
            dismissed_skipped: skipped,
            load_ms,
            match_ms,
            save_ms: 0,
        };
        audit::record(
            &mut tx,
            actor,
            now,
            "duplicates.scan",
            "customer",
            None,
            &serde_json::to_value(&report).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(ScanReport {
            save_ms: started.elapsed().as_millis(),
            ..report
        })
    }

    /// Every live customer as matching reads them, in pages by `seq` so a million rows stream through a
    /// bounded amount of memory per query.
    async fn match_profiles(&self) -> Result<(Vec<String>, Vec<Profile>)> {
        let mut ids = Vec::new();
        let mut profiles = Vec::new();
        let mut after: i64 = -1;
        loop {
            let sql = format!(
                "SELECT seq, {CUSTOMER_COLUMNS} FROM customers WHERE seq > $1 AND merged_into IS NULL ORDER BY seq LIMIT 20000"
            );
            let rows: Vec<SeqRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(after)
                .fetch_all(p)
                .await)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in rows {
                let c = Customer::try_from(row.customer)?;
                ids.push(c.id.to_string());
                profiles.push(Profile::from(&c.details));
            }
        }
        Ok((ids, profiles))
    }
}

/// The SQL condition under which a review-list pair `p` is still open: both profiles live (neither
/// merged away nor erased) and no one said they are different people. The review list and erasure's
/// "pending merge" read the same condition.
const OPEN_PAIR: &str = "EXISTS (SELECT 1 FROM customers ca WHERE ca.id = p.customer_a AND ca.merged_into IS NULL \
     AND ca.erased_at IS NULL) AND EXISTS (SELECT 1 FROM customers cb WHERE cb.id = p.customer_b \
     AND cb.merged_into IS NULL AND cb.erased_at IS NULL) AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals d \
     WHERE d.customer_a = p.customer_a AND d.customer_b = p.customer_b)";

/// A pending merge of `id`: the other profile of an open pair on the review list (the best-scoring one),
/// which a manager has neither merged nor dismissed.
pub(crate) async fn pending_pair_of(tx: &mut Tx, id: CustomerId) -> Result<Option<String>> {
    let sql = format!(
        "SELECT CASE WHEN p.customer_a = $1 THEN p.customer_b ELSE p.customer_a END FROM duplicate_pairs p \
         WHERE (p.customer_a = $1 OR p.customer_b = $1) AND {OPEN_PAIR} \
         ORDER BY p.score DESC, p.customer_a, p.customer_b LIMIT 1"
    );
    Ok(on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(
        sql.clone()
    ))
    .bind(id.to_string())
    .fetch_optional(&mut **c)
    .await)?)
}

#[derive(sqlx::FromRow)]
struct SeqRow {
    seq: i64,
    #[sqlx(flatten)]
    customer: CustomerRow,
}

pub(crate) async fn dismiss_in(
    tx: &mut Tx,
    a: CustomerId,
    b: CustomerId,
    context: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let (x, y) = ordered(a, b);
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO duplicate_dismissals (customer_a, customer_b, context, dismissed_at, dismissed_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_a, customer_b) DO NOTHING"
    )
    .bind(&x)
    .bind(&y)
    .bind(context)
    .bind(to_micros(now))
    .bind(&actor.label)
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    audit::record(
        tx,
        actor,
        now,
        "customer.duplicate_dismissed",
        "customer",
        Some(&a.to_string()),
        &serde_json::json!({ "other_customer_id": b, "context": context }),
    )
    .await
}
