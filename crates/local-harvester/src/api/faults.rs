//! Fault injection, an extension that AWS does not have. Tests use it to put the clients of
//! both APIs through what the real services do now and then: throttling and 5xx answers, slow
//! answers, harvest jobs that fail, and EventBridge's at-least-once, any-order, best-effort
//! delivery of the notifications.
//!
//! - `POST /_local/faults`: a rule for API calls. `{"operation": "CreateAsset" | "*",
//!   "errorType": "ServiceUnavailableException", "count": 2}` fails the next two calls;
//!   `"fraction": 0.3` instead fails that share of calls until cleared; `"latencyMs": 200`
//!   delays the calls the rule hits (with or without an `errorType`); `"message"` is optional.
//! - `POST /_local/faults/harvests`: `{"count": 1}` or `{"fraction": 0.1}`, with an optional
//!   `"message"`: harvest jobs created from then on end FAILED with that message.
//! - `POST /_local/faults/events`: `{"copies": 3, "maxDelayMs": 2000, "dropFraction": 0.1}`:
//!   every event is delivered `copies` times, each copy after its own random delay (so copies
//!   of different events arrive in any order), and that share of events is never delivered.
//! - `GET /_local/faults`: what has been injected so far.
//! - `DELETE /_local/faults`: back to a faultless service (the counts stay).
//!
//! Rules live in memory: a restarted harvester starts faultless.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AwsJson;
use super::error::{ApiError, ErrorCode};
use crate::server::Ctx;
use crate::validate;

/// The longest delay a rule may add to a call or to an event delivery.
const MAX_LATENCY: Duration = Duration::from_secs(60);
/// The most copies of one event the delivery switch sends.
const MAX_COPIES: u32 = 10;

/// Every switch that is on, and the counts of what they did.
#[derive(Debug, Default)]
pub struct Faults {
    switches: Mutex<Switches>,
    counts: Counts,
}

#[derive(Debug, Default)]
struct Switches {
    calls: Vec<CallRule>,
    harvests: Option<HarvestRule>,
    events: EventRule,
}

/// Which calls a rule hits: the next few, or a share of all of them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trigger {
    Next(u32),
    Fraction(f64),
}

impl Trigger {
    /// Whether this call is hit, counting it down when the rule is for the next few calls.
    fn fires(&mut self) -> bool {
        match self {
            Self::Next(remaining) => {
                *remaining = remaining.saturating_sub(1);
                true
            }
            Self::Fraction(share) => fastrand::f64() < *share,
        }
    }

    fn spent(self) -> bool {
        self == Self::Next(0)
    }
}

#[derive(Debug)]
struct CallRule {
    /// `None` hits every operation.
    operation: Option<&'static str>,
    error: Option<ApiError>,
    latency: Duration,
    trigger: Trigger,
}

#[derive(Debug)]
struct HarvestRule {
    message: String,
    trigger: Trigger,
}

#[derive(Debug)]
struct EventRule {
    copies: u32,
    max_delay: Duration,
    drop_fraction: f64,
}

impl Default for EventRule {
    fn default() -> Self {
        Self { copies: 1, max_delay: Duration::ZERO, drop_fraction: 0.0 }
    }
}

#[derive(Debug, Default)]
struct Counts {
    errors: AtomicU64,
    delayed_calls: AtomicU64,
    failed_harvests: AtomicU64,
    dropped_events: AtomicU64,
    extra_deliveries: AtomicU64,
}

/// What the switches do to one API call.
#[derive(Debug, Default)]
struct CallFate {
    latency: Duration,
    error: Option<ApiError>,
}

/// How one event is to be delivered: not at all, or as `copies`, each after its own delay.
#[derive(Debug, PartialEq)]
pub enum EventFate {
    Dropped,
    Delivered { delays: Vec<Duration> },
}

impl Faults {
    fn switches(&self) -> std::sync::MutexGuard<'_, Switches> {
        self.switches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The latency and error every rule that hits this call of `operation` adds up to; the
    /// first rule with an error decides the error.
    fn call(&self, operation: &str) -> CallFate {
        let mut fate = CallFate::default();
        let mut switches = self.switches();
        for rule in &mut switches.calls {
            if rule.operation.is_some_and(|op| op != operation) || !rule.trigger.fires() {
                continue;
            }
            fate.latency += rule.latency;
            if fate.error.is_none() {
                fate.error.clone_from(&rule.error);
            }
        }
        switches.calls.retain(|rule| !rule.trigger.spent());
        if !fate.latency.is_zero() {
            self.counts.delayed_calls.fetch_add(1, Ordering::Relaxed);
        }
        if fate.error.is_some() {
            self.counts.errors.fetch_add(1, Ordering::Relaxed);
        }
        fate
    }

    /// The message a harvest job fails with, when the harvest switch hits it.
    pub fn harvest_failure(&self) -> Option<String> {
        let mut switches = self.switches();
        let rule = switches.harvests.as_mut()?;
        if !rule.trigger.fires() {
            return None;
        }
        let message = rule.message.clone();
        if rule.trigger.spent() {
            switches.harvests = None;
        }
        self.counts.failed_harvests.fetch_add(1, Ordering::Relaxed);
        Some(message)
    }

    /// How the next event is delivered.
    pub fn event_fate(&self) -> EventFate {
        let switches = self.switches();
        let rule = &switches.events;
        if rule.drop_fraction > 0.0 && fastrand::f64() < rule.drop_fraction {
            self.counts.dropped_events.fetch_add(1, Ordering::Relaxed);
            return EventFate::Dropped;
        }
        self.counts.extra_deliveries.fetch_add(u64::from(rule.copies - 1), Ordering::Relaxed);
        let delay = || rule.max_delay.mul_f64(fastrand::f64());
        EventFate::Delivered { delays: (0..rule.copies).map(|_| delay()).collect() }
    }
}

/// Every operation the fault switch can hit: method, matched route, AWS operation name.
const OPERATIONS: [(&str, &str, &str); 26] = [
    ("POST", "/channels", "CreateChannel"),
    ("GET", "/channels", "ListChannels"),
    ("DELETE", "/channels/{id}", "DeleteChannel"),
    ("GET", "/channels/{id}", "DescribeChannel"),
    ("POST", "/origin_endpoints", "CreateOriginEndpoint"),
    ("GET", "/origin_endpoints", "ListOriginEndpoints"),
    ("DELETE", "/origin_endpoints/{id}", "DeleteOriginEndpoint"),
    ("GET", "/origin_endpoints/{id}", "DescribeOriginEndpoint"),
    ("POST", "/harvest_jobs", "CreateHarvestJob"),
    ("GET", "/harvest_jobs", "ListHarvestJobs"),
    ("GET", "/harvest_jobs/{id}", "DescribeHarvestJob"),
    ("POST", "/packaging_groups", "CreatePackagingGroup"),
    ("GET", "/packaging_groups", "ListPackagingGroups"),
    ("DELETE", "/packaging_groups/{id}", "DeletePackagingGroup"),
    ("GET", "/packaging_groups/{id}", "DescribePackagingGroup"),
    ("POST", "/packaging_configurations", "CreatePackagingConfiguration"),
    ("GET", "/packaging_configurations", "ListPackagingConfigurations"),
    ("DELETE", "/packaging_configurations/{id}", "DeletePackagingConfiguration"),
    ("GET", "/packaging_configurations/{id}", "DescribePackagingConfiguration"),
    ("POST", "/assets", "CreateAsset"),
    ("GET", "/assets", "ListAssets"),
    ("DELETE", "/assets/{id}", "DeleteAsset"),
    ("GET", "/assets/{id}", "DescribeAsset"),
    ("POST", "/tags/{arn}", "TagResource"),
    ("DELETE", "/tags/{arn}", "UntagResource"),
    ("GET", "/tags/{arn}", "ListTagsForResource"),
];

/// The AWS operation a matched route and method serve.
fn operation(method: &Method, route: &str) -> Option<&'static str> {
    OPERATIONS.iter().find(|(m, r, _)| method.as_str() == *m && route == *r).map(|(_, _, name)| *name)
}

fn known_operation(name: &str) -> Option<&'static str> {
    OPERATIONS.iter().find(|(_, _, op)| *op == name).map(|(_, _, op)| *op)
}

/// Middleware: delays the call and answers with an injected error instead of running the
/// operation, as the rules that hit it say.
pub async fn inject(State(ctx): State<Ctx>, route: MatchedPath, request: Request, next: Next) -> Response {
    let Some(operation) = operation(request.method(), route.as_str()) else { return next.run(request).await };
    let fate = ctx.faults.call(operation);
    if !fate.latency.is_zero() {
        tokio::time::sleep(fate.latency).await;
    }
    if let Some(error) = fate.error {
        tracing::info!(operation, code = error.code.name(), "injected fault");
        return error.into_response();
    }
    next.run(request).await
}

/// `count` or `fraction` (not both) as a trigger; neither means the next call.
fn trigger(count: Option<u32>, fraction: Option<f64>) -> Result<Trigger, ApiError> {
    match (count, fraction) {
        (Some(_), Some(_)) => Err(ApiError::invalid("count, fraction: give one or the other")),
        (Some(0), None) => Err(ApiError::invalid("count: must be at least 1")),
        (Some(count), None) => Ok(Trigger::Next(count)),
        (None, Some(share)) if share > 0.0 && share <= 1.0 => Ok(Trigger::Fraction(share)),
        (None, Some(_)) => Err(ApiError::invalid("fraction: must be above 0 and at most 1")),
        (None, None) => Ok(Trigger::Next(1)),
    }
}

fn latency(field: &str, millis: Option<u64>) -> Result<Duration, ApiError> {
    let latency = Duration::from_millis(millis.unwrap_or(0));
    if latency > MAX_LATENCY {
        return Err(ApiError::invalid(format!("{field}: must be at most {} ms", MAX_LATENCY.as_millis())));
    }
    Ok(latency)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRuleRequest {
    operation: Option<String>,
    error_type: Option<String>,
    count: Option<u32>,
    fraction: Option<f64>,
    latency_ms: Option<u64>,
    message: Option<String>,
}

/// `POST /_local/faults`.
pub async fn add(State(ctx): State<Ctx>, AwsJson(request): AwsJson<CallRuleRequest>) -> Result<StatusCode, ApiError> {
    let name = validate::required("operation", request.operation.as_deref())?;
    let operation = match name {
        "*" => None,
        name => Some(
            known_operation(name)
                .ok_or_else(|| ApiError::invalid(format!("operation: '{name}' is not a served operation")))?,
        ),
    };
    let latency = latency("latencyMs", request.latency_ms)?;
    let error = match request.error_type.as_deref() {
        Some(error_type) => {
            let code = ErrorCode::from_name(error_type)
                .ok_or_else(|| ApiError::invalid(format!("errorType: '{error_type}' is not an error of this API")))?;
            let message = request
                .message
                .unwrap_or_else(|| format!("Injected {} for {}", code.name(), operation.unwrap_or("any operation")));
            Some(ApiError::new(code, message))
        }
        None if latency.is_zero() => return Err(ApiError::invalid("errorType: required unless latencyMs is set")),
        None => None,
    };
    let trigger = trigger(request.count, request.fraction)?;
    ctx.faults.switches().calls.push(CallRule { operation, error, latency, trigger });
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarvestRuleRequest {
    count: Option<u32>,
    fraction: Option<f64>,
    message: Option<String>,
}

/// `POST /_local/faults/harvests`.
pub async fn fail_harvests(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<HarvestRuleRequest>,
) -> Result<StatusCode, ApiError> {
    let trigger = trigger(request.count, request.fraction)?;
    let message = request.message.unwrap_or_else(|| "Injected failure: the harvest could not be completed".into());
    ctx.faults.switches().harvests = Some(HarvestRule { message, trigger });
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRuleRequest {
    copies: Option<u32>,
    max_delay_ms: Option<u64>,
    drop_fraction: Option<f64>,
}

/// `POST /_local/faults/events`.
pub async fn disorder_events(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<EventRuleRequest>,
) -> Result<StatusCode, ApiError> {
    let copies = request.copies.unwrap_or(1);
    if !(1..=MAX_COPIES).contains(&copies) {
        return Err(ApiError::invalid(format!("copies: must be from 1 to {MAX_COPIES}")));
    }
    let drop_fraction = request.drop_fraction.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&drop_fraction) {
        return Err(ApiError::invalid("dropFraction: must be from 0 to 1"));
    }
    let max_delay = latency("maxDelayMs", request.max_delay_ms)?;
    ctx.faults.switches().events = EventRule { copies, max_delay, drop_fraction };
    Ok(StatusCode::NO_CONTENT)
}

/// The counts `GET /_local/faults` answers with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectedCounts {
    errors: u64,
    delayed_calls: u64,
    failed_harvests: u64,
    dropped_events: u64,
    extra_deliveries: u64,
}

/// `GET /_local/faults`.
pub async fn counts(State(ctx): State<Ctx>) -> Json<InjectedCounts> {
    let counts = &ctx.faults.counts;
    let read = |count: &AtomicU64| count.load(Ordering::Relaxed);
    Json(InjectedCounts {
        errors: read(&counts.errors),
        delayed_calls: read(&counts.delayed_calls),
        failed_harvests: read(&counts.failed_harvests),
        dropped_events: read(&counts.dropped_events),
        extra_deliveries: read(&counts.extra_deliveries),
    })
}

/// `DELETE /_local/faults`.
pub async fn clear(State(ctx): State<Ctx>) -> StatusCode {
    *ctx.faults.switches() = Switches::default();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(operation: Option<&'static str>, code: Option<ErrorCode>, latency_ms: u64, trigger: Trigger) -> CallRule {
        CallRule {
            operation,
            error: code.map(|code| ApiError::new(code, "injected")),
            latency: Duration::from_millis(latency_ms),
            trigger,
        }
    }

    #[test]
    fn every_listed_route_names_a_distinct_operation() {
        let names: std::collections::HashSet<_> = OPERATIONS
            .iter()
            .map(|(m, r, _)| operation(&Method::from_bytes(m.as_bytes()).unwrap(), r).unwrap())
            .collect();
        assert_eq!(names.len(), OPERATIONS.len());
        assert_eq!(known_operation("CreateHarvestJob"), Some("CreateHarvestJob"));
        assert_eq!(known_operation("UntagResource"), Some("UntagResource"));
        assert_eq!(known_operation("UpdateChannel"), None);
    }

    #[test]
    fn counted_faults_run_out_after_count_calls() {
        let faults = Faults::default();
        faults.switches().calls.push(rule(
            Some("CreateAsset"),
            Some(ErrorCode::ServiceUnavailable),
            0,
            Trigger::Next(2),
        ));
        assert_eq!(faults.call("CreateAsset").error.unwrap().code, ErrorCode::ServiceUnavailable);
        assert!(faults.call("DescribeAsset").error.is_none());
        assert!(faults.call("CreateAsset").error.is_some());
        assert!(faults.call("CreateAsset").error.is_none());
        assert!(faults.switches().calls.is_empty());
        assert_eq!(faults.counts.errors.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_fraction_hits_about_that_share_of_calls_of_every_operation() {
        let faults = Faults::default();
        faults.switches().calls.push(rule(None, Some(ErrorCode::TooManyRequests), 0, Trigger::Fraction(0.3)));
        let hits = (0..10_000)
            .filter(|i| faults.call(if i % 2 == 0 { "CreateAsset" } else { "DescribeHarvestJob" }).error.is_some())
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits} of 10000 calls failed");
        assert_eq!(faults.switches().calls.len(), 1, "a fraction rule stays until cleared");
    }

    #[test]
    fn latencies_add_up_and_the_first_error_wins() {
        let faults = Faults::default();
        faults.switches().calls.push(rule(None, None, 30, Trigger::Fraction(1.0)));
        faults.switches().calls.push(rule(
            Some("CreateAsset"),
            Some(ErrorCode::InternalServerError),
            20,
            Trigger::Next(1),
        ));
        faults.switches().calls.push(rule(None, Some(ErrorCode::TooManyRequests), 0, Trigger::Next(5)));
        let fate = faults.call("CreateAsset");
        assert_eq!(fate.latency, Duration::from_millis(50));
        assert_eq!(fate.error.unwrap().code, ErrorCode::InternalServerError);
        let fate = faults.call("ListAssets");
        assert_eq!(fate.latency, Duration::from_millis(30));
        assert_eq!(fate.error.unwrap().code, ErrorCode::TooManyRequests);
    }

    #[test]
    fn harvest_failures_run_out() {
        let faults = Faults::default();
        assert_eq!(faults.harvest_failure(), None);
        faults.switches().harvests = Some(HarvestRule { message: "origin lost".into(), trigger: Trigger::Next(1) });
        assert_eq!(faults.harvest_failure().as_deref(), Some("origin lost"));
        assert_eq!(faults.harvest_failure(), None);
    }

    #[test]
    fn events_are_copied_with_bounded_delays_or_dropped() {
        let faults = Faults::default();
        assert_eq!(faults.event_fate(), EventFate::Delivered { delays: vec![Duration::ZERO] });
        faults.switches().events = EventRule { copies: 3, max_delay: Duration::from_millis(500), drop_fraction: 0.0 };
        let EventFate::Delivered { delays } = faults.event_fate() else { panic!("nothing is dropped") };
        assert_eq!(delays.len(), 3);
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(500)));
        faults.switches().events.drop_fraction = 1.0;
        assert_eq!(faults.event_fate(), EventFate::Dropped);
        assert_eq!(faults.counts.dropped_events.load(Ordering::Relaxed), 1);
        assert_eq!(faults.counts.extra_deliveries.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn triggers_are_validated() {
        assert_eq!(trigger(None, None).unwrap(), Trigger::Next(1));
        assert_eq!(trigger(Some(3), None).unwrap(), Trigger::Next(3));
        assert_eq!(trigger(None, Some(0.5)).unwrap(), Trigger::Fraction(0.5));
        for (count, fraction, field) in [
            (Some(0), None, "count"),
            (None, Some(0.0), "fraction"),
            (None, Some(1.5), "fraction"),
            (Some(1), Some(0.5), "count"),
        ] {
            assert!(trigger(count, fraction).unwrap_err().message.starts_with(field), "{count:?} {fraction:?}");
        }
    }
}
