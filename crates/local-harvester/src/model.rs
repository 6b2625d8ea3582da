//! Internal resource records: what the harvester remembers about each resource.
//!
//! These are persisted in the state file and are deliberately independent of the wire DTOs in
//! [`crate::api`] (AWS's camelCase shapes), so the API can follow AWS without reshaping the
//! state and the state can hold things AWS never returns (a demo epoch, a failure message).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

pub type Tags = BTreeMap<String, String>;

/// A live channel (MediaPackage v1 `Channel`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Channel {
    pub id: String,
    pub arn: String,
    pub description: Option<String>,
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
    pub ingest_endpoints: Vec<IngestEndpoint>,
    pub source: ChannelSource,
}

/// Where a channel's segments come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelSource {
    /// The bundled loop, playing since `epoch`. Persisted so the stream's timeline (sequence
    /// numbers, program date times) survives restarts, like a real encoder that kept running.
    Demo { epoch: DateTime<Utc> },
    /// An HLS ingest (WebDAV PUT) channel, fed by an encoder (see `live::ingest`). Its buffer
    /// lives for the run: after a restart it fills again as the encoder pushes.
    Ingest,
}

/// One of the two ingest endpoints AWS gives every channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestEndpoint {
    pub id: String,
    pub username: String,
    pub password: String,
}

/// An HLS origin endpoint (MediaPackage v1 `OriginEndpoint` with an `hlsPackage`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OriginEndpoint {
    pub id: String,
    pub arn: String,
    pub channel_id: String,
    pub description: Option<String>,
    pub manifest_name: String,
    /// 0 means startover (and so harvesting) is disabled, as on AWS.
    pub startover_window_seconds: u32,
    pub time_delay_seconds: u32,
    pub hls: LiveHlsPackage,
    pub origination: String,
    pub whitelist: Vec<String>,
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
}

/// The HLS packaging settings an origin endpoint reports. Segments are passed through as
/// ingested, so `segment_duration_seconds` is recorded but does not re-segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveHlsPackage {
    pub segment_duration_seconds: u32,
    pub playlist_window_seconds: u32,
    pub program_date_time_interval_seconds: u32,
    pub ad_markers: Option<String>,
    pub playlist_type: Option<String>,
    pub include_iframe_only_stream: bool,
    pub use_audio_rendition_group: bool,
}

/// Lifecycle of a harvest job; AWS's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    InProgress,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::InProgress, Self::Succeeded, Self::Failed].into_iter().find(|s| s.as_str() == value)
    }
}

/// An object in the S3 stand-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

/// A harvest job (MediaPackage v1 `HarvestJob`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarvestJob {
    pub id: String,
    pub arn: String,
    pub channel_id: String,
    pub origin_endpoint_id: String,
    /// Kept with the caller's UTC offset, which responses and events echo.
    pub start_time: DateTime<FixedOffset>,
    pub end_time: DateTime<FixedOffset>,
    pub destination: S3Object,
    pub role_arn: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    /// Why the job failed; AWS only reports it in the event, never in DescribeHarvestJob.
    pub message: Option<String>,
}

/// A VOD packaging group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackagingGroup {
    pub id: String,
    pub arn: String,
    pub created_at: DateTime<Utc>,
    pub authorization: Option<CdnAuthorization>,
    pub egress_log_group: Option<String>,
    pub tags: Tags,
}

/// CDN authorization settings, recorded and echoed, not enforced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CdnAuthorization {
    pub cdn_identifier_secret: String,
    pub secrets_role_arn: String,
}

/// A VOD packaging configuration with an HLS package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackagingConfiguration {
    pub id: String,
    pub arn: String,
    pub packaging_group_id: String,
    pub created_at: DateTime<Utc>,
    pub hls: VodHlsPackage,
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VodHlsPackage {
    pub segment_duration_seconds: u32,
    pub use_audio_rendition_group: bool,
    pub include_dvb_subtitles: bool,
    /// Never empty: validated on creation.
    pub manifests: Vec<VodHlsManifest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VodHlsManifest {
    pub manifest_name: String,
    pub ad_markers: Option<String>,
    pub include_iframe_only_stream: bool,
    pub program_date_time_interval_seconds: Option<u32>,
    pub repeat_ext_x_key: bool,
}

impl PackagingConfiguration {
    /// The manifest name the egress URL uses: the first HLS manifest's.
    pub fn primary_manifest_name(&self) -> &str {
        self.hls.manifests.first().map_or("index", |m| m.manifest_name.as_str())
    }
}

/// Where an asset is in its ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IngestStatus {
    Queued,
    Processing,
    Playable,
    Failed,
}

impl IngestStatus {
    /// The egress endpoint status AWS reports for an asset in this state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Processing => "PROCESSING",
            Self::Playable => "PLAYABLE",
            Self::Failed => "FAILED",
        }
    }
}

/// A VOD asset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub arn: String,
    pub packaging_group_id: String,
    pub source_arn: String,
    pub source: S3Object,
    pub source_role_arn: String,
    pub resource_id: Option<String>,
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
    pub status: IngestStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_status_round_trips_aws_names() {
        for status in [JobStatus::InProgress, JobStatus::Succeeded, JobStatus::Failed] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("COMPLETED"), None);
    }
}
