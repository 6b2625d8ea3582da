//! Clip API v1 over API Gateway (REST, payload 1.0) and anything else lambda_http accepts.
//!
//! Each handler parses the request into domain values, calls `workflow`, and renders the result;
//! errors take one road, through `problem::error_response`.

mod create;
mod list;
mod problem;

pub use create::{MAX_BODY_BYTES, create_clip_handler, parse_create_request};
pub use list::{Cursor, get_clip_handler, list_clips_handler, parse_list_query};
pub use problem::{Problem, error_response};

use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::{Clip, Playback, format_instant};

/// A clip as the API shows it (the `Clip` schema of Clip API v1).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClipView<'a> {
    pub competition: &'a str,
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub start: String,
    pub end: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    pub playback: &'a [Playback],
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a Clip> for ClipView<'a> {
    fn from(clip: &'a Clip) -> Self {
        Self {
            competition: clip.competition.as_str(),
            id: clip.id.as_str(),
            title: &clip.title,
            description: &clip.description,
            start: format_instant(clip.window.start),
            end: format_instant(clip.window.end),
            status: clip.status.as_str(),
            error: clip.error.as_deref(),
            playback: &clip.playback,
            created_at: format_instant(clip.created_at),
            updated_at: format_instant(clip.updated_at),
        }
    }
}

/// Where a clip can be read back, under the prefix the client reached the API by.
pub fn clip_location(clip: &Clip, prefix: &str) -> String {
    format!("{prefix}/api/competitions/{}/clips/{}", clip.competition, clip.id)
}

/// The path prefix the client reached the API by: `/Prod` on API Gateway's own domain, a base
/// path on a custom domain, nothing locally. It is what the path the client called has in front
/// of the resource path the function was given.
pub fn public_prefix(request: &lambda_http::Request) -> String {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let resource_path = request.raw_http_path();
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) if !resource_path.is_empty() => {
            context.path.as_deref().and_then(|called| called.strip_suffix(resource_path)).unwrap_or_default().to_owned()
        }
        _ => String::new(),
    }
}

fn json_response(status: StatusCode, content_type: &str, body: &impl Serialize) -> Response<Body> {
    // Serializing our own plain structs cannot fail; an empty object is still valid JSON.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        http::HeaderValue::from_str(content_type).unwrap_or(http::HeaderValue::from_static("application/json")),
    );
    // Clip status changes by the second; caches must not hold it.
    headers.insert(CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}
