//! Reading a request body with a size limit, the way clients can hear the answer.
//!
//! A server that answers an oversized body before reading it closes a connection the client is
//! still writing to, and the client sees a broken pipe instead of the refusal. So an oversized
//! body is read to its end and dropped, up to a cap past which the client is cut off anyway.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

/// Why a body was not read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The client stopped sending before the end.
    CutOff(String),
}

/// The body, if it is at most `limit` bytes; a longer one is drained up to `drain_cap` bytes
/// (or refused at once when its `Content-Length` says it is longer than that).
///
/// # Errors
/// The body is longer than `limit`, or breaks off.
pub async fn read_limited(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    drain_cap: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > drain_cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut bytes = Vec::new();
    let mut received = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::CutOff(e.to_string()))?;
        if let Some(data) = frame.data_ref() {
            received += data.len();
            if received > drain_cap {
                return Err(BodyError::TooLarge);
            }
            if received <= limit {
                bytes.extend_from_slice(data);
            }
        }
    }
    if received > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes)
}
