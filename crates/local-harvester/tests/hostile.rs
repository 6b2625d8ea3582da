//! Hostile requests against the harvester over HTTP: ids and keys that try to leave their folder,
//! bodies far past any real request, and playlists and segments that are not what they claim.
//! Each must be refused with a 4xx, nothing may land outside the data directory, and a real
//! harvest must still work afterwards.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use chrono::{SecondsFormat, TimeDelta, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use url::Url;

/// Ids and keys meant to reach files outside the harvester's folders, as they arrive once the
/// URL is decoded.
const ESCAPES: [&str; 8] =
    ["..", "../escape", "../../escape", "a/../../escape", "/abs/escape", "a\\..\\escape", "a\0b", "./."];

struct Running {
    url: Url,
    http: Client,
    /// The data directory sits in `root`, beside which nothing may appear.
    root: PathBuf,
    stop: oneshot::Sender<()>,
}

impl Running {
    async fn start() -> Self {
        let root = std::env::temp_dir().join(format!("local-harvester-hostile-{}", fastrand::u64(..)));
        let data_dir = root.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let mut config = local_harvester::HarvesterConfig::new(&data_dir, url.clone());
        config.demo = true;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(local_harvester::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        Self { url, http: Client::new(), root, stop }
    }

    /// Sends `body` to `path` (already percent-encoded) and returns the status and body text.
    async fn send(&self, method: Method, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
        let response = self.http.request(method, self.url.join(path).unwrap()).body(body).send().await.unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    }

    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, String) {
        self.send(Method::POST, path, body.to_string()).await
    }

    /// Everything under the test's root but the data directory: must stay empty.
    fn strays(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.root).unwrap().map(|e| e.unwrap().path()).filter(|p| !p.ends_with("data")).collect()
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}

fn harvest_job(id: &str, endpoint: &str, bucket: &str, key: &str) -> Value {
    let now = Utc::now();
    let at = |ago: i64| (now - TimeDelta::seconds(ago)).to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({
        "id": id,
        "originEndpointId": endpoint,
        "startTime": at(60),
        "endTime": at(40),
        "s3Destination": {"bucketName": bucket, "manifestKey": key, "roleArn": "arn:aws:iam::000000000000:role/harvest"},
    })
}

fn assert_refused((status, body): (StatusCode, String), what: &str) {
    assert!(status.is_client_error(), "{what}: {status} {body}");
    assert!(!body.is_empty(), "{what}: a refusal says why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_and_keys_that_leave_their_folder_are_refused() {
    let harvester = Running::start().await;
    for escape in ESCAPES {
        let what = format!("{escape:?}");
        let job = |id: &str, endpoint: &str, bucket: &str, key: &str| harvest_job(id, endpoint, bucket, key);
        for body in [
            job(escape, "demo-hls", "clips", "ok/index.m3u8"),
            job("ok-id", escape, "clips", "ok/index.m3u8"),
            job("ok-id", "demo-hls", escape, "ok/index.m3u8"),
            job("ok-id", "demo-hls", "clips", &format!("{escape}/index.m3u8")),
        ] {
            let (status, text) = harvester.post_json("harvest_jobs", &body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what} in {body}: {text}");
        }
        assert_refused(harvester.post_json("channels", &json!({"id": escape})).await, &what);
        assert_refused(harvester.post_json("packaging_groups", &json!({"id": escape})).await, &what);
        let encoded = encode(escape);
        for path in [format!("channels/{encoded}"), format!("harvest_jobs/{encoded}"), format!("assets/{encoded}")] {
            assert_refused(harvester.send(Method::GET, &path, "").await, &path);
        }
        let path = format!("out/v1/{encoded}/index.m3u8");
        assert_refused(harvester.send(Method::GET, &path, "").await, &path);
    }
    assert_eq!(harvester.strays(), Vec::<PathBuf>::new(), "files appeared beside the data directory");
    still_harvests(&harvester).await;
    harvester.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_bodies_and_bad_playlists_on_ingest_are_refused() {
    let harvester = Running::start().await;
    // An API request far past any real one.
    let huge = format!("{{\"id\":\"big\",\"description\":\"{}\"}}", "x".repeat(20 << 20));
    assert_refused(harvester.send(Method::POST, "channels", huge).await, "a 20 MiB channel request");
    assert_refused(harvester.send(Method::POST, "harvest_jobs", "{\"id\":").await, "truncated JSON");

    let (status, text) = harvester.post_json("channels", &json!({"id": "hostile"})).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let channel: Value = serde_json::from_str(&text).unwrap();
    let endpoint = &channel["hlsIngest"]["ingestEndpoints"][0];
    let ingest = Url::parse(endpoint["url"].as_str().unwrap()).unwrap();
    let credentials = format!("{}:{}", endpoint["username"].as_str().unwrap(), endpoint["password"].as_str().unwrap());
    let authorization = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    let put = |name: String, body: Vec<u8>| {
        let url = format!("{}/{name}", ingest.as_str().trim_end_matches("/channel"));
        harvester.http.put(url).header("authorization", &authorization).body(body).send()
    };
    let cases: Vec<(String, Vec<u8>, StatusCode)> = vec![
        ("channel.m3u8".into(), b"not a playlist".to_vec(), StatusCode::BAD_REQUEST),
        ("channel.m3u8".into(), vec![0xff; 1024], StatusCode::BAD_REQUEST),
        ("channel.m3u8".into(), b"#EXTM3U\n".repeat(600_000), StatusCode::PAYLOAD_TOO_LARGE),
        ("channel_0.ts".into(), b"not a transport stream".to_vec(), StatusCode::BAD_REQUEST),
        ("channel_0.m4s".into(), b"not an mp4 box".to_vec(), StatusCode::BAD_REQUEST),
        ("channel.exe".into(), b"MZ".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("..%2F..%2Fescape.ts".into(), vec![0x47; 188], StatusCode::BAD_REQUEST),
        ("a%2F..%2F..%2F..%2Fescape.m3u8".into(), b"#EXTM3U\n".to_vec(), StatusCode::BAD_REQUEST),
        ("%2Fabs.ts".into(), vec![0x47; 188], StatusCode::BAD_REQUEST),
    ];
    for (name, body, expected) in cases {
        let response = put(name.clone(), body).await.unwrap();
        let status = response.status();
        assert_eq!(status, expected, "PUT {name}: {}", response.text().await.unwrap_or_default());
    }
    let anonymous = harvester.http.put(ingest.as_str().to_owned() + ".m3u8").body("#EXTM3U\n").send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(harvester.strays(), Vec::<PathBuf>::new(), "files appeared beside the data directory");
    assert!(no_file_named(&harvester.root, "escape"), "an ingest upload left its folder");
    still_harvests(&harvester).await;
    harvester.stop();
}

fn no_file_named(dir: &Path, stem: &str) -> bool {
    std::fs::read_dir(dir).unwrap().all(|entry| {
        let path = entry.unwrap().path();
        let named = path.file_stem().is_some_and(|s| s == stem);
        !named && (!path.is_dir() || no_file_named(&path, stem))
    })
}

/// A real harvest of the demo channel still runs to SUCCEEDED.
async fn still_harvests(harvester: &Running) {
    let (status, text) =
        harvester.post_json("harvest_jobs", &harvest_job("after", "demo-hls", "clips", "after/index.m3u8")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    for _ in 0..200 {
        let (_, text) = harvester.send(Method::GET, "harvest_jobs/after", "").await;
        let job: Value = serde_json::from_str(&text).unwrap();
        match job["status"].as_str() {
            Some("SUCCEEDED") => return,
            Some("IN_PROGRESS") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the harvest after the hostile requests ended {other:?}: {job}"),
        }
    }
    panic!("the harvest after the hostile requests did not finish in 20 s");
}
