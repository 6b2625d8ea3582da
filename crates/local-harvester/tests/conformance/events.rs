//! EventBridge-shaped events reach their targets at least once, in the documented shapes.

use aws_sdk_mediapackage::types::Status;
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage};
use url::Url;

use crate::support::{EventSink, Failure, Harvester, from_now, harvest, harvest_event_of, input_event_of};

/// A target nothing listens on: deliveries to it fail and must not hold up the others.
async fn dead_target() -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{address}/2015-03-31/functions/x/invocations")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_and_vod_events_are_delivered_and_retried() {
    let sink = EventSink::start(1, Failure::Status).await;
    let harvester = Harvester::fresh(vec![dead_target().await, sink.url.clone()]).await;
    let (start, end) = (from_now(-20), from_now(-12));
    let key = "comp/clip-e/index.m3u8";
    assert_eq!(harvest(&harvester.live(), "clip-e", start.clone(), end.clone(), key).await, Status::Succeeded);

    let event = sink.wait_for("the harvest notification", harvest_event_of("clip-e")).await;
    assert!(sink.attempts() >= 2, "the first delivery failed and was retried");
    assert_eq!(event["version"], "0");
    assert_eq!(event["source"], "aws.mediapackage");
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["id"].as_str().unwrap().len(), 36);
    assert!(chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).is_ok());
    let arn = "arn:aws:mediapackage:us-east-1:000000000000:harvest_jobs/clip-e";
    assert_eq!(event["resources"], serde_json::json!([arn]));
    let job = &event["detail"]["harvest_job"];
    assert_eq!(job["id"], "clip-e");
    assert_eq!(job["arn"], arn);
    assert_eq!(job["status"], "SUCCEEDED");
    assert_eq!(job["origin_endpoint_id"], "demo-hls");
    assert_eq!((job["start_time"].as_str(), job["end_time"].as_str()), (Some(start.as_str()), Some(end.as_str())));
    assert_eq!(
        job["s3_destination"],
        serde_json::json!({"bucket_name": "clips", "manifest_key": key, "role_arn": "arn:aws:iam::000000000000:role/harvest"})
    );
    assert!(job["created_at"].is_string());
    assert!(event["detail"].get("message").is_none());

    assert_eq!(harvest(&harvester.live(), "late", from_now(-5), from_now(60), "l/index.m3u8").await, Status::Failed);
    let failed = sink.wait_for("the failure notification", harvest_event_of("late")).await;
    assert_eq!(failed["detail"]["harvest_job"]["status"], "FAILED");
    let message = failed["detail"]["message"].as_str().unwrap();
    assert!(message.contains("in the future"), "{message}");

    let vod = harvester.vod();
    vod.create_packaging_group().id("clips").send().await.unwrap();
    for id in ["hls", "hls-alt"] {
        vod.create_packaging_configuration()
            .id(id)
            .packaging_group_id("clips")
            .hls_package(
                HlsPackage::builder().hls_manifests(HlsManifest::builder().manifest_name("main").build()).build(),
            )
            .send()
            .await
            .unwrap();
    }
    vod.create_asset()
        .id("clip-e")
        .packaging_group_id("clips")
        .source_arn(format!("arn:aws:s3:::clips/{key}"))
        .source_role_arn("arn:aws:iam::000000000000:role/vod")
        .send()
        .await
        .unwrap();
    let asset_arn = "arn:aws:mediapackage-vod:us-east-1:000000000000:assets/clip-e";
    for event in ["IngestStart", "IngestComplete"] {
        let received = sink.wait_for(event, input_event_of(event, "clip-e")).await;
        assert_eq!(received["resources"], serde_json::json!([asset_arn]));
        assert!(received["detail"]["message"].is_string());
    }
    let playable: Vec<_> = crate::support::eventually(30, "two VodAssetPlayable events", || async {
        let playable: Vec<_> =
            sink.received().into_iter().filter(|e| input_event_of("VodAssetPlayable", "clip-e")(e)).collect();
        (playable.len() == 2).then_some(playable)
    })
    .await;
    for id in ["hls", "hls-alt"] {
        let event = playable.iter().find(|e| e["detail"]["packaging_configuration_id"] == id).unwrap();
        let config_arn = format!("arn:aws:mediapackage-vod:us-east-1:000000000000:packaging-configurations/{id}");
        assert_eq!(event["resources"], serde_json::json!([asset_arn, config_arn]));
        let url = harvester.url(&format!("out/v1/vod/clips/clip-e/{id}/main.m3u8"));
        assert_eq!(event["detail"]["manifest_urls"], serde_json::json!([url]));
        assert_eq!(
            event["detail"]["message"],
            format!("Asset 'clip-e' is now playable for PackagingConfiguration '{id}'")
        );
        let master = reqwest::get(&url).await.unwrap();
        assert_eq!(master.status(), 200, "{url}");
    }
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_function_errors_are_retried_and_ingest_errors_announced() {
    let sink = EventSink::start(2, Failure::FunctionError).await;
    let harvester = Harvester::fresh(vec![sink.url.clone()]).await;
    let vod = harvester.vod();
    vod.create_packaging_group().id("g").send().await.unwrap();
    vod.create_asset()
        .id("ghost")
        .packaging_group_id("g")
        .source_arn("arn:aws:s3:::clips/none/index.m3u8")
        .source_role_arn("arn:aws:iam::000000000000:role/vod")
        .send()
        .await
        .unwrap();
    let error = sink.wait_for("IngestError", input_event_of("IngestError", "ghost")).await;
    assert!(error["detail"]["message"].as_str().unwrap().contains("s3://clips/none/index.m3u8"));
    sink.wait_for("IngestStart", input_event_of("IngestStart", "ghost")).await;
    assert_eq!(sink.attempts(), sink.received().len() + 2, "two refused deliveries were repeated");
    assert!(sink.received().iter().all(|e| e["detail"]["event"] != "VodAssetPlayable"));
    harvester.stop().await;
}
