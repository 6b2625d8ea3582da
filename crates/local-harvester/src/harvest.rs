//! Harvest jobs: cut a time window out of a channel's live buffer and write it to the bucket
//! as a self-contained HLS VOD.
//!
//! The cut is segment-accurate: every segment overlapping `[start, end)` is taken, so the
//! start snaps back to the beginning of the segment containing it; the span is chosen on the
//! first rendition and every rendition is cut to that span by time, so all renditions cover
//! the same time. Output, beside the manifest key `{dir}/{stem}.m3u8`:
//! `{stem}_{n}.m3u8` (media playlist of rendition `n`, from 1) and `{stem}_{n}_{i}.ts`
//! (segment `i` of the clip, from 0). Children are written before the master, so a reader
//! never finds a master whose playlists or segments are missing.

use chrono::{DateTime, TimeDelta, Utc};
use m3u8_rs::Playlist;

use crate::HarvesterError;
use crate::events;
use crate::hls;
use crate::live::{InitSegment, LiveBuffer, LiveSegment, Rendition};
use crate::model::{JobStatus, S3Object};
use crate::server::Ctx;
use crate::storage::Storage;

/// The segments of one harvest, per rendition.
#[derive(Debug)]
pub struct HarvestPlan {
    renditions: Vec<Rendition>,
    tracks: Vec<Vec<LiveSegment>>,
}

/// The window a harvest job asks for, and the rule it must satisfy.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The origin endpoint's startover window: how far back from the live edge content may be
    /// harvested.
    pub startover_window_seconds: u32,
}

/// Checks the rules AWS applies when it runs a job (and reports only by failing it), then
/// selects the segments. The error is the job's failure message.
pub fn plan(buffer: &LiveBuffer, window: Window) -> Result<HarvestPlan, String> {
    let Window { start, end, startover_window_seconds } = window;
    let edge = buffer.live_edge().ok_or("The channel has no content to harvest: it is not receiving any input")?;
    if end > edge {
        return Err(format!(
            "The end time {} is in the future: the live stream's latest program date time is {}",
            rfc3339(end),
            rfc3339(edge)
        ));
    }
    let earliest = edge - TimeDelta::seconds(i64::from(startover_window_seconds));
    if start < earliest {
        return Err(format!(
            "The start time {} is outside the startover window of {startover_window_seconds} seconds: \
             the earliest time that can be harvested is {}",
            rfc3339(start),
            rfc3339(earliest)
        ));
    }
    let overlaps = |s: &&LiveSegment| s.start < end && s.end() > start;
    let reference: Vec<&LiveSegment> = buffer.segments(0).iter().filter(overlaps).collect();
    let (Some(first), Some(last)) = (reference.first(), reference.last()) else {
        return Err(format!("No content is available between {} and {}", rfc3339(start), rfc3339(end)));
    };
    // MediaPackage harvests whole segments and refuses a window that cannot hold one.
    let shortest_ms = reference.iter().map(|s| s.duration_ms).min().unwrap_or(0);
    if (end - start).num_milliseconds() < i64::from(shortest_ms) {
        return Err(format!(
            "The window from {} to {} is shorter than a segment ({} s): harvest at least one segment's duration",
            rfc3339(start),
            rfc3339(end),
            f64::from(shortest_ms) / 1000.0
        ));
    }
    // Every rendition is cut to the reference's span by time, not by sequence number: an
    // encoder's renditions need not be numbered alike (one may join later), and their program
    // date times differ by a few milliseconds, so a segment belongs if its middle is inside.
    let (from, to) = (first.start, last.end());
    let inside = |s: &&LiveSegment| {
        let middle = s.start + (s.end() - s.start) / 2;
        from <= middle && middle < to
    };
    let tracks: Vec<Vec<LiveSegment>> =
        (0..buffer.renditions().len()).map(|r| buffer.segments(r).iter().filter(inside).cloned().collect()).collect();
    if let Some((index, track)) = tracks.iter().enumerate().find(|(_, t)| t.len() != reference.len()) {
        let span = |t: &[LiveSegment]| match (t.first(), t.last()) {
            (Some(a), Some(b)) => format!("from {} to {}", rfc3339(a.start), rfc3339(b.end())),
            _ => "at all".to_owned(),
        };
        return Err(format!(
            "The renditions of the stream do not all have content for the whole window: rendition {} has {} \
             segments {} where rendition 1 has {} {}",
            index + 1,
            track.len(),
            span(track),
            reference.len(),
            span(&tracks[0]),
        ));
    }
    Ok(HarvestPlan { renditions: buffer.renditions().to_vec(), tracks })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Writes the harvest to `destination` (the master playlist) and beside it.
///
/// # Errors
/// An object cannot be written.
pub async fn write(buckets: &Storage, destination: &S3Object, plan: &HarvestPlan) -> Result<(), HarvesterError> {
    let folder = destination.key.rsplit_once('/').map_or(String::new(), |(folder, _)| format!("{folder}/"));
    let beside = |name: String| S3Object { bucket: destination.bucket.clone(), key: format!("{folder}{name}") };
    let stem = stem(&destination.key);
    for (index, track) in plan.tracks.iter().enumerate() {
        let first_sequence = track.first().map_or(0, |s| s.sequence);
        let segment_name =
            |s: &LiveSegment| format!("{stem}_{}_{:05}.{}", index + 1, s.sequence - first_sequence, s.extension());
        // fMP4 initialisation segments are numbered in the order the clip first needs them.
        let mut inits: Vec<u64> = Vec::new();
        for init in track.iter().filter_map(|s| s.init.as_ref()) {
            if !inits.contains(&init.id) {
                inits.push(init.id);
            }
        }
        let init_name = |init: &InitSegment| {
            let k = inits.iter().position(|id| *id == init.id).unwrap_or_default();
            format!("{stem}_{}_init_{k}.mp4", index + 1)
        };
        // Each initialisation segment goes before the first segment that needs it: the first
        // time an id is met it is the next one of `inits`, which is in that order.
        let mut files = Vec::with_capacity(track.len() + inits.len());
        let mut unwritten_inits = inits.iter().peekable();
        for segment in track {
            if let Some(init) = &segment.init
                && unwritten_inits.next_if(|id| **id == init.id).is_some()
            {
                files.push((beside(init_name(init)), init.bytes.clone()));
            }
            files.push((beside(segment_name(segment)), segment.bytes.clone()));
        }
        buckets.put_segments(files).await?;
        let media = hls::media_playlist(track, false, segment_name, init_name);
        buckets.put(&beside(media_name(stem, index)), hls::render(&Playlist::MediaPlaylist(media))).await?;
    }
    let master = hls::master_playlist(&plan.renditions, |i| media_name(stem, i));
    buckets.put(destination, hls::render(&Playlist::MasterPlaylist(master))).await
}

/// File name of the manifest key without its folder and `.m3u8` extension.
fn stem(key: &str) -> &str {
    let file = key.rsplit('/').next().unwrap_or(key);
    file.strip_suffix(".m3u8").unwrap_or(file)
}

fn media_name(stem: &str, index: usize) -> String {
    format!("{stem}_{}.m3u8", index + 1)
}

/// Runs harvest job `job_id` to the end: harvests, records SUCCEEDED or FAILED, and announces
/// the outcome.
pub async fn run(ctx: Ctx, job_id: String) {
    let outcome = harvest(&ctx, &job_id).await;
    if let Err(message) = &outcome {
        tracing::warn!(job = %job_id, %message, "harvest job failed");
    } else {
        tracing::info!(job = %job_id, "harvest job succeeded");
    }
    let finished = ctx
        .store
        .update(|state| {
            let Some(job) = state.harvest_jobs.get_mut(&job_id) else { return Ok(None) };
            job.status = if outcome.is_ok() { JobStatus::Succeeded } else { JobStatus::Failed };
            job.message = outcome.err();
            Ok::<_, HarvesterError>(Some(job.clone()))
        })
        .await;
    match finished {
        Ok(Some(job)) => events::publish(&ctx, events::harvest_job_notification(&ctx.config, &job)).await,
        Ok(None) => tracing::error!(job = %job_id, "harvest job vanished while running"),
        Err(e) => tracing::error!(job = %job_id, error = %e, "cannot record the harvest job's outcome"),
    }
}

async fn harvest(ctx: &Ctx, job_id: &str) -> Result<(), String> {
    if let Some(message) = ctx.faults.harvest_failure() {
        return Err(message);
    }
    let (job, endpoint) = ctx
        .store
        .read(|s| {
            let job = s.harvest_jobs.get(job_id).cloned();
            let endpoint = job.as_ref().and_then(|j| s.origin_endpoints.get(&j.origin_endpoint_id).cloned());
            (job, endpoint)
        })
        .await;
    let job = job.ok_or("The harvest job no longer exists")?;
    let endpoint = endpoint.ok_or_else(|| format!("Origin endpoint '{}' no longer exists", job.origin_endpoint_id))?;
    let buffer =
        ctx.live.get(&job.channel_id).ok_or("The channel has no content to harvest: it is not receiving any input")?;
    let window = Window {
        start: job.start_time.to_utc(),
        end: job.end_time.to_utc(),
        startover_window_seconds: endpoint.startover_window_seconds,
    };
    let plan = plan(&buffer.read().unwrap_or_else(|e| e.into_inner()), window)?;
    write(&ctx.store.buckets, &job.destination, &plan).await.map_err(|e| {
        tracing::error!(job = %job_id, error = %e, cause = ?std::error::Error::source(&e), "harvest write failed");
        format!("Failed to write the harvested content to bucket '{}': {e}", job.destination.bucket)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::live::SegmentBytes;

    fn epoch() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn at(s: f64) -> DateTime<Utc> {
        epoch() + TimeDelta::milliseconds((s * 1000.0) as i64)
    }

    /// Empty 2 s segment `k` of a stream that restarted (a discontinuity) at segment `restart`.
    fn segment(k: u64, restart: u64) -> LiveSegment {
        LiveSegment {
            sequence: k,
            start: at(2.0 * k as f64),
            duration_ms: 2000,
            discontinuity: k == restart,
            discontinuity_sequence: u64::from(k >= restart),
            bytes: SegmentBytes::Shared(Bytes::new()),
            init: None,
        }
    }

    /// Two renditions of 2 s segments 0..count, starting at the epoch.
    fn buffer(count: u64) -> LiveBuffer {
        let rendition = Rendition { bandwidth: 1, ..Rendition::default() };
        let mut buffer = LiveBuffer::new(vec![rendition.clone(), rendition], Duration::from_secs(3600));
        for k in 0..count {
            for r in 0..2 {
                buffer.push(r, segment(k, 4));
            }
        }
        buffer
    }

    fn window(start: f64, end: f64) -> Window {
        Window { start: at(start), end: at(end), startover_window_seconds: 3600 }
    }

    fn sequences(plan: &HarvestPlan, rendition: usize) -> Vec<u64> {
        plan.tracks[rendition].iter().map(|s| s.sequence).collect()
    }

    #[test]
    fn start_snaps_back_to_the_containing_segment_and_end_is_exclusive() {
        let plan = plan(&buffer(10), window(3.1, 8.0)).unwrap();
        assert_eq!(sequences(&plan, 0), [1, 2, 3]);
        assert_eq!(sequences(&plan, 1), [1, 2, 3]);
    }

    #[test]
    fn a_partial_last_segment_is_included() {
        let plan = plan(&buffer(10), window(4.0, 8.5)).unwrap();
        assert_eq!(sequences(&plan, 0), [2, 3, 4]);
    }

    #[test]
    fn end_after_the_live_edge_fails() {
        let message = plan(&buffer(10), window(10.0, 20.5)).unwrap_err();
        assert!(message.contains("is in the future"), "{message}");
        assert!(plan(&buffer(10), window(10.0, 20.0)).is_ok());
    }

    #[test]
    fn start_before_the_startover_window_fails() {
        let mut w = window(1.0, 6.0);
        w.startover_window_seconds = 10;
        let message = plan(&buffer(10), w).unwrap_err();
        assert!(message.contains("outside the startover window"), "{message}");
    }

    #[test]
    fn no_content_fails() {
        let message = plan(&buffer(0), window(0.0, 2.0)).unwrap_err();
        assert!(message.contains("no content"), "{message}");
        let mut late = buffer(10);
        late.set_retention(Duration::from_secs(1));
        late.trim(at(20.0));
        // Inside the startover window, but the segments have been trimmed away.
        let message = plan(&late, window(0.0, 1.0)).unwrap_err();
        assert!(message.starts_with("No content is available"), "{message}");
    }

    #[test]
    fn a_window_shorter_than_a_segment_fails() {
        let message = plan(&buffer(10), window(3.0, 4.5)).unwrap_err();
        assert!(message.contains("shorter than a segment (2 s)"), "{message}");
        assert!(plan(&buffer(10), window(3.0, 5.0)).is_ok());
    }

    #[test]
    fn a_gap_in_the_stream_is_cut_around_in_every_rendition() {
        // Segments 5 and 6 never arrived (an encoder outage); 7 follows a discontinuity.
        let mut gapped = buffer(0);
        for k in (0..10).filter(|k| !(5..7).contains(k)) {
            for r in 0..2 {
                gapped.push(r, segment(k, 7));
            }
        }
        let plan = plan(&gapped, window(8.0, 16.0)).unwrap();
        assert_eq!(sequences(&plan, 0), [4, 7]);
        assert_eq!(sequences(&plan, 1), [4, 7]);
        let media = hls::media_playlist(&plan.tracks[1], false, |s| s.sequence.to_string(), |_| unreachable!());
        assert!(media.segments[1].discontinuity);
        let message = super::plan(&gapped, window(10.5, 13.0)).unwrap_err();
        assert!(message.starts_with("No content is available"), "{message}");
    }

    #[test]
    fn stem_strips_folder_and_extension() {
        assert_eq!(stem("clips/c/id/index.m3u8"), "index");
        assert_eq!(stem("clip"), "clip");
    }

    #[tokio::test]
    async fn write_puts_children_beside_the_master() {
        let dir = std::env::temp_dir().join(format!("lh-harvest-{}", crate::validate::random_hex(8)));
        let destination = S3Object { bucket: "b".into(), key: "x/index.m3u8".into() };
        let plan = plan(&buffer(10), window(7.0, 12.0)).unwrap();
        write(&Storage::Folder(dir.join("buckets")), &destination, &plan).await.unwrap();

        let folder = dir.join("buckets/b/x");
        let master = m3u8_rs::parse_master_playlist_res(&std::fs::read(folder.join("index.m3u8")).unwrap()).unwrap();
        assert_eq!(master.variants.len(), 2);
        for variant in &master.variants {
            let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join(&variant.uri)).unwrap()).unwrap();
            assert_eq!(media.segments.len(), 3);
            assert!(media.end_list);
            assert_eq!(media.target_duration, 2);
            // Segment 4 (the clip's second) follows a discontinuity; the first never does.
            let discontinuities: Vec<_> = media.segments.iter().map(|s| s.discontinuity).collect();
            assert_eq!(discontinuities, [false, true, false]);
            assert_eq!(media.segments[0].program_date_time, Some(at(6.0).fixed_offset()));
            for segment in &media.segments {
                assert!(folder.join(&segment.uri).is_file(), "{}", segment.uri);
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn each_initialisation_segment_is_written_and_mapped_where_it_starts() {
        let init = |id: u64, bytes: &'static [u8]| {
            Arc::new(InitSegment::new(id, SegmentBytes::Shared(Bytes::from_static(bytes))))
        };
        let (first, second) = (init(7, b"first init"), init(9, b"second init"));
        let rendition = Rendition { bandwidth: 1, ..Rendition::default() };
        let mut buffer = LiveBuffer::new(vec![rendition], Duration::from_secs(3600));
        for k in 0..4 {
            let init = if k < 2 { &first } else { &second };
            buffer.push(0, LiveSegment { init: Some(Arc::clone(init)), ..segment(k, 99) });
        }
        let dir = std::env::temp_dir().join(format!("lh-harvest-{}", crate::validate::random_hex(8)));
        let destination = S3Object { bucket: "b".into(), key: "x/index.m3u8".into() };
        write(&Storage::Folder(dir.join("buckets")), &destination, &plan(&buffer, window(0.0, 8.0)).unwrap())
            .await
            .unwrap();

        let folder = dir.join("buckets/b/x");
        assert_eq!(std::fs::read(folder.join("index_1_init_0.mp4")).unwrap(), b"first init");
        assert_eq!(std::fs::read(folder.join("index_1_init_1.mp4")).unwrap(), b"second init");
        let media = m3u8_rs::parse_media_playlist_res(&std::fs::read(folder.join("index_1.m3u8")).unwrap()).unwrap();
        let maps: Vec<_> = media.segments.iter().map(|s| s.map.as_ref().map(|m| m.uri.as_str())).collect();
        assert_eq!(maps, [Some("index_1_init_0.mp4"), None, Some("index_1_init_1.mp4"), None]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
