//! Duplicate profiles: candidates for one customer, the review list, merges and their undo.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{Customer, CustomerId, MergeId, Permission};
use canopy_matching::Level;
use canopy_matching::fields::{Field, Source};
use canopy_store::{DuplicateCandidate, Merge, ReviewPair};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/duplicates", get(duplicates))
        .route("/customers/{id}/merges", get(customer_merges))
        .route("/merges", post(create))
        .route("/merges/preview", post(preview))
        .route("/merges/{id}", get(read))
        .route("/merges/{id}/undo", post(undo))
        .route("/duplicates", get(review))
        .route("/duplicates/dismissals", post(dismiss))
}

/// A profile as a duplicate list shows it: enough to tell two people apart.
#[derive(Serialize, ToSchema)]
pub struct ProfileSummary {
    #[schema(value_type = String)]
    id: CustomerId,
    display_name: String,
    first_name: String,
    last_name: String,
    date_of_birth: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    id_number: Option<String>,
    created_channel: String,
    created_at: String,
}

impl From<&Customer> for ProfileSummary {
    fn from(c: &Customer) -> Self {
        let d = &c.details;
        ProfileSummary {
            id: c.id,
            display_name: d.name.greeting(),
            first_name: d.name.first.clone(),
            last_name: d.name.last.clone(),
            date_of_birth: d.date_of_birth.map(|x| x.to_string()),
            phone: d.phone.as_ref().map(|p| p.as_str().to_string()),
            email: d.email.as_ref().map(|e| e.as_str().to_string()),
            id_number: d.id_document.as_ref().map(|x| x.number.clone()),
            created_channel: d.created_channel.as_str().to_string(),
            created_at: c.created_at.to_string(),
        }
    }
}

/// A possible duplicate: the other profile, the score (0–100), its level and a reason per signal.
#[derive(Serialize, ToSchema)]
pub struct CandidateView {
    customer: ProfileSummary,
    score: i32,
    /// `likely` (shown at intake) or `possible` (review).
    level: String,
    /// The same ID document: decisive on its own.
    decisive: bool,
    /// "same date of birth, names one letter apart, different phones".
    explanation: String,
    #[schema(value_type = Vec<Object>)]
    signals: Vec<canopy_matching::Signal>,
}

impl From<&DuplicateCandidate> for CandidateView {
    fn from(d: &DuplicateCandidate) -> Self {
        CandidateView {
            customer: ProfileSummary::from(&d.customer),
            score: d.score.score,
            level: d.score.level.as_str().to_string(),
            decisive: d.score.decisive,
            explanation: d.score.explanation.clone(),
            signals: d.score.signals.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CandidateList {
    items: Vec<CandidateView>,
}

fn parse_customer(raw: &str, field: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
            format!("{field} is not a customer id"),
        )
        .with_field(field)
    })
}

/// Profiles that may be the same person, best first (possible and likely duplicates).
#[utoipa::path(get, path = "/api/v1/customers/{id}/duplicates", tag = "duplicates", params(("id" = String, Path)),
    responses((status = 200, body = CandidateList), (status = 404, description = "No such customer")))]
async fn duplicates(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CandidateList>> {
    caller.require(Permission::CustomersRead)?;
    let id: CustomerId = id.parse().map_err(|_| ApiError::not_found("customer"))?;
    let customer = state.store.customer(id).await?;
    let found = state
        .store
        .duplicate_candidates(&customer.details, Some(id), Level::Possible, 20)
        .await?;
    Ok(Json(CandidateList {
        items: found.iter().map(CandidateView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The profile that stays.
    survivor_id: String,
    /// The profile merged into it (stays readable, with `merged_into`).
    merged_id: String,
    /// Whose value each field keeps: `survivor` or `merged` (`addresses` also `both`, the default).
    /// Fields left out take the value of the profile verified most recently.
    #[serde(default)]
    #[schema(value_type = Object)]
    fields: BTreeMap<Field, Source>,
}

/// A merge: both profiles before, the survivor after, and everything that moved.
#[derive(Serialize, ToSchema)]
pub struct MergeView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    merge: Merge,
    /// The merge can still be undone (not undone yet).
    undoable: bool,
}

impl From<Merge> for MergeView {
    fn from(merge: Merge) -> Self {
        MergeView {
            undoable: merge.undone_at.is_none(),
            merge,
        }
    }
}

fn parse_request(input: &MergeRequest) -> ApiResult<(CustomerId, CustomerId)> {
    Ok((
        parse_customer(&input.survivor_id, "survivor_id")?,
        parse_customer(&input.merged_id, "merged_id")?,
    ))
}

/// Merges one profile into another (a manager's decision; never automatic).
#[utoipa::path(post, path = "/api/v1/merges", tag = "duplicates", request_body = MergeRequest,
    responses((status = 201, body = MergeView), (status = 403, description = "Needs customers:merge"),
        (status = 409, description = "Already merged, or a chosen value belongs to a third profile"),
        (status = 422, description = "Bad ids or field choices")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<MergeRequest>,
) -> ApiResult<(StatusCode, Json<MergeView>)> {
    caller.require(Permission::CustomersMerge)?;
    let (survivor, merged) = parse_request(&input)?;
    let merge = state
        .store
        .merge_customers(survivor, merged, &input.fields, &caller.actor, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(merge.into())))
}

/// What a merge would do (the survivor's values and what would move), without doing it.
#[utoipa::path(post, path = "/api/v1/merges/preview", tag = "duplicates", request_body = MergeRequest,
    responses((status = 200, body = MergeView), (status = 403, description = "Needs customers:merge")))]
async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<MergeRequest>,
) -> ApiResult<Json<MergeView>> {
    caller.require(Permission::CustomersMerge)?;
    let (survivor, merged) = parse_request(&input)?;
    let merge = state
        .store
        .preview_merge(survivor, merged, &input.fields, &caller.actor, state.now())
        .await?;
    Ok(Json(merge.into()))
}

fn parse_merge(raw: &str) -> ApiResult<MergeId> {
    raw.parse().map_err(|_| ApiError::not_found("merge"))
}

#[utoipa::path(get, path = "/api/v1/merges/{id}", tag = "duplicates", params(("id" = String, Path)),
    responses((status = 200, body = MergeView), (status = 404, description = "No such merge")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MergeView>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(state.store.merge(parse_merge(&id)?).await?.into()))
}

/// Undoes a merge: moves back exactly what it moved; refuses (409 with a reason) when that is unsafe.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "duplicates", params(("id" = String, Path)),
    responses((status = 200, body = MergeView), (status = 403, description = "Needs customers:merge"),
        (status = 409, description = "Cannot be undone safely; `code` and `message` say why")))]
async fn undo(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MergeView>> {
    caller.require(Permission::CustomersMerge)?;
    let merge = state
        .store
        .undo_merge(parse_merge(&id)?, &caller.actor, state.now())
        .await?;
    Ok(Json(merge.into()))
}

#[derive(Serialize, ToSchema)]
pub struct MergeList {
    items: Vec<MergeView>,
}

/// Merges the customer took part in, newest first (the profile's history, where undo starts).
#[utoipa::path(get, path = "/api/v1/customers/{id}/merges", tag = "duplicates", params(("id" = String, Path)),
    responses((status = 200, body = MergeList)))]
async fn customer_merges(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MergeList>> {
    caller.require(Permission::CustomersRead)?;
    let id: CustomerId = id.parse().map_err(|_| ApiError::not_found("customer"))?;
    state.store.customer(id).await?;
    let items = state
        .store
        .merges_of_customer(id)
        .await?
        .into_iter()
        .map(MergeView::from)
        .collect();
    Ok(Json(MergeList { items }))
}

#[derive(Deserialize, IntoParams)]
pub struct ReviewParams {
    /// At most this many pairs (1–200, default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewPairView {
    a: ProfileSummary,
    b: ProfileSummary,
    score: i32,
    level: String,
    explanation: String,
    #[schema(value_type = Vec<Object>)]
    signals: serde_json::Value,
    found_at: String,
}

impl From<&ReviewPair> for ReviewPairView {
    fn from(p: &ReviewPair) -> Self {
        let explanation = p
            .signals
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.get("reason").and_then(|r| r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        ReviewPairView {
            a: ProfileSummary::from(&p.a),
            b: ProfileSummary::from(&p.b),
            score: p.score,
            level: p.level.clone(),
            explanation,
            signals: p.signals.clone(),
            found_at: p.found_at.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewList {
    items: Vec<ReviewPairView>,
    next_cursor: Option<String>,
}

/// The review list: pairs the duplicates scan found, best first, without dismissed or merged ones.
#[utoipa::path(get, path = "/api/v1/duplicates", tag = "duplicates", params(ReviewParams),
    responses((status = 200, body = ReviewList), (status = 403, description = "Needs customers:merge")))]
async fn review(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ReviewParams>,
) -> ApiResult<Json<ReviewList>> {
    caller.require(Permission::CustomersMerge)?;
    let limit = match params.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n,
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_limit", "limit must be between 1 and 200")
                    .with_field("limit"),
            );
        }
    };
    let page = state
        .store
        .duplicate_review(params.cursor.as_deref(), limit)
        .await?;
    Ok(Json(ReviewList {
        items: page.items.iter().map(ReviewPairView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissRequest {
    /// The two profiles that are different people.
    customer_ids: Vec<String>,
}

/// Records that two profiles are not the same person; neither the review list nor intake asks again.
#[utoipa::path(post, path = "/api/v1/duplicates/dismissals", tag = "duplicates", request_body = DismissRequest,
    responses((status = 204, description = "Remembered"), (status = 403, description = "Needs customers:merge")))]
async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<DismissRequest>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::CustomersMerge)?;
    let [a, b] = input.customer_ids.as_slice() else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            "give exactly two customer ids",
        )
        .with_field("customer_ids"));
    };
    let (a, b) = (
        parse_customer(a, "customer_ids")?,
        parse_customer(b, "customer_ids")?,
    );
    state
        .store
        .dismiss_duplicate(a, b, &caller.actor, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
