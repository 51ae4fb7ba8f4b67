//! Connecting, migrating and dispatching to the engine chosen by the database URL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// What [`Store::migration_status`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// How many migrations the database has applied.
    pub applied: usize,
    /// Migrations this binary has that the database has not applied.
    pub pending: Vec<i64>,
    /// Migrations the database has applied that this binary does not know (a newer release ran).
    pub unknown: Vec<i64>,
}

impl MigrationStatus {
    /// Every migration this binary needs is applied. Unknown (newer) migrations do not count against
    /// it: migrations only add, so during a rolling upgrade the servers still on the previous release
    /// keep serving on the schema the first upgraded server migrated.
    pub fn is_ready(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The handle every part of Canopy uses to reach its data. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Change notifications (check-in queue), shared by every clone.
    pub(crate) events: std::sync::Arc<crate::checkins::Events>,
}

/// An open write transaction on either engine; dropped without `commit` it rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same code against whichever engine a [`Tx`] holds; `$c` is `&mut Transaction<'_, DB>`.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::backend::Tx::Sqlite($c) => $body,
            $crate::backend::Tx::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Runs the same read against whichever engine the store holds; `$p` is `&Pool<DB>`.
macro_rules! on_read {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.backend {
            $crate::backend::Backend::Sqlite { read: $p, .. } => $body,
            $crate::backend::Backend::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_read;

impl Tx {
    /// `sql` as this engine runs a statement with many parameters fastest.
    ///
    /// SQLite looks a named parameter (`$7`) up by walking the statement's list of names, and sqlx asks for
    /// every parameter's name when it binds, so binding a statement costs the square of its parameter count:
    /// a 400-row insert of customers (12,000 parameters) spent most of a 100,000-row import there. Plain `?`
    /// parameters have no name and bind in order, so when the `$n` appear exactly as `$1, $2, …` in order
    /// (multi-row VALUES built by [`crate::events::placeholders`]) they become `?` on SQLite. Anything else,
    /// and every statement on PostgreSQL, is returned as it is.
    pub(crate) fn bulk_sql(&self, sql: String) -> String {
        match self {
            Tx::Sqlite(_) => positional(&sql).unwrap_or(sql),
            Tx::Postgres(_) => sql,
        }
    }

    /// Serialises this transaction with every other one that takes the same `name` until it ends, for
    /// checks over several rows that a plain row lock cannot cover (a count that must stay above a
    /// floor, a limit on inserts). SQLite needs nothing: all writes go through one connection, so a
    /// write transaction already runs alone. PostgreSQL takes a transaction-scoped advisory lock.
    pub(crate) async fn serialize(&mut self, name: &str) -> Result<()> {
        if let Tx::Postgres(c) = self {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(name)
                .execute(&mut **c)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// `sql` with `$1, $2, …` replaced by `?`, or `None` unless every `$n` appears once, in order from 1.
fn positional(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut expected: u64 = 1;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = after[..digits].parse().ok()?;
        if number != expected {
            return None;
        }
        expected += 1;
        out.push('?');
        rest = &after[digits..];
    }
    out.push_str(rest);
    Some(out)
}

/// Read connections of a SQLite store: lookups and reports run side by side with one writer.
const READERS: u32 = 8;

/// Page cache of each SQLite read connection (negative: KiB). Every connection keeps its own cache, so
/// the process holds up to `READERS` of them; at 32 MB each a server at 1M customers grew past 250 MB
/// while a lookup touches a few hundred pages. The operating system's file cache holds the rest of the
/// database once for all connections.
const READER_CACHE_KIB: &str = "-8000";

/// Page cache of the one write connection: imports and checkouts rewrite index pages over and over.
const WRITER_CACHE_KIB: &str = "-32000";

impl Store {
    /// Opens (creating and migrating if needed) the database named by `url`: a `postgres://` URL, or a
    /// path to a SQLite file (optionally written `sqlite://PATH`).
    pub async fn open(url: &str) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await?
        } else {
            Self::open_sqlite(url.strip_prefix("sqlite://").unwrap_or(url)).await?
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(path: &str) -> Result<Store> {
        if path.is_empty() {
            return Err(StoreError::InvalidUrl("empty SQLite path".into()));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(
                options
                    .read_only(true)
                    .pragma("cache_size", READER_CACHE_KIB),
            )
            .await?;
        Ok(Store {
            backend: Backend::Sqlite { read, write },
            events: crate::checkins::Events::new(),
        })
    }

    async fn open_postgres(url: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        Ok(Store {
            backend: Backend::Postgres(pool),
            events: crate::checkins::Events::new(),
        })
    }

    fn migrator(&self) -> sqlx::migrate::Migrator {
        match &self.backend {
            Backend::Sqlite { .. } => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        }
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = self.migrator();
        match &self.backend {
            Backend::Sqlite { write, .. } => migrator.run(write).await?,
            Backend::Postgres(pool) => migrator.run(pool).await?,
        }
        self.backfill_name_sounds().await
    }

    /// How the database's migrations compare with this binary's. Another process may have migrated the
    /// database since this one started (a newer release in a rolling upgrade), or someone may have
    /// restored an older backup underneath it.
    pub async fn migration_status(&self) -> Result<MigrationStatus> {
        let applied: Vec<(i64,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
        )
        .fetch_all(p)
        .await)?;
        let applied: std::collections::BTreeSet<i64> = applied.into_iter().map(|(v,)| v).collect();
        let known: std::collections::BTreeSet<i64> =
            self.migrator().iter().map(|m| m.version).collect();
        Ok(MigrationStatus {
            applied: applied.len(),
            pending: known.difference(&applied).copied().collect(),
            unknown: applied.difference(&known).copied().collect(),
        })
    }

    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite { .. } => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite this waits for the single writer connection, then takes the
    /// database's write lock up front (`BEGIN IMMEDIATE`).
    ///
    /// Another process (a CLI command, a second server) may hold the lock. A deferred `BEGIN` would read
    /// first and ask for the lock at its first write, and SQLite answers that request `SQLITE_BUSY` at
    /// once, without waiting, whenever the other writer committed since our read began (the snapshot is
    /// stale and waiting cannot help). `BEGIN IMMEDIATE` asks before reading, so it waits out the busy
    /// timeout like any writer should.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.backend {
            Backend::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A cheap round trip for health checks.
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Closes every pool, waiting for connections to finish (and SQLite to checkpoint).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn numbered_parameters_in_order_become_positional() {
        assert_eq!(
            positional("INSERT INTO t VALUES ($1, $2, 0), ($3, $4, 0)").as_deref(),
            Some("INSERT INTO t VALUES (?, ?, 0), (?, ?, 0)")
        );
        assert_eq!(positional("SELECT 1").as_deref(), Some("SELECT 1"));
    }

    #[test]
    fn parameters_out_of_order_or_repeated_are_left_alone() {
        assert_eq!(positional("VALUES ($1, $3, $2)"), None);
        assert_eq!(positional("VALUES ($1, $2, $2)"), None);
        assert_eq!(positional("VALUES ($1, $)"), None);
    }
}
