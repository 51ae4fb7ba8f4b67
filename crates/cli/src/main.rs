//! The `canopy` binary: one command-line entry point for the server and every admin task.

mod backup_cmd;
mod bench;
mod bench_checkout;
mod bench_duplicates;
mod bench_import;
mod config;
mod demo;
mod demo_orders;
mod duplicates_cmd;
mod id_cmd;
mod limits_cmd;
mod loyalty_cmd;
mod privacy_cmd;
mod products_cmd;
mod staff_cmd;
mod transfer_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use canopy_domain::Region;
use canopy_store::Store;
use canopy_web::{AppState, Settings};
use clap::{Args, Parser, Subcommand};
use config::FileConfig;

#[derive(Parser)]
#[command(
    name = "canopy",
    version,
    about = "Customer management for licensed cannabis retailers"
)]
struct Cli {
    /// A TOML settings file (default: ./canopy.toml when it exists).
    #[arg(long, global = true, env = "CANOPY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Which database: a SQLite file path (created on first use) or a `postgres://` URL.
#[derive(Args, Clone)]
struct DbArgs {
    /// SQLite file path or postgres:// URL [default: ./canopy.db]
    #[arg(long, env = "CANOPY_DB")]
    db: Option<String>,
}

impl DbArgs {
    /// The database URL: flag or `CANOPY_DB`, then the config file, then `./canopy.db`.
    fn url(&self, file: &FileConfig) -> String {
        self.db
            .clone()
            .or_else(|| file.db.clone())
            .unwrap_or_else(|| config::DEFAULT_DB.to_string())
    }

    async fn open(&self, file: &FileConfig) -> anyhow::Result<Store> {
        let url = self.url(file);
        Store::open(&url)
            .await
            .with_context(|| format!("opening database {}", redact(&url)))
    }
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API and staff web app).
    Serve(ServeArgs),
    /// Fill a database with realistic synthetic customers.
    Demo(DemoArgs),
    /// Manage the product catalogue.
    Products(products_cmd::ProductsArgs),
    /// Measure performance (prints figures).
    Bench(bench::BenchArgs),
    /// Read AAMVA ID barcodes (driver's licences and ID cards).
    Id(id_cmd::IdArgs),
    /// Evaluate and list purchase-limit rule sets.
    Limits(limits_cmd::LimitsArgs),
    /// Manage staff accounts (`canopy user add` creates the first admin).
    User(staff_cmd::UserArgs),
    /// Manage API keys for integrations.
    Apikey(staff_cmd::ApiKeyArgs),
    /// Check the loyalty points ledger and expire old points.
    Loyalty(loyalty_cmd::LoyaltyArgs),
    /// Find duplicate customer profiles for the review list.
    Duplicates(duplicates_cmd::DuplicatesArgs),
    /// Import data from another system (CSV).
    Import(transfer_cmd::ImportArgs),
    /// Export data as CSV.
    Export(transfer_cmd::ExportArgs),
    /// Data policies, right-to-know exports, erasures and the retention purge.
    Privacy(privacy_cmd::PrivacyArgs),
    /// Copy a SQLite database to a file while it is in use, and verify the copy.
    Backup(backup_cmd::BackupArgs),
    /// Put a SQLite backup in place of the database (stop the server first).
    Restore(backup_cmd::RestoreArgs),
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CANOPY_LISTEN")]
    listen: Option<String>,
    /// Seed demo data first when the database has no customers yet.
    #[arg(long)]
    demo: bool,
    /// Do not run the background workers (SMS and webhook delivery), e.g. on a read-only replica.
    #[arg(long)]
    no_workers: bool,
    /// Serve Prometheus metrics at `/metrics` on this address (e.g. 127.0.0.1:9090); off when unset.
    /// Keep it off the public network: it is not behind sign-in.
    #[arg(long, env = "CANOPY_METRICS_LISTEN")]
    metrics_listen: Option<String>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    db: DbArgs,
    /// How many customers to add.
    #[arg(long, default_value_t = 2000)]
    customers: u64,
    /// How many past orders to add (default: three per customer added).
    #[arg(long)]
    orders: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Id(args) => id_cmd::run(args),
        Command::Limits(args) => limits_cmd::run(args),
        command => run_async(cli.config, command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(config_path: Option<PathBuf>, command: Command) -> anyhow::Result<ExitCode> {
    let file = FileConfig::load(config_path.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => serve(args, &file).await,
            Command::Demo(args) => {
                let store = args.db.open(&file).await?;
                let started = std::time::Instant::now();
                let n = demo::seed_customers(&store, args.customers).await?;
                let (catalog, orders) =
                    demo_orders::seed_all(&store, args.orders.unwrap_or(n * 3)).await?;
                let points = demo::seed_loyalty(&store, 5_000).await?;
                demo::seed_compliance(&store, 2_000).await?;
                store.close().await;
                println!(
                    "added {n} demo customers, {orders} orders ({} stores, {} products, {} groups) and {points} loyalty transactions in {:.1}s",
                    catalog.stores.len(),
                    catalog.products.len(),
                    catalog.groups.len(),
                    started.elapsed().as_secs_f64()
                );
                Ok(ExitCode::SUCCESS)
            }
            Command::Bench(args) => {
                let json = args.json;
                let start = bench::Machine::now();
                if !json {
                    println!("machine: {}", start.describe("at start"));
                }
                let figures = match args.what {
                    bench::BenchKind::Search(search) => bench::search(search, &file, json).await?,
                    bench::BenchKind::Checkout(checkout) => {
                        bench_checkout::run(checkout, &file).await?;
                        serde_json::Value::Null
                    }
                    bench::BenchKind::Duplicates(d) => {
                        bench_duplicates::run(d, &file).await?;
                        serde_json::Value::Null
                    }
                    bench::BenchKind::Import(import) => {
                        bench_import::run(import, &file).await?;
                        serde_json::Value::Null
                    }
                };
                let end = bench::Machine::now();
                if json {
                    let report = serde_json::json!({
                        "cores": start.cores,
                        "load_average_start": start.load_average,
                        "load_average_end": end.load_average,
                        "figures": figures,
                    });
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    println!("machine: {}", end.describe("at end"));
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Products(args) => match args.what {
                products_cmd::ProductsCommand::Import { db, file: path } => {
                    let store = db.open(&file).await?;
                    products_cmd::import(&store, &path).await?;
                    store.close().await;
                    Ok(ExitCode::SUCCESS)
                }
            },
            Command::Import(args) => transfer_cmd::import(args, &file).await,
            Command::Export(args) => transfer_cmd::export(args, &file).await,
            Command::Backup(args) => backup_cmd::backup(args, &file).await,
            Command::Restore(args) => backup_cmd::restore(args, &file).await,
            Command::Id(args) => id_cmd::run(args),
            Command::Limits(args) => limits_cmd::run(args),
            Command::User(args) => staff_cmd::run_user(args, &file).await,
            Command::Apikey(args) => staff_cmd::run_apikey(args, &file).await,
            Command::Loyalty(args) => loyalty_cmd::run(args, &file).await,
            Command::Duplicates(args) => duplicates_cmd::run(args, &file).await,
            Command::Privacy(args) => privacy_cmd::run(args, &file).await,
        }
    })
}

/// Settings from the environment and the config file; `serve` adds the ID image keys.
fn settings(file: &FileConfig) -> anyhow::Result<Settings> {
    let phone_region = match std::env::var("CANOPY_PHONE_REGION")
        .ok()
        .or_else(|| file.phone_region.clone())
    {
        Some(code) => {
            Region::parse(&code).with_context(|| format!("unknown phone region '{code}'"))?
        }
        None => Region::US,
    };
    let time_zone = match std::env::var("CANOPY_TIME_ZONE")
        .ok()
        .or_else(|| file.time_zone.clone())
    {
        Some(name) => {
            jiff::tz::TimeZone::get(&name).with_context(|| format!("unknown time zone '{name}'"))?
        }
        None => jiff::tz::TimeZone::system(),
    };
    Ok(Settings {
        phone_region,
        time_zone,
        secure_cookies: env_flag("CANOPY_SECURE_COOKIES"),
        trust_forwarded_for: env_flag("CANOPY_TRUST_PROXY"),
        sms_inbound_token: env_or("CANOPY_SMS_INBOUND_TOKEN", &file.sms.inbound_token),
        webhook_policy: std::sync::Arc::new(webhook_policy(file)?),
        ..Settings::default()
    })
}

/// Where webhooks may connect: public addresses plus `CANOPY_WEBHOOK_ALLOW` / `webhook_allow`.
fn webhook_policy(file: &FileConfig) -> anyhow::Result<canopy_domain::OutboundPolicy> {
    match env_or("CANOPY_WEBHOOK_ALLOW", &file.webhook_allow) {
        Some(list) => canopy_domain::OutboundPolicy::parse(&list)
            .context("CANOPY_WEBHOOK_ALLOW / webhook_allow"),
        None => Ok(canopy_domain::OutboundPolicy::public_only()),
    }
}

/// A boolean environment variable: `1`, `true` or `yes` (any case) turn it on.
fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The ID image key, from the first of: `CANOPY_ID_IMAGE_KEY` or `id_image_key` (the key itself);
/// `CANOPY_ID_IMAGE_KEY_FILE` or `id_image_key_file` (a file holding it, created on first start, kept
/// anywhere, e.g. beside other secrets rather than beside the database); for SQLite, the file
/// `<database>.id-image.key` next to the database. Otherwise (PostgreSQL without a key) none, and
/// image uploads are refused. Whichever it is, it must be backed up apart from the database.
fn id_image_keys(
    file: &FileConfig,
    db_url: &str,
) -> anyhow::Result<Option<canopy_web::IdImageKeys>> {
    if let Some(key) = env_or("CANOPY_ID_IMAGE_KEY", &file.id_image_key) {
        let keys = canopy_web::IdImageKeys::from_base64(&key, &file.id_image_retired_keys)
            .context("CANOPY_ID_IMAGE_KEY / id_image_key")?;
        return Ok(Some(keys));
    }
    let path = match env_or("CANOPY_ID_IMAGE_KEY_FILE", &file.id_image_key_file) {
        Some(path) => std::path::PathBuf::from(path),
        None if db_url.starts_with("postgres://") || db_url.starts_with("postgresql://") => {
            tracing::warn!(
                "no CANOPY_ID_IMAGE_KEY or CANOPY_ID_IMAGE_KEY_FILE: ID image uploads are disabled"
            );
            return Ok(None);
        }
        None => {
            let path = format!(
                "{}.id-image.key",
                db_url.strip_prefix("sqlite://").unwrap_or(db_url)
            );
            tracing::warn!(
                key_file = %path,
                "the ID image key sits beside the database; set CANOPY_ID_IMAGE_KEY_FILE to keep it apart"
            );
            std::path::PathBuf::from(path)
        }
    };
    // Creates the file with a fresh key the first time; retired keys still open older images.
    canopy_web::IdImageKeys::load_or_create_file(&path)?;
    let key = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the ID image key {}", path.display()))?;
    let keys = canopy_web::IdImageKeys::from_base64(key.trim(), &file.id_image_retired_keys)
        .with_context(|| format!("the ID image key in {}", path.display()))?;
    tracing::info!(path = %path.display(), "ID image key file");
    Ok(Some(keys))
}

/// An environment variable, else the config file's value; empty counts as unset.
fn env_or(var: &str, file: &Option<String>) -> Option<String> {
    std::env::var(var)
        .ok()
        .or_else(|| file.clone())
        .filter(|v| !v.trim().is_empty())
}

/// The SMS provider from `[sms]` and `CANOPY_SMS_*` / `CANOPY_TWILIO_*`.
fn sms_provider(file: &FileConfig) -> anyhow::Result<canopy_messaging::SmsProviderConfig> {
    use canopy_messaging::{SmsProviderConfig, TwilioConfig};
    let sms = &file.sms;
    let provider = env_or("CANOPY_SMS_PROVIDER", &sms.provider).unwrap_or_else(|| "log".into());
    match provider.as_str() {
        "log" => Ok(SmsProviderConfig::Log {
            path: env_or("CANOPY_SMS_LOG", &sms.log_path)
                .unwrap_or_else(|| config::DEFAULT_SMS_LOG.into())
                .into(),
        }),
        "twilio" => {
            let need = |var: &str, value: &Option<String>| {
                env_or(var, value).with_context(|| format!("the twilio SMS provider needs {var}"))
            };
            Ok(SmsProviderConfig::Twilio(TwilioConfig {
                account_sid: need("CANOPY_TWILIO_ACCOUNT_SID", &sms.twilio_account_sid)?,
                auth_token: need("CANOPY_TWILIO_AUTH_TOKEN", &sms.twilio_auth_token)?,
                from: need("CANOPY_TWILIO_FROM", &sms.twilio_from)?,
                base_url: env_or("CANOPY_TWILIO_BASE_URL", &sms.twilio_base_url)
                    .unwrap_or_else(|| canopy_messaging::sms::TWILIO_BASE_URL.into()),
            }))
        }
        other => anyhow::bail!("unknown SMS provider '{other}' (use log or twilio)"),
    }
}

async fn serve(args: ServeArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    init_tracing();
    let settings = Settings {
        id_image_keys: id_image_keys(file, &args.db.url(file))?.map(std::sync::Arc::new),
        ..settings(file)?
    };
    let store = args.db.open(file).await?;
    if args.demo && store.count_customers().await? == 0 {
        tracing::info!("empty database: adding demo data");
        let n = demo::seed_customers(&store, 2000).await?;
        demo_orders::seed_all(&store, n * 3).await?;
        demo::seed_loyalty(&store, 5_000).await?;
        demo::seed_compliance(&store, 2_000).await?;
    }
    if args.demo {
        demo::seed_retail(&store).await?;
        if demo::seed_staff(&store).await? {
            tracing::info!("no staff accounts: added the demo sign-ins");
        }
        println!("demo sign-ins (unless changed since they were created):");
        for (username, _, role, password) in demo::DEMO_STAFF {
            println!("  {:<10} {username} / {password}", role.as_str());
        }
    }
    let purger = store.clone();
    tokio::spawn(async move {
        // Idempotency keys are kept at least 24 hours; forget them after 48.
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let before = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
            if let Err(e) = purger.purge_idempotency_keys(before).await {
                tracing::warn!(error = %e, "purging old idempotency keys");
            }
        }
    });
    let listen = args
        .listen
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| config::DEFAULT_LISTEN.to_string());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let workers = if args.no_workers {
        None
    } else {
        let sms = sms_provider(file)?;
        tracing::info!(provider = ?sms, "starting SMS and webhook workers");
        Some(canopy_messaging::spawn(
            store.clone(),
            canopy_messaging::WorkerConfig {
                webhook_policy: settings.webhook_policy.clone(),
                ..canopy_messaging::WorkerConfig::new(sms)
            },
        )?)
    };
    tracing::info!(address = %listener.local_addr()?, engine = ?store.engine(), "canopy is serving");
    let state = AppState::new(store.clone(), settings);
    if let Some(address) = args.metrics_listen.or_else(|| file.metrics_listen.clone()) {
        let metrics = tokio::net::TcpListener::bind(&address)
            .await
            .with_context(|| format!("listening for metrics on {address}"))?;
        tracing::info!(address = %metrics.local_addr()?, "serving /metrics");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(err) = canopy_web::serve_metrics(metrics, state).await {
                tracing::error!(error = %err, "metrics listener stopped");
            }
        });
    }
    let expiry = tokio::spawn(loyalty_cmd::expire_hourly(store.clone()));
    let retention = tokio::spawn(privacy_cmd::purge_hourly(store.clone()));
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let stopping = std::sync::Arc::new(stopping);
    tokio::spawn({
        let stopping = stopping.clone();
        async move {
            shutdown_signal().await;
            let _ = stopping.send(true);
        }
    });
    let signalled = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let server = canopy_web::serve(listener, state, {
        let signal = signalled(stop.clone());
        async move {
            signal.await;
            tracing::info!("stopping: no new connections; finishing requests in flight");
        }
    });
    // On SIGTERM the workers finish the deliveries they have claimed while requests in flight finish.
    // Long-lived streams (the check-in queue) would keep the server open forever, so whatever is still
    // open after the grace period is cut.
    let grace = shutdown_grace()?;
    let cut_off = {
        let signal = signalled(stop.clone());
        async move {
            signal.await;
            tokio::time::sleep(grace).await;
        }
    };
    let workers_done = {
        let signal = signalled(stop);
        async move {
            signal.await;
            if let Some(workers) = workers {
                workers.shutdown().await;
            }
        }
    };
    let serving = async move {
        let served = tokio::select! {
            served = server => served,
            () = cut_off => {
                tracing::warn!(seconds = grace.as_secs(), "requests still open after the grace period: closing them");
                Ok(())
            }
        };
        // However serving ended, the workers stop too.
        let _ = stopping.send(true);
        served
    };
    let (served, ()) = tokio::join!(serving, workers_done);
    served?;
    expiry.abort();
    retention.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// How long a stopping server lets requests in flight finish: `CANOPY_SHUTDOWN_GRACE` seconds (10).
fn shutdown_grace() -> anyhow::Result<std::time::Duration> {
    let seconds = match std::env::var("CANOPY_SHUTDOWN_GRACE") {
        Ok(value) => value.trim().parse().with_context(|| {
            format!("CANOPY_SHUTDOWN_GRACE must be whole seconds, not '{value}'")
        })?,
        Err(_) => 10,
    };
    Ok(std::time::Duration::from_secs(seconds))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut sig) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            sig.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("CANOPY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("CANOPY_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_image_key_file_can_live_apart_from_the_database() {
        let data = tempfile::tempdir().unwrap();
        let secrets = tempfile::tempdir().unwrap();
        let db = data.path().join("canopy.db");
        let key_file = secrets.path().join("id-image.key");
        let file = FileConfig {
            id_image_key_file: Some(key_file.display().to_string()),
            ..FileConfig::default()
        };

        let keys = id_image_keys(&file, &db.display().to_string()).unwrap();

        assert!(keys.is_some());
        assert!(key_file.exists(), "the key is created where configured");
        assert!(
            std::fs::read_dir(data.path()).unwrap().next().is_none(),
            "nothing is written beside the database"
        );
    }

    #[test]
    fn the_webhook_allow_list_is_read_from_the_config_file() {
        let file = FileConfig {
            webhook_allow: Some("10.8.0.0/16".into()),
            ..FileConfig::default()
        };
        let policy = webhook_policy(&file).unwrap();
        assert!(policy.permits("10.8.1.2".parse().unwrap()));
        assert!(!policy.permits("10.9.1.2".parse().unwrap()));
        let bad = FileConfig {
            webhook_allow: Some("10.8.0.0/99".into()),
            ..FileConfig::default()
        };
        assert!(webhook_policy(&bad).is_err());
    }
}
