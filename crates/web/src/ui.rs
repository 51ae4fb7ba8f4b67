//! The staff web app: a small single-page app (ES modules, one stylesheet, no build step) embedded in the
//! binary, so `canopy serve` needs nothing from the internet or the disk.
//!
//! `index.html` is served at `/` and for every `/app/...` path (the client routes those), with no-cache so a
//! new binary's app is picked up on the next load. It refers to assets through a versioned prefix
//! (`/assets/<version>/...`, the version being a digest of every embedded file); relative ES-module imports
//! inherit that prefix, so every asset can be cached as immutable and still change with each release.
//! Unversioned `/assets/...` paths are served too, revalidated by ETag.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::AppState;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// Where a page may load anything from: only this server. No inline scripts or styles.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/app", get(index))
        .route("/app/", get(index))
        .route("/app/{*client_route}", get(index))
        // Where a refused HTML-form sign-in (`POST /api/v1/session`) sends the browser back to.
        .route("/sign-in", get(index))
        .route("/assets/{*path}", get(asset))
}

/// A digest of every embedded file: changes whenever any asset does.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a over the files' SHA-256 digests, in name order: short, stable, and enough to bust caches.
        let mut names: Vec<_> = Assets::iter().collect();
        names.sort();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for name in names {
            if let Some(file) = Assets::get(&name) {
                for byte in name.bytes().chain(file.metadata.sha256_hash()) {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
        format!("{hash:016x}")
    })
}

fn index_html() -> &'static str {
    static INDEX: OnceLock<String> = OnceLock::new();
    INDEX.get_or_init(|| {
        let raw = Assets::get("index.html")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default();
        raw.replace("/assets/", &format!("/assets/{}/", version()))
    })
}

fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

async fn index() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        index_html(),
    )
        .into_response();
    security_headers(response.headers_mut());
    response
}

async fn asset(Path(path): Path<String>, request_headers: HeaderMap) -> Response {
    let (path, immutable) = match path.split_once('/') {
        Some((prefix, rest)) if prefix == version() => (rest.to_string(), true),
        _ => (path, false),
    };
    if path == "index.html" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype();
        let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
        (
            [(header::CONTENT_TYPE, content_type)],
            file.data.into_owned(),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    security_headers(headers);
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_points_at_versioned_assets() {
        let html = index_html();
        assert!(html.contains(&format!("/assets/{}/app.css", version())));
        assert!(!html.contains("\"/assets/app.css"));
    }

    #[test]
    fn every_module_the_app_imports_is_embedded() {
        for file in Assets::iter().filter(|f| f.ends_with(".js")) {
            let source = Assets::get(&file).map(|f| f.data).unwrap_or_default();
            let source = String::from_utf8_lossy(&source);
            let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            for line in source
                .lines()
                .filter(|l| l.trim_start().starts_with("import "))
            {
                let Some(spec) = line.split(['\'', '"']).nth(1) else {
                    continue;
                };
                let resolved = resolve(dir, spec);
                assert!(
                    Assets::get(&resolved).is_some(),
                    "{file} imports {spec}, which is not embedded ({resolved})"
                );
            }
        }
    }

    fn resolve(dir: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for segment in spec.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }
}
