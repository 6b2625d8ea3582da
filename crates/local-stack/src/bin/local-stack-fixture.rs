//! Test fixture: a real Lambda function for the `local-stack` integration
//! tests, built on the same `lambda_runtime` / `lambda_http` the project's
//! functions use, so the tests prove the host speaks their protocol.
//!
//! `FIXTURE_MODE` picks the behaviour:
//! - unset: echoes the JSON event with what the runtime told it; the event's
//!   `action` can make it `fail` (function error), `sleep` for `ms`, `panic`,
//!   or `exit` with `code` (a crash), or `touch` a file at `path` (a side
//!   effect an asynchronous invocation can be observed by);
//! - `proxy-raw`: answers an API Gateway event with a 200 whose body is the
//!   raw event JSON, to check the event exactly as the gateway built it;
//! - `http`: an API Gateway proxy handler that echoes the request as
//!   `lambda_http` decoded it; header `x-fixture-status` sets the status,
//!   `x-fixture-binary` echoes the raw body as a binary response, and a path
//!   ending in `/fail` fails the invocation;
//! - `fail-init`: exits during initialisation, before asking for an event.

use std::time::Duration;

use lambda_http::{Body, RequestExt as _};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Map, Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    match std::env::var("FIXTURE_MODE").as_deref() {
        Ok("http") => lambda_http::run(lambda_http::service_fn(http_echo)).await,
        Ok("proxy-raw") => lambda_runtime::run(lambda_runtime::service_fn(proxy_raw)).await,
        Ok("fail-init") => Err("fixture configured to fail during init".into()),
        _ => lambda_runtime::run(lambda_runtime::service_fn(echo)).await,
    }
}

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    match payload.get("action").and_then(Value::as_str) {
        Some("fail") => {
            return Err(Diagnostic {
                error_type: "FixtureError".to_owned(),
                error_message: payload["message"].as_str().unwrap_or("failed").to_owned(),
            });
        }
        Some("sleep") => {
            tokio::time::sleep(Duration::from_millis(payload["ms"].as_u64().unwrap_or(0))).await;
        }
        Some("exit") => {
            let code = payload["code"].as_i64().and_then(|code| i32::try_from(code).ok());
            std::process::exit(code.unwrap_or(1));
        }
        Some("panic") => panic!("fixture asked to panic"),
        Some("touch") => {
            let path = payload["path"].as_str().unwrap_or_default();
            std::fs::write(path, payload.to_string())
                .map_err(|err| Diagnostic { error_type: "FixtureError".to_owned(), error_message: err.to_string() })?;
        }
        _ => {}
    }
    let env: Map<String, Value> = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION",
        "_HANDLER",
        "FIXTURE_GREETING",
        "HOME",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), std::env::var(name).map_or(Value::Null, Value::from)))
    .collect();
    Ok(json!({
        "pid": std::process::id(),
        "requestId": context.request_id,
        "functionArn": context.invoked_function_arn,
        "deadlineMs": context.deadline,
        "traceId": context.xray_trace_id,
        "env": env,
        "event": payload,
    }))
}

async fn proxy_raw(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Ok(json!({ "statusCode": 200, "body": event.payload.to_string() }))
}

async fn http_echo(request: lambda_http::Request) -> Result<lambda_http::Response<Body>, lambda_http::Error> {
    if request.uri().path().ends_with("/fail") {
        return Err("fixture asked to fail".into());
    }
    let header = |name| request.headers().get(name).and_then(|value| value.to_str().ok());
    let status = header("x-fixture-status").and_then(|status| status.parse().ok()).unwrap_or(200_u16);
    let response =
        lambda_http::Response::builder().status(status).header("set-cookie", "a=1").header("set-cookie", "b=2");
    if header("x-fixture-binary").is_some() {
        let body = Body::Binary(request.body().to_vec());
        return Ok(response.header("content-type", "application/octet-stream").body(body)?);
    }

    let mut query: Map<String, Value> = Map::new();
    for (name, value) in request.query_string_parameters().iter() {
        let values = query.entry(name).or_insert_with(|| json!([]));
        if let Value::Array(values) = values {
            values.push(value.into());
        }
    }
    let path_parameters: Map<String, Value> =
        request.path_parameters().iter().map(|(name, value)| (name.to_owned(), value.into())).collect();
    let mut headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers() {
        let values = headers.entry(name.as_str()).or_insert_with(|| json!([]));
        if let (Value::Array(values), Ok(value)) = (values, value.to_str()) {
            values.push(value.into());
        }
    }
    let body = match request.body() {
        Body::Text(text) => json!({ "text": text }),
        Body::Binary(bytes) => json!({ "bytes": bytes }),
        _ => Value::Null,
    };
    let echo = json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "rawPath": request.raw_http_path(),
        "query": query,
        "pathParameters": path_parameters,
        "headers": headers,
        "body": body,
        "requestContext": serde_json::to_value(request.request_context())?,
    });
    Ok(response.header("content-type", "application/json").body(Body::Text(echo.to_string()))?)
}
