//! `canopy duplicates scan` — find likely duplicate profiles across all customers for the review list.
//!
//! The scan compares only profiles that share a blocking key (phone, email, ID document, name, or date of
//! birth with either name; see `canopy_matching`), so a million customers take minutes, not the hours an
//! all-pairs comparison would. It replaces the review list managers work through in the staff app
//! (`GET /api/v1/duplicates`); pairs already dismissed as different people are not listed again.

use std::process::ExitCode;

use canopy_domain::Actor;

use crate::DbArgs;
use crate::config::FileConfig;

/// Find duplicate customer profiles.
#[derive(clap::Args)]
pub struct DuplicatesArgs {
    #[command(subcommand)]
    command: DuplicatesCommand,
}

#[derive(clap::Subcommand)]
enum DuplicatesCommand {
    /// Scan every customer and refill the review list.
    Scan {
        #[command(flatten)]
        db: DbArgs,
        /// Skip blocks with more members than this (a store phone typed for every walk-in).
        #[arg(long, default_value_t = 200)]
        max_block: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run `canopy duplicates …`.
pub async fn run(args: DuplicatesArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    match args.command {
        DuplicatesCommand::Scan {
            db,
            max_block,
            json,
        } => {
            let store = db.open(file).await?;
            let report = store
                .scan_duplicates(
                    max_block,
                    &Actor::system("duplicates-scan"),
                    jiff::Timestamp::now(),
                )
                .await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "duplicates scan: {} customers, {} pairs compared, {} pairs for review ({} likely), \
                     {} dismissed pairs skipped, {} oversized blocks skipped; load {:.1}s, match {:.1}s, save {:.1}s",
                    report.customers,
                    report.compared,
                    report.pairs_found,
                    report.likely,
                    report.dismissed_skipped,
                    report.oversized_blocks,
                    report.load_ms as f64 / 1000.0,
                    report.match_ms as f64 / 1000.0,
                    report.save_ms as f64 / 1000.0,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
