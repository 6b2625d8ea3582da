//! Pure domain: no I/O, no clocks. Everything here is decided from its arguments.

mod clip;
mod competition;
mod id;
mod window;

pub use clip::{Clip, ClipFact, ClipStatus, Playback, PlaybackStatus};
pub use competition::{CompetitionId, InvalidCompetition};
pub use id::{ClipId, InvalidClipId, format_instant};
pub use window::{ClipWindow, WindowRequest, WindowRules};

/// A client mistake tied to the request field that holds it (RFC 9457 `errors[]` entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Where a clip's harvested HLS lands: `{prefix}{competition}/{clip}/index.m3u8`. The key alone
/// identifies the clip, so an event carrying it needs no lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipKey {
    pub competition: CompetitionId,
    pub id: ClipId,
}

const MANIFEST_NAME: &str = "index.m3u8";

impl ClipKey {
    pub fn manifest_key(&self, prefix: &str) -> String {
        format!("{prefix}{}/{}/{MANIFEST_NAME}", self.competition, self.id)
    }

    /// The clip a harvested manifest key belongs to, or `None` for a key this deployment did not
    /// write (another prefix, another shape, or path tricks).
    pub fn from_manifest_key(prefix: &str, key: &str) -> Option<Self> {
        let rest = key.strip_prefix(prefix)?;
        let mut parts = rest.split('/');
        let (competition, id, name) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || name != MANIFEST_NAME {
            return None;
        }
        Some(Self { competition: CompetitionId::parse(competition).ok()?, id: ClipId::parse(id).ok()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_round_trip() {
        let key = ClipKey {
            competition: CompetitionId::parse("final").unwrap(),
            id: ClipId::parse("20261121T093000Z-abcdefghjk").unwrap(),
        };
        let s = key.manifest_key("clips/");
        assert_eq!(s, "clips/final/20261121T093000Z-abcdefghjk/index.m3u8");
        assert_eq!(ClipKey::from_manifest_key("clips/", &s), Some(key));
    }

    #[test]
    fn foreign_keys_are_not_clips() {
        for key in [
            "other/final/20261121T093000Z-abcdefghjk/index.m3u8",
            "clips/final/20261121T093000Z-abcdefghjk/master.m3u8",
            "clips/final/20261121T093000Z-abcdefghjk/index.m3u8/x",
            "clips/../20261121T093000Z-abcdefghjk/index.m3u8",
            "clips/final/../../index.m3u8",
            "clips/final/not-an-id/index.m3u8",
            "clips/final/index.m3u8",
            "",
        ] {
            assert_eq!(ClipKey::from_manifest_key("clips/", key), None, "{key}");
        }
    }
}
