//! MediaPackage VOD assets: CreateAsset, DescribeAsset, ListAssets
//! (<https://docs.aws.amazon.com/mediapackage-vod/latest/apireference/assets.html>).
//!
//! CreateAsset answers at once with every egress endpoint QUEUED; ingest runs in the
//! background (see [`crate::vod`]) and DescribeAsset reports its progress.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AwsJson, ListQuery, no_tags};
use crate::HarvesterConfig;
use crate::model::{Asset, IngestStatus, Tags};
use crate::server::Ctx;
use crate::store::State as Records;
use crate::{validate, vod};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAssetRequest {
    id: Option<String>,
    packaging_group_id: Option<String>,
    source_arn: Option<String>,
    source_role_arn: Option<String>,
    resource_id: Option<String>,
    #[serde(default)]
    tags: Tags,
}

/// `AssetShallow` in list results; with `egressEndpoints` in Create/Describe.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetDto {
    arn: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    egress_endpoints: Option<Vec<EgressEndpointDto>>,
    id: String,
    packaging_group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    source_arn: String,
    source_role_arn: String,
    #[serde(skip_serializing_if = "no_tags")]
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EgressEndpointDto {
    packaging_configuration_id: String,
    status: &'static str,
    url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAssetsResponse {
    assets: Vec<AssetDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl AssetDto {
    fn shallow(asset: &Asset) -> Self {
        Self {
            arn: asset.arn.clone(),
            created_at: asset.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            egress_endpoints: None,
            id: asset.id.clone(),
            packaging_group_id: asset.packaging_group_id.clone(),
            resource_id: asset.resource_id.clone(),
            source_arn: asset.source_arn.clone(),
            source_role_arn: asset.source_role_arn.clone(),
            tags: asset.tags.clone(),
        }
    }

    /// With one egress endpoint per packaging configuration of the asset's group.
    fn full(config: &HarvesterConfig, records: &Records, asset: &Asset) -> Self {
        let egress_endpoints = records
            .packaging_configurations
            .values()
            .filter(|c| c.packaging_group_id == asset.packaging_group_id)
            .map(|c| EgressEndpointDto {
                packaging_configuration_id: c.id.clone(),
                status: asset.status.as_str(),
                url: vod::egress_url(config, asset, c),
            })
            .collect();
        Self { egress_endpoints: Some(egress_endpoints), ..Self::shallow(asset) }
    }
}

/// `POST /assets`.
pub async fn create(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreateAssetRequest>,
) -> Result<Json<AssetDto>, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let group_id = validate::required_id("packagingGroupId", request.packaging_group_id.as_deref())?;
    let source_arn = validate::required("sourceArn", request.source_arn.as_deref())?;
    let source = validate::s3_object_arn("sourceArn", source_arn)?;
    let source_role_arn = validate::required("sourceRoleArn", request.source_role_arn.as_deref())?;
    let asset = Asset {
        id: id.to_owned(),
        arn: ctx.config.vod_arn(&format!("assets/{id}")),
        packaging_group_id: group_id.to_owned(),
        source_arn: source_arn.to_owned(),
        source,
        source_role_arn: source_role_arn.to_owned(),
        resource_id: request.resource_id,
        tags: request.tags,
        created_at: Utc::now(),
        status: IngestStatus::Queued,
    };
    let dto = ctx
        .store
        .update(|state| {
            if state.assets.contains_key(id) {
                return Err(ApiError::invalid(format!("id: asset '{id}' already exists")));
            }
            if !state.packaging_groups.contains_key(group_id) {
                return Err(ApiError::invalid(format!(
                    "packagingGroupId: packaging group '{group_id}' does not exist"
                )));
            }
            state.assets.insert(id.to_owned(), asset.clone());
            Ok(AssetDto::full(&ctx.config, state, &asset))
        })
        .await?;
    ctx.tasks.spawn(vod::ingest(ctx.clone(), asset.id));
    Ok(Json(dto))
}

/// `GET /assets/{id}`.
pub async fn describe(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Json<AssetDto>, ApiError> {
    ctx.store
        .read(|s| s.assets.get(&id).map(|a| AssetDto::full(&ctx.config, s, a)))
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("Asset '{id}' does not exist")))
}

/// `DELETE /assets/{id}` (DeleteAsset). Its egress stops; the source in the bucket stays, as
/// on AWS.
pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<super::Deleted, ApiError> {
    ctx.store
        .update(|state| {
            state.assets.remove(&id).ok_or_else(|| ApiError::not_found(format!("Asset '{id}' does not exist")))
        })
        .await?;
    Ok(super::Deleted)
}

/// `GET /assets?packagingGroupId=`.
pub async fn list(State(ctx): State<Ctx>, query: ListQuery) -> Json<ListAssetsResponse> {
    let group_id = query.get("packagingGroupId");
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) = query.page(&s.assets, |a| group_id.is_none_or(|g| a.packaging_group_id == g));
            ListAssetsResponse { assets: page.into_iter().map(AssetDto::shallow).collect(), next_token }
        })
        .await;
    Json(response)
}
