//! Privacy requests and retention: the right to know (one export of everything held about a person, in
//! one consistent read), the right to delete (personal data removed or replaced, sales records kept
//! without identity, a tombstone against re-creation), and the retention purge. The rules themselves are
//! data in `canopy-privacy`; this module only loads their inputs and writes their results.

use std::collections::BTreeSet;

use canopy_domain::{
    Actor, Channel, Customer, CustomerDraft, CustomerId, CustomerType, Email, EventKind, PersonName,
};
use canopy_orders::OrderStatus;
use canopy_privacy::{ErasureRefusal, Identifiers, Policy, ScanField, fingerprints, retention};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Column, Row};

use crate::backend::{Backend, Tx, on_read, on_tx};
use crate::customers::fetch_customer;
use crate::time::to_micros;
use crate::{Result, Store, StoreError, audit, events};

/// What every customer-related table contributes to a privacy export: the section name (the table) and
/// the query for one customer's rows (`$1` and `$2` are both the customer id). A table that holds a
/// customer id and is missing here fails `export_covers_every_table_holding_a_customer_id`.
///
/// Sealed ID images are listed without their bytes; a medical card only when the caller may read it.
const EXPORT_SECTIONS: &[(&str, &str)] = &[
    (
        "customers",
        "SELECT * FROM customers WHERE id = $1 AND id = $2",
    ),
    (
        "customer_notes",
        "SELECT * FROM customer_notes WHERE customer_id = $1 AND customer_id = $2 ORDER BY created_at, id",
    ),
    (
        "group_members",
        "SELECT m.group_id, g.name AS group_name, m.customer_id, m.added_at FROM group_members m \
         JOIN customer_groups g ON g.id = m.group_id WHERE m.customer_id = $1 AND m.customer_id = $2 ORDER BY g.name",
    ),
    (
        "orders",
        "SELECT * FROM orders WHERE customer_id = $1 OR patient_id = $2 ORDER BY placed_at, id",
    ),
    (
        "order_lines",
        "SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE o.customer_id = $1 OR o.patient_id = $2 ORDER BY l.order_id, l.line_no",
    ),
    (
        "order_events",
        "SELECT e.* FROM order_events e JOIN orders o ON o.id = e.order_id \
         WHERE o.customer_id = $1 OR o.patient_id = $2 ORDER BY e.seq",
    ),
    (
        "checkins",
        "SELECT * FROM checkins WHERE customer_id = $1 AND customer_id = $2 ORDER BY seq",
    ),
    (
        "loyalty_accounts",
        "SELECT * FROM loyalty_accounts WHERE customer_id = $1 AND customer_id = $2",
    ),
    (
        "loyalty_entries",
        "SELECT * FROM loyalty_entries WHERE customer_id = $1 AND customer_id = $2 ORDER BY seq",
    ),
    (
        "loyalty_lots",
        "SELECT * FROM loyalty_lots WHERE customer_id = $1 AND customer_id = $2 ORDER BY earned_at, id",
    ),
    (
        "loyalty_allocations",
        "SELECT a.* FROM loyalty_allocations a JOIN loyalty_entries e ON e.seq = a.entry_seq \
         WHERE e.customer_id = $1 AND e.customer_id = $2 ORDER BY a.entry_seq, a.lot_id",
    ),
    (
        "loyalty_returns",
        "SELECT * FROM loyalty_returns WHERE customer_id = $1 AND customer_id = $2 ORDER BY at, id",
    ),
    (
        "consent_entries",
        "SELECT * FROM consent_entries WHERE customer_id = $1 AND customer_id = $2 ORDER BY seq",
    ),
    (
        "sms_outbox",
        "SELECT id, order_id, order_status, customer_id, to_phone, body, state, attempts, created_at, sent_at \
         FROM sms_outbox WHERE customer_id = $1 AND customer_id = $2 ORDER BY created_at, id",
    ),
    (
        "id_verifications",
        "SELECT id, customer_id, method, document_kind, document_number, jurisdiction, expiry, date_of_birth, \
         reason, verified_by, verified_at FROM id_verifications WHERE customer_id = $1 AND customer_id = $2 \
         ORDER BY verified_at, id",
    ),
    (
        "id_images",
        "SELECT customer_id, verification_id, content_type, created_at FROM id_images \
         WHERE customer_id = $1 AND customer_id = $2",
    ),
    (
        "medical_cards",
        "SELECT * FROM medical_cards WHERE customer_id = $1 AND customer_id = $2",
    ),
    (
        "document_submissions",
        "SELECT id, customer_id, store_id, kind, status, method, read_problem, document_kind, \
         CASE WHEN kind = 'medical_card' THEN NULL ELSE number END AS number, jurisdiction, \
         expiry, date_of_birth, first_name, last_name, mismatches, submitted_by, submitted_at, reviewed_by, decided_at, \
         reason_code, reason_text, verification_id, images_deleted_at FROM document_submissions \
         WHERE customer_id = $1 AND customer_id = $2 ORDER BY submitted_at, id",
    ),
    (
        "document_submission_images",
        "SELECT submission_id, position, customer_id, content_type, created_at FROM document_submission_images \
         WHERE customer_id = $1 AND customer_id = $2 ORDER BY submission_id, position",
    ),
    (
        "caregiver_patients",
        "SELECT * FROM caregiver_patients WHERE caregiver_id = $1 OR patient_id = $2 ORDER BY created_at",
    ),
    (
        "audit_log",
        "SELECT * FROM audit_log WHERE entity = 'customer' AND entity_id = $1 AND entity_id = $2 ORDER BY seq",
    ),
    (
        "webhook_events",
        "SELECT id, event_type, entity_id, payload, created_at FROM webhook_events \
         WHERE entity_id = $1 AND entity_id = $2 ORDER BY created_at, id",
    ),
    (
        "privacy_requests",
        "SELECT * FROM privacy_requests WHERE customer_id = $1 AND customer_id = $2 ORDER BY received_at, id",
    ),
];

/// The section a caller sees only with the medical-data permission (each such read is audited).
const MEDICAL_SECTION: &str = "medical_cards";

/// The tables a privacy export reads, in document order.
pub fn export_tables() -> Vec<&'static str> {
    EXPORT_SECTIONS.iter().map(|(t, _)| *t).collect()
}

/// What an erasure removed and kept, for the response and the audit row (counts only, never the data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub customer_id: String,
    pub erased_at: Timestamp,
    pub notes_deleted: u64,
    pub verifications_deleted: u64,
    pub id_images_deleted: u64,
    pub medical_cards_deleted: u64,
    pub group_memberships_deleted: u64,
    pub caregiver_links_deleted: u64,
    pub consent_entries_redacted: u64,
    pub audit_rows_redacted: u64,
    pub sms_redacted: u64,
    pub webhook_events_redacted: u64,
    pub name_terms_deleted: u64,
    /// Orders kept (without identity) for the sales-record retention period.
    pub orders_kept: u64,
    pub tombstone_fingerprints: u64,
}

/// What one retention purge removed, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub id_images: u64,
    pub document_numbers: u64,
    pub requests: u64,
}

/// Where a customer's ID data stands against the policy (the ID panel shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionState {
    pub policy: String,
    pub erased_at: Option<Timestamp>,
    /// When the ID image will be purged (`None`: no image).
    pub id_image_purge_at: Option<Timestamp>,
    /// When the latest verification's document number will be purged (`None`: nothing to purge).
    pub document_number_purge_at: Option<Timestamp>,
    pub id_image_retain_days: u32,
    pub scan_retain_days: u32,
    pub permission_to_retain_required: bool,
}

fn refused(r: ErasureRefusal) -> StoreError {
    StoreError::Refused {
        code: r.code(),
        message: r.to_string(),
    }
}

/// A row of any table as a JSON object (text, integers and booleans; blobs are never selected).
fn sqlite_row(row: &sqlx::sqlite::SqliteRow) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        };
        out.insert(col.name().to_string(), value);
    }
    serde_json::Value::Object(out)
}

fn pg_row(row: &sqlx::postgres::PgRow) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        };
        out.insert(col.name().to_string(), value);
    }
    serde_json::Value::Object(out)
}

/// Rows of one section for one customer, read inside `tx`.
async fn section_rows(tx: &mut Tx, sql: &str, id: &str) -> Result<Vec<serde_json::Value>> {
    Ok(match tx {
        Tx::Sqlite(c) => sqlx::query(AssertSqlSafe(sql.to_string()))
            .bind(id)
            .bind(id)
            .fetch_all(&mut **c)
            .await?
            .iter()
            .map(sqlite_row)
            .collect(),
        Tx::Postgres(c) => sqlx::query(AssertSqlSafe(sql.to_string()))
            .bind(id)
            .bind(id)
            .fetch_all(&mut **c)
            .await?
            .iter()
            .map(pg_row)
            .collect(),
    })
}

async fn execute(tx: &mut Tx, sql: &str, binds: &[&str]) -> Result<u64> {
    let n = on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut **c).await.map(|r| r.rows_affected())
    })?;
    Ok(n)
}

async fn execute_at(tx: &mut Tx, sql: &str, at: i64, binds: &[&str]) -> Result<u64> {
    let n = on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.to_string())).bind(at);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut **c).await.map(|r| r.rows_affected())
    })?;
    Ok(n)
}

// One row of the request log: each argument is one of its columns.
#[allow(clippy::too_many_arguments)]
async fn log_request(
    tx: &mut Tx,
    kind: &str,
    customer: CustomerId,
    reason: Option<&str>,
    outcome: &str,
    detail: Option<&str>,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO privacy_requests (id, kind, customer_id, reason, outcome, detail, handled_by, handled_by_id, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(kind)
        .bind(customer.to_string())
        .bind(reason)
        .bind(outcome)
        .bind(detail)
        .bind(&actor.label)
        .bind(actor.id.as_deref())
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// The installation's fingerprint secret, made (32 random bytes) the first time it is needed.
async fn secret(tx: &mut Tx, now: Timestamp) -> Result<Vec<u8>> {
    let fresh: String = {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO privacy_secret (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&fresh)
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ())
    })?;
    let (hex,): (String,) = on_tx!(tx, |c| {
        sqlx::query_as("SELECT secret FROM privacy_secret WHERE id = 1")
            .fetch_one(&mut **c)
            .await
    })?;
    Ok(hex.into_bytes())
}

/// Keyed fingerprints of a person's identifiers.
fn draft_fingerprints(secret: &[u8], draft: &CustomerDraft) -> Vec<canopy_privacy::Fingerprint> {
    let phone = draft.phone.as_ref().map(|p| p.as_str().to_string());
    let email = draft.email.as_ref().map(Email::key);
    let doc = draft
        .id_document
        .as_ref()
        .map(|d| (d.number_key(), d.jurisdiction.clone()));
    fingerprints(
        secret,
        &Identifiers {
            phone_e164: phone.as_deref(),
            email_key: email.as_deref(),
            id_document: doc.as_ref().map(|(k, j)| (k.as_str(), j.as_deref())),
            name_and_birth_date: draft.date_of_birth.map(|dob| {
                (
                    draft.name.first.as_str(),
                    draft.name.last.as_str(),
                    dob.to_string(),
                )
            }),
        },
    )
}

/// Refuses to create a person an erasure's tombstone names (an import or an online-store sync must not
/// bring them back silently). Staff re-create a returning customer who consents again with
/// [`Store::create_returning_customer`].
pub(crate) async fn refuse_erased(
    tx: &mut Tx,
    drafts: &[&CustomerDraft],
    now: Timestamp,
) -> Result<()> {
    let any: Option<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as("SELECT fingerprint FROM erasure_tombstones LIMIT 1")
            .fetch_optional(&mut **c)
            .await
    })?;
    if any.is_none() {
        return Ok(());
    }
    let secret = secret(tx, now).await?;
    let mut matched = 0usize;
    for draft in drafts {
        for f in draft_fingerprints(&secret, draft) {
            let hit: Option<(String,)> = on_tx!(tx, |c| {
                sqlx::query_as("SELECT kind FROM erasure_tombstones WHERE fingerprint = $1")
                    .bind(&f.hex)
                    .fetch_optional(&mut **c)
                    .await
            })?;
            if hit.is_some() {
                matched += 1;
                break;
            }
        }
    }
    if matched > 0 {
        return Err(StoreError::Refused {
            code: "erased_customer",
            message: format!(
                "{matched} customer(s) match a person whose data was erased at their request; \
                 staff can re-create a returning customer who consents again"
            ),
        });
    }
    Ok(())
}

/// The draft an erased customer keeps: no name, contact, birth date, address or ID; only the type,
/// which the kept sales records are classed by.
fn erased_draft(customer_type: CustomerType, channel: Channel) -> CustomerDraft {
    CustomerDraft {
        name: PersonName {
            first: String::new(),
            middle: None,
            last: String::new(),
            preferred: None,
        },
        phone: None,
        email: None,
        date_of_birth: None,
        customer_type,
        addresses: Vec::new(),
        id_document: None,
        created_channel: channel,
    }
}

/// Distinctive strings of a person worth looking for in free text (audit details, webhook payloads):
/// identifiers and the full name, never a lone first name that other people share.
fn distinctive_values(c: &Customer) -> Vec<String> {
    let d = &c.details;
    let mut out = Vec::new();
    if let Some(p) = &d.phone {
        out.push(p.as_str().to_string());
    }
    if let Some(e) = &d.email {
        out.push(e.as_str().to_string());
    }
    if let Some(doc) = &d.id_document {
        out.push(doc.number.clone());
    }
    let full = format!("{} {}", d.name.first, d.name.last);
    if full.trim().len() > 3 {
        out.push(full);
    }
    for a in &d.addresses {
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(a) {
            for v in map.values() {
                if let Some(s) = v.as_str().filter(|s| s.len() > 6) {
                    out.push(s.to_string());
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

impl Store {
    /// The data policy this installation follows: the strictest of its stores' jurisdictions'
    /// policies (the conservative default before any store exists).
    pub async fn privacy_policy(&self) -> Result<Policy> {
        let policies =
            canopy_privacy::Policies::embedded().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let jurisdictions = self.store_jurisdictions().await?;
        Ok(policies.for_stores(jurisdictions.iter().map(String::as_str)))
    }

    /// The jurisdictions of every store, which decide the installation's policy.
    pub async fn store_jurisdictions(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT DISTINCT jurisdiction FROM stores ORDER BY jurisdiction"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(j,)| j).collect())
    }

    /// Everything Canopy holds about one person, read in one consistent snapshot, with the request
    /// logged (request log and audit row) in the same transaction. `medical` includes the medical card,
    /// which is then audited as a medical-data read.
    pub async fn privacy_export(
        &self,
        id: CustomerId,
        medical: bool,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<serde_json::Value> {
        let mut tx = self.begin().await?;
        if let Tx::Postgres(c) = &mut tx {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut **c)
                .await?;
        }
        fetch_customer(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let key = id.to_string();
        let mut sections = serde_json::Map::new();
        let mut withheld = Vec::new();
        for (table, sql) in EXPORT_SECTIONS {
            if *table == MEDICAL_SECTION && !medical {
                withheld.push(*table);
                continue;
            }
            let rows = section_rows(&mut tx, sql, &key).await?;
            sections.insert((*table).to_string(), serde_json::Value::Array(rows));
        }
        log_request(&mut tx, "know", id, None, "completed", None, actor, now).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.privacy_export",
            "customer",
            Some(&key),
            &serde_json::json!({ "sections": sections.len(), "withheld": withheld }),
        )
        .await?;
        if medical {
            audit::record(
                &mut tx,
                actor,
                now,
                "customer.medical_read",
                "customer",
                Some(&key),
                &serde_json::json!({ "purpose": "privacy_export" }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(serde_json::json!({
            "customer_id": key,
            "generated_at": now.to_string(),
            "withheld": withheld,
            "sections": sections,
        }))
    }

    /// Erases a person: every personal field removed or irreversibly replaced, in one transaction with
    /// the audit row, the request log entry and the `customer.erased` event. Orders, limits history and
    /// loyalty totals stay, pointing at the emptied customer row. A tombstone of keyed fingerprints keeps
    /// imports and syncs from re-creating the person. Refused while orders are open.
    pub async fn erase_customer(
        &self,
        id: CustomerId,
        reason: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ErasureReport> {
        let mut tx = self.begin().await?;
        let customer = fetch_customer(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let key = id.to_string();
        let (erased, merged_into): (Option<i64>, Option<String>) = on_tx!(&mut tx, |c| {
            sqlx::query_as("SELECT erased_at, merged_into FROM customers WHERE id = $1")
                .bind(&key)
                .fetch_one(&mut **c)
                .await
        })?;
        let open: Vec<&str> = OrderStatus::ALL
            .into_iter()
            // Open: still to be handed over (received, ready, out for delivery).
            .filter(|s| !s.is_final() && *s != OrderStatus::Completed)
            .map(OrderStatus::as_str)
            .collect();
        let list: Vec<String> = (0..open.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND status IN ({})",
            list.join(", ")
        );
        let (open_orders,): (i64,) = on_tx!(&mut tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone())).bind(&key);
            for s in &open {
                q = q.bind(*s);
            }
            q.fetch_one(&mut **c).await
        })?;
        let facts = canopy_privacy::ErasureFacts {
            already_erased: erased.is_some(),
            merged_into,
            open_orders: usize::try_from(open_orders).unwrap_or(usize::MAX),
            pending_merge_with: crate::merges::pending_pair_of(&mut tx, id).await?,
        };
        if let Some(refusal) = canopy_privacy::erasure_refusal(&facts) {
            drop(tx);
            let mut log = self.begin().await?;
            log_request(
                &mut log,
                "delete",
                id,
                Some(reason),
                "refused",
                Some(refusal.code()),
                actor,
                now,
            )
            .await?;
            log.commit().await?;
            return Err(refused(refusal));
        }

        // Profiles merged into this one are the same person: their rows hold the identity they had
        // (kept so a merge can be undone), and the merge records hold snapshots of both.
        let mut merged_away = Vec::new();
        for merged_id in crate::merges::merged_into_transitively(&mut tx, id).await? {
            if let Some(profile) = fetch_customer(&mut tx, merged_id).await? {
                merged_away.push(profile);
            }
        }
        let secret = secret(&mut tx, now).await?;
        let mut prints = draft_fingerprints(&secret, &customer.details);
        for profile in &merged_away {
            prints.extend(draft_fingerprints(&secret, &profile.details));
        }
        let at = to_micros(now);
        for f in &prints {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO erasure_tombstones (fingerprint, kind, erased_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (fingerprint) DO NOTHING",
                )
                .bind(&f.hex)
                .bind(f.kind.as_str())
                .bind(at)
                .execute(&mut **c)
                .await
                .map(|_| ())
            })?;
        }

        let mut values = distinctive_values(&customer);
        for profile in &merged_away {
            values.extend(distinctive_values(profile));
        }
        let mut report = ErasureReport {
            customer_id: key.clone(),
            erased_at: now,
            tombstone_fingerprints: prints.len() as u64,
            ..ErasureReport::default()
        };
        // Rows that exist only about the person go; rows that must stay lose what quotes them. Each
        // statement binds the customer id as `$1` and adds to the count the report gives for it.
        let (mut submission_images_deleted, mut submissions_deleted) = (0, 0);
        let statements: [(&str, &mut u64); 10] = [
            (
                "DELETE FROM customer_notes WHERE customer_id = $1",
                &mut report.notes_deleted,
            ),
            (
                "DELETE FROM id_images WHERE customer_id = $1",
                &mut report.id_images_deleted,
            ),
            // Online document submissions (their photos and proposed details) go with the
            // verifications they may name.
            (
                "DELETE FROM document_submission_images WHERE customer_id = $1",
                &mut submission_images_deleted,
            ),
            (
                "DELETE FROM document_submissions WHERE customer_id = $1",
                &mut submissions_deleted,
            ),
            (
                "DELETE FROM id_verifications WHERE customer_id = $1",
                &mut report.verifications_deleted,
            ),
            (
                "DELETE FROM medical_cards WHERE customer_id = $1",
                &mut report.medical_cards_deleted,
            ),
            (
                "DELETE FROM group_members WHERE customer_id = $1",
                &mut report.group_memberships_deleted,
            ),
            (
                "DELETE FROM caregiver_patients WHERE caregiver_id = $1 OR patient_id = $1",
                &mut report.caregiver_links_deleted,
            ),
            (
                "UPDATE consent_entries SET evidence = NULL, address = NULL WHERE customer_id = $1 \
                 AND (evidence IS NOT NULL OR address IS NOT NULL)",
                &mut report.consent_entries_redacted,
            ),
            (
                "UPDATE sms_outbox SET to_phone = '', body = '', last_error = NULL, \
                 state = CASE WHEN state = 'pending' THEN 'skipped' ELSE state END WHERE customer_id = $1",
                &mut report.sms_redacted,
            ),
        ];
        for (sql, count) in statements {
            *count += execute(&mut tx, sql, &[&key]).await?;
        }
        report.id_images_deleted += submission_images_deleted;
        execute(
            &mut tx,
            "DELETE FROM idempotency_keys WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)",
            &[&key],
        )
        .await?;
        report.orders_kept = {
            let (n,): (i64,) = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                    "SELECT COUNT(*) FROM orders WHERE customer_id = $1 OR patient_id = $2",
                )
                .bind(&key)
                .bind(&key)
                .fetch_one(&mut **c)
                .await
            })?;
            u64::try_from(n).unwrap_or(0)
        };

        // Free text that may quote the person: audit details and webhook payloads about them, and any
        // other row quoting one of their identifiers or their full name.
        report.audit_rows_redacted = execute(
            &mut tx,
            "UPDATE audit_log SET changes = '{\"redacted\":\"erasure\"}' WHERE entity = 'customer' \
             AND entity_id = $1 AND changes <> '{\"redacted\":\"erasure\"}'",
            &[&key],
        )
        .await?;
        let erased_payload = events::envelope(
            canopy_domain::EventId::new(),
            EventKind::CustomerErased,
            now,
            &serde_json::json!({ "customer_id": key, "redacted": true }),
        )
        .to_string();
        report.webhook_events_redacted = execute(
            &mut tx,
            "UPDATE webhook_events SET payload = $1 WHERE entity_id = $2",
            &[&erased_payload, &key],
        )
        .await?;
        for value in &values {
            report.audit_rows_redacted += execute(
                &mut tx,
                "UPDATE audit_log SET changes = '{\"redacted\":\"erasure\"}' \
                 WHERE changes LIKE '%' || $1 || '%' AND changes <> '{\"redacted\":\"erasure\"}'",
                &[value],
            )
            .await?;
            report.webhook_events_redacted += execute(
                &mut tx,
                "UPDATE webhook_events SET payload = $1 WHERE payload LIKE '%' || $2 || '%'",
                &[&erased_payload, value],
            )
            .await?;
        }

        // The profiles themselves, through the same write every update uses, so search indexes follow;
        // then the merge snapshots, which now show the emptied profiles.
        for profile in std::iter::once(&customer).chain(&merged_away) {
            crate::customers::write_draft(
                &mut tx,
                profile.id,
                &erased_draft(
                    profile.details.customer_type,
                    profile.details.created_channel,
                ),
                now,
            )
            .await?;
            execute_at(
                &mut tx,
                "UPDATE customers SET erased_at = $1, ban_reason = NULL, ban_note = NULL, ban_since = NULL, \
                 ban_until = NULL, ban_by = NULL WHERE id = $2",
                at,
                &[&profile.id.to_string()],
            )
            .await?;
        }
        // Only once every profile is emptied: a word is forgotten when no row uses it any more.
        for profile in std::iter::once(&customer).chain(&merged_away) {
            report.name_terms_deleted += forget_name_words(&mut tx, &profile.details.name).await?;
            for name in crate::merges::snapshot_names(&mut tx, profile.id).await? {
                report.name_terms_deleted += forget_name_words(&mut tx, &name).await?;
            }
            let emptied = fetch_customer(&mut tx, profile.id)
                .await?
                .ok_or(StoreError::NotFound { entity: "customer" })?;
            crate::merges::forget_snapshots_of(&mut tx, &emptied).await?;
        }

        log_request(
            &mut tx,
            "delete",
            id,
            Some(reason),
            "completed",
            None,
            actor,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.erase",
            "customer",
            Some(&key),
            &serde_json::json!({ "reason": reason, "report": report }),
        )
        .await?;
        events::emit(
            &mut tx,
            EventKind::CustomerErased,
            &key,
            serde_json::json!({ "customer_id": key, "erased_at": now.to_string() }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Creates a customer whom an erasure's tombstone names, because they came back and consented again:
    /// the matching fingerprints are removed and the creation audited as such, in one transaction.
    pub async fn create_returning_customer(
        &self,
        draft: CustomerDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        let secret = secret(&mut tx, now).await?;
        let mut cleared = 0;
        for f in draft_fingerprints(&secret, &draft) {
            cleared += execute(
                &mut tx,
                "DELETE FROM erasure_tombstones WHERE fingerprint = $1",
                &[&f.hex],
            )
            .await?;
        }
        let customer = crate::customers::create_in_tx(&mut tx, draft, actor, now).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.recreate_after_erasure",
            "customer",
            Some(&customer.id.to_string()),
            &serde_json::json!({ "tombstone_fingerprints_cleared": cleared }),
        )
        .await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// Purges what the policy no longer lets Canopy keep: ID images past their period, document numbers
    /// of verifications past the scan-data period (the profile's copy too), and request-log entries past
    /// theirs. Each purged item gets an audit row saying what and why, never the data.
    pub async fn purge_expired(
        &self,
        policy: &Policy,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<PurgeReport> {
        let mut tx = self.begin().await?;
        let mut report = PurgeReport::default();

        let image_cutoff = to_micros(retention::cutoff(now, policy.id_images.rule.retain_days));
        let images: Vec<(String,)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "SELECT customer_id FROM id_images WHERE created_at <= $1 ORDER BY customer_id",
            )
            .bind(image_cutoff)
            .fetch_all(&mut **c)
            .await
        })?;
        let image_why = serde_json::json!({
            "what": "id_image",
            "why": format!("kept at most {} days", policy.id_images.rule.retain_days),
            "policy": policy.jurisdiction,
            "citation": policy.id_images.rule.citation.section,
        });
        for (customer,) in &images {
            execute(
                &mut tx,
                "DELETE FROM id_images WHERE customer_id = $1",
                &[customer],
            )
            .await?;
            audit::record(
                &mut tx,
                actor,
                now,
                "privacy.purge",
                "customer",
                Some(customer.as_str()),
                &image_why,
            )
            .await?;
            report.id_images += 1;
        }

        if !policy.keeps_scan_field(ScanField::DocumentNumber) {
            let scan_cutoff = to_micros(retention::cutoff(now, policy.scan_retain_days()));
            let due: Vec<(String, String, String, String)> = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                    "SELECT id, customer_id, document_number, document_number_key FROM id_verifications \
                     WHERE verified_at <= $1 AND document_number <> '' ORDER BY verified_at, id",
                )
                .bind(scan_cutoff)
                .fetch_all(&mut **c)
                .await
            })?;
            let why = serde_json::json!({
                "what": "id_document_number",
                "why": format!("scan-derived fields other than {:?} kept at most {} days",
                    policy.id_scan.rule.fields, policy.scan_retain_days()),
                "policy": policy.jurisdiction,
                "citation": policy.id_scan.rule.citation.section,
            });
            for (verification, customer, number, number_key) in &due {
                execute(
                    &mut tx,
                    "UPDATE id_verifications SET document_number = '', document_number_key = '' WHERE id = $1",
                    &[verification],
                )
                .await?;
                execute(
                    &mut tx,
                    "UPDATE customers SET id_kind = NULL, id_number = NULL, id_number_key = NULL, \
                     id_jurisdiction = NULL, id_expiry = NULL WHERE id = $1 AND id_number_key = $2",
                    &[customer, number_key],
                )
                .await?;
                // Earlier audit details and webhook payloads about this customer that quote the number.
                execute(
                    &mut tx,
                    "UPDATE audit_log SET changes = '{\"redacted\":\"erasure\"}' WHERE entity = 'customer' \
                     AND entity_id = $1 AND changes LIKE '%' || $2 || '%'",
                    &[customer, number],
                )
                .await?;
                execute(
                    &mut tx,
                    "UPDATE webhook_events SET payload = REPLACE(payload, $2, '[purged]') \
                     WHERE entity_id = $1 AND payload LIKE '%' || $2 || '%'",
                    &[customer, number],
                )
                .await?;
                let mut details = why.clone();
                details["verification_id"] = serde_json::json!(verification);
                audit::record(
                    &mut tx,
                    actor,
                    now,
                    "privacy.purge",
                    "customer",
                    Some(customer.as_str()),
                    &details,
                )
                .await?;
                report.document_numbers += 1;
            }
        }

        let request_cutoff =
            to_micros(retention::cutoff(now, policy.requests.rule.log_retain_days));
        report.requests = on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM privacy_requests WHERE received_at <= $1")
                .bind(request_cutoff)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if report.requests > 0 {
            audit::record(
                &mut tx,
                actor,
                now,
                "privacy.purge",
                "privacy_request",
                None,
                &serde_json::json!({
                    "what": "privacy_requests",
                    "count": report.requests,
                    "why": format!("request log kept {} days", policy.requests.rule.log_retain_days),
                    "policy": policy.jurisdiction,
                    "citation": policy.requests.rule.citation.section,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Where a customer's ID data stands against `policy`.
    pub async fn retention_state(&self, id: CustomerId, policy: &Policy) -> Result<RetentionState> {
        let key = id.to_string();
        let row: Option<(Option<i64>,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT erased_at FROM customers WHERE id = $1"
        )
        .bind(&key)
        .fetch_optional(p)
        .await)?;
        let (erased_at,) = row.ok_or(StoreError::NotFound { entity: "customer" })?;
        let image: Option<(i64,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT created_at FROM id_images WHERE customer_id = $1"
        )
        .bind(&key)
        .fetch_optional(p)
        .await)?;
        let verified: Option<(i64,)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT MIN(verified_at) FROM id_verifications WHERE customer_id = $1 AND document_number <> '' \
             HAVING COUNT(*) > 0"
        )
        .bind(&key)
        .fetch_optional(p)
        .await
        })?;
        let days = |d: u32| jiff::SignedDuration::from_hours(i64::from(d) * 24);
        let after = |at: i64, d: u32| {
            crate::time::from_micros(at)
                .checked_add(days(d))
                .unwrap_or(Timestamp::MAX)
        };
        Ok(RetentionState {
            policy: policy.jurisdiction.clone(),
            erased_at: erased_at.map(crate::time::from_micros),
            id_image_purge_at: image.map(|(at,)| after(at, policy.id_images.rule.retain_days)),
            document_number_purge_at: if policy.keeps_scan_field(ScanField::DocumentNumber) {
                None
            } else {
                verified.map(|(at,)| after(at, policy.scan_retain_days()))
            },
            id_image_retain_days: policy.id_images.rule.retain_days,
            scan_retain_days: policy.scan_retain_days(),
            permission_to_retain_required: policy.profile.rule.permission_to_retain,
        })
    }

    /// Column names per table (`(table, column)`), every table of the schema except search internals.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = match &self.backend {
            Backend::Sqlite { read, .. } => {
                sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' \
                     AND m.name NOT LIKE 'customers_fts%' ORDER BY 1, 2",
                )
                .fetch_all(read)
                .await?
            }
            Backend::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1, 2",
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// Every `table.column` whose text contains `needle` (case-insensitive), over every table of the
    /// schema: what an auditor (and the erasure test) runs to prove a value is gone.
    pub async fn tables_containing_text(&self, needle: &str) -> Result<Vec<String>> {
        let columns = self.schema_columns().await?;
        let mut hits = Vec::new();
        for (table, column) in columns {
            let sql = match &self.backend {
                Backend::Sqlite { .. } => format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE instr(lower(CAST(\"{column}\" AS TEXT)), lower($1)) > 0"
                ),
                Backend::Postgres(_) => format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE strpos(lower(CAST(\"{column}\" AS TEXT)), lower($1)) > 0"
                ),
            };
            let (n,): (i64,) = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(needle)
                .fetch_one(p)
                .await)?;
            if n > 0 {
                hits.push(format!("{table}.{column}"));
            }
        }
        Ok(hits)
    }
}

/// Removes an erased person's name words from the typo and sound-alike dictionaries when no other
/// customer uses them.
async fn forget_name_words(tx: &mut Tx, name: &PersonName) -> Result<u64> {
    let words: BTreeSet<String> = canopy_search::dictionary_words(&name.search_text()).collect();
    let mut removed = 0;
    for word in words {
        let (used,): (i64,) = on_tx!(tx, |c| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM customers WHERE (' ' || name_text || ' ') LIKE ('% ' || $1 || ' %')",
            )
            .bind(&word)
            .fetch_one(&mut **c)
            .await
        })?;
        if used == 0 {
            removed += execute(tx, "DELETE FROM name_terms WHERE term = $1", &[&word]).await?;
            execute(tx, "DELETE FROM name_sounds WHERE term = $1", &[&word]).await?;
        }
    }
    Ok(removed)
}
