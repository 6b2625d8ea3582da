//! EventBridge-shaped events and their at-least-once delivery.
//!
//! Shapes follow "AWS Elemental MediaPackage events"
//! (<https://docs.aws.amazon.com/mediapackage/latest/ug/cloudwatch-events-example.html>):
//! `MediaPackage HarvestJob Notification` and `MediaPackage Input Notification` (VOD ingest
//! and playback readiness), in an EventBridge envelope.
//!
//! Every event is POSTed as JSON to every configured target. A delivery is persisted before it
//! is attempted and forgotten only once the target acknowledged it (2xx without
//! `X-Amz-Function-Error`, which is how the Lambda Invoke API reports a failed function), so
//! events survive restarts. Each delivery retries on its own with exponential backoff, so a
//! target that is down delays nothing but its own deliveries.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::HarvesterError;
use crate::api::faults::EventFate;
use crate::config::HarvesterConfig;
use crate::model::{Asset, HarvestJob, PackagingConfiguration};
use crate::server::Ctx;
use crate::validate;

const SOURCE: &str = "aws.mediapackage";
const HARVEST_JOB_NOTIFICATION: &str = "MediaPackage HarvestJob Notification";
const INPUT_NOTIFICATION: &str = "MediaPackage Input Notification";

/// First retry delay; doubled after every failed attempt up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long one delivery keeps retrying (within one run of the server) before it is dropped.
const GIVE_UP_AFTER: Duration = Duration::from_secs(600);
/// Longest wait for a target's answer: a Lambda runtime that builds the function on its first
/// invocation (`cargo lambda watch`) can take a while.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An EventBridge event as targets receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub version: String,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub time: String,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: serde_json::Value,
}

impl Event {
    fn new(config: &HarvesterConfig, detail_type: &str, resources: Vec<String>, detail: impl Serialize) -> Self {
        Self {
            version: "0".to_owned(),
            id: validate::uuid_like(),
            detail_type: detail_type.to_owned(),
            source: SOURCE.to_owned(),
            account: config.account_id.clone(),
            time: timestamp(Utc::now()),
            region: config.region.clone(),
            resources,
            detail: serde_json::to_value(detail).expect("event details are plain data"),
        }
    }
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Serialize)]
struct HarvestJobDetail<'a> {
    harvest_job: HarvestJobBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct HarvestJobBody<'a> {
    id: &'a str,
    arn: &'a str,
    status: &'a str,
    origin_endpoint_id: &'a str,
    start_time: String,
    end_time: String,
    s3_destination: S3DestinationBody<'a>,
    created_at: String,
}

#[derive(Serialize)]
struct S3DestinationBody<'a> {
    bucket_name: &'a str,
    manifest_key: &'a str,
    role_arn: &'a str,
}

#[derive(Serialize)]
struct InputNotificationDetail<'a> {
    event: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    packaging_configuration_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest_urls: Option<Vec<String>>,
}

/// The notification of a finished (SUCCEEDED or FAILED) harvest job.
pub fn harvest_job_notification(config: &HarvesterConfig, job: &HarvestJob) -> Event {
    let detail = HarvestJobDetail {
        harvest_job: HarvestJobBody {
            id: &job.id,
            arn: &job.arn,
            status: job.status.as_str(),
            origin_endpoint_id: &job.origin_endpoint_id,
            start_time: job.start_time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            end_time: job.end_time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            s3_destination: S3DestinationBody {
                bucket_name: &job.destination.bucket,
                manifest_key: &job.destination.key,
                role_arn: &job.role_arn,
            },
            created_at: timestamp(job.created_at),
        },
        message: job.message.as_deref(),
    };
    Event::new(config, HARVEST_JOB_NOTIFICATION, vec![job.arn.clone()], detail)
}

/// A VOD ingest status change of `asset`: `IngestStart`, `IngestComplete` or `IngestError`.
pub fn ingest_notification(config: &HarvesterConfig, asset: &Asset, event: &str, message: String) -> Event {
    let detail = InputNotificationDetail { event, message, packaging_configuration_id: None, manifest_urls: None };
    Event::new(config, INPUT_NOTIFICATION, vec![asset.arn.clone()], detail)
}

/// `VodAssetPlayable`: `asset` can be played through `configuration` at `manifest_url`.
pub fn playable_notification(
    config: &HarvesterConfig,
    asset: &Asset,
    configuration: &PackagingConfiguration,
    manifest_url: String,
) -> Event {
    let detail = InputNotificationDetail {
        event: "VodAssetPlayable",
        message: format!("Asset '{}' is now playable for PackagingConfiguration '{}'", asset.id, configuration.id),
        packaging_configuration_id: Some(&configuration.id),
        manifest_urls: Some(vec![manifest_url]),
    };
    Event::new(config, INPUT_NOTIFICATION, vec![asset.arn.clone(), configuration.arn.clone()], detail)
}

/// One event on its way to one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub target: String,
    pub event: Event,
}

/// The HTTP client deliveries use.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .expect("a client without TLS or proxies configured always builds")
}

/// Persists `event` for every target and starts delivering it (as often, as late, or not at
/// all, as the fault switch says).
pub async fn publish(ctx: &Ctx, event: Event) {
    tracing::info!(id = %event.id, detail_type = %event.detail_type, detail = %event.detail, "event");
    let EventFate::Delivered { delays } = ctx.faults.event_fate() else {
        tracing::info!(id = %event.id, "event dropped by the fault switch");
        return;
    };
    let deliveries: Vec<(String, Delivery, Duration)> = ctx
        .config
        .event_targets
        .iter()
        .flat_map(|target| delays.iter().map(move |delay| (target, *delay)))
        .map(|(target, delay)| {
            (validate::random_hex(16), Delivery { target: target.to_string(), event: event.clone() }, delay)
        })
        .collect();
    if deliveries.is_empty() {
        return;
    }
    let persisted = ctx
        .store
        .update(|state| {
            state.deliveries.extend(deliveries.iter().map(|(id, delivery, _)| (id.clone(), delivery.clone())));
            Ok::<_, HarvesterError>(())
        })
        .await;
    if let Err(e) = persisted {
        tracing::error!(error = %e, id = %event.id, "cannot persist event deliveries; delivering anyway");
    }
    for (id, delivery, delay) in deliveries {
        ctx.tasks.spawn(deliver(ctx.clone(), id, delivery, delay));
    }
}

/// Resumes delivery `id` in the background after a restart.
pub fn spawn_delivery(ctx: &Ctx, id: String, delivery: Delivery) {
    ctx.tasks.spawn(deliver(ctx.clone(), id, delivery, Duration::ZERO));
}

async fn deliver(ctx: Ctx, id: String, delivery: Delivery, delay: Duration) {
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = ctx.cancel.cancelled() => return,
    }
    let started = Instant::now();
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let attempt = tokio::select! {
            result = post(&ctx.http, &delivery) => result,
            () = ctx.cancel.cancelled() => return,
        };
        let reason = match attempt {
            Ok(()) => {
                tracing::debug!(target_url = %delivery.target, id = %delivery.event.id, "event delivered");
                break;
            }
            Err(reason) => reason,
        };
        if started.elapsed() + backoff > GIVE_UP_AFTER {
            tracing::error!(target_url = %delivery.target, id = %delivery.event.id, %reason, "giving up on event delivery");
            break;
        }
        tracing::warn!(target_url = %delivery.target, id = %delivery.event.id, %reason, retry_in = ?backoff, "event delivery failed");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = ctx.cancel.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    let forgotten = ctx
        .store
        .update(|state| {
            state.deliveries.remove(&id);
            Ok::<_, HarvesterError>(())
        })
        .await;
    if let Err(e) = forgotten {
        tracing::error!(error = %e, "cannot forget a finished delivery; it will be repeated after a restart");
    }
}

/// One attempt; the error says why it did not count as delivered.
async fn post(client: &reqwest::Client, delivery: &Delivery) -> Result<(), String> {
    let response = client.post(&delivery.target).json(&delivery.event).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let function_error =
        response.headers().get("x-amz-function-error").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if status.is_success() && function_error.is_none() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    Err(match function_error {
        Some(kind) => format!("function error {kind}: {body}"),
        None => format!("HTTP {status}: {body}"),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone};
    use url::Url;

    use super::*;
    use crate::model::{JobStatus, S3Object};

    fn config() -> HarvesterConfig {
        HarvesterConfig::new("/tmp", Url::parse("http://127.0.0.1:4566/").unwrap())
    }

    fn job(status: JobStatus, message: Option<&str>) -> HarvestJob {
        let offset = FixedOffset::west_opt(8 * 3600).unwrap();
        HarvestJob {
            id: "job-1".into(),
            arn: "arn:aws:mediapackage:us-east-1:000000000000:harvest_jobs/job-1".into(),
            channel_id: "demo".into(),
            origin_endpoint_id: "demo-hls".into(),
            start_time: offset.with_ymd_and_hms(2019, 6, 26, 20, 30, 0).unwrap(),
            end_time: offset.with_ymd_and_hms(2019, 6, 26, 21, 0, 0).unwrap(),
            destination: S3Object { bucket: "clips".into(), key: "c/job-1/index.m3u8".into() },
            role_arn: "arn:aws:iam::000000000000:role/harvest".into(),
            status,
            created_at: Utc.with_ymd_and_hms(2019, 6, 27, 5, 3, 12).unwrap(),
            message: message.map(str::to_owned),
        }
    }

    #[test]
    fn harvest_notification_has_the_documented_shape() {
        let event = harvest_job_notification(&config(), &job(JobStatus::Succeeded, None));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["version"], "0");
        assert_eq!(json["detail-type"], "MediaPackage HarvestJob Notification");
        assert_eq!(json["source"], "aws.mediapackage");
        assert_eq!(json["account"], "000000000000");
        assert_eq!(json["region"], "us-east-1");
        assert_eq!(json["resources"][0], "arn:aws:mediapackage:us-east-1:000000000000:harvest_jobs/job-1");
        let hj = &json["detail"]["harvest_job"];
        assert_eq!(hj["status"], "SUCCEEDED");
        assert_eq!(hj["origin_endpoint_id"], "demo-hls");
        assert_eq!(hj["start_time"], "2019-06-26T20:30:00-08:00");
        assert_eq!(hj["created_at"], "2019-06-27T05:03:12Z");
        assert_eq!(hj["s3_destination"]["manifest_key"], "c/job-1/index.m3u8");
        assert!(json["detail"].get("message").is_none());

        let failed = harvest_job_notification(&config(), &job(JobStatus::Failed, Some("why")));
        assert_eq!(failed.detail["message"], "why");
        assert_eq!(failed.detail["harvest_job"]["status"], "FAILED");
    }

    #[test]
    fn playable_notification_names_configuration_and_url() {
        let asset = Asset {
            id: "a".into(),
            arn: "arn:aws:mediapackage-vod:us-east-1:000000000000:assets/a".into(),
            packaging_group_id: "g".into(),
            source_arn: "arn:aws:s3:::b/k.m3u8".into(),
            source: S3Object { bucket: "b".into(), key: "k.m3u8".into() },
            source_role_arn: "r".into(),
            resource_id: None,
            tags: Default::default(),
            created_at: Utc::now(),
            status: crate::model::IngestStatus::Playable,
        };
        let configuration = PackagingConfiguration {
            id: "hls".into(),
            arn: "arn:aws:mediapackage-vod:us-east-1:000000000000:packaging-configurations/hls".into(),
            packaging_group_id: "g".into(),
            created_at: Utc::now(),
            hls: crate::model::VodHlsPackage {
                segment_duration_seconds: 6,
                use_audio_rendition_group: false,
                include_dvb_subtitles: false,
                manifests: Vec::new(),
            },
            tags: Default::default(),
        };
        let event = playable_notification(&config(), &asset, &configuration, "http://x/index.m3u8".into());
        assert_eq!(event.detail_type, "MediaPackage Input Notification");
        assert_eq!(event.resources, [asset.arn.clone(), configuration.arn.clone()]);
        assert_eq!(event.detail["event"], "VodAssetPlayable");
        assert_eq!(event.detail["packaging_configuration_id"], "hls");
        assert_eq!(event.detail["manifest_urls"][0], "http://x/index.m3u8");
        assert_eq!(event.detail["message"], "Asset 'a' is now playable for PackagingConfiguration 'hls'");

        let error = ingest_notification(&config(), &asset, "IngestError", "bad source".into());
        assert_eq!(error.detail, serde_json::json!({"event": "IngestError", "message": "bad source"}));
    }
}
