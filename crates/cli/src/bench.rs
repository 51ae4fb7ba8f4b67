//! `canopy bench search`: lookup latency over real HTTP on loopback against a server process of its own,
//! with queries drawn from the database's actual customers.

use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use canopy_domain::staff::parse_key_name;
use canopy_domain::{Actor, PermissionSet};
use canopy_store::{NewApiKey, Store};
use canopy_web::auth::secrets;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Print the figures (and the machine) as one JSON object, to compare runs.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub what: BenchKind,
}

/// What a figure was measured on: the machine's cores and how busy it was. Figures from a shared machine
/// are only comparable with the load average beside them.
pub struct Machine {
    pub cores: usize,
    /// 1, 5 and 15 minute load averages from `/proc/loadavg` (empty where there is none).
    pub load_average: Vec<f64>,
}

impl Machine {
    pub fn now() -> Machine {
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|text| {
                text.split_whitespace()
                    .take(3)
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        Machine {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            load_average,
        }
    }

    pub fn describe(&self, when: &str) -> String {
        let load: Vec<String> = self
            .load_average
            .iter()
            .map(|l| format!("{l:.2}"))
            .collect();
        format!(
            "{} cores, load average {when} {}",
            self.cores,
            load.join(" ")
        )
    }
}

#[derive(clap::Subcommand)]
pub enum BenchKind {
    /// Lookup latency per query kind (name fragment, typo, phone formats, email prefix, ID number).
    Search(SearchBench),
    /// Checkout latency (p50/p99) and throughput through the whole compliance gate.
    Checkout(crate::bench_checkout::CheckoutBench),
    /// Customer CSV import: a generated file of `--rows` customers (points, groups, notes) imported twice,
    /// timing each run; the second must change nothing.
    Import(crate::bench_import::ImportBench),
    /// The bulk duplicate scan: customers, pairs compared and found, planted duplicates recovered, time.
    Duplicates(crate::bench_duplicates::DuplicatesBench),
}

#[derive(clap::Args)]
pub struct SearchBench {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// Seed demo customers until the database holds at least this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Queries per kind.
    #[arg(long, default_value_t = 400)]
    pub queries: usize,
    /// Lookups per kind sent before timing starts. 0 (the default) times the very first lookups a freshly
    /// started server answers.
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
}

/// A `canopy serve` process of the benchmark's own on a free loopback port; killed when dropped,
/// however the benchmark ends.
pub(crate) struct BenchServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl BenchServer {
    /// Starts the server on `db_url` and waits until `/healthz` answers through `client`.
    pub(crate) async fn start(
        db_url: &str,
        client: &reqwest::Client,
    ) -> anyhow::Result<BenchServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Process::new(std::env::current_exe()?)
            .args([
                "serve",
                "--db",
                db_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("CANOPY_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("starting the server")?;
        let server = BenchServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_until_up(client, &server.base).await?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds demo customers until the database holds at least `want`; returns how many it holds.
pub(crate) async fn seed_customers_up_to(store: &Store, want: u64) -> anyhow::Result<u64> {
    let have = store.count_customers().await? as u64;
    if have < want {
        eprintln!("seeding {} customers…", want - have);
        let started = Instant::now();
        crate::demo::seed_customers(store, want - have).await?;
        eprintln!("seeded in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(have.max(want))
}

pub async fn search(
    args: SearchBench,
    file: &crate::config::FileConfig,
    json: bool,
) -> anyhow::Result<serde_json::Value> {
    let url = args.db.url(file);
    let store = Store::open(&url).await?;
    let customers = seed_customers_up_to(&store, args.customers).await?;
    let queries = sample_queries(&store, args.queries).await?;
    let token = bench_key(&store, "search benchmark", &["customers:read"]).await?;
    store.close().await;

    let client = reqwest::Client::new();
    let started = Instant::now();
    let server = BenchServer::start(&url, &client).await?;
    let startup_ms = started.elapsed().as_secs_f64() * 1e3;
    let base = server.base.clone();
    let token = Some(token);

    if !json {
        println!(
            "engine: {}   customers: {}   queries per kind: {}   warm-up per kind: {}   server up in {:.0} ms",
            engine_name(&url),
            customers,
            args.queries,
            args.warmup,
            startup_ms
        );
        println!(
            "{:<22} {:>9} {:>9} {:>9} {:>8}",
            "query kind", "p50 ms", "p99 ms", "max ms", "hits"
        );
    }
    let mut kinds = Vec::new();
    for (kind, list) in &queries {
        if list.is_empty() {
            continue;
        }
        for q in list.iter().take(args.warmup) {
            lookup(&client, &base, q, token.as_deref()).await?;
        }
        let mut times = Vec::with_capacity(list.len());
        let mut hits = 0;
        for q in list {
            let started = Instant::now();
            let found = lookup(&client, &base, q, token.as_deref()).await?;
            times.push(started.elapsed());
            hits += usize::from(found > 0);
        }
        times.sort();
        let pct = |p: f64| {
            times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
        };
        let hit_rate = 100.0 * hits as f64 / list.len() as f64;
        if !json {
            println!(
                "{kind:<22} {:>9.2} {:>9.2} {:>9.2} {:>7.0}%",
                pct(0.50),
                pct(0.99),
                pct(1.0),
                hit_rate
            );
        }
        kinds.push(serde_json::json!({
            "kind": kind, "queries": list.len(), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "max_ms": pct(1.0), "hit_percent": hit_rate,
        }));
    }
    let rss_mb = peak_rss_kb(server.pid()).map(|kb| kb as f64 / 1024.0);
    if !json && let Some(mb) = rss_mb {
        println!("server peak RSS: {mb:.0} MB");
    }
    Ok(serde_json::json!({
        "bench": "search",
        "engine": engine_name(&url),
        "customers": customers,
        "warmup_per_kind": args.warmup,
        "server_startup_ms": startup_ms,
        "kinds": kinds,
        "server_peak_rss_mb": rss_mb,
    }))
}

/// An API key of the run's own with just the scopes it needs, so a benchmark goes through
/// authentication like a real register.
pub(crate) async fn bench_key(
    store: &Store,
    name: &str,
    scopes: &[&str],
) -> anyhow::Result<String> {
    let secret = secrets::new_api_key();
    let scopes = PermissionSet::parse_scopes(scopes.iter().copied())
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let name = parse_key_name(name).map_err(|e| anyhow::anyhow!(e.message))?;
    let key = NewApiKey {
        name,
        prefix: secrets::api_key_prefix(&secret),
        key_hash: secrets::digest(&secret),
        scopes,
        stores: None,
    };
    store
        .create_api_key(key, &Actor::system("bench"), jiff::Timestamp::now())
        .await?;
    Ok(secret)
}

fn engine_name(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgresql"
    } else {
        "sqlite"
    }
}

async fn wait_until_up(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not come up")
}

/// One lookup of 20 results; a query written `text|offset` asks for the page starting at `offset`.
async fn lookup(
    client: &reqwest::Client,
    base: &str,
    q: &str,
    token: Option<&str>,
) -> anyhow::Result<usize> {
    let (q, offset) = q.rsplit_once('|').unwrap_or((q, "0"));
    let mut req = client.get(format!("{base}/api/v1/customers")).query(&[
        ("q", q),
        ("limit", "20"),
        ("offset", offset),
    ]);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await?;
    if !res.status().is_success() {
        bail!("lookup {q:?} answered {}", res.status());
    }
    let body: serde_json::Value = res.json().await?;
    Ok(body["items"].as_array().map_or(0, Vec::len))
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The name as someone might spell it from hearing it: the first of a few common English respellings that
/// applies ("sofia" for Sophia, "katherine" for Catherine, "jon" for John), else the name itself.
fn spelling_variant(name: &str) -> String {
    for (from, to) in [
        ("ph", "f"),
        ("th", "t"),
        ("ck", "k"),
        ("c", "k"),
        ("k", "c"),
        ("y", "i"),
        ("ie", "y"),
        ("ll", "l"),
        ("nn", "n"),
        ("tt", "t"),
        ("oh", "o"),
        ("ei", "ie"),
    ] {
        let skip = name.chars().next().map_or(0, char::len_utf8);
        if let Some(at) = name[skip..].find(from) {
            let at = at + skip;
            return format!("{}{to}{}", &name[..at], &name[at + from.len()..]);
        }
    }
    name.to_string()
}

/// Queries of each kind, built from customers actually in the database.
async fn sample_queries(
    store: &Store,
    per_kind: usize,
) -> anyhow::Result<Vec<(&'static str, Vec<String>)>> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut sample = Vec::new();
    let mut cursor = None;
    // Walk a few pages spread through the id space: ids are time-ordered, so skip around with random cursors.
    while sample.len() < per_kind {
        let page = store.list_customers(cursor, 200).await?;
        if page.items.is_empty() {
            break;
        }
        sample.extend(page.items.into_iter().filter(|_| rng.random_bool(0.5)));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    if sample.is_empty() {
        bail!("the database has no customers to draw queries from");
    }
    let pick = |rng: &mut StdRng| sample.choose(rng).cloned();
    let mut kinds: Vec<(&'static str, Vec<String>)> = vec![
        ("name fragment", vec![]),
        ("typo'd name", vec![]),
        ("phone (303) 555-0142", vec![]),
        ("phone 303.555.0142", vec![]),
        ("phone +13035550142", vec![]),
        ("phone last 4", vec![]),
        ("email prefix", vec![]),
        ("ID number", vec![]),
        ("short name typo", vec![]),
        ("spelling variant", vec![]),
        ("ID number prefix", vec![]),
        ("area code + name", vec![]),
        ("name, second page", vec![]),
    ];
    for _ in 0..per_kind {
        let Some(c) = pick(&mut rng) else { break };
        let d = &c.details;
        let last: Vec<char> = d.name.last.to_lowercase().chars().collect();
        let start = rng.random_range(0..last.len().saturating_sub(3).max(1));
        kinds[0]
            .1
            .push(last[start..(start + 4).min(last.len())].iter().collect());
        let mut typo = last.clone();
        if typo.len() >= 5 {
            let i = rng.random_range(1..typo.len());
            typo[i] = if typo[i] == 'x' { 'q' } else { 'x' };
        }
        kinds[1].1.push(format!(
            "{} {}",
            d.name.first.to_lowercase(),
            typo.iter().collect::<String>()
        ));
        if let Some(phone) = &d.phone {
            let digits = &phone.as_str()[2..];
            kinds[2].1.push(format!(
                "({}) {}-{}",
                &digits[..3],
                &digits[3..6],
                &digits[6..]
            ));
            kinds[3].1.push(format!(
                "{}.{}.{}",
                &digits[..3],
                &digits[3..6],
                &digits[6..]
            ));
            kinds[4].1.push(phone.as_str().to_string());
            kinds[5].1.push(digits[6..].to_string());
        }
        if let Some(email) = &d.email {
            kinds[6].1.push(email.key().chars().take(8).collect());
        }
        if let Some(doc) = &d.id_document {
            kinds[7].1.push(doc.number.clone());
            kinds[10].1.push(doc.number.chars().take(5).collect());
        }
        let first: Vec<char> = d.name.first.to_lowercase().chars().collect();
        if first.len() >= 4 {
            // Swap two letters inside the first name ("jonh" for John), keeping the first letter.
            let mut swapped = first.clone();
            let i = rng.random_range(1..first.len() - 1);
            swapped.swap(i, i + 1);
            kinds[8].1.push(format!(
                "{} {}",
                swapped.iter().collect::<String>(),
                d.name.last.to_lowercase()
            ));
        }
        kinds[9].1.push(format!(
            "{} {}",
            spelling_variant(&d.name.first.to_lowercase()),
            d.name.last.to_lowercase()
        ));
        if let Some(phone) = &d.phone {
            kinds[11].1.push(format!(
                "{} {}",
                &phone.as_str()[2..5],
                d.name.last.to_lowercase()
            ));
        }
        kinds[12]
            .1
            .push(format!("{}|20", d.name.last.to_lowercase()));
    }
    Ok(kinds)
}
