//! Staff accounts, browser sessions, integration API keys and failed sign-ins.
//!
//! Secrets never reach this module: callers pass an Argon2id PHC string for passwords and a SHA-256 hex digest
//! for session tokens and API keys, so a copy of the database does not let anyone sign in.

use canopy_domain::{
    Actor, ApiKey, ApiKeyId, PermissionSet, Role, SessionId, StaffUser, UserId, Username,
};
use jiff::Timestamp;
use serde_json::json;

use crate::backend::{Tx, on_read, on_tx};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

/// A staff account to create; `password_hash` is a PHC string, never the password.
#[derive(Debug, Clone)]
pub struct NewStaffUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub stores: Vec<String>,
}

/// The sign-in rate limit: at most this many failures since `since` per account and per address.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimit {
    pub since: Timestamp,
    pub per_account: i64,
    pub per_address: i64,
}

/// What [`Store::reserve_sign_in_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInAttempt {
    /// Counted as a failure until the password proves right; go on and check it.
    Reserved,
    /// Over the limit: refuse without checking the password.
    Throttled,
}

/// Changes to a staff account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct StaffPatch {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub stores: Option<Vec<String>>,
}

/// A session to open: the token's digest (never the token) and where the browser is.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub token_hash: String,
    pub csrf_token: String,
}

/// A stored session with its account, as read on every cookie-authenticated request.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user: StaffUser,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// An API key to create; `key_hash` is the digest of the secret the admin is shown once.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: PermissionSet,
    /// The store ids the key may act at; `None` for every store.
    pub stores: Option<Vec<String>>,
}

const USER_COLUMNS: &str = "id, username, display_name, role, active, created_at, updated_at";
const KEY_COLUMNS: &str =
    "id, name, prefix, scopes, stores, created_at, created_by, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

impl UserRow {
    fn into_user(self, stores: Vec<String>) -> Result<StaffUser> {
        Ok(StaffUser {
            id: self.id.parse().map_err(|_| corrupt("user id", &self.id))?,
            username: Username::parse(&self.username)
                .map_err(|_| corrupt("username", &self.username))?,
            display_name: self.display_name,
            role: Role::parse(&self.role).ok_or_else(|| corrupt("role", &self.role))?,
            active: self.active,
            stores,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    stores: Option<String>,
    created_at: i64,
    created_by: String,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(r: KeyRow) -> Result<ApiKey> {
        Ok(ApiKey {
            id: r.id.parse().map_err(|_| corrupt("api key id", &r.id))?,
            name: r.name,
            prefix: r.prefix,
            scopes: PermissionSet::parse_scopes([r.scopes.as_str()])
                .map_err(|_| corrupt("api key scopes", &r.scopes))?,
            stores: r
                .stores
                .map(|s| s.split_whitespace().map(str::to_string).collect()),
            created_at: from_micros(r.created_at),
            created_by: r.created_by,
            last_used_at: r.last_used_at.map(from_micros),
            revoked_at: r.revoked_at.map(from_micros),
        })
    }
}

fn user_audit_view(user: &StaffUser) -> serde_json::Value {
    json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "stores": user.stores,
    })
}

/// An account as this transaction sees it.
async fn staff_user_in(tx: &mut Tx, id: UserId) -> Result<StaffUser> {
    let sql = format!("SELECT {USER_COLUMNS} FROM staff_users WHERE id = $1");
    let row: Option<UserRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await)?;
    let row = row.ok_or(StoreError::NotFound {
        entity: "staff user",
    })?;
    let stores: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT store_id FROM staff_stores WHERE user_id = $1 ORDER BY store_id"
    )
    .bind(id.to_string())
    .fetch_all(&mut **c)
    .await)?;
    row.into_user(stores.into_iter().map(|(s,)| s).collect())
}

impl Store {
    /// Creates a staff account; a username already taken is [`StoreError::Duplicate`].
    pub async fn create_staff_user(
        &self,
        new: NewStaffUser,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<StaffUser> {
        let id = UserId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO staff_users (id, username, display_name, role, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(id.to_string())
            .bind(new.username.as_str())
            .bind(&new.display_name)
            .bind(new.role.as_str())
            .bind(&new.password_hash)
            .bind(true)
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|_| ())
        })
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Duplicate {
                    entity: "staff user",
                    field: "username",
                }
            } else {
                e.into()
            }
        })?;
        replace_stores(&mut tx, id, &new.stores).await?;
        let user = StaffUser {
            id,
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            active: true,
            stores: new.stores,
            created_at: now,
            updated_at: now,
        };
        audit::record(
            &mut tx,
            actor,
            now,
            "staff.create",
            "staff_user",
            Some(&id.to_string()),
            &user_audit_view(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn staff_user(&self, id: UserId) -> Result<StaffUser> {
        let sql = format!("SELECT {USER_COLUMNS} FROM staff_users WHERE id = $1");
        let row: Option<UserRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .fetch_optional(p)
                .await)?;
        let row = row.ok_or(StoreError::NotFound {
            entity: "staff user",
        })?;
        let stores = self.stores_of(id).await?;
        row.into_user(stores)
    }

    /// An account and its password hash, for checking a sign-in.
    pub async fn staff_credentials(
        &self,
        username: &Username,
    ) -> Result<Option<(StaffUser, String)>> {
        let row: Option<(String, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT id, password_hash FROM staff_users WHERE username = $1"
        )
        .bind(username.as_str())
        .fetch_optional(p)
        .await)?;
        let Some((id, hash)) = row else {
            return Ok(None);
        };
        let id: UserId = id.parse().map_err(|_| corrupt("user id", &id))?;
        Ok(Some((self.staff_user(id).await?, hash)))
    }

    /// Every staff account, by username.
    pub async fn list_staff_users(&self) -> Result<Vec<StaffUser>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM staff_users ORDER BY username");
        let rows: Vec<UserRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_all(p)
                .await)?;
        let links: Vec<(String, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT user_id, store_id FROM staff_stores ORDER BY user_id, store_id"
        )
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|row| {
                let stores = links
                    .iter()
                    .filter(|(u, _)| *u == row.id)
                    .map(|(_, s)| s.clone())
                    .collect();
                row.into_user(stores)
            })
            .collect()
    }

    pub async fn count_staff_users(&self) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM staff_users")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    async fn stores_of(&self, id: UserId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT store_id FROM staff_stores WHERE user_id = $1 ORDER BY store_id"
        )
        .bind(id.to_string())
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Changes role, name, stores or the active flag. Deactivating signs the person out everywhere.
    pub async fn update_staff_user(
        &self,
        id: UserId,
        patch: StaffPatch,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<StaffUser> {
        let mut tx = self.begin().await?;
        // The last-admin check and the change are one step: two admins demoting each other at once
        // are serialised here, so the second sees the first's change and is refused.
        tx.serialize("staff.admins").await?;
        let before = staff_user_in(&mut tx, id).await?;
        let after = StaffUser {
            display_name: patch
                .display_name
                .unwrap_or_else(|| before.display_name.clone()),
            role: patch.role.unwrap_or(before.role),
            active: patch.active.unwrap_or(before.active),
            stores: patch.stores.unwrap_or_else(|| before.stores.clone()),
            updated_at: now,
            ..before.clone()
        };
        let loses_admin = before.role == Role::Admin
            && before.active
            && (after.role != Role::Admin || !after.active);
        if loses_admin {
            let (admins,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT COUNT(*) FROM staff_users WHERE role = $1 AND active = $2"
            )
            .bind(Role::Admin.as_str())
            .bind(true)
            .fetch_one(&mut **c)
            .await)?;
            if admins <= 1 {
                return Err(StoreError::LastAdmin);
            }
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE staff_users SET display_name = $1, role = $2, active = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(&after.display_name)
            .bind(after.role.as_str())
            .bind(after.active)
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        replace_stores(&mut tx, id, &after.stores).await?;
        if !after.active || after.role != before.role {
            delete_sessions_of(&mut tx, id).await?;
        }
        let changes = audit::diff(&user_audit_view(&before), &user_audit_view(&after));
        audit::record(
            &mut tx,
            actor,
            now,
            "staff.update",
            "staff_user",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a new password hash and ends the account's sessions.
    pub async fn set_staff_password(
        &self,
        id: UserId,
        password_hash: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE staff_users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(to_micros(now))
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "staff user",
            });
        }
        delete_sessions_of(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "staff.password_reset",
            "staff_user",
            Some(&id.to_string()),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session for `user` after a successful sign-in, clearing its failed-attempt count and
    /// dropping sessions last seen before `stale_before`.
    pub async fn create_session(
        &self,
        user: &StaffUser,
        session: NewSession,
        stale_before: Timestamp,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
                .bind(to_micros(stale_before))
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, user_id, csrf_token, created_at, last_seen_at, address, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
            )
            .bind(session.id.to_string())
            .bind(&session.token_hash)
            .bind(user.id.to_string())
            .bind(&session.csrf_token)
            .bind(to_micros(now))
            .bind(actor.address.as_deref())
            .bind(actor.user_agent.as_deref())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
                .bind(user.username.as_str())
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "session.sign_in",
            "staff_user",
            Some(&user.id.to_string()),
            &json!({ "session_id": session.id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session whose token hashes to `token_hash`, with its account.
    pub async fn session_by_token_hash(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let row: Option<(String, String, String, i64, i64)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await
        })?;
        let Some((id, user_id, csrf_token, created_at, last_seen_at)) = row else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(|_| corrupt("user id", &user_id))?;
        Ok(Some(SessionRecord {
            id: id.parse().map_err(|_| corrupt("session id", &id))?,
            user: self.staff_user(user_id).await?,
            csrf_token,
            created_at: from_micros(created_at),
            last_seen_at: from_micros(last_seen_at),
        }))
    }

    /// Marks a session as used now (extends its idle timeout).
    pub async fn touch_session(&self, id: SessionId, now: Timestamp) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(to_micros(now))
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        tx.commit().await
    }

    /// Ends a session: `action` is `session.sign_out` or `session.expire`.
    pub async fn end_session(
        &self,
        id: SessionId,
        user: UserId,
        action: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            action,
            "staff_user",
            Some(&user.to_string()),
            &json!({ "session_id": id }),
        )
        .await?;
        tx.commit().await
    }

    /// Takes one sign-in attempt out of the allowance before the password is checked: counts the failures
    /// since `limit.since` for this username and address and, under both limits, records the attempt as
    /// a failure at once (a successful sign-in clears it). The count and the insert are one serialised
    /// transaction, so attempts racing each other cannot all see the same count; however many arrive
    /// together, at most the limit get to check a password.
    ///
    /// Over a limit, the refusal is counted in `sign_in_throttles` and only the first refusal of a window
    /// writes an audit row, so refused attempts cannot grow the audit log.
    pub async fn reserve_sign_in_attempt(
        &self,
        username: &str,
        limit: &SignInLimit,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<SignInAttempt> {
        let mut tx = self.begin().await?;
        tx.serialize("sign_in").await?;
        let day_ago = to_micros(now) - 86_400_000_000;
        for sql in [
            "DELETE FROM sign_in_failures WHERE at < $1",
            "DELETE FROM sign_in_throttles WHERE last_at < $1",
        ] {
            on_tx!(&mut tx, |c| sqlx::query(sql)
                .bind(day_ago)
                .execute(&mut **c)
                .await
                .map(|_| ()))?;
        }
        let address = actor.address.as_deref();
        let since = to_micros(limit.since);
        let (by_user, by_address): (i64, i64) = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE username = $1 AND at >= $3), \
                    (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at >= $3)"
        )
        .bind(username)
        .bind(address)
        .bind(since)
        .fetch_one(&mut **c)
        .await)?;
        let throttled_key = if by_user >= limit.per_account {
            Some(format!("account:{username}"))
        } else if by_address >= limit.per_address {
            address.map(|a| format!("address:{a}"))
        } else {
            None
        };
        let Some(key) = throttled_key else {
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO sign_in_failures (username, address, at) VALUES ($1, $2, $3)",
            )
            .bind(username)
            .bind(address)
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|_| ()))?;
            tx.commit().await?;
            return Ok(SignInAttempt::Reserved);
        };
        let existing: Option<(i64, i64)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT count, first_at FROM sign_in_throttles WHERE key = $1"
        )
        .bind(&key)
        .fetch_optional(&mut **c)
        .await)?;
        match existing {
            Some((_, first_at)) if first_at >= since => {
                on_tx!(&mut tx, |c| sqlx::query(
                    "UPDATE sign_in_throttles SET count = count + 1, last_at = $2 WHERE key = $1"
                )
                .bind(&key)
                .bind(to_micros(now))
                .execute(&mut **c)
                .await
                .map(|_| ()))?;
            }
            previous => {
                on_tx!(&mut tx, |c| sqlx::query(
                    "DELETE FROM sign_in_throttles WHERE key = $1"
                )
                .bind(&key)
                .execute(&mut **c)
                .await
                .map(|_| ()))?;
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "INSERT INTO sign_in_throttles (key, count, first_at, last_at) VALUES ($1, 1, $2, $2)"
                )
                .bind(&key)
                .bind(to_micros(now))
                .execute(&mut **c)
                .await
                .map(|_| ())
                })?;
                audit::record(
                    &mut tx,
                    actor,
                    now,
                    "session.sign_in_throttled",
                    "staff_user",
                    None,
                    &json!({
                        "throttled": key,
                        "refused_in_previous_window": previous.map(|(n, _)| n),
                    }),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(SignInAttempt::Throttled)
    }

    /// How many sign-ins were refused by the rate limit for `key` (`account:<username>` or
    /// `address:<ip>`) in its current window.
    pub async fn sign_in_throttle_count(&self, key: &str) -> Result<i64> {
        let row: Option<(i64,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT count FROM sign_in_throttles WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await)?;
        Ok(row.map_or(0, |(n,)| n))
    }

    /// Audits a failed sign-in and, when `counted`, records it for rate limiting (an attempt already
    /// reserved by [`Store::reserve_sign_in_attempt`] is not counted twice). `user` is the account when
    /// the username exists. Failures older than a day are pruned here.
    pub async fn record_sign_in_failure(
        &self,
        username: &str,
        user: Option<UserId>,
        reason: &str,
        counted: bool,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let day_ago = to_micros(now) - 86_400_000_000;
        on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                .bind(day_ago)
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        if counted {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO sign_in_failures (username, address, at) VALUES ($1, $2, $3)",
                )
                .bind(username)
                .bind(actor.address.as_deref())
                .bind(to_micros(now))
                .execute(&mut **c)
                .await
                .map(|_| ())
            })?;
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "session.sign_in_failed",
            "staff_user",
            user.map(|u| u.to_string()).as_deref(),
            &json!({ "username": username, "reason": reason }),
        )
        .await?;
        tx.commit().await
    }

    /// Failed sign-ins since `since`: (for this username, from this address).
    pub async fn sign_in_failures_since(
        &self,
        username: &str,
        address: Option<&str>,
        since: Timestamp,
    ) -> Result<(i64, i64)> {
        let (by_user, by_address): (i64, i64) = on_read!(self, |p| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE username = $1 AND at >= $3), \
                    (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at >= $3)"
        )
        .bind(username)
        .bind(address)
        .bind(to_micros(since))
        .fetch_one(p)
        .await)?;
        Ok((by_user, by_address))
    }

    pub async fn create_api_key(
        &self,
        new: NewApiKey,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ApiKey> {
        let key = ApiKey {
            id: ApiKeyId::new(),
            name: new.name,
            prefix: new.prefix,
            scopes: new.scopes,
            stores: new.stores,
            created_at: now,
            created_by: actor.label.clone(),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_at, created_by, stores) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(key.id.to_string())
            .bind(&key.name)
            .bind(&key.prefix)
            .bind(&new.key_hash)
            .bind(key.scopes.names().join(" "))
            .bind(to_micros(now))
            .bind(&key.created_by)
            .bind(key.stores.as_ref().map(|s| s.join(" ")))
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "api_key.create",
            "api_key",
            Some(&key.id.to_string()),
            &json!({ "name": key.name, "prefix": key.prefix, "scopes": key.scopes, "stores": key.stores }),
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// The key whose secret hashes to `key_hash`, revoked or not.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
        let row: Option<KeyRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(key_hash)
                .fetch_optional(p)
                .await)?;
        row.map(ApiKey::try_from).transpose()
    }

    /// Every key, newest first, revoked ones included (an auditor wants to see them).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC");
        let rows: Vec<KeyRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(ApiKey::try_from).collect()
    }

    /// Revokes a key at once; revoking a revoked key changes nothing.
    pub async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ApiKey> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row: Option<KeyRow> =
            on_read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .fetch_optional(p)
                .await)?;
        let key = ApiKey::try_from(row.ok_or(StoreError::NotFound { entity: "API key" })?)?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(to_micros(now))
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        audit::record(
            &mut tx,
            actor,
            now,
            "api_key.revoke",
            "api_key",
            Some(&id.to_string()),
            &json!({ "name": key.name, "prefix": key.prefix }),
        )
        .await?;
        tx.commit().await?;
        Ok(ApiKey {
            revoked_at: Some(now),
            ..key
        })
    }

    /// Notes when a key was last used (callers throttle this to once a minute per key).
    pub async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(to_micros(now))
                .bind(id.to_string())
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        tx.commit().await
    }
}

async fn replace_stores(tx: &mut crate::backend::Tx, id: UserId, stores: &[String]) -> Result<()> {
    on_tx!(&mut *tx, |c| {
        sqlx::query("DELETE FROM staff_stores WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
    })?;
    for store in stores {
        on_tx!(&mut *tx, |c| {
            sqlx::query("INSERT INTO staff_stores (user_id, store_id) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(store)
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
    }
    Ok(())
}

async fn delete_sessions_of(tx: &mut crate::backend::Tx, id: UserId) -> Result<()> {
    on_tx!(&mut *tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
    })?;
    Ok(())
}
