//! Origin endpoints: CreateOriginEndpoint, DescribeOriginEndpoint, ListOriginEndpoints
//! (<https://docs.aws.amazon.com/mediapackage/latest/apireference/origin_endpoints.html>).
//! Only HLS packages are supported.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AwsJson, ListQuery, bounded, no_tags, unsupported};
use crate::HarvesterConfig;
use crate::live::origin::master_path;
use crate::model::{LiveHlsPackage, OriginEndpoint, Tags};
use crate::server::Ctx;
use crate::validate;

/// AWS's limits.
const MAX_STARTOVER_WINDOW_SECONDS: u32 = 1_209_600;
const MAX_TIME_DELAY_SECONDS: u32 = 86_400;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOriginEndpointRequest {
    id: Option<String>,
    channel_id: Option<String>,
    description: Option<String>,
    manifest_name: Option<String>,
    startover_window_seconds: Option<i64>,
    time_delay_seconds: Option<i64>,
    hls_package: Option<HlsPackageInput>,
    cmaf_package: Option<serde_json::Value>,
    dash_package: Option<serde_json::Value>,
    mss_package: Option<serde_json::Value>,
    authorization: Option<serde_json::Value>,
    origination: Option<String>,
    whitelist: Option<Vec<String>>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HlsPackageInput {
    ad_markers: Option<String>,
    encryption: Option<serde_json::Value>,
    include_iframe_only_stream: Option<bool>,
    playlist_type: Option<String>,
    playlist_window_seconds: Option<i64>,
    program_date_time_interval_seconds: Option<i64>,
    segment_duration_seconds: Option<i64>,
    use_audio_rendition_group: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginEndpointDto {
    arn: String,
    channel_id: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    hls_package: HlsPackageDto,
    id: String,
    manifest_name: String,
    origination: String,
    startover_window_seconds: u32,
    #[serde(skip_serializing_if = "no_tags")]
    tags: Tags,
    time_delay_seconds: u32,
    url: String,
    whitelist: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HlsPackageDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    ad_markers: Option<String>,
    include_iframe_only_stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    playlist_type: Option<String>,
    playlist_window_seconds: u32,
    program_date_time_interval_seconds: u32,
    segment_duration_seconds: u32,
    use_audio_rendition_group: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOriginEndpointsResponse {
    origin_endpoints: Vec<OriginEndpointDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl OriginEndpointDto {
    fn new(config: &HarvesterConfig, endpoint: &OriginEndpoint) -> Self {
        let hls = &endpoint.hls;
        Self {
            arn: endpoint.arn.clone(),
            channel_id: endpoint.channel_id.clone(),
            created_at: endpoint.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            description: endpoint.description.clone(),
            hls_package: HlsPackageDto {
                ad_markers: hls.ad_markers.clone(),
                include_iframe_only_stream: hls.include_iframe_only_stream,
                playlist_type: hls.playlist_type.clone(),
                playlist_window_seconds: hls.playlist_window_seconds,
                program_date_time_interval_seconds: hls.program_date_time_interval_seconds,
                segment_duration_seconds: hls.segment_duration_seconds,
                use_audio_rendition_group: hls.use_audio_rendition_group,
            },
            id: endpoint.id.clone(),
            manifest_name: endpoint.manifest_name.clone(),
            origination: endpoint.origination.clone(),
            startover_window_seconds: endpoint.startover_window_seconds,
            tags: endpoint.tags.clone(),
            time_delay_seconds: endpoint.time_delay_seconds,
            url: config.public(&master_path(&endpoint.id, &endpoint.manifest_name)),
            whitelist: endpoint.whitelist.clone(),
        }
    }
}

impl HlsPackageInput {
    fn into_package(self) -> Result<LiveHlsPackage, ApiError> {
        unsupported("hlsPackage.encryption", &self.encryption)?;
        Ok(LiveHlsPackage {
            segment_duration_seconds: bounded(
                "hlsPackage.segmentDurationSeconds",
                self.segment_duration_seconds,
                6,
                1..=30,
            )?,
            playlist_window_seconds: bounded(
                "hlsPackage.playlistWindowSeconds",
                self.playlist_window_seconds,
                60,
                1..=86_400,
            )?,
            program_date_time_interval_seconds: bounded(
                "hlsPackage.programDateTimeIntervalSeconds",
                self.program_date_time_interval_seconds,
                0,
                0..=3600,
            )?,
            ad_markers: self.ad_markers,
            playlist_type: self.playlist_type,
            include_iframe_only_stream: self.include_iframe_only_stream.unwrap_or(false),
            use_audio_rendition_group: self.use_audio_rendition_group.unwrap_or(false),
        })
    }
}

/// The settings of an HLS endpoint nobody configured: AWS's defaults.
pub fn default_hls_package() -> LiveHlsPackage {
    LiveHlsPackage {
        segment_duration_seconds: 6,
        playlist_window_seconds: 60,
        program_date_time_interval_seconds: 0,
        ad_markers: None,
        playlist_type: None,
        include_iframe_only_stream: false,
        use_audio_rendition_group: false,
    }
}

fn endpoint_from(config: &HarvesterConfig, request: CreateOriginEndpointRequest) -> Result<OriginEndpoint, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let channel_id = validate::required_id("channelId", request.channel_id.as_deref())?;
    let manifest_name = request.manifest_name.as_deref().unwrap_or("index");
    validate::resource_id("manifestName", manifest_name)?;
    unsupported("cmafPackage", &request.cmaf_package)?;
    unsupported("dashPackage", &request.dash_package)?;
    unsupported("mssPackage", &request.mss_package)?;
    unsupported("authorization", &request.authorization)?;
    let hls = request
        .hls_package
        .ok_or_else(|| ApiError::invalid("hlsPackage: is required (only HLS origin endpoints are supported)"))?
        .into_package()?;
    let origination = request.origination.unwrap_or_else(|| "ALLOW".to_owned());
    if origination != "ALLOW" && origination != "DENY" {
        return Err(ApiError::invalid(format!("origination: '{origination}' is not ALLOW or DENY")));
    }
    Ok(OriginEndpoint {
        id: id.to_owned(),
        arn: config.live_arn(&format!("origin_endpoints/{id}")),
        channel_id: channel_id.to_owned(),
        description: request.description,
        manifest_name: manifest_name.to_owned(),
        startover_window_seconds: bounded(
            "startoverWindowSeconds",
            request.startover_window_seconds,
            0,
            0..=MAX_STARTOVER_WINDOW_SECONDS,
        )?,
        time_delay_seconds: bounded("timeDelaySeconds", request.time_delay_seconds, 0, 0..=MAX_TIME_DELAY_SECONDS)?,
        hls,
        origination,
        whitelist: request.whitelist.unwrap_or_default(),
        tags: request.tags,
        created_at: Utc::now(),
    })
}

/// `POST /origin_endpoints`.
pub async fn create(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreateOriginEndpointRequest>,
) -> Result<Json<OriginEndpointDto>, ApiError> {
    let endpoint = endpoint_from(&ctx.config, request)?;
    ctx.store
        .update(|state| {
            if state.origin_endpoints.contains_key(&endpoint.id) {
                return Err(ApiError::invalid(format!("id: origin endpoint '{}' already exists", endpoint.id)));
            }
            if !state.channels.contains_key(&endpoint.channel_id) {
                return Err(ApiError::invalid(format!("channelId: channel '{}' does not exist", endpoint.channel_id)));
            }
            state.origin_endpoints.insert(endpoint.id.clone(), endpoint.clone());
            Ok(())
        })
        .await?;
    ctx.refresh_retention(&endpoint.channel_id).await;
    Ok(Json(OriginEndpointDto::new(&ctx.config, &endpoint)))
}

/// `GET /origin_endpoints/{id}`.
pub async fn describe(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Json<OriginEndpointDto>, ApiError> {
    let endpoint = ctx
        .store
        .read(|s| s.origin_endpoints.get(&id).cloned())
        .await
        .ok_or_else(|| ApiError::not_found(format!("Origin endpoint '{id}' does not exist")))?;
    Ok(Json(OriginEndpointDto::new(&ctx.config, &endpoint)))
}

/// `DELETE /origin_endpoints/{id}` (DeleteOriginEndpoint). The channel's buffer shrinks to the
/// windows of the endpoints left; jobs still running from it fail.
pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<super::Deleted, ApiError> {
    let endpoint = ctx
        .store
        .update(|state| {
            state
                .origin_endpoints
                .remove(&id)
                .ok_or_else(|| ApiError::not_found(format!("Origin endpoint '{id}' does not exist")))
        })
        .await?;
    ctx.refresh_retention(&endpoint.channel_id).await;
    Ok(super::Deleted)
}

/// `GET /origin_endpoints?channelId=`.
pub async fn list(State(ctx): State<Ctx>, query: ListQuery) -> Json<ListOriginEndpointsResponse> {
    let channel_id = query.get("channelId");
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) = query.page(&s.origin_endpoints, |e| channel_id.is_none_or(|c| e.channel_id == c));
            let origin_endpoints = page.into_iter().map(|e| OriginEndpointDto::new(&ctx.config, e)).collect();
            ListOriginEndpointsResponse { origin_endpoints, next_token }
        })
        .await;
    Json(response)
}
