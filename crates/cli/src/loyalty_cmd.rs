//! `canopy loyalty …` — check the points ledger and run the expiry sweep.
//!
//! `canopy loyalty verify` recomputes every customer's balance, points owed, lots and running balances from
//! the append-only ledger and prints a summary; it exits 1 when anything stored differs from the ledger, so
//! it can run from cron or a monitoring check. `canopy loyalty expire` writes the expire entries for points
//! past their date (the server also does this hourly); running it twice expires nothing twice.

use std::process::ExitCode;
use std::time::Duration;

use canopy_store::Store;

use crate::DbArgs;
use crate::config::FileConfig;

/// Check the points ledger and expire old points.
#[derive(clap::Args)]
pub struct LoyaltyArgs {
    #[command(subcommand)]
    command: LoyaltyCommand,
}

#[derive(clap::Subcommand)]
enum LoyaltyCommand {
    /// Check every stored balance and lot against the ledger; exit 1 on any difference.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Expire points past their expiry date now.
    Expire {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Run `canopy loyalty …`.
pub async fn run(args: LoyaltyArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    match args.command {
        LoyaltyCommand::Verify { db, json } => {
            let store = db.open(file).await?;
            let report = store.verify_loyalty().await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "loyalty ledger: {} customers checked, {} entries, {} lots, {} differences",
                    report.customers,
                    report.entries,
                    report.lots,
                    report.differences.len()
                );
                for d in &report.differences {
                    println!(
                        "  customer {} {}{}: stored {}, ledger says {}",
                        d.customer_id,
                        d.check,
                        d.subject
                            .as_deref()
                            .map(|s| format!(" ({s})"))
                            .unwrap_or_default(),
                        d.stored,
                        d.expected
                    );
                }
            }
            Ok(if report.differences.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        LoyaltyCommand::Expire { db } => {
            let store = db.open(file).await?;
            let report = store.expire_loyalty_points(jiff::Timestamp::now()).await?;
            store.close().await;
            println!(
                "expired {} points in {} lots of {} customers",
                report.points, report.lots, report.customers
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The server's hourly expiry sweep. Failures are logged and retried at the next tick; the sweep is
/// idempotent, so overlapping with `canopy loyalty expire` is harmless.
pub async fn expire_hourly(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.expire_loyalty_points(jiff::Timestamp::now()).await {
            Ok(r) if r.points > 0 => {
                tracing::info!(
                    points = r.points,
                    lots = r.lots,
                    customers = r.customers,
                    "expired loyalty points"
                )
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "loyalty expiry run failed"),
        }
    }
}
