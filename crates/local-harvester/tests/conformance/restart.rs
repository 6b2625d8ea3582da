//! State survives a restart on the same data directory: resources, the demo timeline, the
//! buffers of ingested channels, undelivered events, and work a crash interrupted.

use aws_sdk_mediapackage::types::{HlsPackage, Status};
use chrono::TimeDelta;

use crate::ingest::{Audio, Segments, decode, ingest_channel, media_playlist, push, rfc3339};
use crate::support::{
    EventSink, Failure, Harvester, TempDir, eventually, from_now, harvest, harvest_event_of, harvest_from,
    input_event_of, playable_asset,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_timeline_and_pending_events_survive_a_restart() {
    let data_dir = TempDir::new();
    // Reserve a port for the event target, but leave it closed during the first run.
    let reserved = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_address = reserved.local_addr().unwrap();
    drop(reserved);
    let target =
        url::Url::parse(&format!("http://{target_address}/2015-03-31/functions/process-harvested-clip/invocations"))
            .unwrap();

    let first = Harvester::start(data_dir.path(), vec![target.clone()]).await;
    let live = first.live();
    live.create_channel().id("cam").send().await.unwrap();
    live.create_origin_endpoint()
        .channel_id("cam")
        .id("cam-hls")
        .startover_window_seconds(600)
        .hls_package(HlsPackage::builder().build())
        .send()
        .await
        .unwrap();
    first.vod().create_packaging_group().id("group").send().await.unwrap();
    assert_eq!(harvest(&live, "before", from_now(-20), from_now(-10), "r/index.m3u8").await, Status::Succeeded);
    let demo_created = live.describe_channel().id("demo").send().await.unwrap().created_at().unwrap().to_owned();
    first.stop().await;

    let sink = EventSink::serve(tokio::net::TcpListener::bind(target_address).await.unwrap(), 0, Failure::Status);
    let second = Harvester::start(data_dir.path(), vec![target]).await;
    let live = second.live();
    let channel = live.describe_channel().id("demo").send().await.unwrap();
    assert_eq!(channel.created_at(), Some(demo_created.as_str()), "the demo channel was not recreated");
    assert_eq!(live.describe_channel().id("cam").send().await.unwrap().id(), Some("cam"));
    let endpoint = live.describe_origin_endpoint().id("cam-hls").send().await.unwrap();
    assert_eq!(endpoint.startover_window_seconds(), Some(600));
    let job = live.describe_harvest_job().id("before").send().await.unwrap();
    assert_eq!(job.status(), Some(&Status::Succeeded));
    let group = second.vod().describe_packaging_group().id("group").send().await.unwrap();
    assert_eq!(group.id(), Some("group"));

    let event = sink.wait_for("the event left undelivered by the first run", harvest_event_of("before")).await;
    assert_eq!(event["detail"]["harvest_job"]["status"], "SUCCEEDED");

    // The demo keeps its timeline: the whole startover window is still there to clip.
    assert_eq!(harvest(&live, "after", from_now(-3500), from_now(-3490), "a/index.m3u8").await, Status::Succeeded);
    second.stop().await;
}

/// The buffer of a channel fed by an encoder is kept: after a restart the origin serves the
/// same segments, fMP4 initialisation segments included, and a harvest cuts from before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingested_startover_window_survives_a_restart() {
    let data_dir = TempDir::new();
    let first = Harvester::start(data_dir.path(), Vec::new()).await;
    let (_, with_credentials) = ingest_channel(&first.live(), "studio").await;
    push(&with_credentials, 6, Segments::Fmp4, Audio::Muxed).await;
    // A segment shows once the wall clock has passed its end (program date times are ffmpeg's).
    let before = eventually(5, "two segments in the live playlist", || async {
        let playlist = media_playlist(&first, "out/v1/studio-hls/index_2.m3u8").await;
        (playlist.segments.len() >= 2).then_some(playlist)
    })
    .await;
    first.stop().await;

    let second = Harvester::start(data_dir.path(), Vec::new()).await;
    let after = media_playlist(&second, "out/v1/studio-hls/index_2.m3u8").await;
    assert_eq!(after.media_sequence, before.media_sequence);
    assert_eq!(after.segments, before.segments);
    let mut uris: Vec<&str> = after.segments.iter().map(|s| s.uri.as_str()).collect();
    uris.extend(after.segments.iter().filter_map(|s| s.map.as_ref().map(|m| m.uri.as_str())));
    for uri in uris {
        let response = reqwest::get(second.url(&format!("out/v1/studio-hls/{uri}"))).await.unwrap();
        assert_eq!(response.status(), 200, "{uri}");
    }

    let first_start = before.segments[0].program_date_time.unwrap();
    let (start, end) = (rfc3339(first_start), rfc3339(first_start + TimeDelta::seconds(4)));
    let status = harvest_from(&second.live(), "studio-hls", "kept", start, end, "kept/index.m3u8").await;
    assert_eq!(status, Status::Succeeded);
    let duration = decode(&second.data_dir.join("buckets/clips/kept/index.m3u8")).await;
    assert!((duration - 4.0).abs() <= 2.0, "the clip lasts {duration} s");
    second.stop().await;
}

/// Work a crash interrupts (the state file still says IN_PROGRESS, PROCESSING) ends after the
/// restart: a job whose window is still there succeeds, one whose window has left the startover
/// window fails, an asset ingest is redone, and each outcome's event is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_a_crash_interrupted_finishes_after_the_restart() {
    let data_dir = TempDir::new();
    let first = Harvester::start(data_dir.path(), Vec::new()).await;
    assert_eq!(harvest(&first.live(), "clip", from_now(-20), from_now(-10), "c/index.m3u8").await, Status::Succeeded);
    playable_asset(&first.vod(), "group", "clip", "c/index.m3u8").await;
    first.stop().await;

    // What a crash in the middle of the work leaves in the state file.
    let state_file = data_dir.path().join("state.json");
    let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    let jobs = state["harvest_jobs"].as_object_mut().unwrap();
    let mut running = jobs["clip"].clone();
    running["id"] = "running".into();
    running["status"] = "IN_PROGRESS".into();
    running["destination"]["key"] = "running/index.m3u8".into();
    let mut expired = running.clone();
    expired["id"] = "expired".into();
    expired["start_time"] = from_now(-7200).into();
    expired["end_time"] = from_now(-7190).into();
    jobs.insert("running".to_owned(), running);
    jobs.insert("expired".to_owned(), expired);
    state["assets"]["clip"]["status"] = "PROCESSING".into();
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();

    let sink = EventSink::start(0, Failure::Status).await;
    let second = Harvester::start(data_dir.path(), vec![sink.url.clone()]).await;
    let running = sink.wait_for("the interrupted job's event", harvest_event_of("running")).await;
    assert_eq!(running["detail"]["harvest_job"]["status"], "SUCCEEDED");
    let expired = sink.wait_for("the expired job's event", harvest_event_of("expired")).await;
    assert_eq!(expired["detail"]["harvest_job"]["status"], "FAILED");
    assert!(expired["detail"]["message"].as_str().unwrap().contains("outside the startover window"), "{expired}");
    sink.wait_for("the redone ingest's event", input_event_of("IngestComplete", "clip")).await;

    let live = second.live();
    for (id, status) in [("running", Status::Succeeded), ("expired", Status::Failed)] {
        assert_eq!(live.describe_harvest_job().id(id).send().await.unwrap().status(), Some(&status), "{id}");
    }
    let asset = second.vod().describe_asset().id("clip").send().await.unwrap();
    assert_eq!(asset.egress_endpoints()[0].status(), Some("PLAYABLE"));
    let duration = decode(&second.data_dir.join("buckets/clips/running/index.m3u8")).await;
    assert!((duration - 10.0).abs() <= 2.0, "the clip lasts {duration} s");
    second.stop().await;
}
