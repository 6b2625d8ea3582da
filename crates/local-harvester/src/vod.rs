//! VOD assets: ingest of harvested HLS from the bucket, and egress per packaging configuration.
//!
//! Ingest checks the source the way MediaPackage VOD would before it packages it: the master
//! playlist parses, every rendition's media playlist parses as a finished (ENDLIST) playlist
//! and every segment exists. The content is then served as it is in the bucket (no
//! repackaging) under
//! `{public_url}out/v1/vod/{packagingGroupId}/{assetId}/{packagingConfigurationId}/`: the
//! configuration's `{manifestName}.m3u8` is the source master, and every other path resolves
//! relative to the source master's folder, so the master's relative URIs keep working.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use m3u8_rs::Playlist;

use crate::api::error::ApiError;
use crate::events;
use crate::hls;
use crate::model::{Asset, IngestStatus, PackagingConfiguration, S3Object};
use crate::server::Ctx;
use crate::storage::Storage;
use crate::validate;
use crate::{HarvesterConfig, HarvesterError};

/// The egress URL of `asset` through `configuration`.
pub fn egress_url(config: &HarvesterConfig, asset: &Asset, configuration: &PackagingConfiguration) -> String {
    config.public(&format!(
        "out/v1/vod/{}/{}/{}/{}.m3u8",
        asset.packaging_group_id,
        asset.id,
        configuration.id,
        configuration.primary_manifest_name()
    ))
}

/// The key of `uri`, written in the playlist at `base_key`, or why it cannot be served.
fn resolve(base_key: &str, uri: &str) -> Result<String, String> {
    if uri.contains("://") {
        return Err(format!("'{uri}' is an absolute URL; only relative URIs are supported"));
    }
    validate::relative_path(uri).map_err(|reason| format!("'{uri}' {reason}"))?;
    Ok(match base_key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{uri}"),
        None => uri.to_owned(),
    })
}

/// Checks that `source` is a complete HLS VOD; the error is the ingest error message.
async fn check_source(buckets: &Storage, source: &S3Object) -> Result<(), String> {
    let read = |key: String| async move {
        let object = S3Object { bucket: source.bucket.clone(), key };
        match buckets.get(&object).await {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(format!("Cannot read s3://{}/{}: it does not exist", object.bucket, object.key)),
            Err(e) => Err(format!("Cannot read s3://{}/{}: {e}", object.bucket, object.key)),
        }
    };
    let master = match m3u8_rs::parse_playlist_res(&read(source.key.clone()).await?) {
        Ok(Playlist::MasterPlaylist(master)) => master,
        Ok(Playlist::MediaPlaylist(_)) => {
            return Err(format!(
                "s3://{}/{} is a media playlist; the source must be an HLS master playlist",
                source.bucket, source.key
            ));
        }
        Err(e) => return Err(format!("s3://{}/{} is not a valid HLS playlist: {e}", source.bucket, source.key)),
    };
    let uris: Vec<&str> = master
        .variants
        .iter()
        .map(|v| v.uri.as_str())
        .chain(master.alternatives.iter().filter_map(|a| a.uri.as_deref()))
        .collect();
    if uris.is_empty() {
        return Err(format!("s3://{}/{} lists no renditions", source.bucket, source.key));
    }
    for uri in uris {
        let key = resolve(&source.key, uri)?;
        let media = m3u8_rs::parse_media_playlist_res(&read(key.clone()).await?)
            .map_err(|e| format!("s3://{}/{key} is not a valid HLS media playlist: {e}", source.bucket))?;
        if !media.end_list || media.segments.is_empty() {
            return Err(format!(
                "s3://{}/{key} is not a finished VOD playlist (no segments or no EXT-X-ENDLIST)",
                source.bucket
            ));
        }
        // Every segment, and every fMP4 initialisation segment (`EXT-X-MAP`), must be there.
        let mut uris: Vec<String> = Vec::new();
        for segment in &media.segments {
            uris.extend(segment.map.as_ref().map(|m| m.uri.clone()));
            uris.push(segment.uri.clone());
        }
        for uri in &uris {
            let object = S3Object { bucket: source.bucket.clone(), key: resolve(&key, uri)? };
            if !buckets.exists(&object).await.unwrap_or(false) {
                return Err(format!("Segment s3://{}/{} is missing", object.bucket, object.key));
            }
        }
    }
    Ok(())
}

async fn set_status(ctx: &Ctx, asset_id: &str, status: IngestStatus) -> Option<Asset> {
    let updated = ctx
        .store
        .update(|state| {
            let Some(asset) = state.assets.get_mut(asset_id) else { return Ok(None) };
            asset.status = status;
            Ok::<_, HarvesterError>(Some(asset.clone()))
        })
        .await;
    updated.unwrap_or_else(|e| {
        tracing::error!(asset = %asset_id, error = %e, "cannot record the asset's ingest status");
        None
    })
}

/// Ingests asset `asset_id`: QUEUED → PROCESSING → PLAYABLE (or FAILED), announcing each step.
pub async fn ingest(ctx: Ctx, asset_id: String) {
    let Some(asset) = set_status(&ctx, &asset_id, IngestStatus::Processing).await else { return };
    let started = format!("Ingest started for asset '{asset_id}'");
    events::publish(&ctx, events::ingest_notification(&ctx.config, &asset, "IngestStart", started)).await;
    if let Err(message) = check_source(&ctx.store.buckets, &asset.source).await {
        tracing::warn!(asset = %asset_id, %message, "asset ingest failed");
        if let Some(asset) = set_status(&ctx, &asset_id, IngestStatus::Failed).await {
            events::publish(&ctx, events::ingest_notification(&ctx.config, &asset, "IngestError", message)).await;
        }
        return;
    }
    let Some(asset) = set_status(&ctx, &asset_id, IngestStatus::Playable).await else { return };
    tracing::info!(asset = %asset_id, "asset playable");
    let complete = format!("Ingest completed for asset '{asset_id}'");
    events::publish(&ctx, events::ingest_notification(&ctx.config, &asset, "IngestComplete", complete)).await;
    let configurations: Vec<PackagingConfiguration> = ctx
        .store
        .read(|s| {
            s.packaging_configurations
                .values()
                .filter(|c| c.packaging_group_id == asset.packaging_group_id)
                .cloned()
                .collect()
        })
        .await;
    for configuration in configurations {
        let url = egress_url(&ctx.config, &asset, &configuration);
        events::publish(&ctx, events::playable_notification(&ctx.config, &asset, &configuration, url)).await;
    }
}

/// `GET /out/v1/vod/{packagingGroupId}/{assetId}/{packagingConfigurationId}/{*path}`.
pub async fn egress(
    State(ctx): State<Ctx>,
    Path((group_id, asset_id, configuration_id, path)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("'{path}' is not available for asset '{asset_id}'"));
    let (asset, configuration) = ctx
        .store
        .read(|s| (s.assets.get(&asset_id).cloned(), s.packaging_configurations.get(&configuration_id).cloned()))
        .await;
    let (Some(asset), Some(configuration)) = (asset, configuration) else { return Err(missing()) };
    if asset.packaging_group_id != group_id
        || configuration.packaging_group_id != group_id
        || asset.status != IngestStatus::Playable
    {
        return Err(missing());
    }
    let is_master = configuration.hls.manifests.iter().any(|m| path == format!("{}.m3u8", m.manifest_name));
    let key =
        if is_master { asset.source.key.clone() } else { resolve(&asset.source.key, &path).map_err(|_| missing())? };
    let object = S3Object { bucket: asset.source.bucket.clone(), key };
    let bytes = ctx.store.buckets.get(&object).await?.ok_or_else(missing)?;
    let content_type = if object.key.ends_with(".m3u8") {
        hls::PLAYLIST_CONTENT_TYPE
    } else if object.key.ends_with(".ts") {
        hls::SEGMENT_CONTENT_TYPE
    } else if object.key.ends_with(".mp4") || object.key.ends_with(".m4s") {
        hls::MP4_CONTENT_TYPE
    } else {
        "application/octet-stream"
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_resolve_beside_their_playlist_and_never_escape() {
        assert_eq!(resolve("c/1/index.m3u8", "index_1.m3u8").unwrap(), "c/1/index_1.m3u8");
        assert_eq!(resolve("index.m3u8", "a/b.ts").unwrap(), "a/b.ts");
        assert!(resolve("c/1/index.m3u8", "../2/index.m3u8").is_err());
        assert!(resolve("c/1/index.m3u8", "/etc/passwd").is_err());
        assert!(resolve("c/1/index.m3u8", "http://elsewhere/x.m3u8").is_err());
    }
}
