//! The live origin: what an origin endpoint serves at its `url`.
//!
//! Layout under `{public_url}out/v1/{endpointId}/`, after AWS's:
//! `{manifestName}.m3u8` (master), `{manifestName}_{n}.m3u8` (media playlist of rendition
//! `n`, from 1) and `{manifestName}_{n}_{sequence}.ts` (segments; `.mp4` for fMP4/CMAF, whose
//! initialisation segments are `{manifestName}_{n}_init_{id}.mp4`).

use std::collections::VecDeque;

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::{MediaPlaylistType, Playlist};

use super::timeshift::TimeShift;
use super::{InitSegment, LiveSegment, SegmentBytes};
use crate::api::error::ApiError;
use crate::hls;
use crate::model::OriginEndpoint;
use crate::server::Ctx;

/// The URL path (relative to the public URL) of an origin endpoint's master playlist.
pub fn master_path(endpoint_id: &str, manifest_name: &str) -> String {
    format!("out/v1/{endpoint_id}/{manifest_name}.m3u8")
}

/// What a file name under an endpoint's folder refers to.
#[derive(Debug, PartialEq, Eq)]
enum LiveFile {
    Master,
    /// Media playlist of rendition index (0-based).
    Media(usize),
    /// Segment of rendition index (0-based) with this media sequence number.
    Segment(usize, u64),
    /// fMP4 initialisation segment of rendition index (0-based) with this id.
    Init(usize, u64),
}

impl LiveFile {
    fn parse(manifest_name: &str, file: &str) -> Option<Self> {
        if let Some(stem) = file.strip_suffix(".m3u8") {
            if stem == manifest_name {
                return Some(Self::Master);
            }
            let n = stem.strip_prefix(manifest_name)?.strip_prefix('_')?;
            return Some(Self::Media(n.parse::<usize>().ok()?.checked_sub(1)?));
        }
        let (stem, mp4) = match file.strip_suffix(".mp4") {
            Some(stem) => (stem, true),
            None => (file.strip_suffix(".ts")?, false),
        };
        let rest = stem.strip_prefix(manifest_name)?.strip_prefix('_')?;
        let (n, number) = rest.split_once('_')?;
        let index = n.parse::<usize>().ok()?.checked_sub(1)?;
        match number.strip_prefix("init_") {
            Some(id) if mp4 => Some(Self::Init(index, id.parse().ok()?)),
            Some(_) => None,
            None => Some(Self::Segment(index, number.parse().ok()?)),
        }
    }
}

fn media_name(manifest_name: &str, index: usize) -> String {
    format!("{manifest_name}_{}.m3u8", index + 1)
}

fn segment_name(manifest_name: &str, index: usize, segment: &LiveSegment) -> String {
    format!("{manifest_name}_{}_{}.{}", index + 1, segment.sequence, segment.extension())
}

fn init_name(manifest_name: &str, index: usize, init: &InitSegment) -> String {
    format!("{manifest_name}_{}_init_{}.mp4", index + 1, init.id)
}

/// Segments ending after this are not shown yet: the endpoint's time delay.
fn available_until(now: DateTime<Utc>, endpoint: &OriginEndpoint) -> DateTime<Utc> {
    now - TimeDelta::seconds(i64::from(endpoint.time_delay_seconds))
}

/// The segments a live media playlist shows at `now`: those already available after the
/// endpoint's time delay, the newest ones adding up to (at least) the playlist window.
fn live_window(segments: &VecDeque<LiveSegment>, now: DateTime<Utc>, endpoint: &OriginEndpoint) -> Vec<LiveSegment> {
    let available_until = available_until(now, endpoint);
    let window_ms = u64::from(endpoint.hls.playlist_window_seconds) * 1000;
    let mut total_ms = 0;
    let mut window: Vec<LiveSegment> = segments
        .iter()
        .rev()
        .skip_while(|s| s.end() > available_until)
        .take_while(|s| {
            let take = total_ms < window_ms;
            total_ms += u64::from(s.duration_ms);
            take
        })
        .cloned()
        .collect();
    window.reverse();
    window
}

/// `GET /out/v1/{endpointId}/{file}`, optionally time-shifted by `?start=&end=`.
pub async fn get(
    State(ctx): State<Ctx>,
    Path((endpoint_id, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let endpoint = ctx
        .store
        .read(|s| s.origin_endpoints.get(&endpoint_id).cloned())
        .await
        .ok_or_else(|| ApiError::not_found(format!("Origin endpoint '{endpoint_id}' does not exist")))?;
    let missing = || ApiError::not_found(format!("'{file}' is not available on origin endpoint '{endpoint_id}'"));
    let request = LiveFile::parse(&endpoint.manifest_name, &file).ok_or_else(missing)?;
    let time_shift = match request {
        LiveFile::Segment(..) | LiveFile::Init(..) => None,
        LiveFile::Master | LiveFile::Media(_) => TimeShift::from_query(query.as_deref())?,
    };
    let buffer = ctx.live.get(&endpoint.channel_id).ok_or_else(missing)?;
    let name = endpoint.manifest_name.as_str();
    let response = {
        let buffer = buffer.read().unwrap_or_else(|e| e.into_inner());
        match request {
            LiveFile::Master => {
                // Players resolve child URIs without the master's query: carry the time shift.
                let suffix = time_shift.as_ref().map(|t| format!("?{}", t.query())).unwrap_or_default();
                let master = hls::master_playlist(buffer.renditions(), |i| format!("{}{suffix}", media_name(name, i)));
                Answer::Playlist(playlist_response(&Playlist::MasterPlaylist(master)))
            }
            LiveFile::Media(index) if index < buffer.renditions().len() => {
                let segments = buffer.segments(index);
                let uri = |s: &LiveSegment| segment_name(name, index, s);
                let init_uri = |i: &InitSegment| init_name(name, index, i);
                let media = match &time_shift {
                    None => hls::media_playlist(&live_window(segments, Utc::now(), &endpoint), true, uri, init_uri),
                    Some(shift) => {
                        let shifted = shift.select(
                            segments,
                            available_until(Utc::now(), &endpoint),
                            endpoint.startover_window_seconds,
                        )?;
                        if shifted.closed {
                            hls::media_playlist(&shifted.segments, false, uri, init_uri)
                        } else {
                            // Segments are only ever appended until `end`: an EVENT playlist, so
                            // players may seek anywhere in it.
                            let media = hls::media_playlist(&shifted.segments, true, uri, init_uri);
                            m3u8_rs::MediaPlaylist { playlist_type: Some(MediaPlaylistType::Event), ..media }
                        }
                    }
                };
                Answer::Playlist(playlist_response(&Playlist::MediaPlaylist(media)))
            }
            LiveFile::Segment(index, sequence) => {
                // Read outside the lock: a spooled segment is a file.
                let segment = buffer.segment(index, sequence).filter(|s| file.ends_with(s.extension()));
                let segment = segment.ok_or_else(missing)?;
                let content_type =
                    if segment.init.is_some() { hls::MP4_CONTENT_TYPE } else { hls::SEGMENT_CONTENT_TYPE };
                Answer::Segment(segment.bytes.clone(), content_type)
            }
            LiveFile::Init(index, id) => {
                let init = buffer.segments(index).iter().rev().find_map(|s| s.init.clone().filter(|i| i.id == id));
                Answer::Init(init.ok_or_else(missing)?)
            }
            LiveFile::Media(_) => return Err(missing()),
        }
    };
    match response {
        Answer::Playlist(playlist) => Ok(playlist),
        Answer::Segment(segment, content_type) => {
            let bytes = segment.load().await.map_err(|e| {
                tracing::debug!(error = %e, "a buffered segment is gone");
                missing()
            })?;
            Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
        }
        Answer::Init(init) => {
            let bytes = init.bytes.load().await.map_err(|_| missing())?;
            Ok(([(header::CONTENT_TYPE, hls::MP4_CONTENT_TYPE)], bytes).into_response())
        }
    }
}

/// What the buffer lock yields: a rendered playlist, or a segment to read after releasing it.
enum Answer {
    Playlist(Response),
    Segment(SegmentBytes, &'static str),
    Init(std::sync::Arc<InitSegment>),
}

fn playlist_response(playlist: &Playlist) -> Response {
    ([(header::CONTENT_TYPE, hls::PLAYLIST_CONTENT_TYPE), (header::CACHE_CONTROL, "max-age=1")], hls::render(playlist))
        .into_response()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::model::LiveHlsPackage;

    #[test]
    fn file_names_map_to_master_media_and_segments() {
        assert_eq!(LiveFile::parse("index", "index.m3u8"), Some(LiveFile::Master));
        assert_eq!(LiveFile::parse("index", "index_2.m3u8"), Some(LiveFile::Media(1)));
        assert_eq!(LiveFile::parse("index", "index_1_1234.ts"), Some(LiveFile::Segment(0, 1234)));
        assert_eq!(LiveFile::parse("my_show", "my_show_1_7.ts"), Some(LiveFile::Segment(0, 7)));
        for bad in ["index_0.m3u8", "other.m3u8", "index_1.ts", "index_x_1.ts", "index.mpd"] {
            assert_eq!(LiveFile::parse("index", bad), None, "{bad}");
        }
        assert_eq!(LiveFile::parse("index", "index_2_init_3.mp4"), Some(LiveFile::Init(1, 3)));
        assert_eq!(LiveFile::parse("index", "index_2_77.mp4"), Some(LiveFile::Segment(1, 77)));
        assert_eq!(LiveFile::parse("index", "index_2_init_3.ts"), None);
        assert_eq!(LiveFile::parse("index", &media_name("index", 0)), Some(LiveFile::Media(0)));
    }

    fn endpoint(window: u32, delay: u32) -> OriginEndpoint {
        OriginEndpoint {
            id: "e".into(),
            arn: "arn".into(),
            channel_id: "c".into(),
            description: None,
            manifest_name: "index".into(),
            startover_window_seconds: 0,
            time_delay_seconds: delay,
            hls: LiveHlsPackage {
                segment_duration_seconds: 6,
                playlist_window_seconds: window,
                program_date_time_interval_seconds: 0,
                ad_markers: None,
                playlist_type: None,
                include_iframe_only_stream: false,
                use_audio_rendition_group: false,
            },
            origination: "ALLOW".into(),
            whitelist: Vec::new(),
            tags: Default::default(),
            created_at: Utc::now(),
        }
    }

    fn buffered(count: u64) -> (VecDeque<LiveSegment>, DateTime<Utc>) {
        let epoch = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let segments = (0..count)
            .map(|k| LiveSegment {
                sequence: k,
                start: epoch + TimeDelta::seconds(2 * k as i64),
                duration_ms: 2000,
                discontinuity: false,
                discontinuity_sequence: 0,
                bytes: SegmentBytes::Shared(Bytes::new()),
                init: None,
            })
            .collect();
        (segments, epoch + TimeDelta::seconds(2 * count as i64))
    }

    #[test]
    fn live_window_shows_the_newest_playlist_window() {
        let (segments, now) = buffered(100);
        let window = live_window(&segments, now, &endpoint(10, 0));
        let seqs: Vec<_> = window.iter().map(|s| s.sequence).collect();
        assert_eq!(seqs, [95, 96, 97, 98, 99]);
    }

    #[test]
    fn live_window_honours_the_time_delay() {
        let (segments, now) = buffered(100);
        let window = live_window(&segments, now, &endpoint(6, 20));
        let seqs: Vec<_> = window.iter().map(|s| s.sequence).collect();
        assert_eq!(seqs, [87, 88, 89]);
    }
}
