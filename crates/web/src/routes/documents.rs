//! Online customers' document submissions and the staff review queue (see
//! `docs/online-customers.md`).
//!
//! The storefront posts photos (and the barcode text its camera read, if any); the server reads the
//! barcode where it can, proposes the verification and flags where the document disagrees with
//! the profile. Staff approve (the verification is recorded exactly as at the counter) or reject
//! with a reason from a fixed list. Whether the proposal would pass is judged when the queue is
//! read, by the same eligibility decision every other screen uses, at the submission's store.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::documents::mismatches;
use canopy_domain::{
    CustomerId, DocumentKind, ManualDocumentInput, MedicalCard, MedicalCardInput, Permission,
    RejectionReason, StoreId, SubmissionStatus, VerificationMethod, VerifiedDocument, text,
};
use canopy_orders::RetailStore;
use canopy_store::{
    NewSubmission, NewVerification, ProposedDocument, ReviewDecision, SealedImage, Submission,
    SubmissionFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Caller, Credential};
use crate::eligibility::{Eligibility, Scanned, decide};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::photo;
use crate::routes::id_scans::{
    MAX_UPLOAD_BYTES, document_of, multipart_error, name_case, parse_card,
};
use crate::routes::verification::keys;

/// At most this many photos per submission (front, back, and a retake or two).
pub const MAX_IMAGES: usize = 4;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/customers/{id}/documents",
            post(submit).get(customer_documents),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route("/document-reviews", get(queue))
        .route("/document-reviews/{id}", get(review))
        .route("/document-reviews/{id}/images/{position}", get(image))
        .route("/document-reviews/{id}/decision", post(decide_submission))
        .route(
            "/stores/{id}/document-review-target",
            get(target).put(set_target),
        )
}

fn unprocessable(code: &'static str, message: impl Into<String>, field: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

/// The photos and fields of a submission as sent.
#[derive(Default)]
struct SubmissionForm {
    kind: Option<String>,
    store_id: Option<String>,
    barcode: Option<String>,
    number: Option<String>,
    issuing_state: Option<String>,
    expiry: Option<String>,
    images: Vec<Vec<u8>>,
}

async fn read_form(req: Request) -> ApiResult<SubmissionForm> {
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "multipart_required",
            "send multipart/form-data with `kind`, `store_id` and one or more `image` files",
        ));
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
    let mut form = SubmissionForm::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" {
            if form.images.len() == MAX_IMAGES {
                return Err(unprocessable(
                    "too_many_images",
                    format!("at most {MAX_IMAGES} images per submission"),
                    "image",
                ));
            }
            form.images
                .push(field.bytes().await.map_err(multipart_error)?.to_vec());
            continue;
        }
        let value = field.text().await.map_err(multipart_error)?;
        let slot = match name.as_str() {
            "kind" => &mut form.kind,
            "store_id" => &mut form.store_id,
            "barcode" => &mut form.barcode,
            "number" => &mut form.number,
            "issuing_state" => &mut form.issuing_state,
            "expiry" => &mut form.expiry,
            _ => {
                return Err(unprocessable(
                    "invalid_body",
                    format!("unknown field `{name}`"),
                    &name,
                ));
            }
        };
        *slot = Some(value);
    }
    Ok(form)
}

/// A submission as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct SubmissionView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    submission: Submission,
}

/// `POST /customers/{id}/documents` answers this.
#[derive(Serialize, ToSchema)]
pub struct Submitted {
    id: String,
    /// Always `pending`.
    status: String,
    /// What the server read from the document (absent fields could not be read).
    #[schema(value_type = Object)]
    proposed: ProposedDocument,
    /// Why nothing could be read (`barcode_not_found` …); staff then type the details.
    read_problem: Option<String>,
    /// Profile fields the document disagrees with (`name`, `date_of_birth`).
    #[schema(value_type = Vec<String>)]
    mismatches: Vec<canopy_domain::Mismatch>,
}

fn parse_store(raw: Option<&str>) -> ApiResult<StoreId> {
    let raw = raw.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        unprocessable(
            "required",
            "store_id names the store the customer orders from",
            "store_id",
        )
    })?;
    raw.trim()
        .parse()
        .map_err(|_| unprocessable("invalid_id", "store_id is not a valid id", "store_id"))
}

/// Submits a customer's ID or medical card for staff review: `multipart/form-data` with `kind`
/// (`id` | `medical_card`), `store_id` (the store the customer orders from: its rules judge the
/// document), one to four `image` files, and optionally `barcode` (the PDF417 text the storefront's
/// camera read) or, for a medical card, `number`, `issuing_state` and `expiry` as the customer typed
/// them. Photos are re-encoded (no EXIF or GPS) and stored encrypted.
#[utoipa::path(post, path = "/api/v1/customers/{id}/documents", tag = "documents", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = Object),
    responses((status = 201, body = Submitted),
        (status = 403, description = "Needs documents:submit and the store"),
        (status = 422, description = "`required`, `invalid_choice`, `not_an_id_card`, `invalid_image`, `too_many_images`"),
        (status = 503, description = "`id_image_key_missing`")))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    caller.require(Permission::DocumentsSubmit)?;
    let id: CustomerId = id.parse().map_err(|_| ApiError::not_found("customer"))?;
    let form = read_form(req).await?;
    let kind = DocumentKind::parse(form.kind.as_deref().unwrap_or("").trim()).ok_or_else(|| {
        unprocessable(
            "invalid_choice",
            "kind must be `id` or `medical_card`",
            "kind",
        )
    })?;
    let store_id = parse_store(form.store_id.as_deref())?;
    caller.require_store(store_id)?;
    state.store.retail_store(store_id).await?;
    if form.images.is_empty() {
        return Err(unprocessable(
            "required",
            "attach a photo of the document as `image`",
            "image",
        ));
    }
    let keys = keys(&state)?;
    let id = state.store.resolve_customer(id).await?;
    let customer = state.store.customer(id).await?;

    let mut images = Vec::with_capacity(form.images.len());
    let mut decoded = Vec::with_capacity(form.images.len());
    for bytes in form.images {
        let (image, jpeg) = photo::off_thread(move || {
            let image = photo::load(&bytes)?;
            let jpeg = photo::reencode_jpeg(&image)?;
            Ok((image, jpeg))
        })
        .await?;
        images.push(SealedImage {
            content_type: "image/jpeg".into(),
            sealed: keys.seal(id, &jpeg)?,
        });
        decoded.push(image);
    }

    let mut proposed = ProposedDocument::default();
    let mut method = None;
    let mut read_problem = None;
    match kind {
        DocumentKind::Id => {
            let card = match form.barcode.as_deref().filter(|b| !b.trim().is_empty()) {
                Some(text) => Some((
                    parse_card(text).map_err(|e| e.with_field("barcode"))?,
                    VerificationMethod::Scan,
                )),
                None => {
                    let mut found = None;
                    for image in decoded {
                        let read = photo::off_thread(move || photo::read_pdf417(&image)).await;
                        if let Ok(text) = read
                            && let Ok(card) = canopy_aamva::parse(&text)
                        {
                            found = Some((card, VerificationMethod::Photo));
                            break;
                        }
                    }
                    found
                }
            };
            match card {
                Some((card, how)) => {
                    method = Some(how);
                    let document = document_of(&card);
                    proposed = ProposedDocument {
                        document_kind: document.as_ref().map(|d| d.kind),
                        number: card.license_number.clone(),
                        jurisdiction: card.jurisdiction.clone(),
                        expiry: card.expiry,
                        date_of_birth: Some(card.dob),
                        first_name: card.first_name.as_deref().map(name_case),
                        last_name: card.last_name.as_deref().map(name_case),
                    };
                    if document.is_none() {
                        read_problem = Some(card.problems.first().map_or_else(
                            || "the card has no readable document number".to_string(),
                            |p| p.message.clone(),
                        ));
                    }
                }
                None => {
                    read_problem = Some(
                        "barcode_not_found: no readable PDF417 barcode in the photos; staff will type the details"
                            .into(),
                    )
                }
            }
        }
        DocumentKind::MedicalCard => {
            let expiry = form
                .expiry
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    e.parse().map_err(|_| {
                        unprocessable(
                            "invalid_date",
                            "expiry must be a date as YYYY-MM-DD",
                            "expiry",
                        )
                    })
                })
                .transpose()?;
            proposed = ProposedDocument {
                number: text::optional("number", form.number.as_deref(), 60)?,
                jurisdiction: text::optional("issuing_state", form.issuing_state.as_deref(), 10)?
                    .map(|s| s.to_ascii_uppercase()),
                expiry,
                ..ProposedDocument::default()
            };
        }
    }
    let found = mismatches(
        &customer.details.name,
        customer.details.date_of_birth,
        proposed.first_name.as_deref(),
        proposed.last_name.as_deref(),
        proposed.date_of_birth,
    );
    let submission = state
        .store
        .submit_document(
            NewSubmission {
                customer_id: id,
                store_id,
                kind,
                method,
                read_problem,
                proposed,
                mismatches: found,
                images,
            },
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            id: submission.id,
            status: submission.status.as_str().into(),
            proposed: submission.proposed,
            read_problem: submission.read_problem,
            mismatches: submission.mismatches,
        }),
    ))
}

/// A customer's submissions, oldest first, with their status (the storefront shows where each
/// stands; rejected ones carry the reason).
#[utoipa::path(get, path = "/api/v1/customers/{id}/documents", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SubmissionView>)))]
pub async fn customer_documents(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<SubmissionView>>> {
    caller.require(Permission::CustomersRead)?;
    let id: CustomerId = id.parse().map_err(|_| ApiError::not_found("customer"))?;
    let id = state.store.resolve_customer(id).await?;
    state.store.customer(id).await?;
    let list = state
        .store
        .document_submissions(&SubmissionFilter {
            customer_id: Some(id),
            stores: caller_stores(&caller),
            limit: 100,
            ..SubmissionFilter::default()
        })
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|submission| SubmissionView { submission })
            .collect(),
    ))
}

/// The stores a caller's queue shows: staff their assigned stores (admins all), keys the stores
/// they were limited to.
fn caller_stores(caller: &Caller) -> Option<Vec<StoreId>> {
    match &caller.credential {
        Credential::Session { user, .. } if user.role != canopy_domain::Role::Admin => {
            Some(user.stores.iter().filter_map(|s| s.parse().ok()).collect())
        }
        Credential::ApiKey {
            stores: Some(stores),
            ..
        } => Some(stores.iter().filter_map(|s| s.parse().ok()).collect()),
        _ => None,
    }
}

/// One row of the review queue.
#[derive(Serialize, ToSchema)]
pub struct ReviewItem {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    submission: Submission,
    customer: ReviewCustomer,
    /// Minutes since the customer submitted (until the decision, for decided ones).
    waiting_minutes: i64,
    /// The store's target for a decision.
    target_minutes: i64,
    /// Waiting longer than the target.
    late: bool,
    /// Would the proposed document let the customer buy at the store today (same decision as the
    /// register)? Absent when too little could be read to judge.
    #[schema(value_type = Option<Object>)]
    checks: Option<Eligibility>,
    /// Paths of the photos (each view is audited).
    image_urls: Vec<String>,
}

/// What a reviewer needs of the profile beside the document.
#[derive(Serialize, ToSchema)]
pub struct ReviewCustomer {
    #[schema(value_type = String)]
    id: CustomerId,
    first_name: String,
    last_name: String,
    #[schema(value_type = Option<String>)]
    date_of_birth: Option<jiff::civil::Date>,
    customer_type: String,
}

#[derive(Deserialize, IntoParams)]
pub struct QueueParams {
    /// `pending` (default), `approved` or `rejected`.
    status: Option<String>,
    /// Only this store's submissions.
    store_id: Option<String>,
    /// At most this many (default 100, at most 500).
    limit: Option<u32>,
}

/// The proposal as a verified document, when it has what a verification needs.
fn proposed_document(p: &ProposedDocument) -> Option<VerifiedDocument> {
    Some(VerifiedDocument {
        kind: p.document_kind?,
        number: p.number.clone()?,
        jurisdiction: p.jurisdiction.clone(),
        expiry: p.expiry,
        date_of_birth: p.date_of_birth?,
    })
}

fn proposed_card(p: &ProposedDocument) -> Option<MedicalCard> {
    Some(MedicalCard {
        number: p.number.clone()?,
        issuing_state: p.jurisdiction.clone()?,
        expiry: p.expiry?,
        recommendation: None,
    })
}

async fn review_item(
    state: &AppState,
    submission: Submission,
    store: &RetailStore,
    target_minutes: i64,
) -> ApiResult<ReviewItem> {
    let customer = state.store.customer(submission.customer_id).await?;
    let mut compliance = state
        .store
        .compliance(&[submission.customer_id])
        .await?
        .pop()
        .unwrap_or_default();
    let customer_type = customer.details.customer_type;
    let checks = match submission.kind {
        DocumentKind::Id => proposed_document(&submission.proposed).map(|doc| {
            decide(
                state,
                customer_type,
                Some((&customer, &compliance)),
                Scanned::Document(&doc),
                Some(store),
            )
        }),
        DocumentKind::MedicalCard => proposed_card(&submission.proposed).map(|card| {
            compliance.medical_card = Some(card);
            decide(
                state,
                customer_type,
                Some((&customer, &compliance)),
                Scanned::Nothing,
                Some(store),
            )
        }),
    };
    let until = submission.decided_at.unwrap_or_else(|| state.now());
    let waiting_minutes = until
        .duration_since(submission.submitted_at)
        .as_secs()
        .max(0)
        / 60;
    let late = submission.status == SubmissionStatus::Pending && waiting_minutes > target_minutes;
    let image_urls = (0..submission.images)
        .map(|i| format!("/api/v1/document-reviews/{}/images/{i}", submission.id))
        .collect();
    Ok(ReviewItem {
        customer: ReviewCustomer {
            id: customer.id,
            first_name: customer.details.name.first.clone(),
            last_name: customer.details.name.last.clone(),
            date_of_birth: customer.details.date_of_birth,
            customer_type: customer_type.as_str().to_string(),
        },
        submission,
        waiting_minutes,
        target_minutes,
        late,
        checks,
        image_urls,
    })
}

/// The review queue, oldest first: each submission with the proposed data, how long it has waited
/// against the store's target (`late`), the checks the proposal would pass or fail at the store,
/// and its photos.
#[utoipa::path(get, path = "/api/v1/document-reviews", tag = "documents", params(QueueParams),
    responses((status = 200, body = Vec<ReviewItem>), (status = 403, description = "Needs documents:review")))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> ApiResult<Json<Vec<ReviewItem>>> {
    caller.require(Permission::DocumentsReview)?;
    let status = match params.status.as_deref() {
        None => SubmissionStatus::Pending,
        Some(raw) => SubmissionStatus::parse(raw).ok_or_else(|| {
            unprocessable(
                "invalid_choice",
                "status must be pending, approved or rejected",
                "status",
            )
        })?,
    };
    let stores = match params.store_id.as_deref() {
        Some(raw) => {
            let id: StoreId = raw.parse().map_err(|_| {
                unprocessable("invalid_id", "store_id is not a valid id", "store_id")
            })?;
            caller.require_store(id)?;
            Some(vec![id])
        }
        None => caller_stores(&caller),
    };
    let list = state
        .store
        .document_submissions(&SubmissionFilter {
            status: Some(status),
            stores,
            limit: params.limit.unwrap_or(100),
            ..SubmissionFilter::default()
        })
        .await?;
    let mut stores: Vec<(RetailStore, i64)> = Vec::new();
    let mut out = Vec::with_capacity(list.len());
    for submission in list {
        let known = stores.iter().position(|(s, _)| s.id == submission.store_id);
        let index = match known {
            Some(i) => i,
            None => {
                let store = state.store.retail_store(submission.store_id).await?;
                let target = state.store.review_target_minutes(store.id).await?;
                stores.push((store, target));
                stores.len() - 1
            }
        };
        let (store, target) = &stores[index];
        out.push(review_item(&state, submission, store, *target).await?);
    }
    Ok(Json(out))
}

async fn load_for_review(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Submission> {
    let submission = state.store.document_submission(id).await?;
    caller.require_store(submission.store_id)?;
    Ok(submission)
}

/// One submission as the queue shows it.
#[utoipa::path(get, path = "/api/v1/document-reviews/{id}", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = ReviewItem), (status = 404, description = "No such submission")))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewItem>> {
    caller.require(Permission::DocumentsReview)?;
    let submission = load_for_review(&state, &caller, &id).await?;
    let store = state.store.retail_store(submission.store_id).await?;
    let target = state.store.review_target_minutes(store.id).await?;
    Ok(Json(review_item(&state, submission, &store, target).await?))
}

/// One photo of a submission (JPEG). Every view is written to the audit log.
#[utoipa::path(get, path = "/api/v1/document-reviews/{id}/images/{position}", tag = "documents",
    params(("id" = String, Path), ("position" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "The photo"),
        (status = 404, description = "No such photo (or deleted after the decision)")))]
pub async fn image(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, position)): ApiPath<(String, i64)>,
) -> ApiResult<Response> {
    caller.require(Permission::DocumentsReview)?;
    load_for_review(&state, &caller, &id).await?;
    let keys = keys(&state)?;
    let (customer, image) = state
        .store
        .view_submission_image(&id, position, &caller.actor, state.now())
        .await?;
    super::verification::image_response(&image.content_type, keys.open(customer, &image.sealed)?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    decision: String,
    /// Rejections: `unreadable`, `expired`, `name_mismatch`, `date_of_birth_mismatch`,
    /// `wrong_document`, `underage`, `suspected_fraud` or `other`.
    reason_code: Option<String>,
    /// Free text (required with `other`; shown to staff, sent in the webhook).
    reason_text: Option<String>,
    /// Approving an ID: the details as staff read them from the photo, when the barcode could not
    /// be read or was wrong (recorded as a manual verification).
    #[schema(value_type = Option<Object>)]
    manual: Option<ManualDocumentInput>,
    /// Approving a medical card: the card as staff read it, replacing what the customer typed.
    #[schema(value_type = Option<Object>)]
    medical_card: Option<MedicalCardInput>,
}

/// Approves or rejects a pending submission. Approving an ID records the verification exactly as
/// staff at the counter do (an expired ID is refused, `id_expired`); approving a medical card sets
/// it (an expired card is refused, `medical_card_expired`). Either way the online store hears
/// `document.approved` / `document.rejected`, the customer gets a text where they consented, and
/// the photos are deleted when the store's jurisdiction's privacy policy says so.
#[utoipa::path(post, path = "/api/v1/document-reviews/{id}/decision", tag = "documents",
    params(("id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = ReviewItem),
        (status = 409, description = "Already decided, or the document is on another customer's profile"),
        (status = 422, description = "`invalid_choice`, `required`, `id_expired`, `medical_card_expired`, `proposal_incomplete`")))]
pub async fn decide_submission(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<DecisionBody>, ApiError>,
) -> ApiResult<Json<ReviewItem>> {
    caller.require(Permission::DocumentsReview)?;
    let ApiJson(body) = body?;
    let submission = load_for_review(&state, &caller, &id).await?;
    let store = state.store.retail_store(submission.store_id).await?;
    let today = store.settings.today(state.now());
    let policy = canopy_privacy::Policies::embedded()
        .map_err(ApiError::internal)?
        .for_jurisdiction(store.settings.jurisdiction.as_str());
    let delete_images = policy.id_images.rule.delete_after_review;
    let decision = match body.decision.as_str() {
        "approve" => match submission.kind {
            DocumentKind::Id => {
                let (method, document, reason) = match body.manual {
                    Some(manual) => (
                        VerificationMethod::Manual,
                        manual
                            .validate(today)
                            .map_err(|e| ApiError::from(e.within("manual")))?,
                        format!("typed by the reviewer from online submission {id}"),
                    ),
                    None => (
                        submission.method.unwrap_or(VerificationMethod::Photo),
                        proposed_document(&submission.proposed).ok_or_else(|| {
                            unprocessable(
                                "proposal_incomplete",
                                "the document could not be read: type its details as `manual`",
                                "manual",
                            )
                        })?,
                        format!("online submission {id}"),
                    ),
                };
                crate::routes::verification::refuse_expired(&document, today)?;
                ReviewDecision::ApproveId {
                    verification: NewVerification {
                        method,
                        document,
                        reason: Some(reason),
                    },
                    keep_image: !delete_images,
                }
            }
            DocumentKind::MedicalCard => {
                let card = match body.medical_card {
                    Some(input) => input
                        .validate()
                        .map_err(|e| ApiError::from(e.within("medical_card")))?,
                    None => proposed_card(&submission.proposed).ok_or_else(|| {
                        unprocessable(
                            "proposal_incomplete",
                            "the card's number, issuing state and expiry are needed: send them as `medical_card`",
                            "medical_card",
                        )
                    })?,
                };
                if card.expired_on(today) {
                    return Err(unprocessable(
                        "medical_card_expired",
                        format!(
                            "this medical card expired on {}: it cannot be approved",
                            card.expiry
                        ),
                        "expiry",
                    ));
                }
                ReviewDecision::ApproveMedicalCard(card)
            }
        },
        "reject" => {
            let code = RejectionReason::parse(body.reason_code.as_deref().unwrap_or(""))?;
            let text = text::optional("reason_text", body.reason_text.as_deref(), 500)?;
            if code == RejectionReason::Other && text.is_none() {
                return Err(unprocessable(
                    "required",
                    "explain the rejection in reason_text",
                    "reason_text",
                ));
            }
            ReviewDecision::Reject { code, text }
        }
        _ => {
            return Err(unprocessable(
                "invalid_choice",
                "decision must be `approve` or `reject`",
                "decision",
            ));
        }
    };
    let decided = state
        .store
        .decide_document(&id, decision, delete_images, &caller.actor, state.now())
        .await?;
    let target = state.store.review_target_minutes(store.id).await?;
    Ok(Json(review_item(&state, decided, &store, target).await?))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewTarget {
    /// Minutes a submission may wait for a decision before the queue shows it late.
    target_minutes: i64,
}

fn store_id(raw: &str) -> ApiResult<StoreId> {
    raw.parse().map_err(|_| ApiError::not_found("store"))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/document-review-target", tag = "documents",
    params(("id" = String, Path)), responses((status = 200, body = ReviewTarget)))]
pub async fn target(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewTarget>> {
    caller.require(Permission::CustomersRead)?;
    let id = store_id(&id)?;
    state.store.retail_store(id).await?;
    Ok(Json(ReviewTarget {
        target_minutes: state.store.review_target_minutes(id).await?,
    }))
}

/// Sets the store's time target for document reviews (1 minute to 7 days).
#[utoipa::path(put, path = "/api/v1/stores/{id}/document-review-target", tag = "documents",
    params(("id" = String, Path)), request_body = ReviewTarget,
    responses((status = 200, body = ReviewTarget), (status = 422, description = "Out of range")))]
pub async fn set_target(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<ReviewTarget>, ApiError>,
) -> ApiResult<Json<ReviewTarget>> {
    caller.require(Permission::SettingsWrite)?;
    let id = store_id(&id)?;
    caller.require_store(id)?;
    let ApiJson(body) = body?;
    if !(1..=7 * 24 * 60).contains(&body.target_minutes) {
        return Err(unprocessable(
            "invalid_value",
            "target_minutes must be between 1 and 10080 (7 days)",
            "target_minutes",
        ));
    }
    state
        .store
        .set_review_target_minutes(id, body.target_minutes, &caller.actor, state.now())
        .await?;
    Ok(Json(body))
}
