//! Time-shifted viewing: `?start=&end=` on an origin endpoint's playlist URLs, served from the
//! startover window ([MediaPackage user guide: time-shifted viewing](https://docs.aws.amazon.com/mediapackage/latest/ug/time-shifted.html)).
//!
//! - `start` and `end`: the segments overlapping `[start, end)`. Once the stream has passed
//!   `end` the playlist is closed (`EXT-X-PLAYLIST-TYPE:VOD`, `EXT-X-ENDLIST`); before that it
//!   is an `EVENT` playlist that grows until it reaches `end`.
//! - `start` alone: an `EVENT` playlist from `start` that grows with the live stream.
//!
//! Times are epoch seconds or ISO 8601 with an offset. A `start` before the startover window is
//! 404, as on AWS; malformed or inconsistent parameters are 422 naming the parameter.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::LiveSegment;
use crate::api::error::ApiError;

/// The longest window one time-shifted playlist may span (MediaPackage serves up to 24 hours).
const MAX_WINDOW: TimeDelta = TimeDelta::hours(24);

/// A time-shift request read from a playlist URL's query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeShift {
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    /// `start` and `end` as the client wrote them, re-encoded, for the master's child playlist
    /// URIs: players resolve those without the master's query, so it has to be carried along.
    query: String,
}

/// The segments of a time-shifted media playlist and whether it is finished.
#[derive(Debug)]
pub struct Shifted {
    pub segments: Vec<LiveSegment>,
    /// The stream has passed `end`: the playlist will not change again.
    pub closed: bool,
}

impl TimeShift {
    /// Reads `start` and `end` from a raw query string; `None` when neither is there, for the
    /// standard live playlist. Other parameters are ignored.
    ///
    /// # Errors
    /// 422 naming the parameter: repeated, unparseable, `end` without `start`, `end` not after
    /// `start`, or a window over 24 hours.
    pub fn from_query(query: Option<&str>) -> Result<Option<Self>, ApiError> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
        let single = |name: &str| -> Result<Option<&str>, ApiError> {
            let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
            let first = values.next();
            match values.next() {
                Some(_) => Err(ApiError::invalid(format!("{name}: must be given once"))),
                None => Ok(first),
            }
        };
        let (raw_start, raw_end) = (single("start")?, single("end")?);
        let Some(raw_start) = raw_start else {
            return match raw_end {
                Some(_) => Err(ApiError::invalid("start: is required when end is given")),
                None => Ok(None),
            };
        };
        let start = parse_time("start", raw_start)?;
        let end = raw_end.map(|raw| parse_time("end", raw)).transpose()?;
        if let Some(end) = end {
            if end <= start {
                return Err(ApiError::invalid("end: must be after start"));
            }
            if end - start > MAX_WINDOW {
                return Err(ApiError::invalid("end: the window from start to end must be at most 24 hours"));
            }
        }
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        serializer.append_pair("start", raw_start);
        if let Some(raw_end) = raw_end {
            serializer.append_pair("end", raw_end);
        }
        Ok(Some(Self { start, end, query: serializer.finish() }))
    }

    /// The query string that asks for this time shift again.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The buffered segments this time shift shows, out of `segments` (one rendition, oldest
    /// first), of which those ending by `available_until` (now, after the endpoint's time delay)
    /// can be shown.
    ///
    /// # Errors
    /// 404 when startover is disabled on the endpoint, `start` is before the startover window
    /// (measured back from `available_until`) or no content is available from `start` yet.
    pub fn select(
        &self,
        segments: &VecDeque<LiveSegment>,
        available_until: DateTime<Utc>,
        startover_window_seconds: u32,
    ) -> Result<Shifted, ApiError> {
        if startover_window_seconds == 0 {
            return Err(ApiError::not_found("Time-shifted viewing needs a startover window on the origin endpoint"));
        }
        let earliest = available_until - TimeDelta::seconds(i64::from(startover_window_seconds));
        if self.start < earliest {
            return Err(ApiError::not_found(format!(
                "start {} is outside the startover window of {startover_window_seconds} seconds, which begins at {}",
                rfc3339(self.start),
                rfc3339(earliest)
            )));
        }
        let before_end = |s: &LiveSegment| self.end.is_none_or(|end| s.start < end);
        let available: Vec<LiveSegment> =
            segments.iter().filter(|s| s.end() <= available_until).filter(|s| s.end() > self.start).cloned().collect();
        let newest_end = available.last().map(LiveSegment::end);
        let shown: Vec<LiveSegment> = available.into_iter().filter(|s| before_end(s)).collect();
        if shown.is_empty() {
            return Err(ApiError::not_found(format!("No content is available from {} yet", rfc3339(self.start))));
        }
        let closed = matches!((self.end, newest_end), (Some(end), Some(newest)) if newest >= end);
        Ok(Shifted { segments: shown, closed })
    }
}

/// A time parameter: epoch seconds (`1700000000`, `1700000000.5`) or ISO 8601 with an offset.
/// MediaPackage also takes `_` for the offset's `+`, which a query string would otherwise turn
/// into a space; an unescaped `+` that arrives as a space is read as `+` too.
fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let invalid =
        || ApiError::invalid(format!("{name}: '{raw}' is not epoch seconds or an ISO 8601 time with an offset"));
    if raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = raw.parse().map_err(|_| invalid())?;
        let millis = (seconds * 1000.0).round();
        // Beyond chrono's range (or i64's) is not a time anyone can mean.
        return (millis < 9e15).then(|| DateTime::from_timestamp_millis(millis as i64)).flatten().ok_or_else(invalid);
    }
    let normalised = raw.replace(['_', ' '], "+");
    DateTime::parse_from_rfc3339(&normalised).map(|t| t.to_utc()).map_err(|_| invalid())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::live::SegmentBytes;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    /// Segments of 2 s from `at(0)` to `at(2 * count)`.
    fn buffered(count: u64) -> VecDeque<LiveSegment> {
        (0..count)
            .map(|k| LiveSegment {
                sequence: k,
                start: at(2 * k as i64),
                duration_ms: 2000,
                discontinuity: false,
                discontinuity_sequence: 0,
                bytes: SegmentBytes::Shared(Bytes::new()),
                init: None,
            })
            .collect()
    }

    fn shift(query: &str) -> TimeShift {
        TimeShift::from_query(Some(query)).unwrap().expect("a time shift")
    }

    fn sequences(shifted: &Shifted) -> Vec<u64> {
        shifted.segments.iter().map(|s| s.sequence).collect()
    }

    #[test]
    fn times_are_epoch_seconds_or_iso_8601_with_an_offset() {
        let expected = at(0);
        for raw in [
            "1700000000",
            "1700000000.0",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.000Z",
            "2023-11-15T00:13:20+02:00",
            "2023-11-15T00:13:20_02:00",
            "2023-11-15T00:13:20 02:00",
            "2023-11-14T20:13:20-02:00",
        ] {
            assert_eq!(parse_time("start", raw).unwrap(), expected, "{raw}");
        }
        assert_eq!(parse_time("start", "1700000000.25").unwrap(), expected + TimeDelta::milliseconds(250));
        for bad in ["", "yesterday", "2023-11-14T22:13:20", "2023-11-14", "1.2.3", "99999999999999999999"] {
            let err = parse_time("end", bad).unwrap_err();
            assert!(err.message.starts_with("end: "), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn a_query_without_start_or_end_is_the_live_playlist() {
        assert_eq!(TimeShift::from_query(None).unwrap(), None);
        assert_eq!(TimeShift::from_query(Some("foo=bar")).unwrap(), None);
    }

    #[test]
    fn inconsistent_parameters_are_refused_naming_the_parameter() {
        let message = |query: &str| TimeShift::from_query(Some(query)).unwrap_err().message;
        assert!(message("end=1700000000").starts_with("start: "));
        assert!(message("start=1700000010&end=1700000010").starts_with("end: must be after start"));
        assert!(message("start=1700000000&end=1700086401").starts_with("end: "));
        assert!(message("start=1700000000&start=1700000001").starts_with("start: must be given once"));
        assert!(TimeShift::from_query(Some("start=1700000000&end=1700086400")).is_ok(), "exactly 24 hours");
    }

    #[test]
    fn the_query_is_carried_as_the_client_wrote_it() {
        let shifted = shift("end=2023-11-14T22%3A13%3A30%2B00%3A00&start=1700000000&x=1");
        assert_eq!(shifted.query(), "start=1700000000&end=2023-11-14T22%3A13%3A30%2B00%3A00");
        assert_eq!(TimeShift::from_query(Some(shifted.query())).unwrap(), Some(shifted));
    }

    #[test]
    fn a_past_window_is_closed_and_snaps_out_to_whole_segments() {
        let segments = buffered(100);
        let shifted = shift("start=1700000021&end=1700000030").select(&segments, at(200), 3600).unwrap();
        assert_eq!(sequences(&shifted), [10, 11, 12, 13, 14]);
        assert!(shifted.closed);
    }

    #[test]
    fn a_window_reaching_past_the_live_edge_grows_until_it_is_complete() {
        let segments = buffered(100);
        let open = shift("start=1700000190&end=1700000210").select(&segments, at(200), 3600).unwrap();
        assert_eq!(sequences(&open), [95, 96, 97, 98, 99]);
        assert!(!open.closed);
        // The segment holding `end` is only partly there: not closed yet.
        let partial = shift("start=1700000190&end=1700000199").select(&segments, at(198), 3600).unwrap();
        assert_eq!(sequences(&partial), [95, 96, 97, 98]);
        assert!(!partial.closed);
        let complete = shift("start=1700000190&end=1700000199").select(&segments, at(200), 3600).unwrap();
        assert_eq!(sequences(&complete), [95, 96, 97, 98, 99]);
        assert!(complete.closed);
    }

    #[test]
    fn start_alone_runs_to_the_available_live_edge() {
        let segments = buffered(100);
        let delayed = at(200) - TimeDelta::seconds(10);
        let shifted = shift("start=1700000170").select(&segments, delayed, 3600).unwrap();
        assert_eq!(sequences(&shifted), [85, 86, 87, 88, 89, 90, 91, 92, 93, 94]);
        assert!(!shifted.closed);
    }

    #[test]
    fn starts_outside_the_startover_window_or_the_content_are_not_found() {
        let segments = buffered(100);
        let too_old = shift("start=1700000009").select(&segments, at(200), 190).unwrap_err();
        assert_eq!(too_old.code, crate::api::error::ErrorCode::NotFound);
        assert!(too_old.message.contains("startover window of 190 seconds"), "{}", too_old.message);
        assert!(shift("start=1700000010").select(&segments, at(200), 190).is_ok(), "the window's first second");
        let future = shift("start=1700000200").select(&segments, at(200), 3600).unwrap_err();
        assert!(future.message.starts_with("No content is available"), "{}", future.message);
        let disabled = shift("start=1700000100").select(&segments, at(200), 0).unwrap_err();
        assert!(disabled.message.contains("startover window"), "{}", disabled.message);
    }
}
