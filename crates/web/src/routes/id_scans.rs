//! `POST /api/v1/id-scans`: read an ID (scanner text or a photo of the barcode), decide whether the
//! holder may buy, and find their profile or pre-fill a new one. Reads only: nothing is recorded
//! until staff confirm with `POST /customers/{id}/verification` or create the profile.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use canopy_aamva::{DocumentType, IdCard};
use canopy_domain::{
    Address, CustomerPatch, CustomerType, IdDocumentInput, IdDocumentKind, ManualDocumentInput,
    Permission, StoreId, VerificationMethod, VerifiedDocument,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::eligibility::{Eligibility, Scanned, decide};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::photo::{self, PhotoError};
use crate::routes::customers::CustomerView;

/// Photos up to this size are accepted (a 12 MP JPEG is 3–6 MB).
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// What a client sent: scanner text, a manual entry, a reason, an image — as JSON or as
/// `multipart/form-data` with the same names (`manual` as a JSON text part, `image` as a file).
#[derive(Default)]
pub(crate) struct Upload {
    pub payload: Option<String>,
    pub manual: Option<ManualDocumentInput>,
    pub reason: Option<String>,
    pub image: Option<Vec<u8>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadJson {
    /// The raw barcode text as the scanner typed it (control characters may have become newlines).
    payload: Option<String>,
    /// A card typed in by hand (verification only).
    #[schema(value_type = Option<Object>)]
    manual: Option<ManualDocumentInput>,
    /// Why the card was typed in (required with `manual`).
    reason: Option<String>,
}

/// A multipart read that failed: 413 when the upload is over [`MAX_UPLOAD_BYTES`] (wherever in the
/// upload the limit was hit), else 400.
pub(crate) fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        crate::hardening::too_large(MAX_UPLOAD_BYTES)
    } else {
        ApiError::bad_request("invalid_multipart", err.body_text())
    }
}

pub(crate) async fn read_upload(req: Request, allowed: &[&str]) -> ApiResult<Upload> {
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let unexpected = |name: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("unknown field `{name}`"),
        )
        .with_field(name.to_string())
    };
    let mut upload = Upload::default();
    if !is_multipart {
        let ApiJson(body) = ApiJson::<UploadJson>::from_request(req, &()).await?;
        upload.payload = body.payload;
        upload.reason = body.reason;
        upload.manual = body.manual;
        if upload.manual.is_some() && !allowed.contains(&"manual") {
            return Err(unexpected("manual"));
        }
        if upload.reason.is_some() && !allowed.contains(&"reason") {
            return Err(unexpected("reason"));
        }
        return Ok(upload);
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if !allowed.contains(&name.as_str()) {
            return Err(unexpected(&name));
        }
        if name == "image" {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            upload.image = Some(bytes.to_vec());
            continue;
        }
        let text = field.text().await.map_err(multipart_error)?;
        match name.as_str() {
            "payload" => upload.payload = Some(text),
            "reason" => upload.reason = Some(text),
            "manual" => {
                upload.manual = Some(serde_json::from_str(&text).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        e.to_string(),
                    )
                    .with_field("manual")
                })?)
            }
            _ => return Err(unexpected(&name)),
        }
    }
    Ok(upload)
}

impl From<PhotoError> for ApiError {
    fn from(err: PhotoError) -> Self {
        let code = match err {
            PhotoError::BarcodeNotFound => "barcode_not_found",
            PhotoError::TooLarge => "image_too_large",
            PhotoError::NotAnImage(_) => "invalid_image",
            PhotoError::Encode(_) => return ApiError::internal(err),
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, err.to_string()).with_field("image")
    }
}

/// A photo decoded off the request thread (image decoding and the rotation sweep are CPU work).
pub(crate) async fn barcode_from_photo(bytes: Vec<u8>) -> ApiResult<String> {
    photo::off_thread(move || {
        let image = photo::load(&bytes)?;
        photo::read_pdf417(&image)
    })
    .await
    .map_err(ApiError::from)
}

/// Parses scanner text; anything that is not an AAMVA card is `not_an_id_card`.
pub(crate) fn parse_card(payload: &str) -> ApiResult<IdCard> {
    canopy_aamva::parse(payload).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_id_card",
            e.to_string(),
        )
        .with_field("payload")
    })
}

/// The document facts a card vouches for; `None` when it has no readable document number (the
/// card's `problems` say why), since such a card identifies no document.
pub(crate) fn document_of(card: &IdCard) -> Option<VerifiedDocument> {
    Some(VerifiedDocument {
        kind: match card.document_type {
            Some(DocumentType::IdCard) => IdDocumentKind::StateId,
            _ => IdDocumentKind::DriversLicense,
        },
        number: card.license_number.clone()?,
        jurisdiction: card.jurisdiction.clone(),
        expiry: card.expiry,
        date_of_birth: card.dob,
    })
}

/// Reads the upload's card: the payload when given, else the barcode in the photo.
pub(crate) async fn card_from_upload(
    upload: &mut Upload,
) -> ApiResult<Option<(IdCard, VerificationMethod)>> {
    if let Some(payload) = upload.payload.as_deref().filter(|p| !p.trim().is_empty()) {
        return Ok(Some((parse_card(payload)?, VerificationMethod::Scan)));
    }
    if let Some(bytes) = upload.image.clone() {
        let payload = barcode_from_photo(bytes).await?;
        return Ok(Some((parse_card(&payload)?, VerificationMethod::Photo)));
    }
    Ok(None)
}

/// How the profile was found.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Same ID number (ignoring dashes and case) and jurisdiction.
    IdDocument,
    /// Same first name, last name and date of birth (the customer has a new card number).
    NameAndBirthDate,
}

#[derive(Serialize, ToSchema)]
pub struct ScanResult {
    /// `scan` (text) or `photo` (barcode read from an image).
    #[schema(value_type = String)]
    pub method: VerificationMethod,
    /// Parsed fields, in the `canopy id parse` shape.
    #[schema(value_type = Object)]
    pub card: canopy_aamva::Summary,
    /// What `POST /customers/{id}/verification` would record; absent when the card has no readable
    /// document number (`card.problems` says why): such a card can show age but verify no one.
    #[schema(value_type = Option<Object>)]
    pub document: Option<VerifiedDocument>,
    /// May the holder buy now (for the matched customer's type, else as an adult-use customer)?
    #[schema(value_type = Object)]
    pub eligibility: Eligibility,
    pub matched_by: Option<MatchedBy>,
    pub customer: Option<CustomerView>,
    /// Other profiles with the same name and date of birth (possible duplicates).
    pub other_candidates: Vec<CustomerView>,
    /// When no profile matched: live profiles that are likely the same person (the check
    /// `POST /api/v1/customers` makes, so staff can open one before creating a second).
    pub likely_duplicates: Vec<crate::routes::merges::CandidateView>,
    /// When no profile matched: fields to post to `/api/v1/customers`.
    #[schema(value_type = Option<Object>)]
    pub new_profile: Option<CustomerPatch>,
}

#[derive(Deserialize, IntoParams)]
pub struct ScanParams {
    /// The store scanning: its licence, jurisdiction (minimum ages) and time zone apply. Without
    /// it the holder is judged under their own customer type with the default ages.
    store_id: Option<String>,
}

/// Reads an ID. Send JSON `{"payload": "<scanner text>"}`, or `multipart/form-data` with an
/// `image` file (a photo of the barcode on the back of the card).
#[utoipa::path(post, path = "/api/v1/id-scans", tag = "id", request_body = UploadJson, params(ScanParams),
    responses((status = 200, body = ScanResult),
        (status = 422, description = "`not_an_id_card`, `barcode_not_found`, `invalid_image`")))]
pub async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ScanParams>,
    req: Request,
) -> ApiResult<Json<ScanResult>> {
    caller.require(Permission::CustomersRead)?;
    let store = match params.store_id.as_deref() {
        Some(raw) => {
            let id: StoreId = raw.parse().map_err(|_| ApiError::not_found("store"))?;
            Some(state.store.retail_store(id).await?)
        }
        None => None,
    };
    let mut upload = read_upload(req, &["payload", "image"]).await?;
    let Some((card, method)) = card_from_upload(&mut upload).await? else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            "send the scanned text as `payload` or a photo as `image`",
        )
        .with_field("payload"));
    };
    let document = document_of(&card);
    let (customer, matched_by, others) = find_holder(&state, &card, document.as_ref()).await?;
    let loaded = match customer {
        Some(c) => Some(CustomerView::load(&state, c).await?),
        None => None,
    };
    let customer_type = loaded
        .as_ref()
        .map_or(CustomerType::AdultUse, |v| v.customer.details.customer_type);
    let scanned = match &document {
        Some(d) => Scanned::Document(d),
        None => Scanned::Unverifiable { dob: card.dob },
    };
    let eligibility = decide(
        &state,
        customer_type,
        loaded.as_ref().map(|v| (&v.customer, &v.compliance)),
        scanned,
        store.as_ref(),
    );
    let new_profile = loaded.is_none().then(|| new_profile(&card));
    let mut likely_duplicates = Vec::new();
    if let Some(draft) = new_profile
        .clone()
        .and_then(|p| p.validate(state.settings.phone_region, state.today()).ok())
    {
        likely_duplicates = state
            .store
            .duplicate_candidates(&draft, None, canopy_matching::Level::Likely, 10)
            .await?
            .iter()
            .map(crate::routes::merges::CandidateView::from)
            .collect();
    }
    let other_candidates = CustomerView::load_many(&state, others).await?;
    Ok(Json(ScanResult {
        method,
        card: canopy_aamva::Summary::from(card),
        document,
        eligibility,
        matched_by,
        customer: loaded,
        other_candidates,
        likely_duplicates,
        new_profile,
    }))
}

type Holder = (
    Option<canopy_domain::Customer>,
    Option<MatchedBy>,
    Vec<canopy_domain::Customer>,
);

async fn find_holder(
    state: &AppState,
    card: &IdCard,
    document: Option<&VerifiedDocument>,
) -> ApiResult<Holder> {
    if let Some(document) = document
        && let Some(found) = state
            .store
            .customer_by_document(&document.number, document.jurisdiction.as_deref())
            .await?
    {
        return Ok((Some(found), Some(MatchedBy::IdDocument), Vec::new()));
    }
    let (Some(first), Some(last)) = (&card.first_name, &card.last_name) else {
        return Ok((None, None, Vec::new()));
    };
    let mut same = state
        .store
        .customers_by_name_and_birth_date(first, last, card.dob)
        .await?
        .into_iter();
    Ok(match same.next() {
        Some(first) => (
            Some(first),
            Some(MatchedBy::NameAndBirthDate),
            same.collect(),
        ),
        None => (None, None, Vec::new()),
    })
}

/// "SMITH-JONES" → "Smith-Jones", "O'BRIEN" → "O'Brien": cards print names in capitals.
pub(crate) fn name_case(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut start = true;
    for c in raw.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphanumeric();
    }
    out
}

/// A profile pre-filled from the card, in the shape `POST /api/v1/customers` takes.
fn new_profile(card: &IdCard) -> CustomerPatch {
    let address = match (&card.street, &card.city, &card.state, &card.postal_code) {
        (Some(street), Some(city), Some(region), Some(postal)) => Some(Address {
            label: None,
            line1: name_case(street),
            line2: card.street2.as_deref().map(name_case),
            city: name_case(city),
            region: region.clone(),
            postal_code: postal.clone(),
            country: match card.country {
                Some(canopy_aamva::Country::Canada) => "CA".into(),
                Some(canopy_aamva::Country::Mexico) => "MX".into(),
                _ => "US".into(),
            },
            delivery_instructions: None,
        }),
        _ => None,
    };
    let kind = match card.document_type {
        Some(DocumentType::IdCard) => IdDocumentKind::StateId,
        _ => IdDocumentKind::DriversLicense,
    };
    CustomerPatch {
        first_name: card.first_name.as_deref().map(name_case),
        middle_name: card.middle_name.as_deref().map(name_case),
        last_name: card.last_name.as_deref().map(name_case),
        date_of_birth: Some(card.dob.to_string()),
        addresses: address.map(|a| vec![a]),
        id_document: Some(IdDocumentInput {
            kind: serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            number: card.license_number.clone(),
            jurisdiction: card.jurisdiction.clone(),
            expiry: card.expiry.map(|d| d.to_string()),
        }),
        created_channel: Some("pos".into()),
        ..CustomerPatch::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalised_names_read_naturally() {
        assert_eq!(name_case("SMITH-JONES"), "Smith-Jones");
        assert_eq!(name_case("O'BRIEN"), "O'Brien");
        assert_eq!(name_case("MARY ANN"), "Mary Ann");
    }
}
