//! The pure hot paths of the functions, per request: window validation, clip ids, request
//! parsing, the clip JSON of a list page, problem documents and event parsing.
//! `cargo bench -p clips` (or `scripts/bench.sh`, which puts the medians in docs/performance.md).

use std::hint::black_box;
use std::num::NonZeroU32;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use clips::api::{ClipView, Problem, parse_create_request};
use clips::domain::{
    Clip, ClipId, ClipStatus, ClipWindow, CompetitionId, FieldError, Playback, PlaybackStatus, WindowRequest,
    WindowRules,
};
use clips::error::ClipError;
use clips::events::ClipEvent;
use criterion::{Criterion, criterion_group, criterion_main};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 31, 0).single().expect("a valid instant")
}

fn rules() -> WindowRules {
    WindowRules {
        end_lag: Duration::seconds(10),
        max_clip: Duration::seconds(i64::from(WindowRules::MAX_CLIP_SECONDS)),
        startover_window: Duration::seconds(3600),
    }
}

fn event(file: &str) -> String {
    let path = format!("{}/../../events/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ready_clip(i: i64) -> Clip {
    let start = now() - Duration::seconds(3600 - i * 60);
    let window = ClipWindow { start, end: start + Duration::seconds(30) };
    let competition = CompetitionId::parse("100m-final").expect("a valid competition");
    let mut clip = Clip::harvesting(competition, Some("Photo finish".into()), None, window, start);
    clip.status = ClipStatus::Ready;
    clip.playback = vec![Playback {
        packaging_configuration_id: "hls".into(),
        url: format!("https://example.cloudfront.net/out/v1/live-clips/hls/{}/index.m3u8", clip.id),
        status: PlaybackStatus::Playable,
    }];
    clip
}

fn window(c: &mut Criterion) {
    let rules = rules();
    let last_30s = WindowRequest { duration: NonZeroU32::new(30), ..WindowRequest::default() };
    let exact = WindowRequest {
        start: Some(now() - Duration::seconds(300)),
        end: Some(now() - Duration::seconds(255)),
        duration: None,
    };
    let too_old = WindowRequest { start: Some(now() - Duration::days(2)), ..WindowRequest::default() };
    c.bench_function("window/resolve last 30 s", |b| b.iter(|| black_box(&last_30s).resolve(now(), &rules)));
    c.bench_function("window/resolve exact", |b| b.iter(|| black_box(&exact).resolve(now(), &rules)));
    c.bench_function("window/resolve refused", |b| b.iter(|| black_box(&too_old).resolve(now(), &rules)));
}

fn clip_id(c: &mut Criterion) {
    let id = ClipId::generate(now());
    c.bench_function("clip id/generate", |b| b.iter(|| ClipId::generate(black_box(now()))));
    c.bench_function("clip id/parse", |b| b.iter(|| ClipId::parse(black_box(id.as_str()))));
}

fn requests(c: &mut Criterion) {
    let create = event("api-create-clip.json");
    c.bench_function("request/parse create-clip event", |b| {
        b.iter(|| {
            let request = lambda_http::request::from_str(black_box(&create)).expect("the sample event parses");
            parse_create_request(&request).map(|(clip, _)| clip)
        });
    });
    let harvest: serde_json::Value = serde_json::from_str(&event("harvest-succeeded.json")).expect("valid JSON");
    c.bench_function("event/parse harvest succeeded", |b| b.iter(|| ClipEvent::parse(black_box(&harvest))));
}

fn rendering(c: &mut Criterion) {
    let page: Vec<Clip> = (0..25).map(ready_clip).collect();
    c.bench_function("render/list page of 25 clips", |b| {
        b.iter(|| {
            let views: Vec<ClipView<'_>> = black_box(&page).iter().map(ClipView::from).collect();
            serde_json::to_string(&views).expect("plain structs serialize")
        });
    });
    let invalid = ClipError::Invalid(vec![
        FieldError::new("competition", "must be 1–64 characters of [a-z0-9-]"),
        FieldError::new("duration", "must be at most 86400 seconds"),
    ]);
    c.bench_function("render/problem 400 with two fields", |b| {
        b.iter(|| Problem::from(black_box(&invalid)).into_response());
    });
}

criterion_group!(benches, window, clip_id, requests, rendering);
criterion_main!(benches);
