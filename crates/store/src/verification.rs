//! ID verifications, encrypted ID images, medical cards and caregiver ↔ patient links.
//!
//! The store never sees an ID image in the clear: the web layer seals it (key id ‖ nonce ‖
//! ciphertext) and the store keeps the bytes. Reading an image is itself audited, so it runs in a
//! write transaction.

use std::collections::HashMap;

use canopy_domain::{
    Actor, Customer, CustomerId, IdDocument, IdVerification, MedicalCard, Recommendation,
    VerificationMethod, VerifiedDocument, id_number_key,
};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::fetch_customer;
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

/// A verification about to be recorded.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub method: VerificationMethod,
    pub document: VerifiedDocument,
    pub reason: Option<String>,
}

/// An encrypted ID image as stored.
#[derive(Debug, Clone)]
pub struct SealedImage {
    pub content_type: String,
    pub sealed: Vec<u8>,
}

/// Another customer linked as caregiver or patient, with enough to show the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedCustomer {
    pub id: CustomerId,
    pub first_name: String,
    pub last_name: String,
}

/// Everything about a customer's compliance standing that lives outside the customer row.
#[derive(Debug, Clone, Default)]
pub struct Compliance {
    pub verification: Option<IdVerification>,
    pub medical_card: Option<MedicalCard>,
    /// For a caregiver: the patients they buy for.
    pub patients: Vec<LinkedCustomer>,
    /// For a patient: the caregivers who buy for them.
    pub caregivers: Vec<LinkedCustomer>,
    /// A sealed ID image is on file (so "Show ID image" is offered only when there is one).
    pub has_id_image: bool,
    /// The points balance (the ledger's cached sum), so a list of customers shows points without a
    /// request per row; `None` where it was not loaded (inside checkout).
    pub loyalty_points: Option<i64>,
}

const VERIFICATION_COLUMNS: &str = "v.id, v.customer_id, v.method, v.document_kind, v.document_number, v.jurisdiction, \
     v.expiry, v.date_of_birth, v.reason, v.verified_by, v.verified_by_id, v.verified_at, \
     (SELECT COUNT(*) FROM id_images i WHERE i.verification_id = v.id) AS images";

#[derive(sqlx::FromRow)]
struct VerificationRow {
    #[allow(dead_code)]
    id: String,
    customer_id: String,
    method: String,
    document_kind: String,
    document_number: String,
    jurisdiction: Option<String>,
    expiry: Option<String>,
    date_of_birth: String,
    reason: Option<String>,
    verified_by: String,
    verified_by_id: Option<String>,
    verified_at: i64,
    images: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn parse_date(what: &str, raw: Option<String>) -> Result<Option<jiff::civil::Date>> {
    raw.map(|d| d.parse().map_err(|_| corrupt(what, &d)))
        .transpose()
}

impl TryFrom<VerificationRow> for IdVerification {
    type Error = StoreError;

    fn try_from(r: VerificationRow) -> Result<IdVerification> {
        Ok(IdVerification {
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| corrupt("customer id", &r.customer_id))?,
            method: VerificationMethod::parse(&r.method)
                .ok_or_else(|| corrupt("verification method", &r.method))?,
            document: VerifiedDocument {
                kind: serde_json::from_value(serde_json::Value::String(r.document_kind.clone()))
                    .map_err(|_| corrupt("document_kind", &r.document_kind))?,
                number: r.document_number,
                jurisdiction: r.jurisdiction,
                expiry: parse_date("verification expiry", r.expiry)?,
                date_of_birth: r
                    .date_of_birth
                    .parse()
                    .map_err(|_| corrupt("verification date_of_birth", &r.date_of_birth))?,
            },
            reason: r.reason,
            verified_by: r.verified_by,
            verified_by_id: r.verified_by_id,
            verified_at: from_micros(r.verified_at),
            has_image: r.images > 0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MedicalCardRow {
    customer_id: String,
    number: String,
    issuing_state: String,
    expiry: String,
    rec_amount: Option<String>,
    rec_unit: Option<String>,
    rec_category: Option<String>,
    rec_expiry: Option<String>,
    rec_document_ref: Option<String>,
}

impl MedicalCardRow {
    fn into_card(self) -> Result<(String, MedicalCard)> {
        let has_rec = self.rec_amount.is_some()
            || self.rec_unit.is_some()
            || self.rec_category.is_some()
            || self.rec_expiry.is_some()
            || self.rec_document_ref.is_some();
        let recommendation = if has_rec {
            Some(Recommendation {
                amount: self
                    .rec_amount
                    .map(|a| a.parse().map_err(|_| corrupt("rec_amount", &a)))
                    .transpose()?,
                unit: self.rec_unit,
                category: self.rec_category,
                expiry: parse_date("rec_expiry", self.rec_expiry)?,
                document_ref: self.rec_document_ref,
            })
        } else {
            None
        };
        let card = MedicalCard {
            number: self.number,
            issuing_state: self.issuing_state,
            expiry: self
                .expiry
                .parse()
                .map_err(|_| corrupt("medical card expiry", &self.expiry))?,
            recommendation,
        };
        Ok((self.customer_id, card))
    }
}

const MEDICAL_COLUMNS: &str = "customer_id, number, issuing_state, expiry, rec_amount, rec_unit, rec_category, \
     rec_expiry, rec_document_ref";

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn document_kind_name(doc: &VerifiedDocument) -> String {
    serde_json::to_value(doc.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "other".into())
}

async fn require_customer(tx: &mut Tx, id: CustomerId) -> Result<Customer> {
    fetch_customer(tx, id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })
}

impl Compliance {
    /// The facts the eligibility decision reads.
    pub fn facts(&self) -> canopy_orders::ComplianceFacts<'_> {
        canopy_orders::ComplianceFacts {
            verified: self.verification.as_ref().map(|v| &v.document),
            medical_card: self.medical_card.as_ref(),
        }
    }
}

/// The latest verification and the medical card of one customer, read inside `tx` (checkout).
pub(crate) async fn compliance_in_tx(tx: &mut Tx, id: CustomerId) -> Result<Compliance> {
    let sql = format!(
        "SELECT {VERIFICATION_COLUMNS} FROM id_verifications v WHERE v.customer_id = $1 \
         ORDER BY v.verified_at DESC, v.id DESC LIMIT 1"
    );
    let row: Option<VerificationRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await)?;
    let sql = format!("SELECT {MEDICAL_COLUMNS} FROM medical_cards WHERE customer_id = $1");
    let card: Option<MedicalCardRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await)?;
    Ok(Compliance {
        verification: row.map(IdVerification::try_from).transpose()?,
        medical_card: card.map(|r| r.into_card().map(|(_, c)| c)).transpose()?,
        ..Compliance::default()
    })
}

/// [`Store::record_verification`] inside the caller's transaction (the review queue approves a
/// submission with the same writes staff make at the counter). Returns the verification's id too.
pub(crate) async fn record_verification_in_tx(
    tx: &mut Tx,
    customer_id: CustomerId,
    new: NewVerification,
    image: Option<SealedImage>,
    actor: &Actor,
    now: Timestamp,
) -> Result<(Customer, IdVerification, String)> {
    let before = require_customer(tx, customer_id).await?;
    let doc = &new.document;
    let key = id_number_key(&doc.number);
    let owner: Option<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id FROM customers WHERE id_number_key = $1 AND COALESCE(id_jurisdiction, '') = COALESCE($2, '') \
             AND id <> $3 LIMIT 1",
        )
        .bind(&key)
        .bind(doc.jurisdiction.as_deref())
        .bind(customer_id.to_string())
        .fetch_optional(&mut **c)
        .await
    })?;
    if let Some((other,)) = owner {
        return Err(StoreError::DuplicateCustomer {
            field: "id_document.number",
            existing: other.parse().ok(),
        });
    }
    let verification_id = uuid::Uuid::now_v7().to_string();
    let kind = document_kind_name(doc);
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO id_verifications (id, customer_id, method, document_kind, document_number, document_number_key, \
             jurisdiction, expiry, date_of_birth, reason, verified_by, verified_by_id, verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&verification_id)
        .bind(customer_id.to_string())
        .bind(new.method.as_str())
        .bind(&kind)
        .bind(&doc.number)
        .bind(&key)
        .bind(doc.jurisdiction.as_deref())
        .bind(doc.expiry.map(|d| d.to_string()))
        .bind(doc.date_of_birth.to_string())
        .bind(new.reason.as_deref())
        .bind(&actor.label)
        .bind(actor.id.as_deref())
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ())
    })?;
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE customers SET id_kind = $1, id_number = $2, id_number_key = $3, id_jurisdiction = $4, \
             id_expiry = $5, date_of_birth = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&kind)
        .bind(&doc.number)
        .bind(&key)
        .bind(doc.jurisdiction.as_deref())
        .bind(doc.expiry.map(|d| d.to_string()))
        .bind(doc.date_of_birth.to_string())
        .bind(to_micros(now))
        .bind(customer_id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ())
    })
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::DuplicateCustomer {
                field: "id_document.number",
                existing: None,
            }
        } else {
            StoreError::from(e)
        }
    })?;
    if let Some(image) = &image {
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO id_images (customer_id, verification_id, content_type, sealed, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET \
                 verification_id = excluded.verification_id, content_type = excluded.content_type, \
                 sealed = excluded.sealed, created_at = excluded.created_at",
            )
            .bind(customer_id.to_string())
            .bind(&verification_id)
            .bind(&image.content_type)
            .bind(&image.sealed)
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
    }
    let mut after = before.clone();
    after.details.id_document = Some(IdDocument {
        kind: doc.kind,
        number: doc.number.clone(),
        jurisdiction: doc.jurisdiction.clone(),
        expiry: doc.expiry,
    });
    after.details.date_of_birth = Some(doc.date_of_birth);
    after.updated_at = now;
    let changes = audit::diff_of(&before, &after);
    let details = serde_json::json!({
        "verification_id": verification_id,
        "method": new.method,
        "document_kind": kind,
        "jurisdiction": doc.jurisdiction,
        "expiry": doc.expiry,
        "reason": new.reason,
        "image": image.is_some(),
        "changes": changes,
    });
    audit::record(
        tx,
        actor,
        now,
        "customer.id_verify",
        "customer",
        Some(&customer_id.to_string()),
        &details,
    )
    .await?;
    let verification = IdVerification {
        customer_id,
        method: new.method,
        document: new.document,
        reason: new.reason,
        verified_by: actor.label.clone(),
        verified_by_id: actor.id.clone(),
        verified_at: now,
        has_image: image.is_some(),
    };
    Ok((after, verification, verification_id))
}

/// [`Store::set_medical_card`] inside the caller's transaction.
pub(crate) async fn set_medical_card_in_tx(
    tx: &mut Tx,
    customer_id: CustomerId,
    card: &MedicalCard,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    require_customer(tx, customer_id).await?;
    let sql = format!("SELECT {MEDICAL_COLUMNS} FROM medical_cards WHERE customer_id = $1");
    let old: Option<MedicalCardRow> = on_tx!(tx, |c| {
        sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(customer_id.to_string())
            .fetch_optional(&mut **c)
            .await
    })?;
    let old = old.map(|r| r.into_card().map(|(_, c)| c)).transpose()?;
    let rec = card.recommendation.as_ref();
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO medical_cards (customer_id, number, issuing_state, expiry, rec_amount, rec_unit, rec_category, \
             rec_expiry, rec_document_ref, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (customer_id) DO UPDATE SET number = excluded.number, issuing_state = excluded.issuing_state, \
             expiry = excluded.expiry, rec_amount = excluded.rec_amount, rec_unit = excluded.rec_unit, \
             rec_category = excluded.rec_category, rec_expiry = excluded.rec_expiry, \
             rec_document_ref = excluded.rec_document_ref, updated_at = excluded.updated_at",
        )
        .bind(customer_id.to_string())
        .bind(&card.number)
        .bind(&card.issuing_state)
        .bind(card.expiry.to_string())
        .bind(rec.and_then(|r| r.amount).map(|a| a.to_string()))
        .bind(rec.and_then(|r| r.unit.clone()))
        .bind(rec.and_then(|r| r.category.clone()))
        .bind(rec.and_then(|r| r.expiry).map(|d| d.to_string()))
        .bind(rec.and_then(|r| r.document_ref.clone()))
        .bind(to_micros(now))
        .execute(&mut **c)
        .await
        .map(|_| ())
    })?;
    audit::record(
        tx,
        actor,
        now,
        "customer.medical_card_set",
        "customer",
        Some(&customer_id.to_string()),
        &serde_json::json!({ "medical_card": { "old": old, "new": card } }),
    )
    .await?;
    Ok(())
}

impl Store {
    /// Records a verification: the verification row, the customer's ID document and date of birth
    /// taken from it, the sealed image when one was uploaded, and the audit row, all together. A
    /// document already on another customer's profile is a duplicate (the scan belongs to them).
    pub async fn record_verification(
        &self,
        customer_id: CustomerId,
        new: NewVerification,
        image: Option<SealedImage>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(Customer, IdVerification)> {
        let mut tx = self.begin().await?;
        let (customer, verification, _) =
            record_verification_in_tx(&mut tx, customer_id, new, image, actor, now).await?;
        tx.commit().await?;
        Ok((customer, verification))
    }

    /// The sealed ID image, recording in the audit log who viewed it.
    pub async fn view_id_image(
        &self,
        customer_id: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<SealedImage> {
        let mut tx = self.begin().await?;
        require_customer(&mut tx, customer_id).await?;
        let row: Option<(String, Vec<u8>, Option<String>)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "SELECT content_type, sealed, verification_id FROM id_images WHERE customer_id = $1",
            )
            .bind(customer_id.to_string())
            .fetch_optional(&mut **c)
            .await
        })?;
        let (content_type, sealed, verification_id) =
            row.ok_or(StoreError::NotFound { entity: "ID image" })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.id_image_view",
            "customer",
            Some(&customer_id.to_string()),
            &serde_json::json!({ "verification_id": verification_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(SealedImage {
            content_type,
            sealed,
        })
    }

    /// Sets (or replaces) a customer's medical card, auditing old and new.
    pub async fn set_medical_card(
        &self,
        customer_id: CustomerId,
        card: MedicalCard,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<MedicalCard> {
        let mut tx = self.begin().await?;
        set_medical_card_in_tx(&mut tx, customer_id, &card, actor, now).await?;
        tx.commit().await?;
        Ok(card)
    }

    /// Links a caregiver to a patient (idempotent; audited only when new).
    pub async fn link_patient(
        &self,
        caregiver: CustomerId,
        patient: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        require_customer(&mut tx, caregiver).await?;
        require_customer(&mut tx, patient).await?;
        let inserted = on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO caregiver_patients (caregiver_id, patient_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(caregiver.to_string())
            .bind(patient.to_string())
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if inserted > 0 {
            audit::record(
                &mut tx,
                actor,
                now,
                "customer.patient_link",
                "customer",
                Some(&caregiver.to_string()),
                &serde_json::json!({ "patient_id": patient }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn unlink_patient(
        &self,
        caregiver: CustomerId,
        patient: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, |c| {
            sqlx::query(
                "DELETE FROM caregiver_patients WHERE caregiver_id = $1 AND patient_id = $2",
            )
            .bind(caregiver.to_string())
            .bind(patient.to_string())
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if removed == 0 {
            return Err(StoreError::NotFound {
                entity: "caregiver link",
            });
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.patient_unlink",
            "customer",
            Some(&caregiver.to_string()),
            &serde_json::json!({ "patient_id": patient }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Compliance standing for many customers at once (four queries, whatever the count), in the
    /// order asked.
    pub async fn compliance(&self, ids: &[CustomerId]) -> Result<Vec<Compliance>> {
        let mut out: HashMap<CustomerId, Compliance> =
            ids.iter().map(|id| (*id, Compliance::default())).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let list = placeholders(keys.len());

        let sql = format!(
            "SELECT {VERIFICATION_COLUMNS} FROM id_verifications v WHERE v.customer_id IN ({list}) \
             ORDER BY v.verified_at DESC, v.id DESC"
        );
        let rows: Vec<VerificationRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await
        })?;
        for row in rows {
            let v = IdVerification::try_from(row)?;
            if let Some(c) = out.get_mut(&v.customer_id)
                && c.verification.is_none()
            {
                c.verification = Some(v);
            }
        }

        let sql =
            format!("SELECT {MEDICAL_COLUMNS} FROM medical_cards WHERE customer_id IN ({list})");
        let rows: Vec<MedicalCardRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await
        })?;
        for row in rows {
            let (id, card) = row.into_card()?;
            let id: CustomerId = id.parse().map_err(|_| corrupt("customer id", &id))?;
            if let Some(c) = out.get_mut(&id) {
                c.medical_card = Some(card);
            }
        }

        for (mine, theirs, patients) in [
            ("caregiver_id", "patient_id", true),
            ("patient_id", "caregiver_id", false),
        ] {
            let sql = format!(
                "SELECT l.{mine}, c.id, c.first_name, c.last_name FROM caregiver_patients l \
                 JOIN customers c ON c.id = l.{theirs} WHERE l.{mine} IN ({list}) ORDER BY c.last_name, c.first_name, c.id"
            );
            let rows: Vec<(String, String, String, String)> = on_read!(self, |p| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                for k in &keys {
                    q = q.bind(k);
                }
                q.fetch_all(p).await
            })?;
            for (owner, other, first_name, last_name) in rows {
                let owner: CustomerId =
                    owner.parse().map_err(|_| corrupt("customer id", &owner))?;
                let linked = LinkedCustomer {
                    id: other.parse().map_err(|_| corrupt("customer id", &other))?,
                    first_name,
                    last_name,
                };
                if let Some(c) = out.get_mut(&owner) {
                    if patients {
                        c.patients.push(linked);
                    } else {
                        c.caregivers.push(linked);
                    }
                }
            }
        }
        // Both below are one query for the whole batch, however many customers it holds.
        let sql = format!("SELECT customer_id FROM id_images WHERE customer_id IN ({list})");
        let with_image: Vec<String> = on_read!(self, |p| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql.clone()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await
        })?;
        for id in with_image {
            let id: CustomerId = id.parse().map_err(|_| corrupt("customer id", &id))?;
            if let Some(c) = out.get_mut(&id) {
                c.has_id_image = true;
            }
        }
        let sql = format!(
            "SELECT customer_id, balance FROM loyalty_accounts WHERE customer_id IN ({list})"
        );
        let balances: Vec<(String, i64)> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await
        })?;
        for c in out.values_mut() {
            c.loyalty_points = Some(0);
        }
        for (id, balance) in balances {
            let id: CustomerId = id.parse().map_err(|_| corrupt("customer id", &id))?;
            if let Some(c) = out.get_mut(&id) {
                c.loyalty_points = Some(balance);
            }
        }
        Ok(ids
            .iter()
            .map(|id| out.remove(id).unwrap_or_default())
            .collect())
    }

    /// The customer holding this ID document (number compared without punctuation or case).
    pub async fn customer_by_document(
        &self,
        number: &str,
        jurisdiction: Option<&str>,
    ) -> Result<Option<Customer>> {
        let found: Option<(String,)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM customers WHERE id_number_key = $1 AND COALESCE(id_jurisdiction, '') = COALESCE($2, '') LIMIT 1"
        )
        .bind(id_number_key(number))
        .bind(jurisdiction)
        .fetch_optional(p)
        .await
        })?;
        self.first_by_id(found).await
    }

    /// Live customers (not merged away or erased) with this name and date of birth (names compared
    /// case-insensitively).
    pub async fn customers_by_name_and_birth_date(
        &self,
        first_name: &str,
        last_name: &str,
        date_of_birth: jiff::civil::Date,
    ) -> Result<Vec<Customer>> {
        let rows: Vec<(String,)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM customers WHERE date_of_birth = $2 AND LOWER(last_name) = $1 \
             AND LOWER(first_name) = $3 AND merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT 10"
        )
        .bind(last_name.to_lowercase())
        .bind(date_of_birth.to_string())
        .bind(first_name.to_lowercase())
        .fetch_all(p)
        .await
        })?;
        let ids: Vec<CustomerId> = rows
            .into_iter()
            .filter_map(|(id,)| id.parse().ok())
            .collect();
        self.customers_by_ids(&ids).await
    }

    async fn first_by_id(&self, found: Option<(String,)>) -> Result<Option<Customer>> {
        let Some((id,)) = found else { return Ok(None) };
        let id: CustomerId = id.parse().map_err(|_| corrupt("customer id", &id))?;
        Ok(self.customers_by_ids(&[id]).await?.into_iter().next())
    }
}
