//! Live channels: the per-channel segment buffer, its sources and the origin that plays it.
//!
//! A [`LiveBuffer`] is the one place a channel's recent segments live, per rendition, with
//! everything the origin and the harvester need (media sequence, program date time, duration,
//! discontinuity) and a cheap handle to the bytes. Sources only ever push finished segments and
//! trim the old ones: the [`demo`] loop, and [`ingest`] with the segments an encoder pushes. Readers (live playlists, harvest jobs) take a short read lock and
//! clone what they need.

mod auth;
pub mod demo;
pub mod ingest;
pub mod origin;
pub mod timeshift;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};

/// Startover window of the demo origin endpoint; the demo stream is deemed to have started this
/// long before the demo channel was created, so all of it can be clipped right away.
pub const DEMO_STARTOVER_WINDOW_SECONDS: u32 = 3600;

/// How much a channel keeps beyond its longest startover window, so a window starting right at
/// the edge can still snap back to the segment containing its start.
const RETENTION_MARGIN: Duration = Duration::from_secs(30);

/// What a player needs to choose a rendition: one `EXT-X-STREAM-INF` line's attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendition {
    pub bandwidth: u64,
    pub average_bandwidth: Option<u64>,
    pub codecs: Option<String>,
    pub resolution: Option<(u64, u64)>,
    pub frame_rate: Option<f64>,
    /// `AUDIO` of a video variant whose sound is a separate rendition (`EXT-X-MEDIA`).
    pub audio_group: Option<String>,
    /// Set when this rendition is an `EXT-X-MEDIA` alternative (e.g. the audio of a group) as the
    /// encoder described it, rather than a variant; its URI is replaced by this server's.
    pub alternative: Option<m3u8_rs::AlternativeMedia>,
}

/// Where a buffered segment's bytes are.
#[derive(Debug, Clone)]
pub enum SegmentBytes {
    /// Shared, reference-counted bytes: the demo's loop segments are shared by every pass, so
    /// a buffered demo segment costs a pointer, not a copy.
    Shared(Bytes),
    /// A file under the data directory: segments pushed by an encoder are spooled to disk, so
    /// a long startover window costs disk, not memory. The file is deleted when the segment is
    /// trimmed from the buffer.
    File(Arc<Path>),
}

impl SegmentBytes {
    /// The segment's bytes.
    ///
    /// # Errors
    /// The spooled file cannot be read (e.g. it was trimmed meanwhile).
    pub async fn load(&self) -> std::io::Result<Bytes> {
        match self {
            Self::Shared(bytes) => Ok(bytes.clone()),
            Self::File(path) => tokio::fs::read(path).await.map(Bytes::from),
        }
    }

    /// Writes the segment to `destination`, copying files without loading them; blocks, for a
    /// caller writing many on a blocking thread.
    ///
    /// # Errors
    /// Reading the spooled file or writing `destination` fails.
    pub fn write_blocking(&self, destination: &Path) -> std::io::Result<()> {
        match self {
            Self::Shared(bytes) => std::fs::write(destination, bytes),
            Self::File(path) => std::fs::copy(path, destination).map(|_| ()),
        }
    }
}

/// The initialisation segment (`EXT-X-MAP`) of fMP4/CMAF media segments: shared by the
/// segments that need it, and removed from disk when the last of them leaves (buffer and
/// running harvests alike), unless the buffer is being kept for the next start.
#[derive(Debug)]
pub struct InitSegment {
    /// Unique within its rendition: names it in playlists (`..._init_{id}.mp4`).
    pub id: u64,
    pub bytes: SegmentBytes,
    kept: AtomicBool,
}

impl InitSegment {
    pub fn new(id: u64, bytes: SegmentBytes) -> Self {
        Self { id, bytes, kept: AtomicBool::new(false) }
    }
}

impl Drop for InitSegment {
    fn drop(&mut self) {
        if let SegmentBytes::File(path) = &self.bytes
            && !self.kept.load(Ordering::Relaxed)
        {
            // Best effort: a leftover is removed with the spool at the next start.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One finished segment of one rendition.
#[derive(Debug, Clone)]
pub struct LiveSegment {
    /// Media sequence number; the same number means the same time span in every rendition.
    pub sequence: u64,
    /// `EXT-X-PROGRAM-DATE-TIME` of the segment's first sample.
    pub start: DateTime<Utc>,
    /// Duration in milliseconds; integer so that long runs do not accumulate rounding drift.
    pub duration_ms: u32,
    /// The segment follows a discontinuity (`EXT-X-DISCONTINUITY` before it).
    pub discontinuity: bool,
    /// Discontinuity sequence number of this segment: discontinuities since the stream began,
    /// counting this segment's own.
    pub discontinuity_sequence: u64,
    pub bytes: SegmentBytes,
    /// fMP4/CMAF: the initialisation segment it needs; `None` for MPEG-TS.
    pub init: Option<Arc<InitSegment>>,
}

impl LiveSegment {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + TimeDelta::milliseconds(i64::from(self.duration_ms))
    }

    /// File extension of the segment: `mp4` for fMP4/CMAF, `ts` for MPEG-TS.
    pub fn extension(&self) -> &'static str {
        if self.init.is_some() { "mp4" } else { "ts" }
    }
}

/// A channel's recent segments, per rendition, trimmed to its retention.
#[derive(Debug)]
pub struct LiveBuffer {
    renditions: Vec<Rendition>,
    tracks: Vec<VecDeque<LiveSegment>>,
    retention: Duration,
}

impl LiveBuffer {
    pub fn new(renditions: Vec<Rendition>, retention: Duration) -> Self {
        let tracks = renditions.iter().map(|_| VecDeque::new()).collect();
        Self { renditions, tracks, retention }
    }

    pub fn renditions(&self) -> &[Rendition] {
        &self.renditions
    }

    /// Segments of rendition `index`, oldest first; empty for an unknown rendition.
    pub fn segments(&self, index: usize) -> &VecDeque<LiveSegment> {
        const EMPTY: &VecDeque<LiveSegment> = &VecDeque::new();
        self.tracks.get(index).unwrap_or(EMPTY)
    }

    /// How far back this buffer keeps segments.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    pub fn set_retention(&mut self, retention: Duration) {
        self.retention = retention;
    }

    /// Appends a finished segment to rendition `index`. Sources push in sequence order; a
    /// segment that is not newer than the last one is ignored, so a restarted source may
    /// safely replay.
    pub fn push(&mut self, index: usize, segment: LiveSegment) {
        if let Some(track) = self.tracks.get_mut(index)
            && track.back().is_none_or(|last| last.sequence < segment.sequence)
        {
            track.push_back(segment);
        }
    }

    /// Replaces the rendition list, e.g. when an encoder pushes a new master playlist. When the
    /// number of renditions changes, the buffered segments no longer line up and are dropped
    /// (and returned, so spooled files can be removed).
    pub fn set_renditions(&mut self, renditions: Vec<Rendition>) -> Vec<LiveSegment> {
        let mut dropped = Vec::new();
        if renditions.len() != self.tracks.len() {
            dropped = self.tracks.iter_mut().flat_map(std::mem::take).collect();
            self.tracks = renditions.iter().map(|_| VecDeque::new()).collect();
        }
        self.renditions = renditions;
        dropped
    }

    /// Drops every segment, e.g. before a source refills from further back.
    pub fn clear(&mut self) {
        self.tracks.iter_mut().for_each(VecDeque::clear);
    }

    /// Drops segments that ended more than the retention before `now`, and returns them (so a
    /// source can delete spooled files).
    pub fn trim(&mut self, now: DateTime<Utc>) -> Vec<LiveSegment> {
        let mut dropped = Vec::new();
        let retention = TimeDelta::from_std(self.retention).unwrap_or(TimeDelta::MAX);
        let Some(oldest_end) = now.checked_sub_signed(retention) else { return dropped };
        for track in &mut self.tracks {
            while track.front().is_some_and(|s| s.end() <= oldest_end) {
                dropped.extend(track.pop_front());
            }
        }
        dropped
    }

    /// The program date time the stream has reached in every rendition: the earliest end of
    /// the renditions' newest segments (an encoder pushes renditions one after the other, so
    /// one may briefly lag). This is MediaPackage's "now" for harvest jobs.
    pub fn live_edge(&self) -> Option<DateTime<Utc>> {
        self.tracks.iter().filter_map(|t| t.back().map(LiveSegment::end)).min()
    }

    /// Where another rendition than `index` put segment `sequence` of discontinuity sequence
    /// `discontinuity_sequence` on the channel's timeline. A segment number is one time span in
    /// every rendition, but an encoder's renditions may stamp it with program date times a
    /// segment or more apart (ffmpeg under load does); the first rendition to arrive sets it.
    pub fn start_elsewhere(&self, index: usize, sequence: u64, discontinuity_sequence: u64) -> Option<DateTime<Utc>> {
        (0..self.tracks.len())
            .filter(|r| *r != index)
            .filter_map(|r| self.segment(r, sequence))
            .find(|s| s.discontinuity_sequence == discontinuity_sequence)
            .map(|s| s.start)
    }

    /// Rendition `index`'s segment `sequence`, if still buffered.
    pub fn segment(&self, index: usize, sequence: u64) -> Option<&LiveSegment> {
        let track = self.segments(index);
        let position = track.binary_search_by_key(&sequence, |s| s.sequence).ok()?;
        track.get(position)
    }
}

/// How long a channel must keep segments for endpoints with these startover windows and
/// playlist windows (in seconds).
pub fn retention_for(windows: impl IntoIterator<Item = (u32, u32)>) -> Duration {
    let longest = windows.into_iter().map(|(startover, playlist)| startover.max(playlist)).max().unwrap_or(0);
    Duration::from_secs(u64::from(longest)) + RETENTION_MARGIN
}

/// The buffers of all channels.
#[derive(Debug, Default)]
pub struct LiveChannels {
    buffers: RwLock<HashMap<String, Arc<RwLock<LiveBuffer>>>>,
}

impl LiveChannels {
    /// The buffer of `channel_id`, created with `make` if the channel has none yet.
    pub fn get_or_insert(&self, channel_id: &str, make: impl FnOnce() -> LiveBuffer) -> Arc<RwLock<LiveBuffer>> {
        let mut buffers = self.buffers.write().unwrap_or_else(|e| e.into_inner());
        buffers.entry(channel_id.to_owned()).or_insert_with(|| Arc::new(RwLock::new(make()))).clone()
    }

    /// Forgets a deleted channel's buffer.
    pub fn remove(&self, channel_id: &str) {
        self.buffers.write().unwrap_or_else(|e| e.into_inner()).remove(channel_id);
    }

    pub fn get(&self, channel_id: &str) -> Option<Arc<RwLock<LiveBuffer>>> {
        self.buffers.read().unwrap_or_else(|e| e.into_inner()).get(channel_id).cloned()
    }

    /// Keeps the spooled initialisation segments of every buffer on disk when the buffers go
    /// at shutdown: the next start restores the buffers, and their segments need them.
    pub fn keep_files(&self) {
        let buffers = self.buffers.read().unwrap_or_else(|e| e.into_inner());
        for buffer in buffers.values() {
            let buffer = buffer.read().unwrap_or_else(|e| e.into_inner());
            for track in &buffer.tracks {
                for init in track.iter().filter_map(|s| s.init.as_ref()) {
                    init.kept.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(sequence: u64, start_ms: i64, duration_ms: u32) -> LiveSegment {
        LiveSegment {
            sequence,
            start: DateTime::from_timestamp_millis(1_700_000_000_000 + start_ms).unwrap(),
            duration_ms,
            discontinuity: false,
            discontinuity_sequence: 0,
            bytes: SegmentBytes::Shared(Bytes::from_static(b"ts")),
            init: None,
        }
    }

    fn rendition() -> Rendition {
        Rendition { bandwidth: 1, ..Rendition::default() }
    }

    #[test]
    fn push_ignores_replays_and_trim_drops_old_segments() {
        let mut buffer = LiveBuffer::new(vec![rendition()], Duration::from_secs(4));
        for n in 0..5 {
            buffer.push(0, segment(n, n as i64 * 2000, 2000));
        }
        buffer.push(0, segment(3, 6000, 2000));
        assert_eq!(buffer.segments(0).len(), 5);
        assert_eq!(buffer.live_edge(), Some(segment(4, 8000, 2000).end()));

        buffer.trim(segment(4, 8000, 2000).end());
        let kept: Vec<_> = buffer.segments(0).iter().map(|s| s.sequence).collect();
        assert_eq!(kept, [3, 4]);
        assert!(buffer.segment(0, 4).is_some());
        assert!(buffer.segment(0, 1).is_none());
        assert!(buffer.segments(7).is_empty());
    }

    #[test]
    fn a_segment_number_has_one_start_across_renditions() {
        let mut buffer = LiveBuffer::new(vec![rendition(), rendition()], Duration::from_secs(60));
        buffer.push(1, segment(7, 14_000, 2000));
        assert_eq!(buffer.start_elsewhere(0, 7, 0), Some(segment(7, 14_000, 2000).start));
        assert_eq!(buffer.start_elsewhere(1, 7, 0), None, "a rendition's own segment is not elsewhere");
        assert_eq!(buffer.start_elsewhere(0, 8, 0), None);
        assert_eq!(buffer.start_elsewhere(0, 7, 1), None, "another encoder session's segment 7");
    }

    #[test]
    fn a_buffered_segment_stays_small() {
        // An hour of startover is 1800 segments per rendition: keep each one pointer-sized data.
        assert!(std::mem::size_of::<LiveSegment>() <= 80, "{}", std::mem::size_of::<LiveSegment>());
    }

    #[test]
    fn retention_covers_the_longest_window_plus_a_margin() {
        assert_eq!(retention_for([(3600, 60), (0, 120)]), Duration::from_secs(3600) + RETENTION_MARGIN);
        assert_eq!(retention_for([]), RETENTION_MARGIN);
    }
}
