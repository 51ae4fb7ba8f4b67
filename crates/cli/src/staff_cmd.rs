//! `canopy user …` and `canopy apikey …`: bootstrapping the first admin and managing accounts and keys
//! from the server's shell. Changes are audited with the actor `cli:<OS user>`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};
use canopy_domain::staff::{parse_display_name, parse_key_name, parse_store_ids};
use canopy_domain::{Actor, ApiKeyId, NewPassword, PermissionSet, Role, StaffUser, Username};
use canopy_store::{NewApiKey, NewStaffUser, StaffPatch, Store};
use canopy_web::auth::secrets;
use clap::{Args, Subcommand};

use crate::DbArgs;
use crate::config::FileConfig;

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account (the password is prompted for, or read from the first line of stdin).
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// budtender, manager or admin.
        #[arg(long)]
        role: String,
        /// Shown in the UI and on notes [default: the username].
        #[arg(long)]
        display_name: Option<String>,
        /// A store this person works at (repeat for several).
        #[arg(long = "store")]
        stores: Vec<String>,
    },
    /// List staff accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Deactivate an account and end its sessions.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Reactivate a deactivated account.
    Enable {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Set a new password (prompted for, or read from stdin) and end the account's sessions.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
}

#[derive(Args)]
pub struct ApiKeyArgs {
    #[command(subcommand)]
    command: ApiKeyCommand,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it (once: only its hash is kept).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// What uses the key, e.g. "Online store".
        #[arg(long)]
        name: String,
        /// Comma-separated scopes (customers:read,orders:write) or `all`.
        #[arg(long)]
        scopes: String,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        id: String,
    },
}

fn cli_actor() -> Actor {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".into());
    Actor::system(&format!("cli:{who}"))
}

/// Reads a new password: prompted twice on a terminal, else the first line of stdin.
fn read_new_password() -> anyhow::Result<NewPassword> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    NewPassword::parse(&raw).map_err(|e| anyhow::anyhow!(e.message))
}

async fn find_user(store: &Store, username: &str) -> anyhow::Result<StaffUser> {
    let name = Username::parse(username).map_err(|e| anyhow::anyhow!(e.message))?;
    match store.staff_credentials(&name).await? {
        Some((user, _)) => Ok(user),
        None => bail!("no staff account named '{name}'"),
    }
}

fn print_user(u: &StaffUser) {
    println!(
        "{:<24} {:<10} {:<8} {:<24} {}",
        u.username,
        u.role.as_str(),
        if u.active { "active" } else { "disabled" },
        u.display_name,
        u.stores.join(",")
    );
}

pub async fn run_user(args: UserArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let now = jiff::Timestamp::now();
    match args.command {
        UserCommand::Add {
            db,
            username,
            role,
            display_name,
            stores,
        } => {
            let username = Username::parse(&username).map_err(|e| anyhow::anyhow!(e.message))?;
            let role =
                Role::parse(role.trim()).context("role must be budtender, manager or admin")?;
            let display_name =
                parse_display_name(display_name.as_deref().unwrap_or(username.as_str()))
                    .map_err(|e| anyhow::anyhow!(e.message))?;
            let stores = parse_store_ids(&stores).map_err(|e| anyhow::anyhow!(e.message))?;
            let password = read_new_password()?;
            let password_hash = secrets::hash_password(password.expose()).await?;
            let store = db.open(file).await?;
            let user = store
                .create_staff_user(
                    NewStaffUser {
                        username,
                        display_name,
                        role,
                        password_hash,
                        stores,
                    },
                    &cli_actor(),
                    now,
                )
                .await;
            store.close().await;
            let user = user?;
            println!("created {} ({})", user.username, user.role.as_str());
        }
        UserCommand::List { db } => {
            let store = db.open(file).await?;
            let users = store.list_staff_users().await;
            store.close().await;
            for u in users? {
                print_user(&u);
            }
        }
        UserCommand::Disable { db, username } => {
            set_active(&db, file, &username, false, now).await?;
        }
        UserCommand::Enable { db, username } => {
            set_active(&db, file, &username, true, now).await?;
        }
        UserCommand::ResetPassword { db, username } => {
            let store = db.open(file).await?;
            let user = find_user(&store, &username).await?;
            let password = read_new_password()?;
            let hash = secrets::hash_password(password.expose()).await?;
            let result = store
                .set_staff_password(user.id, &hash, &cli_actor(), now)
                .await;
            store.close().await;
            result?;
            println!(
                "password changed for {}; their sessions have ended",
                user.username
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_active(
    db: &DbArgs,
    file: &FileConfig,
    username: &str,
    active: bool,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let store = db.open(file).await?;
    let user = find_user(&store, username).await?;
    if !active && user.role == Role::Admin && user.active {
        let admins = store
            .list_staff_users()
            .await?
            .iter()
            .filter(|u| u.role == Role::Admin && u.active)
            .count();
        if admins <= 1 {
            bail!(
                "{} is the last active admin; create another admin first",
                user.username
            );
        }
    }
    let result = store
        .update_staff_user(
            user.id,
            StaffPatch {
                active: Some(active),
                ..StaffPatch::default()
            },
            &cli_actor(),
            now,
        )
        .await;
    store.close().await;
    result?;
    println!(
        "{} is now {}",
        user.username,
        if active { "active" } else { "disabled" }
    );
    Ok(())
}

pub async fn run_apikey(args: ApiKeyArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let now = jiff::Timestamp::now();
    match args.command {
        ApiKeyCommand::Create { db, name, scopes } => {
            let name = parse_key_name(&name).map_err(|e| anyhow::anyhow!(e.message))?;
            let scopes = PermissionSet::parse_scopes([scopes.as_str()])
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let secret = secrets::new_api_key();
            let store = db.open(file).await?;
            let key = store
                .create_api_key(
                    NewApiKey {
                        name,
                        prefix: secrets::api_key_prefix(&secret),
                        key_hash: secrets::digest(&secret),
                        scopes,
                        stores: None,
                    },
                    &cli_actor(),
                    now,
                )
                .await;
            store.close().await;
            let key = key?;
            eprintln!(
                "created API key '{}' ({}) with scopes: {}",
                key.name,
                key.id,
                key.scopes.names().join(", ")
            );
            eprintln!("this is the only time the key is shown; store it now:");
            println!("{secret}");
        }
        ApiKeyCommand::List { db } => {
            let store = db.open(file).await?;
            let keys = store.list_api_keys().await;
            store.close().await;
            for k in keys? {
                let state = match k.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_string(),
                };
                println!(
                    "{}  {:<12} {:<24} {:<20} {}",
                    k.id,
                    k.prefix,
                    k.name,
                    state,
                    k.scopes.names().join(",")
                );
            }
        }
        ApiKeyCommand::Revoke { db, id } => {
            let id: ApiKeyId = id.trim().parse().context("not an API key id")?;
            let store = db.open(file).await?;
            let key = store.revoke_api_key(id, &cli_actor(), now).await;
            store.close().await;
            let key = key?;
            println!("revoked API key '{}' ({})", key.name, key.prefix);
        }
    }
    Ok(ExitCode::SUCCESS)
}
