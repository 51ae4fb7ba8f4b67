//! `canopy bench checkout`: checkout latency and throughput over loopback HTTP against a server
//! process of its own, on a database seeded with a large customer base and order history.
//!
//! Most requests are real checkouts through the whole gate (eligibility, limits over the customer's
//! history, group discounts, loyalty redemption, the atomic write) with their own `Idempotency-Key`;
//! the rest are returns, voids and managers' point adjustments. Afterwards the loyalty ledger is
//! verified: the run fails if any balance drifted from its entries.

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

pub async fn run(args: CheckoutBench, file: &crate::config::FileConfig) -> anyhow::Result<()> {
    let url = args.db.url(file);
    let store = Store::open(&url).await?;
    crate::bench::seed_customers_up_to(&store, args.customers).await?;
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
    let token = crate::bench::bench_key(
        &store,
        "checkout benchmark",
        &["orders:write", "loyalty:adjust"],
    )
    .await?;
    store.close().await;
    if buyers.is_empty() || skus.is_empty() {
        bail!("no eligible customers or products to buy");
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    let server = crate::bench::BenchServer::start(&url, &client).await?;
    let base = server.base.clone();
    let shared = Arc::new(Shared {
        client,
        base,
        token,
        buyers,
        skus,
        shop,
    });

    let drive = |duration: Duration, seed: u64| {
        let shared = shared.clone();
        let concurrency = args.concurrency;
        async move {
            let deadline = Instant::now() + duration;
            let tasks: Vec<_> = (0..concurrency)
                .map(|w| {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let mut rng = StdRng::seed_from_u64(seed * 1000 + w as u64);
                        let mut placed: Vec<String> = Vec::new();
                        let mut out: Vec<Sample> = Vec::new();
                        while Instant::now() < deadline {
                            out.push(shared.step(&mut rng, &mut placed).await);
                        }
                        out
                    })
                })
                .collect();
            let mut all = Vec::new();
            for t in futures::future::join_all(tasks).await {
                all.extend(t.unwrap_or_default());
            }
            all
        }
    };

    drive(Duration::from_secs(2), 1).await;
    let started = Instant::now();
    let results = drive(Duration::from_secs(args.seconds), 2).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut checkouts: Vec<&Sample> = results
        .iter()
        .filter(|r| r.action == Action::Checkout)
        .collect();
    if checkouts.is_empty() {
        bail!("no checkout completed");
    }
    checkouts.sort_by_key(|r| r.took);
    let count = |s: u16| checkouts.iter().filter(|r| r.status == s).count();
    let pct = |p: f64| {
        checkouts[((checkouts.len() as f64 * p) as usize).min(checkouts.len() - 1)]
            .took
            .as_secs_f64()
            * 1e3
    };
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
        checkouts.len() - count(201) - count(422),
        checkouts.len() as f64 / elapsed
    );
    println!(
        "checkout latency ms: p50 {:.2}   p90 {:.2}   p99 {:.2}   max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    for action in [Action::Return, Action::Void, Action::Adjust] {
        let done: Vec<&Sample> = results.iter().filter(|r| r.action == action).collect();
        let ok = done
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .count();
        let conflicts = done.iter().filter(|r| r.status == 409).count();
        println!(
            "{:<8} {} done, {} refused (409), {} other",
            action.label(),
            ok,
            conflicts,
            done.len() - ok - conflicts
        );
    }
    drop(server);
    let store = Store::open(&url).await?;
    let report = store.verify_loyalty().await?;
    store.close().await;
    println!(
        "loyalty verify: {} customers, {} entries, {} lots, {} differences",
        report.customers,
        report.entries,
        report.lots,
        report.differences.len()
    );
    if !report.differences.is_empty() {
        bail!("the loyalty ledger drifted: {:?}", report.differences);
    }
    Ok(())
}

/// What a benchmark worker does next, in the proportions a busy store sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Checkout,
    Return,
    Void,
    Adjust,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::Checkout => "checkout",
            Action::Return => "returns",
            Action::Void => "voids",
            Action::Adjust => "adjusts",
        }
    }
}

struct Sample {
    action: Action,
    took: Duration,
    /// HTTP status; 0 when the request failed outright.
    status: u16,
}

struct Shared {
    client: reqwest::Client,
    base: String,
    token: String,
    buyers: Vec<canopy_domain::CustomerId>,
    skus: Vec<String>,
    shop: canopy_domain::StoreId,
}

impl Shared {
    /// One request: mostly checkouts (a quarter of them redeeming points), and returns and voids of
    /// this worker's own earlier orders, and managers' point adjustments, so the loyalty ledger sees
    /// every kind of entry concurrently.
    async fn step(&self, rng: &mut StdRng, placed: &mut Vec<String>) -> Sample {
        let roll = rng.random_range(0..100);
        // `run` refuses to start without buyers, so the list is never empty.
        let customer = self.buyers[rng.random_range(0..self.buyers.len())];
        let (action, path, body) = if roll < 8 && !placed.is_empty() {
            let order = placed.swap_remove(rng.random_range(0..placed.len()));
            let body =
                serde_json::json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "unopened"});
            (
                Action::Return,
                format!("/api/v1/orders/{order}/returns"),
                body,
            )
        } else if roll < 12 && !placed.is_empty() {
            let order = placed.swap_remove(rng.random_range(0..placed.len()));
            let body = serde_json::json!({"reason": "rung up twice"});
            (Action::Void, format!("/api/v1/orders/{order}/void"), body)
        } else if roll < 20 {
            let points = rng.random_range(-50..=150);
            let points = if points == 0 { 1 } else { points };
            let body = serde_json::json!({"points": points, "reason": "benchmark adjustment"});
            let path = format!("/api/v1/customers/{customer}/loyalty/adjustments");
            (Action::Adjust, path, body)
        } else {
            let lines: Vec<serde_json::Value> = (0..rng.random_range(1..=2))
                .filter_map(|_| self.skus.choose(rng))
                .map(|s| serde_json::json!({"sku": s, "quantity": 1}))
                .collect();
            let redeem = if rng.random_bool(0.25) {
                rng.random_range(10..=200)
            } else {
                0
            };
            let body = serde_json::json!({"customer_id": customer, "store_id": self.shop,
                "lines": lines, "loyalty_redeem_points": redeem});
            (Action::Checkout, "/api/v1/checkout".into(), body)
        };
        let started = Instant::now();
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await;
        let (status, body) = match res {
            Ok(res) => {
                let status = res.status().as_u16();
                (status, res.json::<serde_json::Value>().await.ok())
            }
            Err(_) => (0, None),
        };
        if action == Action::Checkout
            && status == 201
            && let Some(id) = body
                .as_ref()
                .and_then(|b| b["order"]["id"].as_str().map(String::from))
        {
            placed.push(id);
        }
        Sample {
            action,
            took: started.elapsed(),
            status,
        }
    }
}
