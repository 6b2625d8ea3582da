//! Test harness: a harvester on 127.0.0.1:0 with real AWS SDK clients, and an in-test event
//! target.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_mediapackage as mp;
use aws_sdk_mediapackagevod as mpv;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{SecondsFormat, TimeDelta, Utc};
use local_harvester::{HarvesterConfig, HarvesterError, S3Endpoint};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// A fresh, unique data directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("local-harvester-it-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running harvester.
pub struct Harvester {
    pub address: SocketAddr,
    pub data_dir: PathBuf,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), HarvesterError>>,
    /// The data directory when this harvester owns it; removed after `stop`.
    _owned_dir: Option<TempDir>,
}

impl Harvester {
    /// Starts a harvester with the demo on `data_dir`, delivering events to `targets`.
    pub async fn start(data_dir: &Path, targets: Vec<Url>) -> Self {
        Self::start_with_s3(data_dir, targets, None).await
    }

    /// [`Harvester::start`], keeping the buckets in `s3` when given.
    pub async fn start_with_s3(data_dir: &Path, targets: Vec<Url>, s3: Option<S3Endpoint>) -> Self {
        // Warnings (a failed harvest job says why only there) go with the test's output;
        // RUST_LOG asks for more.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut config = HarvesterConfig::new(data_dir, Url::parse(&format!("http://{address}/")).unwrap());
        config.event_targets = targets;
        config.demo = true;
        let (shutdown, stop) = oneshot::channel::<()>();
        let handle = tokio::spawn(local_harvester::serve_with_s3(listener, config, s3, async move {
            let _ = stop.await;
        }));
        Self { address, data_dir: data_dir.to_owned(), shutdown, handle, _owned_dir: None }
    }

    /// Starts a harvester with the demo on a data directory of its own.
    pub async fn fresh(targets: Vec<Url>) -> Self {
        let dir = TempDir::new();
        let mut harvester = Self::start(dir.path(), targets).await;
        harvester._owned_dir = Some(dir);
        harvester
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.address, path.trim_start_matches('/'))
    }

    pub fn live(&self) -> mp::Client {
        self.live_with_retries(mp::config::retry::RetryConfig::standard())
    }

    pub fn live_with_retries(&self, retries: mp::config::retry::RetryConfig) -> mp::Client {
        let config = mp::Config::builder()
            .behavior_version(mp::config::BehaviorVersion::latest())
            .region(mp::config::Region::new("us-east-1"))
            .credentials_provider(mp::config::Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(format!("http://{}", self.address))
            .retry_config(retries)
            .build();
        mp::Client::from_conf(config)
    }

    pub fn vod(&self) -> mpv::Client {
        let config = mpv::Config::builder()
            .behavior_version(mpv::config::BehaviorVersion::latest())
            .region(mpv::config::Region::new("us-east-1"))
            .credentials_provider(mpv::config::Credentials::new("test", "test", None, None, "test"))
            // A trailing slash, as AWS_ENDPOINT_URL_* values often have.
            .endpoint_url(format!("http://{}/", self.address))
            .build();
        mpv::Client::from_conf(config)
    }

    /// Shuts down and waits until every background task has stopped.
    pub async fn stop(self) {
        self.shutdown.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.handle).await.expect("graceful shutdown").unwrap().unwrap();
    }
}

/// An RFC 3339 time `seconds` from now (negative: in the past).
pub fn from_now(seconds: i64) -> String {
    (Utc::now() + TimeDelta::seconds(seconds)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a harvest job on the demo endpoint and waits for its final status.
pub async fn harvest(client: &mp::Client, id: &str, start: String, end: String, key: &str) -> mp::types::Status {
    harvest_from(client, local_harvester::DEMO_ORIGIN_ENDPOINT_ID, id, start, end, key).await
}

/// Creates a harvest job on `endpoint` and waits for its final status.
pub async fn harvest_from(
    client: &mp::Client,
    endpoint: &str,
    id: &str,
    start: String,
    end: String,
    key: &str,
) -> mp::types::Status {
    let created = client
        .create_harvest_job()
        .id(id)
        .origin_endpoint_id(endpoint)
        .start_time(start)
        .end_time(end)
        .s3_destination(
            mp::types::S3Destination::builder()
                .bucket_name("clips")
                .manifest_key(key)
                .role_arn("arn:aws:iam::000000000000:role/harvest")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), Some(&mp::types::Status::InProgress));
    eventually(20, "the harvest job to finish", || async {
        let job = client.describe_harvest_job().id(id).send().await.unwrap();
        job.status().filter(|s| **s != mp::types::Status::InProgress).cloned()
    })
    .await
}

/// What the in-test event target does with a delivery.
#[derive(Clone, Copy)]
pub enum Failure {
    /// Answers 500.
    Status,
    /// Answers 200 with `X-Amz-Function-Error`, like the Lambda Invoke API for a failed function.
    FunctionError,
}

#[derive(Default)]
struct SinkState {
    received: Mutex<Vec<Value>>,
    attempts: AtomicUsize,
    fail_first: AtomicUsize,
}

/// An event target on 127.0.0.1:0 that records what it accepts, after refusing the first
/// `fail_first` deliveries.
pub struct EventSink {
    pub url: Url,
    state: Arc<SinkState>,
}

impl EventSink {
    pub async fn start(fail_first: usize, failure: Failure) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, fail_first, failure)
    }

    /// Serves on `listener` (e.g. bound to a port chosen earlier).
    pub fn serve(listener: tokio::net::TcpListener, fail_first: usize, failure: Failure) -> Self {
        let address = listener.local_addr().unwrap();
        let state = Arc::new(SinkState { fail_first: AtomicUsize::new(fail_first), ..SinkState::default() });
        let app = axum::Router::new()
            .route(
                "/2015-03-31/functions/process-harvested-clip/invocations",
                post(move |State(state): State<Arc<SinkState>>, headers: HeaderMap, body: String| async move {
                    state.attempts.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(headers["content-type"], "application/json");
                    let failing =
                        state.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                    if failing {
                        return match failure {
                            Failure::Status => (StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), "down"),
                            Failure::FunctionError => {
                                let mut headers = HeaderMap::new();
                                headers.insert("X-Amz-Function-Error", "Unhandled".parse().unwrap());
                                (StatusCode::OK, headers, "{\"errorMessage\":\"boom\"}")
                            }
                        };
                    }
                    state.received.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                    (StatusCode::OK, HeaderMap::new(), "null")
                }),
            )
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let url =
            Url::parse(&format!("http://{address}/2015-03-31/functions/process-harvested-clip/invocations")).unwrap();
        Self { url, state }
    }

    pub fn attempts(&self) -> usize {
        self.state.attempts.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Value> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits for an accepted event matching `matches`.
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        eventually(30, what, || async { self.received().into_iter().find(|e| matches(e)) }).await
    }
}

/// True for a harvest job notification about job `id`.
pub fn harvest_event_of(id: &str) -> impl Fn(&Value) -> bool + '_ {
    move |e| e["detail-type"] == "MediaPackage HarvestJob Notification" && e["detail"]["harvest_job"]["id"] == id
}

/// True for an input notification `event` about asset `asset_id`.
pub fn input_event_of<'a>(event: &'a str, asset_id: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |e| {
        e["detail-type"] == "MediaPackage Input Notification"
            && e["detail"]["event"] == event
            && e["resources"][0].as_str().is_some_and(|arn| arn.ends_with(&format!(":assets/{asset_id}")))
    }
}

/// Creates packaging group `group` with one HLS configuration (manifest `index`) and an asset
/// `id` of `s3://clips/{key}`, waits until it is playable, and returns its egress URL.
pub async fn playable_asset(vod: &mpv::Client, group: &str, id: &str, key: &str) -> String {
    vod.create_packaging_group().id(group).send().await.unwrap();
    vod.create_packaging_configuration()
        .id(format!("{group}-hls"))
        .packaging_group_id(group)
        .hls_package(
            mpv::types::HlsPackage::builder()
                .hls_manifests(mpv::types::HlsManifest::builder().manifest_name("index").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    create_asset(vod, group, id, key).await;
    egress_when(vod, id, "PLAYABLE").await
}

/// Creates asset `id` of `s3://clips/{key}` in packaging group `group`.
pub async fn create_asset(vod: &mpv::Client, group: &str, id: &str, key: &str) {
    vod.create_asset()
        .id(id)
        .packaging_group_id(group)
        .source_arn(format!("arn:aws:s3:::clips/{key}"))
        .source_role_arn("arn:aws:iam::000000000000:role/vod")
        .send()
        .await
        .unwrap();
}

/// Waits until asset `id`'s egress has `status` (`PLAYABLE`, `FAILED`), and returns its URL.
pub async fn egress_when(vod: &mpv::Client, id: &str, status: &str) -> String {
    eventually(20, &format!("the asset's egress to be {status}"), || async {
        let asset = vod.describe_asset().id(id).send().await.unwrap();
        let egress = asset.egress_endpoints().first().cloned()?;
        (egress.status() == Some(status)).then(|| egress.url().unwrap().to_owned())
    })
    .await
}
