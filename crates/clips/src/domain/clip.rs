//! The clip and its life: HARVESTING → PACKAGING → READY, or FAILED with a reason.
//!
//! Events arrive at least once and in any order, so every change is a pure function of the
//! current clip and one fact; a fact that would move the clip backwards yields no change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClipId, ClipWindow, CompetitionId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClipStatus {
    /// The harvest job was asked for; MediaPackage is copying the window to S3.
    Harvesting,
    /// The harvested HLS is being ingested as a VOD asset.
    Packaging,
    /// Every egress endpoint of the asset is playable.
    Ready,
    /// Terminal; `Clip::error` says why.
    Failed,
}

impl ClipStatus {
    pub const ALL: [ClipStatus; 4] = [Self::Harvesting, Self::Packaging, Self::Ready, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Harvesting => "HARVESTING",
            Self::Packaging => "PACKAGING",
            Self::Ready => "READY",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// READY and FAILED are final: no later event changes them.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Ready | Self::Failed)
    }
}

/// Whether one packaging configuration's egress endpoint can be played yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlaybackStatus {
    Pending,
    Playable,
}

/// One way to play the clip: a packaging configuration's egress URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Playback {
    pub packaging_configuration_id: String,
    pub url: String,
    pub status: PlaybackStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub competition: CompetitionId,
    pub id: ClipId,
    pub title: String,
    pub description: String,
    pub window: ClipWindow,
    pub status: ClipStatus,
    pub error: Option<String>,
    pub playback: Vec<Playback>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A fact learnt about a clip from MediaPackage, in the clip's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipFact {
    /// MediaPackage refused or failed the harvest, or VOD ingest failed.
    Failed { reason: String },
    /// The VOD asset exists; these are its egress endpoints and what is known of their
    /// playability (from the asset's description and, for one endpoint, a playable event).
    Packaging { playback: Vec<Playback> },
}

impl Clip {
    /// A new clip, waiting for its harvest. An untitled clip is named after its competition and
    /// window ("100m-final 09:30:00–09:31:00 UTC"), enough for a list to tell clips apart.
    pub fn harvesting(
        competition: CompetitionId,
        title: Option<String>,
        description: Option<String>,
        window: ClipWindow,
        now: DateTime<Utc>,
    ) -> Self {
        let title = title.unwrap_or_else(|| {
            format!("{competition} {}–{} UTC", window.start.format("%H:%M:%S"), window.end.format("%H:%M:%S"))
        });
        Self {
            id: ClipId::generate(window.start),
            competition,
            title,
            description: description.unwrap_or_default(),
            window,
            status: ClipStatus::Harvesting,
            error: None,
            playback: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The clip after `fact`, or `None` when the fact changes nothing (a repeat, or a fact that
    /// would move the clip backwards).
    pub fn apply(&self, fact: &ClipFact, now: DateTime<Utc>) -> Option<Clip> {
        if self.status.is_final() {
            return None;
        }
        let mut next = self.clone();
        match fact {
            ClipFact::Failed { reason } => {
                next.status = ClipStatus::Failed;
                next.error = Some(reason.clone());
            }
            ClipFact::Packaging { playback } => {
                next.playback = merge_playback(&self.playback, playback);
                next.status = ClipStatus::Packaging;
            }
        }
        if next.status == ClipStatus::Packaging
            && !next.playback.is_empty()
            && next.playback.iter().all(|p| p.status == PlaybackStatus::Playable)
        {
            next.status = ClipStatus::Ready;
        }
        if next == *self {
            return None;
        }
        next.updated_at = now;
        Some(next)
    }
}

/// Endpoints from a fresh asset description, keeping what is already known to be playable: the
/// events for two endpoints may be processed in either order, each with a description that
/// predates the other.
fn merge_playback(known: &[Playback], described: &[Playback]) -> Vec<Playback> {
    let mut merged: Vec<Playback> = described.to_vec();
    for old in known {
        match merged.iter_mut().find(|p| p.packaging_configuration_id == old.packaging_configuration_id) {
            Some(entry) if old.status == PlaybackStatus::Playable => entry.status = PlaybackStatus::Playable,
            Some(_) => {}
            None => merged.push(old.clone()),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, s).unwrap()
    }

    fn clip(status: ClipStatus, playback: Vec<Playback>) -> Clip {
        Clip {
            competition: CompetitionId::parse("final").unwrap(),
            id: ClipId::generate(t(0)),
            title: "t".into(),
            description: String::new(),
            window: ClipWindow { start: t(0), end: t(30) },
            status,
            error: None,
            playback,
            created_at: t(40),
            updated_at: t(40),
        }
    }

    fn pb(id: &str, status: PlaybackStatus) -> Playback {
        Playback { packaging_configuration_id: id.into(), url: format!("http://vod/{id}.m3u8"), status }
    }

    fn packaging(ids: &[&str]) -> ClipFact {
        ClipFact::Packaging { playback: ids.iter().map(|id| pb(id, PlaybackStatus::Pending)).collect() }
    }

    /// What a playable event for `id` yields: the described endpoints with `id` playable.
    fn playable(id: &str, all: &[&str]) -> ClipFact {
        let playback = all
            .iter()
            .map(|p| pb(p, if *p == id { PlaybackStatus::Playable } else { PlaybackStatus::Pending }))
            .collect();
        ClipFact::Packaging { playback }
    }

    #[test]
    fn the_happy_path_moves_forward() {
        let harvesting = clip(ClipStatus::Harvesting, vec![]);
        let packaging_clip = harvesting.apply(&packaging(&["hls", "cmaf"]), t(50)).unwrap();
        assert_eq!(packaging_clip.status, ClipStatus::Packaging);
        assert_eq!(packaging_clip.updated_at, t(50));
        let one = packaging_clip.apply(&playable("hls", &["hls", "cmaf"]), t(51)).unwrap();
        assert_eq!(one.status, ClipStatus::Packaging, "one of two endpoints is not READY");
        let both = one.apply(&playable("cmaf", &["hls", "cmaf"]), t(52)).unwrap();
        assert_eq!(both.status, ClipStatus::Ready);
        assert!(both.playback.iter().all(|p| p.status == PlaybackStatus::Playable));
    }

    #[test]
    fn repeats_change_nothing() {
        let packaging_clip =
            clip(ClipStatus::Packaging, vec![pb("hls", PlaybackStatus::Pending), pb("b", PlaybackStatus::Playable)]);
        assert_eq!(packaging_clip.apply(&packaging(&["hls", "b"]), t(50)), None);
        assert_eq!(packaging_clip.apply(&playable("b", &["hls", "b"]), t(50)), None);
    }

    #[test]
    fn final_states_never_move() {
        for status in [ClipStatus::Ready, ClipStatus::Failed] {
            let done = clip(status, vec![pb("hls", PlaybackStatus::Playable)]);
            for fact in [ClipFact::Failed { reason: "late".into() }, packaging(&["hls"]), playable("hls", &["hls"])] {
                assert_eq!(done.apply(&fact, t(59)), None, "{status:?} {fact:?}");
            }
        }
    }

    #[test]
    fn failure_is_recorded_with_its_reason() {
        let failed = clip(ClipStatus::Harvesting, vec![])
            .apply(&ClipFact::Failed { reason: "no content".into() }, t(50))
            .unwrap();
        assert_eq!(failed.status, ClipStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("no content"));
    }

    #[test]
    fn playable_events_in_either_order_complete_the_clip() {
        let all = ["hls", "dash"];
        for order in [["hls", "dash"], ["dash", "hls"]] {
            // Each event is handled with a description taken before the other was processed.
            let first = clip(ClipStatus::Harvesting, vec![]).apply(&playable(order[0], &all), t(50)).unwrap();
            assert_eq!(first.status, ClipStatus::Packaging);
            let second = first.apply(&playable(order[1], &all), t(51)).unwrap();
            assert_eq!(second.status, ClipStatus::Ready, "{order:?}");
        }
    }

    #[test]
    fn a_single_playable_endpoint_is_ready_at_once() {
        let ready = clip(ClipStatus::Harvesting, vec![]).apply(&playable("hls", &["hls"]), t(50)).unwrap();
        assert_eq!(ready.status, ClipStatus::Ready);
    }

    #[test]
    fn a_new_clip_is_harvesting_and_titled_after_its_window() {
        let window = ClipWindow { start: t(0), end: t(30) };
        let clip = Clip::harvesting(CompetitionId::parse("final").unwrap(), None, None, window, t(40));
        assert_eq!(clip.title, "final 12:00:00–12:00:30 UTC");
        assert_eq!((clip.status, clip.created_at, clip.description.as_str()), (ClipStatus::Harvesting, t(40), ""));
        assert!(clip.id.as_str().starts_with("20261121T120000Z-"));
        let titled = Clip::harvesting(clip.competition.clone(), Some("Gold".into()), Some("d".into()), window, t(40));
        assert_eq!((titled.title.as_str(), titled.description.as_str()), ("Gold", "d"));
    }

    #[test]
    fn status_names_round_trip() {
        for s in ClipStatus::ALL {
            assert_eq!(ClipStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ClipStatus::parse("ready"), None);
    }
}
