//! Staff web app journeys in a real (headless) Chromium against a real server on SQLite.
//! The API tests cover both engines; these check what staff actually see and do, signed in with a
//! real password through the sign-in screen.

mod groups;
mod harness;
mod manager;
mod phone;
mod polish;
mod sales;

use canopy_domain::Role;
use canopy_testkit::{Engine, TEST_PASSWORD, TestApp};
use harness::{Browser, Driver};
use serde_json::json;

async fn app() -> TestApp {
    TestApp::spawn(Engine::Sqlite).await
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

async fn denver_store(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/v1/stores",
            json!({"name": "Canopy Denver", "licence_type": "adult_use", "jurisdiction": "US-CO"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["id"].as_str().expect("id").to_string()
}

/// Signs in through the sign-in screen as a new staff member with `role`, assigned to every store that
/// exists so far (staff act only at their stores); lands on lookup.
async fn sign_in(browser: &Browser, app: &TestApp, username: &str, role: Role) {
    let stores = app.store.list_stores().await.expect("stores");
    let ids: Vec<String> = stores.iter().map(|s| s.id.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    app.create_user_at(username, role, &ids).await;
    browser.goto(&app.url("/")).await;
    browser
        .wait_path("the sign-in screen", |p| p == "/app/signin")
        .await;
    browser.type_into("input[name=username]", username).await;
    browser
        .type_into("input[name=password]", TEST_PASSWORD)
        .await;
    browser.click(".signin-form button[type=submit]").await;
    browser.find("#lookup-search").await;
}

#[tokio::test]
async fn a_budtender_finds_a_customer_by_phone_adds_a_note_and_checks_them_in_and_another_register_sees_it()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    let store = denver_store(&app).await;
    let register = driver.browser(1440, 900).await;
    let other_register = driver.browser(1024, 768).await;

    // Arrange: a second register watching the queue.
    sign_in(&other_register, &app, "jamie", Role::Budtender).await;
    other_register.goto(&app.url("/app/queue")).await;
    other_register
        .wait_text("[data-test=queue]", "Nobody is waiting")
        .await;

    // The sign-in screen refuses a wrong password and says so.
    app.create_user_at("alex", Role::Budtender, &[&store]).await;
    register.goto(&app.url("/")).await;
    register.type_into("input[name=username]", "alex").await;
    register
        .type_into("input[name=password]", "not-the-password")
        .await;
    register.click(".signin-form button[type=submit]").await;
    register.wait_text(".form-error", "do not match").await;
    register.screenshot("signin-refused-1440").await;
    register
        .type_into("input[name=password]", TEST_PASSWORD)
        .await;
    register.click(".signin-form button[type=submit]").await;
    register.find("#lookup-search").await;
    register.screenshot("lookup-empty-1440").await;

    // Phone typed the way a customer reads it out; results appear without pressing anything.
    register.type_into("#lookup-search", "303.555.0142").await;
    register
        .wait_text("#lookup-results", "Sarah Mitchell")
        .await;
    register.screenshot("lookup-results-1440").await;
    // Keyboard only: the first match is active, Enter opens it.
    register.type_into("#lookup-search", "\u{E007}").await;
    register
        .wait_path("the profile", |p| p == format!("/app/customers/{id}"))
        .await;
    register.wait_text("h1", "Sarah Mitchell").await;
    register.wait_text("[data-test=eligibility]", "Age").await;
    register.find("[data-test=limits]").await;

    register
        .type_into(
            ".note-form textarea",
            "Prefers indica; ask about the loyalty card",
        )
        .await;
    register.click(".note-form button[type=submit]").await;
    register
        .wait_text(
            "[data-test=notes]",
            "Prefers indica; ask about the loyalty card",
        )
        .await;
    let notes = app.get(&format!("/api/v1/customers/{id}/notes")).await;
    assert_eq!(
        notes.body["items"][0]["body"],
        "Prefers indica; ask about the loyalty card"
    );

    // One tap checks in; the other register's queue shows it without a reload.
    register.click("[data-test=check-in]").await;
    register
        .wait_text(".checkin-result", "Customer Checked In")
        .await;
    register.screenshot("profile-checked-in-1440").await;
    other_register
        .wait_text("[data-test=queue]", "Sarah M.")
        .await;
    other_register.screenshot("queue-1024").await;

    register.click("[data-test=sign-out]").await;
    register
        .wait_path("the sign-in screen", |p| p == "/app/signin")
        .await;
    let session = register
        .client
        .execute(
            "return fetch('/api/v1/session').then(r => r.status)",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(session, json!(401), "signed out for real");
    register.close().await;
    other_register.close().await;
}

#[tokio::test]
async fn a_manager_bans_a_customer_and_a_budtender_sees_the_flag_and_check_in_is_refused_with_the_reason()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    denver_store(&app).await;
    let manager = driver.browser(1024, 768).await;
    let budtender = driver.browser(1024, 768).await;

    sign_in(&manager, &app, "morgan", Role::Manager).await;
    manager
        .goto(&app.url(&format!("/app/customers/{id}")))
        .await;
    manager.click("[data-test=ban]").await;
    manager
        .type_into("dialog input[name=reason]", "Resold product to a minor")
        .await;
    manager.screenshot("ban-dialog-1024").await;
    manager.click("dialog button[type=submit]").await;
    manager
        .wait_text(
            "[data-test=banned-banner]",
            "Banned — Resold product to a minor",
        )
        .await;
    let stored = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(stored.body["banned"], true);

    sign_in(&budtender, &app, "sam", Role::Budtender).await;
    // A banned customer still appears in search, flagged.
    budtender.type_into("#lookup-search", "Mitchell").await;
    budtender
        .wait_text("#lookup-results", "Banned: Resold product to a minor")
        .await;
    budtender.type_into("#lookup-search", "\u{E007}").await;
    budtender
        .wait_text("[data-test=banned-banner]", "Resold product to a minor")
        .await;
    // Budtenders cannot lift a ban.
    let unban = budtender
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-test=unban], [data-test=ban]",
        ))
        .await
        .expect("find");
    assert!(unban.is_empty(), "no ban controls for a budtender");

    // The server's decision is on the screen before anyone clicks: check-in is off, with the reason.
    let check_in = budtender.find("[data-test=check-in]").await;
    assert_eq!(
        check_in.attr("disabled").await.expect("attr").as_deref(),
        Some("true")
    );
    budtender
        .wait_text("[data-test=checkin-why]", "Resold product to a minor")
        .await;
    budtender
        .wait_text(
            "[data-test=result-ban], [data-test=banned-banner]",
            "Resold product to a minor",
        )
        .await;
    budtender.screenshot("profile-banned-refused-1024").await;
    let store_queue = app.get("/api/v1/stores").await;
    let store_id = store_queue.body["items"][0]["id"].as_str().expect("store");
    let queue = app
        .get(&format!("/api/v1/stores/{store_id}/checkins"))
        .await;
    assert_eq!(queue.body["items"], json!([]), "nobody was queued");
    manager.close().await;
    budtender.close().await;
}

#[tokio::test]
async fn the_new_customer_form_shows_the_api_error_beside_the_field() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let browser = driver.browser(1024, 768).await;
    sign_in(&browser, &app, "robin", Role::Budtender).await;

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

#[tokio::test]
async fn the_admin_screens_and_dashboard_render_on_a_tablet_and_a_desktop() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    sarah(&app).await;
    denver_store(&app).await;
    let res = app
        .post(
            "/api/v1/groups",
            json!({"name": "VIP", "description": "Regulars", "discounts": [{"type": "percent", "percent": "10"}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    for (width, height) in [(1024, 768), (1440, 900)] {
        let browser = driver.browser(width, height).await;
        sign_in(&browser, &app, &format!("admin{width}"), Role::Admin).await;
        browser.goto(&app.url("/app/dashboard")).await;
        browser.wait_text("[data-test=dash-customers]", "1").await;
        browser.screenshot(&format!("dashboard-{width}")).await;
        for section in ["groups", "staff", "keys", "stores", "audit"] {
            browser
                .goto(&app.url(&format!("/app/admin/{section}")))
                .await;
            browser.find(".admin-body table, .admin-body .empty").await;
            browser
                .screenshot(&format!("admin-{section}-{width}"))
                .await;
        }
        browser
            .wait_text("[data-test=audit]", "created the profile of Sarah Mitchell")
            .await;
        browser.close().await;
    }
}

/// The back of a Colorado licence as a keyboard-wedge scanner types it (the record separator dropped,
/// every terminator an Enter).
const COLORADO_LICENCE: &str = "@\n\nANSI 636020070002DL00410224ZC02650010DLDAQ102367033\nDCSMOTORIST\nDDEU\nDACMICHAEL\nDDFU\nDADCODY\nDDGU\nDCAR\nDCBNONE\nDCDNONE\nDBD08082013\nDBB07131992\nDBA07132018\nDBC1\nDAU073 IN\nDAYGRN\nDAG909 COUNTRY ROAD 206\nDAIBOULDER\nDAJCO\nDAK816350000  \nDCFNONE\nDCGUSA\nDDAM\nDDB06012013\nZCZCA\nZCB\n";

/// A Massachusetts licence nobody in the store has shown before.
const MASSACHUSETTS_LICENCE: &str = "@\n\nANSI 636002080002DL00410260ZM06020044DLDCAD\nDCBNONE\nDCDNONE\nDBA08162021\nDCSSAMPLE\nDACMORRIS\nDADT\nDBD08092016\nDBB12311971\nDBC1\nDAYUNK\nDAU062 in\nDAG24 BEACON STREET\nDAHNONE\nDAIBOSTON\nDAJMA\nDAK021330000  \nDAQS12345678\nDCF08102016 REV 02222016\nDCGUSA\nDDEN\nDDFN\nDDGN\nDCK12345S123456780612\nDDB02222016\nZMZMA504\nZMB08102016\nZMC\nZMD\nZME\n";

#[tokio::test]
async fn a_scanned_id_opens_the_matching_profile_and_an_unknown_one_starts_a_prefilled_profile() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let michael = create_customer(
        &app,
        json!({"first_name": "Michael", "last_name": "Motorist", "date_of_birth": "1992-07-13",
               "id_document": {"kind": "drivers_license", "number": "102367033", "jurisdiction": "CO", "expiry": "2018-07-13"}}),
    )
    .await;
    let register = driver.browser(1024, 768).await;
    sign_in(&register, &app, "casey", Role::Budtender).await;

    // The scanner types into the focused scan field; the profile opens when the burst ends.
    register.click("#scan-field").await;
    register.type_into("#scan-field", COLORADO_LICENCE).await;
    register
        .wait_path("the scanned customer's profile", |p| {
            p == format!("/app/customers/{michael}")
        })
        .await;
    register.wait_text("h1", "Michael Motorist").await;
    // The card on file expired in 2018 and nobody has verified it: not "Compliant".
    let eligibility = register.wait_text("[data-test=eligibility]", "Age").await;
    assert!(!eligibility.contains("Compliant"), "{eligibility}");
    register.screenshot("profile-after-scan-1024").await;

    // A card that matches nobody opens the new-customer form filled from the card.
    register.goto(&app.url("/app/lookup")).await;
    register.click("#scan-field").await;
    register
        .type_into("#scan-field", MASSACHUSETTS_LICENCE)
        .await;
    register
        .wait_path("the new-customer form", |p| p == "/app/customers/new")
        .await;
    let first = register.find("input[name=first_name]").await;
    let value = first.prop("value").await.expect("prop");
    assert_eq!(value.as_deref(), Some("Morris"));
    let last = register.find("input[name=last_name]").await;
    assert_eq!(
        last.prop("value").await.expect("prop").as_deref(),
        Some("Sample")
    );
    // The card expired in 2021: the form says so before anyone creates the profile, and creating it
    // needs a second, deliberate click.
    register
        .wait_text("[data-test=scan-refusal]", "expired")
        .await;
    register.screenshot("new-customer-from-scan-1024").await;
    register.click(".customer-form button[type=submit]").await;
    register.wait_text("dialog", "This person cannot buy").await;
    register
        .screenshot("new-customer-from-scan-confirm-1024")
        .await;
    register.click("dialog .btn-primary").await;
    let nobody = app.get("/api/v1/customers?q=Sample").await;
    assert_eq!(nobody.body["items"], json!([]), "nothing created");
    register.close().await;
}

#[tokio::test]
async fn a_manager_is_warned_of_a_duplicate_at_intake_then_merges_two_profiles_and_undoes_it() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let sarah = sarah(&app).await;
    let manager = driver.browser(1440, 900).await;
    sign_in(&manager, &app, "morgan", Role::Manager).await;

    // Intake: the same person typed again under another spelling is caught before a second profile.
    manager.goto(&app.url("/app/customers/new")).await;
    manager.type_into("input[name=first_name]", "Sara").await;
    manager.type_into("input[name=last_name]", "Mitchell").await;
    manager.type_into("input[name=phone]", "3035550199").await;
    let dob = manager.find("input[name=date_of_birth]").await;
    manager
        .client
        .execute(
            "arguments[0].value = '1997-05-02';",
            vec![serde_json::to_value(&dob).expect("element")],
        )
        .await
        .expect("set date");
    manager.click(".customer-form button[type=submit]").await;
    manager
        .wait_text("[data-test=likely-duplicate]", "same date of birth")
        .await;
    manager.screenshot("intake-duplicate-warning-1440").await;
    manager.click("[data-test=different-person]").await;
    manager.wait_text("h1", "Sara Mitchell").await;
    let sara = manager
        .wait_path("the new profile", |p| {
            p.starts_with("/app/customers/") && !p.ends_with("/new")
        })
        .await
        .trim_start_matches("/app/customers/")
        .to_string();

    // The manager later decides they are one person after all: merge from the profile's page.
    manager
        .goto(&app.url(&format!("/app/merge?survivor={sarah}&merged={sara}")))
        .await;
    manager.click("[data-test=choose-phone-merged]").await;
    manager
        .wait_text(
            "[data-test=merge-preview]",
            "Will move to the surviving profile",
        )
        .await;
    manager.screenshot("merge-side-by-side-1440").await;
    manager.click("[data-test=merge]").await;
    manager
        .wait_text("[data-test=merge-row]", "Merged in")
        .await;
    let survivor = app.get(&format!("/api/v1/customers/{sarah}")).await.body;
    assert_eq!(survivor["phone"], "+13035550199");
    assert_eq!(
        app.get(&format!("/api/v1/customers/{sara}")).await.body["merged_into"],
        json!(sarah)
    );
    manager.screenshot("merge-history-1440").await;

    manager.click("[data-test=undo-merge]").await;
    manager.wait_text("[data-test=merge-row]", "Undone").await;
    let restored = app.get(&format!("/api/v1/customers/{sara}")).await.body;
    assert!(restored["merged_into"].is_null(), "{restored}");
    assert_eq!(
        app.get(&format!("/api/v1/customers/{sarah}")).await.body["phone"],
        "+13035550142"
    );
    manager.close().await;
}
