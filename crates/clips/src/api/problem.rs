//! The one place a `ClipError` becomes an HTTP status and an RFC 9457 problem document. Causes
//! are logged here, once; clients get a message they can act on and nothing internal.

use http::StatusCode;
use serde::Serialize;
use tracing::{error, warn};

use super::{ClipView, json_response};
use crate::domain::{Clip, FieldError};
use crate::error::ClipError;
use lambda_http::{Body, Response};

/// RFC 9457 problem details, as every error response of Clip API v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension member: the clip as stored when the failure left one behind (FAILED), so the
    /// client knows its id without listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip: Option<serde_json::Value>,
}

const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://live-clips.dev/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            clip: None,
        }
    }

    fn with_clip(self, clip: &Clip) -> Self {
        Self { clip: serde_json::to_value(ClipView::from(clip)).ok(), ..self }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, PROBLEM_JSON, &self)
    }
}

impl From<&ClipError> for Problem {
    fn from(err: &ClipError) -> Self {
        match err {
            ClipError::Invalid(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                Self {
                    errors: errors.clone(),
                    ..Self::new(
                        StatusCode::BAD_REQUEST,
                        "invalid-request",
                        "Invalid request",
                        format!(
                            "Check {}: {}",
                            fields.join(", "),
                            errors.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
                        ),
                    )
                }
            }
            ClipError::PayloadTooLarge { limit } => Self {
                errors: vec![FieldError::new("body", format!("must be at most {limit} bytes"))],
                ..Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "Request body too large",
                    err.to_string(),
                )
            },
            ClipError::UnsupportedMediaType => Self {
                errors: vec![FieldError::new("Content-Type", "must be application/json")],
                ..Self::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    err.to_string(),
                )
            },
            ClipError::NotFound => {
                Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", "There is no such clip in this competition.")
            }
            ClipError::IdempotencyKeyReused => Self {
                errors: vec![FieldError::new("Idempotency-Key", "was used before with another request body")],
                ..Self::new(StatusCode::CONFLICT, "idempotency-key-reused", "Idempotency key reused", err.to_string())
            },
            ClipError::HarvestRefused { clip, reason } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "harvest-refused",
                "Harvest refused",
                format!("MediaPackage refused to harvest clip {}: {reason}. The clip is FAILED.", clip.id),
            )
            .with_clip(clip),
            ClipError::HarvestUnavailable { clip, .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-unavailable",
                "MediaPackage unavailable",
                format!("MediaPackage could not be reached; clip {} is FAILED. Try again shortly.", clip.id),
            )
            .with_clip(clip),
            ClipError::Store(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "Catalogue unavailable",
                "The clip catalogue could not be reached. Try again shortly.",
            ),
        }
    }
}

/// The id of the clip a failure left behind, for the log line.
fn problem_clip(problem: &Problem) -> Option<&str> {
    problem.clip.as_ref().and_then(|c| c.get("id")).and_then(serde_json::Value::as_str)
}

/// Logs `err` with its cause chain (once) and answers with its problem document.
pub fn error_response(err: &ClipError) -> Response<Body> {
    let problem = Problem::from(err);
    if problem.status >= 500 {
        error!(
            error = err as &dyn std::error::Error,
            status = problem.status,
            clip = problem_clip(&problem),
            "request failed"
        );
    } else {
        warn!(error = %err, detail = %problem.detail, status = problem.status, clip = problem_clip(&problem), "request refused");
    }
    problem.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_mistake_is_a_4xx_naming_its_field() {
        let cases = [
            (ClipError::invalid("duration", "must be at least 1 second"), 400, "duration"),
            (ClipError::UnsupportedMediaType, 415, "Content-Type"),
            (ClipError::IdempotencyKeyReused, 409, "Idempotency-Key"),
            (ClipError::PayloadTooLarge { limit: 16384 }, 413, "body"),
        ];
        for (err, status, field) in cases {
            let problem = Problem::from(&err);
            assert_eq!(problem.status, status);
            assert_eq!(problem.errors[0].field, field);
            assert!(problem.detail.len() > 5);
        }
        assert_eq!(Problem::from(&ClipError::NotFound).status, 404);
    }

    #[test]
    fn outages_are_5xx_without_internals() {
        let err = ClipError::Store(crate::error::StoreError::Unavailable("secret-host:8000 refused".into()));
        let problem = Problem::from(&err);
        assert_eq!(problem.status, 503);
        assert!(!serde_json::to_string(&problem).unwrap().contains("secret-host"));
    }
}
