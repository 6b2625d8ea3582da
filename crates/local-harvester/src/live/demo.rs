//! The demo source: the bundled sample media (`media/demo`, see `media/make-demo-media.sh`)
//! played as an endless live stream.
//!
//! Nothing about the stream is stored but its epoch: segment `k` is loop segment `k % n` of
//! pass `k / n`, its program date time is the epoch plus the duration of everything before it,
//! and a discontinuity marks each restart of the loop. So the feeder can fill a buffer for any
//! moment, after any restart, and memory is bounded by the buffer's retention, not by uptime.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::{MasterPlaylist, MediaPlaylist};
use tokio_util::sync::CancellationToken;

use super::{LiveBuffer, LiveSegment, Rendition, SegmentBytes};
use crate::HarvesterError;

/// Bundles the demo files into the binary, so it runs from anywhere without the source tree.
macro_rules! bundled {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/media/demo/", $name)))),*]
    };
}

static FILES: &[(&str, &[u8])] = bundled![
    "master.m3u8",
    "stream_0.m3u8",
    "stream_0_0.ts",
    "stream_0_1.ts",
    "stream_0_2.ts",
    "stream_0_3.ts",
    "stream_1.m3u8",
    "stream_1_0.ts",
    "stream_1_1.ts",
    "stream_1_2.ts",
    "stream_1_3.ts",
];

/// The longest a feeder sleeps, so it notices retention changes and shutdown promptly.
const MAX_FEED_INTERVAL: Duration = Duration::from_secs(1);

/// The demo loop: renditions with their segments, and the loop's timing.
#[derive(Debug)]
pub struct DemoLoop {
    renditions: Vec<Rendition>,
    /// Loop segment durations in ms, taken from the first rendition so every rendition shares
    /// one timeline.
    durations_ms: Vec<u32>,
    /// `ends_ms[i]`: offset of the end of loop segment `i` from the start of the loop.
    ends_ms: Vec<u64>,
    /// `bytes[rendition][i]`.
    bytes: Vec<Vec<Bytes>>,
}

impl DemoLoop {
    /// Parses the bundled media.
    ///
    /// # Errors
    /// The bundled playlists are invalid or name missing files (a broken build).
    pub fn bundled() -> Result<Self, HarvesterError> {
        Self::from_files(FILES)
    }

    fn from_files(files: &[(&str, &'static [u8])]) -> Result<Self, HarvesterError> {
        let file = |name: &str| {
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, bytes)| *bytes)
                .ok_or_else(|| HarvesterError::DemoMedia(format!("{name} is not bundled")))
        };
        let master: MasterPlaylist = m3u8_rs::parse_master_playlist_res(file("master.m3u8")?)
            .map_err(|e| HarvesterError::DemoMedia(format!("master.m3u8: {e}")))?;
        let mut renditions = Vec::new();
        let mut bytes = Vec::new();
        let mut durations_ms: Option<Vec<u32>> = None;
        for variant in master.variants.iter().filter(|v| !v.is_i_frame) {
            let media: MediaPlaylist = m3u8_rs::parse_media_playlist_res(file(&variant.uri)?)
                .map_err(|e| HarvesterError::DemoMedia(format!("{}: {e}", variant.uri)))?;
            let durations: Vec<u32> =
                media.segments.iter().map(|s| (f64::from(s.duration) * 1000.0).round() as u32).collect();
            if durations.is_empty() || durations.contains(&0) {
                return Err(HarvesterError::DemoMedia(format!("{} has no usable segments", variant.uri)));
            }
            match &durations_ms {
                None => durations_ms = Some(durations),
                Some(first) if first.len() != durations.len() => {
                    return Err(HarvesterError::DemoMedia(format!(
                        "{} has {} segments, the first rendition {}",
                        variant.uri,
                        durations.len(),
                        first.len()
                    )));
                }
                Some(_) => {}
            }
            let segments =
                media.segments.iter().map(|s| file(&s.uri).map(Bytes::from_static)).collect::<Result<Vec<_>, _>>()?;
            bytes.push(segments);
            renditions.push(Rendition {
                bandwidth: variant.bandwidth,
                average_bandwidth: variant.average_bandwidth,
                codecs: variant.codecs.clone(),
                resolution: variant.resolution.map(|r| (r.width, r.height)),
                frame_rate: variant.frame_rate,
                audio_group: None,
                alternative: None,
            });
        }
        let durations_ms =
            durations_ms.ok_or_else(|| HarvesterError::DemoMedia("master.m3u8 has no variants".into()))?;
        let ends_ms = durations_ms
            .iter()
            .scan(0u64, |end, d| {
                *end += u64::from(*d);
                Some(*end)
            })
            .collect();
        Ok(Self { renditions, durations_ms, ends_ms, bytes })
    }

    pub fn renditions(&self) -> &[Rendition] {
        &self.renditions
    }

    fn len(&self) -> u64 {
        self.durations_ms.len() as u64
    }

    fn loop_ms(&self) -> u64 {
        *self.ends_ms.last().expect("a loop has at least one segment")
    }

    /// How many segments have finished `elapsed_ms` after the epoch.
    pub fn completed_at(&self, elapsed_ms: i64) -> u64 {
        let Ok(elapsed) = u64::try_from(elapsed_ms) else { return 0 };
        let passes = elapsed / self.loop_ms();
        let within = self.ends_ms.partition_point(|end| *end <= elapsed % self.loop_ms()) as u64;
        passes * self.len() + within
    }

    /// Offset of the end of segment `k` from the epoch.
    fn end_ms(&self, k: u64) -> u64 {
        (k / self.len()) * self.loop_ms() + self.ends_ms[(k % self.len()) as usize]
    }

    /// Segment `k` of rendition `rendition` for a stream that started at `epoch`.
    pub fn segment(&self, epoch: DateTime<Utc>, rendition: usize, k: u64) -> LiveSegment {
        let index = (k % self.len()) as usize;
        let duration_ms = self.durations_ms[index];
        let start_ms = self.end_ms(k) - u64::from(duration_ms);
        LiveSegment {
            sequence: k,
            start: epoch + TimeDelta::milliseconds(start_ms as i64),
            duration_ms,
            discontinuity: index == 0 && k > 0,
            discontinuity_sequence: k / self.len(),
            bytes: SegmentBytes::Shared(self.bytes[rendition][index].clone()),
            init: None,
        }
    }

    /// Brings `buffer` up to `now`: appends the segments finished since the last call, or
    /// refills from the start of the retention when the buffer does not reach back that far
    /// (first call, or a grown retention), then trims.
    pub fn feed(&self, epoch: DateTime<Utc>, buffer: &mut LiveBuffer, now: DateTime<Utc>) {
        let elapsed_ms = (now - epoch).num_milliseconds();
        let retention_ms = i64::try_from(buffer.retention().as_millis()).unwrap_or(i64::MAX);
        let completed = self.completed_at(elapsed_ms);
        let first_wanted = self.completed_at(elapsed_ms.saturating_sub(retention_ms));
        let track = buffer.segments(0);
        let from = match (track.front(), track.back()) {
            (Some(oldest), Some(newest)) if oldest.sequence <= first_wanted => newest.sequence + 1,
            _ => {
                buffer.clear();
                first_wanted
            }
        };
        for k in from..completed {
            for rendition in 0..self.renditions.len() {
                buffer.push(rendition, self.segment(epoch, rendition, k));
            }
        }
        // Demo segments share the bundled bytes: nothing to clean up.
        buffer.trim(now);
    }

    /// Time from `now` until the next segment finishes.
    fn until_next(&self, epoch: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
        let elapsed_ms = (now - epoch).num_milliseconds();
        let next_end = self.end_ms(self.completed_at(elapsed_ms)) as i64;
        Duration::from_millis(u64::try_from(next_end - elapsed_ms.max(0)).unwrap_or(0))
    }
}

/// Keeps a demo channel's buffer current until cancelled.
pub async fn run_feeder(
    demo: Arc<DemoLoop>,
    epoch: DateTime<Utc>,
    buffer: Arc<RwLock<LiveBuffer>>,
    cancel: CancellationToken,
) {
    loop {
        let now = Utc::now();
        demo.feed(epoch, &mut buffer.write().unwrap_or_else(|e| e.into_inner()), now);
        // A few ms late rather than early, so the segment is finished when we look again.
        let wait = (demo.until_next(epoch, now) + Duration::from_millis(5)).min(MAX_FEED_INTERVAL);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn at(ms: i64) -> DateTime<Utc> {
        epoch() + TimeDelta::milliseconds(ms)
    }

    #[test]
    fn bundled_media_has_two_renditions_of_four_two_second_segments() {
        let demo = DemoLoop::bundled().unwrap();
        assert_eq!(demo.renditions().len(), 2);
        assert_eq!(demo.durations_ms, [2000; 4]);
        assert_eq!(demo.loop_ms(), 8000);
        assert_eq!(demo.renditions()[0].resolution, Some((640, 360)));
        assert_eq!(demo.renditions()[1].resolution, Some((320, 180)));
        assert!(demo.bytes.iter().flatten().all(|b| b.first() == Some(&0x47)), "MPEG-TS sync byte");
    }

    #[test]
    fn positions_follow_the_epoch() {
        let demo = DemoLoop::bundled().unwrap();
        assert_eq!(demo.completed_at(-5), 0);
        assert_eq!(demo.completed_at(1999), 0);
        assert_eq!(demo.completed_at(2000), 1);
        assert_eq!(demo.completed_at(8000), 4);
        assert_eq!(demo.completed_at(17_999), 8);
        assert_eq!(demo.until_next(epoch(), at(17_500)), Duration::from_millis(500));

        let s = demo.segment(epoch(), 1, 9);
        assert_eq!(s.sequence, 9);
        assert_eq!(s.start, at(18_000));
        assert_eq!(s.end(), at(20_000));
        assert!(!s.discontinuity);
        assert_eq!(s.discontinuity_sequence, 2);
        let restart = demo.segment(epoch(), 0, 8);
        assert!(restart.discontinuity);
        assert_eq!(restart.discontinuity_sequence, 2);
        assert!(!demo.segment(epoch(), 0, 0).discontinuity);
    }

    #[test]
    fn feed_keeps_the_retention_and_appends_in_real_time() {
        let demo = DemoLoop::bundled().unwrap();
        let mut buffer = LiveBuffer::new(demo.renditions().to_vec(), Duration::from_secs(10));
        demo.feed(epoch(), &mut buffer, at(3_600_000));
        let seqs = |b: &LiveBuffer, r| b.segments(r).iter().map(|s| s.sequence).collect::<Vec<_>>();
        assert_eq!(seqs(&buffer, 0), (1795..1800).collect::<Vec<_>>());
        assert_eq!(seqs(&buffer, 1), seqs(&buffer, 0));
        assert_eq!(buffer.live_edge(), Some(at(3_600_000)));

        demo.feed(epoch(), &mut buffer, at(3_604_100));
        assert_eq!(seqs(&buffer, 0), (1797..1802).collect::<Vec<_>>());

        buffer.set_retention(Duration::from_secs(20));
        demo.feed(epoch(), &mut buffer, at(3_604_100));
        assert_eq!(seqs(&buffer, 0), (1792..1802).collect::<Vec<_>>());
    }

    #[test]
    fn feed_before_the_retention_is_full_starts_at_the_epoch() {
        let demo = DemoLoop::bundled().unwrap();
        let mut buffer = LiveBuffer::new(demo.renditions().to_vec(), Duration::from_secs(3600));
        demo.feed(epoch(), &mut buffer, at(5_000));
        let seqs: Vec<_> = buffer.segments(0).iter().map(|s| s.sequence).collect();
        assert_eq!(seqs, [0, 1]);
    }
}
