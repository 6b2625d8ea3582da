//! The clip studio (the web frontend built from `web/`) served by the API gateway, so the page
//! and the clip API share one origin locally, as they do behind CloudFront on AWS.
//!
//! Only explicit routes: `/` (the page), `/assets/*` (Vite's hashed bundles) and
//! `/config.json` (the page's settings, given here rather than read from disk). The gateway
//! router owns the fallback, and a router merged into it must not bring one.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tower_http::services::ServeDir;

/// How far back the studio's player may scrub, in seconds: it asks the live origin for a
/// time-shifted playlist starting this long ago.
const DVR_WINDOW_SECONDS: u32 = 600;

/// Serves the built studio in `dist` (`web/dist` after `npm run build`) and `config` as
/// `/config.json`.
///
/// The folder is read on every request, so rebuilding the page needs no restart; until it is
/// built, `/` says how to build it.
pub fn site_router(dist: PathBuf, config: Value) -> Router {
    let assets = ServeDir::new(dist.join("assets"));
    Router::new()
        .route("/", get(index))
        .route("/config.json", get(move || std::future::ready(no_cache(axum::Json(config.clone())))))
        .nest_service("/assets", assets)
        .with_state(dist)
}

/// The studio's settings on the local stack: the clip API on the page's own origin, the demo
/// live stream, and competitions to clip it for (any id the API accepts will do; the demo
/// stream stands in for each).
pub fn local_config(live_url: &str) -> Value {
    json!({
        "apiBaseUrl": "",
        "liveUrl": live_url,
        "dvrWindowSeconds": DVR_WINDOW_SECONDS,
        "competitions": [
            {"id": "demo", "name": "Demo stream"},
            {"id": "100m-final", "name": "100 m final"},
        ],
    })
}

async fn index(State(dist): State<PathBuf>) -> Response {
    match tokio::fs::read_to_string(dist.join("index.html")).await {
        Ok(html) => no_cache(Html(html)),
        Err(_) => (StatusCode::NOT_FOUND, not_built(&dist)).into_response(),
    }
}

fn not_built(dist: &Path) -> String {
    format!(
        "The clip studio is not built: {} has no index.html. Run `npm ci && npm run build` in web/.\n",
        dist.display()
    )
}

/// The page and its settings change with every build or restart; only the hashed assets may be
/// cached.
fn no_cache(response: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], response).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `router` on a free loopback port; the server lives as long as the test's runtime.
    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{address}")
    }

    async fn get(base: &str, path: &str) -> (StatusCode, String, String) {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (status, content_type, response.text().await.unwrap())
    }

    #[tokio::test]
    async fn serves_the_page_its_assets_and_its_config() {
        let dist = std::env::temp_dir().join(format!("local-stack-site-{}", fastrand::u64(..)));
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html><title>studio</title>").unwrap();
        std::fs::write(dist.join("assets/app-1234.js"), "console.log(1)").unwrap();
        let live_url = "http://127.0.0.1:4566/out/v1/demo-hls/index.m3u8";
        let base = serve(site_router(dist.clone(), local_config(live_url))).await;

        let (status, content_type, body) = get(&base, "/").await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
        assert!(body.contains("<title>studio</title>"));
        let (status, content_type, _) = get(&base, "/assets/app-1234.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/javascript"), "{content_type}");
        assert_eq!(get(&base, "/assets/missing.js").await.0, StatusCode::NOT_FOUND);

        let (status, content_type, body) = get(&base, "/config.json").await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/json"));
        let config: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(config["apiBaseUrl"], "");
        assert_eq!(config["liveUrl"], live_url);
        assert_eq!(config["competitions"][0]["id"], "demo");

        std::fs::remove_dir_all(&dist).unwrap();
        let (status, _, body) = get(&base, "/").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("npm run build"), "{body}");
    }

    #[tokio::test]
    async fn merges_into_a_router_that_has_a_fallback() {
        let gateway = Router::new().fallback(|| async { (StatusCode::FORBIDDEN, "gateway") });
        let base = serve(gateway.merge(site_router(PathBuf::from("/nonexistent"), json!({})))).await;
        assert_eq!(get(&base, "/config.json").await.0, StatusCode::OK);
        assert_eq!(get(&base, "/api/clip").await.2, "gateway");
    }
}
