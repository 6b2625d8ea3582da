//! The whole workflow on the local stack with real video: POST a clip inside the demo channel's
//! window, let the harvester harvest it, the event reach process-harvested-clip, the VOD asset be
//! created, and the clip turn READY with a playback URL that plays.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use end_to_end::{TestStack, resolve, stack};
use m3u8_rs::{MediaPlaylistType, Playlist};
use serde_json::{Value, json};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_is_harvested_packaged_and_plays() {
    let test = TestStack::start().await;
    // Whole seconds, so the window checked below is exactly the one sent.
    let now = Utc::now().with_nanosecond(0).expect("valid time");
    let (start, end) = (now - chrono::Duration::seconds(40), now - chrono::Duration::seconds(22));
    let posted = Instant::now();
    let (status, location, clip) = test
        .post_clip(
            &json!({"competition": "e2e", "title": "Photo finish", "start": rfc3339(start), "end": rfc3339(end)}),
        )
        .await;
    assert_eq!(status, 202, "{clip}");
    assert_eq!(clip["status"], "HARVESTING");
    let location = location.expect("Location header");
    assert_eq!(location, format!("/api/competitions/e2e/clips/{}", clip["id"].as_str().unwrap()));

    let ready = test.wait_until_final(&location, READY_TIMEOUT).await;
    eprintln!("POST → READY in {:?}", posted.elapsed());
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(ready["title"], "Photo finish");
    let playback = ready["playback"].as_array().expect("playback list");
    assert_eq!(playback.len(), 1, "{ready}");
    assert_eq!(playback[0]["packagingConfigurationId"], stack::PACKAGING_CONFIGURATION_ID);
    assert_eq!(playback[0]["status"], "PLAYABLE");
    let url = playback[0]["url"].as_str().expect("playback url").to_owned();

    assert_vod_covers(&test, &url, start, end).await;
    assert_decodes(&url);

    let (status, list) = test.get_json("/api/competitions/e2e/clips").await;
    assert_eq!(status, 200);
    assert_eq!(list["clips"][0]["id"], ready["id"]);
    assert_eq!(list["nextCursor"], Value::Null);

    the_same_events_twice_leave_one_asset_and_one_ready_clip(&test, &ready).await;
    test.shutdown().await;
}

/// Checks each rendition of the VOD: a complete VOD playlist whose segments are all served and
/// together cover `[start, end)`, the start snapped back by less than one segment and the end
/// within one segment.
async fn assert_vod_covers(test: &TestStack, master_url: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
    let (status, text) = test.get_text(master_url).await;
    assert_eq!(status, 200, "{master_url}");
    let Ok(Playlist::MasterPlaylist(master)) = m3u8_rs::parse_playlist_res(text.as_bytes()) else {
        panic!("not a master playlist: {text}")
    };
    assert!(master.variants.len() >= 2, "the demo channel has two renditions: {text}");
    for variant in &master.variants {
        let media_url = resolve(master_url, &variant.uri);
        let (status, text) = test.get_text(&media_url).await;
        assert_eq!(status, 200, "{media_url}");
        let Ok(Playlist::MediaPlaylist(media)) = m3u8_rs::parse_playlist_res(text.as_bytes()) else {
            panic!("not a media playlist: {text}")
        };
        assert_eq!(media.playlist_type, Some(MediaPlaylistType::Vod), "{text}");
        assert!(media.end_list, "no EXT-X-ENDLIST: {text}");
        let first = media.segments.first().expect("segments");
        let first_start = first.program_date_time.expect("EXT-X-PROGRAM-DATE-TIME on the first segment");
        let first_start = first_start.with_timezone(&Utc);
        let longest = media.segments.iter().map(|s| f64::from(s.duration)).fold(0.0, f64::max);
        let total: f64 = media.segments.iter().map(|s| f64::from(s.duration)).sum();
        let covered_end = first_start + chrono::Duration::milliseconds((total * 1000.0).round() as i64);
        let snapped = (start - first_start).as_seconds_f64();
        assert!((0.0..longest).contains(&snapped), "start snapped back by {snapped}s (segments ≤ {longest}s)");
        let overshoot = (covered_end - end).as_seconds_f64();
        assert!((0.0..longest).contains(&overshoot), "end covered to {covered_end}, {overshoot}s past {end}");
        assert!(media.target_duration as f64 >= longest.ceil(), "TARGETDURATION below the longest segment");
        for segment in &media.segments {
            let segment_url = resolve(&media_url, &segment.uri);
            let response = test.http.get(&segment_url).send().await.expect("segment");
            assert_eq!(response.status(), 200, "{segment_url}");
            assert!(!response.bytes().await.expect("segment body").is_empty(), "{segment_url} is empty");
        }
    }
}

/// Real decoding of the whole VOD through its playback URL, as a player would fetch it.
fn assert_decodes(url: &str) {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i", url, "-f", "null", "-"])
        .output()
        .expect("ffmpeg on PATH (scripts/test.sh installs it)");
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && errors.trim().is_empty(), "ffmpeg could not decode {url}: {errors}");
}

/// EventBridge delivers at least once: the harvest and playable events again change nothing.
async fn the_same_events_twice_leave_one_asset_and_one_ready_clip(test: &TestStack, ready: &Value) {
    let id = ready["id"].as_str().unwrap();
    let manifest_key = format!("{}e2e/{id}/index.m3u8", stack::HARVEST_PREFIX);
    let mut harvested = end_to_end::sample_event("harvest-succeeded.json");
    harvested["detail"]["harvest_job"]["id"] = json!(id);
    harvested["detail"]["harvest_job"]["s3_destination"]["bucket_name"] = json!(stack::BUCKET);
    harvested["detail"]["harvest_job"]["s3_destination"]["manifest_key"] = json!(manifest_key);
    let mut playable = end_to_end::sample_event("vod-asset-playable.json");
    playable["resources"][0] = json!(format!("arn:aws:mediapackage-vod:us-east-1:000000000000:assets/{id}"));
    for event in [&harvested, &harvested, &playable, &playable] {
        let (status, error, body) = test.invoke("process-harvested-clip", event).await;
        assert_eq!((status, error), (200, None), "{body}");
    }
    let (_, after) = test.get_json(&format!("/api/competitions/e2e/clips/{id}")).await;
    assert_eq!(after["status"], "READY");
    assert_eq!(after["updatedAt"], ready["updatedAt"], "a repeated event rewrote the clip");
    let assets =
        test.clients.vod.list_assets().packaging_group_id(stack::PACKAGING_GROUP_ID).send().await.expect("ListAssets");
    let same_id = assets.assets().iter().filter(|a| a.id() == Some(id)).count();
    assert_eq!(same_id, 1, "{:?}", assets.assets());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_that_fails_leaves_the_clip_failed_with_the_reason() {
    // create-clip is told of a wider startover window than the origin endpoint keeps, so the
    // API accepts a window that MediaPackage then fails, as on AWS after a misconfiguration.
    let test = TestStack::start_with(|options| options.startover_window_override = Some(86_400)).await;
    let endpoint = test
        .clients
        .mediapackage
        .describe_origin_endpoint()
        .id(local_harvester::DEMO_ORIGIN_ENDPOINT_ID)
        .send()
        .await
        .expect("DescribeOriginEndpoint");
    let kept = i64::from(endpoint.startover_window_seconds().expect("startover window"));
    let start = Utc::now() - chrono::Duration::seconds(kept + 600);
    let (status, location, clip) =
        test.post_clip(&json!({"competition": "e2e", "start": rfc3339(start), "duration": 30})).await;
    assert_eq!(status, 202, "{clip}");
    let failed = test.wait_until_final(&location.expect("Location"), READY_TIMEOUT).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let reason = failed["error"].as_str().expect("error message");
    assert!(reason.to_lowercase().contains("startover"), "the harvester's reason is kept: {reason}");
    assert!(failed["playback"].as_array().is_some_and(Vec::is_empty));
    test.shutdown().await;
}

/// MediaPackage emits events on a best-effort basis: with every notification lost, the scheduled
/// reconciliation still takes the clip to READY by asking MediaPackage and MediaPackage VOD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_whose_events_are_all_lost_is_reconciled_to_ready() {
    let test = TestStack::start_with(|options| options.deliver_events = false).await;
    let (status, location, clip) = test.post_clip(&json!({"competition": "lost", "duration": 10})).await;
    assert_eq!(status, 202, "{clip}");
    let location = location.expect("Location");
    let id = clip["id"].as_str().unwrap().to_owned();

    wait_for(Duration::from_secs(30), || async {
        let job = test.clients.mediapackage.describe_harvest_job().id(&id).send().await.expect("DescribeHarvestJob");
        job.status().is_some_and(|s| s.as_str() == "SUCCEEDED")
    })
    .await;
    // Past RECONCILE_AFTER_SECONDS (1 s in tests), and still waiting for its event.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(test.get_json(&location).await.1["status"], "HARVESTING");

    test.stack.reconcile().await.expect("scheduled event delivered");
    assert_eq!(test.get_json(&location).await.1["status"], "PACKAGING", "the asset was created");

    wait_for(Duration::from_secs(30), || async {
        let asset = test.clients.vod.describe_asset().id(&id).send().await.expect("DescribeAsset");
        asset.egress_endpoints().iter().all(|e| e.status() == Some("PLAYABLE"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    test.stack.reconcile().await.expect("scheduled event delivered");
    let (_, ready) = test.get_json(&location).await;
    assert_eq!(ready["status"], "READY", "{ready}");
    let url = ready["playback"][0]["url"].as_str().expect("playback URL");
    assert_decodes(url);
    test.shutdown().await;
}

async fn wait_for<F, Fut>(timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < timeout, "condition not met within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
