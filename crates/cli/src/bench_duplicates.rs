//! `canopy bench duplicates`: the bulk duplicate scan at scale. Seeds demo customers up to `--customers`,
//! plants `--planted` duplicates of random existing customers the way they arise at a register (a
//! nickname or a one-letter typo in the name, a new phone, email and ID number, the same date of birth),
//! runs the scan and prints customers, pairs compared, pairs found, how many planted pairs were found,
//! and the time.

use std::time::Instant;

use anyhow::Context;
use canopy_domain::{Actor, Customer, CustomerId, Email, IdDocument, IdDocumentKind, PhoneNumber};
use canopy_store::{NewCustomerRecord, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct DuplicatesBench {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// Seed demo customers until the database holds at least this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Duplicates to plant (once per database; a rerun finds them already there).
    #[arg(long, default_value_t = 2_000)]
    pub planted: u64,
    #[arg(long, default_value_t = 200)]
    pub max_block: usize,
}

/// Short forms the planted duplicates use when the name has one.
const NICKNAMES: &[(&str, &str)] = &[
    ("William", "Bill"),
    ("Robert", "Bob"),
    ("Elizabeth", "Liz"),
    ("Michael", "Mike"),
    ("Jennifer", "Jen"),
    ("Christopher", "Chris"),
    ("Jessica", "Jess"),
    ("Matthew", "Matt"),
    ("Daniel", "Dan"),
    ("Katherine", "Kate"),
    ("James", "Jim"),
    ("Joseph", "Joe"),
    ("Thomas", "Tom"),
    ("Richard", "Rick"),
    ("Anthony", "Tony"),
];

/// A register's slip: a nickname if the name has one, else two neighbouring letters swapped.
fn slip(first: &str, last: &str, rng: &mut StdRng) -> (String, String) {
    if let Some((_, short)) = NICKNAMES.iter().find(|(long, _)| *long == first) {
        return (short.to_string(), last.to_string());
    }
    let swap = |w: &str, rng: &mut StdRng| {
        let mut c: Vec<char> = w.chars().collect();
        if c.len() >= 4 {
            let i = rng.random_range(1..c.len() - 1);
            c.swap(i, i + 1);
        }
        c.into_iter().collect::<String>()
    };
    if rng.random_bool(0.5) {
        (swap(first, rng), last.to_string())
    } else {
        (first.to_string(), swap(last, rng))
    }
}

pub async fn run(args: DuplicatesBench, file: &crate::config::FileConfig) -> anyhow::Result<()> {
    let store = args.db.open(file).await?;
    crate::bench::seed_customers_up_to(&store, args.customers).await?;
    let planted = plant(&store, args.planted).await?;
    let actor = Actor::system("bench");
    let started = Instant::now();
    let report = store
        .scan_duplicates(args.max_block, &actor, jiff::Timestamp::now())
        .await?;
    let total = started.elapsed();
    let mut found = 0;
    for (a, b) in &planted {
        if store.duplicate_pair_score(*a, *b).await?.is_some() {
            found += 1;
        }
    }
    println!(
        "duplicates scan on {:?}: {} customers, {} pairs compared (blocking; all pairs would be {}), \
         {} pairs for review ({} likely), {}/{} planted duplicates found, {} oversized blocks skipped",
        store.engine(),
        report.customers,
        report.compared,
        (report.customers as u128) * (report.customers.saturating_sub(1) as u128) / 2,
        report.pairs_found,
        report.likely,
        found,
        planted.len(),
        report.oversized_blocks,
    );
    println!(
        "time: {:.1}s total (load {:.1}s, match {:.1}s, save {:.1}s)",
        total.as_secs_f64(),
        report.load_ms as f64 / 1000.0,
        report.match_ms as f64 / 1000.0,
        report.save_ms as f64 / 1000.0
    );
    store.close().await;
    Ok(())
}

/// Plants duplicates of random customers (once: a database that has them already is reused).
async fn plant(store: &Store, count: u64) -> anyhow::Result<Vec<(CustomerId, CustomerId)>> {
    let marker = "bench duplicate of ";
    let mut rng = StdRng::seed_from_u64(0xD0_0B1E);
    let total = store.count_customers().await? as u64;
    let mut originals: Vec<Customer> = Vec::new();
    let mut after: Option<CustomerId> = None;
    // Every (total / count)-th customer in id order: spread over the whole table.
    let step = (total / count.max(1)).max(1) as u32;
    while (originals.len() as u64) < count {
        let page = store.list_customers(after, step.min(1000)).await?;
        let Some(last) = page.items.last() else { break };
        after = Some(last.id);
        originals.push(page.items[0].clone());
        if page.next_cursor.is_none() {
            break;
        }
    }
    let Some(head) = originals.first() else {
        return Ok(Vec::new());
    };
    if store
        .notes(head.id)
        .await?
        .iter()
        .any(|n| n.body.starts_with(marker))
    {
        eprintln!("duplicates already planted on this database; not counting recall");
        return Ok(Vec::new());
    }
    let now = jiff::Timestamp::now();
    let mut records = Vec::new();
    let mut pairs = Vec::new();
    for (i, original) in originals.iter().enumerate() {
        let mut draft = original.details.clone();
        let (first, last) = slip(&draft.name.first, &draft.name.last, &mut rng);
        draft.name.first = first;
        draft.name.last = last;
        draft.name.preferred = None;
        let n = 800_000_000 + i as u64;
        draft.phone = Some(PhoneNumber::from_stored(format!(
            "+1720{:07}",
            n % 10_000_000
        )));
        draft.email = Some(Email::parse(&format!("dup{n}@example.net")).context("email")?);
        draft.id_document = Some(IdDocument {
            kind: IdDocumentKind::StateId,
            number: format!("DUP{n}"),
            jurisdiction: Some("ZZ".into()),
            expiry: None,
        });
        let id = CustomerId::new();
        pairs.push((original.id, id));
        records.push(NewCustomerRecord {
            id,
            draft,
            created_at: now,
            ban: None,
            notes: vec![("bench".into(), format!("{marker}{}", original.id))],
        });
    }
    store
        .insert_customers_bulk(&records, &Actor::system("bench"), now)
        .await?;
    store
        .add_note(
            head.id,
            format!("{marker}(planted here)"),
            &Actor::system("bench"),
            now,
        )
        .await?;
    eprintln!("planted {} duplicates", pairs.len());
    Ok(pairs)
}
