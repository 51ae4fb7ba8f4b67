//! `canopy backup` and `canopy restore`: an online, verified copy of a SQLite database, and putting
//! one back. PostgreSQL is backed up with its own tools (see docs/operations.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::DbArgs;
use crate::config::FileConfig;

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The file to write (must not exist). Safe while `canopy serve` is running.
    #[arg(long)]
    to: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    db: DbArgs,
    /// A file written by `canopy backup`.
    #[arg(long)]
    from: PathBuf,
    /// Overwrite the existing database. Stop every `canopy serve` on it first.
    #[arg(long)]
    replace: bool,
}

pub async fn backup(args: BackupArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let url = args.db.url(file);
    if is_postgres(&url) {
        bail!("PostgreSQL is backed up with pg_dump or base backups (see docs/operations.md)");
    }
    let store = args.db.open(file).await?;
    let report = store.backup_sqlite(&args.to).await;
    store.close().await;
    let report = report.with_context(|| format!("backing up to {}", args.to.display()))?;
    println!(
        "backed up to {} ({} bytes, {} customers, {} migrations); integrity check: ok",
        report.path.display(),
        report.bytes,
        report.customers,
        report.migrations
    );
    eprintln!(
        "the ID image key is not in the backup: keep a copy of it too (see docs/operations.md)"
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(args: RestoreArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let url = args.db.url(file);
    if is_postgres(&url) {
        bail!(
            "PostgreSQL is restored with pg_restore or point-in-time recovery (see docs/operations.md)"
        );
    }
    let to = PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(&url));
    let report = canopy_store::restore_sqlite(&args.from, &to, args.replace)
        .await
        .with_context(|| format!("restoring {} to {}", args.from.display(), to.display()))?;
    println!(
        "restored {} to {} ({} customers, {} migrations; newer migrations run on the next start)",
        args.from.display(),
        report.path.display(),
        report.customers,
        report.migrations
    );
    Ok(ExitCode::SUCCESS)
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
