//! The one error type of the crate.
//!
//! Each HTTP surface owns exactly one function that turns a [`LocalStackError`]
//! into a status and a client-safe body (`invoke::error_response`,
//! `gateway::error_response`); the details stay in the log.

use std::{io, path::PathBuf};

use http::Method;

/// Boxed error of a body stream, as hyper and axum hand it over.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong while hosting functions or serving the
/// Invoke API and the API gateway.
///
/// A function that *ran* and failed is not an error here: that is
/// [`Outcome::FunctionError`](crate::Outcome::FunctionError), because Lambda
/// reports it as a successful invocation carrying an error payload.
#[derive(Debug, thiserror::Error)]
pub enum LocalStackError {
    /// A part of the local stack (dynalite, the harvester, the resources the functions expect)
    /// could not be set up; the message says which and why.
    #[error("local stack set-up failed: {0}")]
    Setup(String),

    /// A [`FunctionSpec`](crate::FunctionSpec) that cannot be hosted.
    #[error("function spec `{function}` is invalid: {reason}")]
    InvalidSpec { function: String, reason: String },

    /// The loopback listener for a Runtime API endpoint could not be bound.
    #[error("cannot bind the Lambda Runtime API endpoint of `{function}`")]
    Bind {
        function: String,
        #[source]
        source: io::Error,
    },

    /// The function binary could not be started (missing, not executable…).
    #[error("cannot start `{}` for function `{function}`", binary.display())]
    Spawn {
        function: String,
        binary: PathBuf,
        #[source]
        source: io::Error,
    },

    /// No hosted function has this name.
    #[error("function `{0}` not found")]
    FunctionNotFound(String),

    /// The payload exceeds a service limit (Lambda's 6 MB invoke payload, or
    /// API Gateway's 10 MB request body).
    #[error("payload exceeds the {limit}-byte limit")]
    PayloadTooLarge { limit: usize },

    /// An Invoke API call named an `X-Amz-Invocation-Type` Lambda does not know.
    #[error("invocation type `{0}` is not one of RequestResponse, Event, DryRun")]
    InvalidInvocationType(String),

    /// The client's request body could not be read.
    #[error("cannot read the request body")]
    ReadBody(#[source] BoxError),

    /// The function host stopped before the invocation completed.
    #[error("function `{0}` is shutting down")]
    ShuttingDown(String),

    /// A gateway route template or target that cannot be served.
    #[error("route `{method} {path}` is invalid: {reason}")]
    InvalidRoute { method: Method, path: String, reason: String },

    /// A gateway stage name that cannot appear as a path segment.
    #[error("stage name `{0}` is invalid: it must be non-empty and contain no `/`")]
    InvalidStage(String),

    /// No gateway route matches the request (API Gateway answers 403).
    #[error("no route matches `{method} {path}`")]
    NoRoute { method: Method, path: String },

    /// The function behind a gateway route failed, crashed or timed out.
    #[error("function `{function}` failed: {error_type}: {error_message}")]
    FunctionFailed { function: String, error_type: String, error_message: String },

    /// The gateway could not encode a request as a proxy event.
    #[error("cannot encode the API Gateway event for `{function}`")]
    EncodeEvent {
        function: String,
        #[source]
        source: serde_json::Error,
    },

    /// The function's reply is not a valid API Gateway proxy response.
    #[error("function `{function}` returned a malformed proxy response: {reason}")]
    MalformedProxyResponse { function: String, reason: String },
}
