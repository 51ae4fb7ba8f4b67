//! Recording ID verifications, serving ID images, medical cards and caregiver links.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use canopy_domain::{
    CustomerId, CustomerType, MedicalCard, MedicalCardInput, Permission, VerificationMethod,
    VerifiedDocument, text,
};
use canopy_store::{NewVerification, SealedImage};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::id_image_keys::{IdImageKeys, KeyError};
use crate::photo;
use crate::routes::customers::CustomerView;
use crate::routes::id_scans::{self, MAX_UPLOAD_BYTES, UploadJson};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/id-scans", post(id_scans::scan))
        .route("/customers/{id}/verification", post(verify))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route("/customers/{id}/id-image", get(id_image))
        .route(
            "/customers/{id}/medical-card",
            get(medical_card).post(set_medical_card),
        )
        .route(
            "/customers/{id}/patients/{patient_id}",
            post(link_patient).delete(unlink_patient),
        )
}

fn parse_id(raw: &str) -> ApiResult<CustomerId> {
    raw.parse().map_err(|_| ApiError::not_found("customer"))
}

fn unprocessable(code: &'static str, message: impl Into<String>, field: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

pub(crate) fn keys(state: &AppState) -> ApiResult<&IdImageKeys> {
    state.settings.id_image_keys.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "id_image_key_missing",
            "ID images are disabled: set CANOPY_ID_IMAGE_KEY (base64 of 32 random bytes) on every server",
        )
    })
}

impl From<KeyError> for ApiError {
    fn from(err: KeyError) -> Self {
        ApiError::internal(err)
    }
}

/// Records that staff checked the customer's ID: from scanner text (`payload`), a photo of the
/// barcode (`image`, multipart), or a manual entry (`manual` plus a `reason`) for a card that will
/// not scan. A multipart `image` is also kept as the customer's ID image, re-encoded (no EXIF or
/// GPS) and encrypted. The profile's ID document and date of birth are set from the card.
#[utoipa::path(post, path = "/api/v1/customers/{id}/verification", tag = "id", params(("id" = String, Path)),
    request_body = UploadJson,
    responses((status = 200, body = CustomerView),
        (status = 409, description = "The document is on another customer's profile"),
        (status = 422, description = "`not_an_id_card`, `barcode_not_found`, `id_expired`, a manual field, or a missing reason"),
        (status = 503, description = "`id_image_key_missing`: an image was sent but no key is configured")))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    req: Request,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersWrite)?;
    let id = parse_id(&id)?;
    let mut upload = id_scans::read_upload(req, &["payload", "manual", "reason", "image"]).await?;
    let today = state.today();
    let image_keys = match upload.image {
        Some(_) => Some(keys(&state)?),
        None => None,
    };
    let (method, document, reason) = match upload.manual.take() {
        Some(manual) => {
            let reason = text::required("reason", upload.reason.as_deref().unwrap_or(""), 500)?;
            (
                VerificationMethod::Manual,
                manual.validate(today)?,
                Some(reason),
            )
        }
        None => {
            let Some((card, method)) = id_scans::card_from_upload(&mut upload).await? else {
                return Err(unprocessable(
                    "required",
                    "send the scanned text as `payload`, a photo as `image`, or `manual` with a `reason`",
                    "payload",
                ));
            };
            let reason = text::optional("reason", upload.reason.as_deref(), 500)?;
            let document = id_scans::document_of(&card).ok_or_else(|| {
                let message = card
                    .problems
                    .iter()
                    .find(|p| p.field == "license_number")
                    .map_or("the card has no readable document number", |p| {
                        p.message.as_str()
                    });
                unprocessable("id_number_unreadable", message, "payload")
            })?;
            (method, document, reason)
        }
    };
    refuse_expired(&document, today)?;
    let sealed = match (upload.image, image_keys) {
        (Some(bytes), Some(keys)) => {
            let jpeg = photo::off_thread(move || {
                photo::load(&bytes).and_then(|i| photo::reencode_jpeg(&i))
            })
            .await?;
            Some(SealedImage {
                content_type: "image/jpeg".into(),
                sealed: keys.seal(id, &jpeg)?,
            })
        }
        _ => None,
    };
    let (customer, _) = state
        .store
        .record_verification(
            id,
            NewVerification {
                method,
                document,
                reason,
            },
            sealed,
            &caller.actor,
            state.now(),
        )
        .await?;
    Ok(Json(CustomerView::load(&state, customer).await?))
}

/// An expired ID cannot verify anyone, at the counter or in the online review queue.
pub(crate) fn refuse_expired(
    document: &VerifiedDocument,
    today: jiff::civil::Date,
) -> ApiResult<()> {
    match document.expiry.filter(|_| document.expired_on(today)) {
        Some(expiry) => Err(unprocessable(
            "id_expired",
            format!("this ID expired on {expiry}: it cannot verify the customer"),
            "expiry",
        )),
        None => Ok(()),
    }
}

/// The customer's ID image (JPEG). Every view is written to the audit log.
#[utoipa::path(get, path = "/api/v1/customers/{id}/id-image", tag = "id", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "The image"),
        (status = 403, description = "Needs id_images:read"), (status = 404, description = "No image on file")))]
pub async fn id_image(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    caller.require(Permission::IdImagesRead)?;
    let id = parse_id(&id)?;
    let keys = keys(&state)?;
    let image = state
        .store
        .view_id_image(id, &caller.actor, state.now())
        .await?;
    image_response(&image.content_type, keys.open(id, &image.sealed)?)
}

/// An opened ID or document photo: its own content type, and never kept by any cache.
pub(crate) fn image_response(content_type: &str, bytes: Vec<u8>) -> ApiResult<Response> {
    let content_type = HeaderValue::from_str(content_type).map_err(ApiError::internal)?;
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, HeaderValue::from_static("no-store, private")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct MedicalCardResponse {
    #[schema(value_type = Object)]
    medical_card: MedicalCard,
    /// The card or its recommendation has expired (store's date).
    expired: bool,
}

fn card_response(card: MedicalCard, state: &AppState) -> MedicalCardResponse {
    let today = state.today();
    MedicalCardResponse {
        expired: card.expired_on(today) || card.recommendation_expired_on(today),
        medical_card: card,
    }
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/medical-card", tag = "id", params(("id" = String, Path)),
    responses((status = 200, body = MedicalCardResponse), (status = 404, description = "No card on file")))]
pub async fn medical_card(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MedicalCardResponse>> {
    caller.require(Permission::CustomersRead)?;
    let id = parse_id(&id)?;
    state.store.customer(id).await?;
    let card = state
        .store
        .compliance(&[id])
        .await?
        .pop()
        .and_then(|c| c.medical_card)
        .ok_or_else(|| ApiError::not_found("medical card"))?;
    Ok(Json(card_response(card, &state)))
}

/// Sets (replaces) the medical card: `{"number", "issuing_state", "expiry", "recommendation":
/// {"amount", "unit", "category", "expiry", "document_ref"}}`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/medical-card", tag = "id", params(("id" = String, Path)),
    request_body = Object,
    responses((status = 200, body = MedicalCardResponse), (status = 422, description = "A field is invalid")))]
pub async fn set_medical_card(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: Result<ApiJson<MedicalCardInput>, ApiError>,
) -> ApiResult<Json<MedicalCardResponse>> {
    caller.require(Permission::CustomersWrite)?;
    let ApiJson(input) = body?;
    let card = input.validate()?;
    let card = state
        .store
        .set_medical_card(parse_id(&id)?, card, &caller.actor, state.now())
        .await?;
    Ok(Json(card_response(card, &state)))
}

/// Links a caregiver (`id`, a `caregiver` customer) to a patient (a `medical` customer).
#[utoipa::path(post, path = "/api/v1/customers/{id}/patients/{patient_id}", tag = "id",
    params(("id" = String, Path), ("patient_id" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 422, description = "`not_a_caregiver`, `not_a_patient`")))]
pub async fn link_patient(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, patient_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersWrite)?;
    let (id, patient_id) = (parse_id(&id)?, parse_id(&patient_id)?);
    let caregiver = state.store.customer(id).await?;
    let patient = state.store.customer(patient_id).await?;
    if caregiver.details.customer_type != CustomerType::Caregiver {
        return Err(unprocessable(
            "not_a_caregiver",
            "only a caregiver customer can have patients",
            "id",
        ));
    }
    if patient.details.customer_type != CustomerType::Medical {
        return Err(unprocessable(
            "not_a_patient",
            "a caregiver can only be linked to a medical customer",
            "patient_id",
        ));
    }
    state
        .store
        .link_patient(id, patient_id, &caller.actor, state.now())
        .await?;
    Ok(Json(CustomerView::load(&state, caregiver).await?))
}

#[utoipa::path(delete, path = "/api/v1/customers/{id}/patients/{patient_id}", tag = "id",
    params(("id" = String, Path), ("patient_id" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 404, description = "Not linked")))]
pub async fn unlink_patient(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, patient_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<CustomerView>> {
    caller.require(Permission::CustomersWrite)?;
    let (id, patient_id) = (parse_id(&id)?, parse_id(&patient_id)?);
    state
        .store
        .unlink_patient(id, patient_id, &caller.actor, state.now())
        .await?;
    let caregiver = state.store.customer(id).await?;
    Ok(Json(CustomerView::load(&state, caregiver).await?))
}
