//! MediaPackage VOD packaging groups and packaging configurations: Create, Describe and List
//! of each (<https://docs.aws.amazon.com/mediapackage-vod/latest/apireference/packaging_groups.html>,
//! <https://docs.aws.amazon.com/mediapackage-vod/latest/apireference/packaging_configurations.html>).
//! Only HLS packages are supported.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AwsJson, ListQuery, bounded, no_tags, unsupported};
use crate::HarvesterConfig;
use crate::model::{CdnAuthorization, PackagingConfiguration, PackagingGroup, Tags, VodHlsManifest, VodHlsPackage};
use crate::server::Ctx;
use crate::validate;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePackagingGroupRequest {
    id: Option<String>,
    authorization: Option<AuthorizationDto>,
    egress_access_logs: Option<EgressAccessLogsDto>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationDto {
    cdn_identifier_secret: String,
    secrets_role_arn: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct EgressAccessLogsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    log_group_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackagingGroupDto {
    approximate_asset_count: usize,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization: Option<AuthorizationDto>,
    created_at: String,
    domain_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    egress_access_logs: Option<EgressAccessLogsDto>,
    id: String,
    #[serde(skip_serializing_if = "no_tags")]
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPackagingGroupsResponse {
    packaging_groups: Vec<PackagingGroupDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePackagingConfigurationRequest {
    id: Option<String>,
    packaging_group_id: Option<String>,
    hls_package: Option<HlsPackageInput>,
    cmaf_package: Option<serde_json::Value>,
    dash_package: Option<serde_json::Value>,
    mss_package: Option<serde_json::Value>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HlsPackageInput {
    encryption: Option<serde_json::Value>,
    #[serde(default)]
    hls_manifests: Vec<HlsManifestInput>,
    include_dvb_subtitles: Option<bool>,
    segment_duration_seconds: Option<i64>,
    use_audio_rendition_group: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HlsManifestInput {
    ad_markers: Option<String>,
    include_iframe_only_stream: Option<bool>,
    manifest_name: Option<String>,
    program_date_time_interval_seconds: Option<i64>,
    repeat_ext_x_key: Option<bool>,
    stream_selection: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackagingConfigurationDto {
    arn: String,
    created_at: String,
    hls_package: HlsPackageDto,
    id: String,
    packaging_group_id: String,
    #[serde(skip_serializing_if = "no_tags")]
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HlsPackageDto {
    hls_manifests: Vec<HlsManifestDto>,
    include_dvb_subtitles: bool,
    segment_duration_seconds: u32,
    use_audio_rendition_group: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HlsManifestDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    ad_markers: Option<String>,
    include_iframe_only_stream: bool,
    manifest_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    program_date_time_interval_seconds: Option<u32>,
    repeat_ext_x_key: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPackagingConfigurationsResponse {
    packaging_configurations: Vec<PackagingConfigurationDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl PackagingGroupDto {
    fn new(config: &HarvesterConfig, group: &PackagingGroup, asset_count: usize) -> Self {
        Self {
            approximate_asset_count: asset_count,
            arn: group.arn.clone(),
            authorization: group.authorization.as_ref().map(|a| AuthorizationDto {
                cdn_identifier_secret: a.cdn_identifier_secret.clone(),
                secrets_role_arn: a.secrets_role_arn.clone(),
            }),
            created_at: group.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            domain_name: config.public_url.as_str().trim_end_matches('/').to_owned(),
            egress_access_logs: group
                .egress_log_group
                .as_ref()
                .map(|name| EgressAccessLogsDto { log_group_name: Some(name.clone()) }),
            id: group.id.clone(),
            tags: group.tags.clone(),
        }
    }
}

impl From<&PackagingConfiguration> for PackagingConfigurationDto {
    fn from(configuration: &PackagingConfiguration) -> Self {
        let hls = &configuration.hls;
        Self {
            arn: configuration.arn.clone(),
            created_at: configuration.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            hls_package: HlsPackageDto {
                hls_manifests: hls
                    .manifests
                    .iter()
                    .map(|m| HlsManifestDto {
                        ad_markers: m.ad_markers.clone(),
                        include_iframe_only_stream: m.include_iframe_only_stream,
                        manifest_name: m.manifest_name.clone(),
                        program_date_time_interval_seconds: m.program_date_time_interval_seconds,
                        repeat_ext_x_key: m.repeat_ext_x_key,
                    })
                    .collect(),
                include_dvb_subtitles: hls.include_dvb_subtitles,
                segment_duration_seconds: hls.segment_duration_seconds,
                use_audio_rendition_group: hls.use_audio_rendition_group,
            },
            id: configuration.id.clone(),
            packaging_group_id: configuration.packaging_group_id.clone(),
            tags: configuration.tags.clone(),
        }
    }
}

fn asset_count(state: &crate::store::State, group_id: &str) -> usize {
    state.assets.values().filter(|a| a.packaging_group_id == group_id).count()
}

/// `POST /packaging_groups`.
pub async fn create_group(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreatePackagingGroupRequest>,
) -> Result<Json<PackagingGroupDto>, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let group = PackagingGroup {
        id: id.to_owned(),
        arn: ctx.config.vod_arn(&format!("packaging-groups/{id}")),
        created_at: Utc::now(),
        authorization: request.authorization.map(|a| CdnAuthorization {
            cdn_identifier_secret: a.cdn_identifier_secret,
            secrets_role_arn: a.secrets_role_arn,
        }),
        egress_log_group: request.egress_access_logs.and_then(|l| l.log_group_name),
        tags: request.tags,
    };
    ctx.store
        .update(|state| {
            if state.packaging_groups.contains_key(id) {
                return Err(ApiError::invalid(format!("id: packaging group '{id}' already exists")));
            }
            state.packaging_groups.insert(id.to_owned(), group.clone());
            Ok(())
        })
        .await?;
    Ok(Json(PackagingGroupDto::new(&ctx.config, &group, 0)))
}

/// `GET /packaging_groups/{id}`.
pub async fn describe_group(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<PackagingGroupDto>, ApiError> {
    ctx.store
        .read(|s| s.packaging_groups.get(&id).map(|g| PackagingGroupDto::new(&ctx.config, g, asset_count(s, &id))))
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Packaging group '{id}' does not exist")))
}

/// `GET /packaging_groups`.
pub async fn list_groups(State(ctx): State<Ctx>, query: ListQuery) -> Json<ListPackagingGroupsResponse> {
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) = query.page(&s.packaging_groups, |_| true);
            let packaging_groups =
                page.into_iter().map(|g| PackagingGroupDto::new(&ctx.config, g, asset_count(s, &g.id))).collect();
            ListPackagingGroupsResponse { packaging_groups, next_token }
        })
        .await;
    Json(response)
}

impl HlsPackageInput {
    fn into_package(self) -> Result<VodHlsPackage, ApiError> {
        unsupported("hlsPackage.encryption", &self.encryption)?;
        if self.hls_manifests.is_empty() {
            return Err(ApiError::invalid("hlsPackage.hlsManifests: at least one manifest is required"));
        }
        let mut names = HashSet::new();
        let manifests = self
            .hls_manifests
            .into_iter()
            .map(|m| {
                unsupported("hlsPackage.hlsManifests.streamSelection", &m.stream_selection)?;
                let manifest_name = m.manifest_name.unwrap_or_else(|| "index".to_owned());
                validate::resource_id("hlsPackage.hlsManifests.manifestName", &manifest_name)?;
                if !names.insert(manifest_name.clone()) {
                    return Err(ApiError::invalid(format!(
                        "hlsPackage.hlsManifests.manifestName: '{manifest_name}' is used twice"
                    )));
                }
                let interval = m
                    .program_date_time_interval_seconds
                    .map(|v| bounded("hlsPackage.hlsManifests.programDateTimeIntervalSeconds", Some(v), 0, 0..=3600))
                    .transpose()?;
                Ok(VodHlsManifest {
                    manifest_name,
                    ad_markers: m.ad_markers,
                    include_iframe_only_stream: m.include_iframe_only_stream.unwrap_or(false),
                    program_date_time_interval_seconds: interval,
                    repeat_ext_x_key: m.repeat_ext_x_key.unwrap_or(false),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(VodHlsPackage {
            segment_duration_seconds: bounded(
                "hlsPackage.segmentDurationSeconds",
                self.segment_duration_seconds,
                6,
                1..=30,
            )?,
            use_audio_rendition_group: self.use_audio_rendition_group.unwrap_or(false),
            include_dvb_subtitles: self.include_dvb_subtitles.unwrap_or(false),
            manifests,
        })
    }
}

/// `POST /packaging_configurations`.
pub async fn create_configuration(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreatePackagingConfigurationRequest>,
) -> Result<Json<PackagingConfigurationDto>, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let group_id = validate::required_id("packagingGroupId", request.packaging_group_id.as_deref())?;
    unsupported("cmafPackage", &request.cmaf_package)?;
    unsupported("dashPackage", &request.dash_package)?;
    unsupported("mssPackage", &request.mss_package)?;
    let hls = request
        .hls_package
        .ok_or_else(|| ApiError::invalid("hlsPackage: is required (only HLS packaging is supported)"))?
        .into_package()?;
    let configuration = PackagingConfiguration {
        id: id.to_owned(),
        arn: ctx.config.vod_arn(&format!("packaging-configurations/{id}")),
        packaging_group_id: group_id.to_owned(),
        created_at: Utc::now(),
        hls,
        tags: request.tags,
    };
    ctx.store
        .update(|state| {
            if state.packaging_configurations.contains_key(id) {
                return Err(ApiError::invalid(format!("id: packaging configuration '{id}' already exists")));
            }
            if !state.packaging_groups.contains_key(group_id) {
                return Err(ApiError::invalid(format!(
                    "packagingGroupId: packaging group '{group_id}' does not exist"
                )));
            }
            state.packaging_configurations.insert(id.to_owned(), configuration.clone());
            Ok(())
        })
        .await?;
    Ok(Json(PackagingConfigurationDto::from(&configuration)))
}

/// `DELETE /packaging_configurations/{id}` (DeletePackagingConfiguration). Assets of its group
/// are no longer served through it.
pub async fn delete_configuration(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<super::Deleted, ApiError> {
    ctx.store
        .update(|state| {
            state
                .packaging_configurations
                .remove(&id)
                .ok_or_else(|| ApiError::not_found(format!("Packaging configuration '{id}' does not exist")))
        })
        .await?;
    Ok(super::Deleted)
}

/// `DELETE /packaging_groups/{id}` (DeletePackagingGroup). As on AWS, its assets and packaging
/// configurations must be deleted first.
pub async fn delete_group(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<super::Deleted, ApiError> {
    ctx.store
        .update(|state| {
            if !state.packaging_groups.contains_key(&id) {
                return Err(ApiError::not_found(format!("Packaging group '{id}' does not exist")));
            }
            if let Some(asset) = state.assets.values().find(|a| a.packaging_group_id == id) {
                return Err(ApiError::invalid(format!(
                    "Packaging group '{id}' has asset '{}': delete its assets first",
                    asset.id
                )));
            }
            if let Some(c) = state.packaging_configurations.values().find(|c| c.packaging_group_id == id) {
                return Err(ApiError::invalid(format!(
                    "Packaging group '{id}' has packaging configuration '{}': delete its packaging configurations first",
                    c.id
                )));
            }
            state.packaging_groups.remove(&id);
            Ok(())
        })
        .await?;
    Ok(super::Deleted)
}

/// `GET /packaging_configurations/{id}`.
pub async fn describe_configuration(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<PackagingConfigurationDto>, ApiError> {
    ctx.store
        .read(|s| s.packaging_configurations.get(&id).map(PackagingConfigurationDto::from))
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Packaging configuration '{id}' does not exist")))
}

/// `GET /packaging_configurations?packagingGroupId=`.
pub async fn list_configurations(
    State(ctx): State<Ctx>,
    query: ListQuery,
) -> Json<ListPackagingConfigurationsResponse> {
    let group_id = query.get("packagingGroupId");
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) =
                query.page(&s.packaging_configurations, |c| group_id.is_none_or(|g| c.packaging_group_id == g));
            ListPackagingConfigurationsResponse {
                packaging_configurations: page.into_iter().map(PackagingConfigurationDto::from).collect(),
                next_token,
            }
        })
        .await;
    Json(response)
}
