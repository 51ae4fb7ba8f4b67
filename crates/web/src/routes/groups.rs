//! Customer groups with automatic discounts, and memberships.
//!
//! At checkout the single best active discount of all the customer's groups applies (ties: the
//! group name that sorts first); see `canopy_orders::pricing`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use canopy_domain::{CustomerId, DiscountId, GroupId, Permission, text};
use canopy_orders::{Discount, DiscountKind, Group};
use canopy_store::GroupDraft;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::input::{DecimalInput, category, date, decimal, id, invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups", get(list).post(create))
        .route("/groups/{id}", get(read).patch(update).delete(remove))
        .route("/groups/{id}/members", post(add_member))
        .route("/groups/{id}/members/{customer_id}", delete(remove_member))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    name: Option<String>,
    description: Option<String>,
    /// Replaces the group's discounts when given.
    discounts: Option<Vec<DiscountInput>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountInput {
    /// Shown on the receipt; default "<group> <n>% off".
    label: Option<String>,
    /// `percent` or `amount`.
    #[serde(rename = "type")]
    kind: String,
    /// For `percent`: 10, "12.5" (at most two decimals).
    #[schema(value_type = Option<String>)]
    percent: Option<DecimalInput>,
    /// For `amount`: cents off.
    amount_cents: Option<i64>,
    /// Only these categories (default: every item).
    categories: Option<Vec<String>>,
    starts_on: Option<String>,
    ends_on: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    customer_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct GroupList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Group>,
    /// Every discount `type` a group may have, so an editor can refuse to rewrite a discount it
    /// does not know instead of dropping it.
    discount_types: [&'static str; 2],
    /// The category names a discount may be limited to.
    categories: Vec<&'static str>,
}

/// The `type` of each [`DiscountKind`], as `DiscountInput` reads it.
const DISCOUNT_TYPES: [&str; 2] = ["percent", "amount"];

fn discount(group: &str, i: usize, d: DiscountInput) -> ApiResult<Discount> {
    let field = |f: &str| format!("discounts[{i}].{f}");
    let kind = match d.kind.as_str() {
        "percent" => {
            let p = decimal(&field("percent"), d.percent.as_ref())?
                .ok_or_else(|| invalid(field("percent"), "required", "percent is required"))?;
            // `decimal` refused magnitudes that could overflow; checked all the same, since
            // `Decimal` multiplication panics on overflow.
            let bp = p.checked_mul(Decimal::from(100)).unwrap_or(Decimal::MAX);
            if !bp.fract().is_zero() || bp <= Decimal::ZERO || bp > Decimal::from(10_000) {
                return Err(invalid(
                    field("percent"),
                    "invalid_percent",
                    "percent must be more than 0 and at most 100, with at most two decimals",
                ));
            }
            DiscountKind::Percent {
                basis_points: rust_decimal::prelude::ToPrimitive::to_u32(&bp).unwrap_or(0),
            }
        }
        "amount" => {
            let cents = d.amount_cents.ok_or_else(|| {
                invalid(
                    field("amount_cents"),
                    "required",
                    "amount_cents is required",
                )
            })?;
            if cents <= 0 {
                return Err(invalid(
                    field("amount_cents"),
                    "invalid_amount",
                    "amount_cents must be positive",
                ));
            }
            canopy_domain::bounds::money(&field("amount_cents"), cents)?;
            DiscountKind::Amount { cents }
        }
        _ => {
            return Err(invalid(
                field("type"),
                "invalid_choice",
                "type must be percent or amount",
            ));
        }
    };
    if let Some(cats) = &d.categories {
        canopy_domain::bounds::list(
            &field("categories"),
            cats.len(),
            canopy_domain::bounds::MAX_LIST,
        )?;
    }
    let categories = d
        .categories
        .map(|cats| {
            cats.iter()
                .enumerate()
                .map(|(j, c)| category(&field(&format!("categories[{j}]")), c))
                .collect::<ApiResult<Vec<_>>>()
        })
        .transpose()?;
    let starts_on = date(&field("starts_on"), d.starts_on.as_deref())?;
    let ends_on = date(&field("ends_on"), d.ends_on.as_deref())?;
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        return Err(invalid(
            field("ends_on"),
            "invalid_date",
            "ends_on is before starts_on",
        ));
    }
    let label = match d.label {
        Some(l) => text::required(&field("label"), &l, 100)?,
        None => match kind {
            DiscountKind::Percent { basis_points } => format!(
                "{group} {}% off",
                Decimal::new(i64::from(basis_points), 2).normalize()
            ),
            DiscountKind::Amount { cents } => {
                format!("{group} {}.{:02} off", cents / 100, cents % 100)
            }
        },
    };
    Ok(Discount {
        id: DiscountId::new(),
        label,
        kind,
        categories,
        starts_on,
        ends_on,
    })
}

fn draft(input: GroupInput, base: Option<&Group>) -> ApiResult<GroupDraft> {
    let name = match (input.name, base) {
        (Some(n), _) => text::required("name", &n, 100)?,
        (None, Some(b)) => b.name.clone(),
        (None, None) => text::required("name", "", 100)?,
    };
    let description = match (input.description, base) {
        (Some(d), _) => text::optional("description", Some(&d), 1000)?,
        (None, Some(b)) => b.description.clone(),
        (None, None) => None,
    };
    if let Some(ds) = &input.discounts {
        canopy_domain::bounds::list("discounts", ds.len(), 20)?;
    }
    let discounts = match (input.discounts, base) {
        (Some(ds), _) => ds
            .into_iter()
            .enumerate()
            .map(|(i, d)| discount(&name, i, d))
            .collect::<ApiResult<Vec<_>>>()?,
        (None, Some(b)) => b.discounts.clone(),
        (None, None) => Vec::new(),
    };
    Ok(GroupDraft {
        name,
        description,
        discounts,
    })
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", responses((status = 200, body = GroupList)))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<GroupList>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(GroupList {
        items: state.store.list_groups().await?,
        discount_types: DISCOUNT_TYPES,
        categories: canopy_limits::Category::ALL
            .iter()
            .map(|c| c.name())
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupInput,
    responses((status = 201, body = Object), (status = 422, description = "A field is invalid or the name is taken")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<GroupInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    caller.require(Permission::CatalogWrite)?;
    let ApiJson(input) = body?;
    let draft = draft(input, None)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .create_group(draft, &caller.actor, state.now())
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = String, Path)), responses((status = 200, body = Object)))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Group>> {
    caller.require(Permission::CustomersRead)?;
    let id: GroupId = id(&raw, "group")?;
    Ok(Json(state.store.group(id).await?))
}

#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = String, Path)), request_body = GroupInput,
    responses((status = 200, body = Object)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<GroupInput>, ApiError>,
) -> ApiResult<Json<Group>> {
    caller.require(Permission::CatalogWrite)?;
    let ApiJson(input) = body?;
    let id: GroupId = id(&raw, "group")?;
    let existing = state.store.group(id).await?;
    let draft = draft(input, Some(&existing))?;
    Ok(Json(
        state
            .store
            .update_group(id, draft, &caller.actor, state.now())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = String, Path)), responses((status = 204)))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::CatalogWrite)?;
    let id: GroupId = id(&raw, "group")?;
    state
        .store
        .delete_group(id, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups", params(("id" = String, Path)), request_body = MemberInput,
    responses((status = 204), (status = 404, description = "No such group or customer")))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<MemberInput>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(input) = body?;
    let group: GroupId = id(&raw, "group")?;
    let customer: CustomerId = id(&input.customer_id, "customer")?;
    state
        .store
        .add_group_member(group, customer, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{customer_id}", tag = "groups",
    params(("id" = String, Path), ("customer_id" = String, Path)), responses((status = 204)))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, customer)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::CustomersWrite)?;
    let group: GroupId = id(&raw, "group")?;
    let customer: CustomerId = id(&customer, "customer")?;
    state
        .store
        .remove_group_member(group, customer, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discount_types_name_every_kind_the_model_has() {
        for kind in [
            DiscountKind::Percent { basis_points: 1 },
            DiscountKind::Amount { cents: 1 },
        ] {
            // Exhaustive on purpose: a new kind does not compile here until it is listed.
            match kind {
                DiscountKind::Percent { .. } | DiscountKind::Amount { .. } => {}
            }
            let json = serde_json::to_value(kind).expect("serialise");
            let tag = json["type"].as_str().expect("tagged");
            assert!(DISCOUNT_TYPES.contains(&tag), "{tag} is not listed");
        }
    }
}
