//! The clip window: which stretch of the live stream a clip covers.
//!
//! A client may name any consistent subset of start, end and duration; what it leaves out is
//! filled in from "now" the way a producer means it ("the last minute"). The rules mirror what
//! MediaPackage will accept for a harvest job, so a bad window is refused here with a field
//! name rather than later by a failed job.

use std::num::NonZeroU32;

use chrono::{DateTime, Duration, Utc};

use super::FieldError;

/// The resolved, validated window of a clip, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl ClipWindow {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// What the client asked for; every part optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowRequest {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Whole seconds; a zero-length clip cannot even be asked for.
    pub duration: Option<NonZeroU32>,
}

/// The limits a window is checked against, taken from the deployment's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRules {
    /// How far "now" is moved back for windows the client did not end: MediaPackage reads "now"
    /// from the stream's program date time, which lags the wall clock.
    pub end_lag: Duration,
    /// The longest clip, at most MediaPackage's 24 h harvest limit.
    pub max_clip: Duration,
    /// The origin endpoint's startover window: nothing older can be harvested.
    pub startover_window: Duration,
}

impl WindowRules {
    /// The length of a clip whose client named neither a duration nor both ends.
    pub const DEFAULT_DURATION_SECONDS: u32 = 60;
    /// MediaPackage's ceiling for a harvest job's window.
    pub const MAX_CLIP_SECONDS: u32 = 86_400;
}

impl WindowRequest {
    /// Fills in the missing parts and checks the result against `rules` at `now`.
    ///
    /// # Errors
    /// Every rule the request breaks, each naming the field a client should change.
    pub fn resolve(&self, now: DateTime<Utc>, rules: &WindowRules) -> Result<ClipWindow, Vec<FieldError>> {
        if self.duration.is_some_and(|s| i64::from(s.get()) > rules.max_clip.num_seconds()) {
            let message = format!("must be at most {} seconds", rules.max_clip.num_seconds());
            return Err(vec![FieldError::new("duration", message)]);
        }
        let duration = self.duration.map(|s| Duration::seconds(i64::from(s.get())));
        let default_duration = Duration::seconds(i64::from(WindowRules::DEFAULT_DURATION_SECONDS));
        let live_edge = now - rules.end_lag;
        let window = match (self.start, self.end, duration) {
            (None, None, d) => {
                let d = d.unwrap_or(default_duration);
                ClipWindow { start: live_edge - d, end: live_edge }
            }
            (Some(start), None, None) => ClipWindow { start, end: live_edge },
            (None, Some(end), d) => ClipWindow { start: end - d.unwrap_or(default_duration), end },
            (Some(start), None, Some(d)) => ClipWindow { start, end: start + d },
            (Some(start), Some(end), None) => ClipWindow { start, end },
            (Some(start), Some(end), Some(d)) => {
                if end - start != d {
                    return Err(vec![FieldError::new(
                        "duration",
                        "does not agree with start and end; give two of the three",
                    )]);
                }
                ClipWindow { start, end }
            }
        };
        window.check(now, rules, self)?;
        Ok(window)
    }
}

impl ClipWindow {
    fn check(&self, now: DateTime<Utc>, rules: &WindowRules, asked: &WindowRequest) -> Result<(), Vec<FieldError>> {
        // Blame the field the client wrote, so the message points at something it can change.
        let end_field = if asked.end.is_some() || asked.duration.is_none() { "end" } else { "duration" };
        let length_field = if asked.duration.is_some() { "duration" } else { "end" };
        let mut errors = Vec::new();
        if self.end <= self.start {
            errors.push(FieldError::new(end_field, "must be after start"));
        } else if self.duration() > rules.max_clip {
            errors.push(FieldError::new(
                length_field,
                format!("the clip must be at most {} seconds long", rules.max_clip.num_seconds()),
            ));
        }
        if self.end > now {
            errors.push(FieldError::new(end_field, "must not be in the future"));
        }
        if self.start < now - rules.startover_window {
            errors.push(FieldError::new(
                "start",
                format!(
                    "is older than the live stream's startover window of {} seconds",
                    rules.startover_window.num_seconds()
                ),
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }
    fn ago(seconds: i64) -> DateTime<Utc> {
        now() - Duration::seconds(seconds)
    }
    fn rules() -> WindowRules {
        WindowRules {
            end_lag: Duration::seconds(10),
            max_clip: Duration::seconds(3600),
            startover_window: Duration::seconds(7200),
        }
    }
    fn resolve(start: Option<i64>, end: Option<i64>, duration: Option<u32>) -> Result<ClipWindow, Vec<FieldError>> {
        let duration = duration.map(|d| NonZeroU32::new(d).expect("tests ask for non-zero durations"));
        WindowRequest { start: start.map(ago), end: end.map(ago), duration }.resolve(now(), &rules())
    }
    fn fields(result: Result<ClipWindow, Vec<FieldError>>) -> Vec<(String, String)> {
        result.unwrap_err().into_iter().map(|e| (e.field, e.message)).collect()
    }
    fn window(start: i64, end: i64) -> ClipWindow {
        ClipWindow { start: ago(start), end: ago(end) }
    }

    #[test]
    fn nothing_given_is_the_last_minute_before_the_lag() {
        assert_eq!(resolve(None, None, None).unwrap(), window(70, 10));
    }

    #[test]
    fn duration_alone_is_the_last_duration_seconds() {
        assert_eq!(resolve(None, None, Some(30)).unwrap(), window(40, 10));
    }

    #[test]
    fn each_consistent_subset_resolves() {
        assert_eq!(resolve(Some(100), Some(40), None).unwrap(), window(100, 40));
        assert_eq!(resolve(Some(100), None, Some(20)).unwrap(), window(100, 80));
        assert_eq!(resolve(None, Some(40), Some(20)).unwrap(), window(60, 40));
        assert_eq!(resolve(Some(100), Some(40), Some(60)).unwrap(), window(100, 40));
        assert_eq!(resolve(Some(100), None, None).unwrap(), window(100, 10));
        assert_eq!(resolve(None, Some(40), None).unwrap(), window(100, 40));
    }

    #[test]
    fn three_parts_that_disagree_are_refused_on_duration() {
        let errors = fields(resolve(Some(100), Some(40), Some(59)));
        assert_eq!(errors[0].0, "duration");
    }

    #[test]
    fn start_must_precede_end() {
        assert_eq!(fields(resolve(Some(40), Some(40), None))[0].0, "end");
        assert_eq!(fields(resolve(Some(40), Some(100), None))[0], ("end".into(), "must be after start".into()));
    }

    #[test]
    fn end_in_the_future_is_refused() {
        let errors = fields(resolve(Some(20), Some(-5), None));
        assert_eq!(errors, [("end".to_string(), "must not be in the future".to_string())]);
        assert_eq!(fields(resolve(Some(20), None, Some(30)))[0].0, "duration");
        // The lag is for defaults only: an explicit end up to now is fine.
        assert_eq!(resolve(Some(20), Some(0), None).unwrap(), window(20, 0));
    }

    #[test]
    fn longer_than_the_maximum_is_refused() {
        assert_eq!(fields(resolve(Some(5000), Some(1000), None))[0].0, "end");
        assert_eq!(fields(resolve(None, None, Some(3601)))[0].0, "duration");
        assert!(resolve(Some(3610), None, Some(3600)).is_ok());
    }

    #[test]
    fn start_before_the_startover_window_is_refused() {
        let errors = fields(resolve(Some(7201), Some(7000), None));
        assert_eq!(errors[0].0, "start");
        assert!(resolve(Some(7200), Some(7000), None).is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let errors = fields(resolve(Some(8000), Some(-100), None));
        let names: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["end", "end", "start"]);
    }
}
