//! HLS ingest from a real encoder: ffmpeg pushes two renditions with audio over HTTP PUT to a
//! channel's ingest URL; the origin plays it and harvest jobs cut decodable VOD from it.

use std::path::Path;
use std::process::Stdio;

use aws_sdk_mediapackage as mp;
use aws_sdk_mediapackage::types::{HlsPackage, Status};
use chrono::{DateTime, FixedOffset, SecondsFormat, SubsecRound, TimeDelta, Utc};
use m3u8_rs::MediaPlaylist;
use reqwest::StatusCode;
use url::Url;

use crate::support::{Harvester, harvest_from, playable_asset};

/// Segment container an encoder pushes.
#[derive(Clone, Copy, PartialEq)]
pub enum Segments {
    MpegTs,
    /// fMP4/CMAF with an initialisation segment per rendition (`EXT-X-MAP`).
    Fmp4,
}

/// Where the sound goes.
#[derive(Clone, Copy, PartialEq)]
pub enum Audio {
    /// Muxed into each video rendition.
    Muxed,
    /// A rendition of its own in an audio group (`EXT-X-MEDIA`), shared by the video variants.
    Group,
}

/// Pushes `seconds` of a test pattern with a tone as two video renditions (640x360 and
/// 320x180) with AAC audio, in 2 s segments, in real time, as a live encoder would.
pub async fn push(ingest_url: &Url, seconds: u32, segments: Segments, audio: Audio) {
    let base = ingest_url.as_str();
    let (extension, container): (_, &[&str]) = match segments {
        Segments::MpegTs => ("ts", &[]),
        Segments::Fmp4 => ("m4s", &["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "channel_%v_init.mp4"]),
    };
    let output = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args(["-filter_complex", "[0:v]split=2[hi][v];[v]scale=320:180[lo]"])
        .args(["-map", "[hi]", "-map", "[lo]", "-map", "1:a"])
        .args(if audio == Audio::Muxed { &["-map", "1:a"][..] } else { &[] })
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0"])
        .args(["-b:v:0", "800k", "-b:v:1", "300k", "-c:a", "aac", "-b:a", "96k"])
        .args(["-f", "hls", "-method", "PUT", "-hls_time", "2", "-hls_list_size", "3"])
        .args(container)
        .args(["-hls_flags", "program_date_time+delete_segments+independent_segments"])
        .args(["-master_pl_name", "channel.m3u8", "-var_stream_map"])
        .arg(match audio {
            Audio::Muxed => "v:0,a:0 v:1,a:1",
            Audio::Group => "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,language:en,default:yes",
        })
        .args(["-hls_segment_filename", &format!("{base}_%v_%05d.{extension}"), &format!("{base}_%v.m3u8")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("ffmpeg runs");
    assert!(output.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Decodes every stream of an HLS master end to end, and returns its duration in seconds.
pub async fn decode(master: &Path) -> f64 {
    let output = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(master)
        .args(["-map", "0", "-f", "null", "-"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Across an EXT-X-DISCONTINUITY the encoder's timestamps start over, which ffmpeg's null
    // muxer reports (players reset their clocks there); anything else is a decoding error.
    let errors: Vec<_> = stderr.lines().filter(|l| !l.contains("non monotonically increasing dts")).collect();
    assert!(output.status.success() && errors.is_empty(), "{stderr}");
    let probe = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(master)
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&probe.stdout).trim().parse().unwrap()
}

pub async fn media_playlist(harvester: &Harvester, path: &str) -> MediaPlaylist {
    let bytes = reqwest::get(harvester.url(path)).await.unwrap().error_for_status().unwrap().bytes().await.unwrap();
    m3u8_rs::parse_media_playlist_res(&bytes).unwrap()
}

pub fn rfc3339(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn ingest_channel(client: &mp::Client, id: &str) -> (Url, Url) {
    let channel = client.create_channel().id(id).send().await.unwrap();
    let endpoint = &channel.hls_ingest().unwrap().ingest_endpoints()[0];
    let url = Url::parse(endpoint.url().unwrap()).unwrap();
    let mut with_credentials = url.clone();
    with_credentials.set_username(endpoint.username().unwrap()).unwrap();
    with_credentials.set_password(endpoint.password()).unwrap();
    client
        .create_origin_endpoint()
        .channel_id(id)
        .id(format!("{id}-hls"))
        .startover_window_seconds(300)
        .hls_package(HlsPackage::builder().playlist_window_seconds(60).build())
        .send()
        .await
        .unwrap();
    (url, with_credentials)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoder_pushes_a_live_channel_that_plays_and_harvests() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let (ingest, with_credentials) = ingest_channel(&client, "studio").await;

    push(&with_credentials, 10, Segments::MpegTs, Audio::Muxed).await;

    let master = reqwest::get(harvester.url("out/v1/studio-hls/index.m3u8")).await.unwrap().bytes().await.unwrap();
    let master = m3u8_rs::parse_master_playlist_res(&master).unwrap();
    assert_eq!(master.variants.len(), 2);
    assert_eq!(master.variants[1].resolution.map(|r| (r.width, r.height)), Some((320, 180)));
    assert!(master.variants[0].codecs.as_deref().unwrap().contains("mp4a"));
    // Rendition 1 is the reference the harvest's span is chosen on.
    let live = media_playlist(&harvester, "out/v1/studio-hls/index_1.m3u8").await;
    assert!(live.segments.len() >= 3, "{live:?}");
    assert!(live.segments.iter().all(|s| s.program_date_time.is_some() && (s.duration - 2.0).abs() < 0.1));
    let first = live.segments[0].program_date_time.unwrap();
    let segment = reqwest::get(harvester.url(&format!("out/v1/studio-hls/{}", live.segments[0].uri))).await.unwrap();
    assert_eq!(segment.status(), StatusCode::OK);
    assert_eq!(segment.bytes().await.unwrap()[0], 0x47);

    // The start snaps back to its segment: 1 s into the first, to the middle of the third.
    let start = first + TimeDelta::seconds(1);
    let end = first + TimeDelta::milliseconds(5000);
    let status =
        harvest_from(&client, "studio-hls", "take-1", rfc3339(start), rfc3339(end), "studio/take-1/index.m3u8").await;
    assert_eq!(status, Status::Succeeded);
    let folder = harvester.data_dir.join("buckets/clips/studio/take-1");
    let duration = decode(&folder.join("index.m3u8")).await;
    assert!((duration - 6.0).abs() <= 2.0, "the clip lasts {duration} s");
    for rendition in ["index_1.m3u8", "index_2.m3u8"] {
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(rendition)).unwrap()).unwrap();
        assert_eq!(media.segments.len(), 3, "{rendition}: {media:?} from {live:?}");
        // Program date times are the encoder's, per rendition (ffmpeg's differ by a few ms).
        let pdt = media.segments[0].program_date_time.unwrap();
        assert!((pdt - first).num_milliseconds().abs() < 500, "{rendition}: {pdt} vs {first}");
    }

    // An encoder restart continues the timeline behind a discontinuity.
    push(&with_credentials, 4, Segments::MpegTs, Audio::Muxed).await;
    let live = media_playlist(&harvester, "out/v1/studio-hls/index_1.m3u8").await;
    let restart = live.segments.iter().position(|s| s.discontinuity).expect("a discontinuity at the restart");
    assert!(restart >= 4, "{live:?}");
    // Into the first segment after the restart.
    let after = live.segments[restart].program_date_time.unwrap() + TimeDelta::seconds(1);
    let status = harvest_from(
        &client,
        "studio-hls",
        "take-2",
        rfc3339(first + TimeDelta::seconds(4)),
        rfc3339(after),
        "studio/take-2/index.m3u8",
    )
    .await;
    assert_eq!(status, Status::Succeeded);
    let folder = harvester.data_dir.join("buckets/clips/studio/take-2");
    decode(&folder.join("index.m3u8")).await;
    let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join("index_2.m3u8")).unwrap()).unwrap();
    assert_eq!(media.segments.iter().filter(|s| s.discontinuity).count(), 1, "{media:?}");

    // What a broken or hostile client sends is refused clearly, and the channel keeps serving.
    let http = reqwest::Client::new();
    let put = |file: &str, body: Vec<u8>| {
        http.put(format!("{ingest}_{file}"))
            .basic_auth(with_credentials.username(), with_credentials.password())
            .body(body)
    };
    let anonymous = http.put(format!("{ingest}_0_00099.ts")).body(vec![0x47; 188]).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Digest as MediaPackage asks (ffmpeg answers it), Basic for simpler clients.
    let challenges: Vec<_> =
        anonymous.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(challenges[0].starts_with("Digest realm=\"MediaPackage\", qop=\"auth\""), "{challenges:?}");
    assert!(challenges[1].starts_with("Basic"), "{challenges:?}");
    let wrong = http
        .put(format!("{ingest}_0_00099.ts"))
        .basic_auth(with_credentials.username(), Some("wrong"))
        .body(vec![0x47; 188])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let garbage = put("0_00099.ts", b"this is not a transport stream".repeat(100)).send().await.unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert!(garbage.text().await.unwrap().contains("not a whole number of MPEG-TS packets"));
    let mut truncated = vec![0u8; 188 * 3 + 17];
    truncated[0] = 0x47;
    assert_eq!(put("0_00099.ts", truncated).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(put("0.m3u8", b"<html>nope</html>".to_vec()).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let oversized = put("0.m3u8", vec![b'#'; 5 << 20]).send().await.unwrap();
    assert_eq!(oversized.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(put("notes.txt", b"hello".to_vec()).send().await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let deleted = http
        .delete(format!("{ingest}_0_00099.ts"))
        .basic_auth(with_credentials.username(), with_credentials.password())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let still = media_playlist(&harvester, "out/v1/studio-hls/index_1.m3u8").await;
    // (Segments whose encoder time has come since are shown too.)
    assert!(still.segments.len() >= live.segments.len());

    // The demo channel is fed by its loop, not by ingest.
    let demo = client.describe_channel().id(local_harvester::DEMO_CHANNEL_ID).send().await.unwrap();
    let demo_ingest = &demo.hls_ingest().unwrap().ingest_endpoints()[0];
    let refused = http
        .put(format!("{}.m3u8", demo_ingest.url().unwrap()))
        .basic_auth(demo_ingest.username().unwrap(), demo_ingest.password())
        .body("#EXTM3U\n")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    harvester.stop().await;
}

/// ffmpeg stamps each rendition's first segment with the wall clock when that rendition's
/// segment is written, so under load one rendition's program date times can run a whole
/// segment behind another's for the same content. The channel keeps one timeline: segment `n`
/// starts where the first rendition to deliver it said, in every rendition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renditions_stamped_a_segment_apart_share_one_timeline() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let (ingest, with_credentials) = ingest_channel(&client, "skewed").await;
    let http = reqwest::Client::new();
    let put = |file: &str, body: Vec<u8>| {
        let request = http
            .put(format!("{ingest}{file}"))
            .basic_auth(with_credentials.username(), with_credentials.password())
            .body(body);
        async move { request.send().await.unwrap().error_for_status().unwrap() }
    };
    put(
        ".m3u8",
        b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nchannel_0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nchannel_1.m3u8\n"
            .to_vec(),
    )
    .await;
    let origin = Utc::now() - TimeDelta::seconds(60);
    // The low rendition arrives first; the high one is stamped 2 s later for the same segments.
    for (rendition, lag) in [(1, 0), (0, 2)] {
        let mut playlist =
            String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n");
        for k in 0..5 {
            put(&format!("_{rendition}_{k:05}.ts"), [0x47u8; 188].repeat(10)).await;
            let stamp = origin + TimeDelta::seconds(2 * k + lag);
            playlist.push_str(&format!(
                "#EXT-X-PROGRAM-DATE-TIME:{}\n#EXTINF:2.0,\nchannel_{rendition}_{k:05}.ts\n",
                stamp.to_rfc3339_opts(SecondsFormat::Millis, true)
            ));
        }
        put(&format!("_{rendition}.m3u8"), playlist.into_bytes()).await;
    }

    let high = media_playlist(&harvester, "out/v1/skewed-hls/index_1.m3u8").await;
    let low = media_playlist(&harvester, "out/v1/skewed-hls/index_2.m3u8").await;
    let stamps =
        |media: &MediaPlaylist| media.segments.iter().map(|s| s.program_date_time.unwrap()).collect::<Vec<_>>();
    assert_eq!(stamps(&high).len(), 5);
    assert_eq!(stamps(&high), stamps(&low));
    assert_eq!(stamps(&low)[0].to_utc(), origin.trunc_subsecs(3));

    // 3 s into the low rendition's timeline: segments 1 and 2 of both renditions.
    let start = origin + TimeDelta::seconds(3);
    let status = harvest_from(
        &client,
        "skewed-hls",
        "skewed-1",
        rfc3339(start.fixed_offset()),
        rfc3339((start + TimeDelta::seconds(2)).fixed_offset()),
        "skewed/skewed-1/index.m3u8",
    )
    .await;
    assert_eq!(status, Status::Succeeded);
    let folder = harvester.data_dir.join("buckets/clips/skewed/skewed-1");
    for rendition in ["index_1.m3u8", "index_2.m3u8"] {
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(rendition)).unwrap()).unwrap();
        let first = media.segments[0].program_date_time.unwrap().to_utc();
        assert_eq!((media.segments.len(), first), (2, origin.trunc_subsecs(3) + TimeDelta::seconds(2)), "{rendition}");
    }
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fmp4_segments_keep_their_init_segment_into_the_vod() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let (_, with_credentials) = ingest_channel(&client, "cmaf").await;

    push(&with_credentials, 6, Segments::Fmp4, Audio::Muxed).await;

    let live = media_playlist(&harvester, "out/v1/cmaf-hls/index_1.m3u8").await;
    assert!(live.version >= Some(6), "{live:?}");
    let map = live.segments[0].map.as_ref().expect("an EXT-X-MAP before the first segment");
    let init = reqwest::get(harvester.url(&format!("out/v1/cmaf-hls/{}", map.uri))).await.unwrap();
    assert_eq!(init.headers()["content-type"], "video/mp4");
    assert_eq!(&init.bytes().await.unwrap()[4..8], b"ftyp");
    assert!(live.segments[0].uri.ends_with(".mp4"), "{live:?}");

    let first = live.segments[0].program_date_time.unwrap();
    let (start, end) = (first + TimeDelta::milliseconds(500), first + TimeDelta::milliseconds(3500));
    let status =
        harvest_from(&client, "cmaf-hls", "cmaf-1", rfc3339(start), rfc3339(end), "cmaf/cmaf-1/index.m3u8").await;
    assert_eq!(status, Status::Succeeded);
    let folder = harvester.data_dir.join("buckets/clips/cmaf/cmaf-1");
    let duration = decode(&folder.join("index.m3u8")).await;
    assert!((duration - 4.0).abs() <= 2.0, "the clip lasts {duration} s");
    for rendition in ["index_1.m3u8", "index_2.m3u8"] {
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(rendition)).unwrap()).unwrap();
        assert_eq!(media.segments.len(), 2, "{rendition}");
        let map = media.segments[0].map.as_ref().expect("the VOD keeps the EXT-X-MAP");
        assert!(folder.join(&map.uri).is_file(), "{}", map.uri);
        assert!(media.segments[1].map.is_none());
        // Every segment is fMP4, not only the one under the EXT-X-MAP tag.
        assert!(media.segments.iter().all(|s| s.uri.ends_with(".mp4")), "{media:?}");
    }

    // A VOD asset of the clip serves the initialisation segments too.
    let url = playable_asset(&harvester.vod(), "cmaf", "cmaf-1", "cmaf/cmaf-1/index.m3u8").await;
    let folder_url = url.rsplit_once('/').unwrap().0.to_owned();
    let media = reqwest::get(format!("{folder_url}/index_2.m3u8")).await.unwrap().bytes().await.unwrap();
    let media = m3u8_rs::parse_media_playlist_res(&media).unwrap();
    let init = reqwest::get(format!("{folder_url}/{}", media.segments[0].map.as_ref().unwrap().uri)).await.unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    assert_eq!(init.headers()["content-type"], "video/mp4");
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_audio_group_is_played_and_harvested_with_its_variants() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    let (_, with_credentials) = ingest_channel(&client, "radio").await;

    push(&with_credentials, 6, Segments::MpegTs, Audio::Group).await;

    let master = reqwest::get(harvester.url("out/v1/radio-hls/index.m3u8")).await.unwrap().bytes().await.unwrap();
    let master = m3u8_rs::parse_master_playlist_res(&master).unwrap();
    assert_eq!(master.variants.len(), 2);
    assert_eq!(master.alternatives.len(), 1);
    let audio = &master.alternatives[0];
    assert_eq!(audio.media_type, m3u8_rs::AlternativeMediaType::Audio);
    assert_eq!(audio.language.as_deref(), Some("en"));
    assert!(master.variants.iter().all(|v| v.audio.as_deref() == Some(audio.group_id.as_str())));
    let live = media_playlist(&harvester, &format!("out/v1/radio-hls/{}", audio.uri.as_deref().unwrap())).await;
    assert!(!live.segments.is_empty(), "{live:?}");

    let first =
        media_playlist(&harvester, "out/v1/radio-hls/index_1.m3u8").await.segments[0].program_date_time.unwrap();
    let (start, end) = (first + TimeDelta::milliseconds(500), first + TimeDelta::milliseconds(3500));
    let status =
        harvest_from(&client, "radio-hls", "radio-1", rfc3339(start), rfc3339(end), "radio/radio-1/index.m3u8").await;
    assert_eq!(status, Status::Succeeded);
    let folder = harvester.data_dir.join("buckets/clips/radio/radio-1");
    let duration = decode(&folder.join("index.m3u8")).await;
    assert!((duration - 4.0).abs() <= 2.0, "the clip lasts {duration} s");
    let vod = m3u8_rs::parse_master_playlist_res(&std::fs::read(folder.join("index.m3u8")).unwrap()).unwrap();
    assert_eq!(vod.alternatives.len(), 1);
    // Every rendition, the audio one included, is cut to the same segments.
    let uris = vod.variants.iter().map(|v| v.uri.clone()).chain(vod.alternatives.iter().filter_map(|a| a.uri.clone()));
    for uri in uris {
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(&uri)).unwrap()).unwrap();
        assert_eq!(media.segments.len(), 2, "{uri}");
    }
    harvester.stop().await;
}
