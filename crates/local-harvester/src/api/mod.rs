//! The HTTP surface: both REST APIs (MediaPackage v1 and MediaPackage VOD, whose paths do not
//! collide), the live origin and the VOD egress, on one router.
//!
//! Each resource has its module with its wire DTOs (AWS's camelCase JSON, see the API
//! references linked there) and handlers; DTOs convert to and from the records in
//! [`crate::model`] and never leak into the rest of the crate.

pub mod assets;
pub mod channels;
pub mod error;
pub mod faults;
pub mod harvest_jobs;
pub mod origin_endpoints;
pub mod packaging;
pub mod tags;

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use crate::body::{self, BodyError};
use crate::server::Ctx;
use crate::{live, vod};

/// Records per page when a list request sets no `maxResults`.
const DEFAULT_MAX_RESULTS: usize = 50;
/// The largest `maxResults` AWS accepts.
const MAX_RESULTS: usize = 1000;

/// Every route this server answers; anything else is a well-formed `NotFoundException`.
pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/channels", get(channels::list).post(channels::create))
        .route("/channels/{id}", get(channels::describe).delete(channels::delete))
        .route("/origin_endpoints", get(origin_endpoints::list).post(origin_endpoints::create))
        .route("/origin_endpoints/{id}", get(origin_endpoints::describe).delete(origin_endpoints::delete))
        .route("/harvest_jobs", get(harvest_jobs::list).post(harvest_jobs::create))
        .route("/harvest_jobs/{id}", get(harvest_jobs::describe))
        .route("/packaging_groups", get(packaging::list_groups).post(packaging::create_group))
        .route("/packaging_groups/{id}", get(packaging::describe_group).delete(packaging::delete_group))
        .route("/packaging_configurations", get(packaging::list_configurations).post(packaging::create_configuration))
        .route(
            "/packaging_configurations/{id}",
            get(packaging::describe_configuration).delete(packaging::delete_configuration),
        )
        .route("/assets", get(assets::list).post(assets::create))
        .route("/assets/{id}", get(assets::describe).delete(assets::delete))
        .route("/tags/{arn}", get(tags::list).post(tags::tag).delete(tags::untag))
        .route_layer(middleware::from_fn_with_state(ctx.clone(), faults::inject))
        .route("/_local/faults", get(faults::counts).post(faults::add).delete(faults::clear))
        .route("/_local/faults/harvests", post(faults::fail_harvests))
        .route("/_local/faults/events", post(faults::disorder_events))
        .route("/in/v2/{channel_id}/{endpoint_id}/{*path}", put(live::ingest::put).delete(live::ingest::delete))
        .route("/out/v1/{endpoint_id}/{file}", get(live::origin::get))
        .route("/out/v1/vod/{group_id}/{asset_id}/{configuration_id}/{*path}", get(vod::egress))
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(TraceLayer::new_for_http())
        .with_state(ctx)
}

async fn unknown_operation(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No operation is served at {method} {}", uri.path()))
}

/// The largest API request body read: the operations' JSON is a few kilobytes at most.
const MAX_REQUEST_BYTES: usize = 2 << 20;
/// How much of a larger one is read (and dropped) so the client hears the refusal.
const MAX_DRAINED_BYTES: usize = 32 << 20;

/// A JSON request body whose problems are reported the AWS way (422 naming the field), where
/// axum's own `Json` would answer 400/415 in plain text. An empty body counts as `{}`.
pub struct AwsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AwsJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let bytes = body::read_limited(&parts.headers, body, MAX_REQUEST_BYTES, MAX_DRAINED_BYTES).await.map_err(
            |e| match e {
                BodyError::TooLarge => {
                    ApiError::invalid(format!("The request body is larger than {MAX_REQUEST_BYTES} bytes"))
                }
                BodyError::CutOff(cause) => ApiError::invalid(format!("Cannot read the request body: {cause}")),
            },
        )?;
        let body: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(body).map(AwsJson).map_err(|e| ApiError::invalid(format!("Invalid request body: {e}")))
    }
}

/// The query string of a list operation: `maxResults`, `nextToken` and its filters. Extracted
/// leniently (a malformed query string cannot make axum answer a plain-text 400).
pub struct ListQuery {
    params: HashMap<String, String>,
    max_results: usize,
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        Self::new(url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }
}

impl ListQuery {
    /// Reads the paging parameters.
    ///
    /// # Errors
    /// `maxResults` is not a number from 1 to 1000.
    pub fn new(params: HashMap<String, String>) -> Result<Self, ApiError> {
        let max_results = match params.get("maxResults") {
            None => DEFAULT_MAX_RESULTS,
            Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=MAX_RESULTS).contains(n)).ok_or_else(|| {
                ApiError::invalid(format!("maxResults: '{raw}' is not a number from 1 to {MAX_RESULTS}"))
            })?,
        };
        Ok(Self { params, max_results })
    }

    /// A filter parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// One page of `records` (sorted by id, as a `BTreeMap` is) that pass `keep`, and the
    /// token of the next page. The token is the last id returned, so pages stay stable while
    /// records are added.
    pub fn page<'a, T>(
        &self,
        records: &'a BTreeMap<String, T>,
        keep: impl Fn(&T) -> bool,
    ) -> (Vec<&'a T>, Option<String>) {
        let after = self.get("nextToken");
        let mut page: Vec<(&String, &T)> = records
            .iter()
            .filter(|(id, _)| after.is_none_or(|after| id.as_str() > after))
            .filter(|(_, record)| keep(record))
            .take(self.max_results + 1)
            .collect();
        let next_token = (page.len() > self.max_results).then(|| {
            page.truncate(self.max_results);
            page.last().map(|(id, _)| (*id).clone()).unwrap_or_default()
        });
        (page.into_iter().map(|(_, record)| record).collect(), next_token)
    }
}

/// The answer of every Delete operation: `202 Accepted` with an empty JSON object, as AWS's.
pub struct Deleted;

impl axum::response::IntoResponse for Deleted {
    fn into_response(self) -> axum::response::Response {
        (axum::http::StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))).into_response()
    }
}

/// Serde helper: leave empty tag maps out of responses, as AWS does.
fn no_tags(tags: &crate::model::Tags) -> bool {
    tags.is_empty()
}

/// An optional non-negative whole number field, checked against AWS's limits.
fn bounded(
    field: &str,
    value: Option<i64>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let Some(value) = value else { return Ok(default) };
    u32::try_from(value).ok().filter(|v| range.contains(v)).ok_or_else(|| {
        ApiError::invalid(format!("{field}: {value} is out of range ({} to {})", range.start(), range.end()))
    })
}

/// Refuses a feature this stand-in does not implement, naming the field.
fn unsupported<T>(field: &str, value: &Option<T>) -> Result<(), ApiError> {
    match value {
        Some(_) => Err(ApiError::invalid(format!("{field}: is not supported by the local harvester"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        ListQuery::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn pages_follow_next_tokens_to_the_end() {
        let records: BTreeMap<String, u32> = (0..5).map(|n| (format!("id{n}"), n)).collect();
        let (first, token) = query(&[("maxResults", "2")]).unwrap().page(&records, |_| true);
        assert_eq!(first, [&0, &1]);
        assert_eq!(token.as_deref(), Some("id1"));
        let (second, token) = query(&[("maxResults", "2"), ("nextToken", "id1")]).unwrap().page(&records, |_| true);
        assert_eq!(second, [&2, &3]);
        let (last, token) =
            query(&[("maxResults", "2"), ("nextToken", token.as_deref().unwrap())]).unwrap().page(&records, |_| true);
        assert_eq!(last, [&4]);
        assert_eq!(token, None);
        let (odd, _) = query(&[]).unwrap().page(&records, |n| n % 2 == 1);
        assert_eq!(odd, [&1, &3]);
    }

    #[test]
    fn max_results_is_bounded() {
        for bad in ["0", "1001", "x", "-1"] {
            let err = query(&[("maxResults", bad)]).err().unwrap();
            assert!(err.message.starts_with("maxResults:"));
        }
    }

    #[test]
    fn bounded_numbers_name_their_field() {
        assert_eq!(bounded("timeDelaySeconds", None, 0, 0..=86_400).unwrap(), 0);
        assert_eq!(bounded("timeDelaySeconds", Some(30), 0, 0..=86_400).unwrap(), 30);
        let err = bounded("timeDelaySeconds", Some(-1), 0, 0..=86_400).unwrap_err();
        assert!(err.message.starts_with("timeDelaySeconds:"));
    }
}
