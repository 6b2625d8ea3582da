//! MediaPackage v1 through the real `aws-sdk-mediapackage` client: channels, origin endpoints,
//! the live origin and harvest jobs.

use std::time::Duration;

use aws_sdk_mediapackage::types::{HlsPackage, Status};
use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::MediaPlaylistType;

use crate::support::{Harvester, from_now, harvest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_origin_endpoints_round_trip() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();

    let channel = client.create_channel().id("cam-1").description("Camera 1").tags("team", "a").send().await.unwrap();
    assert_eq!(channel.arn(), Some("arn:aws:mediapackage:us-east-1:000000000000:channels/cam-1"));
    assert_eq!(channel.description(), Some("Camera 1"));
    let ingest = channel.hls_ingest().unwrap().ingest_endpoints();
    assert_eq!(ingest.len(), 2);
    assert!(ingest[0].url().unwrap().starts_with(&harvester.url("in/v2/cam-1/")));
    assert!(ingest[0].username().is_some() && ingest[0].password().is_some());

    let described = client.describe_channel().id("cam-1").send().await.unwrap();
    assert_eq!(described.tags().unwrap()["team"], "a");
    assert_eq!(described.created_at(), channel.created_at());

    let endpoint = client
        .create_origin_endpoint()
        .channel_id("cam-1")
        .id("cam-1-hls")
        .manifest_name("live")
        .startover_window_seconds(300)
        .time_delay_seconds(5)
        .hls_package(HlsPackage::builder().segment_duration_seconds(2).playlist_window_seconds(30).build())
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.arn(), Some("arn:aws:mediapackage:us-east-1:000000000000:origin_endpoints/cam-1-hls"));
    assert_eq!(endpoint.url(), Some(harvester.url("out/v1/cam-1-hls/live.m3u8").as_str()));
    assert_eq!(endpoint.startover_window_seconds(), Some(300));
    assert_eq!(endpoint.time_delay_seconds(), Some(5));
    let hls = endpoint.hls_package().unwrap();
    assert_eq!((hls.segment_duration_seconds(), hls.playlist_window_seconds()), (Some(2), Some(30)));

    let described = client.describe_origin_endpoint().id("cam-1-hls").send().await.unwrap();
    assert_eq!(described.channel_id(), Some("cam-1"));

    let channels = client.list_channels().send().await.unwrap();
    let ids: Vec<_> = channels.channels().iter().filter_map(|c| c.id()).collect();
    assert_eq!(ids, ["cam-1", "demo"]);

    let by_channel = client.list_origin_endpoints().channel_id("cam-1").send().await.unwrap();
    let ids: Vec<_> = by_channel.origin_endpoints().iter().filter_map(|e| e.id()).collect();
    assert_eq!(ids, ["cam-1-hls"]);

    let first = client.list_origin_endpoints().max_results(1).send().await.unwrap();
    assert_eq!(first.origin_endpoints().len(), 1);
    let token = first.next_token().expect("a second page").to_owned();
    let second = client.list_origin_endpoints().max_results(1).next_token(token).send().await.unwrap();
    assert_eq!(second.origin_endpoints()[0].id(), Some("demo-hls"));
    assert_eq!(second.next_token(), None);
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_origin_serves_a_live_stream() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let endpoint = harvester.live().describe_origin_endpoint().id("demo-hls").send().await.unwrap();
    assert_eq!(endpoint.startover_window_seconds(), Some(3600));
    let master_url = url::Url::parse(endpoint.url().unwrap()).unwrap();
    let http = reqwest::Client::new();

    let master = http.get(master_url.clone()).send().await.unwrap();
    assert_eq!(master.headers()["content-type"], "application/vnd.apple.mpegurl");
    let master = m3u8_rs::parse_master_playlist_res(&master.bytes().await.unwrap()).unwrap();
    assert_eq!(master.variants.len(), 2);

    let fetch_media = |uri: String| {
        let url = master_url.join(&uri).unwrap();
        let http = http.clone();
        async move {
            m3u8_rs::parse_media_playlist_res(&http.get(url).send().await.unwrap().bytes().await.unwrap()).unwrap()
        }
    };
    let media = fetch_media(master.variants[0].uri.clone()).await;
    assert!(!media.end_list);
    assert_eq!(media.playlist_type, None);
    assert_eq!(media.segments.len(), 30, "60 s window of 2 s segments");
    assert_eq!(media.target_duration, 2);
    // The stream started an hour ago: about 1800 segments, 450 loops, each loop restart a discontinuity.
    assert!((1770..1830).contains(&media.media_sequence), "{}", media.media_sequence);
    assert!(media.discontinuity_sequence > 400);
    assert!(media.segments.iter().any(|s| s.discontinuity));
    let last = media.segments.last().unwrap();
    let last_end = last.program_date_time.unwrap() + TimeDelta::milliseconds((last.duration * 1000.0) as i64);
    let lag = Utc::now() - last_end.to_utc();
    assert!(lag >= TimeDelta::zero() && lag < TimeDelta::seconds(3), "live edge lags by {lag}");
    for pair in media.segments.windows(2) {
        let expected = pair[0].program_date_time.unwrap() + TimeDelta::seconds(2);
        assert_eq!(pair[1].program_date_time, Some(expected));
    }

    let segment = http.get(master_url.join(&last.uri).unwrap()).send().await.unwrap();
    assert_eq!(segment.status(), 200);
    assert_eq!(segment.headers()["content-type"], "video/MP2T");
    let bytes = segment.bytes().await.unwrap();
    assert!(bytes.len() > 10_000 && bytes[0] == 0x47);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = fetch_media(master.variants[1].uri.clone()).await;
    assert!(later.media_sequence > media.media_sequence, "the window slides in real time");
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_job_writes_a_vod_covering_the_window() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let (start, end) = (from_now(-30), from_now(-10));
    let status = harvest(&client, "clip-1", start.clone(), end.clone(), "comp/clip-1/index.m3u8").await;
    assert_eq!(status, Status::Succeeded);

    let job = client.describe_harvest_job().id("clip-1").send().await.unwrap();
    assert_eq!(job.arn(), Some("arn:aws:mediapackage:us-east-1:000000000000:harvest_jobs/clip-1"));
    assert_eq!(job.channel_id(), Some("demo"));
    assert_eq!(job.origin_endpoint_id(), Some("demo-hls"));
    assert_eq!((job.start_time(), job.end_time()), (Some(start.as_str()), Some(end.as_str())));
    assert_eq!(job.s3_destination().unwrap().manifest_key(), Some("comp/clip-1/index.m3u8"));
    assert!(job.created_at().is_some());

    let folder = harvester.data_dir.join("buckets/clips/comp/clip-1");
    let master = m3u8_rs::parse_master_playlist_res(&std::fs::read(folder.join("index.m3u8")).unwrap()).unwrap();
    assert_eq!(master.variants.len(), 2);
    let (start, end) = (DateTime::parse_from_rfc3339(&start).unwrap(), DateTime::parse_from_rfc3339(&end).unwrap());
    let mut sequences = Vec::new();
    for variant in &master.variants {
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(&variant.uri)).unwrap()).unwrap();
        assert_eq!(media.playlist_type, Some(MediaPlaylistType::Vod));
        assert!(media.end_list);
        assert_eq!(media.target_duration, 2);
        let first = media.segments.first().unwrap();
        let last = media.segments.last().unwrap();
        let first_start = first.program_date_time.unwrap();
        let last_end = last.program_date_time.unwrap() + TimeDelta::milliseconds((last.duration * 1000.0) as i64);
        assert!(first_start <= start && start - first_start < TimeDelta::seconds(2), "starts in the first segment");
        assert!(last_end >= end && last_end - end <= TimeDelta::seconds(2), "ends in the last segment");
        assert!(!first.discontinuity);
        for segment in &media.segments {
            let bytes = std::fs::read(folder.join(&segment.uri)).unwrap();
            assert_eq!(bytes[0], 0x47, "{} is MPEG-TS", segment.uri);
        }
        sequences.push(media.segments.iter().map(|s| s.program_date_time).collect::<Vec<_>>());
    }
    assert_eq!(sequences[0], sequences[1], "every rendition covers the same span");

    let succeeded =
        client.list_harvest_jobs().include_status("SUCCEEDED").include_channel_id("demo").send().await.unwrap();
    assert_eq!(succeeded.harvest_jobs().len(), 1);
    let failed = client.list_harvest_jobs().include_status("FAILED").send().await.unwrap();
    assert!(failed.harvest_jobs().is_empty());
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_jobs_outside_the_stream_fail() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let future = harvest(&client, "future", from_now(-10), from_now(20), "f/index.m3u8").await;
    assert_eq!(future, Status::Failed);
    let too_old = harvest(&client, "too-old", from_now(-3700), from_now(-3650), "o/index.m3u8").await;
    assert_eq!(too_old, Status::Failed);
    assert!(!harvester.data_dir.join("buckets/clips/f/index.m3u8").exists());

    harvester.stop().await;
}
