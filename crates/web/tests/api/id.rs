//! ID scanning, verification, ID images, medical cards and caregivers.

use std::sync::Arc;

use canopy_domain::{Actor, IdDocumentKind, VerificationMethod, VerifiedDocument};
use canopy_store::{AuditFilter, NewVerification};
use canopy_testkit::{TestApp, both_engines};
use canopy_web::{IdImageKeys, Settings};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

fn today() -> Date {
    Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

fn years_ago(years: i16) -> Date {
    today().checked_sub(years.years()).unwrap()
}

fn mmddyyyy(d: Date) -> String {
    format!("{:02}{:02}{:04}", d.month(), d.day(), d.year())
}

/// A Colorado v08 licence payload as a serial scanner sends it.
fn payload(number: &str, first: &str, last: &str, dob: Date, expiry: Date) -> String {
    format!(
        "@\n\u{1e}\rANSI 636020080002DL00410230ZC02710010DLDAQ{number}\nDCS{last}\nDAC{first}\nDADANN\n\
         DBB{}\nDBA{}\nDBD01012022\nDBC2\nDAG123 MAIN ST\nDAIDENVER\nDAJCO\nDAK802020000  \nDCGUSA\n\
         DDEN\nDDFN\nDDGN\rZCZCAX\r",
        mmddyyyy(dob),
        mmddyyyy(expiry),
    )
}

fn sarah() -> String {
    payload(
        "123-456-789",
        "SARAH",
        "MILLER",
        years_ago(30),
        years_ago(-4),
    )
}

async fn create(app: &TestApp, body: Value) -> String {
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn audit_actions(app: &TestApp, id: &str, action: &str) -> usize {
    app.store
        .audit_entries(&AuditFilter {
            entity_id: Some(id.to_string()),
            action: Some(action.to_string()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

fn codes(eligibility: &Value) -> Vec<&str> {
    eligibility["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

both_engines!(
    async fn a_new_card_prefills_a_profile_that_the_next_scan_finds(app) {
        let res = app.post("/api/v1/id-scans", json!({"payload": sarah()})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["method"], "scan");
        assert_eq!(res.body["card"]["license_number"], "123-456-789");
        assert_eq!(res.body["eligibility"]["eligible"], true);
        assert!(res.body["customer"].is_null());
        let profile = res.body["new_profile"].clone();
        assert_eq!(profile["first_name"], "Sarah");
        assert_eq!(profile["addresses"][0]["city"], "Denver");
        assert_eq!(profile["id_document"]["jurisdiction"], "CO");

        let id = create(&app, profile).await;
        let again = app.post("/api/v1/id-scans", json!({"payload": sarah()})).await;
        assert_eq!(again.body["matched_by"], "id_document");
        assert_eq!(again.body["customer"]["id"], id.as_str());
        assert!(again.body["new_profile"].is_null());
    }
);

both_engines!(
    async fn a_keyboard_wedge_scan_finds_a_profile_by_name_and_birth_date(app) {
        let dob = years_ago(30);
        let id = create(&app, json!({"first_name": "Sarah", "last_name": "Miller",
            "date_of_birth": dob.to_string()})).await;
        // A keyboard wedge types every control character as a newline.
        let wedge = sarah().replace(['\r', '\u{1e}'], "\n");
        let res = app.post("/api/v1/id-scans", json!({"payload": wedge})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["matched_by"], "name_and_birth_date");
        assert_eq!(res.body["customer"]["id"], id.as_str());
    }
);

both_engines!(
    async fn text_that_is_not_an_id_card_is_refused(app) {
        let res = app.post("/api/v1/id-scans", json!({"payload": "4111111111111111"})).await;
        assert_eq!((res.status, res.error_code()), (422, "not_an_id_card"));
        assert_eq!(res.body["error"]["field"], "payload");
        let res = app.post("/api/v1/id-scans", json!({})).await;
        assert_eq!(res.status, 422);
    }
);

both_engines!(
    async fn an_underage_or_expired_card_is_not_eligible_and_says_why(app) {
        let minor = payload("D1", "KID", "YOUNG", years_ago(20), years_ago(-2));
        let res = app.post("/api/v1/id-scans", json!({"payload": minor})).await;
        assert_eq!(res.body["eligibility"]["eligible"], false);
        assert_eq!(codes(&res.body["eligibility"]), ["underage"]);
        assert_eq!(res.body["eligibility"]["minimum_age"], 21);

        let yesterday = today().yesterday().unwrap();
        let expired = payload("D2", "OLD", "CARD", years_ago(40), yesterday);
        let res = app.post("/api/v1/id-scans", json!({"payload": expired})).await;
        assert_eq!(codes(&res.body["eligibility"]), ["id_expired"]);
    }
);

both_engines!(
    async fn a_banned_customer_scans_as_not_eligible(app) {
        let res = app.post("/api/v1/id-scans", json!({"payload": sarah()})).await;
        let id = create(&app, res.body["new_profile"].clone()).await;
        let ban = app.post(&format!("/api/v1/customers/{id}/ban"), json!({"reason": "theft"})).await;
        assert_eq!(ban.status, 200);
        let res = app.post("/api/v1/id-scans", json!({"payload": sarah()})).await;
        assert_eq!(codes(&res.body["eligibility"]), ["customer_banned"]);
    }
);

both_engines!(
    async fn recording_a_scan_verifies_the_customer_and_is_audited(app) {
        let id = create(&app, json!({"first_name": "Sarah", "last_name": "Miller"})).await;
        let before = app.get(&format!("/api/v1/customers/{id}")).await;
        assert!(codes(&before.body["eligibility"]).contains(&"not_verified"));

        let res = app.post(&format!("/api/v1/customers/{id}/verification"), json!({"payload": sarah()})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["verification"]["status"], "verified");
        assert_eq!(res.body["verification"]["method"], "scan");
        assert!(res.body["verification"]["verified_by"].as_str().is_some_and(|b| !b.is_empty()));
        assert_eq!(res.body["id_document"]["number"], "123-456-789");
        assert_eq!(res.body["date_of_birth"], years_ago(30).to_string());
        assert_eq!(res.body["eligibility"]["eligible"], true);
        assert_eq!(audit_actions(&app, &id, "customer.id_verify").await, 1);
    }
);

both_engines!(
    async fn a_manual_entry_needs_a_reason(app) {
        let id = create(&app, json!({"first_name": "Ann", "last_name": "Lee"})).await;
        let manual = json!({"kind": "passport", "number": "X1234567", "expiry": years_ago(-5).to_string(),
            "date_of_birth": years_ago(35).to_string()});
        let path = format!("/api/v1/customers/{id}/verification");
        let res = app.post(&path, json!({"manual": manual})).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("reason")));
        assert_eq!(audit_actions(&app, &id, "customer.id_verify").await, 0);

        let res = app.post(&path, json!({"manual": manual, "reason": "barcode worn off"})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["verification"]["method"], "manual");
        assert_eq!(res.body["verification"]["reason"], "barcode worn off");
        assert_eq!(res.body["verification"]["document"]["kind"], "passport");
    }
);

both_engines!(
    async fn an_expired_card_cannot_verify_and_writes_nothing(app) {
        let id = create(&app, json!({"first_name": "Old", "last_name": "Card"})).await;
        let expired = payload("D2", "OLD", "CARD", years_ago(40), today().yesterday().unwrap());
        let res = app.post(&format!("/api/v1/customers/{id}/verification"), json!({"payload": expired})).await;
        assert_eq!((res.status, res.error_code()), (422, "id_expired"));
        let view = app.get(&format!("/api/v1/customers/{id}")).await;
        assert!(view.body["verification"].is_null());
    }
);

both_engines!(
    async fn a_card_already_on_another_profile_is_a_conflict(app) {
        let res = app.post("/api/v1/id-scans", json!({"payload": sarah()})).await;
        let owner = create(&app, res.body["new_profile"].clone()).await;
        let other = create(&app, json!({"first_name": "S", "last_name": "M"})).await;
        let res = app.post(&format!("/api/v1/customers/{other}/verification"), json!({"payload": sarah()})).await;
        assert_eq!((res.status, res.error_code()), (409, "duplicate_customer"));
        assert_eq!(res.body["error"]["existing_customer_id"], owner.as_str());
    }
);

both_engines!(
    async fn a_verification_goes_stale_when_the_id_expires(app) {
        let id = create(&app, json!({"first_name": "Sam", "last_name": "Stale"})).await;
        let expiry = today().yesterday().unwrap();
        let document = VerifiedDocument {
            kind: IdDocumentKind::DriversLicense,
            number: "S1".into(),
            jurisdiction: Some("CO".into()),
            expiry: Some(expiry),
            date_of_birth: years_ago(40),
        };
        let verified_at = Timestamp::now().checked_sub(48.hours()).unwrap();
        app.store
            .record_verification(
                id.parse().unwrap(),
                NewVerification { method: VerificationMethod::Scan, document, reason: None },
                None,
                &Actor::system("test"),
                verified_at,
            )
            .await
            .unwrap();
        let view = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(view.body["verification"]["status"], "expired");
        assert_eq!(codes(&view.body["eligibility"]), ["id_expired"]);
    }
);

both_engines!(
    async fn a_patient_needs_a_current_medical_card(app) {
        let id = create(&app, json!({"first_name": "Pat", "last_name": "Ient", "customer_type": "medical"})).await;
        app.post(&format!("/api/v1/customers/{id}/verification"),
            json!({"payload": payload("P1", "PAT", "IENT", years_ago(19), years_ago(-3))})).await;
        let view = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(codes(&view.body["eligibility"]), ["medical_card_missing"]);
        let missing = app.get(&format!("/api/v1/customers/{id}/medical-card")).await;
        assert_eq!(missing.status, 404);

        let card = |expiry: Date| json!({"number": "MMJ-77", "issuing_state": "co", "expiry": expiry.to_string(),
            "recommendation": {"amount": "2.5", "unit": "oz", "category": "flower",
                "expiry": years_ago(-1).to_string(), "document_ref": "rec-2026-001"}});
        let path = format!("/api/v1/customers/{id}/medical-card");
        let res = app.post(&path, card(today().yesterday().unwrap())).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["expired"], true);
        let view = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(codes(&view.body["eligibility"]), ["medical_card_expired"]);

        app.post(&path, card(years_ago(-1))).await;
        let read = app.get(&path).await;
        assert_eq!(read.body["medical_card"]["issuing_state"], "CO");
        assert_eq!(read.body["medical_card"]["recommendation"]["amount"], "2.5");
        let view = app.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(view.body["eligibility"]["eligible"], true, "{:?}", view.body["eligibility"]);
        assert_eq!(view.body["medical_card"]["expired"], false);
        assert_eq!(audit_actions(&app, &id, "customer.medical_card_set").await, 2);

        let bad = app.post(&path, json!({"number": "M", "issuing_state": "CO", "expiry": "soon"})).await;
        assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (422, Some("expiry")));
    }
);

both_engines!(
    async fn a_caregiver_is_linked_to_patients_and_both_profiles_show_it(app) {
        let caregiver = create(&app, json!({"first_name": "Cara", "last_name": "Giver", "customer_type": "caregiver"})).await;
        let patient = create(&app, json!({"first_name": "Pat", "last_name": "Ient", "customer_type": "medical"})).await;
        let adult = create(&app, json!({"first_name": "Al", "last_name": "Dult"})).await;

        let res = app.post(&format!("/api/v1/customers/{caregiver}/patients/{patient}"), json!({})).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["patients"][0]["id"], patient.as_str());
        let view = app.get(&format!("/api/v1/customers/{patient}")).await;
        assert_eq!(view.body["caregivers"][0]["first_name"], "Cara");

        let res = app.post(&format!("/api/v1/customers/{caregiver}/patients/{adult}"), json!({})).await;
        assert_eq!((res.status, res.error_code()), (422, "not_a_patient"));
        let res = app.post(&format!("/api/v1/customers/{adult}/patients/{patient}"), json!({})).await;
        assert_eq!((res.status, res.error_code()), (422, "not_a_caregiver"));

        let res = app.delete(&format!("/api/v1/customers/{caregiver}/patients/{patient}")).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["patients"].as_array().unwrap().len(), 0);
        let res = app.delete(&format!("/api/v1/customers/{caregiver}/patients/{patient}")).await;
        assert_eq!(res.status, 404);
        assert_eq!(audit_actions(&app, &caregiver, "customer.patient_link").await, 1);
        assert_eq!(audit_actions(&app, &caregiver, "customer.patient_unlink").await, 1);
    }
);

// ---- photos ----

/// The Massachusetts fixture from the parser's corpus.
fn fixture_payload() -> String {
    let vectors: Value = serde_json::from_str(include_str!(
        "../../../aamva/tests/fixtures/aamva-vectors.json"
    ))
    .unwrap();
    vectors
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "idparser-ma-2009")
        .unwrap()["payload"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A PNG photo of the payload's PDF417 barcode, tilted by `degrees` on a white background.
fn barcode_photo(text: &str, degrees: f32) -> Vec<u8> {
    use rxing::Writer;
    let matrix = rxing::pdf417::PDF417Writer
        .encode(text, &rxing::BarcodeFormat::PDF_417, 1200, 400)
        .unwrap();
    let image = image::DynamicImage::from(&matrix).to_luma8();
    let tilted = canopy_web::rotate_gray(&image, degrees);
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(tilted)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "canopy-test-boundary-7d1c";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

both_engines!(
    async fn a_tilted_photo_of_the_barcode_reads_like_a_scan(app) {
        let photo = barcode_photo(&fixture_payload(), 9.0);
        let (content_type, body) = multipart(&[("image", Some("back.png"), &photo)]);
        let res = app.post_raw("/api/v1/id-scans", &content_type, body).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["method"], "photo");
        assert_eq!(res.body["card"]["license_number"], "S65807412");
        assert_eq!(res.body["card"]["last_name"], "SMITH");
        assert_eq!(codes(&res.body["eligibility"]), ["id_expired"]);
    }
);

both_engines!(
    async fn a_photo_without_a_barcode_is_barcode_not_found(app) {
        let blank = image::GrayImage::from_pixel(400, 300, image::Luma([255]));
        let mut png = Vec::new();
        image::DynamicImage::ImageLuma8(blank)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let (content_type, body) = multipart(&[("image", Some("blank.png"), &png)]);
        let res = app.post_raw("/api/v1/id-scans", &content_type, body).await;
        assert_eq!((res.status, res.error_code()), (422, "barcode_not_found"));

        let (content_type, body) = multipart(&[("image", Some("x.png"), b"not an image")]);
        let res = app.post_raw("/api/v1/id-scans", &content_type, body).await;
        assert_eq!((res.status, res.error_code()), (422, "invalid_image"));
    }
);

both_engines!(
    async fn without_a_key_an_id_image_is_refused_and_nothing_is_written(app) {
        let id = create(&app, json!({"first_name": "Sarah", "last_name": "Miller"})).await;
        let photo = barcode_photo(&sarah(), 0.0);
        let (content_type, body) = multipart(&[("image", Some("id.png"), &photo)]);
        let res = app.post_raw(&format!("/api/v1/customers/{id}/verification"), &content_type, body).await;
        assert_eq!((res.status, res.error_code()), (503, "id_image_key_missing"));
        assert_eq!(audit_actions(&app, &id, "customer.id_verify").await, 0);
    }
);

fn with_keys() -> Settings {
    Settings {
        id_image_keys: Some(Arc::new(
            IdImageKeys::from_base64(&IdImageKeys::generate_base64(), &[]).unwrap(),
        )),
        ..Settings::default()
    }
}

both_engines!(
    settings = with_keys();
    async fn an_id_image_is_stored_encrypted_without_exif_and_every_view_is_audited(app) {
        let id = create(&app, json!({"first_name": "Sarah", "last_name": "Miller"})).await;
        let photo = barcode_photo(&sarah(), 3.0);
        let (content_type, body) = multipart(&[("image", Some("id.png"), &photo), ("reason", None, b"photo at the door")]);
        let res = app.post_raw(&format!("/api/v1/customers/{id}/verification"), &content_type, body).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["verification"]["method"], "photo");
        assert_eq!(res.body["verification"]["has_image"], true);

        for _ in 0..2 {
            let image = app.get_raw(&format!("/api/v1/customers/{id}/id-image")).await;
            assert_eq!(image.status(), 200);
            assert_eq!(image.headers()["content-type"], "image/jpeg");
            assert_eq!(image.headers()["cache-control"], "no-store, private");
            let bytes = image.bytes().await.unwrap();
            assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
            assert!(!bytes.windows(4).any(|w| w == b"Exif"));
        }
        assert_eq!(audit_actions(&app, &id, "customer.id_image_view").await, 2);

        let other = create(&app, json!({"first_name": "No", "last_name": "Image"})).await;
        let res = app.get(&format!("/api/v1/customers/{other}/id-image")).await;
        assert_eq!(res.status, 404);
    }
);

both_engines!(
    async fn a_caregiver_buys_for_a_linked_patient_and_it_counts_toward_the_patients_limits(app) {
        let store = app.post("/api/v1/stores", json!({"name": "Denver Medical", "licensee": "Green Co",
            "licence_type": "medical", "jurisdiction": "US-CO"})).await;
        assert_eq!(store.status, 201, "{:?}", store.body);
        let store = store.body["id"].as_str().unwrap().to_string();
        let product = app.post("/api/v1/products", json!({"sku": "FLW-35", "name": "Blue Dream 3.5 g",
            "category": "flower", "net_weight_g": "3.5", "price_cents": 3500})).await;
        assert_eq!(product.status, 201, "{:?}", product.body);
        let card = json!({"number": "MMJ-1", "issuing_state": "CO", "expiry": years_ago(-1).to_string()});
        let caregiver = create(&app, json!({"first_name": "Cara", "last_name": "Giver", "customer_type": "caregiver"})).await;
        app.post(&format!("/api/v1/customers/{caregiver}/verification"),
            json!({"payload": payload("C1", "CARA", "GIVER", years_ago(40), years_ago(-3))})).await;
        app.post(&format!("/api/v1/customers/{caregiver}/medical-card"), card.clone()).await;
        // The patient is 15: too young to buy, which is why a caregiver buys for them.
        let patient = create(&app, json!({"first_name": "Pat", "last_name": "Ient", "customer_type": "medical"})).await;
        let verified = app.post(&format!("/api/v1/customers/{patient}/verification"),
            json!({"payload": payload("P1", "PAT", "IENT", years_ago(15), years_ago(-3))})).await;
        assert_eq!(verified.status, 200, "{:?}", verified.body);
        let mut patient_card = card.clone();
        patient_card["number"] = json!("MMJ-2");
        app.post(&format!("/api/v1/customers/{patient}/medical-card"), patient_card).await;
        let sale = |eighths: u32, patient: Option<&str>| json!({"customer_id": caregiver, "store_id": store,
            "patient_id": patient, "lines": [{"sku": "FLW-35", "quantity": eighths}]});
        let buy = |key: &'static str, body: Value| {
            let app = &app;
            async move { app.post_with_headers("/api/v1/checkout", body, &[("Idempotency-Key", key)]).await }
        };
        let reasons = |res: &canopy_testkit::Response| -> Vec<String> {
            res.body["error"]["reasons"].as_array().unwrap().iter()
                .map(|r| r["code"].as_str().unwrap().to_string()).collect()
        };

        let unnamed = buy("no-patient", sale(1, None)).await;
        assert_eq!((unnamed.status, reasons(&unnamed)), (422, vec!["patient_required".to_string()]), "{:?}", unnamed.body);
        let unlinked = buy("unlinked", sale(1, Some(&patient))).await;
        assert_eq!(reasons(&unlinked), ["patient_not_linked"]);

        let link = app.post(&format!("/api/v1/customers/{caregiver}/patients/{patient}"), json!({})).await;
        assert_eq!(link.status, 200, "{:?}", link.body);
        // 16 eighths (56 g) of Colorado's 2 oz a day for medical patients.
        let placed = buy("for-pat", sale(16, Some(&patient))).await;
        assert_eq!(placed.status, 201, "{:?}", placed.body);
        assert_eq!(placed.body["order"]["patient_id"], patient.as_str());
        assert_eq!(placed.body["order"]["customer_id"], caregiver.as_str());

        // The allotment is the patient's: a second caregiver buying for them today finds it used up.
        let second = create(&app, json!({"first_name": "Sam", "last_name": "Giver", "customer_type": "caregiver"})).await;
        app.post(&format!("/api/v1/customers/{second}/verification"),
            json!({"payload": payload("C2", "SAM", "GIVER", years_ago(50), years_ago(-3))})).await;
        let mut second_card = card.clone();
        second_card["number"] = json!("MMJ-3");
        app.post(&format!("/api/v1/customers/{second}/medical-card"), second_card).await;
        app.post(&format!("/api/v1/customers/{second}/patients/{patient}"), json!({})).await;
        let mut more = sale(1, Some(&patient));
        more["customer_id"] = json!(second);
        let over = buy("over", more).await;
        assert_eq!(reasons(&over), ["purchase_limit_exceeded"], "{:?}", over.body);

        let adult = create(&app, json!({"first_name": "Al", "last_name": "Dult"})).await;
        let mut wrong = sale(1, Some(&patient));
        wrong["customer_id"] = json!(adult);
        let res = buy("adult-for-patient", wrong).await;
        assert_eq!((res.status, res.body["error"]["field"].as_str()), (422, Some("patient_id")));
    }
);
