//! The handlers fed the sample events of `events/` (the files `cargo lambda invoke` uses), with
//! the real adapters against the local DynamoDB and harvester.

use chrono::Utc;
use clips::adapters::{DynamoClips, MediaPackageHarvester, MediaPackageVod};
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
            create: CreateClipConfig {
                table: table.clone(),
                destination: destination.clone(),
                origin_endpoint_id: local_harvester::DEMO_ORIGIN_ENDPOINT_ID.to_owned(),
                rules,
            },
            process: ProcessConfig { table, destination, packaging_group_id: stack::PACKAGING_GROUP_ID.to_owned() },
        }
    }

    async fn create(&self, request: &Request) -> (u16, Value) {
        let response =
            clips::api::create_clip_handler(&self.store, &self.harvester, &self.create, request, Utc::now()).await;
        respond(response)
    }

    async fn event(&self, event: &Value) -> Result<(), clips::error::EventError> {
        clips::workflow::handle_event(&self.store, &self.vod, &self.process, event, Utc::now()).await
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
