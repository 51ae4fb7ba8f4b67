//! Staff web app journeys in a real (headless) Chromium against a real server on SQLite.
//! The API tests cover both engines; these check what a budtender actually sees and does.

mod harness;

use canopy_testkit::{Engine, TestApp};
use harness::Driver;
use serde_json::json;

async fn app() -> TestApp {
    TestApp::spawn(Engine::Sqlite).await.expect("sqlite app")
}

async fn create_customer(app: &TestApp, body: serde_json::Value) -> String {
    let res = app.post("/api/v1/customers", body).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().expect("id").to_string()
}

async fn sarah(app: &TestApp) -> String {
    create_customer(
        app,
        json!({"first_name": "Sarah", "last_name": "Mitchell", "phone": "(303) 555-0142",
               "email": "sarah.mitchell@example.com", "date_of_birth": "1997-05-02",
               "id_document": {"kind": "drivers_license", "number": "D1234567", "jurisdiction": "CO", "expiry": "2031-05-02"}}),
    )
    .await
}

#[tokio::test]
async fn a_budtender_finds_a_customer_by_phone_opens_the_profile_and_adds_a_note() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    let browser = driver.browser(1440, 900).await;

    browser.goto(&app.url("/")).await;
    browser.find("#lookup-search").await;
    browser.screenshot("lookup-empty-1440").await;
    // Phone typed the way a customer reads it out; results appear without pressing anything.
    browser.type_into("#lookup-search", "303.555.0142").await;
    browser.wait_text("#lookup-results", "Sarah Mitchell").await;
    browser.screenshot("lookup-results-1440").await;
    // Keyboard only: the first match is active, Enter opens it.
    browser.type_into("#lookup-search", "\u{E007}").await;
    browser
        .wait_path("the profile", |p| p == format!("/app/customers/{id}"))
        .await;
    browser.wait_text("h1", "Sarah Mitchell").await;
    browser
        .wait_text("[data-test=eligibility]", "Compliant")
        .await;

    browser
        .type_into(
            ".note-form textarea",
            "Prefers indica; ask about the loyalty card",
        )
        .await;
    browser.click(".note-form button[type=submit]").await;
    browser
        .wait_text(
            "[data-test=notes]",
            "Prefers indica; ask about the loyalty card",
        )
        .await;
    browser.screenshot("profile-1440").await;

    let notes = app.get(&format!("/api/v1/customers/{id}/notes")).await;
    assert_eq!(
        notes.body["items"][0]["body"],
        "Prefers indica; ask about the loyalty card"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_manager_bans_a_customer_and_the_profile_shows_the_ban_and_its_reason() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    let browser = driver.browser(1024, 768).await;

    browser
        .goto(&app.url(&format!("/app/customers/{id}")))
        .await;
    browser.click("[data-test=ban]").await;
    browser
        .type_into("dialog input[name=reason]", "Resold product to a minor")
        .await;
    browser.click("dialog button[type=submit]").await;

    browser
        .wait_text(
            "[data-test=banned-banner]",
            "Banned — Resold product to a minor",
        )
        .await;
    browser.wait_text("[data-test=eligibility]", "Banned").await;
    browser.screenshot("profile-banned-1024").await;
    let stored = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(stored.body["banned"], true);

    // A banned customer still appears in search, flagged.
    browser.goto(&app.url("/app/lookup?q=Mitchell")).await;
    browser.wait_text("#lookup-results", "Banned").await;
    browser.close().await;
}

#[tokio::test]
async fn the_new_customer_form_shows_the_api_error_beside_the_field() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let browser = driver.browser(1024, 768).await;

    browser.goto(&app.url("/app/customers/new")).await;
    browser.type_into("input[name=first_name]", "Jordan").await;
    browser.type_into("input[name=last_name]", "Reyes").await;
    browser.type_into("input[name=phone]", "12").await;
    browser.click(".customer-form button[type=submit]").await;
    browser
        .wait_text(
            "[data-field=phone] .field-error",
            "is not a valid phone number",
        )
        .await;
    let invalid = browser
        .find("input[name=phone]")
        .await
        .attr("aria-invalid")
        .await
        .expect("attr");
    assert_eq!(invalid.as_deref(), Some("true"));
    browser.screenshot("customer-form-error-1024").await;

    let phone = browser.find("input[name=phone]").await;
    phone.clear().await.expect("clear");
    phone.send_keys("(720) 555-0199").await.expect("type");
    browser.click(".customer-form button[type=submit]").await;
    browser
        .wait_path("the new profile", |p| {
            p.starts_with("/app/customers/") && !p.ends_with("/new")
        })
        .await;
    browser.wait_text("h1", "Jordan Reyes").await;
    browser.close().await;
}
