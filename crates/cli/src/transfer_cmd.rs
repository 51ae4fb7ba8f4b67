//! `canopy import customers FILE.csv` and `canopy export customers`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use canopy_domain::Actor;
use canopy_transfer::{ImportOptions, ImportReport, RowOutcome};
use clap::{Args, Subcommand};

use crate::DbArgs;
use crate::config::FileConfig;

#[derive(Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    what: ImportWhat,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Customers from another POS's CSV export. Nothing is written unless every row is valid; rows that
    /// match an existing customer (phone, email or ID number) update it, and unchanged rows are skipped.
    /// Loyalty points become one opening balance per customer; groups are matched by name (created if
    /// missing).
    Customers(ImportCustomersArgs),
}

#[derive(Args)]
struct ImportCustomersArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The CSV file (first row: column names).
    file: PathBuf,
    /// Report what would happen, row by row, without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Column mapping overrides, e.g. `--map "Cell=phone,Member Since=ignore"`. Fields: first_name,
    /// last_name, name, phone, email, date_of_birth, customer_type, id_number, id_kind, id_jurisdiction,
    /// id_expiry, address_line1, address_line2, city, state, postal_code, country, loyalty_points, groups,
    /// notes, sms_opt_in, email_opt_in, id (a Canopy customer id), ignore.
    #[arg(long, value_delimiter = ',')]
    map: Vec<String>,
    /// Disclosure version recorded with marketing opt-ins carried over from the old system.
    #[arg(long)]
    consent_disclosure: Option<String>,
    /// Create the rows reported as `likely_duplicate` anyway (staff checked them), recording each pair
    /// as "not the same person".
    #[arg(long)]
    different_people: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// Every customer as CSV (spreadsheet-safe; re-importable).
    Customers(ExportTarget),
    /// Every order as CSV, one row per line (spreadsheet-safe).
    Orders(ExportTarget),
}

#[derive(Args)]
struct ExportTarget {
    #[command(flatten)]
    db: DbArgs,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn import(args: ImportArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let ImportWhat::Customers(args) = args.what;
    let settings = crate::settings(file)?;
    let store = args.db.open(file).await?;
    let input = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(settings.time_zone.clone())
        .date();
    let mut options = ImportOptions::new(settings.phone_region, today);
    options.dry_run = args.dry_run;
    options.different_people = args.different_people;
    options.map = args.map;
    options.source = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    if let Some(version) = args.consent_disclosure {
        options.consent_disclosure = version;
    }
    let started = std::time::Instant::now();
    let actor = Actor::system(&format!("import {}", args.file.display()));
    let report = canopy_transfer::import_customers(
        &store,
        std::io::BufReader::new(input),
        &options,
        &actor,
        jiff::Timestamp::now(),
    )
    .await?;
    store.close().await;
    let elapsed = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, elapsed)?;
    }
    Ok(if report.summary.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(report: &ImportReport, seconds: f64) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for row in &report.rows {
        let line = row.line;
        match &row.outcome {
            RowOutcome::Error {
                column,
                field,
                message,
                ..
            } => {
                let at = match (column, field) {
                    (Some(c), _) => format!(" [column '{c}']"),
                    (None, Some(f)) => format!(" [{f}]"),
                    (None, None) => String::new(),
                };
                writeln!(out, "line {line}: error{at} {message}")?;
            }
            _ if !report.dry_run => {}
            RowOutcome::Create { name, .. } => writeln!(out, "line {line}: create {name}")?,
            RowOutcome::Update {
                customer_id,
                name,
                changes,
            } => writeln!(
                out,
                "line {line}: update {name} ({customer_id}): {}",
                changes.join(", ")
            )?,
            RowOutcome::Unchanged { customer_id, name } => {
                writeln!(out, "line {line}: unchanged {name} ({customer_id})")?
            }
        }
    }
    for column in &report.unmapped_columns {
        writeln!(
            out,
            "note: column '{column}' is not imported (map it with --map)"
        )?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    let s = report.summary;
    if !report.new_groups.is_empty() {
        writeln!(out, "new groups: {}", report.new_groups.join(", "))?;
    }
    writeln!(
        out,
        "{} opening loyalty balances, {} new groups, {} new group memberships",
        s.opening_balances, s.groups_created, s.memberships
    )?;
    let verdict = if report.dry_run {
        "dry run, nothing written"
    } else if s.errors > 0 {
        "nothing written: fix the rows above and run again"
    } else if report.written {
        "written"
    } else {
        "nothing to change"
    };
    writeln!(
        out,
        "{} rows: {} to create, {} to update, {} unchanged, {} with errors ({verdict}) in {seconds:.1}s",
        s.rows, s.created, s.updated, s.unchanged, s.errors
    )?;
    out.flush()
}

pub async fn export(args: ExportArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let (target, what) = match &args.what {
        ExportWhat::Customers(t) => (t, "customers"),
        ExportWhat::Orders(t) => (t, "orders"),
    };
    let store = target.db.open(file).await?;
    let out: Box<dyn std::io::Write> = match &target.out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let out = std::io::BufWriter::new(out);
    let count = match args.what {
        ExportWhat::Customers(_) => canopy_transfer::export_customers(&store, out).await?,
        ExportWhat::Orders(_) => canopy_transfer::export_orders(&store, out).await?,
    };
    store.close().await;
    if let Some(path) = &target.out {
        eprintln!("exported {count} {what} to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
