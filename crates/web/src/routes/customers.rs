//! Customer profiles: create, read, edit, list, search, notes and bans.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{
    Ban, Customer, CustomerId, CustomerPatch, IdVerification, MedicalCard, Note, Permission,
    VerificationStatus, age_on, text,
};
use canopy_store::{Compliance, IntakeOutcome, LinkedCustomer};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::eligibility::{Eligibility, Scanned, decide};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::merges::CandidateView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list_or_search).post(create))
        .route("/customers/{id}", get(read).patch(update))
        .route("/customers/{id}/notes", get(list_notes).post(add_note))
        .route("/customers/{id}/ban", post(ban).delete(unban))
}

/// A customer as the API shows it: the stored profile plus what staff read at a glance.
#[derive(Serialize, ToSchema)]
pub struct CustomerView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub customer: Customer,
    /// "Sarah M.": preferred first name and last initial.
    pub display_name: String,
    /// Whole years today in the store's time zone, when the date of birth is known.
    pub age: Option<i16>,
    /// A ban is in force now.
    pub banned: bool,
    /// Figures from the customer's orders (single-customer reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub stats: Option<canopy_store::CustomerStats>,
    /// The groups the customer belongs to, with their discounts (single-customer reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub groups: Option<Vec<canopy_orders::Group>>,
    /// The latest ID verification and whether it still holds today (`verified`, `expired`).
    #[schema(value_type = Option<Object>)]
    pub verification: Option<VerificationView>,
    #[schema(value_type = Option<Object>)]
    pub medical_card: Option<MedicalCardView>,
    /// For a caregiver: the patients they buy for.
    #[schema(value_type = Vec<Object>)]
    pub patients: Vec<LinkedCustomer>,
    /// For a patient: their caregivers.
    #[schema(value_type = Vec<Object>)]
    pub caregivers: Vec<LinkedCustomer>,
    /// A sealed ID image is on file (reading it needs `id_images:read` and is audited).
    pub has_id_image: bool,
    /// The points balance, so lookup rows and lists show points without a request per customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyalty_points: Option<i64>,
    /// May the customer buy now (computed in the store's time zone, never stored)?
    #[schema(value_type = Object)]
    pub eligibility: Eligibility,
    /// For a merged-away profile: the survivor it was merged into (read that one instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub merged_into: Option<CustomerId>,
    #[serde(skip)]
    pub compliance: Compliance,
}

#[derive(Serialize)]
pub struct VerificationView {
    #[serde(flatten)]
    pub verification: IdVerification,
    pub status: VerificationStatus,
}

#[derive(Serialize)]
pub struct MedicalCardView {
    #[serde(flatten)]
    pub card: MedicalCard,
    /// The card or its recommendation has expired (store's date).
    pub expired: bool,
}

impl CustomerView {
    pub fn new(customer: Customer, compliance: Compliance, state: &AppState) -> Self {
        let now = state.now();
        let today = state.today();
        let eligibility = decide(
            state,
            customer.details.customer_type,
            Some((&customer, &compliance)),
            Scanned::Nothing,
            None,
        );
        CustomerView {
            display_name: customer.details.name.greeting(),
            age: customer.details.date_of_birth.map(|dob| age_on(dob, today)),
            banned: customer.banned_at(now),
            verification: compliance.verification.clone().map(|v| VerificationView {
                status: v.status_on(today),
                verification: v,
            }),
            medical_card: compliance.medical_card.clone().map(|card| MedicalCardView {
                expired: card.expired_on(today) || card.recommendation_expired_on(today),
                card,
            }),
            patients: compliance.patients.clone(),
            caregivers: compliance.caregivers.clone(),
            has_id_image: compliance.has_id_image,
            loyalty_points: compliance.loyalty_points,
            eligibility,
            compliance,
            customer,
            stats: None,
            groups: None,
            merged_into: None,
        }
    }

    /// Reads the customer's verification, medical card and links, then builds the view.
    pub async fn load(state: &AppState, customer: Customer) -> ApiResult<Self> {
        let mut compliance = state.store.compliance(&[customer.id]).await?;
        Ok(CustomerView::new(
            customer,
            compliance.pop().unwrap_or_default(),
            state,
        ))
    }

    /// Like [`CustomerView::load`] for many customers, in a fixed number of queries.
    pub async fn load_many(state: &AppState, customers: Vec<Customer>) -> ApiResult<Vec<Self>> {
        let ids: Vec<CustomerId> = customers.iter().map(|c| c.id).collect();
        let compliance = state.store.compliance(&ids).await?;
        Ok(customers
            .into_iter()
            .zip(compliance)
            .map(|(c, comp)| CustomerView::new(c, comp, state))
            .collect())
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    pub items: Vec<CustomerView>,
    /// Pass as `cursor` to read the next page of a listing; absent on the last page and for searches.
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<CustomerId>,
    /// True when another page may follow: for a search, ask again with `offset` increased by `limit`.
    pub has_more: bool,
    /// How many customers the filters select (listings only, not searches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Search text: name fragment, phone in any format, email prefix or ID number. At most 200 characters
    /// and 6 words (`400 query_too_long` / `query_too_many_words` beyond).
    q: Option<String>,
    /// At most this many results (1–200, default 20 for search, 50 for listing).
    limit: Option<u32>,
    /// Continue a listing after this customer id.
    cursor: Option<String>,
    /// Skip this many search results (with `q` only; `offset + limit` at most 1,000).
    offset: Option<u32>,
}

/// Narrows a listing (and the CSV export) to the customers a manager is looking for.
#[derive(Deserialize, IntoParams, Default)]
pub struct FilterParams {
    /// Members of this group (its id).
    group: Option<String>,
    /// `adult_use`, `medical` or `caregiver`.
    customer_type: Option<String>,
    /// `true`: banned now; `false`: not banned.
    banned: Option<bool>,
    /// The ID on file expires within this many days from today (0–3650).
    id_expiring_within_days: Option<u32>,
    /// Bought before this date (YYYY-MM-DD, server's zone) and not since. Needs `orders:history`.
    last_purchase_before: Option<String>,
    /// Where the profile was created: `pos`, `online`, `back_office` or `import`.
    created_channel: Option<String>,
}

impl FilterParams {
    pub fn parse(
        self,
        state: &AppState,
        caller: &Caller,
    ) -> ApiResult<canopy_store::CustomerFilter> {
        let bad = |field: &str, message: &str| {
            ApiError::bad_request("invalid_filter", message.to_string()).with_field(field)
        };
        let today = state.today();
        let customer_type = self
            .customer_type
            .as_deref()
            .map(|t| {
                canopy_domain::CustomerType::parse(t).ok_or_else(|| {
                    bad(
                        "customer_type",
                        "customer_type must be adult_use, medical or caregiver",
                    )
                })
            })
            .transpose()?;
        let created_channel = self
            .created_channel
            .as_deref()
            .map(|c| {
                canopy_domain::Channel::parse(c).ok_or_else(|| {
                    bad(
                        "created_channel",
                        "created_channel must be pos, online, back_office or import",
                    )
                })
            })
            .transpose()?;
        let id_expiring_by = match self.id_expiring_within_days {
            None => None,
            Some(days) if days <= 3650 => today
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .ok(),
            Some(_) => {
                return Err(bad(
                    "id_expiring_within_days",
                    "id_expiring_within_days must be between 0 and 3650",
                ));
            }
        };
        let last_purchase_before =
            match crate::input::date("last_purchase_before", self.last_purchase_before.as_deref())?
            {
                None => None,
                Some(day) => {
                    caller.require(Permission::PurchaseHistoryFull)?;
                    Some(
                        day.to_zoned_datetime(state.settings.time_zone.clone())
                            .map_err(|_| {
                                bad(
                                    "last_purchase_before",
                                    "last_purchase_before is out of range",
                                )
                            })?
                            .timestamp(),
                    )
                }
            };
        let group_id = self
            .group
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty());
        Ok(canopy_store::CustomerFilter {
            group_id,
            customer_type,
            banned: self.banned,
            id_expiring_by,
            last_purchase_before,
            created_channel,
            now: state.now(),
            today,
        })
    }
}

fn limit_param(raw: Option<u32>, default: u32) -> ApiResult<u32> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(
            ApiError::bad_request("invalid_limit", "limit must be between 1 and 200")
                .with_field("limit"),
        ),
    }
}

fn parse_id(raw: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| ApiError::not_found("customer"))
}

/// The live profile a write naming `raw` lands on: the customer itself, or the survivor it was merged
/// into (an online store or integration that still holds a merged-away id keeps working).
pub(crate) async fn live_id(state: &AppState, raw: &str) -> ApiResult<CustomerId> {
    Ok(state.store.resolve_customer(parse_id(raw)?).await?)
}

/// Lists customers, or searches them when `q` is given (best match first).
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(ListParams, FilterParams),
    responses((status = 200, body = CustomerList), (status = 400, description = "Bad parameter")))]
async fn list_or_search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<FilterParams>,
) -> ApiResult<Json<CustomerList>> {
    caller.require(Permission::CustomersRead)?;
    let (customers, next_cursor, has_more, total) = match params.q.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => {
            canopy_search::Query::check(q).map_err(|e| {
                let code = match e {
                    canopy_search::QueryError::TooLong => "query_too_long",
                    canopy_search::QueryError::TooManyWords => "query_too_many_words",
                };
                ApiError::bad_request(code, e.to_string()).with_field("q")
            })?;
            let limit = limit_param(params.limit, 20)?;
            let offset = params.offset.unwrap_or(0);
            if offset as usize + limit as usize > canopy_store::MAX_SEARCH_DEPTH {
                return Err(ApiError::bad_request(
                    "invalid_offset",
                    format!(
                        "offset + limit must be at most {}; refine the search instead",
                        canopy_store::MAX_SEARCH_DEPTH
                    ),
                )
                .with_field("offset"));
            }
            let started = std::time::Instant::now();
            let page = state
                .store
                .search_customers_page(q, offset as usize, limit as usize)
                .await?;
            crate::metrics::lookup(crate::metrics::lookup_kind(q), started);
            (page.items, None, page.has_more, None)
        }
        _ => {
            if params.offset.is_some() {
                return Err(ApiError::bad_request(
                    "invalid_offset",
                    "offset pages a search; a listing continues with cursor",
                )
                .with_field("offset"));
            }
            let limit = limit_param(params.limit, 50)?;
            let after = params
                .cursor
                .as_deref()
                .map(|c| {
                    c.parse().map_err(|_| {
                        ApiError::bad_request("invalid_cursor", "cursor is not valid")
                            .with_field("cursor")
                    })
                })
                .transpose()?;
            let filter = filter.parse(&state, &caller)?;
            let (page, total) = tokio::try_join!(
                state.store.list_customers_filtered(&filter, after, limit),
                state.store.count_customers_filtered(&filter)
            )?;
            let has_more = page.next_cursor.is_some();
            (page.items, page.next_cursor, has_more, Some(total))
        }
    };
    let items = CustomerView::load_many(&state, customers).await?;
    Ok(Json(CustomerList {
        items,
        next_cursor,
        has_more,
        total,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct CreateParams {
    /// `true` after staff confirmed the new customer is not one of the likely duplicates offered
    /// (recorded, so the pair is not offered again).
    different_person: Option<bool>,
}

/// Creates a customer. A likely duplicate of an existing profile answers 409 `likely_duplicate` with the
/// `candidates` and their explanations; send again with `?different_person=true` once staff confirm.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = Object, params(CreateParams),
    responses((status = 201, body = CustomerView),
        (status = 409, description = "Phone, email or ID number already on file (`duplicate_customer`), or a likely duplicate (`likely_duplicate`, with `candidates`)"),
        (status = 422, description = "A field is invalid")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CreateParams>,
    body: Result<ApiJson<CustomerPatch>, ApiError>,
) -> ApiResult<(StatusCode, Json<CustomerView>)> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(input) = body?;
    let draft = input.validate_all(state.settings.phone_region, state.today())?;
    let outcome = state
        .store
        .create_customer_at_intake(
            draft,
            params.different_person.unwrap_or(false),
            &caller.actor,
            state.now(),
        )
        .await?;
    let customer = match outcome {
        IntakeOutcome::Created(customer) => *customer,
        IntakeOutcome::LikelyDuplicates(candidates) => {
            let views: Vec<CandidateView> = candidates.iter().map(CandidateView::from).collect();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "likely_duplicate",
                "this looks like a customer already on file; open that profile, or confirm a different person",
            )
            .with("candidates", serde_json::to_value(views).map_err(ApiError::internal)?));
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(CustomerView::new(customer, Compliance::default(), &state)),
    ))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 404, description = "No such customer")))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersRead)?;
    let id = parse_id(&id)?;
    let customer = state.store.customer(id).await?;
    let merged_into = state.store.merged_into(id).await?;
    let (stats, groups) = tokio::join!(
        state.store.customer_stats(id),
        state.store.customer_groups(id)
    );
    let mut view = CustomerView::load(&state, customer).await?;
    view.stats = Some(stats?);
    view.groups = Some(groups?);
    view.merged_into = merged_into;
    Ok(Json(view))
}

/// Partial update as a JSON merge patch (RFC 7396): fields left out stay as they are, `null` clears one.
/// A merged-away id updates the survivor it was merged into (the answer shows the survivor).
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = CustomerView), (status = 404, description = "No such customer"),
        (status = 409, description = "Conflicts with another customer"), (status = 422, description = "A field is invalid")))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<serde_json::Value>, ApiError>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(patch) = body?;
    let id = live_id(&state, &id).await?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "send a JSON object with the fields to change",
        ));
    }
    let existing = state.store.customer(id).await?;
    let mut merged =
        serde_json::to_value(CustomerPatch::from(&existing.details)).map_err(ApiError::internal)?;
    merge_patch(&mut merged, &patch);
    let input: CustomerPatch = serde_json::from_value(merged).map_err(|e| {
        let message = e.to_string();
        let field = message
            .split("field `")
            .nth(1)
            .and_then(|r| r.split('`').next())
            .map(str::to_string);
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message);
        if let Some(field) = field {
            err = err.with_field(field);
        }
        err
    })?;
    let mut draft = input.validate_all(state.settings.phone_region, state.today())?;
    draft.created_channel = existing.details.created_channel;
    let customer = state
        .store
        .update_customer(id, draft, &caller.actor, state.now())
        .await?;
    Ok(Json(CustomerView::load(&state, customer).await?))
}

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (key, value) in p {
                if value.is_null() {
                    t.remove(key);
                } else {
                    merge_patch(
                        t.entry(key.clone()).or_insert(serde_json::Value::Null),
                        value,
                    );
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    body: String,
}

#[derive(Serialize, ToSchema)]
pub struct NoteList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Note>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/notes", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = NoteList)))]
async fn list_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<NoteList>> {
    caller.require(Permission::CustomersRead)?;
    Ok(Json(NoteList {
        items: state.store.notes(parse_id(&id)?).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", tag = "customers", params(("id" = String, Path)),
    request_body = NewNote, responses((status = 201, body = Object), (status = 422, description = "Empty note")))]
async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<NewNote>, ApiError>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(input) = body?;
    let body = text::required("body", &input.body, 4000)?;
    let note = state
        .store
        .add_note(
            live_id(&state, &id).await?,
            body,
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// Why (shown to staff at every lookup).
    reason: String,
    note: Option<String>,
    /// When the ban ends (RFC 3339); absent for an open-ended ban.
    until: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/ban", tag = "customers", params(("id" = String, Path)),
    request_body = BanRequest, responses((status = 200, body = CustomerView), (status = 403, description = "Managers only")))]
async fn ban(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<BanRequest>, ApiError>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersBan)?;
    let ApiJson(input) = body?;
    let now = state.now();
    let reason = text::required("reason", &input.reason, 200)?;
    let note = text::optional("note", input.note.as_deref(), 2000)?;
    let until = match input.until.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => {
            let at: Timestamp = raw.parse().map_err(|_| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_datetime",
                    "until must be an RFC 3339 date-time",
                )
                .with_field("until")
            })?;
            if at <= now {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_datetime",
                    "until must be in the future",
                )
                .with_field("until"));
            }
            Some(at)
        }
    };
    let ban = Ban {
        reason,
        note,
        since: now,
        until,
        by: Some(caller.actor.label.clone()),
    };
    let customer = state
        .store
        .ban_customer(parse_id(&id)?, ban, &caller.actor, now)
        .await?;
    Ok(Json(CustomerView::load(&state, customer).await?))
}

#[utoipa::path(delete, path = "/api/v1/customers/{id}/ban", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 403, description = "Managers only")))]
async fn unban(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersBan)?;
    let customer = state
        .store
        .unban_customer(parse_id(&id)?, &caller.actor, state.now())
        .await?;
    Ok(Json(CustomerView::load(&state, customer).await?))
}
