//! VOD assets on MediaPackage VOD. The asset id is the clip id; the asset's source is the
//! harvested manifest, which is how an asset event finds its way back to its clip.

use aws_sdk_mediapackagevod::Client;
use aws_sdk_mediapackagevod::operation::create_asset::CreateAssetError;
use aws_sdk_mediapackagevod::types::EgressEndpoint;

use crate::domain::{ClipId, Playback, PlaybackStatus};
use crate::error::VodError;
use crate::ports::{AssetDescription, VodAssets};

#[derive(Debug, Clone)]
pub struct MediaPackageVod {
    client: Client,
    packaging_group_id: String,
    /// The role MediaPackage VOD assumes to read the harvest bucket.
    source_role_arn: String,
}

impl MediaPackageVod {
    pub fn new(client: Client, packaging_group_id: impl Into<String>, source_role_arn: impl Into<String>) -> Self {
        Self { client, packaging_group_id: packaging_group_id.into(), source_role_arn: source_role_arn.into() }
    }
}

const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

fn playback(endpoints: &[EgressEndpoint]) -> Vec<Playback> {
    endpoints
        .iter()
        .filter_map(|e| {
            Some(Playback {
                packaging_configuration_id: e.packaging_configuration_id()?.to_owned(),
                url: e.url()?.to_owned(),
                status: if e.status() == Some("PLAYABLE") { PlaybackStatus::Playable } else { PlaybackStatus::Pending },
            })
        })
        .collect()
}

/// `arn:aws:s3:::bucket/key` → `key`.
fn source_key(source_arn: &str) -> Option<String> {
    let (_bucket, key) = source_arn.strip_prefix(S3_ARN_PREFIX)?.split_once('/')?;
    Some(key.to_owned())
}

impl VodAssets for MediaPackageVod {
    async fn create_asset(&self, id: &ClipId, bucket: &str, manifest_key: &str) -> Result<AssetDescription, VodError> {
        let result = self
            .client
            .create_asset()
            .id(id.as_str())
            .packaging_group_id(&self.packaging_group_id)
            .source_arn(format!("{S3_ARN_PREFIX}{bucket}/{manifest_key}"))
            .source_role_arn(&self.source_role_arn)
            .send()
            .await;
        let err = match result {
            Ok(asset) => {
                return Ok(AssetDescription {
                    source_key: manifest_key.to_owned(),
                    playback: playback(asset.egress_endpoints()),
                });
            }
            Err(err) => err,
        };
        match err.as_service_error() {
            // The asset may exist from an earlier delivery of the same event.
            Some(CreateAssetError::UnprocessableEntityException(refusal)) => {
                match self.describe_asset(id.as_str()).await? {
                    Some(existing) if existing.source_key == manifest_key => Ok(existing),
                    _ => Err(VodError::Refused(refusal.message().unwrap_or("the asset was refused").to_owned())),
                }
            }
            Some(CreateAssetError::NotFoundException(refusal)) => {
                Err(VodError::Refused(refusal.message().unwrap_or("the packaging group does not exist").to_owned()))
            }
            _ => Err(VodError::Unavailable(Box::new(err))),
        }
    }

    async fn describe_asset(&self, id: &str) -> Result<Option<AssetDescription>, VodError> {
        match self.client.describe_asset().id(id).send().await {
            Ok(asset) => Ok(asset
                .source_arn()
                .and_then(source_key)
                .map(|source_key| AssetDescription { source_key, playback: playback(asset.egress_endpoints()) })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => Ok(None),
            Err(err) => Err(VodError::Unavailable(Box::new(err))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_keys_come_from_s3_arns() {
        assert_eq!(source_key("arn:aws:s3:::bucket/clips/a/b/index.m3u8").as_deref(), Some("clips/a/b/index.m3u8"));
        assert_eq!(source_key("arn:aws:s3:::bucket"), None);
        assert_eq!(source_key("s3://bucket/key"), None);
    }
}
