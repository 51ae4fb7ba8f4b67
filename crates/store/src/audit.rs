//! The audit trail: written inside the same transaction as the change it records.

use canopy_domain::Actor;
use jiff::Timestamp;
use serde::Serialize;

use crate::Result;
use crate::backend::{Tx, on_tx};
use crate::time::{from_micros, to_micros};

/// One audit row as an auditor reads it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// `{"field": {"old": …, "new": …}}` for changes; details for other actions.
    pub changes: serde_json::Value,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: i64,
    actor_kind: String,
    actor_id: Option<String>,
    actor_label: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    address: Option<String>,
    user_agent: Option<String>,
    changes: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: from_micros(r.at),
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            address: r.address,
            user_agent: r.user_agent,
            changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
        }
    }
}

pub(crate) const AUDIT_COLUMNS: &str = "seq, at, actor_kind, actor_id, actor_label, action, entity, entity_id, address, user_agent, changes";

/// [`diff`] of two versions of a record as they serialise (what an update changed).
pub(crate) fn diff_of<T: serde::Serialize>(before: &T, after: &T) -> serde_json::Value {
    diff(
        &serde_json::to_value(before).unwrap_or_default(),
        &serde_json::to_value(after).unwrap_or_default(),
    )
}

/// What changed between two JSON objects, field by field: `{"field": {"old": a, "new": b}}`.
pub fn diff(old: &serde_json::Value, new: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let empty = serde_json::Map::new();
    let old_map = old.as_object().unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    for key in old_map.keys().chain(new_map.keys()) {
        let (o, n) = (old_map.get(key), new_map.get(key));
        if o != n && !out.contains_key(key) {
            out.insert(key.clone(), serde_json::json!({ "old": o, "new": n }));
        }
    }
    serde_json::Value::Object(out)
}

/// Appends one audit row inside `tx`.
pub(crate) async fn record(
    tx: &mut Tx,
    actor: &Actor,
    at: Timestamp,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    changes: &serde_json::Value,
) -> Result<()> {
    let changes = changes.to_string();
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_kind, actor_id, actor_label, action, entity, entity_id, address, user_agent, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(to_micros(at))
        .bind(actor.kind.as_str())
        .bind(actor.id.as_deref())
        .bind(&actor.label)
        .bind(action)
        .bind(entity)
        .bind(entity_id)
        .bind(actor.address.as_deref())
        .bind(actor.user_agent.as_deref())
        .bind(&changes)
        .execute(&mut **c)
        .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Which audit rows to read; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    /// Only rows older than this sequence number (for paging backwards through history).
    pub before: Option<i64>,
    pub limit: u32,
}

impl crate::Store {
    /// Audit rows, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
             AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR seq < $5) \
             ORDER BY seq DESC LIMIT $6"
        );
        let rows: Vec<AuditRow> = crate::backend::on_read!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(filter.entity.as_deref())
                .bind(filter.entity_id.as_deref())
                .bind(filter.actor_id.as_deref())
                .bind(filter.action.as_deref())
                .bind(filter.before)
                .bind(i64::from(filter.limit))
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
