//! Clip ids. One id names the clip, its MediaPackage harvest job and its VOD asset, so it must be
//! valid for all three (letters, digits, `-`, `_`), and it is the catalogue's sort key, so it
//! starts with the clip's start time: listing a competition by key is listing it by start.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// `YYYYMMDDTHHMMSSZ-` + 10 random characters from a lowercase base-32 alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClipId(String);

const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const TIME_LEN: usize = 16;
const SUFFIX_LEN: usize = 10;
const SUFFIX_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a clip id (expected YYYYMMDDTHHMMSSZ- followed by {SUFFIX_LEN} characters of [0-9a-z])")]
pub struct InvalidClipId;

impl ClipId {
    /// A new id for a clip starting at `start`. 50 random bits keep ids unique without
    /// coordination even for clips of the same second.
    pub fn generate(start: DateTime<Utc>) -> Self {
        let suffix: String =
            (0..SUFFIX_LEN).map(|_| char::from(SUFFIX_ALPHABET[fastrand::usize(..SUFFIX_ALPHABET.len())])).collect();
        Self(format!("{}-{suffix}", start.format(TIME_FORMAT)))
    }

    /// # Errors
    /// When `value` is not in the generated form.
    pub fn parse(value: &str) -> Result<Self, InvalidClipId> {
        let (time, suffix) = value.split_once('-').ok_or(InvalidClipId)?;
        let time_ok = time.len() == TIME_LEN && NaiveDateTime::parse_from_str(time, TIME_FORMAT).is_ok();
        let suffix_ok = suffix.len() == SUFFIX_LEN && suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b));
        if time_ok && suffix_ok { Ok(Self(value.to_owned())) } else { Err(InvalidClipId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowest sort key of a clip starting at or after `at` (whole seconds).
    pub fn lower_bound(at: DateTime<Utc>) -> String {
        at.format(TIME_FORMAT).to_string()
    }

    /// A sort key above every id of a clip starting in the second of `at`.
    pub fn upper_bound(at: DateTime<Utc>) -> String {
        format!("{}-~", at.format(TIME_FORMAT))
    }
}

impl TryFrom<String> for ClipId {
    type Error = InvalidClipId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClipId> for String {
    fn from(value: ClipId) -> Self {
        value.0
    }
}

impl fmt::Display for ClipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 3339 in UTC with milliseconds: the one spelling of instants in items, bodies and AWS calls.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, h, m, s).unwrap()
    }

    #[test]
    fn generated_ids_parse_and_start_with_the_start_time() {
        let id = ClipId::generate(at(9, 30, 0));
        assert!(id.as_str().starts_with("20261121T093000Z-"), "{id}");
        assert_eq!(ClipId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.as_str().len(), TIME_LEN + 1 + SUFFIX_LEN);
    }

    #[test]
    fn ids_are_valid_harvest_job_and_asset_ids() {
        let id = ClipId::generate(at(0, 0, 0));
        assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn ids_sort_by_start_time() {
        let mut ids: Vec<ClipId> =
            [at(10, 0, 0), at(9, 0, 0), at(9, 59, 59), at(23, 0, 1)].into_iter().map(ClipId::generate).collect();
        ids.sort();
        let starts: Vec<&str> = ids.iter().map(|id| &id.as_str()[..TIME_LEN]).collect();
        assert_eq!(starts, ["20261121T090000Z", "20261121T095959Z", "20261121T100000Z", "20261121T230001Z"]);
    }

    #[test]
    fn ids_are_unique() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| ClipId::generate(at(9, 0, 0))).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn bounds_enclose_every_id_of_their_second() {
        let id = ClipId::generate(at(9, 30, 0));
        assert!(ClipId::lower_bound(at(9, 30, 0)).as_str() <= id.as_str());
        assert!(ClipId::upper_bound(at(9, 30, 0)).as_str() > id.as_str());
        assert!(ClipId::upper_bound(at(9, 29, 59)).as_str() < id.as_str());
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "20261121T093000Z",
            "20261121T093000Z-",
            "20261121T093000Z-ABCDEFGHJK",
            "20261121T093000Z-abcdefghjk0",
            "20261321T093000Z-abcdefghjk",
            "2026-11-21T09:30-abcdefghjk",
            "../../etc/passwd",
            "20261121T093000Z-abcdefghi/",
        ] {
            assert!(ClipId::parse(bad).is_err(), "{bad}");
        }
    }
}
