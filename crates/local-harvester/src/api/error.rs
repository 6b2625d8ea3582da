//! AWS's error shapes for both APIs.
//!
//! MediaPackage and MediaPackage VOD are `restJson1` services: an error is a status code, the
//! `x-amzn-ErrorType` header naming the exception, and a JSON body `{"message": "..."}`. The
//! SDKs pick the typed error variant from the header, so the code and the status must agree;
//! [`ErrorCode`] owns both and [`ApiError::into_response`] is the only serializer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::HarvesterError;

/// The exceptions both APIs declare, each with the status AWS sends it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Forbidden,
    InternalServerError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    UnprocessableEntity,
}

impl ErrorCode {
    pub const ALL: [Self; 6] = [
        Self::Forbidden,
        Self::InternalServerError,
        Self::NotFound,
        Self::ServiceUnavailable,
        Self::TooManyRequests,
        Self::UnprocessableEntity,
    ];

    /// The code named `name` (e.g. `NotFoundException`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.name() == name)
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::UnprocessableEntity => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The shape name the SDKs match on.
    pub fn name(self) -> &'static str {
        match self {
            Self::Forbidden => "ForbiddenException",
            Self::InternalServerError => "InternalServerErrorException",
            Self::NotFound => "NotFoundException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::UnprocessableEntity => "UnprocessableEntityException",
        }
    }
}

/// An error answer: what went wrong, phrased for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// Bad input; the message names the offending field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnprocessableEntity, message)
    }
}

impl From<HarvesterError> for ApiError {
    /// Internal failures are logged with their cause chain; the client only learns that it was
    /// our fault.
    fn from(error: HarvesterError) -> Self {
        tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "internal error");
        Self::new(ErrorCode::InternalServerError, "An internal error occurred")
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody { message: &self.message })
            .expect("a struct of one string always serialises");
        let mut response = (self.code.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code.name()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_carries_status_header_and_message() {
        let response = ApiError::invalid("id: must not be empty").into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()["x-amzn-errortype"], "UnprocessableEntityException");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn every_code_has_a_distinct_status_and_round_trips_its_name() {
        let statuses: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.status()).collect();
        assert_eq!(statuses.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.name()), Some(code));
        }
        assert_eq!(ErrorCode::from_name("ConflictException"), None);
    }
}
