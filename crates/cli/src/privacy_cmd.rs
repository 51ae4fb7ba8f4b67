//! `canopy privacy …` — the data policies, right-to-know exports, erasures and the retention purge.
//!
//! `canopy privacy purge` runs the same purge the server runs hourly, for installations that prefer cron;
//! running it twice purges nothing twice.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use canopy_domain::{Actor, CustomerId};
use canopy_privacy::{Policies, Policy};
use canopy_store::Store;

use crate::DbArgs;
use crate::config::FileConfig;

/// Data policies, right-to-know exports, erasures and the retention purge.
#[derive(clap::Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    command: PrivacyCommand,
}

#[derive(clap::Subcommand)]
enum PrivacyCommand {
    /// Print every jurisdiction's data policy with its citations (no database needed).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print everything held about one customer as JSON (a logged right-to-know request).
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        customer: String,
        /// Include the medical card (the read is audited).
        #[arg(long)]
        include_medical: bool,
    },
    /// Erase one customer's personal data (a logged right-to-delete request).
    Erase {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        customer: String,
        /// Why: the request, its date and channel.
        #[arg(long)]
        reason: String,
    },
    /// Purge what the policy no longer allows keeping (ID images, document numbers, old requests).
    Purge {
        #[command(flatten)]
        db: DbArgs,
    },
}

fn days(d: Option<u32>) -> String {
    d.map(|d| format!("{d} days")).unwrap_or_else(|| "—".into())
}

fn print_policy(p: &Policy) {
    let mark = |inherited: bool| if inherited { " (default)" } else { "" };
    println!("{} — {} (version {})", p.jurisdiction, p.name, p.version);
    println!(
        "  ID scan: keep {:?} for {:?}; other fields purged after {}{}\n    {}",
        p.id_scan.rule.fields,
        p.id_scan.rule.purposes,
        days(p.id_scan.rule.retain_days),
        mark(p.id_scan.inherited),
        p.id_scan.rule.citation.section
    );
    println!(
        "  ID images: purged after {}{}\n    {}",
        days(Some(p.id_images.rule.retain_days)),
        mark(p.id_images.inherited),
        p.id_images.rule.citation.section
    );
    println!(
        "  Permission to retain required: {}{}\n    {}",
        p.profile.rule.permission_to_retain,
        mark(p.profile.inherited),
        p.profile.rule.citation.section
    );
    println!(
        "  Sales records: kept {}, identity kept through erasure: {}{}\n    {}",
        days(Some(p.sales_records.rule.retain_days)),
        p.sales_records.rule.keep_identity,
        mark(p.sales_records.inherited),
        p.sales_records.rule.citation.section
    );
    println!(
        "  Sensitive: {:?}, shared only with consent: {}{}\n    {}",
        p.sensitive.rule.fields,
        p.sensitive.rule.share_requires_consent,
        mark(p.sensitive.inherited),
        p.sensitive.rule.citation.section
    );
    println!(
        "  Request log: kept {}{}\n    {}",
        days(Some(p.requests.rule.log_retain_days)),
        mark(p.requests.inherited),
        p.requests.rule.citation.section
    );
}

fn parse_customer(raw: &str) -> anyhow::Result<CustomerId> {
    raw.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("'{raw}' is not a customer id"))
}

/// Run `canopy privacy …`.
pub async fn run(args: PrivacyArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let actor = Actor::system("cli");
    match args.command {
        PrivacyCommand::List { json } => {
            let policies = Policies::embedded()?;
            if json {
                let all: Vec<&Policy> = policies
                    .states()
                    .iter()
                    .chain([policies.default_policy()])
                    .collect();
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for p in policies.states() {
                    print_policy(p);
                    println!();
                }
                println!("Any other jurisdiction:");
                print_policy(policies.default_policy());
            }
            Ok(ExitCode::SUCCESS)
        }
        PrivacyCommand::Export {
            db,
            customer,
            include_medical,
        } => {
            let id = parse_customer(&customer)?;
            let store = db.open(file).await?;
            let document = store
                .privacy_export(id, include_medical, &actor, jiff::Timestamp::now())
                .await
                .context("exporting")?;
            store.close().await;
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(ExitCode::SUCCESS)
        }
        PrivacyCommand::Erase {
            db,
            customer,
            reason,
        } => {
            let id = parse_customer(&customer)?;
            if reason.trim().is_empty() {
                anyhow::bail!("give the reason for the erasure (--reason)");
            }
            let store = db.open(file).await?;
            let result = store
                .erase_customer(id, reason.trim(), &actor, jiff::Timestamp::now())
                .await;
            store.close().await;
            let report = result.context("erasing")?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        PrivacyCommand::Purge { db } => {
            let store = db.open(file).await?;
            let result = purge(&store).await;
            store.close().await;
            let report = result?;
            println!(
                "purged {} ID images, {} document numbers, {} request-log entries",
                report.id_images, report.document_numbers, report.requests
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn purge(store: &Store) -> anyhow::Result<canopy_store::PurgeReport> {
    let policy = store.privacy_policy().await?;
    Ok(store
        .purge_expired(&policy, &Actor::system("retention"), jiff::Timestamp::now())
        .await?)
}

/// The server's hourly retention purge. Failures are logged and retried at the next tick.
pub async fn purge_hourly(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match purge(&store).await {
            Ok(r) if r.id_images + r.document_numbers + r.requests > 0 => tracing::info!(
                id_images = r.id_images,
                document_numbers = r.document_numbers,
                requests = r.requests,
                "retention purge"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "retention purge failed"),
        }
    }
}
