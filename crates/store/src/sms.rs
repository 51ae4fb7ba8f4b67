//! Order-status texts: templates and the outbox.
//!
//! A status change queues its message inside the change's own transaction ([`queue_status_sms`]), keyed by
//! (order, status) so that no status change can queue two. Workers claim due rows with a lease, so two
//! server processes never hold the same row at once, and finish them only while they still hold it.

use canopy_domain::{
    Actor, ConsentChannel, ConsentPurpose, CustomerId, NotifiedStatus, SmsMessageId, SmsTemplate,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::fetch_customer;
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit, consent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsState {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Gave up: the provider refused it for good, or every retry failed.
    Failed,
    /// Not sent because consent was revoked before it went out.
    Skipped,
}

impl SmsState {
    fn as_str(self) -> &'static str {
        match self {
            SmsState::Pending => "pending",
            SmsState::Sent => "sent",
            SmsState::Failed => "failed",
            SmsState::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> Option<SmsState> {
        [
            SmsState::Pending,
            SmsState::Sent,
            SmsState::Failed,
            SmsState::Skipped,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One queued or sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsMessage {
    pub id: SmsMessageId,
    pub order_id: String,
    pub order_status: String,
    pub customer_id: CustomerId,
    pub to: String,
    pub body: String,
    pub state: SmsState,
    /// Attempts started so far (a claim counts as an attempt).
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

const SMS_COLUMNS: &str = "id, order_id, order_status, customer_id, to_phone, body, state, attempts, next_attempt_at, \
     last_error, provider_message_id, created_at, sent_at";

#[derive(sqlx::FromRow)]
struct SmsRow {
    id: String,
    order_id: String,
    order_status: String,
    customer_id: String,
    to_phone: String,
    body: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    provider_message_id: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

impl TryFrom<SmsRow> for SmsMessage {
    type Error = StoreError;

    fn try_from(r: SmsRow) -> Result<SmsMessage> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("sms {what}: {v:?}"));
        Ok(SmsMessage {
            id: r.id.parse().map_err(|_| bad("id", &r.id))?,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| bad("customer_id", &r.customer_id))?,
            state: SmsState::parse(&r.state).ok_or_else(|| bad("state", &r.state))?,
            order_id: r.order_id,
            order_status: r.order_status,
            to: r.to_phone,
            body: r.body,
            attempts: r.attempts,
            next_attempt_at: from_micros(r.next_attempt_at),
            last_error: r.last_error,
            provider_message_id: r.provider_message_id,
            created_at: from_micros(r.created_at),
            sent_at: r.sent_at.map(from_micros),
        })
    }
}

/// How one attempt ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    Sent {
        provider_message_id: Option<String>,
    },
    /// A temporary failure: try again at `at`.
    Retry {
        error: String,
        at: Timestamp,
    },
    /// A permanent failure, or the last retry failed.
    Failed {
        error: String,
    },
    /// Consent was revoked after the message was queued.
    Skipped {
        reason: String,
    },
}

/// A status's template as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsTemplateView {
    pub status: NotifiedStatus,
    pub body: SmsTemplate,
    /// False while the built-in text is in use.
    pub customised: bool,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
}

/// Queues the text for an order status change inside the change's transaction. Returns `None` when the
/// status sends nothing, the customer has no phone, or transactional SMS consent is revoked; and when this
/// (order, status) was already queued, so repeating a status change never texts twice.
/// `order_ref` is what the customer knows the order by (its number), used in the message.
pub(crate) async fn queue_status_sms(
    tx: &mut Tx,
    order_id: &str,
    order_ref: &str,
    customer_id: CustomerId,
    status: &str,
    now: Timestamp,
) -> Result<Option<SmsMessageId>> {
    if NotifiedStatus::parse(status).is_none() {
        return Ok(None);
    }
    let customer = fetch_customer(tx, customer_id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    queue_status_sms_to(tx, order_id, order_ref, &customer, status, now).await
}

/// [`queue_status_sms`] for a caller that has the customer's row already (a checkout).
pub(crate) async fn queue_status_sms_to(
    tx: &mut Tx,
    order_id: &str,
    order_ref: &str,
    customer: &canopy_domain::Customer,
    status: &str,
    now: Timestamp,
) -> Result<Option<SmsMessageId>> {
    let Some(status) = NotifiedStatus::parse(status) else {
        return Ok(None);
    };
    let Some((phone, first_name)) = recipient(tx, customer).await? else {
        return Ok(None);
    };
    let template = template_in(tx, status).await?;
    let body = template.render(first_name, order_ref, status);
    insert_outbox(
        tx,
        (order_id, status.as_str()),
        customer.id,
        phone,
        &body,
        now,
    )
    .await
}

/// Where a transactional text to this customer goes and the name it greets, or `None` when they have no
/// phone or have not consented to transactional texts (then nothing is queued).
pub(crate) async fn recipient<'c>(
    tx: &mut Tx,
    customer: &'c canopy_domain::Customer,
) -> Result<Option<(&'c str, &'c str)>> {
    let Some(phone) = customer.details.phone.as_ref() else {
        return Ok(None);
    };
    let consent = consent::latest_status(
        tx,
        customer.id,
        ConsentChannel::Sms,
        ConsentPurpose::Transactional,
    )
    .await?;
    if !canopy_domain::consent::allowed(ConsentPurpose::Transactional, consent) {
        return Ok(None);
    }
    let name = &customer.details.name;
    Ok(Some((
        phone.as_str(),
        name.preferred.as_deref().unwrap_or(&name.first),
    )))
}

/// Queues one text. `key` is the outbox's unique `(order_id, order_status)` pair, so the same
/// occasion never texts twice however often it is retried.
pub(crate) async fn insert_outbox(
    tx: &mut Tx,
    key: (&str, &str),
    customer_id: CustomerId,
    phone: &str,
    body: &str,
    now: Timestamp,
) -> Result<Option<SmsMessageId>> {
    let id = SmsMessageId::new();
    let at = to_micros(now);
    let inserted = on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sms_outbox (id, order_id, order_status, customer_id, to_phone, body, state, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8) \
             ON CONFLICT (order_id, order_status) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(key.0)
        .bind(key.1)
        .bind(customer_id.to_string())
        .bind(phone)
        .bind(body)
        .bind(at)
        .bind(at)
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok((inserted == 1).then_some(id))
}

async fn template_in(tx: &mut Tx, status: NotifiedStatus) -> Result<SmsTemplate> {
    let row: Option<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as("SELECT body FROM sms_templates WHERE order_status = $1")
            .bind(status.as_str())
            .fetch_optional(&mut **c)
            .await
    })?;
    Ok(match row {
        Some((body,)) => SmsTemplate::from_stored(body),
        None => SmsTemplate::from_stored(status.default_template().to_string()),
    })
}

/// Which messages to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct SmsFilter {
    pub order_id: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub state: Option<SmsState>,
    pub limit: u32,
}

impl Store {
    /// Queues the text for an order's status change in a transaction of its own. The orders module queues
    /// inside its status-change transaction instead; this entry point serves callers outside the store.
    pub async fn queue_order_status_sms(
        &self,
        order_id: &str,
        order_ref: &str,
        customer: CustomerId,
        status: &str,
        now: Timestamp,
    ) -> Result<Option<SmsMessageId>> {
        let mut tx = self.begin().await?;
        let id = queue_status_sms(&mut tx, order_id, order_ref, customer, status, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` due messages for `owner` until `now + lease`, counting the attempt.
    /// A row another process holds (lease not yet expired) is never returned.
    pub async fn claim_due_sms(
        &self,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<SmsMessage>> {
        let now_us = to_micros(now);
        let until = to_micros(now.saturating_add(lease).unwrap_or(now));
        let sql = format!(
            "UPDATE sms_outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM sms_outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at LIMIT $4) \
             AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3) RETURNING {SMS_COLUMNS}"
        );
        let mut tx = self.begin().await?;
        let rows: Vec<SmsRow> = on_tx!(&mut tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(owner)
                .bind(until)
                .bind(now_us)
                .bind(i64::from(limit))
                .fetch_all(&mut **c)
                .await
        })?;
        tx.commit().await?;
        rows.into_iter().map(SmsMessage::try_from).collect()
    }

    /// Records how an attempt ended. Returns false (and changes nothing) when `owner` no longer holds the
    /// lease, so a worker that overran its lease cannot overwrite another's result.
    pub async fn finish_sms(
        &self,
        id: SmsMessageId,
        owner: &str,
        outcome: &SmsOutcome,
        now: Timestamp,
    ) -> Result<bool> {
        let (state, next, error, provider_id, sent_at) = match outcome {
            SmsOutcome::Sent {
                provider_message_id,
            } => (
                SmsState::Sent,
                None,
                None,
                provider_message_id.clone(),
                Some(to_micros(now)),
            ),
            SmsOutcome::Retry { error, at } => (
                SmsState::Pending,
                Some(to_micros(*at)),
                Some(error.clone()),
                None,
                None,
            ),
            SmsOutcome::Failed { error } => {
                (SmsState::Failed, None, Some(error.clone()), None, None)
            }
            SmsOutcome::Skipped { reason } => {
                (SmsState::Skipped, None, Some(reason.clone()), None, None)
            }
        };
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE sms_outbox SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 last_error = $3, provider_message_id = COALESCE($4, provider_message_id), sent_at = $5, \
                 lease_owner = NULL, lease_until = NULL WHERE id = $6 AND lease_owner = $7",
            )
            .bind(state.as_str())
            .bind(next)
            .bind(error)
            .bind(provider_id)
            .bind(sent_at)
            .bind(id.to_string())
            .bind(owner)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Messages newest first.
    pub async fn sms_messages(&self, filter: &SmsFilter) -> Result<Vec<SmsMessage>> {
        let sql = format!(
            "SELECT {SMS_COLUMNS} FROM sms_outbox WHERE ($1 IS NULL OR order_id = $1) AND ($2 IS NULL OR customer_id = $2) \
             AND ($3 IS NULL OR state = $3) ORDER BY created_at DESC, id DESC LIMIT $4"
        );
        let rows: Vec<SmsRow> = on_read!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(filter.order_id.as_deref())
                .bind(filter.customer_id.map(|c| c.to_string()))
                .bind(filter.state.map(SmsState::as_str))
                .bind(i64::from(filter.limit))
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(SmsMessage::try_from).collect()
    }

    /// The template of every notifying status (the built-in text where none was saved).
    pub async fn sms_templates(&self) -> Result<Vec<SmsTemplateView>> {
        let rows: Vec<(String, String, i64, String)> = on_read!(self, |p| {
            sqlx::query_as("SELECT order_status, body, updated_at, updated_by FROM sms_templates")
                .fetch_all(p)
                .await
        })?;
        Ok(NotifiedStatus::ALL
            .into_iter()
            .map(
                |status| match rows.iter().find(|(s, ..)| s == status.as_str()) {
                    Some((_, body, at, by)) => SmsTemplateView {
                        status,
                        body: SmsTemplate::from_stored(body.clone()),
                        customised: true,
                        updated_at: Some(from_micros(*at)),
                        updated_by: Some(by.clone()),
                    },
                    None => SmsTemplateView {
                        status,
                        body: SmsTemplate::from_stored(status.default_template().to_string()),
                        customised: false,
                        updated_at: None,
                        updated_by: None,
                    },
                },
            )
            .collect())
    }

    /// Saves a status's template (messages already queued keep the text they were queued with).
    pub async fn set_sms_template(
        &self,
        status: NotifiedStatus,
        template: SmsTemplate,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<SmsTemplateView> {
        let mut tx = self.begin().await?;
        let before = template_in(&mut tx, status).await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO sms_templates (order_status, body, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (order_status) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(status.as_str())
            .bind(template.as_str())
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
            "sms.template_update",
            "sms_template",
            Some(status.as_str()),
            &serde_json::json!({ "body": { "old": before.as_str(), "new": template.as_str() } }),
        )
        .await?;
        tx.commit().await?;
        Ok(SmsTemplateView {
            status,
            body: template,
            customised: true,
            updated_at: Some(now),
            updated_by: Some(actor.label.clone()),
        })
    }
}
