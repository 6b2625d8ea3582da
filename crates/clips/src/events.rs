//! MediaPackage's EventBridge events, reduced to what a clip needs to know.
//!
//! Parsing never fails: an event this deployment does not handle becomes `ClipEvent::Ignored`
//! with the reason, because EventBridge would redeliver a rejected event to no avail. v1 events
//! are parsed here; MediaPackage v2 (`aws.mediapackagev2`, camelCase `harvestJob`) would add a
//! parser beside `harvest_v1` yielding the same `ClipEvent`s.
//!
//! Shapes: <https://docs.aws.amazon.com/mediapackage/latest/ug/cloudwatch-events-example.html>

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

const SOURCE: &str = "aws.mediapackage";
const SCHEDULE_SOURCE: &str = "aws.events";
const SCHEDULE_DETAIL_TYPE: &str = "Scheduled Event";
const HARVEST_DETAIL_TYPE: &str = "MediaPackage HarvestJob Notification";
const INPUT_DETAIL_TYPE: &str = "MediaPackage Input Notification";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipEvent {
    /// The harvested HLS is in the bucket at `manifest_key`.
    Harvested {
        job_id: String,
        bucket: String,
        manifest_key: String,
    },
    HarvestFailed {
        job_id: String,
        bucket: String,
        manifest_key: String,
        message: String,
    },
    /// One packaging configuration of the asset can be played.
    AssetPlayable {
        asset_id: String,
        packaging_configuration_id: String,
    },
    AssetFailed {
        asset_id: String,
        message: String,
    },
    /// A scheduled run: look for clips whose events never came (MediaPackage emits events on a
    /// best-effort basis) and ask MediaPackage where they are.
    Reconcile,
    /// Not an event for clips, or not one this deployment acts on.
    Ignored(String),
}

impl ClipEvent {
    pub fn parse(event: &Value) -> Self {
        let envelope: EventBridgeEvent<Value> = match serde_json::from_value(event.clone()) {
            Ok(envelope) => envelope,
            Err(err) => return Self::Ignored(format!("not an EventBridge event: {err}")),
        };
        if envelope.source == SCHEDULE_SOURCE && envelope.detail_type == SCHEDULE_DETAIL_TYPE {
            return Self::Reconcile;
        }
        if envelope.source != SOURCE {
            return Self::Ignored(format!("source {:?} is not {SOURCE}", envelope.source));
        }
        match envelope.detail_type.as_str() {
            HARVEST_DETAIL_TYPE => harvest_v1(envelope.detail),
            INPUT_DETAIL_TYPE => vod_input(envelope.detail, envelope.resources.unwrap_or_default()),
            other => Self::Ignored(format!("detail-type {other:?} is not handled")),
        }
    }
}

#[derive(Deserialize)]
struct HarvestDetail {
    harvest_job: HarvestJob,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct HarvestJob {
    id: String,
    status: String,
    s3_destination: S3Destination,
}

#[derive(Deserialize)]
struct S3Destination {
    bucket_name: String,
    manifest_key: String,
}

fn harvest_v1(detail: Value) -> ClipEvent {
    let detail: HarvestDetail = match serde_json::from_value(detail) {
        Ok(detail) => detail,
        Err(err) => return ClipEvent::Ignored(format!("harvest notification without {err}")),
    };
    let job = detail.harvest_job;
    let (job_id, bucket, manifest_key) = (job.id, job.s3_destination.bucket_name, job.s3_destination.manifest_key);
    match job.status.as_str() {
        // The API says SUCCEEDED; the documentation's example event says COMPLETED.
        "SUCCEEDED" | "COMPLETED" => ClipEvent::Harvested { job_id, bucket, manifest_key },
        "FAILED" => ClipEvent::HarvestFailed {
            job_id,
            bucket,
            manifest_key,
            message: detail.message.unwrap_or_else(|| "MediaPackage gave no reason".to_owned()),
        },
        other => ClipEvent::Ignored(format!("harvest job status {other:?} is not final")),
    }
}

#[derive(Deserialize)]
struct InputDetail {
    event: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    packaging_configuration_id: Option<String>,
}

fn vod_input(detail: Value, resources: Vec<String>) -> ClipEvent {
    let detail: InputDetail = match serde_json::from_value(detail) {
        Ok(detail) => detail,
        Err(err) => return ClipEvent::Ignored(format!("input notification without {err}")),
    };
    let Some(asset_id) = resources.iter().find_map(|arn| asset_id(arn)) else {
        return ClipEvent::Ignored(format!("{} names no VOD asset", detail.event));
    };
    match (detail.event.as_str(), detail.packaging_configuration_id) {
        ("VodAssetPlayable", Some(packaging_configuration_id)) => {
            ClipEvent::AssetPlayable { asset_id, packaging_configuration_id }
        }
        ("VodAssetPlayable", None) => ClipEvent::Ignored("VodAssetPlayable without packaging_configuration_id".into()),
        ("IngestError", _) => ClipEvent::AssetFailed {
            asset_id,
            message: detail.message.unwrap_or_else(|| "MediaPackage VOD could not ingest the asset".to_owned()),
        },
        (other, _) => ClipEvent::Ignored(format!("input event {other:?} needs no action")),
    }
}

/// `arn:aws:mediapackage-vod:{region}:{account}:assets/{id}` → `id`.
fn asset_id(arn: &str) -> Option<String> {
    let (service_part, resource) = arn.rsplit_once(':')?;
    let id = resource.strip_prefix("assets/")?;
    (service_part.starts_with("arn:") && service_part.contains(":mediapackage-vod:") && !id.is_empty())
        .then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn harvest(status: &str, message: Option<&str>) -> Value {
        let mut detail = json!({
            "harvest_job": {
                "id": "job-1",
                "arn": "arn:aws:mediapackage-vod:us-east-1:111:harvest_jobs/job-1",
                "status": status,
                "origin_endpoint_id": "ep",
                "start_time": "2019-06-26T20:30:00-08:00",
                "end_time": "2019-06-26T21:00:00-08:00",
                "s3_destination": {
                    "bucket_name": "b",
                    "manifest_key": "clips/final/20261121T093000Z-abcdefghjk/index.m3u8",
                    "role_arn": "arn:aws:iam::111:role/r"
                },
                "created_at": "2019-06-26T21:03:12-08:00"
            }
        });
        if let Some(m) = message {
            detail["message"] = json!(m);
        }
        json!({
            "id": "8f9b8e72-0b31-e883-f19c-aec84742f3ce",
            "detail-type": "MediaPackage HarvestJob Notification",
            "source": "aws.mediapackage",
            "account": "111",
            "time": "2019-07-16T17:29:36Z",
            "region": "us-east-1",
            "resources": ["arn:aws:mediapackage:us-east-1:111:harvest_jobs/job-1"],
            "detail": detail
        })
    }

    fn input(event: &str, extra: Value) -> Value {
        let mut detail = json!({"event": event, "message": "text"});
        detail.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({
            "version": "0",
            "id": "81e896e4-d9e5-ec79-f82a-b4cf3246c567",
            "detail-type": "MediaPackage Input Notification",
            "source": "aws.mediapackage",
            "account": "111",
            "time": "2019-11-03T21:46:00Z",
            "region": "us-west-2",
            "resources": [
                "arn:aws:mediapackage-vod:us-west-2:111:assets/20261121T093000Z-abcdefghjk",
                "arn:aws:mediapackage-vod:us-west-2:111:packaging_configuration/hls"
            ],
            "detail": detail
        })
    }

    const KEY: &str = "clips/final/20261121T093000Z-abcdefghjk/index.m3u8";

    #[test]
    fn the_documented_completed_example_is_a_success() {
        assert_eq!(
            ClipEvent::parse(&harvest("COMPLETED", None)),
            ClipEvent::Harvested { job_id: "job-1".into(), bucket: "b".into(), manifest_key: KEY.into() }
        );
        assert!(matches!(ClipEvent::parse(&harvest("SUCCEEDED", None)), ClipEvent::Harvested { .. }));
    }

    #[test]
    fn a_failed_harvest_carries_its_message() {
        let ClipEvent::HarvestFailed { message, .. } = ClipEvent::parse(&harvest("FAILED", Some("no content"))) else {
            panic!("not a failure")
        };
        assert_eq!(message, "no content");
        let ClipEvent::HarvestFailed { message, .. } = ClipEvent::parse(&harvest("FAILED", None)) else {
            panic!("not a failure")
        };
        assert_eq!(message, "MediaPackage gave no reason");
    }

    #[test]
    fn vod_playable_and_ingest_error_name_the_asset() {
        assert_eq!(
            ClipEvent::parse(&input(
                "VodAssetPlayable",
                json!({"packaging_configuration_id": "hls", "manifest_urls": ["u"]})
            )),
            ClipEvent::AssetPlayable {
                asset_id: "20261121T093000Z-abcdefghjk".into(),
                packaging_configuration_id: "hls".into()
            }
        );
        assert_eq!(
            ClipEvent::parse(&input("IngestError", json!({}))),
            ClipEvent::AssetFailed { asset_id: "20261121T093000Z-abcdefghjk".into(), message: "text".into() }
        );
    }

    #[test]
    fn a_scheduled_event_asks_for_reconciliation() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111", "time": "2026-11-21T09:30:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:111:rule/reconcile"], "detail": {}
        });
        assert_eq!(ClipEvent::parse(&scheduled), ClipEvent::Reconcile);
        let mut other = scheduled.clone();
        other["detail-type"] = json!("EC2 Instance State-change Notification");
        assert!(matches!(ClipEvent::parse(&other), ClipEvent::Ignored(_)));
    }

    #[test]
    fn everything_else_is_ignored_not_an_error() {
        let ignored = [
            json!(null),
            json!("text"),
            json!({}),
            json!({"detail-type": "MediaPackage HarvestJob Notification", "source": "aws.mediapackage"}),
            json!({"detail-type": "MediaPackage HarvestJob Notification", "source": "aws.mediapackage", "detail": {"harvest_job": {}}}),
            {
                let mut e = harvest("SUCCEEDED", None);
                e["source"] = json!("aws.mediapackagev2");
                e
            },
            {
                let mut e = harvest("SUCCEEDED", None);
                e["detail-type"] = json!("MediaPackage Key Provider Notification");
                e
            },
            harvest("IN_PROGRESS", None),
            input("IngestStart", json!({})),
            input("IngestComplete", json!({})),
            input("VodAssetPlayable", json!({})),
            {
                let mut e = input("VodAssetPlayable", json!({"packaging_configuration_id": "hls"}));
                e["resources"] = json!(["arn:aws:mediapackage:us-west-2:111:channels/x"]);
                e
            },
        ];
        for event in ignored {
            assert!(matches!(ClipEvent::parse(&event), ClipEvent::Ignored(_)), "{event}");
        }
    }

    #[test]
    fn asset_ids_come_only_from_vod_asset_arns() {
        assert_eq!(asset_id("arn:aws:mediapackage-vod:us-west-2:111:assets/a1"), Some("a1".into()));
        assert_eq!(asset_id("arn:aws:mediapackage-vod:us-west-2:111:packaging_configurations/a1"), None);
        assert_eq!(asset_id("arn:aws:mediapackage:us-west-2:111:assets/a1"), None);
        assert_eq!(asset_id("assets/a1"), None);
        assert_eq!(asset_id("arn:aws:mediapackage-vod:us-west-2:111:assets/"), None);
    }
}
