//! Small parsers shared by the order-side handlers: decimals, ids, categories, dates.

use std::str::FromStr;

use axum::http::StatusCode;
use canopy_domain::bounds;
use canopy_limits::Category;
use canopy_orders::{MeasureError, Measures};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};

/// A decimal sent as a JSON string (`"3.5"`) or number (`3.5`); numbers go through their
/// shortest text form so `0.1` stays exactly `0.1`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DecimalInput {
    Text(String),
    Number(serde_json::Number),
}

pub fn invalid(
    field: impl Into<String>,
    code: &'static str,
    message: impl Into<String>,
) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

pub fn decimal(field: &str, value: Option<&DecimalInput>) -> ApiResult<Option<Decimal>> {
    let Some(v) = value else { return Ok(None) };
    let text = match v {
        DecimalInput::Text(t) => t.trim().to_string(),
        DecimalInput::Number(n) => n.to_string(),
    };
    let value = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| {
            invalid(
                field,
                "invalid_number",
                format!("{field} must be a decimal number"),
            )
        })?;
    // Refused here, before any unit conversion multiplies it: `Decimal` panics on overflow.
    if value.abs() > Decimal::from(bounds::MAX_DECIMAL) {
        return Err(invalid(
            field,
            "out_of_range",
            format!("{field} must be at most {} either way", bounds::MAX_DECIMAL),
        ));
    }
    Ok(Some(value))
}

/// The per-unit measures of a product or line, in the limits engine's units.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MeasuresInput {
    #[schema(value_type = Option<String>)]
    pub net_weight_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    pub concentrate_g: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    pub thc_mg: Option<DecimalInput>,
    #[schema(value_type = Option<String>)]
    pub volume_ml: Option<DecimalInput>,
}

impl MeasuresInput {
    pub fn is_empty(&self) -> bool {
        self.net_weight_g.is_none()
            && self.concentrate_g.is_none()
            && self.thc_mg.is_none()
            && self.volume_ml.is_none()
    }

    /// `prefix` roots field names in errors (`lines[2].`).
    pub fn parse(&self, prefix: &str) -> ApiResult<Measures> {
        let f = |n: &str| format!("{prefix}{n}");
        Measures::from_decimals(
            decimal(&f("net_weight_g"), self.net_weight_g.as_ref())?,
            decimal(&f("concentrate_g"), self.concentrate_g.as_ref())?,
            decimal(&f("thc_mg"), self.thc_mg.as_ref())?,
            decimal(&f("volume_ml"), self.volume_ml.as_ref())?,
        )
        .map_err(|e: MeasureError| invalid(f(e.field), "invalid_measure", e.to_string()))
    }
}

pub fn category(field: &str, raw: &str) -> ApiResult<Category> {
    Category::ALL
        .into_iter()
        .find(|c| c.name() == raw.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
            invalid(
                field,
                "invalid_category",
                format!("{field} must be one of {}", names.join(", ")),
            )
        })
}

pub fn date(field: &str, raw: Option<&str>) -> ApiResult<Option<jiff::civil::Date>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => d.parse().map(Some).map_err(|_| {
            invalid(
                field,
                "invalid_date",
                format!("{field} must be a date as YYYY-MM-DD"),
            )
        }),
    }
}

pub fn timestamp(field: &str, raw: Option<&str>) -> ApiResult<Option<jiff::Timestamp>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| {
            ApiError::bad_request(
                "invalid_datetime",
                format!("{field} must be an RFC 3339 date-time"),
            )
            .with_field(field)
        }),
    }
}

/// Parses a typed id from a path; anything unparsable is simply not found.
pub fn id<T: FromStr>(raw: &str, what: &str) -> ApiResult<T> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}
