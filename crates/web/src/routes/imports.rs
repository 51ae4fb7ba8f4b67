//! Bulk customer import (CSV upload) and export. Both move every customer's personal data at once, so they
//! need `settings:write`, or `customers:write` together with a manager's `customers:ban`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::Permission;
use canopy_transfer::{ImportError, ImportOptions, ImportReport};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

/// Largest CSV upload: about 300,000 typical customer rows.
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/imports/customers",
            post(import_customers).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/exports/customers", get(export_customers))
        .route("/exports/orders", get(export_orders))
}

fn require_bulk(caller: &Caller) -> ApiResult<()> {
    if caller.can(Permission::SettingsWrite)
        || (caller.can(Permission::CustomersWrite) && caller.can(Permission::CustomersBan))
    {
        Ok(())
    } else {
        Err(ApiError::forbidden("settings:write"))
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ImportParams {
    /// Report what would happen without writing.
    #[serde(default)]
    dry_run: bool,
    /// Column mapping overrides, `Column=field` separated by commas (e.g. `Cell=phone,Member Since=ignore`).
    map: Option<String>,
    /// Disclosure version recorded with marketing opt-ins carried over from the old system.
    consent_disclosure: Option<String>,
    /// `true` once staff checked the rows reported as `likely_duplicate`: they are created anyway and
    /// each pair is recorded as "not the same person".
    #[serde(default)]
    different_people: bool,
}

/// Imports customers from another POS's CSV (the request body, first row = column names). Every row is
/// validated before anything is written; with any bad row nothing is written and the answer is 422 with
/// the report. Rows matching an existing customer (phone, email, ID number) update it; unchanged rows are
/// skipped, so uploading the same file twice changes nothing. Loyalty points become one opening balance per
/// customer ("Opening balance imported from an API upload", never a second); groups are matched by name,
/// whatever the case, and created when missing. See docs/import.md.
#[utoipa::path(post, path = "/api/v1/imports/customers", tag = "imports", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "The report (a dry run, or written)", body = Object),
        (status = 422, description = "Some rows are invalid or the columns cannot be mapped; nothing written")))]
async fn import_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    require_bulk(&caller)?;
    let mut options = ImportOptions::new(state.settings.phone_region, state.today());
    options.dry_run = params.dry_run;
    options.different_people = params.different_people;
    options.map = params
        .map
        .as_deref()
        .map(|m| {
            m.split(',')
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    options.source = "an API upload".into();
    if let Some(version) = params.consent_disclosure.filter(|v| !v.trim().is_empty()) {
        options.consent_disclosure = version;
    }
    let report = canopy_transfer::import_customers(
        &state.store,
        body.as_ref(),
        &options,
        &caller.actor,
        state.now(),
    )
    .await
    .map_err(|e| match e {
        ImportError::Store(e) => ApiError::from(e),
        ImportError::Mapping(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_mapping",
            e.to_string(),
        )
        .with_field("map"),
        other => ApiError::bad_request("invalid_csv", other.to_string()),
    })?;
    if !report.dry_run && report.summary.errors > 0 {
        let value = serde_json::to_value(&report).map_err(ApiError::internal)?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!(
                "{} rows have errors; nothing was imported",
                report.summary.errors
            ),
        )
        .with("report", value));
    }
    Ok(Json(report))
}

/// Every customer as CSV, spreadsheet-safe (cells that would run as formulas start with `'`), in the
/// columns the import reads back.
#[utoipa::path(get, path = "/api/v1/exports/customers", tag = "imports", params(super::customers::FilterParams),
    responses((status = 200, description = "CSV", content_type = "text/csv")))]
async fn export_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<super::customers::FilterParams>,
) -> ApiResult<Response> {
    require_bulk(&caller)?;
    let filter = params.parse(&state, &caller)?;
    let mut out = Vec::new();
    canopy_transfer::export_customers_filtered(&state.store, &filter, &mut out)
        .await
        .map_err(|e| match e {
            canopy_transfer::ExportError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    Ok(csv_attachment("customers.csv", out))
}

fn csv_attachment(name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// Every order as CSV, one row per line with the order's figures repeated (money in cents).
#[utoipa::path(get, path = "/api/v1/exports/orders", tag = "imports",
    responses((status = 200, description = "CSV", content_type = "text/csv")))]
async fn export_orders(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    require_bulk(&caller)?;
    caller.require(Permission::PurchaseHistoryFull)?;
    let mut out = Vec::new();
    canopy_transfer::export_orders(&state.store, &mut out)
        .await
        .map_err(|e| match e {
            canopy_transfer::ExportError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    Ok(csv_attachment("orders.csv", out))
}
