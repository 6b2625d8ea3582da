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

/// Where a clip can be read back.
pub fn clip_location(clip: &Clip) -> String {
    format!("/api/competitions/{}/clips/{}", clip.competition, clip.id)
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
