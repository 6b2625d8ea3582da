//! The live origin over HTTP as players use it: time-shifted playlists (`?start=&end=`) and
//! CORS on everything under `/out/`.

use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::{MediaPlaylist, MediaPlaylistType};

use crate::support::Harvester;

const MASTER: &str = "out/v1/demo-hls/index.m3u8";

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).header("Origin", "http://studio.example").send().await.unwrap()
}

async fn media(url: &str) -> MediaPlaylist {
    let response = get(url).await;
    assert_eq!(response.status(), 200, "{url}");
    m3u8_rs::parse_media_playlist_res(&response.bytes().await.unwrap()).unwrap()
}

fn epoch_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn first_start(media: &MediaPlaylist) -> DateTime<Utc> {
    media.segments.first().unwrap().program_date_time.unwrap().to_utc()
}

fn last_end(media: &MediaPlaylist) -> DateTime<Utc> {
    let last = media.segments.last().unwrap();
    last.program_date_time.unwrap().to_utc() + TimeDelta::milliseconds((last.duration * 1000.0) as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_window_is_a_closed_playlist_through_master_and_media() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let (start, end) = (Utc::now() - TimeDelta::seconds(300), Utc::now() - TimeDelta::seconds(281));
    let query = format!("start={}&end={}", epoch_seconds(start), epoch_seconds(end));

    let master = get(&harvester.url(&format!("{MASTER}?{query}"))).await;
    assert_eq!(master.status(), 200);
    let master = m3u8_rs::parse_master_playlist_res(&master.bytes().await.unwrap()).unwrap();
    assert_eq!(master.variants.len(), 2);
    assert_eq!(master.variants[0].uri, format!("index_1.m3u8?{query}"), "children keep the time shift");

    let base = url::Url::parse(&harvester.url(MASTER)).unwrap();
    let media = media(base.join(&master.variants[1].uri).unwrap().as_str()).await;
    assert_eq!(media.playlist_type, Some(MediaPlaylistType::Vod));
    assert!(media.end_list);
    let start = DateTime::from_timestamp(epoch_seconds(start), 0).unwrap();
    let end = DateTime::from_timestamp(epoch_seconds(end), 0).unwrap();
    assert!(first_start(&media) <= start && start - first_start(&media) < TimeDelta::seconds(2));
    assert!(last_end(&media) >= end && last_end(&media) - end < TimeDelta::seconds(2));

    let segment = get(base.join(&media.segments[0].uri).unwrap().as_str()).await;
    assert_eq!(segment.status(), 200);
    assert_eq!(segment.bytes().await.unwrap()[0], 0x47, "MPEG-TS");
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_alone_is_an_event_playlist_from_start_to_the_live_edge() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let start = (Utc::now() - TimeDelta::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let url = harvester.url(&format!("out/v1/demo-hls/index_1.m3u8?start={}", start.replace(':', "%3A")));
    let media = media(&url).await;
    assert_eq!(media.playlist_type, Some(MediaPlaylistType::Event));
    assert!(!media.end_list);
    assert!((299..=301).contains(&media.segments.len()), "ten minutes of DVR: {}", media.segments.len());
    assert!(first_start(&media) <= DateTime::parse_from_rfc3339(&start).unwrap());
    let lag = Utc::now() - last_end(&media);
    assert!(lag >= TimeDelta::zero() && lag < TimeDelta::seconds(3), "reaches the live edge: {lag}");
    assert_eq!(media.media_sequence, media_sequence_of(&harvester, first_start(&media)).await);
    harvester.stop().await;
}

/// The media sequence the live playlist gives the segment starting at `start`, counted back
/// from the live playlist's first segment: time-shifted and live playlists number alike.
async fn media_sequence_of(harvester: &Harvester, start: DateTime<Utc>) -> u64 {
    let live = media(&harvester.url("out/v1/demo-hls/index_1.m3u8")).await;
    let back = (first_start(&live) - start).num_seconds() / 2;
    live.media_sequence - back as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_shifts_outside_the_startover_window_or_malformed_are_refused() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let too_old = epoch_seconds(Utc::now() - TimeDelta::seconds(3700));
    let response = get(&harvester.url(&format!("out/v1/demo-hls/index_1.m3u8?start={too_old}"))).await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-amzn-errortype"], "NotFoundException");

    let now = epoch_seconds(Utc::now());
    for (query, field) in [("start=soon", "start:"), (&format!("start={now}&end={}", now - 10), "end:")] {
        let response = get(&harvester.url(&format!("{MASTER}?{query}"))).await;
        assert_eq!(response.status(), 422, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().starts_with(field), "{body}");
    }
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_under_out_allows_any_origin_and_the_apis_do_not() {
    let harvester = Harvester::fresh(Vec::new()).await;
    for path in [MASTER, "out/v1/demo-hls/index_1.m3u8", "out/v1/vod/group/asset/hls/index.m3u8"] {
        let response = get(&harvester.url(path)).await;
        assert_eq!(response.headers()["access-control-allow-origin"], "*", "{path}");
    }
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, harvester.url(MASTER))
        .header("Origin", "http://studio.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-methods"], "GET,HEAD");

    let api = get(&harvester.url("channels")).await;
    assert_eq!(api.status(), 200);
    assert!(!api.headers().contains_key("access-control-allow-origin"));
    harvester.stop().await;
}
