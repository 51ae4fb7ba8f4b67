//! The staff web app is served from the binary: the shell at `/` and every `/app/...` path, assets with
//! cache headers, and nothing that loads from elsewhere.

use canopy_testkit::both_engines;

async fn raw(app: &canopy_testkit::TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

both_engines!(
    async fn the_app_shell_is_served_at_the_root_and_for_every_client_route(app) {
        for path in ["/", "/app", "/app/lookup", "/app/customers/0190-anything", "/app/admin/audit"] {
            let res = raw(&app, path).await;
            assert_eq!(res.status(), 200, "{path}");
            assert!(header(&res, "content-type").starts_with("text/html"), "{path}");
            assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
            assert!(header(&res, "content-security-policy").contains("default-src 'self'"));
            let html = res.text().await.expect("body");
            assert!(html.contains("<script type=\"module\""), "{path}");
        }
    }
);

both_engines!(
    async fn versioned_assets_are_immutable_and_unversioned_ones_revalidate_by_etag(app) {
        let html = raw(&app, "/").await.text().await.expect("body");
        let css = html
            .split("href=\"")
            .map(|s| s.split('"').next().unwrap_or(""))
            .find(|s| s.ends_with("/app.css"))
            .expect("stylesheet link")
            .to_string();
        assert!(css.starts_with("/assets/") && css != "/assets/app.css", "{css}");

        let res = raw(&app, &css).await;
        assert_eq!(res.status(), 200);
        assert!(header(&res, "content-type").starts_with("text/css"));
        assert!(header(&res, "cache-control").contains("immutable"));

        let res = raw(&app, "/assets/js/main.js").await;
        assert_eq!(res.status(), 200);
        assert!(header(&res, "content-type").contains("javascript"));
        assert_eq!(header(&res, "cache-control"), "no-cache");
        let etag = header(&res, "etag");
        assert!(!etag.is_empty());
        let again = app
            .client
            .get(app.url("/assets/js/main.js"))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
    }
);

both_engines!(
    async fn unknown_assets_are_not_found_rather_than_the_app(app) {
        assert_eq!(raw(&app, "/assets/nope.js").await.status(), 404);
        assert_eq!(raw(&app, "/assets/index.html").await.status(), 404);
    }
);

both_engines!(
    async fn no_asset_refers_to_another_origin(app) {
        let html = raw(&app, "/").await.text().await.expect("body");
        assert!(!html.contains("http://") && !html.contains("https://"));
        for path in ["/assets/app.css", "/assets/js/main.js", "/assets/js/api.js"] {
            let body = raw(&app, path).await.text().await.expect("body");
            assert!(!body.contains("https://") && !body.contains("http://"), "{path} loads from elsewhere");
        }
    }
);
