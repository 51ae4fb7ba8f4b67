//! The consent ledger: append-only entries, each audited and announced (`consent.changed`) in the
//! transaction that writes it.

use canopy_domain::{
    Actor, ActorKind, ConsentChange, ConsentChannel, ConsentEntry, ConsentPurpose, ConsentSource,
    ConsentStatus, CustomerId, EventKind, PhoneNumber, SmsKeyword,
};
use jiff::Timestamp;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::fetch_customer;
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit, events};

const ENTRY_COLUMNS: &str = "seq, customer_id, channel, purpose, status, source, disclosure_version, address, evidence, \
     actor_kind, actor_id, actor_label, recorded_at";

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    customer_id: String,
    channel: String,
    purpose: String,
    status: String,
    source: String,
    disclosure_version: Option<String>,
    address: Option<String>,
    evidence: Option<String>,
    actor_kind: String,
    actor_id: Option<String>,
    actor_label: String,
    recorded_at: i64,
}

impl TryFrom<EntryRow> for ConsentEntry {
    type Error = StoreError;

    fn try_from(r: EntryRow) -> Result<ConsentEntry> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("consent {what}: {v:?}"));
        let actor_kind = match r.actor_kind.as_str() {
            "user" => ActorKind::User,
            "api_key" => ActorKind::ApiKey,
            "system" => ActorKind::System,
            other => return Err(bad("actor_kind", other)),
        };
        Ok(ConsentEntry {
            seq: r.seq,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| bad("customer_id", &r.customer_id))?,
            change: ConsentChange {
                channel: ConsentChannel::parse(&r.channel)
                    .ok_or_else(|| bad("channel", &r.channel))?,
                purpose: ConsentPurpose::parse(&r.purpose)
                    .ok_or_else(|| bad("purpose", &r.purpose))?,
                status: ConsentStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
                source: ConsentSource::parse(&r.source).ok_or_else(|| bad("source", &r.source))?,
                disclosure_version: r.disclosure_version,
                address: r.address,
                evidence: r.evidence,
            },
            actor_kind,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            recorded_at: from_micros(r.recorded_at),
        })
    }
}

/// What an inbound keyword did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordOutcome {
    /// The customers whose consent changed (one phone belongs to at most one customer).
    pub customers: Vec<CustomerId>,
    pub entries: Vec<ConsentEntry>,
}

impl Store {
    /// Appends consent changes for one customer (all or none).
    pub async fn record_consent(
        &self,
        customer: CustomerId,
        changes: &[ConsentChange],
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<ConsentEntry>> {
        let mut tx = self.begin().await?;
        fetch_customer(&mut tx, customer)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        let mut entries = Vec::with_capacity(changes.len());
        for change in changes {
            entries.push(append(&mut tx, customer, change, actor, now).await?);
        }
        tx.commit().await?;
        Ok(entries)
    }

    /// Every consent entry of a customer, oldest first.
    pub async fn consent_entries(&self, customer: CustomerId) -> Result<Vec<ConsentEntry>> {
        self.customer(customer).await?;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM consent_entries WHERE customer_id = $1 ORDER BY seq"
        );
        let rows: Vec<EntryRow> = on_read!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(customer.to_string())
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(ConsentEntry::try_from).collect()
    }

    /// Applies a reply keyword from `phone` at once: STOP revokes SMS marketing and transactional, START
    /// restores transactional. Nothing happens for a number no customer has.
    pub async fn apply_sms_keyword(
        &self,
        phone: &PhoneNumber,
        keyword: SmsKeyword,
        body: &str,
        now: Timestamp,
    ) -> Result<KeywordOutcome> {
        let purposes: &[(ConsentPurpose, ConsentStatus)] = match keyword {
            SmsKeyword::OptOut => &[
                (ConsentPurpose::Marketing, ConsentStatus::Revoked),
                (ConsentPurpose::Transactional, ConsentStatus::Revoked),
            ],
            SmsKeyword::OptIn => &[(ConsentPurpose::Transactional, ConsentStatus::Granted)],
            SmsKeyword::Help => &[],
        };
        let actor = Actor::system("sms-inbound");
        let mut tx = self.begin().await?;
        let ids: Vec<(String,)> = on_tx!(&mut tx, |c| {
            sqlx::query_as("SELECT id FROM customers WHERE phone_e164 = $1")
                .bind(phone.as_str())
                .fetch_all(&mut **c)
                .await
        })?;
        let mut outcome = KeywordOutcome {
            customers: Vec::new(),
            entries: Vec::new(),
        };
        for (id,) in ids {
            let customer: CustomerId = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("customer id {id:?}")))?;
            for &(purpose, status) in purposes {
                let change = ConsentChange {
                    channel: ConsentChannel::Sms,
                    purpose,
                    status,
                    source: ConsentSource::SmsKeyword,
                    disclosure_version: None,
                    address: Some(phone.as_str().to_string()),
                    evidence: Some(body.chars().take(160).collect()),
                };
                outcome
                    .entries
                    .push(append(&mut tx, customer, &change, &actor, now).await?);
            }
            outcome.customers.push(customer);
        }
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Appends one entry, its audit row and its `consent.changed` event inside `tx`.
pub(crate) async fn append(
    tx: &mut Tx,
    customer: CustomerId,
    change: &ConsentChange,
    actor: &Actor,
    now: Timestamp,
) -> Result<ConsentEntry> {
    let (seq,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
            "INSERT INTO consent_entries (customer_id, channel, purpose, status, source, disclosure_version, address, \
             evidence, actor_kind, actor_id, actor_label, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
        )
        .bind(customer.to_string())
        .bind(change.channel.as_str())
        .bind(change.purpose.as_str())
        .bind(change.status.as_str())
        .bind(change.source.as_str())
        .bind(change.disclosure_version.as_deref())
        .bind(change.address.as_deref())
        .bind(change.evidence.as_deref())
        .bind(actor.kind.as_str())
        .bind(actor.id.as_deref())
        .bind(&actor.label)
        .bind(to_micros(now))
        .fetch_one(&mut **c)
        .await
    })?;
    let entry = ConsentEntry {
        seq,
        customer_id: customer,
        change: change.clone(),
        actor_kind: actor.kind,
        actor_id: actor.id.clone(),
        actor_label: actor.label.clone(),
        recorded_at: now,
    };
    let view = serde_json::to_value(&entry).unwrap_or_default();
    audit::record(
        tx,
        actor,
        now,
        "consent.change",
        "customer",
        Some(&customer.to_string()),
        &view,
    )
    .await?;
    events::emit(
        tx,
        EventKind::ConsentChanged,
        &customer.to_string(),
        serde_json::json!({ "customer_id": customer, "entry": view }),
        now,
    )
    .await?;
    Ok(entry)
}

/// The latest status of one (channel, purpose) for a customer, read inside `tx`.
pub(crate) async fn latest_status(
    tx: &mut Tx,
    customer: CustomerId,
    channel: ConsentChannel,
    purpose: ConsentPurpose,
) -> Result<Option<ConsentStatus>> {
    let row: Option<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT status FROM consent_entries WHERE customer_id = $1 AND channel = $2 AND purpose = $3 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(customer.to_string())
        .bind(channel.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&mut **c)
        .await
    })?;
    row.map(|(s,)| {
        ConsentStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("consent status {s:?}")))
    })
    .transpose()
}

impl Store {
    /// Whether a customer may be sent transactional texts now (not revoked).
    pub async fn transactional_sms_allowed(&self, customer: CustomerId) -> Result<bool> {
        let row: Option<(String,)> = on_read!(self, |p| {
            sqlx::query_as(
                "SELECT status FROM consent_entries WHERE customer_id = $1 AND channel = 'sms' \
                 AND purpose = 'transactional' ORDER BY seq DESC LIMIT 1",
            )
            .bind(customer.to_string())
            .fetch_optional(p)
            .await
        })?;
        let status = row.and_then(|(s,)| ConsentStatus::parse(&s));
        Ok(canopy_domain::consent::allowed(
            ConsentPurpose::Transactional,
            status,
        ))
    }
}
