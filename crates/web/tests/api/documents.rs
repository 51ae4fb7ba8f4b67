//! Online customers' ID and medical-card submissions and the staff review queue.

use std::sync::Arc;

use canopy_domain::Role;
use canopy_store::AuditFilter;
use canopy_testkit::{Engine, TestApp, both_engines};
use canopy_web::{Clock, IdImageKeys, Settings};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};

fn settings() -> Settings {
    Settings {
        id_image_keys: Some(Arc::new(
            IdImageKeys::from_base64(&IdImageKeys::generate_base64(), &[]).unwrap(),
        )),
        ..Settings::default()
    }
}

fn settings_with_clock(clock: Clock) -> Settings {
    Settings {
        clock,
        ..settings()
    }
}

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

/// A Colorado licence payload as a storefront's barcode reader returns it.
fn licence(number: &str, first: &str, last: &str, dob: Date, expiry: Date) -> String {
    format!(
        "@\n\u{1e}\rANSI 636020080002DL00410230ZC02710010DLDAQ{number}\nDCS{last}\nDAC{first}\nDADANN\n\
         DBB{}\nDBA{}\nDBD01012022\nDBC2\nDAG123 MAIN ST\nDAIDENVER\nDAJCO\nDAK802020000  \nDCGUSA\n\
         DDEN\nDDFN\nDDGN\rZCZCAX\r",
        mmddyyyy(dob),
        mmddyyyy(expiry),
    )
}

/// A plain photo (no barcode): what a customer sends of the front of the card.
fn front_photo() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(320, 200, image::Rgb([200, 180, 160]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// A photo of the back of the card: the payload's PDF417 barcode.
fn barcode_photo(text: &str) -> Vec<u8> {
    use rxing::Writer;
    let matrix = rxing::pdf417::PDF417Writer
        .encode(text, &rxing::BarcodeFormat::PDF_417, 1200, 400)
        .unwrap();
    let image = image::DynamicImage::from(&matrix).to_luma8();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// A form part: name, file name (for files) and content.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "canopy-documents-boundary-91af";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn store(app: &TestApp, jurisdiction: &str) -> String {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": "Online", "licence_type": "both", "jurisdiction": jurisdiction}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

/// An online sign-up: name, phone, date of birth, no ID yet.
async fn online_customer(app: &TestApp, first: &str, last: &str, dob: Date) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
    let phone = format!(
        "303-555-0{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": first, "last_name": last, "phone": phone,
            "date_of_birth": dob.to_string(), "created_channel": "online"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn subscribe(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/v1/webhooks/endpoints",
            json!({"url": "https://shop.example.com/canopy",
            "events": ["document.approved", "document.rejected"]}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().unwrap().to_string()
}

async fn submit_id(
    app: &TestApp,
    customer: &str,
    store: &str,
    barcode: &str,
) -> canopy_testkit::Response {
    let photo = front_photo();
    let (content_type, body) = multipart(&[
        ("kind", None, b"id"),
        ("store_id", None, store.as_bytes()),
        ("barcode", None, barcode.as_bytes()),
        ("image", Some("front.png"), &photo),
    ]);
    app.post_raw(
        &format!("/api/v1/customers/{customer}/documents"),
        &content_type,
        body,
    )
    .await
}

async fn audit_count(app: &TestApp, customer: &str, action: &str) -> usize {
    app.store
        .audit_entries(&AuditFilter {
            entity_id: Some(customer.to_string()),
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
    settings = settings();
    async fn an_approved_id_verifies_the_customer_tells_the_store_and_texts_the_customer(app) {
        let store = store(&app, "US-CO").await;
        let endpoint = subscribe(&app).await;
        let dob = years_ago(30);
        let customer = online_customer(&app, "Sarah", "Miller", dob).await;

        let res = submit_id(&app, &customer, &store, &licence("123-456-789", "SARAH", "MILLER", dob, years_ago(-4))).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["status"], "pending");
        assert_eq!(res.body["proposed"]["number"], "123-456-789");
        assert_eq!(res.body["proposed"]["first_name"], "Sarah");
        assert_eq!(res.body["mismatches"], json!([]));
        let submission = res.body["id"].as_str().unwrap().to_string();

        let queue = app.get("/api/v1/document-reviews?status=pending").await;
        assert_eq!(queue.status, 200, "{:?}", queue.body);
        let item = &queue.body[0];
        assert_eq!(item["id"], submission.as_str());
        assert_eq!(item["customer"]["last_name"], "Miller");
        assert_eq!(item["checks"]["eligible"], true, "{item}");
        assert_eq!((item["target_minutes"].as_i64(), item["late"].as_bool()), (Some(240), Some(false)));
        let photo = app.get_raw(item["image_urls"][0].as_str().unwrap()).await;
        assert_eq!((photo.status().as_u16(), photo.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));

        let decided = app
            .post(&format!("/api/v1/document-reviews/{submission}/decision"), json!({"decision": "approve"}))
            .await;
        assert_eq!(decided.status, 200, "{:?}", decided.body);
        assert_eq!(decided.body["status"], "approved");
        assert!(decided.body["verification_id"].is_string());

        let profile = app.get(&format!("/api/v1/customers/{customer}")).await;
        assert_eq!(profile.body["verification"]["document"]["number"], "123-456-789");
        assert_eq!(profile.body["verification"]["method"], "scan");
        assert_eq!(profile.body["eligibility"]["eligible"], true, "{:?}", profile.body["eligibility"]);
        assert_eq!(audit_count(&app, &customer, "customer.id_verify").await, 1);
        assert_eq!(audit_count(&app, &customer, "document.approved").await, 1);
        assert_eq!(audit_count(&app, &customer, "document.image_view").await, 1);

        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        assert_eq!(deliveries.body["items"][0]["event_type"], "document.approved");
        let sms = app.get(&format!("/api/v1/sms/messages?customer_id={customer}")).await;
        let body = sms.body["items"][0]["body"].as_str().unwrap_or_default();
        assert!(body.starts_with("Hi Sarah, your ID was approved"), "{:?}", sms.body);

        // Colorado keeps no submitted photos once decided (the default policy): gone, and not kept
        // as the profile's ID image either.
        assert_eq!(app.get_raw(item["image_urls"][0].as_str().unwrap()).await.status(), 404);
        assert_eq!(app.get_raw(&format!("/api/v1/customers/{customer}/id-image")).await.status(), 404);
        assert!(decided.body["images_deleted_at"].is_string());

        let again = app
            .post(&format!("/api/v1/document-reviews/{submission}/decision"), json!({"decision": "reject", "reason_code": "unreadable"}))
            .await;
        assert_eq!(again.status, 409, "{:?}", again.body);
        assert!(app.get("/api/v1/document-reviews").await.body.as_array().unwrap().is_empty());
    }
);

both_engines!(
    settings = settings();
    async fn an_expired_id_cannot_be_approved_and_is_rejected_with_a_reason(app) {
        let store = store(&app, "US-CO").await;
        let endpoint = subscribe(&app).await;
        let dob = years_ago(40);
        let customer = online_customer(&app, "Dana", "Reyes", dob).await;
        let expired = today().checked_sub(3.days()).unwrap();

        let res = submit_id(&app, &customer, &store, &licence("CO-1", "DANA", "REYES", dob, expired)).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let submission = res.body["id"].as_str().unwrap().to_string();
        let item = app.get(&format!("/api/v1/document-reviews/{submission}")).await;
        assert_eq!(item.body["checks"]["eligible"], false);
        assert!(codes(&item.body["checks"]).contains(&"id_expired"), "{:?}", item.body["checks"]);

        let path = format!("/api/v1/document-reviews/{submission}/decision");
        let approve = app.post(&path, json!({"decision": "approve"})).await;
        assert_eq!((approve.status, approve.error_code()), (422, "id_expired"));
        let vague = app.post(&path, json!({"decision": "reject", "reason_code": "other"})).await;
        assert_eq!((vague.status, vague.error_code(), vague.body["error"]["field"].as_str()), (422, "required", Some("reason_text")));
        let unknown = app.post(&path, json!({"decision": "reject", "reason_code": "blurry"})).await;
        assert_eq!((unknown.status, unknown.error_code()), (422, "invalid_choice"));

        let rejected = app
            .post(&path, json!({"decision": "reject", "reason_code": "expired", "reason_text": "expired three days ago"}))
            .await;
        assert_eq!(rejected.status, 200, "{:?}", rejected.body);
        assert_eq!((rejected.body["status"].as_str(), rejected.body["reason_code"].as_str()), (Some("rejected"), Some("expired")));

        let profile = app.get(&format!("/api/v1/customers/{customer}")).await;
        assert!(profile.body["verification"].is_null(), "a rejection verifies nothing");
        assert_eq!(audit_count(&app, &customer, "customer.id_verify").await, 0);
        assert_eq!(audit_count(&app, &customer, "document.rejected").await, 1);
        let deliveries = app.get(&format!("/api/v1/webhooks/deliveries?endpoint_id={endpoint}")).await;
        let types: Vec<&str> = deliveries.body["items"].as_array().unwrap().iter().map(|d| d["event_type"].as_str().unwrap()).collect();
        assert_eq!(types, ["document.rejected"]);
        let sms = app.get(&format!("/api/v1/sms/messages?customer_id={customer}")).await;
        let body = sms.body["items"][0]["body"].as_str().unwrap_or_default();
        assert!(body.contains("could not approve your ID: the document has expired"), "{:?}", sms.body);

        let rejected_list = app.get("/api/v1/document-reviews?status=rejected").await;
        assert_eq!(rejected_list.body[0]["reason_text"], "expired three days ago");
        let own = app.get(&format!("/api/v1/customers/{customer}/documents")).await;
        assert_eq!(own.body[0]["status"], "rejected");
    }
);

both_engines!(
    settings = settings();
    async fn the_server_reads_the_barcode_in_the_photo_and_flags_a_name_and_birth_date_mismatch(app) {
        let store = store(&app, "US-CO").await;
        let customer = online_customer(&app, "Sam", "Carter", years_ago(25)).await;
        let back = barcode_photo(&licence("D-777", "SARAH", "MILLER", years_ago(30), years_ago(-2)));
        let front = front_photo();
        let (content_type, body) = multipart(&[
            ("kind", None, b"id"),
            ("store_id", None, store.as_bytes()),
            ("image", Some("front.png"), &front),
            ("image", Some("back.png"), &back),
        ]);
        let res = app.post_raw(&format!("/api/v1/customers/{customer}/documents"), &content_type, body).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["proposed"]["number"], "D-777");
        assert_eq!(res.body["mismatches"], json!(["name", "date_of_birth"]));
        let item = app.get(&format!("/api/v1/document-reviews/{}", res.body["id"].as_str().unwrap())).await;
        assert_eq!(item.body["method"], "photo");
        assert_eq!(item.body["image_urls"].as_array().unwrap().len(), 2);

        // Nothing readable: the submission waits for staff to type the details.
        let (content_type, body) = multipart(&[("kind", None, b"id"), ("store_id", None, store.as_bytes()), ("image", Some("front.png"), &front)]);
        let unread = app.post_raw(&format!("/api/v1/customers/{customer}/documents"), &content_type, body).await;
        assert_eq!(unread.status, 201, "{:?}", unread.body);
        assert!(unread.body["read_problem"].as_str().unwrap().starts_with("barcode_not_found"));
        let path = format!("/api/v1/document-reviews/{}/decision", unread.body["id"].as_str().unwrap());
        let incomplete = app.post(&path, json!({"decision": "approve"})).await;
        assert_eq!((incomplete.status, incomplete.error_code()), (422, "proposal_incomplete"));
        let typed = app
            .post(&path, json!({"decision": "approve", "manual": {"kind": "drivers_license", "number": "D-778",
                "jurisdiction": "CO", "expiry": years_ago(-2).to_string(), "date_of_birth": years_ago(25).to_string()}}))
            .await;
        assert_eq!(typed.status, 200, "{:?}", typed.body);
        let profile = app.get(&format!("/api/v1/customers/{customer}")).await;
        assert_eq!(profile.body["verification"]["method"], "manual");
    }
);

both_engines!(
    settings = settings();
    async fn bad_submissions_are_refused_and_write_nothing(app) {
        let store = store(&app, "US-CO").await;
        let customer = online_customer(&app, "Ann", "Lee", years_ago(30)).await;
        let path = format!("/api/v1/customers/{customer}/documents");
        let photo = front_photo();
        let cases: [(Vec<Part>, &str, &str); 4] = [
            (vec![("kind", None, b"passport"), ("store_id", None, store.as_bytes()), ("image", Some("a.png"), &photo)], "invalid_choice", "kind"),
            (vec![("kind", None, b"id"), ("image", Some("a.png"), &photo)], "required", "store_id"),
            (vec![("kind", None, b"id"), ("store_id", None, store.as_bytes())], "required", "image"),
            (vec![("kind", None, b"id"), ("store_id", None, store.as_bytes()), ("image", Some("a.png"), b"not an image")], "invalid_image", "image"),
        ];
        for (parts, code, field) in cases {
            let (content_type, body) = multipart(&parts);
            let res = app.post_raw(&path, &content_type, body).await;
            assert_eq!((res.status, res.error_code(), res.body["error"]["field"].as_str()), (422, code, Some(field)), "{:?}", res.body);
        }
        let json = app.post(&path, json!({"kind": "id"})).await;
        assert_eq!((json.status, json.error_code()), (415, "multipart_required"));
        assert_eq!(audit_count(&app, &customer, "document.submit").await, 0);
        assert!(app.get("/api/v1/document-reviews").await.body.as_array().unwrap().is_empty());
    }
);

both_engines!(
    settings = settings();
    async fn a_medical_card_is_proposed_from_the_form_and_approval_sets_it(app) {
        let store = store(&app, "US-CO").await;
        let customer = online_customer(&app, "Lee", "Park", years_ago(50)).await;
        app.patch(&format!("/api/v1/customers/{customer}"), json!({"customer_type": "medical"})).await;
        let photo = front_photo();
        let expiry = years_ago(-1).to_string();
        let (content_type, body) = multipart(&[
            ("kind", None, b"medical_card"),
            ("store_id", None, store.as_bytes()),
            ("number", None, b"MMJ-42"),
            ("issuing_state", None, b"co"),
            ("expiry", None, expiry.as_bytes()),
            ("image", Some("card.png"), &photo),
        ]);
        let res = app.post_raw(&format!("/api/v1/customers/{customer}/documents"), &content_type, body).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!((res.body["proposed"]["number"].as_str(), res.body["proposed"]["jurisdiction"].as_str()), (Some("MMJ-42"), Some("CO")));
        let submission = res.body["id"].as_str().unwrap();
        let item = app.get(&format!("/api/v1/document-reviews/{submission}")).await;
        assert!(!codes(&item.body["checks"]).contains(&"medical_card_missing"), "{:?}", item.body["checks"]);

        let decided = app.post(&format!("/api/v1/document-reviews/{submission}/decision"), json!({"decision": "approve"})).await;
        assert_eq!(decided.status, 200, "{:?}", decided.body);
        let card = app.get(&format!("/api/v1/customers/{customer}/medical-card")).await;
        assert_eq!((card.body["medical_card"]["number"].as_str(), card.body["expired"].as_bool()), (Some("MMJ-42"), Some(false)));
    }
);

/// The queue on a clock moved by hand: waiting time, lateness and the store's own target.
async fn queue_lateness(engine: Engine) {
    let clock = Clock::manual(Timestamp::now());
    let app = TestApp::spawn_with(engine, settings_with_clock(clock.clone())).await;
    let store = store(&app, "US-CO").await;
    let first = online_customer(&app, "Ada", "One", years_ago(30)).await;
    let second = online_customer(&app, "Bo", "Two", years_ago(30)).await;
    submit_id(
        &app,
        &first,
        &store,
        &licence("Q-1", "ADA", "ONE", years_ago(30), years_ago(-3)),
    )
    .await;
    clock.advance(SignedDuration::from_mins(200));
    submit_id(
        &app,
        &second,
        &store,
        &licence("Q-2", "BO", "TWO", years_ago(30), years_ago(-3)),
    )
    .await;
    clock.advance(SignedDuration::from_mins(60));

    let queue = app.get("/api/v1/document-reviews").await;
    let rows: Vec<(&str, i64, bool)> = queue
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customer"]["first_name"].as_str().unwrap(),
                r["waiting_minutes"].as_i64().unwrap(),
                r["late"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("Ada", 260, true), ("Bo", 60, false)]);

    let set = app
        .put(
            &format!("/api/v1/stores/{store}/document-review-target"),
            json!({"target_minutes": 300}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let queue = app.get("/api/v1/document-reviews").await;
    assert_eq!(queue.body[0]["late"], false);
    let bad = app
        .put(
            &format!("/api/v1/stores/{store}/document-review-target"),
            json!({"target_minutes": 0}),
        )
        .await;
    assert_eq!((bad.status, bad.error_code()), (422, "invalid_value"));
}

#[tokio::test]
async fn the_queue_is_oldest_first_and_shows_what_is_late_on_sqlite() {
    queue_lateness(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_queue_is_oldest_first_and_shows_what_is_late_on_postgres() {
    queue_lateness(Engine::Postgres).await;
}

both_engines!(
    settings = settings();
    async fn budtenders_submit_but_only_reviewers_see_the_queue_and_photos(app) {
        let store = store(&app, "US-CO").await;
        let customer = online_customer(&app, "Kim", "Moss", years_ago(30)).await;
        let budtender = app.as_role_at(Role::Budtender, &[&store]).await;
        let photo = front_photo();
        let (content_type, body) = multipart(&[("kind", None, b"id"), ("store_id", None, store.as_bytes()), ("image", Some("a.png"), &photo)]);
        let res = budtender.post_raw(&format!("/api/v1/customers/{customer}/documents"), &content_type, body).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        let id = res.body["id"].as_str().unwrap();
        assert_eq!(budtender.get("/api/v1/document-reviews").await.status, 403);
        assert_eq!(budtender.get(&format!("/api/v1/document-reviews/{id}/images/0")).await.status, 403);
        assert_eq!(budtender.post(&format!("/api/v1/document-reviews/{id}/decision"), json!({"decision": "reject", "reason_code": "unreadable"})).await.status, 403);

        let manager = app.as_role_at(Role::Manager, &[&store]).await;
        assert_eq!(manager.get("/api/v1/document-reviews").await.body.as_array().unwrap().len(), 1);
        let elsewhere = app.as_role_at(Role::Manager, &[]).await;
        assert!(elsewhere.get("/api/v1/document-reviews").await.body.as_array().unwrap().is_empty());
        assert_eq!(elsewhere.get(&format!("/api/v1/document-reviews/{id}")).await.status, 403);
    }
);
