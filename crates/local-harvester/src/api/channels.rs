//! Channels: CreateChannel, DescribeChannel, ListChannels
//! (<https://docs.aws.amazon.com/mediapackage/latest/apireference/channels.html>).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AwsJson, Deleted, ListQuery, no_tags};
use crate::HarvesterConfig;
use crate::model::{Channel, ChannelSource, IngestEndpoint, Tags};
use crate::server::Ctx;
use crate::validate;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelRequest {
    id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDto {
    arn: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    hls_ingest: HlsIngestDto,
    id: String,
    #[serde(skip_serializing_if = "no_tags")]
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HlsIngestDto {
    ingest_endpoints: Vec<IngestEndpointDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IngestEndpointDto {
    id: String,
    password: String,
    url: String,
    username: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListChannelsResponse {
    channels: Vec<ChannelDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl ChannelDto {
    fn new(config: &HarvesterConfig, channel: &Channel) -> Self {
        let ingest_endpoints = channel
            .ingest_endpoints
            .iter()
            .map(|e| IngestEndpointDto {
                id: e.id.clone(),
                password: e.password.clone(),
                url: config.public(&format!("in/v2/{}/{}/channel", channel.id, e.id)),
                username: e.username.clone(),
            })
            .collect();
        Self {
            arn: channel.arn.clone(),
            created_at: channel.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            description: channel.description.clone(),
            hls_ingest: HlsIngestDto { ingest_endpoints },
            id: channel.id.clone(),
            tags: channel.tags.clone(),
        }
    }
}

/// A new channel record with AWS's two ingest endpoints and fresh credentials.
pub fn new_channel(
    config: &HarvesterConfig,
    id: &str,
    description: Option<String>,
    tags: Tags,
    source: ChannelSource,
) -> Channel {
    let ingest_endpoint = || IngestEndpoint {
        id: validate::random_hex(32),
        username: validate::random_hex(32),
        password: validate::random_hex(32),
    };
    Channel {
        id: id.to_owned(),
        arn: config.live_arn(&format!("channels/{id}")),
        description,
        tags,
        created_at: Utc::now(),
        ingest_endpoints: vec![ingest_endpoint(), ingest_endpoint()],
        source,
    }
}

/// `POST /channels`.
pub async fn create(
    State(ctx): State<Ctx>,
    AwsJson(request): AwsJson<CreateChannelRequest>,
) -> Result<Json<ChannelDto>, ApiError> {
    let id = validate::required_id("id", request.id.as_deref())?;
    let channel = new_channel(&ctx.config, id, request.description, request.tags, ChannelSource::Ingest);
    ctx.store
        .update(|state| {
            if state.channels.contains_key(id) {
                return Err(ApiError::invalid(format!("id: channel '{id}' already exists")));
            }
            state.channels.insert(id.to_owned(), channel.clone());
            Ok(())
        })
        .await?;
    Ok(Json(ChannelDto::new(&ctx.config, &channel)))
}

/// `GET /channels/{id}`.
pub async fn describe(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Json<ChannelDto>, ApiError> {
    let channel = ctx
        .store
        .read(|s| s.channels.get(&id).cloned())
        .await
        .ok_or_else(|| ApiError::not_found(format!("Channel '{id}' does not exist")))?;
    Ok(Json(ChannelDto::new(&ctx.config, &channel)))
}

/// `DELETE /channels/{id}` (DeleteChannel). As on AWS, a channel's origin endpoints must be
/// deleted first. Its live buffer and ingest spool go with it; harvest job records stay.
pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Deleted, ApiError> {
    ctx.store
        .update(|state| {
            if !state.channels.contains_key(&id) {
                return Err(ApiError::not_found(format!("Channel '{id}' does not exist")));
            }
            if let Some(endpoint) = state.origin_endpoints.values().find(|e| e.channel_id == id) {
                return Err(ApiError::invalid(format!(
                    "Channel '{id}' has origin endpoint '{}': delete its origin endpoints first",
                    endpoint.id
                )));
            }
            state.channels.remove(&id);
            Ok(())
        })
        .await?;
    ctx.live.remove(&id);
    crate::live::ingest::forget(&ctx, &id).await;
    Ok(Deleted)
}

/// `GET /channels`.
pub async fn list(State(ctx): State<Ctx>, query: ListQuery) -> Json<ListChannelsResponse> {
    let response = ctx
        .store
        .read(|s| {
            let (page, next_token) = query.page(&s.channels, |_| true);
            let channels = page.into_iter().map(|c| ChannelDto::new(&ctx.config, c)).collect();
            ListChannelsResponse { channels, next_token }
        })
        .await;
    Json(response)
}
