//! Harvest jobs: CreateHarvestJob, DescribeHarvestJob, ListHarvestJobs
//! (<https://docs.aws.amazon.com/mediapackage/latest/apireference/harvest_jobs.html>).
//!
//! Creation checks what AWS checks synchronously (422); the rules that depend on the stream
//! (end in the past, start inside the startover window, content present) are checked when the
//! job runs and fail the job, as on AWS. See [`crate::harvest`].

use axum::Json;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AwsJson, ListQuery};
use crate::harvest;
use crate::model::{HarvestJob, JobStatus, S3Object};
use crate::server::Ctx;
use crate::validate;

/// AWS's longest harvest window.
const MAX_WINDOW: TimeDelta = TimeDelta::hours(24);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateHarvestJobRequest {
    id: Option<String>,
    origin_endpoint_id: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    s3_destination: Option<S3DestinationInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3DestinationInput {
    bucket_name: Option<String>,
    manifest_key: Option<String>,
    role_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HarvestJobDto {
    arn: String,
    channel_id: String,
    created_at: String,
    end_time: String,
    id: String,
    origin_endpoint_id: String,
    s3_destination: S3DestinationDto,
    start_time: String,
    status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct S3DestinationDto {
    bucket_name: String,
    manifest_key: String,
    role_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListHarvestJobsResponse {
    harvest_jobs: Vec<HarvestJobDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl From<&HarvestJob> for HarvestJobDto {
    fn from(job: &HarvestJob) -> Self {
        Self {
            arn: job.arn.clone(),
            channel_id: job.channel_id.clone(),
            created_at: job.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            end_time: job.end_time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            id: job.id.clone(),
            origin_endpoint_id: job.origin_endpoint_id.clone(),
            s3_destination: S3DestinationDto {
                bucket_name: job.destination.bucket.clone(),
                manifest_key: job.destination.key.clone(),
                role_arn: job.role_arn.clone(),
            },
            start_time: job.start_time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            status: job.status.as_str(),
        }
    }
}

/// The validated request, before it is bound to an origin endpoint.
struct NewJob {
    id: String,
    origin_endpoint_id: String,
    start_time: chrono::DateTime<chrono::FixedOffset>,
    end_time: chrono::DateTime<chrono::FixedOffset>,
    destination: S3Object,
    role_arn: String,
}

fn validate_request(request: CreateHarvestJobRequest) -> Result<NewJob, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let origin_endpoint_id = validate::required_id("originEndpointId", request.origin_endpoint_id.as_deref())?;
    let start_time = validate::timestamp("startTime", validate::required("startTime", request.start_time.as_deref())?)?;
    let end_time = validate::timestamp("endTime", validate::required("endTime", request.end_time.as_deref())?)?;
    if start_time >= end_time {
        return Err(ApiError::invalid("startTime: must be before endTime"));
    }
    if end_time - start_time > MAX_WINDOW {
        return Err(ApiError::invalid("endTime: the window from startTime to endTime must not exceed 24 hours"));
    }
    let destination = request.s3_destination.ok_or_else(|| ApiError::invalid("s3Destination: is required"))?;
    let bucket = validate::required("s3Destination.bucketName", destination.bucket_name.as_deref())?;
    validate::bucket_name("s3Destination.bucketName", bucket)?;
    let key = validate::required("s3Destination.manifestKey", destination.manifest_key.as_deref())?;
    validate::object_key("s3Destination.manifestKey", key)?;
    let role_arn = validate::required("s3Destination.roleArn", destination.role_arn.as_deref())?;
    Ok(NewJob {
        id: id.to_owned(),
        origin_endpoint_id: origin_endpoint_id.to_owned(),
        start_time,
        end_time,
        destination: S3Object { bucket: bucket.to_owned(), key: key.to_owned() },
        role_arn: role_arn.to_owned(),
    })
}

/// `POST /harvest_jobs`: records the job IN_PROGRESS and starts it.
pub async fn create(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreateHarvestJobRequest>,
) -> Result<Json<HarvestJobDto>, ApiError> {
    let new = validate_request(request)?;
    let arn = ctx.config.live_arn(&format!("harvest_jobs/{}", new.id));
    let job = ctx
        .store
        .update(|state| {
            if state.harvest_jobs.contains_key(&new.id) {
                return Err(ApiError::invalid(format!("id: harvest job '{}' already exists", new.id)));
            }
            let endpoint = state.origin_endpoints.get(&new.origin_endpoint_id).ok_or_else(|| {
                ApiError::invalid(format!("originEndpointId: origin endpoint '{}' does not exist", new.origin_endpoint_id))
            })?;
            if endpoint.startover_window_seconds == 0 {
                return Err(ApiError::invalid(format!(
                    "originEndpointId: origin endpoint '{}' has no startover window; harvesting needs startoverWindowSeconds > 0",
                    endpoint.id
                )));
            }
            let job = HarvestJob {
                id: new.id.clone(),
                arn,
                channel_id: endpoint.channel_id.clone(),
                origin_endpoint_id: new.origin_endpoint_id.clone(),
                start_time: new.start_time,
                end_time: new.end_time,
                destination: new.destination.clone(),
                role_arn: new.role_arn.clone(),
                status: JobStatus::InProgress,
                created_at: Utc::now(),
                message: None,
            };
            state.harvest_jobs.insert(job.id.clone(), job.clone());
            Ok(job)
        })
        .await?;
    ctx.tasks.spawn(harvest::run(ctx.clone(), job.id.clone()));
    Ok(Json(HarvestJobDto::from(&job)))
}

/// `GET /harvest_jobs/{id}`.
pub async fn describe(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Json<HarvestJobDto>, ApiError> {
    ctx.store
        .read(|s| s.harvest_jobs.get(&id).map(HarvestJobDto::from))
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Harvest job '{id}' does not exist")))
}

/// `GET /harvest_jobs?includeChannelId=&includeStatus=`.
pub async fn list(State(ctx): State<Ctx>, query: ListQuery) -> Result<Json<ListHarvestJobsResponse>, ApiError> {
    let channel_id = query.get("includeChannelId");
    let status = match query.get("includeStatus") {
        None => None,
        Some(raw) => Some(JobStatus::parse(raw).ok_or_else(|| {
            ApiError::invalid(format!("includeStatus: '{raw}' is not IN_PROGRESS, SUCCEEDED or FAILED"))
        })?),
    };
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) = query.page(&s.harvest_jobs, |j| {
                channel_id.is_none_or(|c| j.channel_id == c) && status.is_none_or(|st| j.status == st)
            });
            ListHarvestJobsResponse { harvest_jobs: page.into_iter().map(HarvestJobDto::from).collect(), next_token }
        })
        .await;
    Ok(Json(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start: &str, end: &str, key: &str) -> CreateHarvestJobRequest {
        CreateHarvestJobRequest {
            id: Some("job-1".into()),
            origin_endpoint_id: Some("demo-hls".into()),
            start_time: Some(start.into()),
            end_time: Some(end.into()),
            s3_destination: Some(S3DestinationInput {
                bucket_name: Some("clips".into()),
                manifest_key: Some(key.into()),
                role_arn: Some("arn:aws:iam::000000000000:role/x".into()),
            }),
        }
    }

    fn message(result: Result<NewJob, ApiError>) -> String {
        result.err().expect("request should be refused").message
    }

    #[test]
    fn accepts_a_valid_window_with_offsets() {
        let job =
            validate_request(request("2024-05-01T12:00:00-08:00", "2024-05-01T20:00:30Z", "c/1/index.m3u8")).unwrap();
        assert_eq!(job.destination.key, "c/1/index.m3u8");
        assert_eq!((job.end_time - job.start_time).num_seconds(), 30);
    }

    #[test]
    fn refuses_reversed_long_or_unparsable_windows() {
        assert!(
            message(validate_request(request("2024-05-01T12:00:10Z", "2024-05-01T12:00:00Z", "k")))
                .starts_with("startTime:")
        );
        assert!(
            message(validate_request(request("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z", "k")))
                .starts_with("startTime:")
        );
        assert!(
            message(validate_request(request("2024-05-01T00:00:00Z", "2024-05-02T00:00:01Z", "k")))
                .starts_with("endTime:")
        );
        assert!(validate_request(request("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z", "k")).is_ok());
        assert!(message(validate_request(request("yesterday", "2024-05-02T00:00:00Z", "k"))).starts_with("startTime:"));
    }

    #[test]
    fn refuses_traversal_and_missing_fields() {
        let traversal =
            message(validate_request(request("2024-05-01T12:00:00Z", "2024-05-01T12:01:00Z", "../../etc/x")));
        assert!(traversal.starts_with("s3Destination.manifestKey:"), "{traversal}");
        let mut missing = request("2024-05-01T12:00:00Z", "2024-05-01T12:01:00Z", "k");
        missing.s3_destination = None;
        assert!(message(validate_request(missing)).starts_with("s3Destination:"));
        let mut no_id = request("2024-05-01T12:00:00Z", "2024-05-01T12:01:00Z", "k");
        no_id.id = None;
        assert_eq!(message(validate_request(no_id)), "id: is required");
    }
}
