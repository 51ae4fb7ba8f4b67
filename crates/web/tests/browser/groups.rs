//! The group editor: saving a group keeps every discount exactly as it was unless staff changed it.

use canopy_domain::Role;
use serde_json::{Value, json};

use super::{app, sign_in};
use crate::harness::Driver;

/// A group's discounts without their ids (a save replaces them, so ids are new each time).
fn discounts(group: &Value) -> Vec<Value> {
    group["discounts"]
        .as_array()
        .expect("discounts")
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.as_object_mut().expect("object").remove("id");
            d
        })
        .collect()
}

#[tokio::test]
async fn editing_a_group_keeps_every_discount_kind_its_categories_and_dates() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let res = app
        .post(
            "/api/v1/groups",
            json!({"name": "Edibles club", "description": "Monthly edibles",
                "discounts": [
                    {"type": "percent", "percent": "20", "label": "20% off flower & pre-rolls", "categories": ["flower", "pre_roll"]},
                    {"type": "amount", "amount_cents": 500, "label": "$5 off edibles", "categories": ["edible"],
                     "starts_on": "2026-01-01", "ends_on": "2027-12-31"}
                ]}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let id = res.body["id"].as_str().expect("id").to_string();
    let before = discounts(&res.body);

    let browser = driver.browser(1024, 768).await;
    sign_in(&browser, &app, "morgan", Role::Manager).await;
    browser.goto(&app.url("/app/admin/groups")).await;
    // The list names each discount with what it applies to.
    let listed = browser
        .wait_text("[data-test=group-discounts]", "20% off flower & pre-rolls")
        .await;
    assert!(listed.contains("$5 off edibles"), "{listed}");
    browser.screenshot("groups-list-1024").await;

    // Only the description changes: both discounts come back exactly as they were.
    browser.click("[data-test=edit-group]").await;
    browser.find("dialog [data-test=discount-row]").await;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("dialog [data-test=discount-row]"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2, "the dialog shows both discounts");
    let description = browser.find("dialog input[name=description]").await;
    description.clear().await.expect("clear");
    description
        .send_keys("Edibles and flower deals")
        .await
        .expect("type");
    browser.screenshot("group-editor-1024").await;
    browser.click("dialog button[type=submit]").await;
    browser
        .wait_text("[data-test=groups]", "Edibles and flower deals")
        .await;
    let after = app.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(after.body["description"], "Edibles and flower deals");
    assert_eq!(discounts(&after.body), before, "discounts survive the edit");

    // Adding a third discount keeps the first two and stores the new one in exact cents.
    browser.click("[data-test=edit-group]").await;
    browser.click("dialog [data-test=add-discount]").await;
    let kind = browser
        .find("dialog [data-test=discount-row]:nth-child(3) select[name$='.type']")
        .await;
    kind.select_by_value("amount").await.expect("select");
    browser
        .type_into(
            "dialog [data-test=discount-row]:nth-child(3) input[name$='.amount_cents']",
            "2.50",
        )
        .await;
    browser
        .click("dialog [data-test=discount-row]:nth-child(3) input.cat[value=beverage]")
        .await;
    browser.click("dialog button[type=submit]").await;
    browser
        .wait_text("[data-test=group-discounts]", "$2.50 off beverages")
        .await;
    let after = app.get(&format!("/api/v1/groups/{id}")).await;
    let now = discounts(&after.body);
    assert_eq!(now.len(), 3, "{now:?}");
    assert_eq!(now[..2], before[..], "the first two are untouched");
    assert_eq!(now[2]["type"], "amount");
    assert_eq!(now[2]["cents"], 250);
    assert_eq!(now[2]["categories"], json!(["beverage"]));
    browser.screenshot("groups-list-after-edit-1024").await;
    browser.close().await;
}
