//! The webhook outbox. A change that partners may care about calls [`emit`] inside its own transaction, so
//! an event exists exactly when its change committed; a worker delivers it later.
//!
//! Deliveries are fanned out at emit time to the endpoints subscribed then. An event no endpoint
//! subscribes to is not stored: the outbox holds work to do, and the audit log is the history.

use canopy_domain::{EventId, EventKind, WebhookDeliveryId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use crate::Result;
use crate::backend::{Tx, on_tx};
use crate::time::to_micros;

/// The JSON document a partner receives: `{"id", "type", "created_at", "data"}`.
pub fn envelope(
    id: EventId,
    kind: EventKind,
    created_at: Timestamp,
    data: &serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "type": kind.as_str(),
        "created_at": created_at.to_string(),
        "data": data,
    })
}

/// Queues one event for every endpoint subscribed to `kind`, inside the caller's transaction.
/// `entity_id` is the id of the thing the event is about (customer, order).
pub(crate) async fn emit(
    tx: &mut Tx,
    kind: EventKind,
    entity_id: &str,
    data: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    emit_many(tx, kind, &[(entity_id.to_string(), data)], now).await
}

/// [`emit`] for many events of one kind (imports): a few multi-row statements instead of one per event.
pub(crate) async fn emit_many(
    tx: &mut Tx,
    kind: EventKind,
    events: &[(String, serde_json::Value)],
    now: Timestamp,
) -> Result<()> {
    let endpoints = subscribers(tx, kind).await?;
    if endpoints.is_empty() || events.is_empty() {
        return Ok(());
    }
    const CHUNK: usize = 200;
    let at = to_micros(now);
    for chunk in events.chunks(CHUNK) {
        let rows: Vec<(EventId, &str, String)> = chunk
            .iter()
            .map(|(entity, data)| {
                let id = EventId::new();
                let payload = envelope(id, kind, now, data).to_string();
                (id, entity.as_str(), payload)
            })
            .collect();
        let sql = tx.bulk_sql(format!(
            "INSERT INTO webhook_events (id, event_type, entity_id, payload, created_at) VALUES {}",
            placeholders(rows.len(), 5)
        ));
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (id, entity, payload) in &rows {
                q = q
                    .bind(id.to_string())
                    .bind(kind.as_str())
                    .bind(*entity)
                    .bind(payload.as_str())
                    .bind(at);
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
        let deliveries: Vec<(String, String, &str)> = rows
            .iter()
            .flat_map(|(event, _, _)| {
                endpoints.iter().map(move |e| {
                    (
                        WebhookDeliveryId::new().to_string(),
                        event.to_string(),
                        e.as_str(),
                    )
                })
            })
            .collect();
        for part in deliveries.chunks(CHUNK) {
            let values = rows_sql(part.len(), 5, |p| {
                format!(
                    "({}, {}, {}, 'pending', 0, {}, {})",
                    p[0], p[1], p[2], p[3], p[4]
                )
            });
            let sql = format!(
                "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, state, attempts, next_attempt_at, created_at) VALUES {values}"
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for (id, event, endpoint) in part {
                    q = q
                        .bind(id.as_str())
                        .bind(event.as_str())
                        .bind(*endpoint)
                        .bind(at)
                        .bind(at);
                }
                q.execute(&mut **c).await.map(|_| ())
            })?;
        }
    }
    Ok(())
}

/// `($1, …, $n), ($n+1, …)`: `rows` groups of `per_row` numbered parameters.
pub(crate) fn placeholders(rows: usize, per_row: usize) -> String {
    rows_sql(rows, per_row, |p| format!("({})", p.join(", ")))
}

/// Multi-row VALUES text: `shape` turns one row's parameter names (`$7`, `$8`, …) into its tuple.
pub(crate) fn rows_sql(rows: usize, per_row: usize, shape: impl Fn(&[String]) -> String) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=per_row)
                .map(|i| format!("${}", r * per_row + i))
                .collect();
            shape(&params)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether any active endpoint wants `kind`: lets bulk writers skip building payloads nobody receives.
pub(crate) async fn has_subscribers(tx: &mut Tx, kind: EventKind) -> Result<bool> {
    Ok(!subscribers(tx, kind).await?.is_empty())
}

/// Active endpoints subscribed to `kind`.
async fn subscribers(tx: &mut Tx, kind: EventKind) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT s.endpoint_id FROM webhook_subscriptions s JOIN webhook_endpoints e ON e.id = s.endpoint_id \
             WHERE s.event_type = $1 AND e.disabled_at IS NULL AND e.deleted_at IS NULL ORDER BY s.endpoint_id",
        )
        .bind(kind.as_str())
        .fetch_all(&mut **c)
        .await
    })?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
