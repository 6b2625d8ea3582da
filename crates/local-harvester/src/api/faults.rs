//! Fault injection, an extension that AWS does not have: a test can make the next calls of an
//! operation fail with a chosen AWS error (`POST /_local/faults`), to exercise the retry and
//! error paths of its MediaPackage clients against real SDK error handling.
//!
//! Body: `{"operation": "CreateAsset", "errorType": "ServiceUnavailableException", "count": 1,
//! "message": "optional"}`; `DELETE /_local/faults` clears everything.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AwsJson;
use super::error::{ApiError, ErrorCode};
use crate::server::Ctx;
use crate::validate;

/// Errors waiting to be returned, per operation name, with how many calls they still hit.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Mutex<HashMap<&'static str, (ApiError, u32)>>,
}

impl Faults {
    /// The injected error for this call of `operation`, if any is left.
    fn take(&self, operation: &str) -> Option<ApiError> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (error, remaining) = pending.get_mut(operation)?;
        let error = error.clone();
        *remaining -= 1;
        if *remaining == 0 {
            pending.remove(operation);
        }
        Some(error)
    }
}

/// Every operation the fault switch can hit: method, matched route, AWS operation name.
const OPERATIONS: [(&str, &str, &str); 26] = [
    ("POST", "/channels", "CreateChannel"),
    ("GET", "/channels", "ListChannels"),
    ("DELETE", "/channels/{id}", "DeleteChannel"),
    ("GET", "/channels/{id}", "DescribeChannel"),
    ("POST", "/origin_endpoints", "CreateOriginEndpoint"),
    ("GET", "/origin_endpoints", "ListOriginEndpoints"),
    ("DELETE", "/origin_endpoints/{id}", "DeleteOriginEndpoint"),
    ("GET", "/origin_endpoints/{id}", "DescribeOriginEndpoint"),
    ("POST", "/harvest_jobs", "CreateHarvestJob"),
    ("GET", "/harvest_jobs", "ListHarvestJobs"),
    ("GET", "/harvest_jobs/{id}", "DescribeHarvestJob"),
    ("POST", "/packaging_groups", "CreatePackagingGroup"),
    ("GET", "/packaging_groups", "ListPackagingGroups"),
    ("DELETE", "/packaging_groups/{id}", "DeletePackagingGroup"),
    ("GET", "/packaging_groups/{id}", "DescribePackagingGroup"),
    ("POST", "/packaging_configurations", "CreatePackagingConfiguration"),
    ("GET", "/packaging_configurations", "ListPackagingConfigurations"),
    ("DELETE", "/packaging_configurations/{id}", "DeletePackagingConfiguration"),
    ("GET", "/packaging_configurations/{id}", "DescribePackagingConfiguration"),
    ("POST", "/assets", "CreateAsset"),
    ("GET", "/assets", "ListAssets"),
    ("DELETE", "/assets/{id}", "DeleteAsset"),
    ("GET", "/assets/{id}", "DescribeAsset"),
    ("POST", "/tags/{arn}", "TagResource"),
    ("DELETE", "/tags/{arn}", "UntagResource"),
    ("GET", "/tags/{arn}", "ListTagsForResource"),
];

/// The AWS operation a matched route and method serve.
fn operation(method: &Method, route: &str) -> Option<&'static str> {
    OPERATIONS.iter().find(|(m, r, _)| method.as_str() == *m && route == *r).map(|(_, _, name)| *name)
}

fn known_operation(name: &str) -> Option<&'static str> {
    OPERATIONS.iter().find(|(_, _, op)| *op == name).map(|(_, _, op)| *op)
}

/// Middleware: answers with an injected error instead of running the operation.
pub async fn inject(State(ctx): State<Ctx>, route: MatchedPath, request: Request, next: Next) -> Response {
    if let Some(error) = operation(request.method(), route.as_str()).and_then(|op| ctx.faults.take(op)) {
        tracing::info!(route = route.as_str(), code = error.code.name(), "injected fault");
        return error.into_response();
    }
    next.run(request).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectRequest {
    operation: Option<String>,
    error_type: Option<String>,
    count: Option<u32>,
    message: Option<String>,
}

/// `POST /_local/faults`.
pub async fn add(State(ctx): State<Ctx>, AwsJson(request): AwsJson<InjectRequest>) -> Result<StatusCode, ApiError> {
    let name = validate::required("operation", request.operation.as_deref())?;
    let operation = known_operation(name)
        .ok_or_else(|| ApiError::invalid(format!("operation: '{name}' is not a served operation")))?;
    let error_type = validate::required("errorType", request.error_type.as_deref())?;
    let code = ErrorCode::from_name(error_type)
        .ok_or_else(|| ApiError::invalid(format!("errorType: '{error_type}' is not an error of this API")))?;
    let count = request.count.unwrap_or(1);
    if count == 0 {
        return Err(ApiError::invalid("count: must be at least 1"));
    }
    let message = request.message.unwrap_or_else(|| format!("Injected {} for {operation}", code.name()));
    ctx.faults
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(operation, (ApiError::new(code, message), count));
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /_local/faults`.
pub async fn clear(State(ctx): State<Ctx>) -> StatusCode {
    ctx.faults.pending.lock().unwrap_or_else(|e| e.into_inner()).clear();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_route_names_a_distinct_operation() {
        let names: std::collections::HashSet<_> = OPERATIONS
            .iter()
            .map(|(m, r, _)| operation(&Method::from_bytes(m.as_bytes()).unwrap(), r).unwrap())
            .collect();
        assert_eq!(names.len(), OPERATIONS.len());
        assert_eq!(known_operation("CreateHarvestJob"), Some("CreateHarvestJob"));
        assert_eq!(known_operation("DeleteChannel"), Some("DeleteChannel"));
        assert_eq!(known_operation("UntagResource"), Some("UntagResource"));
        assert_eq!(known_operation("UpdateChannel"), None);
    }

    #[test]
    fn faults_run_out_after_count_calls() {
        let faults = Faults::default();
        faults.pending.lock().unwrap().insert("CreateAsset", (ApiError::new(ErrorCode::ServiceUnavailable, "down"), 2));
        assert_eq!(faults.take("CreateAsset").unwrap().code, ErrorCode::ServiceUnavailable);
        assert!(faults.take("DescribeAsset").is_none());
        assert!(faults.take("CreateAsset").is_some());
        assert!(faults.take("CreateAsset").is_none());
    }
}
