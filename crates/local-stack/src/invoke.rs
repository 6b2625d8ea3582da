//! The Lambda [Invoke API](https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)
//! (`POST /2015-03-31/functions/{name}/invocations`), the path `cargo lambda
//! watch` serves too, so event producers and the AWS SDK's Lambda client work
//! against either.

use std::sync::Arc;

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::{
    LocalStackError, MAX_PAYLOAD_BYTES,
    gateway::GatewayState,
    runtime::{Invocation, Outcome},
};

/// Route of the Invoke API on the gateway router.
pub(crate) const INVOKE_PATH: &str = "/2015-03-31/functions/{function}/invocations";

/// `X-Amz-Invocation-Type`.
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    fn from_headers(headers: &HeaderMap) -> Result<Self, LocalStackError> {
        let Some(value) = headers.get("x-amz-invocation-type") else {
            return Ok(Self::RequestResponse);
        };
        match value.to_str() {
            Ok("RequestResponse") => Ok(Self::RequestResponse),
            Ok("Event") => Ok(Self::Event),
            Ok("DryRun") => Ok(Self::DryRun),
            _ => Err(LocalStackError::InvalidInvocationType(String::from_utf8_lossy(value.as_bytes()).into_owned())),
        }
    }
}

pub(crate) async fn invoke(
    State(gateway): State<Arc<GatewayState>>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    invoke_function(&gateway, &function, &headers, body).await.unwrap_or_else(|err| error_response(&err))
}

async fn invoke_function(
    gateway: &GatewayState,
    function: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, LocalStackError> {
    let name = function_name(function);
    let host = gateway.functions.get(name).ok_or_else(|| LocalStackError::FunctionNotFound(name.to_owned()))?;
    let invocation_type = InvocationType::from_headers(headers)?;
    let payload = read_body(body, MAX_PAYLOAD_BYTES).await?;
    match invocation_type {
        InvocationType::RequestResponse => Ok(sync_response(host.invoke(payload).await?)),
        InvocationType::Event => {
            let queued = host.enqueue(payload)?;
            let request_id = queued.request_id().to_owned();
            let function = name.to_owned();
            // Ends with the invocation, or when the host shuts down.
            tokio::spawn(async move {
                match queued.wait().await {
                    Ok(Invocation { outcome: Outcome::FunctionError(error), request_id, .. }) => {
                        tracing::warn!(%function, %request_id, error_type = %error.error_type, error_message = %error.error_message, "asynchronous invocation failed")
                    }
                    Ok(invocation) => {
                        tracing::debug!(%function, request_id = %invocation.request_id, "asynchronous invocation succeeded")
                    }
                    Err(err) => tracing::warn!(%function, %err, "asynchronous invocation abandoned"),
                }
            });
            Ok((StatusCode::ACCEPTED, [("x-amzn-RequestId", request_id)]).into_response())
        }
        InvocationType::DryRun => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Accepts a plain name, `name:qualifier` or a full function ARN, as the
/// Invoke API does; qualifiers are ignored since only `$LATEST` exists here.
fn function_name(raw: &str) -> &str {
    if raw.starts_with("arn:") {
        // arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]
        raw.split(':').nth(6).unwrap_or(raw)
    } else {
        raw.split(':').next().unwrap_or(raw)
    }
}

/// The 200 a `RequestResponse` invocation gets, failed or not: a function
/// error is flagged by `X-Amz-Function-Error`, not by the status.
fn sync_response(invocation: Invocation) -> Response {
    let mut response = match invocation.outcome {
        Outcome::Response(payload) => payload.into_response(),
        Outcome::FunctionError(error) => {
            let mut response = Json(error).into_response();
            response.headers_mut().insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    if let Ok(request_id) = HeaderValue::from_str(&invocation.request_id) {
        headers.insert("x-amzn-requestid", request_id);
    }
    response
}

/// Reads a request body of at most `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, LocalStackError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(LocalStackError::PayloadTooLarge { limit }),
        Err(err) => Err(LocalStackError::ReadBody(err)),
    }
}

/// The Invoke API's error mapping: status, `x-amzn-ErrorType` (which the AWS
/// SDK reads) and a `{Type, message}` body.
fn error_response(err: &LocalStackError) -> Response {
    let (status, error_type) = match err {
        LocalStackError::FunctionNotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        LocalStackError::InvalidInvocationType(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        LocalStackError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLargeException"),
        LocalStackError::ReadBody(_) => (StatusCode::BAD_REQUEST, "InvalidRequestContentException"),
        LocalStackError::ShuttingDown(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceException"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException"),
    };
    let message = if status.is_server_error() {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), "Invoke API request failed");
        "The service could not complete the request".to_owned()
    } else {
        tracing::debug!(error = %err, "Invoke API request rejected");
        err.to_string()
    };
    let kind = if status.is_server_error() { "Service" } else { "User" };
    let body = serde_json::json!({ "__type": error_type, "Type": kind, "message": message });
    (status, [("x-amzn-ErrorType", error_type)], Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_accept_qualifiers_and_arns() {
        assert_eq!(function_name("create-clip"), "create-clip");
        assert_eq!(function_name("create-clip:$LATEST"), "create-clip");
        assert_eq!(function_name("arn:aws:lambda:eu-west-1:000000000000:function:create-clip"), "create-clip");
        assert_eq!(function_name("arn:aws:lambda:eu-west-1:000000000000:function:create-clip:live"), "create-clip");
    }

    #[test]
    fn invocation_type_defaults_to_request_response() {
        let mut headers = HeaderMap::new();
        assert!(matches!(InvocationType::from_headers(&headers), Ok(InvocationType::RequestResponse)));
        headers.insert("x-amz-invocation-type", HeaderValue::from_static("Event"));
        assert!(matches!(InvocationType::from_headers(&headers), Ok(InvocationType::Event)));
        headers.insert("x-amz-invocation-type", HeaderValue::from_static("Later"));
        assert!(matches!(InvocationType::from_headers(&headers), Err(LocalStackError::InvalidInvocationType(_))));
    }
}
