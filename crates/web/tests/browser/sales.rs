//! Selling at the register, the receipt, and the order afterwards.

use canopy_domain::Role;
use serde_json::json;

use super::{app, denver_store, sarah, sign_in};
use crate::harness::{Browser, Driver};

async fn catalogue(app: &canopy_testkit::TestApp) {
    for product in [
        json!({"sku": "CON-1", "name": "Live Rosin 1g", "category": "concentrate", "price_cents": 4000, "concentrate_g": "1"}),
        json!({"sku": "FLW-35", "name": "Blue Dream 3.5g", "category": "flower", "price_cents": 3500, "net_weight_g": "3.5"}),
    ] {
        let res = app.post("/api/v1/products", product).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
}

/// Scans a product barcode the way a keyboard-wedge scanner types it: the SKU, then Enter.
async fn scan_product(browser: &Browser, sku: &str) {
    browser
        .type_into("#product-search", &format!("{sku}\u{E007}"))
        .await;
}

async fn order_count(app: &canopy_testkit::TestApp, customer: &str) -> usize {
    let res = app
        .get(&format!("/api/v1/customers/{customer}/orders"))
        .await;
    res.body["items"].as_array().expect("items").len()
}

#[tokio::test]
async fn a_budtender_sells_up_to_the_limit_the_customer_redeems_points_and_the_receipt_prints() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    denver_store(&app).await;
    catalogue(&app).await;
    let vip = app
        .post(
            "/api/v1/groups",
            json!({"name": "VIP", "discounts": [{"type": "percent", "percent": "10", "label": "VIP 10% off"}]}),
        )
        .await;
    let vip = vip.body["id"].as_str().expect("group").to_string();
    let res = app
        .post(
            &format!("/api/v1/groups/{vip}/members"),
            json!({"customer_id": id}),
        )
        .await;
    assert_eq!(res.status, 204, "{:?}", res.body);
    let res = app
        .post(
            &format!("/api/v1/customers/{id}/loyalty/adjustments"),
            json!({"points": 300, "reason": "welcome gift"}),
        )
        .await;
    assert!(res.status < 300, "{:?}", res.body);

    let register = driver.browser(1024, 768).await;
    sign_in(&register, &app, "blake", Role::Budtender).await;
    register
        .goto(&app.url(&format!("/app/customers/{id}")))
        .await;
    register.click("[data-test=start-sale]").await;
    register
        .wait_path("the register", |p| p == format!("/app/register/{id}"))
        .await;
    let header = register
        .wait_text("[data-test=register-customer]", "Sarah Mitchell")
        .await;
    assert!(header.contains("300 points"), "{header}");
    assert!(header.contains("VIP"), "{header}");

    // Eight grams of concentrate is Colorado's daily flower equivalent: the ninth is refused
    // before anything is charged, and the meter shows why.
    for _ in 0..9 {
        scan_product(&register, "CON-1").await;
    }
    register.wait_text("[data-test=qty]", "9").await;
    register
        .wait_text("[data-test=refusals]", "This sale cannot go through")
        .await;
    register
        .wait_text("[data-test=register-limits]", "over the limit")
        .await;
    let charge = register.find("[data-test=charge]").await;
    assert_eq!(
        charge.attr("disabled").await.expect("attr").as_deref(),
        Some("true"),
        "no charging over the limit"
    );
    register.screenshot("register-over-limit-1024").await;

    // One back: exactly at the limit, allowed, with the group discount named.
    register
        .click("[data-test=cart-line] button[aria-label^='One fewer']")
        .await;
    register.wait_text("[data-test=qty]", "8").await;
    register
        .wait_text("[data-test=discount-name]", "VIP 10% off")
        .await;
    register.wait_text("[data-test=total]", "$288").await;

    // The customer chooses to spend 200 of their points ($10).
    let redeem = register.find("[data-test=redeem-points]").await;
    redeem.clear().await.expect("clear");
    redeem.send_keys("200").await.expect("type");
    register.wait_text("[data-test=totals]", "200 points").await;
    register.wait_text("[data-test=total]", "$278").await;
    register
        .wait_text("[data-test=charge-note]", "Charges $278")
        .await;
    register.screenshot("register-ready-1024").await;

    // A double click places one order.
    register
        .client
        .execute(
            "const b = document.querySelector('[data-test=charge]'); b.click(); b.click();",
            vec![],
        )
        .await
        .expect("script");
    register.wait_text("[data-test=sale-done]", "placed").await;
    let receipt = register.wait_text("[data-test=receipt]", "Total").await;
    assert!(receipt.contains("VIP 10% off"), "{receipt}");
    assert!(receipt.contains("200 points"), "{receipt}");
    assert!(receipt.contains("$278"), "{receipt}");
    assert_eq!(order_count(&app, &id).await, 1, "one order for two clicks");
    register.screenshot("register-receipt-1024").await;

    // The print stylesheet shows the receipt alone, 80 mm wide. (Applied by switching the
    // stylesheet's print rules on, since a headless window cannot show a print preview.)
    let width = register
        .client
        .execute(
            "for (const s of document.styleSheets) for (const r of s.cssRules) \
             if (r.media && r.media.mediaText === 'print') r.media.mediaText = 'all'; \
             const topbar = getComputedStyle(document.querySelector('.topbar')).display; \
             return [topbar, document.querySelector('[data-test=receipt]').getBoundingClientRect().width];",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(width[0], "none", "the top bar is not printed");
    let px = width[1].as_f64().expect("width");
    assert!(
        (px - 302.0).abs() < 2.0,
        "80 mm is about 302 CSS px, got {px}"
    );
    register.screenshot("receipt-print-view").await;
    register.close().await;
}

#[tokio::test]
async fn a_manager_opens_an_order_from_the_history_and_returns_an_item_while_a_budtender_cannot_open_it()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    let store = denver_store(&app).await;
    catalogue(&app).await;
    let res = app
        .post_with_headers(
            "/api/v1/checkout",
            json!({"customer_id": id, "store_id": store,
                "lines": [{"sku": "FLW-35", "quantity": 2}, {"sku": "CON-1", "quantity": 1}],
                "payments": [{"method": "cash", "amount_cents": 11000}]}),
            &[("Idempotency-Key", "order-detail-1")],
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let number = res.body["order"]["number"].as_i64().expect("number");

    let manager = driver.browser(1440, 900).await;
    sign_in(&manager, &app, "morgan", Role::Manager).await;
    manager
        .goto(&app.url(&format!("/app/customers/{id}")))
        .await;
    manager
        .click("[data-test=history] a[href^='/app/orders/']")
        .await;
    manager.wait_text("h1", &format!("Order #{number}")).await;
    let lines = manager
        .wait_text("[data-test=order-lines]", "Blue Dream")
        .await;
    assert!(lines.contains("3.5 g"), "{lines}");
    manager.wait_text("[data-test=timeline]", "Placed").await;
    manager.screenshot("order-detail-1440").await;

    manager.click("[data-test=return]").await;
    manager
        .type_into("dialog input[name^=qty-]", "\u{E003}1")
        .await;
    manager
        .type_into("dialog input[name=reason]", "Wrong strain")
        .await;
    manager.click("dialog button[type=submit]").await;
    manager
        .wait_text("[data-test=timeline]", "Returned 1 × Blue Dream")
        .await;
    manager.screenshot("order-detail-returned-1440").await;
    manager.close().await;

    // A budtender sees the recent summary without links into full orders.
    let budtender = driver.browser(1024, 768).await;
    sign_in(&budtender, &app, "blake", Role::Budtender).await;
    budtender
        .goto(&app.url(&format!("/app/customers/{id}")))
        .await;
    budtender
        .wait_text("[data-test=history]", &format!("#{number}"))
        .await;
    let links = budtender
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-test=history] a[href^='/app/orders/']",
        ))
        .await
        .expect("find");
    assert!(links.is_empty(), "no order links without orders:history");
    budtender.close().await;
}
