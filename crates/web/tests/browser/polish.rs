//! The staff app tells staff what the server decided, in their words: every invalid field of a form at
//! once, loyalty settings in dollars with choices from lists, the owner of a phone already on file, points
//! on lookup rows from the search itself, "Show ID image" only when there is one, an unknown customer id
//! in people's words, and the privacy actions (export, erasure with the server's refusal) and retention.

use canopy_domain::{Actor, IdDocumentKind, Role, VerificationMethod, VerifiedDocument};
use canopy_store::{NewVerification, SealedImage};
use serde_json::{Value, json};

use super::{app, create_customer, denver_store, sarah, sign_in};
use crate::harness::{Browser, Driver};
use crate::phone::fits;

/// The text of every element matching `css`.
async fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in browser
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .expect("find")
    {
        out.push(el.text().await.expect("text"));
    }
    out
}

/// Brings the first element matching `css` to the middle of the window (for a screenshot of it).
async fn scroll_to(browser: &Browser, css: &str) {
    let el = browser.find(css).await;
    browser
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&el).expect("element")],
        )
        .await
        .expect("scroll");
}

async fn set_value(browser: &Browser, css: &str, value: &str) {
    let el = browser.find(css).await;
    browser
        .client
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&el).expect("element"), json!(value)],
        )
        .await
        .expect("set value");
}

#[tokio::test]
async fn the_customer_form_marks_every_invalid_field_of_one_submit_and_names_the_owner_of_a_phone()
{
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let sarah = sarah(&app).await;
    for (width, phone) in [(1024, false), (390, true)] {
        let browser = if phone {
            driver.phone(390, 844).await
        } else {
            driver.browser(width, 768).await
        };
        sign_in(&browser, &app, &format!("robin{width}"), Role::Budtender).await;
        browser.goto(&app.url("/app/customers/new")).await;
        browser.type_into("input[name=first_name]", "Jordan").await;
        browser.type_into("input[name=phone]", "12").await;
        browser
            .type_into("input[name=email]", "jordan-at-example")
            .await;
        set_value(&browser, "input[name=date_of_birth]", "2099-01-01").await;
        browser.click(".customer-form button[type=submit]").await;

        // One submit: every field at fault says why, each beside its own input.
        browser
            .wait_text("[data-field=date_of_birth] .field-error", "future")
            .await;
        for (field, words) in [
            ("last_name", "must not be empty"),
            ("phone", "is not a valid phone number"),
            ("email", "email"),
        ] {
            let text = browser
                .wait_text(&format!("[data-field={field}] .field-error"), words)
                .await;
            assert!(!text.is_empty(), "{field}");
            let input = browser.find(&format!("[name={field}]")).await;
            assert_eq!(
                input.attr("aria-invalid").await.expect("attr").as_deref(),
                Some("true"),
                "{field}"
            );
        }
        browser
            .wait_text("[data-test=error-count]", "4 fields need attention")
            .await;
        if phone {
            fits(&browser, "the form with its errors").await;
            browser.screenshot("customer-form-all-errors-390").await;
        } else {
            browser.screenshot("customer-form-all-errors-1024").await;
        }

        // Fixed, except a phone already on file: the warning names its owner and links to them.
        browser.type_into("input[name=last_name]", "Reyes").await;
        let input = browser.find("input[name=phone]").await;
        input.clear().await.expect("clear");
        input.send_keys("(303) 555-0142").await.expect("type");
        browser
            .find("input[name=email]")
            .await
            .clear()
            .await
            .expect("clear");
        set_value(&browser, "input[name=date_of_birth]", "1990-03-04").await;
        browser.click(".customer-form button[type=submit]").await;
        browser
            .wait_text(".form-error", "This belongs to Sarah Mitchell")
            .await;
        let link = browser.find("[data-test=existing-customer]").await;
        assert_eq!(
            link.attr("href").await.expect("href"),
            Some(format!("/app/customers/{sarah}"))
        );
        browser
            .screenshot(&format!("customer-form-phone-owner-{width}"))
            .await;
        browser.click("[data-test=existing-customer]").await;
        browser.wait_text("h1", "Sarah Mitchell").await;
        browser.close().await;
    }
    let nobody = app.get("/api/v1/customers?q=Reyes").await;
    assert_eq!(nobody.body["items"], json!([]), "nothing created");
}

#[tokio::test]
async fn an_admin_edits_the_loyalty_program_in_dollars_with_choices_from_lists() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    denver_store(&app).await;
    let browser = driver.browser(1024, 768).await;
    sign_in(&browser, &app, "alex", Role::Admin).await;
    browser.goto(&app.url("/app/admin/stores")).await;
    browser.find("[data-test=loyalty-settings]").await;

    // Amounts in dollars, not cents; choices as lists, not free text.
    let spend = browser
        .find("[data-test=loyalty-settings] input[name=spend_cents_per_point]")
        .await;
    assert_eq!(
        spend.prop("value").await.expect("value").as_deref(),
        Some("1.00")
    );
    let worth = browser.find("input[name=value_cents]").await;
    assert_eq!(
        worth.prop("value").await.expect("value").as_deref(),
        Some("5.00")
    );
    for choice in ["enabled", "earn_basis", "rounding"] {
        let el = browser
            .find(&format!("[data-test=loyalty-settings] [name={choice}]"))
            .await;
        assert_eq!(el.tag_name().await.expect("tag"), "select", "{choice}");
    }
    let options = texts(&browser, "select[name=rounding] option").await;
    assert!(options.iter().any(|o| o.contains("nearest")), "{options:?}");
    browser.screenshot("loyalty-settings-1024").await;

    // A mistyped amount is refused beside its field, together with any other, before anything is sent.
    let spend = browser.find("input[name=spend_cents_per_point]").await;
    spend.clear().await.expect("clear");
    spend.send_keys("two fifty").await.expect("type");
    let days = browser.find("input[name=pending_days]").await;
    days.clear().await.expect("clear");
    browser
        .click("[data-test=loyalty-settings] button[type=submit]")
        .await;
    browser
        .wait_text(
            "[data-field=spend_cents_per_point] .field-error",
            "in dollars",
        )
        .await;
    browser
        .wait_text("[data-field=pending_days] .field-error", "whole number")
        .await;
    browser.screenshot("loyalty-settings-errors-1024").await;

    let spend = browser.find("input[name=spend_cents_per_point]").await;
    spend.clear().await.expect("clear");
    spend.send_keys("2.50").await.expect("type");
    browser.type_into("input[name=pending_days]", "14").await;
    browser.type_into("input[name=expiry_days]", "365").await;
    browser
        .find("select[name=rounding]")
        .await
        .select_by_value("nearest")
        .await
        .expect("select");
    browser
        .find("input[name=customer_types][value=caregiver]")
        .await
        .click()
        .await
        .expect("untick");
    browser
        .click("[data-test=loyalty-settings] button[type=submit]")
        .await;
    browser.wait_text("#toasts", "Loyalty settings saved").await;
    let program = app.get("/api/v1/loyalty/program").await.body;
    assert_eq!(program["spend_cents_per_point"], 250);
    assert_eq!(program["value_cents"], 500);
    assert_eq!(program["rounding"], "nearest");
    assert_eq!(program["pending_days"], 14);
    assert_eq!(program["expiry_days"], 365);
    assert_eq!(program["customer_types"], json!(["adult_use", "medical"]));
    browser.goto(&app.url("/app/admin/stores")).await;
    let spend = browser.find("input[name=spend_cents_per_point]").await;
    assert_eq!(
        spend.prop("value").await.expect("value").as_deref(),
        Some("2.50")
    );

    // The server's own refusal lands beside the field it names.
    browser
        .find("input[name=customer_types][value=adult_use]")
        .await
        .click()
        .await
        .expect("untick");
    browser
        .find("input[name=customer_types][value=medical]")
        .await
        .click()
        .await
        .expect("untick");
    browser
        .click("[data-test=loyalty-settings] button[type=submit]")
        .await;
    browser
        .wait_text(
            "[data-field=customer_types] .field-error",
            "at least one customer type",
        )
        .await;
    browser.screenshot("loyalty-settings-refused-1024").await;
    browser.close().await;

    let phone = driver.phone(390, 844).await;
    sign_in(&phone, &app, "alex390", Role::Admin).await;
    phone.goto(&app.url("/app/admin/stores")).await;
    phone
        .wait_text("[data-test=loyalty-settings]", "Spend per point ($)")
        .await;
    fits(&phone, "loyalty settings").await;
    phone.screenshot("loyalty-settings-390").await;
    phone.close().await;
}

#[tokio::test]
async fn lookup_rows_show_points_from_the_search_itself_and_unknown_ids_say_so() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let sarah = sarah(&app).await;
    create_customer(&app, json!({"first_name": "Sam", "last_name": "Mitchell"})).await;
    let res = app
        .post(
            &format!("/api/v1/customers/{sarah}/loyalty/adjustments"),
            json!({"points": 120, "reason": "welcome"}),
        )
        .await;
    assert!(res.status < 300, "{:?}", res.body);
    let browser = driver.browser(1024, 768).await;
    sign_in(&browser, &app, "casey", Role::Budtender).await;

    browser.type_into("#lookup-search", "Mitchell").await;
    browser.wait_text("#lookup-results", "Sam Mitchell").await;
    browser.wait_text("#lookup-results", "120 pts").await;
    let mut points = texts(&browser, "[data-test=result-points]").await;
    points.sort();
    assert_eq!(points, ["0 pts", "120 pts"]);
    // No request per row: the page asked for nobody's points on its own.
    let loyalty_requests: Value = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/loyalty')).length",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(loyalty_requests, json!(0));
    browser.screenshot("lookup-points-1024").await;

    // An id that names nobody, mistyped or well-formed, says so and offers the way back.
    for id in ["does-not-exist", "01939c5e-0000-7000-8000-000000000000"] {
        browser
            .goto(&app.url(&format!("/app/customers/{id}")))
            .await;
        let text = browser
            .wait_text("[data-test=not-found]", "No customer with this id")
            .await;
        assert!(!text.contains("Something went wrong"), "{text}");
    }
    browser.screenshot("unknown-customer-1024").await;
    browser.click("[data-test=not-found-back]").await;
    browser.wait_path("lookup", |p| p == "/app/lookup").await;
    browser
        .goto(&app.url("/app/customers/does-not-exist/edit"))
        .await;
    browser
        .wait_text("[data-test=not-found]", "No customer with this id")
        .await;
    browser.close().await;

    let phone = driver.phone(390, 844).await;
    sign_in(&phone, &app, "casey390", Role::Budtender).await;
    phone.goto(&app.url("/app/customers/does-not-exist")).await;
    phone
        .wait_text("[data-test=not-found]", "No customer with this id")
        .await;
    fits(&phone, "unknown customer").await;
    phone.screenshot("unknown-customer-390").await;
    phone.close().await;
}

/// Records a verification with an (opaque) sealed image through the store.
async fn verify_with_image(app: &canopy_testkit::TestApp, customer: &str) {
    app.store
        .record_verification(
            customer.parse().expect("id"),
            NewVerification {
                method: VerificationMethod::Manual,
                document: VerifiedDocument {
                    kind: IdDocumentKind::DriversLicense,
                    number: "D1234567".into(),
                    jurisdiction: Some("CO".into()),
                    expiry: Some("2031-05-02".parse().expect("date")),
                    date_of_birth: "1997-05-02".parse().expect("date"),
                },
                reason: Some("scanner down".into()),
            },
            Some(SealedImage {
                content_type: "image/jpeg".into(),
                sealed: vec![7; 64],
            }),
            &Actor::system("test"),
            jiff::Timestamp::now(),
        )
        .await
        .expect("verification");
}

#[tokio::test]
async fn the_id_panel_shows_the_image_button_and_retention_only_as_the_server_states_them_and_erasure_shows_its_refusal()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let store = denver_store(&app).await;
    let sarah = sarah(&app).await;
    verify_with_image(&app, &sarah).await;
    let omar = create_customer(
        &app,
        json!({"first_name": "Omar", "last_name": "Haddad", "date_of_birth": "1980-01-01",
               "id_document": {"kind": "drivers_license", "number": "H7654321", "jurisdiction": "CO", "expiry": "2031-01-01"}}),
    )
    .await;
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5g", "category": "flower", "price_cents": 3500, "net_weight_g": "3.5"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let order = app
        .post_with_headers(
            "/api/v1/checkout",
            json!({"customer_id": sarah, "store_id": store, "channel": "pickup",
                   "lines": [{"sku": "FLW-35", "quantity": 1}]}),
            &[("Idempotency-Key", "pickup-1")],
        )
        .await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let order_id = order.body["order"]["id"]
        .as_str()
        .expect("order")
        .to_string();

    let admin = driver.browser(1024, 768).await;
    sign_in(&admin, &app, "alex", Role::Admin).await;

    // An ID on file without an image: no button to show one; the retention says there is none.
    admin
        .goto(&app.url(&format!("/app/customers/{omar}")))
        .await;
    admin.wait_text("h1", "Omar Haddad").await;
    admin
        .wait_text("[data-test=retention-image]", "none on file")
        .await;
    assert!(
        texts(&admin, "[data-test=show-id-image]").await.is_empty(),
        "no image, no button"
    );

    // With an image: the button, and when the policy deletes the image and the scanned number.
    admin
        .goto(&app.url(&format!("/app/customers/{sarah}")))
        .await;
    admin.wait_text("h1", "Sarah Mitchell").await;
    admin.find("[data-test=show-id-image]").await;
    admin.screenshot("profile-admin-actions-1024").await;
    let retention = admin
        .wait_text("[data-test=retention-image]", "deleted on")
        .await;
    assert!(retention.contains("days"), "{retention}");
    admin
        .wait_text("[data-test=retention-scan]", "removed on")
        .await;
    admin.find("[data-test=privacy-export]").await;
    scroll_to(&admin, "[data-test=retention]").await;
    admin.screenshot("profile-retention-1024").await;

    // Export: the document downloads and the request is logged.
    scroll_to(&admin, "[data-test=privacy-export]").await;
    admin.click("[data-test=privacy-export]").await;
    admin.wait_text("#toasts", "Export downloaded").await;

    // Erasure asks for the reason and shows the server's refusal while an order is still open.
    scroll_to(&admin, "[data-test=privacy-erase]").await;
    admin.click("[data-test=privacy-erase]").await;
    admin.click("dialog button[type=submit]").await;
    admin
        .wait_text("dialog [data-field=reason] .field-error", "reason")
        .await;
    admin
        .type_into("dialog input[name=reason]", "Asked by email on 1 December")
        .await;
    admin.click("dialog button[type=submit]").await;
    admin
        .wait_text("[data-test=erase-refusal]", "open order")
        .await;
    admin.screenshot("erase-refused-1024").await;
    assert_eq!(
        app.get(&format!("/api/v1/customers/{sarah}")).await.body["last_name"],
        "Mitchell"
    );
    admin.click("dialog button.btn:not([type=submit])").await;

    // Once the order is handed over, the same request goes through.
    let done = app
        .post(
            &format!("/api/v1/orders/{order_id}/status"),
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    scroll_to(&admin, "[data-test=privacy-erase]").await;
    admin.click("[data-test=privacy-erase]").await;
    admin
        .type_into("dialog input[name=reason]", "Asked by email on 1 December")
        .await;
    admin.click("dialog button[type=submit]").await;
    admin
        .wait_text("[data-test=erased]", "Personal data erased on")
        .await;
    scroll_to(&admin, "[data-test=retention]").await;
    admin.screenshot("profile-erased-1024").await;
    let erased = app.get(&format!("/api/v1/customers/{sarah}")).await.body;
    assert_ne!(erased["last_name"], "Mitchell", "{erased}");
    admin.close().await;

    // A budtender has neither action; the retention state is still shown.
    let budtender = driver.phone(390, 844).await;
    sign_in(&budtender, &app, "sam", Role::Budtender).await;
    budtender
        .goto(&app.url(&format!("/app/customers/{omar}")))
        .await;
    budtender
        .wait_text("[data-test=retention-image]", "none on file")
        .await;
    assert!(
        texts(
            &budtender,
            "[data-test=privacy-erase], [data-test=privacy-export]"
        )
        .await
        .is_empty()
    );
    fits(&budtender, "profile with retention").await;
    scroll_to(&budtender, "[data-test=retention]").await;
    budtender.screenshot("profile-retention-390").await;
    budtender.close().await;
}

#[tokio::test]
async fn the_merge_screen_shows_the_result_of_each_choice_and_merges_and_undoes_on_a_tablet_and_a_phone()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let sarah = sarah(&app).await;
    let res = app
        .post(
            "/api/v1/customers?different_person=true",
            json!({"first_name": "Sara", "last_name": "Mitchell", "phone": "(303) 555-0199", "date_of_birth": "1997-05-02"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let sara = res.body["id"].as_str().expect("id").to_string();

    for phone in [false, true] {
        let browser = if phone {
            driver.phone(390, 844).await
        } else {
            driver.browser(1024, 768).await
        };
        let width = if phone { 390 } else { 1024 };
        sign_in(&browser, &app, &format!("morgan{width}"), Role::Manager).await;
        browser
            .goto(&app.url(&format!("/app/merge?survivor={sarah}&merged={sara}")))
            .await;
        // Side by side, with what the survivor will hold: an empty side keeps the other's value.
        browser
            .wait_text("[data-test=after-email]", "sarah.mitchell@example.com")
            .await;
        browser
            .wait_text("[data-test=after-id_document]", "D1234567")
            .await;
        browser.click("[data-test=choose-phone-survivor]").await;
        browser
            .wait_text("[data-test=after-phone]", "(303) 555-0142")
            .await;
        browser.click("[data-test=choose-phone-merged]").await;
        browser
            .wait_text("[data-test=after-phone]", "(303) 555-0199")
            .await;
        if phone {
            fits(&browser, "the merge screen").await;
        }
        browser.screenshot(&format!("merge-result-{width}")).await;
        browser.click("[data-test=merge]").await;
        browser
            .wait_text("[data-test=merge-row]", "Merged in")
            .await;
        let survivor = app.get(&format!("/api/v1/customers/{sarah}")).await.body;
        assert_eq!(
            (survivor["phone"].as_str(), survivor["email"].as_str()),
            (Some("+13035550199"), Some("sarah.mitchell@example.com"))
        );
        if phone {
            fits(&browser, "the merge history").await;
        }
        browser.screenshot(&format!("merge-history-{width}")).await;
        browser.click("[data-test=undo-merge]").await;
        browser.wait_text("[data-test=merge-row]", "Undone").await;
        let restored = app.get(&format!("/api/v1/customers/{sara}")).await.body;
        assert!(restored["merged_into"].is_null(), "{restored}");
        assert_eq!(
            app.get(&format!("/api/v1/customers/{sarah}")).await.body["phone"],
            "+13035550142"
        );
        browser.close().await;
    }
}
