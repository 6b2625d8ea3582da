//! Hooks for `benches/harvest.rs`: a channel buffer of a chosen length without hours of real
//! ingest, and the harvest of all of it. Not part of the API (hidden from the docs).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta};

use crate::harvest::{self, Window};
use crate::live::{LiveBuffer, LiveSegment, Rendition, SegmentBytes};
use crate::model::S3Object;
use crate::storage::Storage;

/// Segment duration of the synthetic channels, as the demo's and the usual encoder setting.
const SEGMENT_MS: u32 = 2000;

/// A channel buffer holding `hours` of 2 s segments in each of its renditions.
#[derive(Debug)]
pub struct SyntheticChannel {
    buffer: LiveBuffer,
    hours: u32,
}

impl SyntheticChannel {
    /// Segments whose bytes are one shared MPEG-TS packet, as the demo's are shared by every
    /// pass of its loop: what is measured is the per-segment cost, not disk bandwidth.
    pub fn shared(renditions: usize, hours: u32) -> Self {
        let packet = Bytes::from({
            let mut packet = vec![0xffu8; 188];
            packet[0] = 0x47;
            packet
        });
        Self::build(renditions, hours, |_, _| SegmentBytes::Shared(packet.clone()))
    }

    /// Segments spooled to files, as an encoder's are, under a path as long as the real spool's
    /// (`{spool}/{rendition}/{record}.seg`). The files need not exist: this is for measuring
    /// the buffer's memory.
    pub fn spooled(renditions: usize, hours: u32, spool: &Path) -> Self {
        Self::build(renditions, hours, |rendition, sequence| {
            let name = format!("{sequence}_1795301514558_{SEGMENT_MS}_0_0_x.seg");
            SegmentBytes::File(Arc::from(spool.join((rendition + 1).to_string()).join(name).as_path()))
        })
    }

    fn build(renditions: usize, hours: u32, mut bytes: impl FnMut(usize, u64) -> SegmentBytes) -> Self {
        let rendition = Rendition { bandwidth: 1_000_000, ..Rendition::default() };
        let retention = Duration::from_secs(u64::from(hours) * 3600 + 60);
        let mut buffer = LiveBuffer::new(vec![rendition; renditions], retention);
        let epoch = DateTime::from_timestamp(1_700_000_000, 0).expect("a valid time");
        for sequence in 0..u64::from(hours) * 3600 * 1000 / u64::from(SEGMENT_MS) {
            for index in 0..renditions {
                buffer.push(
                    index,
                    LiveSegment {
                        sequence,
                        start: epoch + TimeDelta::milliseconds((sequence * u64::from(SEGMENT_MS)) as i64),
                        duration_ms: SEGMENT_MS,
                        discontinuity: false,
                        discontinuity_sequence: 0,
                        bytes: bytes(index, sequence),
                        init: None,
                    },
                );
            }
        }
        Self { buffer, hours }
    }

    /// Segments buffered, all renditions together.
    pub fn segments(&self) -> usize {
        (0..self.buffer.renditions().len()).map(|index| self.buffer.segments(index).len()).sum()
    }

    /// Harvests the whole buffer into folder buckets under `root` (plan, segments, playlists),
    /// as a harvest job does, and returns the master playlist's path.
    ///
    /// # Panics
    /// The harvest fails.
    pub async fn harvest_all(&self, root: &Path) -> PathBuf {
        let edge = self.buffer.live_edge().expect("a filled buffer");
        let window = Window {
            start: edge - TimeDelta::hours(i64::from(self.hours)),
            end: edge,
            startover_window_seconds: self.hours * 3600,
        };
        let plan = harvest::plan(&self.buffer, window).expect("the window is inside the buffer");
        let destination = S3Object { bucket: "bench".to_owned(), key: "clip/index.m3u8".to_owned() };
        harvest::write(&Storage::Folder(root.to_owned()), &destination, &plan).await.expect("the harvest is written");
        root.join("bench/clip/index.m3u8")
    }
}
