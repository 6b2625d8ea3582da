//! One error type per layer. Adapter errors keep the SDK error as their source, so the log shows
//! the cause while clients see only what `api::problem` chooses to say.

use crate::domain::{Clip, FieldError};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The clips table could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the clips table did not answer")]
    Unavailable(#[source] BoxError),
    #[error("a stored item could not be read: {0}")]
    Corrupt(String),
}

/// MediaPackage did not start a harvest job.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    /// MediaPackage looked at the job and said no (a 4xx): retrying will not help.
    #[error("{0}")]
    Refused(String),
    /// Throttling, a 5xx or no answer after the SDK's retries.
    #[error("MediaPackage did not answer")]
    Unavailable(#[source] BoxError),
}

/// MediaPackage VOD did not create or describe an asset.
#[derive(Debug, thiserror::Error)]
pub enum VodError {
    #[error("{0}")]
    Refused(String),
    #[error("MediaPackage VOD did not answer")]
    Unavailable(#[source] BoxError),
}

/// Why a clip request was not served; `api::problem` turns each into a status and a body.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("no such clip")]
    NotFound,
    #[error("the Idempotency-Key was used before with another request body")]
    IdempotencyKeyReused,
    /// The clip is stored as FAILED with MediaPackage's reason.
    #[error("MediaPackage refused the harvest: {reason}")]
    HarvestRefused { clip: Box<Clip>, reason: String },
    /// The clip is stored as FAILED: MediaPackage could not be reached.
    #[error("MediaPackage is unavailable")]
    HarvestUnavailable { clip: Box<Clip>, source: BoxError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ClipError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

/// Why an event was not processed. Only `Retryable` fails the invocation: anything else would be
/// retried by Lambda and EventBridge to no avail, so it is logged and acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the event could not be processed yet")]
    Retryable(#[source] BoxError),
}

impl From<StoreError> for EventError {
    fn from(value: StoreError) -> Self {
        Self::Retryable(Box::new(value))
    }
}

impl From<VodError> for EventError {
    fn from(value: VodError) -> Self {
        Self::Retryable(Box::new(value))
    }
}
