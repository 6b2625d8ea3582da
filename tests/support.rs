//! Test support: a whole local stack per test, on free ports and a fresh data folder, plus the
//! HTTP and HLS helpers the workflow tests share.
//!
//! The stack needs the function binaries (`cargo build --workspace --bins`) and dynalite
//! (`npm ci` at the repository root); `scripts/test.sh` does both before `cargo test`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local_stack::stack::{LocalClients, Stack, StackOptions};
use serde_json::Value;

pub use local_stack::stack;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

pub struct TestStack {
    pub stack: Stack,
    pub clients: LocalClients,
    pub http: reqwest::Client,
    pub data_dir: tempfile::TempDir,
}

impl TestStack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A stack with `adjust` applied to its options first.
    pub async fn start_with(adjust: impl FnOnce(&mut StackOptions)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut options =
            StackOptions::ephemeral(data_dir.path().to_path_buf(), repo_root()).expect("binaries beside the test");
        adjust(&mut options);
        let stack = Stack::start(options).await.unwrap_or_else(|e| {
            panic!(
                "local stack did not start: {e}\n(run scripts/test.sh, which builds the binaries and installs dynalite)"
            )
        });
        let clients = LocalClients::new(&stack.dynamodb_url, &stack.harvester_url).await;
        Self { stack, clients, http: reqwest::Client::new(), data_dir }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.stack.api_url)
    }

    /// POSTs a clip request; returns status, Location and the JSON body.
    pub async fn post_clip(&self, body: &Value) -> (u16, Option<String>, Value) {
        let response = self
            .http
            .post(self.api("/api/clip"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST /api/clip");
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, location, response.json().await.expect("JSON body"))
    }

    pub async fn get_json(&self, path_or_url: &str) -> (u16, Value) {
        let url = if path_or_url.starts_with("http") { path_or_url.to_owned() } else { self.api(path_or_url) };
        let response = self.http.get(url).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    pub async fn get_text(&self, url: &str) -> (u16, String) {
        let response = self.http.get(url).send().await.expect("GET");
        (response.status().as_u16(), response.text().await.expect("text body"))
    }

    /// Polls the clip at `location` until its status is final (READY or FAILED) or `timeout`.
    pub async fn wait_until_final(&self, location: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (status, clip) = self.get_json(location).await;
            assert_eq!(status, 200, "GET {location}: {clip}");
            if matches!(clip["status"].as_str(), Some("READY" | "FAILED")) {
                return clip;
            }
            assert!(started.elapsed() < timeout, "clip not final after {timeout:?}: {clip}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Invokes a function through the Lambda Invoke API, as an EventBridge target would.
    pub async fn invoke(&self, function: &str, event: &Value) -> (u16, Option<String>, String) {
        let response = self
            .http
            .post(self.api(&format!("/2015-03-31/functions/{function}/invocations")))
            .body(event.to_string())
            .send()
            .await
            .expect("invoke");
        let status = response.status().as_u16();
        let error = response.headers().get("x-amz-function-error").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, error, response.text().await.unwrap_or_default())
    }

    pub async fn shutdown(self) {
        self.stack.shutdown().await;
    }
}

/// A sample event from `events/`, as `cargo lambda invoke --data-file` reads it.
pub fn sample_event(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Resolves `reference` against the playlist URL it appeared in.
pub fn resolve(base: &str, reference: &str) -> String {
    reqwest::Url::parse(base).and_then(|b| b.join(reference)).map(String::from).expect("valid playlist URL")
}
