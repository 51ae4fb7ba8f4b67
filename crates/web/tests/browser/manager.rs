//! A manager's screens: the filtered customer list and its CSV, the audit log in words, and consent
//! on the profile.

use canopy_domain::Role;
use serde_json::json;

use super::{app, create_customer, sign_in};
use crate::harness::Driver;

#[tokio::test]
async fn a_manager_filters_the_customer_list_exports_it_and_reads_the_audit_log_in_words() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let yuki = create_customer(
        &app,
        json!({"first_name": "Yuki", "last_name": "Reed", "phone": "(303) 555-0111"}),
    )
    .await;
    let omar = create_customer(&app, json!({"first_name": "Omar", "last_name": "Haddad"})).await;
    let res = app
        .post(
            &format!("/api/v1/customers/{omar}/ban"),
            json!({"reason": "Threatened staff"}),
        )
        .await;
    assert!(res.status < 300, "{:?}", res.body);
    let res = app
        .post(
            &format!("/api/v1/customers/{yuki}/loyalty/adjustments"),
            json!({"points": 50, "reason": "birthday"}),
        )
        .await;
    assert!(res.status < 300, "{:?}", res.body);
    let res = app
        .post(
            &format!("/api/v1/customers/{yuki}/consent"),
            json!({"channel": "sms", "purpose": "transactional", "status": "granted", "source": "pos",
                   "evidence": "said yes at the counter"}),
        )
        .await;
    assert!(res.status < 300, "{:?}", res.body);

    let browser = driver.browser(1440, 900).await;
    sign_in(&browser, &app, "morgan", Role::Manager).await;

    // The list, filtered to banned customers: an honest count, the reason on the row, and the same
    // filter on the CSV.
    browser.goto(&app.url("/app/customers?banned=true")).await;
    browser
        .wait_text("[data-test=customer-count]", "1 customer")
        .await;
    let list = browser
        .wait_text("[data-test=customer-list]", "Omar Haddad")
        .await;
    assert!(list.contains("Threatened staff"), "{list}");
    assert!(!list.contains("Yuki"), "{list}");
    browser.screenshot("customers-banned-1440").await;
    let csv = browser
        .client
        .execute(
            "return fetch(document.querySelector('[data-test=export-csv]').href).then(r => r.text())",
            vec![],
        )
        .await
        .expect("script");
    let csv = csv.as_str().expect("text");
    assert!(csv.contains("Haddad") && !csv.contains("Reed"), "{csv}");

    // The audit log, filtered by an action picked from a list, reads as a sentence with a link.
    browser.goto(&app.url("/app/admin/audit")).await;
    browser.find("[data-test=audit-row]").await;
    browser
        .find("#audit-action")
        .await
        .select_by_value("loyalty.adjust")
        .await
        .expect("select");
    browser.click(".filters button[type=submit]").await;
    browser
        .wait_text(
            "[data-test=audit]",
            "adjusted the points of Yuki Reed by +50: birthday",
        )
        .await;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("[data-test=audit-row]"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "only the adjustment");
    browser.screenshot("audit-filtered-1440").await;
    browser.click("[data-test=audit-customer]").await;
    browser.wait_text("h1", "Yuki Reed").await;

    // The profile shows consent per channel with its evidence.
    let consent = browser
        .wait_text("[data-test=consent]", "said yes at the counter")
        .await;
    assert!(consent.contains("Texts — order updates"), "{consent}");
    assert!(consent.contains("Email — offers"), "{consent}");
    browser.screenshot("profile-consent-1440").await;
    browser.close().await;
}
