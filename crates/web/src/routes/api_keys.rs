//! API keys for integrations: created by an admin, shown once, stored hashed, revocable.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use canopy_domain::staff::parse_key_name;
use canopy_domain::{ApiKey, ApiKeyId, Permission, PermissionSet, StoreId};
use canopy_store::NewApiKey;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Caller, secrets};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", delete(revoke))
}

/// A key as listed: never the secret.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    id: String,
    name: String,
    /// The key's first characters, to tell keys apart.
    prefix: String,
    scopes: Vec<&'static str>,
    /// The store ids the key may act at; absent for every store.
    stores: Option<Vec<String>>,
    #[schema(value_type = String)]
    created_at: Timestamp,
    created_by: String,
    #[schema(value_type = Option<String>)]
    last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    revoked_at: Option<Timestamp>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        ApiKeyView {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.names(),
            stores: k.stores.clone(),
            created_at: k.created_at,
            created_by: k.created_by.clone(),
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    items: Vec<ApiKeyView>,
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", responses((status = 200, body = ApiKeyList)))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ApiKeyList>> {
    caller.require(Permission::ApiKeysManage)?;
    let keys = state.store.list_api_keys().await?;
    Ok(Json(ApiKeyList {
        items: keys.iter().map(ApiKeyView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyRequest {
    name: String,
    /// Scope names (`customers:read`, …) or `["all"]`. Dedicated scopes (`limits:state_sync`) are
    /// never part of `all` and must be named.
    scopes: Vec<String>,
    /// Store ids the key may act at (check-in, checkout, returns, …); absent for every store.
    stores: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    key: ApiKeyView,
    /// The key itself: shown this once, never again. Send it as `Authorization: Bearer <key>`.
    secret: String,
}

/// Issues a key with the given scopes. A caller can only grant scopes it holds itself.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 422, description = "Unknown scope or empty name")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<NewApiKeyRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    caller.require(Permission::ApiKeysManage)?;
    let ApiJson(input) = body?;
    let name = parse_key_name(&input.name)?;
    let scopes = PermissionSet::parse_scopes(input.scopes.iter().map(String::as_str))?;
    // Dedicated scopes belong to no role; whoever may manage keys may issue them.
    let ordinary: PermissionSet = scopes.iter().filter(|p| !p.is_dedicated()).collect();
    if !caller.permissions().includes(ordinary) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a key cannot be given scopes its creator does not hold",
        )
        .with_field("scopes"));
    }
    let stores = match input.stores {
        None => None,
        Some(ids) => {
            let mut parsed = Vec::new();
            for (i, raw) in ids.iter().enumerate() {
                let id: StoreId = raw.trim().parse().map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_id",
                        "not a store id",
                    )
                    .with_field(format!("stores[{i}]"))
                })?;
                state.store.retail_store(id).await?;
                parsed.push(id.to_string());
            }
            Some(parsed)
        }
    };
    let secret = secrets::new_api_key();
    let key = state
        .store
        .create_api_key(
            NewApiKey {
                name,
                prefix: secrets::api_key_prefix(&secret),
                key_hash: secrets::digest(&secret),
                scopes,
                stores,
            },
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: ApiKeyView::from(&key),
            secret,
        }),
    ))
}

/// Revokes a key: it stops working at once. Revoking twice is harmless.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 404, description = "No such key")))]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ApiKeyView>> {
    caller.require(Permission::ApiKeysManage)?;
    let id: ApiKeyId = id.parse().map_err(|_| ApiError::not_found("API key"))?;
    let key = state
        .store
        .revoke_api_key(id, &caller.actor, state.now())
        .await?;
    Ok(Json(ApiKeyView::from(&key)))
}
