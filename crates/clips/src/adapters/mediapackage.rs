//! Harvest jobs on MediaPackage v1 (`CreateHarvestJob`). A v2 adapter (channel group / channel /
//! origin endpoint names, `HarvestedManifests`, `ClientToken`) would implement the same
//! `StartHarvest` beside this one.

use aws_sdk_mediapackage::Client;
use aws_sdk_mediapackage::operation::create_harvest_job::CreateHarvestJobError;
use aws_sdk_mediapackage::types::{S3Destination, Status};

use crate::config::HarvestDestination;
use crate::domain::{ClipId, format_instant};
use crate::error::HarvestError;
use crate::ports::{HarvestJobState, HarvestJobStatus, HarvestRequest, StartHarvest};

#[derive(Debug, Clone)]
pub struct MediaPackageHarvester {
    client: Client,
    origin_endpoint_id: String,
    destination: HarvestDestination,
}

impl MediaPackageHarvester {
    pub fn new(client: Client, origin_endpoint_id: impl Into<String>, destination: HarvestDestination) -> Self {
        Self { client, origin_endpoint_id: origin_endpoint_id.into(), destination }
    }

    /// Whether a job of this id already harvests this very manifest: then a "job exists" refusal
    /// is the answer to an earlier attempt of the same request, not a conflict.
    async fn same_job_exists(&self, request: &HarvestRequest) -> Result<bool, HarvestError> {
        match self.client.describe_harvest_job().id(request.job_id.as_str()).send().await {
            Ok(job) => Ok(job.s3_destination.is_some_and(|d| {
                d.bucket_name() == Some(self.destination.bucket.as_str())
                    && d.manifest_key() == Some(request.manifest_key.as_str())
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => Ok(false),
            Err(err) => Err(HarvestError::Unavailable(Box::new(err))),
        }
    }
}

impl StartHarvest for MediaPackageHarvester {
    async fn start_harvest(&self, request: &HarvestRequest) -> Result<(), HarvestError> {
        let destination = S3Destination::builder()
            .bucket_name(&self.destination.bucket)
            .manifest_key(&request.manifest_key)
            .role_arn(&self.destination.role_arn)
            .build();
        let result = self
            .client
            .create_harvest_job()
            .id(request.job_id.as_str())
            .origin_endpoint_id(&self.origin_endpoint_id)
            .start_time(format_instant(request.window.start))
            .end_time(format_instant(request.window.end))
            .s3_destination(destination)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        match err.as_service_error() {
            Some(CreateHarvestJobError::UnprocessableEntityException(refusal)) => {
                let reason = refusal.message().unwrap_or("the harvest job was refused").to_owned();
                if self.same_job_exists(request).await? { Ok(()) } else { Err(HarvestError::Refused(reason)) }
            }
            _ => Err(HarvestError::Unavailable(Box::new(err))),
        }
    }
}

/// Harvest job lookups, for the reconciliation of clips whose notification never came. Apart
/// from `MediaPackageHarvester` because it needs no origin endpoint or destination.
#[derive(Debug, Clone)]
pub struct MediaPackageJobs {
    client: Client,
}

impl MediaPackageJobs {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl HarvestJobStatus for MediaPackageJobs {
    async fn harvest_job_state(&self, job_id: &ClipId) -> Result<HarvestJobState, HarvestError> {
        let job = match self.client.describe_harvest_job().id(job_id.as_str()).send().await {
            Ok(job) => job,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
                return Ok(HarvestJobState::Missing);
            }
            Err(err) => return Err(HarvestError::Unavailable(Box::new(err))),
        };
        Ok(match job.status() {
            Some(Status::Succeeded) => {
                let destination = job.s3_destination();
                HarvestJobState::Succeeded {
                    bucket: destination.and_then(|d| d.bucket_name()).unwrap_or_default().to_owned(),
                    manifest_key: destination.and_then(|d| d.manifest_key()).unwrap_or_default().to_owned(),
                }
            }
            Some(Status::Failed) => HarvestJobState::Failed,
            _ => HarvestJobState::InProgress,
        })
    }
}
