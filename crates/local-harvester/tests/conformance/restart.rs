//! State survives a restart on the same data directory: resources, the demo timeline and
//! undelivered events.

use aws_sdk_mediapackage::types::{HlsPackage, Status};

use crate::support::{EventSink, Failure, Harvester, TempDir, from_now, harvest, harvest_event_of};

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
