//! The handlers fed the sample events of `events/` (the files `cargo lambda invoke` uses), with
//! the real adapters against the local DynamoDB and harvester.

use chrono::Utc;
use clips::adapters::{DynamoClips, MediaPackageHarvester, MediaPackageJobs, MediaPackageVod};
use clips::config::{CreateClipConfig, HarvestDestination, ProcessConfig, TableConfig};
use clips::domain::{Clip, ClipWindow, CompetitionId, WindowRules};
use clips::ports::{WriteClips, Written};
use end_to_end::{TestStack, repo_root, sample_event, stack};
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};
use std::collections::HashMap;

struct Handlers {
    store: DynamoClips,
    harvester: MediaPackageHarvester,
    vod: MediaPackageVod,
    jobs: MediaPackageJobs,
    create: CreateClipConfig,
    process: ProcessConfig,
}

impl Handlers {
    fn new(test: &TestStack) -> Self {
        let table = TableConfig { table_name: stack::TABLE_NAME.to_owned() };
        let destination = HarvestDestination {
            bucket: stack::BUCKET.to_owned(),
            prefix: stack::HARVEST_PREFIX.to_owned(),
            role_arn: stack::HARVEST_ROLE_ARN.to_owned(),
        };
        let rules = WindowRules {
            end_lag: chrono::Duration::seconds(10),
            max_clip: chrono::Duration::seconds(86_400),
            startover_window: chrono::Duration::seconds(i64::from(test.stack.startover_window_seconds)),
        };
        Self {
            store: DynamoClips::new(test.clients.dynamodb.clone(), stack::TABLE_NAME),
            harvester: MediaPackageHarvester::new(
                test.clients.mediapackage.clone(),
                local_harvester::DEMO_ORIGIN_ENDPOINT_ID,
                destination.clone(),
            ),
            vod: MediaPackageVod::new(test.clients.vod.clone(), stack::PACKAGING_GROUP_ID, stack::HARVEST_ROLE_ARN),
            jobs: MediaPackageJobs::new(test.clients.mediapackage.clone()),
            create: CreateClipConfig {
                table: table.clone(),
                destination: destination.clone(),
                origin_endpoint_id: local_harvester::DEMO_ORIGIN_ENDPOINT_ID.to_owned(),
                rules,
            },
            process: ProcessConfig {
                table,
                destination,
                packaging_group_id: stack::PACKAGING_GROUP_ID.to_owned(),
                reconcile_after: chrono::Duration::seconds(120),
            },
        }
    }

    async fn create(&self, request: &Request) -> (u16, Value) {
        let response =
            clips::api::create_clip_handler(&self.store, &self.harvester, &self.create, request, Utc::now()).await;
        respond(response)
    }

    async fn event(&self, event: &Value) -> Result<(), clips::error::EventError> {
        clips::workflow::handle_event(&self.store, &self.vod, &self.jobs, &self.process, event, Utc::now()).await
    }
}

fn respond(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: &[u8] = response.body().as_ref();
    (status, serde_json::from_slice(body).expect("JSON body"))
}

fn api_event(name: &str) -> Request {
    let path = repo_root().join("events").join(name);
    lambda_http::request::from_str(&std::fs::read_to_string(&path).expect("event file")).expect("API Gateway event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_drive_every_handler() {
    let test = TestStack::start().await;
    let handlers = Handlers::new(&test);

    let (status, created) = handlers.create(&api_event("api-create-clip.json")).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!((created["competition"].as_str(), created["status"].as_str()), (Some("100m-final"), Some("HARVESTING")));
    assert_eq!(created["title"], "The final 30 seconds");

    let (status, invalid) = handlers.create(&api_event("api-create-clip-invalid.json")).await;
    assert_eq!(status, 400, "{invalid}");
    let mut fields: Vec<&str> =
        invalid["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["colour", "competition", "duration"], "{invalid}");

    let (status, list) =
        respond(clips::api::list_clips_handler(&handlers.store, &api_event("api-list-clips.json")).await);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["clips"][0]["id"], created["id"]);

    let (status, missing) =
        respond(clips::api::get_clip_handler(&handlers.store, &api_event("api-get-clip.json")).await);
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["status"], 404);

    // The sample harvest events name a clip id that does not exist: acknowledged, not retried.
    for name in ["harvest-succeeded.json", "harvest-completed.json", "harvest-failed.json", "foreign-event.json"] {
        assert!(handlers.event(&sample_event(name)).await.is_ok(), "{name}");
    }

    // The failure event, aimed at a clip waiting for its harvest, fails it with MediaPackage's
    // words; the success event that follows late does not revive it.
    let waiting = harvesting_clip(&handlers).await;
    let manifest_key = json!(format!("{}100m-final/{}/index.m3u8", stack::HARVEST_PREFIX, waiting.id));
    let mut failed = sample_event("harvest-failed.json");
    failed["detail"]["harvest_job"]["s3_destination"]["manifest_key"] = manifest_key.clone();
    let mut succeeded = sample_event("harvest-succeeded.json");
    succeeded["detail"]["harvest_job"]["s3_destination"]["manifest_key"] = manifest_key;
    handlers.event(&failed).await.expect("processed");
    handlers.event(&succeeded).await.expect("processed");
    let get = api_event("api-get-clip.json").with_path_parameters(HashMap::from([
        ("competitionId".to_owned(), "100m-final".to_owned()),
        ("clipId".to_owned(), waiting.id.to_string()),
    ]));
    let (status, clip) = respond(clips::api::get_clip_handler(&handlers.store, &get).await);
    assert_eq!(status, 200, "{clip}");
    assert_eq!(clip["status"], "FAILED", "{clip}");
    assert_eq!(clip["error"], "Harvest job failed: no content in the requested window");
    test.shutdown().await;
}

/// A clip stored as HARVESTING with no harvest job behind it, so only the test's events move it.
async fn harvesting_clip(handlers: &Handlers) -> Clip {
    let now = Utc::now();
    let window = ClipWindow { start: now - chrono::Duration::seconds(60), end: now - chrono::Duration::seconds(30) };
    let clip = Clip::harvesting(CompetitionId::parse("100m-final").unwrap(), None, None, window, now);
    assert_eq!(handlers.store.insert(&clip).await.expect("insert"), Written::Written);
    clip
}

fn create_request(body: &Value, idempotency_key: Option<&str>) -> Request {
    let mut event = sample_event("api-create-clip.json");
    event["body"] = json!(body.to_string());
    let mut request = lambda_http::request::from_str(&event.to_string()).expect("API Gateway event");
    if let Some(key) = idempotency_key {
        request.headers_mut().insert("idempotency-key", key.parse().unwrap());
    }
    request
}

async fn stored_status(handlers: &Handlers, competition: &str, id: &str) -> Value {
    let get = api_event("api-get-clip.json").with_path_parameters(HashMap::from([
        ("competitionId".to_owned(), competition.to_owned()),
        ("clipId".to_owned(), id.to_owned()),
    ]));
    let (status, clip) = respond(clips::api::get_clip_handler(&handlers.store, &get).await);
    assert_eq!(status, 200, "{clip}");
    clip
}

/// Makes MediaPackage's next `count` calls of `operation` fail, through the harvester's fault
/// switch: real SDK error handling, no mock.
async fn inject_fault(test: &TestStack, operation: &str, error_type: &str, count: u32) {
    let response = test
        .http
        .post(format!("{}/_local/faults", test.stack.harvester_url))
        .json(&json!({"operation": operation, "errorType": error_type, "count": count}))
        .send()
        .await
        .expect("fault switch");
    assert!(response.status().is_success(), "{:?}", response.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_unreachable_harvest_leaves_the_clip_failed_not_dangling() {
    let test = TestStack::start().await;
    let mut handlers = Handlers::new(&test);

    // MediaPackage refuses the job (here: the configured origin endpoint does not exist).
    handlers.harvester = MediaPackageHarvester::new(
        test.clients.mediapackage.clone(),
        "no-such-endpoint",
        handlers.create.destination.clone(),
    );
    let (status, problem) = handlers.create(&create_request(&json!({"competition": "refused"}), None)).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["clip"]["status"], "FAILED", "{problem}");
    let clip = stored_status(&handlers, "refused", problem["clip"]["id"].as_str().unwrap()).await;
    assert_eq!(clip["status"], "FAILED");
    assert!(clip["error"].as_str().unwrap().contains("no-such-endpoint"), "{clip}");

    // MediaPackage keeps answering 503, past the SDK's retries.
    let handlers = Handlers::new(&test);
    inject_fault(&test, "CreateHarvestJob", "ServiceUnavailableException", 10).await;
    let (status, problem) = handlers.create(&create_request(&json!({"competition": "outage"}), None)).await;
    assert_eq!(status, 503, "{problem}");
    let (_, list) = respond(clips::api::list_clips_handler(&handlers.store, &list_request("outage", &[])).await);
    assert_eq!(list["clips"][0]["status"], "FAILED", "{list}");
    test.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_returns_the_same_clip_and_refuses_another_body() {
    let test = TestStack::start().await;
    let handlers = Handlers::new(&test);
    let body = json!({"competition": "idem", "duration": 20});
    let (first_status, first) = handlers.create(&create_request(&body, Some("key-1"))).await;
    assert_eq!(first_status, 202, "{first}");
    let (again_status, again) = handlers.create(&create_request(&body, Some("key-1"))).await;
    assert_eq!(again_status, 202, "{again}");
    assert_eq!(again["id"], first["id"]);
    let (other_status, other) =
        handlers.create(&create_request(&json!({"competition": "idem", "duration": 21}), Some("key-1"))).await;
    assert_eq!(other_status, 409, "{other}");
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key");
    let (_, list) = respond(clips::api::list_clips_handler(&handlers.store, &list_request("idem", &[])).await);
    assert_eq!(list["clips"].as_array().unwrap().len(), 1, "one clip for one key: {list}");
    test.shutdown().await;
}

fn list_request(competition: &str, query: &[(&str, &str)]) -> Request {
    let query: HashMap<String, Vec<String>> = query.iter().fold(HashMap::new(), |mut map, (k, v)| {
        map.entry((*k).to_owned()).or_default().push((*v).to_owned());
        map
    });
    api_event("api-list-clips.json")
        .with_path_parameters(HashMap::from([("competitionId".to_owned(), competition.to_owned())]))
        .with_query_string_parameters(query)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_filter_and_order_through_dynamodb() {
    let test = TestStack::start().await;
    let handlers = Handlers::new(&test);
    let now = Utc::now();
    let mut ids = Vec::new();
    for minutes_ago in [50, 40, 30, 20, 10] {
        let start = now - chrono::Duration::minutes(minutes_ago);
        let window = ClipWindow { start, end: start + chrono::Duration::seconds(30) };
        let clip = Clip::harvesting(CompetitionId::parse("paged").unwrap(), None, None, window, now);
        assert_eq!(handlers.store.insert(&clip).await.expect("insert"), Written::Written);
        ids.push(clip.id.to_string());
    }
    let list = |query: Vec<(&'static str, String)>| {
        let store = &handlers.store;
        async move {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            respond(clips::api::list_clips_handler(store, &list_request("paged", &pairs)).await)
        }
    };
    let page_ids = |page: &Value| -> Vec<String> {
        page["clips"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };

    // Newest first, two at a time, following nextCursor to the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let mut query = vec![("limit", "2".to_owned())];
        if let Some(c) = cursor.take() {
            query.push(("cursor", c));
        }
        let (status, page) = list(query).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page_ids(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let (_, ascending) = list(vec![("order", "asc".to_owned()), ("limit", "3".to_owned())]).await;
    assert_eq!(page_ids(&ascending), ids[..3]);

    let from = (now - chrono::Duration::minutes(35)).to_rfc3339();
    let to = (now - chrono::Duration::minutes(15)).to_rfc3339();
    let (_, ranged) = list(vec![("from", from), ("to", to), ("order", "asc".to_owned())]).await;
    assert_eq!(page_ids(&ranged), ids[2..4]);

    let (_, ready) = list(vec![("status", "READY".to_owned())]).await;
    assert!(page_ids(&ready).is_empty(), "{ready}");
    let (_, harvesting) = list(vec![("status", "HARVESTING".to_owned())]).await;
    assert_eq!(page_ids(&harvesting).len(), 5);

    let (status, bad) = list(vec![("cursor", "not-a-cursor".to_owned())]).await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (400, Some("cursor")));
    test.shutdown().await;
}

/// A clip stored before its harvest job was asked for (the function stopped in between) has no
/// job to report on: reconciliation fails it rather than leaving it HARVESTING for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_fails_a_clip_whose_harvest_job_was_never_started() {
    let test = TestStack::start().await;
    let mut handlers = Handlers::new(&test);
    handlers.process.reconcile_after = chrono::Duration::zero();
    let orphan = harvesting_clip(&handlers).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut scheduled = sample_event("foreign-event.json");
    scheduled["source"] = json!("aws.events");
    scheduled["detail-type"] = json!("Scheduled Event");
    handlers.event(&scheduled).await.expect("reconciled");
    let clip = stored_status(&handlers, "100m-final", orphan.id.as_str()).await;
    assert_eq!(clip["status"], "FAILED", "{clip}");
    assert_eq!(clip["error"], "The harvest job was never started");
    test.shutdown().await;
}
