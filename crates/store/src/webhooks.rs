//! Outbound webhook endpoints, deliveries and their attempts. Events enter through `events::emit`;
//! this module manages where they go and what happened when they were sent.

use std::collections::BTreeSet;

use canopy_domain::{Actor, EventId, EventKind, WebhookDeliveryId, WebhookEndpointId};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use serde::Serialize;

use crate::backend::{Tx, on_read, on_tx};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

/// A registered endpoint as admins see it. The signing secret is shown once, when it is created or rotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    pub events: BTreeSet<EventKind>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an admin registers. The URL was checked by the caller.
#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub description: Option<String>,
    pub events: BTreeSet<EventKind>,
    /// `None`: Canopy generates one.
    pub secret: Option<String>,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookEndpointChange {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<BTreeSet<EventKind>>,
    pub active: Option<bool>,
    /// Generate a new secret (returned once).
    pub rotate_secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every retry failed.
    Failed,
    /// The endpoint was deleted before it could be delivered.
    Cancelled,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub event_id: EventId,
    pub event_type: String,
    pub endpoint_id: WebhookEndpointId,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// The delivery this one replays, when an admin asked for a replay.
    pub replay_of: Option<WebhookDeliveryId>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookAttempt {
    pub attempt: i64,
    pub at: Timestamp,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A claimed delivery with everything the worker needs to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: WebhookDeliveryId,
    pub event_id: EventId,
    pub event_type: String,
    pub url: String,
    pub secret: String,
    /// The exact bytes to send and sign.
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `Delivered`, `Failed` (give up) or `Pending` (retry at `retry_at`).
    pub state: DeliveryState,
    pub retry_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<WebhookEndpointId>,
    pub event_id: Option<EventId>,
    pub state: Option<DeliveryState>,
    pub limit: u32,
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, e.event_type, d.endpoint_id, d.state, d.attempts, d.next_attempt_at, \
     d.last_status, d.last_error, d.replay_of, d.created_at, d.delivered_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    event_type: String,
    endpoint_id: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    replay_of: Option<String>,
    created_at: i64,
    delivered_at: Option<i64>,
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("webhook {what}: {v:?}"))
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<WebhookDelivery> {
        Ok(WebhookDelivery {
            id: r.id.parse().map_err(|_| corrupt("delivery id", &r.id))?,
            event_id: r
                .event_id
                .parse()
                .map_err(|_| corrupt("event id", &r.event_id))?,
            endpoint_id: r
                .endpoint_id
                .parse()
                .map_err(|_| corrupt("endpoint id", &r.endpoint_id))?,
            state: DeliveryState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            replay_of: r
                .replay_of
                .map(|id| id.parse().map_err(|_| corrupt("replay_of", &id)))
                .transpose()?,
            event_type: r.event_type,
            attempts: r.attempts,
            next_attempt_at: from_micros(r.next_attempt_at),
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: from_micros(r.created_at),
            delivered_at: r.delivered_at.map(from_micros),
        })
    }
}

/// A fresh signing secret: `whsec_` and 32 random bytes in hex.
fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_{hex}")
}

/// attempt, at, status_code, error, duration_ms
type AttemptRow = (i64, i64, Option<i64>, Option<String>, i64);

type EndpointRow = (String, String, Option<String>, Option<i64>, i64, i64);

async fn endpoint_in(tx: &mut Tx, id: WebhookEndpointId) -> Result<WebhookEndpoint> {
    let row: Option<EndpointRow> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, url, description, disabled_at, created_at, updated_at FROM webhook_endpoints \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await
    })?;
    let row = row.ok_or(StoreError::NotFound {
        entity: "webhook endpoint",
    })?;
    let events: Vec<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as("SELECT event_type FROM webhook_subscriptions WHERE endpoint_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut **c)
            .await
    })?;
    endpoint_from(row, events.into_iter().map(|(e,)| e))
}

fn endpoint_from(
    row: EndpointRow,
    events: impl Iterator<Item = String>,
) -> Result<WebhookEndpoint> {
    let (id, url, description, disabled_at, created_at, updated_at) = row;
    Ok(WebhookEndpoint {
        id: id.parse().map_err(|_| corrupt("endpoint id", &id))?,
        url,
        description,
        events: events
            .map(|e| EventKind::parse(&e).ok_or_else(|| corrupt("event type", &e)))
            .collect::<Result<_>>()?,
        active: disabled_at.is_none(),
        created_at: from_micros(created_at),
        updated_at: from_micros(updated_at),
    })
}

async fn replace_subscriptions(
    tx: &mut Tx,
    id: WebhookEndpointId,
    events: &BTreeSet<EventKind>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM webhook_subscriptions WHERE endpoint_id = $1")
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
    })?;
    for kind in events {
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO webhook_subscriptions (endpoint_id, event_type) VALUES ($1, $2)",
            )
            .bind(id.to_string())
            .bind(kind.as_str())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}

impl Store {
    /// Registers an endpoint; returns it with its signing secret (the only time the secret is shown).
    pub async fn create_webhook_endpoint(
        &self,
        new: NewWebhookEndpoint,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(WebhookEndpoint, String)> {
        let id = WebhookEndpointId::new();
        let secret = new.secret.clone().unwrap_or_else(generate_secret);
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, url, description, secret, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(id.to_string())
            .bind(&new.url)
            .bind(new.description.as_deref())
            .bind(&secret)
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        replace_subscriptions(&mut tx, id, &new.events).await?;
        let endpoint = endpoint_in(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "webhook.endpoint_create",
            "webhook_endpoint",
            Some(&id.to_string()),
            &serde_json::to_value(&endpoint).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok((endpoint, secret))
    }

    /// Every endpoint not deleted, oldest first.
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let rows: Vec<EndpointRow> = on_read!(self, |p| {
            sqlx::query_as(
                "SELECT id, url, description, disabled_at, created_at, updated_at FROM webhook_endpoints \
                 WHERE deleted_at IS NULL ORDER BY id",
            )
            .fetch_all(p)
            .await
        })?;
        let subs: Vec<(String, String)> = on_read!(self, |p| {
            sqlx::query_as("SELECT endpoint_id, event_type FROM webhook_subscriptions")
                .fetch_all(p)
                .await
        })?;
        rows.into_iter()
            .map(|row| {
                let events = subs
                    .iter()
                    .filter(|(e, _)| *e == row.0)
                    .map(|(_, k)| k.clone())
                    .collect::<Vec<_>>();
                endpoint_from(row, events.into_iter())
            })
            .collect()
    }

    pub async fn webhook_endpoint(&self, id: WebhookEndpointId) -> Result<WebhookEndpoint> {
        let mut tx = self.begin().await?;
        let endpoint = endpoint_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Applies a change; returns the endpoint and, when rotated, the new secret.
    pub async fn update_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        change: WebhookEndpointChange,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(WebhookEndpoint, Option<String>)> {
        let mut tx = self.begin().await?;
        let before = endpoint_in(&mut tx, id).await?;
        let secret = change.rotate_secret.then(generate_secret);
        let description = match &change.description {
            Some(d) => d.clone(),
            None => before.description.clone(),
        };
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE webhook_endpoints SET url = $1, description = $2, \
                 disabled_at = CASE WHEN $3 IS NULL THEN disabled_at WHEN $3 = 1 THEN NULL ELSE COALESCE(disabled_at, $5) END, \
                 secret = COALESCE($4, secret), updated_at = $5 WHERE id = $6",
            )
            .bind(change.url.as_deref().unwrap_or(&before.url))
            .bind(description.as_deref())
            .bind(change.active.map(i64::from))
            .bind(secret.as_deref())
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        if let Some(events) = &change.events {
            replace_subscriptions(&mut tx, id, events).await?;
        }
        let after = endpoint_in(&mut tx, id).await?;
        let mut changes = audit::diff_of(&before, &after);
        if secret.is_some() {
            changes["secret"] = serde_json::json!("rotated");
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "webhook.endpoint_update",
            "webhook_endpoint",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok((after, secret))
    }

    /// Deletes an endpoint: it receives nothing more, its undelivered deliveries are cancelled, and its
    /// delivery history stays readable.
    pub async fn delete_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        endpoint_in(&mut tx, id).await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE webhook_endpoints SET deleted_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'cancelled', lease_owner = NULL, lease_until = NULL \
                 WHERE endpoint_id = $1 AND state = 'pending'",
            )
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "webhook.endpoint_delete",
            "webhook_endpoint",
            Some(&id.to_string()),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries newest first.
    pub async fn webhook_deliveries(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE ($1 IS NULL OR d.endpoint_id = $1) AND ($2 IS NULL OR d.event_id = $2) \
             AND ($3 IS NULL OR d.state = $3) ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
        );
        let rows: Vec<DeliveryRow> = on_read!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(filter.endpoint_id.map(|i| i.to_string()))
                .bind(filter.event_id.map(|i| i.to_string()))
                .bind(filter.state.map(DeliveryState::as_str))
                .bind(i64::from(filter.limit))
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(WebhookDelivery::try_from).collect()
    }

    /// One delivery with every attempt, oldest attempt first.
    pub async fn webhook_delivery(
        &self,
        id: WebhookDeliveryId,
    ) -> Result<(WebhookDelivery, Vec<WebhookAttempt>)> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.id = $1"
        );
        let row: Option<DeliveryRow> = on_read!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .fetch_optional(p)
                .await
        })?;
        let delivery = row
            .ok_or(StoreError::NotFound {
                entity: "webhook delivery",
            })?
            .try_into()?;
        let attempts: Vec<AttemptRow> = on_read!(self, |p| {
            sqlx::query_as(
                "SELECT attempt, at, status_code, error, duration_ms FROM webhook_attempts \
                 WHERE delivery_id = $1 ORDER BY seq",
            )
            .bind(id.to_string())
            .fetch_all(p)
            .await
        })?;
        Ok((
            delivery,
            attempts
                .into_iter()
                .map(
                    |(attempt, at, status_code, error, duration_ms)| WebhookAttempt {
                        attempt,
                        at: from_micros(at),
                        status_code,
                        error,
                        duration_ms,
                    },
                )
                .collect(),
        ))
    }

    /// Sends a delivery's event to its endpoint again, as a new delivery due now. The event keeps its id, so
    /// a receiver that already processed it can recognise the repeat.
    pub async fn replay_webhook_delivery(
        &self,
        id: WebhookDeliveryId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<WebhookDelivery> {
        let (original, _) = self.webhook_delivery(id).await?;
        let mut tx = self.begin().await?;
        endpoint_in(&mut tx, original.endpoint_id).await?;
        let new_id = WebhookDeliveryId::new();
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, state, attempts, next_attempt_at, \
                 replay_of, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5, $4)",
            )
            .bind(new_id.to_string())
            .bind(original.event_id.to_string())
            .bind(original.endpoint_id.to_string())
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "webhook.delivery_replay",
            "webhook_delivery",
            Some(&id.to_string()),
            &serde_json::json!({ "replay": new_id, "event_id": original.event_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(WebhookDelivery {
            id: new_id,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_status: None,
            last_error: None,
            replay_of: Some(id),
            created_at: now,
            delivered_at: None,
            ..original
        })
    }

    /// Claims up to `limit` due deliveries for `owner` until `now + lease`, counting the attempt.
    pub async fn claim_due_webhook_deliveries(
        &self,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let now_us = to_micros(now);
        let until = to_micros(now.saturating_add(lease).unwrap_or(now));
        let mut tx = self.begin().await?;
        let claimed: Vec<(String, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at LIMIT $4) \
                 AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3) RETURNING id, attempts",
            )
            .bind(owner)
            .bind(until)
            .bind(now_us)
            .bind(i64::from(limit))
            .fetch_all(&mut **c)
            .await
        })?;
        let mut due = Vec::with_capacity(claimed.len());
        for (id, attempt) in claimed {
            let (event_id, event_type, payload, url, secret): (
                String,
                String,
                String,
                String,
                String,
            ) = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                        "SELECT e.id, e.event_type, e.payload, w.url, w.secret FROM webhook_deliveries d \
                         JOIN webhook_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                         WHERE d.id = $1",
                    )
                    .bind(&id)
                    .fetch_one(&mut **c)
                    .await
            })?;
            due.push(DueDelivery {
                id: id.parse().map_err(|_| corrupt("delivery id", &id))?,
                event_id: event_id
                    .parse()
                    .map_err(|_| corrupt("event id", &event_id))?,
                event_type,
                url,
                secret,
                payload,
                attempt,
            });
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Logs one attempt and moves the delivery on. Returns false (and logs nothing) when `owner` no longer
    /// holds the lease.
    pub async fn record_webhook_attempt(
        &self,
        id: WebhookDeliveryId,
        owner: &str,
        attempt: i64,
        result: &AttemptResult,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let delivered_at = (result.state == DeliveryState::Delivered).then_some(to_micros(now));
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 last_status = $3, last_error = $4, delivered_at = $5, lease_owner = NULL, lease_until = NULL \
                 WHERE id = $6 AND lease_owner = $7",
            )
            .bind(result.state.as_str())
            .bind(result.retry_at.map(to_micros))
            .bind(result.status_code.map(i64::from))
            .bind(result.error.as_deref())
            .bind(delivered_at)
            .bind(id.to_string())
            .bind(owner)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed != 1 {
            return Ok(false);
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id.to_string())
            .bind(attempt)
            .bind(to_micros(now))
            .bind(result.status_code.map(i64::from))
            .bind(result.error.as_deref())
            .bind(result.duration_ms)
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        tx.commit().await?;
        Ok(true)
    }
}
