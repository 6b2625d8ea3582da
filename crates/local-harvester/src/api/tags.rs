//! Tags: TagResource, UntagResource, ListTagsForResource, the same three routes in both APIs
//! (<https://docs.aws.amazon.com/mediapackage/latest/apireference/tags-resource-arn.html>).
//!
//! The resource is named by its ARN (percent-encoded in the path). Channels, origin endpoints,
//! packaging groups, packaging configurations and assets carry tags; harvest jobs do not, as on
//! AWS.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AwsJson;
use super::error::ApiError;
use crate::model::Tags;
use crate::server::Ctx;
use crate::store::State as Records;

/// AWS's limit on tags per resource.
const MAX_TAGS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    tags: Option<Tags>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    tags: Tags,
}

/// The tags of the resource `arn` names.
fn tags_of<'a>(records: &'a mut Records, arn: &str) -> Option<&'a mut Tags> {
    let Records { channels, origin_endpoints, packaging_groups, packaging_configurations, assets, .. } = records;
    channels
        .values_mut()
        .find(|r| r.arn == arn)
        .map(|r| &mut r.tags)
        .or_else(|| origin_endpoints.values_mut().find(|r| r.arn == arn).map(|r| &mut r.tags))
        .or_else(|| packaging_groups.values_mut().find(|r| r.arn == arn).map(|r| &mut r.tags))
        .or_else(|| packaging_configurations.values_mut().find(|r| r.arn == arn).map(|r| &mut r.tags))
        .or_else(|| assets.values_mut().find(|r| r.arn == arn).map(|r| &mut r.tags))
}

fn no_such_resource(arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource '{arn}' does not exist or cannot be tagged"))
}

/// `GET /tags/{resource-arn}` (ListTagsForResource).
pub async fn list(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
) -> Result<Json<ListTagsForResourceResponse>, ApiError> {
    let tags = ctx
        .store
        .read(|s| {
            let Records { channels, origin_endpoints, packaging_groups, packaging_configurations, assets, .. } = s;
            channels
                .values()
                .find(|r| r.arn == arn)
                .map(|r| &r.tags)
                .or_else(|| origin_endpoints.values().find(|r| r.arn == arn).map(|r| &r.tags))
                .or_else(|| packaging_groups.values().find(|r| r.arn == arn).map(|r| &r.tags))
                .or_else(|| packaging_configurations.values().find(|r| r.arn == arn).map(|r| &r.tags))
                .or_else(|| assets.values().find(|r| r.arn == arn).map(|r| &r.tags))
                .cloned()
        })
        .await
        .ok_or_else(|| no_such_resource(&arn))?;
    Ok(Json(ListTagsForResourceResponse { tags }))
}

/// `POST /tags/{resource-arn}` (TagResource): adds or overwrites the given tags.
pub async fn tag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    AwsJson(request): AwsJson<TagResourceRequest>,
) -> Result<StatusCode, ApiError> {
    let new = request.tags.ok_or_else(|| ApiError::invalid("tags: is required"))?;
    if new.keys().any(|k| k.is_empty() || k.len() > 128) || new.values().any(|v| v.len() > 256) {
        return Err(ApiError::invalid("tags: keys must be 1-128 characters and values at most 256"));
    }
    ctx.store
        .update(|state| {
            let tags = tags_of(state, &arn).ok_or_else(|| no_such_resource(&arn))?;
            let count = tags.keys().chain(new.keys().filter(|k| !tags.contains_key(*k))).count();
            if count > MAX_TAGS {
                return Err(ApiError::invalid(format!("tags: a resource has at most {MAX_TAGS} tags")));
            }
            tags.extend(new.clone());
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /tags/{resource-arn}?tagKeys=a&tagKeys=b` (UntagResource).
pub async fn untag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let keys: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "tagKeys")
        .map(|(_, value)| value.into_owned())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::invalid("tagKeys: is required"));
    }
    ctx.store
        .update(|state| {
            let tags = tags_of(state, &arn).ok_or_else(|| no_such_resource(&arn))?;
            keys.iter().for_each(|k| {
                tags.remove(k);
            });
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
