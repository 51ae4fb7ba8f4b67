//! Staff accounts: admins create them, change roles and stores, deactivate them and reset passwords.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use canopy_domain::staff::{parse_display_name, parse_store_ids};
use canopy_domain::{NewPassword, Permission, Role, UserId, Username};
use canopy_store::{NewStaffUser, StaffPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Caller, secrets};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::session::StaffUserView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", get(list).post(create))
        .route("/staff/{id}", get(read).patch(update))
        .route("/staff/{id}/password", put(reset_password))
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw.trim()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_role",
            "role must be budtender, manager or admin",
        )
        .with_field("role")
    })
}

fn parse_user_id(raw: &str) -> ApiResult<UserId> {
    raw.parse().map_err(|_| ApiError::not_found("staff user"))
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    items: Vec<StaffUserView>,
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", responses((status = 200, body = StaffList)))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StaffList>> {
    caller.require(Permission::StaffManage)?;
    let users = state.store.list_staff_users().await?;
    Ok(Json(StaffList {
        items: users.iter().map(StaffUserView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    username: String,
    /// Defaults to the username.
    display_name: Option<String>,
    /// budtender, manager or admin.
    role: String,
    /// At least 12 characters.
    password: String,
    #[serde(default)]
    stores: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaffRequest,
    responses((status = 201, body = StaffUserView), (status = 409, description = "Username taken"),
        (status = 422, description = "A field is invalid")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<NewStaffRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<StaffUserView>)> {
    caller.require(Permission::StaffManage)?;
    let ApiJson(input) = body?;
    let username = Username::parse(&input.username)?;
    let display_name =
        parse_display_name(input.display_name.as_deref().unwrap_or(username.as_str()))?;
    let role = parse_role(&input.role)?;
    ensure_within_own(&caller, role)?;
    let password = NewPassword::parse(&input.password)?;
    let stores = parse_store_ids(&input.stores)?;
    let password_hash = secrets::hash_password(password.expose())
        .await
        .map_err(ApiError::internal)?;
    let user = state
        .store
        .create_staff_user(
            NewStaffUser {
                username,
                display_name,
                role,
                password_hash,
                stores,
            },
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(StaffUserView::from(&user))))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = StaffUserView), (status = 404, description = "No such account")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<StaffUserView>> {
    caller.require(Permission::StaffManage)?;
    let user = state.store.staff_user(parse_user_id(&id)?).await?;
    Ok(Json(StaffUserView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatchRequest {
    display_name: Option<String>,
    role: Option<String>,
    /// `false` deactivates the account and signs it out everywhere.
    active: Option<bool>,
    stores: Option<Vec<String>>,
}

/// Refuses to create, change or reset the password of an account whose role can do something the caller
/// cannot, and to give any account such a role: `staff:manage` alone must not be a way to an admin
/// account (which could then issue itself an all-scopes key). The same rule as for API keys: what a
/// caller hands out is a subset of what it holds.
fn ensure_within_own(caller: &Caller, role: Role) -> ApiResult<()> {
    if caller.permissions().includes(role.permissions()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the {} role has permissions this caller does not hold",
                role.as_str()
            ),
        )
        .with_field("role"))
    }
}

#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = String, Path)),
    request_body = StaffPatchRequest,
    responses((status = 200, body = StaffUserView), (status = 409, description = "Would leave no active admin")))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<StaffPatchRequest>, ApiError>,
) -> ApiResult<Json<StaffUserView>> {
    caller.require(Permission::StaffManage)?;
    let ApiJson(input) = body?;
    let id = parse_user_id(&id)?;
    let patch = StaffPatch {
        display_name: input
            .display_name
            .as_deref()
            .map(parse_display_name)
            .transpose()?,
        role: input.role.as_deref().map(parse_role).transpose()?,
        active: input.active,
        stores: input.stores.as_deref().map(parse_store_ids).transpose()?,
    };
    let target = state.store.staff_user(id).await?;
    ensure_within_own(&caller, target.role)?;
    if let Some(role) = patch.role {
        ensure_within_own(&caller, role)?;
    }
    let user = state
        .store
        .update_staff_user(id, patch, &caller.actor, state.now())
        .await?;
    Ok(Json(StaffUserView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    password: String,
}

/// Sets a new password and signs the account out everywhere.
#[utoipa::path(put, path = "/api/v1/staff/{id}/password", tag = "staff", params(("id" = String, Path)),
    request_body = PasswordRequest, responses((status = 204, description = "Password changed"),
        (status = 422, description = "Password too short")))]
async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<PasswordRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::StaffManage)?;
    let ApiJson(input) = body?;
    let id = parse_user_id(&id)?;
    ensure_within_own(&caller, state.store.staff_user(id).await?.role)?;
    let password = NewPassword::parse(&input.password)?;
    let hash = secrets::hash_password(password.expose())
        .await
        .map_err(ApiError::internal)?;
    state
        .store
        .set_staff_password(id, &hash, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
