//! Typed HLS playlists built from buffered segments, shared by the live origin and the
//! harvester. Playlists are `m3u8-rs` values rendered through its writer, never strings.

use m3u8_rs::{
    AlternativeMedia, Map, MasterPlaylist, MediaPlaylist, MediaPlaylistType, MediaSegment, Playlist, Resolution,
    VariantStream,
};

use crate::live::{InitSegment, LiveSegment, Rendition};

/// `EXT-X-VERSION` for media playlists: 3 allows the decimal `EXTINF` durations we write.
const MEDIA_PLAYLIST_VERSION: usize = 3;
/// `EXT-X-VERSION` for media playlists with `EXT-X-MAP` (fMP4/CMAF), RFC 8216 section 7.
const MAP_PLAYLIST_VERSION: usize = 6;

/// `Content-Type` of playlists, as MediaPackage serves them.
pub const PLAYLIST_CONTENT_TYPE: &str = "application/vnd.apple.mpegurl";
/// `Content-Type` of MPEG-TS segments.
pub const SEGMENT_CONTENT_TYPE: &str = "video/MP2T";
/// `Content-Type` of fMP4/CMAF segments and initialisation segments.
pub const MP4_CONTENT_TYPE: &str = "video/mp4";

/// A master playlist listing `renditions`, the `i`-th at `uri(i)`: variants as
/// `EXT-X-STREAM-INF`, alternatives (a separate audio group) as `EXT-X-MEDIA`.
pub fn master_playlist(renditions: &[Rendition], uri: impl Fn(usize) -> String) -> MasterPlaylist {
    let alternatives = renditions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some(AlternativeMedia { uri: Some(uri(i)), ..r.alternative.clone()? }))
        .collect();
    let variants = renditions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.alternative.is_none())
        .map(|(i, r)| VariantStream {
            uri: uri(i),
            bandwidth: r.bandwidth,
            average_bandwidth: r.average_bandwidth,
            codecs: r.codecs.clone(),
            resolution: r.resolution.map(|(width, height)| Resolution { width, height }),
            frame_rate: r.frame_rate,
            audio: r.audio_group.clone(),
            ..VariantStream::default()
        })
        .collect();
    MasterPlaylist { version: Some(MEDIA_PLAYLIST_VERSION), variants, alternatives, ..MasterPlaylist::default() }
}

/// `EXT-X-TARGETDURATION`: the longest segment, rounded up to whole seconds (RFC 8216 4.3.3.1).
pub fn target_duration(segments: &[LiveSegment]) -> u64 {
    segments.iter().map(|s| u64::from(s.duration_ms).div_ceil(1000)).max().unwrap_or(0)
}

/// A media playlist of `segments`, each at `uri(segment)`, with a program date time on every
/// segment, and an `EXT-X-MAP` (at `init_uri(init)`) wherever the initialisation segment of
/// fMP4/CMAF segments starts or changes.
///
/// `live` playlists slide: they start at the first segment's media and discontinuity sequence
/// and have no end. VOD playlists are self-contained: numbered from zero, typed VOD, ended,
/// and without a discontinuity before their first segment (there is nothing to be
/// discontinuous with).
pub fn media_playlist(
    segments: &[LiveSegment],
    live: bool,
    uri: impl Fn(&LiveSegment) -> String,
    init_uri: impl Fn(&InitSegment) -> String,
) -> MediaPlaylist {
    let first = segments.first();
    let (media_sequence, discontinuity_sequence) = match first {
        Some(s) if live => (s.sequence, s.discontinuity_sequence.saturating_sub(u64::from(s.discontinuity))),
        _ => (0, 0),
    };
    let media_segments = segments
        .iter()
        .enumerate()
        .map(|(i, s)| MediaSegment {
            uri: uri(s),
            duration: s.duration_ms as f32 / 1000.0,
            discontinuity: s.discontinuity && (live || i > 0),
            program_date_time: Some(s.start.fixed_offset()),
            map: s
                .init
                .as_ref()
                .filter(|init| i == 0 || segments[i - 1].init.as_ref().is_none_or(|p| p.id != init.id))
                .map(|init| Map { uri: init_uri(init), byte_range: None, other_attributes: Default::default() }),
            ..MediaSegment::default()
        })
        .collect();
    let version = if segments.iter().any(|s| s.init.is_some()) { MAP_PLAYLIST_VERSION } else { MEDIA_PLAYLIST_VERSION };
    MediaPlaylist {
        version: Some(version),
        target_duration: target_duration(segments),
        media_sequence,
        discontinuity_sequence,
        segments: media_segments,
        end_list: !live,
        playlist_type: (!live).then_some(MediaPlaylistType::Vod),
        ..MediaPlaylist::default()
    }
}

/// The playlist's text.
pub fn render(playlist: &Playlist) -> Vec<u8> {
    let mut out = Vec::new();
    playlist.write_to(&mut out).expect("writing to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use chrono::{DateTime, TimeDelta};

    use super::*;
    use crate::live::SegmentBytes;

    fn segments(durations_ms: &[u32], discontinuity_at: &[usize]) -> Vec<LiveSegment> {
        let mut start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut discontinuities = 3;
        durations_ms
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let discontinuity = discontinuity_at.contains(&i);
                discontinuities += u64::from(discontinuity);
                let s = LiveSegment {
                    sequence: 100 + i as u64,
                    start,
                    duration_ms: *d,
                    discontinuity,
                    discontinuity_sequence: discontinuities,
                    bytes: SegmentBytes::Shared(Bytes::new()),
                    init: None,
                };
                start += TimeDelta::milliseconds(i64::from(*d));
                s
            })
            .collect()
    }

    #[test]
    fn target_duration_is_the_ceiling_of_the_longest_segment() {
        assert_eq!(target_duration(&segments(&[2000, 2000], &[])), 2);
        assert_eq!(target_duration(&segments(&[2000, 2001, 1500], &[])), 3);
        assert_eq!(target_duration(&[]), 0);
    }

    #[test]
    fn vod_playlist_is_ended_typed_and_drops_a_leading_discontinuity() {
        let playlist = media_playlist(
            &segments(&[2000, 2000, 1960], &[0, 2]),
            false,
            |s| format!("{}.ts", s.sequence),
            |_| unreachable!(),
        );
        let text = String::from_utf8(render(&Playlist::MediaPlaylist(playlist))).unwrap();
        let expected = "#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2,
100.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z
#EXTINF:2,
101.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z
#EXTINF:1.96,
102.ts
#EXT-X-ENDLIST
";
        assert_eq!(text, expected);
        let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).unwrap();
        assert_eq!(parsed.playlist_type, Some(MediaPlaylistType::Vod));
        assert!(parsed.end_list);
    }

    #[test]
    fn live_playlist_slides_with_media_and_discontinuity_sequence() {
        let playlist =
            media_playlist(&segments(&[2000, 2000], &[0]), true, |s| format!("{}.ts", s.sequence), |_| unreachable!());
        assert_eq!(playlist.media_sequence, 100);
        // The first segment carries a discontinuity: the sequence counts the ones before it.
        assert_eq!(playlist.discontinuity_sequence, 3);
        assert!(playlist.segments[0].discontinuity);
        assert!(!playlist.end_list);
        assert_eq!(playlist.playlist_type, None);
    }

    #[test]
    fn fmp4_playlists_map_their_init_segment_where_it_changes() {
        let first = Arc::new(InitSegment::new(1, SegmentBytes::Shared(Bytes::new())));
        let second = Arc::new(InitSegment::new(7, SegmentBytes::Shared(Bytes::new())));
        let mut segments = segments(&[2000, 2000, 2000], &[2]);
        segments[0].init = Some(first.clone());
        segments[1].init = Some(first);
        segments[2].init = Some(second);
        let playlist = media_playlist(
            &segments,
            false,
            |s| format!("{}.{}", s.sequence, s.extension()),
            |i| format!("init_{}.mp4", i.id),
        );
        let text = String::from_utf8(render(&Playlist::MediaPlaylist(playlist))).unwrap();
        let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).unwrap();
        assert_eq!(parsed.version, Some(6));
        let maps: Vec<_> = parsed.segments.iter().map(|s| s.map.as_ref().map(|m| m.uri.as_str())).collect();
        assert_eq!(maps, [Some("init_1.mp4"), None, Some("init_7.mp4")]);
        assert_eq!(parsed.segments[1].uri, "101.mp4");
    }

    #[test]
    fn master_lists_every_rendition() {
        let renditions = [
            Rendition {
                bandwidth: 620_400,
                average_bandwidth: None,
                codecs: Some("avc1.4d401e,mp4a.40.2".into()),
                resolution: Some((640, 360)),
                frame_rate: None,
                audio_group: None,
                alternative: None,
            },
            Rendition { bandwidth: 235_400, ..Rendition::default() },
        ];
        let master = master_playlist(&renditions, |i| format!("index_{}.m3u8", i + 1));
        let text = render(&Playlist::MasterPlaylist(master));
        let parsed = m3u8_rs::parse_master_playlist_res(&text).unwrap();
        assert_eq!(parsed.variants.len(), 2);
        assert_eq!(parsed.variants[0].uri, "index_1.m3u8");
        assert_eq!(parsed.variants[0].resolution, Some(Resolution { width: 640, height: 360 }));
        assert_eq!(parsed.variants[1].bandwidth, 235_400);
    }
}
