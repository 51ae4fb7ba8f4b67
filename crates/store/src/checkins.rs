//! The per-store check-in queue, its change notifications, and the dashboard figures.
//!
//! Queue changes are announced on one channel, `canopy_events`, with payload `checkins:<store id>`.
//! On PostgreSQL the announcement is a `pg_notify` inside the writing transaction (delivered on
//! commit to every `canopy serve` process through one `LISTEN` connection each); on SQLite it is
//! an in-process broadcast after commit, and other processes on the same file poll
//! [`Store::checkin_version`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canopy_domain::{Actor, CheckinId, CustomerId, StoreId};
use canopy_limits::RuleBook;
use canopy_orders::{Eligibility, Place, Subject, eligibility_at};
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::backend::{Backend, Tx, on_read, on_tx};
use crate::retail::corrupt;
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

const CHANNEL: &str = "canopy_events";

/// Change notifications shared by every clone of a [`Store`].
pub(crate) struct Events {
    sender: broadcast::Sender<String>,
    listening: AtomicBool,
}

impl Events {
    pub(crate) fn new() -> Arc<Events> {
        Arc::new(Events {
            sender: broadcast::channel(1024).0,
            listening: AtomicBool::new(false),
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Checkin {
    pub id: CheckinId,
    pub store_id: StoreId,
    pub customer_id: CustomerId,
    /// "Sarah M."
    pub display_name: String,
    /// `waiting`, `served` or `removed`.
    pub status: String,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub checked_in_by: String,
}

#[derive(Debug)]
pub enum CheckinOutcome {
    /// In the queue, with the eligibility decision it was let in on.
    Queued(Checkin, Box<Eligibility>),
    /// Banned or not eligible: the decision with every reason, and nothing queued.
    Refused(Box<Eligibility>),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Dashboard {
    pub store_id: StoreId,
    pub customers: i64,
    pub groups: i64,
    /// Orders placed today in the store's time zone (not cancelled or voided).
    pub orders_today: i64,
    pub sales_today_cents: i64,
    pub checked_in_now: i64,
}

#[derive(sqlx::FromRow)]
struct CheckinRow {
    id: String,
    store_id: String,
    customer_id: String,
    first_name: String,
    last_name: String,
    preferred_name: Option<String>,
    status: String,
    created_at: i64,
    closed_at: Option<i64>,
    actor_label: String,
}

impl TryFrom<CheckinRow> for Checkin {
    type Error = StoreError;
    fn try_from(r: CheckinRow) -> Result<Checkin> {
        let name = canopy_domain::PersonName {
            first: r.first_name,
            middle: None,
            last: r.last_name,
            preferred: r.preferred_name,
        };
        Ok(Checkin {
            id: r.id.parse().map_err(|_| corrupt("checkin id", &r.id))?,
            store_id: r
                .store_id
                .parse()
                .map_err(|_| corrupt("store id", &r.store_id))?,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| corrupt("customer id", &r.customer_id))?,
            display_name: name.greeting(),
            status: r.status,
            created_at: from_micros(r.created_at),
            closed_at: r.closed_at.map(from_micros),
            checked_in_by: r.actor_label,
        })
    }
}

const CHECKIN_SELECT: &str = "SELECT k.id, k.store_id, k.customer_id, c.first_name, c.last_name, c.preferred_name, k.status, \
     k.created_at, k.closed_at, k.actor_label FROM checkins k JOIN customers c ON c.id = k.customer_id";

impl Store {
    /// Subscribes to change notifications (`checkins:<store id>`), starting this process's
    /// PostgreSQL listener on first use.
    pub async fn subscribe(&self) -> Result<broadcast::Receiver<String>> {
        let receiver = self.events.sender.subscribe();
        if let Backend::Postgres(pool) = &self.backend
            && !self.events.listening.swap(true, Ordering::SeqCst)
        {
            let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(e) => {
                    self.events.listening.store(false, Ordering::SeqCst);
                    return Err(e.into());
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                self.events.listening.store(false, Ordering::SeqCst);
                return Err(e.into());
            }
            let events = self.events.clone();
            tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(n) => {
                            let _ = events.sender.send(n.payload().to_string());
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    }
                }
            });
        }
        Ok(receiver)
    }

    /// Announces `payload` once `tx` commits (PostgreSQL), or now (SQLite: call after commit).
    async fn announce(&self, tx: &mut Tx, payload: &str) -> Result<()> {
        if let Tx::Postgres(c) = tx {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&mut **c)
                .await?;
        }
        Ok(())
    }

    fn announce_local(&self, payload: &str) {
        if matches!(self.backend, Backend::Sqlite { .. }) {
            let _ = self.events.sender.send(payload.to_string());
        }
    }

    /// A number that changes whenever a store's queue changes (for pollers on SQLite).
    pub async fn checkin_version(&self, store: StoreId) -> Result<(i64, i64, i64)> {
        let v: (i64, i64, i64) = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MAX(seq), 0), COALESCE(MAX(closed_at), 0) FROM checkins WHERE store_id = $1"
        )
        .bind(store.to_string())
        .fetch_one(p)
        .await
        })?;
        Ok(v)
    }

    /// Puts an eligible customer in the store's queue (already waiting: the existing entry).
    pub async fn check_in(
        &self,
        store_id: StoreId,
        customer_id: CustomerId,
        actor: &Actor,
        now: Timestamp,
        book: &RuleBook,
    ) -> Result<CheckinOutcome> {
        let store = self.retail_store(store_id).await?;
        let customer = self.customer(customer_id).await?;
        let compliance = self
            .compliance(&[customer_id])
            .await?
            .pop()
            .unwrap_or_default();
        let eligibility = Box::new(eligibility_at(
            Place::Store(&store.settings),
            customer.details.customer_type,
            &Subject::customer(&customer, compliance.facts()),
            book,
            now,
        ));
        let reasons = &eligibility.reasons;
        let mut tx = self.begin().await?;
        if !reasons.is_empty() {
            audit::record(
                &mut tx,
                actor,
                now,
                "checkin.refused",
                "customer",
                Some(&customer_id.to_string()),
                &serde_json::json!({ "store_id": store_id, "reasons": reasons }),
            )
            .await?;
            tx.commit().await?;
            return Ok(CheckinOutcome::Refused(eligibility));
        }
        let existing: Option<(String,)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT id FROM checkins WHERE store_id = $1 AND customer_id = $2 AND status = 'waiting'"
        )
        .bind(store_id.to_string())
        .bind(customer_id.to_string())
        .fetch_optional(&mut **c)
        .await
        })?;
        if let Some((id,)) = existing {
            drop(tx);
            let id = id.parse().map_err(|_| corrupt("checkin id", &id))?;
            return Ok(CheckinOutcome::Queued(
                self.checkin(store_id, id).await?,
                eligibility,
            ));
        }
        let id = CheckinId::new();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO checkins (id, store_id, customer_id, status, created_at, actor_label) VALUES ($1, $2, $3, 'waiting', $4, $5)"
        )
        .bind(id.to_string())
        .bind(store_id.to_string())
        .bind(customer_id.to_string())
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
            "checkin.create",
            "customer",
            Some(&customer_id.to_string()),
            &serde_json::json!({ "store_id": store_id, "checkin_id": id }),
        )
        .await?;
        crate::events::emit(
            &mut tx,
            canopy_domain::EventKind::CheckinCreated,
            &id.to_string(),
            serde_json::json!({
                "checkin_id": id, "store_id": store_id, "customer_id": customer_id,
                "created_at": now.to_string(),
            }),
            now,
        )
        .await?;
        let topic = format!("checkins:{store_id}");
        self.announce(&mut tx, &topic).await?;
        tx.commit().await?;
        self.announce_local(&topic);
        Ok(CheckinOutcome::Queued(
            self.checkin(store_id, id).await?,
            eligibility,
        ))
    }

    pub async fn checkin(&self, store_id: StoreId, id: CheckinId) -> Result<Checkin> {
        let sql = format!("{CHECKIN_SELECT} WHERE k.id = $1 AND k.store_id = $2");
        let row: Option<CheckinRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .bind(store_id.to_string())
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound { entity: "check-in" })?
            .try_into()
    }

    /// Customers waiting at a store, first come first served.
    pub async fn checkin_queue(&self, store_id: StoreId) -> Result<Vec<Checkin>> {
        self.retail_store(store_id).await?;
        let sql = format!(
            "{CHECKIN_SELECT} WHERE k.store_id = $1 AND k.status = 'waiting' ORDER BY k.seq"
        );
        let rows: Vec<CheckinRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(store_id.to_string())
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(Checkin::try_from).collect()
    }

    /// Takes a waiting customer off the queue as `served` or `removed`.
    pub async fn close_checkin(
        &self,
        store_id: StoreId,
        id: CheckinId,
        status: &'static str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Checkin> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE checkins SET status = $1, closed_at = $2 WHERE id = $3 AND store_id = $4 AND status = 'waiting'"
        )
        .bind(status)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(store_id.to_string())
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            drop(tx);
            self.checkin(store_id, id).await?;
            return Err(StoreError::Conflict(
                "this customer is no longer waiting".into(),
            ));
        }
        audit::record(
            &mut tx,
            actor,
            now,
            &format!("checkin.{status}"),
            "checkin",
            Some(&id.to_string()),
            &serde_json::json!({ "store_id": store_id }),
        )
        .await?;
        let topic = format!("checkins:{store_id}");
        self.announce(&mut tx, &topic).await?;
        tx.commit().await?;
        self.announce_local(&topic);
        self.checkin(store_id, id).await
    }

    /// The figures on the staff home screen.
    pub async fn dashboard(&self, store_id: StoreId, now: Timestamp) -> Result<Dashboard> {
        let store = self.retail_store(store_id).await?;
        let tz = store.settings.zone();
        let day = canopy_limits::day_bounds(now, &tz)?;
        let row: (i64, i64, i64, i64, i64) = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM customer_groups), \
             (SELECT COUNT(*) FROM orders WHERE store_id = $1 AND placed_at >= $2 AND placed_at < $3 AND status NOT IN ('cancelled', 'voided')), \
             (SELECT CAST(COALESCE(SUM(total_cents - refunded_cents), 0) AS BIGINT) FROM orders WHERE store_id = $1 AND placed_at >= $2 AND placed_at < $3 AND status NOT IN ('cancelled', 'voided')), \
             (SELECT COUNT(*) FROM checkins WHERE store_id = $1 AND status = 'waiting')"
        )
        .bind(store_id.to_string())
        .bind(to_micros(day.start))
        .bind(to_micros(day.end))
        .fetch_one(p)
        .await
        })?;
        Ok(Dashboard {
            store_id,
            customers: row.0,
            groups: row.1,
            orders_today: row.2,
            sales_today_cents: row.3,
            checked_in_now: row.4,
        })
    }
}
