//! Online backups of a SQLite database, their verification, and restoring one.
//!
//! `VACUUM INTO` writes a compacted copy of the database as one read transaction sees it, so the copy is
//! consistent while the server goes on serving (in WAL mode readers never block writers). PostgreSQL is
//! backed up with its own tools (`pg_dump`, or base backups with WAL archiving); see `docs/operations.md`.

use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};

use crate::backend::{Backend, Store};
use crate::{Result, StoreError};

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// Migrations applied in the copy (a restore onto a newer release migrates it on first start).
    pub migrations: i64,
    pub customers: i64,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `to` (which must not exist yet) and verifies
    /// it. Safe while the server is running.
    pub async fn backup_sqlite(&self, to: &Path) -> Result<BackupReport> {
        let Backend::Sqlite { write, .. } = &self.backend else {
            return Err(StoreError::Unsupported(
                "backups of PostgreSQL are made with pg_dump or base backups".into(),
            ));
        };
        if to.exists() {
            return Err(StoreError::invalid(
                "to",
                "backup_exists",
                format!("{} already exists; choose a new file", to.display()),
            ));
        }
        // A connection of its own, so the copy neither waits for nor holds up this process's writer.
        let options = (*write.connect_options()).clone().read_only(false);
        let mut conn = SqliteConnection::connect_with(&options).await?;
        sqlx::query("VACUUM INTO $1")
            .bind(to.to_string_lossy().into_owned())
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        verify_sqlite_backup(to).await
    }
}

/// Opens a backup read-only and checks it: `PRAGMA integrity_check` must answer `ok`, and it must be a
/// Canopy database (it has applied migrations and a customers table).
pub async fn verify_sqlite_backup(path: &Path) -> Result<BackupReport> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| {
            StoreError::invalid(
                "from",
                "backup_unreadable",
                format!("{}: {e}", path.display()),
            )
        })?
        .len();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let checks: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    if checks.len() != 1 || checks[0].0 != "ok" {
        let found: Vec<String> = checks.into_iter().map(|(c,)| c).take(5).collect();
        return Err(StoreError::Corrupt(format!(
            "{} failed the integrity check: {}",
            path.display(),
            found.join("; ")
        )));
    }
    let not_canopy = |_| {
        StoreError::invalid(
            "from",
            "not_a_canopy_backup",
            format!("{} is not a Canopy database", path.display()),
        )
    };
    let (migrations,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .map_err(not_canopy)?;
    let (customers,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM customers")
        .fetch_one(&mut conn)
        .await
        .map_err(not_canopy)?;
    conn.close().await?;
    Ok(BackupReport {
        path: path.to_path_buf(),
        bytes,
        migrations,
        customers,
    })
}

/// Replaces the SQLite database at `to` with the verified backup `from`. The server must be stopped:
/// the old file (with its `-wal` and `-shm` companions) is replaced, not merged. Without `replace`, an
/// existing database is left alone and the restore refused.
pub async fn restore_sqlite(from: &Path, to: &Path, replace: bool) -> Result<BackupReport> {
    let report = verify_sqlite_backup(from).await?;
    if to.exists() && !replace {
        return Err(StoreError::invalid(
            "to",
            "database_exists",
            format!("{} exists; pass --replace to overwrite it", to.display()),
        ));
    }
    let io = |what: &'static str, source: std::io::Error| StoreError::Io { what, source };
    // Copy beside the target, flush it to disk, then swap it in with one rename, so a crash leaves
    // either the old database or the restored one, never half of each.
    let staging = sibling(to, ".restoring");
    std::fs::copy(from, &staging).map_err(|e| io("copying the backup", e))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("flushing the copy", e))?;
    for stale in [sibling(to, "-wal"), sibling(to, "-shm")] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing the old write-ahead log", e)),
        }
    }
    std::fs::rename(&staging, to).map_err(|e| io("moving the copy into place", e))?;
    // The restored copy opens cleanly and reads back the same.
    let mut conn =
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(to)).await?;
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.close().await?;
    Ok(BackupReport {
        path: to.to_path_buf(),
        ..report
    })
}

/// `path` with `suffix` appended to its file name (`canopy.db` → `canopy.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
