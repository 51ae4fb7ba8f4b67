//! Documents online customers submit (ID, medical card) and the staff review queue.
//!
//! A submission keeps what the barcode or the customer's form proposed and its sealed photos. The
//! decision happens once, in one transaction: approval records the verification (or sets the
//! medical card) with the same writes staff make at the counter, and with it the submission's new
//! status, the webhook event, the customer's text (with consent), the audit row and, when the
//! jurisdiction's policy says so, the deletion of the photos.

use canopy_domain::{
    Actor, CustomerId, DocumentKind, EventKind, IdDocumentKind, MedicalCard, Mismatch,
    RejectionReason, SmsMessageId, StoreId, SubmissionStatus, VerificationMethod,
};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::fetch_customer;
use crate::time::{from_micros, to_micros};
use crate::verification::{record_verification_in_tx, set_medical_card_in_tx};
use crate::{NewVerification, Result, SealedImage, Store, StoreError, audit};

/// How long a submission may wait when a store has set no target.
pub const DEFAULT_REVIEW_TARGET_MINUTES: i64 = 240;

/// What the document says, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProposedDocument {
    /// ID kind (`drivers_license`, `state_id`); absent for a medical card.
    pub document_kind: Option<IdDocumentKind>,
    pub number: Option<String>,
    /// Issuing jurisdiction (the issuing state of a medical card).
    pub jurisdiction: Option<String>,
    pub expiry: Option<Date>,
    pub date_of_birth: Option<Date>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A submission about to be stored.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub customer_id: CustomerId,
    pub store_id: StoreId,
    pub kind: DocumentKind,
    /// How the proposal was read (`scan`: text the storefront read; `photo`: the server read the
    /// barcode in a photo); `None` when nothing could be read.
    pub method: Option<VerificationMethod>,
    /// Why nothing could be proposed (the barcode was not found, …).
    pub read_problem: Option<String>,
    pub proposed: ProposedDocument,
    pub mismatches: Vec<Mismatch>,
    /// Sealed photos in the order they were sent.
    pub images: Vec<SealedImage>,
}

/// A submission as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: String,
    pub customer_id: CustomerId,
    pub store_id: StoreId,
    pub kind: DocumentKind,
    pub status: SubmissionStatus,
    pub method: Option<VerificationMethod>,
    pub read_problem: Option<String>,
    pub proposed: ProposedDocument,
    pub mismatches: Vec<Mismatch>,
    /// Photos still on file (zero once deleted after the decision).
    pub images: i64,
    pub submitted_by: String,
    pub submitted_at: Timestamp,
    pub reviewed_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reason_code: Option<RejectionReason>,
    pub reason_text: Option<String>,
    /// The verification approval recorded (ID submissions).
    pub verification_id: Option<String>,
    pub images_deleted_at: Option<Timestamp>,
}

/// What staff decided.
#[derive(Debug, Clone)]
pub enum ReviewDecision {
    /// Record this verification (ID) exactly as at the counter; `keep_image` keeps the first photo
    /// as the customer's ID image.
    ApproveId {
        verification: NewVerification,
        keep_image: bool,
    },
    /// Set this medical card.
    ApproveMedicalCard(MedicalCard),
    Reject {
        code: RejectionReason,
        text: Option<String>,
    },
}

/// Which submissions to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter {
    pub status: Option<SubmissionStatus>,
    pub customer_id: Option<CustomerId>,
    /// Only these stores (a caller limited to some stores); `None` is every store.
    pub stores: Option<Vec<StoreId>>,
    pub limit: u32,
}

const COLUMNS: &str = "s.id, s.customer_id, s.store_id, s.kind, s.status, s.method, s.read_problem, s.document_kind, \
     s.number, s.jurisdiction, s.expiry, s.date_of_birth, s.first_name, s.last_name, s.mismatches, s.submitted_by, \
     s.submitted_at, s.reviewed_by, s.decided_at, s.reason_code, s.reason_text, s.verification_id, s.images_deleted_at, \
     (SELECT COUNT(*) FROM document_submission_images i WHERE i.submission_id = s.id) AS images";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    customer_id: String,
    store_id: String,
    kind: String,
    status: String,
    method: Option<String>,
    read_problem: Option<String>,
    document_kind: Option<String>,
    number: Option<String>,
    jurisdiction: Option<String>,
    expiry: Option<String>,
    date_of_birth: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    mismatches: String,
    submitted_by: String,
    submitted_at: i64,
    reviewed_by: Option<String>,
    decided_at: Option<i64>,
    reason_code: Option<String>,
    reason_text: Option<String>,
    verification_id: Option<String>,
    images_deleted_at: Option<i64>,
    images: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("document submission {what}: {value:?}"))
}

fn date(what: &str, raw: Option<String>) -> Result<Option<Date>> {
    raw.map(|d| d.parse().map_err(|_| corrupt(what, &d)))
        .transpose()
}

fn kind_name(kind: IdDocumentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "other".into())
}

impl TryFrom<Row> for Submission {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Submission> {
        Ok(Submission {
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| corrupt("customer_id", &r.customer_id))?,
            store_id: r
                .store_id
                .parse()
                .map_err(|_| corrupt("store_id", &r.store_id))?,
            kind: DocumentKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            status: SubmissionStatus::parse(&r.status)
                .ok_or_else(|| corrupt("status", &r.status))?,
            method: r
                .method
                .map(|m| VerificationMethod::parse(&m).ok_or_else(|| corrupt("method", &m)))
                .transpose()?,
            read_problem: r.read_problem,
            proposed: ProposedDocument {
                document_kind: r
                    .document_kind
                    .map(|k| {
                        serde_json::from_value(serde_json::Value::String(k.clone()))
                            .map_err(|_| corrupt("document_kind", &k))
                    })
                    .transpose()?,
                number: r.number,
                jurisdiction: r.jurisdiction,
                expiry: date("expiry", r.expiry)?,
                date_of_birth: date("date_of_birth", r.date_of_birth)?,
                first_name: r.first_name,
                last_name: r.last_name,
            },
            mismatches: serde_json::from_str(&r.mismatches)
                .map_err(|_| corrupt("mismatches", &r.mismatches))?,
            images: r.images,
            submitted_by: r.submitted_by,
            submitted_at: from_micros(r.submitted_at),
            reviewed_by: r.reviewed_by,
            decided_at: r.decided_at.map(from_micros),
            reason_code: r
                .reason_code
                .map(|c| RejectionReason::parse(&c).map_err(|_| corrupt("reason_code", &c)))
                .transpose()?,
            reason_text: r.reason_text,
            verification_id: r.verification_id,
            images_deleted_at: r.images_deleted_at.map(from_micros),
            id: r.id,
        })
    }
}

async fn fetch_in_tx(tx: &mut Tx, id: &str) -> Result<Submission> {
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT {COLUMNS} FROM document_submissions s WHERE s.id = $1{lock}");
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id)
        .fetch_optional(&mut **c)
        .await)?;
    row.ok_or(StoreError::NotFound {
        entity: "document submission",
    })?
    .try_into()
}

/// The submission as the online store hears of it: no document number, no photos.
fn event_data(s: &Submission) -> serde_json::Value {
    serde_json::json!({
        "submission": {
            "id": s.id,
            "customer_id": s.customer_id,
            "store_id": s.store_id,
            "kind": s.kind,
            "status": s.status,
            "reason_code": s.reason_code,
            "reason_text": s.reason_text,
            "expiry": s.proposed.expiry,
            "submitted_at": s.submitted_at,
            "decided_at": s.decided_at,
        }
    })
}

/// Queues a text through the SMS outbox when the customer has a phone and transactional SMS
/// consent. `key` and `topic` make the row unique (the outbox's `(order_id, order_status)` key), so
/// one decision or reminder never texts twice.
pub(crate) async fn queue_customer_sms(
    tx: &mut Tx,
    customer_id: CustomerId,
    key: &str,
    topic: &str,
    body: impl FnOnce(&str) -> String,
    now: Timestamp,
) -> Result<Option<SmsMessageId>> {
    let customer = fetch_customer(tx, customer_id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    let Some((phone, first_name)) = crate::sms::recipient(tx, &customer).await? else {
        return Ok(None);
    };
    crate::sms::insert_outbox(tx, (key, topic), customer_id, phone, &body(first_name), now).await
}

impl Store {
    /// Stores a submission (pending) with its sealed photos and the audit row.
    pub async fn submit_document(
        &self,
        new: NewSubmission,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Submission> {
        let mut tx = self.begin().await?;
        fetch_customer(&mut tx, new.customer_id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let id = uuid::Uuid::now_v7().to_string();
        let p = &new.proposed;
        let mismatches = serde_json::to_string(&new.mismatches)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let at = to_micros(now);
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO document_submissions (id, customer_id, store_id, kind, status, method, read_problem, \
                 document_kind, number, jurisdiction, expiry, date_of_birth, first_name, last_name, mismatches, \
                 submitted_by, submitted_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14, $15, $16)",
            )
            .bind(&id)
            .bind(new.customer_id.to_string())
            .bind(new.store_id.to_string())
            .bind(new.kind.as_str())
            .bind(new.method.map(VerificationMethod::as_str))
            .bind(new.read_problem.as_deref())
            .bind(p.document_kind.map(kind_name))
            .bind(p.number.as_deref())
            .bind(p.jurisdiction.as_deref())
            .bind(p.expiry.map(|d| d.to_string()))
            .bind(p.date_of_birth.map(|d| d.to_string()))
            .bind(p.first_name.as_deref())
            .bind(p.last_name.as_deref())
            .bind(&mismatches)
            .bind(&actor.label)
            .bind(at)
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        for (position, image) in new.images.iter().enumerate() {
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO document_submission_images (submission_id, position, customer_id, content_type, \
                     sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(position)
                .bind(new.customer_id.to_string())
                .bind(&image.content_type)
                .bind(&image.sealed)
                .bind(at)
                .execute(&mut **c)
                .await
                .map(|_| ())
            })?;
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "document.submit",
            "customer",
            Some(&new.customer_id.to_string()),
            &serde_json::json!({
                "submission_id": id, "store_id": new.store_id, "kind": new.kind,
                "method": new.method, "read_problem": new.read_problem,
                "images": new.images.len(), "mismatches": new.mismatches,
            }),
        )
        .await?;
        let submission = fetch_in_tx(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(submission)
    }

    /// One submission.
    pub async fn document_submission(&self, id: &str) -> Result<Submission> {
        let sql = format!("SELECT {COLUMNS} FROM document_submissions s WHERE s.id = $1");
        let row: Option<Row> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::NotFound {
            entity: "document submission",
        })?
        .try_into()
    }

    /// Submissions matching `filter`, oldest first (the queue's order: first come, first reviewed).
    pub async fn document_submissions(&self, filter: &SubmissionFilter) -> Result<Vec<Submission>> {
        let mut clauses = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(status) = filter.status {
            binds.push(status.as_str().to_string());
            clauses.push(format!("s.status = ${}", binds.len()));
        }
        if let Some(customer) = filter.customer_id {
            binds.push(customer.to_string());
            clauses.push(format!("s.customer_id = ${}", binds.len()));
        }
        if let Some(stores) = &filter.stores {
            if stores.is_empty() {
                return Ok(Vec::new());
            }
            let mut list = Vec::new();
            for s in stores {
                binds.push(s.to_string());
                list.push(format!("${}", binds.len()));
            }
            clauses.push(format!("s.store_id IN ({})", list.join(", ")));
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM document_submissions s {filter_sql} ORDER BY s.submitted_at, s.id LIMIT {}",
            filter.limit.clamp(1, 500)
        );
        let rows: Vec<Row> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        rows.into_iter().map(Submission::try_from).collect()
    }

    /// One sealed photo of a submission, recording in the audit log who viewed it.
    pub async fn view_submission_image(
        &self,
        id: &str,
        position: i64,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(CustomerId, SealedImage)> {
        let mut tx = self.begin().await?;
        let row: Option<(String, String, Vec<u8>)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "SELECT customer_id, content_type, sealed FROM document_submission_images \
                 WHERE submission_id = $1 AND position = $2",
            )
            .bind(id)
            .bind(position)
            .fetch_optional(&mut **c)
            .await
        })?;
        let (customer, content_type, sealed) = row.ok_or(StoreError::NotFound {
            entity: "submission image",
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "document.image_view",
            "customer",
            Some(&customer),
            &serde_json::json!({ "submission_id": id, "position": position }),
        )
        .await?;
        tx.commit().await?;
        Ok((
            customer
                .parse()
                .map_err(|_| corrupt("customer_id", &customer))?,
            SealedImage {
                content_type,
                sealed,
            },
        ))
    }

    /// Decides a pending submission (see the module docs). A decided submission cannot be decided
    /// again (`Conflict`). `delete_images` follows the store's jurisdiction's privacy policy.
    pub async fn decide_document(
        &self,
        id: &str,
        decision: ReviewDecision,
        delete_images: bool,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Submission> {
        let mut tx = self.begin().await?;
        let before = fetch_in_tx(&mut tx, id).await?;
        if before.status != SubmissionStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "this submission was already {}",
                before.status.as_str()
            )));
        }
        let (status, reason_code, reason_text, verification_id) = match decision {
            ReviewDecision::ApproveId {
                verification,
                keep_image,
            } => {
                if before.kind != DocumentKind::Id {
                    return Err(StoreError::invalid(
                        "kind",
                        "wrong_kind",
                        "this submission is not an ID",
                    ));
                }
                let image = if keep_image {
                    first_image(&mut tx, id).await?
                } else {
                    None
                };
                let (_, _, verification_id) = record_verification_in_tx(
                    &mut tx,
                    before.customer_id,
                    verification,
                    image,
                    actor,
                    now,
                )
                .await?;
                (
                    SubmissionStatus::Approved,
                    None,
                    None,
                    Some(verification_id),
                )
            }
            ReviewDecision::ApproveMedicalCard(card) => {
                if before.kind != DocumentKind::MedicalCard {
                    return Err(StoreError::invalid(
                        "kind",
                        "wrong_kind",
                        "this submission is not a medical card",
                    ));
                }
                set_medical_card_in_tx(&mut tx, before.customer_id, &card, actor, now).await?;
                (SubmissionStatus::Approved, None, None, None)
            }
            ReviewDecision::Reject { code, text } => {
                (SubmissionStatus::Rejected, Some(code), text, None)
            }
        };
        let at = to_micros(now);
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE document_submissions SET status = $1, reviewed_by = $2, reviewed_by_id = $3, decided_at = $4, \
                 reason_code = $5, reason_text = $6, verification_id = $7 WHERE id = $8",
            )
            .bind(status.as_str())
            .bind(&actor.label)
            .bind(actor.id.as_deref())
            .bind(at)
            .bind(reason_code.map(RejectionReason::as_str))
            .bind(reason_text.as_deref())
            .bind(verification_id.as_deref())
            .bind(id)
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        let mut deleted = 0;
        if delete_images {
            deleted = on_tx!(&mut tx, |c| {
                sqlx::query("DELETE FROM document_submission_images WHERE submission_id = $1")
                    .bind(id)
                    .execute(&mut **c)
                    .await
                    .map(|r| r.rows_affected())
            })?;
            on_tx!(&mut tx, |c| {
                sqlx::query("UPDATE document_submissions SET images_deleted_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut **c)
                    .await
                    .map(|_| ())
            })?;
        }
        let after = fetch_in_tx(&mut tx, id).await?;
        let (event, topic) = match status {
            SubmissionStatus::Approved => (EventKind::DocumentApproved, "document_approved"),
            _ => (EventKind::DocumentRejected, "document_rejected"),
        };
        crate::events::emit(&mut tx, event, id, event_data(&after), now).await?;
        let sms = queue_customer_sms(
            &mut tx,
            after.customer_id,
            id,
            topic,
            |first| {
                canopy_domain::documents::decision_sms(
                    first,
                    after.kind,
                    status == SubmissionStatus::Approved,
                    reason_code,
                )
            },
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            now,
            &format!("document.{}", status.as_str()),
            "customer",
            Some(&after.customer_id.to_string()),
            &serde_json::json!({
                "submission_id": id, "kind": after.kind, "reason_code": reason_code,
                "reason_text": reason_text, "verification_id": verification_id,
                "images_deleted": deleted, "sms": sms,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Minutes a submission at `store` may wait for a decision.
    pub async fn review_target_minutes(&self, store: StoreId) -> Result<i64> {
        let row: Option<(i64,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT target_minutes FROM document_review_targets WHERE store_id = $1"
        )
        .bind(store.to_string())
        .fetch_optional(p)
        .await)?;
        Ok(row.map_or(DEFAULT_REVIEW_TARGET_MINUTES, |(m,)| m))
    }

    /// Sets a store's review target (audited).
    pub async fn set_review_target_minutes(
        &self,
        store: StoreId,
        minutes: i64,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        self.retail_store(store).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO document_review_targets (store_id, target_minutes, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (store_id) DO UPDATE SET target_minutes = excluded.target_minutes, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(store.to_string())
            .bind(minutes)
            .bind(to_micros(now))
            .bind(&actor.label)
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "store.review_target_set",
            "store",
            Some(&store.to_string()),
            &serde_json::json!({ "target_minutes": minutes }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn first_image(tx: &mut Tx, id: &str) -> Result<Option<SealedImage>> {
    let row: Option<(String, Vec<u8>)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT content_type, sealed FROM document_submission_images WHERE submission_id = $1 \
             ORDER BY position LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut **c)
        .await
    })?;
    Ok(row.map(|(content_type, sealed)| SealedImage {
        content_type,
        sealed,
    }))
}
