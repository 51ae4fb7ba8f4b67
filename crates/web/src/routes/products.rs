//! The product catalogue (also importable from CSV with `canopy products import`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use canopy_domain::{Permission, ProductId};
use canopy_orders::{Product, ProductDraft};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::input::{DecimalInput, MeasuresInput, id};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list).post(create))
        .route("/products/{id}", get(read).patch(update).delete(archive))
}

/// Product fields. Measures are per unit, in the limits engine's units (grams, mg THC, mL).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    sku: Option<String>,
    name: Option<String>,
    /// A limits category: flower, pre_roll, concentrate, vape, edible, beverage …
    category: Option<String>,
    price_cents: Option<i64>,
    #[schema(value_type = Option<String>)]
    net_weight_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    concentrate_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    thc_mg: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    volume_ml: Option<DecimalInput>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Product>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Include archived products.
    archived: Option<bool>,
}

fn draft(input: ProductInput, base: Option<&ProductDraft>) -> ApiResult<ProductDraft> {
    let given = MeasuresInput {
        net_weight_g: input.net_weight_g,
        concentrate_g: input.concentrate_g,
        thc_mg: input.thc_mg,
        volume_ml: input.volume_ml,
    };
    let measures = match (given.is_empty(), base) {
        (true, Some(b)) => b.measures,
        _ => given.parse("")?,
    };
    let pick = |v: Option<String>, b: Option<String>| v.or(b).unwrap_or_default();
    Ok(ProductDraft::parse(
        &pick(input.sku, base.map(|b| b.sku.clone())),
        &pick(input.name, base.map(|b| b.name.clone())),
        &pick(input.category, base.map(|b| b.category.name().to_string())),
        measures,
        input
            .price_cents
            .or(base.map(|b| b.price_cents))
            .ok_or_else(|| {
                crate::input::invalid("price_cents", "required", "price_cents is required")
            })?,
    )?)
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListParams), responses((status = 200, body = ProductList)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<ProductList>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(ProductList {
        items: state
            .store
            .list_products(params.archived.unwrap_or(false))
            .await?,
    }))
}

/// Creates a product, or updates the one with the same SKU (200 then).
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = ProductInput,
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 422, description = "A field is invalid")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<ProductInput>, ApiError>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    caller.require(Permission::CatalogWrite)?;
    let ApiJson(input) = body?;
    let draft = draft(input, None)?;
    let (product, created) = state
        .store
        .save_product(draft, &caller.actor, state.now())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(product)))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "No such product")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Product>> {
    caller.require(Permission::CustomersRead)?;
    let id: ProductId = id(&raw, "product")?;
    Ok(Json(state.store.product(id).await?))
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path)), request_body = ProductInput,
    responses((status = 200, body = Object), (status = 422, description = "A field is invalid")))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    body: Result<ApiJson<ProductInput>, ApiError>,
) -> ApiResult<Json<Product>> {
    caller.require(Permission::CatalogWrite)?;
    let ApiJson(input) = body?;
    let id: ProductId = id(&raw, "product")?;
    let existing = state.store.product(id).await?;
    let draft = draft(input, Some(&existing.draft))?;
    Ok(Json(
        state
            .store
            .update_product(id, draft, &caller.actor, state.now())
            .await?,
    ))
}

/// Archives a product: it stays on past orders but can no longer be sold by SKU.
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path)),
    responses((status = 200, body = Object)))]
async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Product>> {
    caller.require(Permission::CatalogWrite)?;
    let id: ProductId = id(&raw, "product")?;
    Ok(Json(
        state
            .store
            .archive_product(id, &caller.actor, state.now())
            .await?,
    ))
}
