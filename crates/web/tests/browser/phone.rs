//! A 390 px phone: every screen fits the width (no sideways scrolling) and the menu and sign-out are
//! on screen.

use canopy_domain::Role;
use serde_json::{Value, json};

use super::{app, denver_store, sarah, sign_in};
use crate::harness::{Browser, Driver};

/// The page's scroll width, and the right edges of the menu links and the sign-out button.
pub(crate) async fn fits(browser: &Browser, what: &str) {
    let out: Value = browser
        .client
        .execute(
            "const edges = [...document.querySelectorAll('.nav-link, [data-test=sign-out]')] \
               .map(e => e.getBoundingClientRect().right); \
             return [document.documentElement.scrollWidth, window.innerWidth, Math.max(...edges), edges.length];",
            vec![],
        )
        .await
        .expect("script");
    let (scroll, inner, right) = (
        out[0].as_f64().expect("scroll width"),
        out[1].as_f64().expect("inner width"),
        out[2].as_f64().expect("right edge"),
    );
    assert_eq!(inner, 390.0, "{what}: the phone's viewport");
    assert!(
        scroll <= inner,
        "{what}: the page is {scroll}px wide in a {inner}px window"
    );
    assert!(
        right <= inner,
        "{what}: the menu reaches {right}px in a {inner}px window"
    );
    assert!(
        out[3].as_i64() >= Some(3),
        "{what}: menu and sign-out shown"
    );
}

#[tokio::test]
async fn every_screen_fits_a_390_pixel_phone_with_the_menu_on_screen() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app().await;
    let id = sarah(&app).await;
    denver_store(&app).await;
    let res = app
        .post(
            "/api/v1/products",
            json!({"sku": "FLW-35", "name": "Blue Dream 3.5g", "category": "flower", "price_cents": 3500, "net_weight_g": "3.5"}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let phone = driver.phone(390, 844).await;
    sign_in(&phone, &app, "alex", Role::Admin).await;
    fits(&phone, "lookup").await;
    phone.screenshot("phone-lookup-390").await;

    // Fourteen people share a surname: lookup says there are more than it shows, and shows them.
    for i in 0..14 {
        let res = app
            .post(
                "/api/v1/customers",
                json!({"first_name": format!("Ama{i}"), "last_name": "Okafor"}),
            )
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
    phone.type_into("#lookup-search", "Okafor").await;
    phone
        .wait_text(".results-status", "More than 12 matches")
        .await;
    phone.click("[data-test=more-results]").await;
    phone.wait_text(".results-status", "14 matches").await;
    let rows = phone
        .client
        .find_all(fantoccini::Locator::Css("#lookup-results [role=option]"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 14);
    let search = phone.find("#lookup-search").await;
    search.clear().await.expect("clear");

    phone.type_into("#lookup-search", "Mitchell").await;
    phone.wait_text("#lookup-results", "Sarah Mitchell").await;
    fits(&phone, "lookup results").await;
    phone.screenshot("phone-lookup-results-390").await;

    phone.goto(&app.url(&format!("/app/customers/{id}"))).await;
    phone.wait_text("h1", "Sarah Mitchell").await;
    phone.find("[data-test=limits]").await;
    fits(&phone, "profile").await;
    phone.screenshot("phone-profile-390").await;

    phone.goto(&app.url(&format!("/app/register/{id}"))).await;
    phone.type_into("#product-search", "FLW-35\u{E007}").await;
    phone.wait_text("[data-test=total]", "$35").await;
    fits(&phone, "register").await;
    phone.screenshot("phone-register-390").await;

    for section in ["groups", "staff", "keys", "stores", "audit"] {
        phone.goto(&app.url(&format!("/app/admin/{section}"))).await;
        phone.find(".admin-body table, .admin-body .empty").await;
        fits(&phone, section).await;
    }
    phone.screenshot("phone-admin-audit-390").await;
    phone.close().await;
}
