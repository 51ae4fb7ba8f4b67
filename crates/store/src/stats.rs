//! Figures for monitoring: connection pool use and outbox depth. Read at scrape time, so every server
//! process reports the same outbox figures (they share the database) and its own pool.

use crate::Result;
use crate::backend::{Backend, Store, on_read};

/// One connection pool's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// `read`, `write` (SQLite's two pools) or `main` (PostgreSQL's one).
    pub pool: &'static str,
    /// Open connections.
    pub size: u32,
    /// Open connections not lent out.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// How many outbox rows are in each state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDepth {
    /// `sms` or `webhooks`.
    pub outbox: &'static str,
    /// Waiting to be sent (including retries not yet due).
    pub pending: i64,
    /// Given up on after the last retry.
    pub failed: i64,
}

impl Store {
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<DB: sqlx::Database>(pool: &'static str, p: &sqlx::Pool<DB>) -> PoolStats {
            PoolStats {
                pool,
                size: p.size(),
                idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                max: p.options().get_max_connections(),
            }
        }
        match &self.backend {
            Backend::Sqlite { read, write } => vec![stats("read", read), stats("write", write)],
            Backend::Postgres(pool) => vec![stats("main", pool)],
        }
    }

    pub async fn outbox_depth(&self) -> Result<Vec<OutboxDepth>> {
        let mut out = Vec::with_capacity(2);
        for (outbox, table) in [("sms", "sms_outbox"), ("webhooks", "webhook_deliveries")] {
            let sql = format!(
                "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), \
                        COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) \
                 FROM {table} WHERE state IN ('pending', 'failed')"
            );
            let (pending, failed): (i64, i64) =
                on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_one(p)
                    .await)?;
            out.push(OutboxDepth {
                outbox,
                pending,
                failed,
            });
        }
        Ok(out)
    }
}
