//! A fault proxy in front of dynalite: DynamoDB throttles and has bad moments, dynalite never
//! does. The functions talk to DynamoDB through this proxy when a test asks for it
//! ([`StackOptions::dynamodb_fault_proxy`](crate::stack::StackOptions)), and a share of their
//! calls then gets the errors DynamoDB answers with (`ProvisionedThroughputExceededException`,
//! `ThrottlingException`, `InternalServerError`), so their retries are exercised against the
//! SDK's real error handling. While dynalite restarts, calls get `ServiceUnavailable`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::error::LocalStackError;

/// DynamoDB's limit on a request is far below this; the proxy only needs a bound.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
const ERROR_PREFIX: &str = "com.amazonaws.dynamodb.v20120810#";
/// Parts per million of calls that fail, so the share can be changed without a lock.
const MILLION: u64 = 1_000_000;

/// The errors injected calls get, in turn: two kinds of throttling and a server error.
const INJECTED: [(StatusCode, &str); 3] = [
    (StatusCode::BAD_REQUEST, "ProvisionedThroughputExceededException"),
    (StatusCode::BAD_REQUEST, "ThrottlingException"),
    (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError"),
];

/// Headers that describe one hop, not the request: the client sets its own.
const HOP_HEADERS: [HeaderName; 4] =
    [header::HOST, header::CONTENT_LENGTH, header::CONNECTION, header::TRANSFER_ENCODING];

#[derive(Debug)]
struct Shared {
    upstream: String,
    client: reqwest::Client,
    failing_ppm: AtomicU64,
    injected: AtomicU64,
}

/// The running proxy; dropping it stops it.
#[derive(Debug)]
pub struct DynamoFaultProxy {
    pub url: String,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl DynamoFaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream` (dynalite's URL), with
    /// no faults yet.
    ///
    /// # Errors
    /// No loopback port is free.
    pub async fn start(upstream: &str) -> Result<Self, LocalStackError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| LocalStackError::Setup(format!("DynamoDB fault proxy: {e}")))?;
        let addr = listener.local_addr().map_err(|e| LocalStackError::Setup(format!("DynamoDB fault proxy: {e}")))?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            failing_ppm: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                stopped.await.ok();
            };
            if let Err(err) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %err, "DynamoDB fault proxy stopped");
            }
        });
        Ok(Self { url: format!("http://{addr}"), shared, _stop: stop })
    }

    /// Makes `fraction` (0 to 1) of the calls from now on fail.
    pub fn fail_fraction(&self, fraction: f64) {
        let ppm = (fraction.clamp(0.0, 1.0) * MILLION as f64).round() as u64;
        self.shared.failing_ppm.store(ppm, Ordering::Relaxed);
    }

    /// How many calls have been failed on purpose so far.
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::Relaxed)
    }
}

fn dynamodb_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": format!("{ERROR_PREFIX}{kind}"), "message": message });
    (status, [(header::CONTENT_TYPE, "application/x-amz-json-1.0")], body.to_string()).into_response()
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if fastrand::u64(0..MILLION) < shared.failing_ppm.load(Ordering::Relaxed) {
        let n = shared.injected.fetch_add(1, Ordering::Relaxed);
        let (status, kind) = INJECTED[usize::try_from(n).unwrap_or(0) % INJECTED.len()];
        return dynamodb_error(status, kind, "Injected by the local stack's DynamoDB fault proxy");
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return dynamodb_error(StatusCode::PAYLOAD_TOO_LARGE, "ValidationException", "Request body too large");
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    for name in &HOP_HEADERS {
        headers.remove(name);
    }
    let sent = shared
        .client
        .request(parts.method, format!("{}{path}", shared.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => relay(response).await,
        Err(err) => {
            tracing::debug!(error = %err, "dynalite did not answer");
            dynamodb_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The local DynamoDB is not answering")
        }
    }
}

async fn relay(response: reqwest::Response) -> Response {
    let status = response.status();
    let mut headers: HeaderMap = response.headers().clone();
    for name in &HOP_HEADERS {
        headers.remove(name);
    }
    let body: Bytes = match response.bytes().await {
        Ok(body) => body,
        Err(_) => {
            return dynamodb_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The local DynamoDB hung up");
        }
    };
    let mut relayed = Response::new(Body::from(body));
    *relayed.status_mut() = status;
    *relayed.headers_mut() = headers;
    relayed
}
