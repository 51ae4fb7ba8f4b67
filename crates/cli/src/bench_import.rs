//! `canopy bench import`: times a customer CSV import the size of a large store's export, then runs the
//! same file again to show that a second run changes nothing (the "done when").

use std::time::Instant;

use anyhow::{Context, bail};
use canopy_domain::{Actor, Region};
use canopy_store::{NewCustomerRecord, Store};
use canopy_transfer::{ImportOptions, ImportReport, import_customers};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct ImportBench {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// Rows in the generated file.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Also write the generated file here (to try it with `canopy import customers`).
    #[arg(long)]
    pub keep_csv: Option<std::path::PathBuf>,
}

/// Groups as another POS might name them; a few rows carry two.
const GROUPS: &[&str] = &["VIP", "Medical Patients", "Veterans", "Seniors", "Staff"];

/// Customer numbers far above what `canopy demo` seeds, so the file's phones and emails are new even on a
/// demo database (a rerun of the benchmark on the same database finds them all unchanged).
const FIRST_NUMBER: u64 = 900_000_000;

const HEADER: [&str; 14] = [
    "First Name",
    "Last Name",
    "Mobile",
    "E-mail Address",
    "DOB",
    "Customer Type",
    "Address",
    "City",
    "State",
    "Zip",
    "Rewards Points",
    "Customer Groups",
    "Notes",
    "SMS Opt In",
];

pub async fn run(args: ImportBench, file: &crate::config::FileConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let csv = generate(args.rows)?;
    eprintln!(
        "generated {} rows ({:.1} MB) in {:.1}s",
        args.rows,
        csv.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.keep_csv {
        std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?;
    }
    let store = args.db.open(file).await?;
    let first = timed_import(&store, &csv, "first run").await?;
    let second = timed_import(&store, &csv, "second run").await?;
    let verify = store.verify_loyalty().await?;
    store.close().await;
    println!(
        "loyalty verify: {} customers, {} entries, {} differences",
        verify.customers,
        verify.entries,
        verify.differences.len()
    );
    if first.summary.errors > 0 {
        bail!("the generated file has {} bad rows", first.summary.errors);
    }
    let s = second.summary;
    if second.written || s.created + s.updated + s.opening_balances + s.memberships > 0 {
        bail!("the second run changed something: {s:?}");
    }
    println!("second run changed nothing");
    Ok(())
}

async fn timed_import(store: &Store, csv: &[u8], label: &str) -> anyhow::Result<ImportReport> {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut options = ImportOptions::new(Region::US, today);
    options.source = "bench-import.csv".into();
    let started = Instant::now();
    let report = import_customers(
        store,
        csv,
        &options,
        &Actor::system("bench import"),
        jiff::Timestamp::now(),
    )
    .await?;
    let s = report.summary;
    println!(
        "{label}: {} rows in {:.1}s: {} created, {} updated, {} unchanged, {} errors; {} opening balances, \
         {} groups created, {} memberships; written: {}",
        s.rows,
        started.elapsed().as_secs_f64(),
        s.created,
        s.updated,
        s.unchanged,
        s.errors,
        s.opening_balances,
        s.groups_created,
        s.memberships,
        report.written
    );
    Ok(report)
}

/// A CSV as another POS exports it: formatted phones, US dates, points with thousands separators, a few
/// empty cells.
fn generate(rows: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(10);
    let now = jiff::Timestamp::now();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)?;
    for i in 0..rows {
        let record = crate::demo::synthetic_customer(&mut rng, FIRST_NUMBER + i, now)?;
        out.write_record(row(&mut rng, &record))?;
    }
    out.into_inner().context("finishing the CSV")
}

fn row(rng: &mut StdRng, record: &NewCustomerRecord) -> Vec<String> {
    let d = &record.draft;
    let phone = d.phone.as_ref().map_or(String::new(), |p| {
        let digits = &p.as_str()[2..];
        format!("({}) {}-{}", &digits[..3], &digits[3..6], &digits[6..])
    });
    let dob = d.date_of_birth.map_or(String::new(), |b| {
        format!("{:02}/{:02}/{}", b.month(), b.day(), b.year())
    });
    let address = d.addresses.first();
    let points = match rng.random_range(0..10) {
        0..=2 => String::new(),
        3 => "0".into(),
        _ => {
            let p: u32 = rng.random_range(1..20_000);
            if p >= 1000 {
                format!("{},{:03}", p / 1000, p % 1000)
            } else {
                p.to_string()
            }
        }
    };
    let groups = match rng.random_range(0..10) {
        0..=5 => String::new(),
        6..=8 => GROUPS.choose(rng).map_or("", |g| g).to_string(),
        _ => format!("{}; vip", GROUPS.choose(rng).map_or("", |g| g)),
    };
    vec![
        d.name.first.clone(),
        d.name.last.clone(),
        phone,
        d.email
            .as_ref()
            .map_or(String::new(), |e| e.as_str().to_string()),
        dob,
        if d.customer_type.as_str() == "medical" {
            "Medical"
        } else {
            "Rec"
        }
        .into(),
        address.map_or(String::new(), |a| a.line1.clone()),
        address.map_or(String::new(), |a| a.city.clone()),
        address.map_or(String::new(), |a| a.region.clone()),
        address.map_or(String::new(), |a| a.postal_code.clone()),
        points,
        groups,
        record
            .notes
            .first()
            .map_or(String::new(), |(_, n)| n.clone()),
        if rng.random_bool(0.6) { "Y" } else { "N" }.into(),
    ]
}
