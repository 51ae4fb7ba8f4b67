//! `canopy bench checkout`: checkout latency and throughput over loopback HTTP against a server
//! process of its own, on a database seeded with a large customer base and order history.
//!
//! Every request is a real checkout through the whole gate (eligibility, limits over the
//! customer's history, group discounts, the atomic write) with its own `Idempotency-Key`.

use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use canopy_store::Store;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct CheckoutBench {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// Seed demo customers until the database holds at least this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Seed past orders until the database holds at least this many.
    #[arg(long, default_value_t = 5_000_000)]
    pub orders: u64,
    /// Checkouts in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// How long to drive checkouts.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(args: CheckoutBench, file: &crate::config::FileConfig) -> anyhow::Result<()> {
    let url = args.db.url(file);
    let store = Store::open(&url).await?;
    let have = store.count_customers().await? as u64;
    if have < args.customers {
        eprintln!("seeding {} customers…", args.customers - have);
        let started = Instant::now();
        crate::demo::seed_customers(&store, args.customers - have).await?;
        eprintln!("  in {:.1}s", started.elapsed().as_secs_f64());
    }
    let catalog = crate::demo_orders::seed_catalog(&store).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let have_orders = store.count_orders().await? as u64;
    if have_orders < args.orders {
        eprintln!("seeding {} orders…", args.orders - have_orders);
        let started = Instant::now();
        let buyers = store.customers_with_valid_id(today, u32::MAX).await?;
        let members = crate::demo_orders::seed_memberships(&store, &catalog, &buyers).await?;
        crate::demo_orders::seed_orders(
            &store,
            &catalog,
            &buyers,
            &members,
            args.orders - have_orders,
        )
        .await?;
        eprintln!("  in {:.1}s", started.elapsed().as_secs_f64());
    }
    let customers = store.count_customers().await?;
    let orders = store.count_orders().await?;
    let mut buyers = store.customers_with_valid_id(today, u32::MAX).await?;
    let mut rng = StdRng::seed_from_u64(42);
    buyers.retain(|_| rng.random_bool(0.5));
    // An adult-use store, so every buyer is evaluated under the adult-use rules.
    let shop = catalog
        .stores
        .iter()
        .find(|s| s.settings.licence_type == canopy_orders::LicenceType::AdultUse)
        .or(catalog.stores.first())
        .context("no store")?
        .id;
    let skus: Vec<String> = catalog
        .products
        .iter()
        .filter(|p| p.draft.measures.net_weight_mg.is_some_and(|w| w <= 3500))
        .map(|p| p.draft.sku.clone())
        .collect();
    store.close().await;
    if buyers.is_empty() || skus.is_empty() {
        bail!("no eligible customers or products to buy");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let _server = ServerProcess(
        Process::new(std::env::current_exe()?)
            .args([
                "serve",
                "--db",
                &url,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("CANOPY_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("starting the server")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    wait_until_up(&client, &base).await?;
    let token = std::env::var("CANOPY_BENCH_TOKEN").ok();
    let shared = Arc::new((client, base, token, buyers, skus, shop));

    let drive = |duration: Duration, seed: u64| {
        let shared = shared.clone();
        let concurrency = args.concurrency;
        async move {
            let deadline = Instant::now() + duration;
            let mut tasks = Vec::new();
            for w in 0..concurrency {
                let shared = shared.clone();
                tasks.push(tokio::spawn(async move {
                    let (client, base, token, buyers, skus, shop) = &*shared;
                    let mut rng = StdRng::seed_from_u64(seed * 1000 + w as u64);
                    let mut out: Vec<(Duration, u16)> = Vec::new();
                    while Instant::now() < deadline {
                        let customer = buyers.choose(&mut rng).copied();
                        let lines: Vec<serde_json::Value> = (0..rng.random_range(1..=2))
                            .filter_map(|_| skus.choose(&mut rng))
                            .map(|s| serde_json::json!({"sku": s, "quantity": 1}))
                            .collect();
                        let body = serde_json::json!({"customer_id": customer, "store_id": shop, "lines": lines});
                        let mut req = client
                            .post(format!("{base}/api/v1/checkout"))
                            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                            .json(&body);
                        if let Some(t) = token {
                            req = req.bearer_auth(t);
                        }
                        let started = Instant::now();
                        let status = match req.send().await {
                            Ok(res) => {
                                let s = res.status().as_u16();
                                let _ = res.bytes().await;
                                s
                            }
                            Err(_) => 0,
                        };
                        out.push((started.elapsed(), status));
                    }
                    out
                }));
            }
            let mut all = Vec::new();
            for t in futures::future::join_all(tasks).await {
                all.extend(t.unwrap_or_default());
            }
            all
        }
    };

    drive(Duration::from_secs(2), 1).await;
    let started = Instant::now();
    let mut results = drive(Duration::from_secs(args.seconds), 2).await;
    let elapsed = started.elapsed().as_secs_f64();
    results.sort_by_key(|r| r.0);
    let count = |s: u16| results.iter().filter(|r| r.1 == s).count();
    let pct = |p: f64| {
        results[((results.len() as f64 * p) as usize).min(results.len().saturating_sub(1))]
            .0
            .as_secs_f64()
            * 1e3
    };
    if results.is_empty() {
        bail!("no checkout completed");
    }
    println!(
        "engine: {}   customers: {customers}   past orders: {orders}   concurrency: {}   duration: {:.1}s",
        if url.starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        },
        args.concurrency,
        elapsed
    );
    println!(
        "checkouts: {} placed, {} refused by the gate, {} other   throughput: {:.0}/s",
        count(201),
        count(422),
        results.len() - count(201) - count(422),
        results.len() as f64 / elapsed
    );
    println!(
        "latency ms: p50 {:.2}   p90 {:.2}   p99 {:.2}   max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

async fn wait_until_up(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
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
