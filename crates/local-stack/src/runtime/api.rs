//! The Runtime API endpoint of one function process, as `lambda_runtime` 1.x
//! calls it: long-poll `GET …/invocation/next`, then `POST
//! …/invocation/{id}/response` or `…/error`; `POST …/init/error` when
//! initialisation fails. Request and response shapes follow
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::Bytes;
use tokio::{
    net::TcpListener,
    sync::{Notify, watch},
};

use super::{Function, FunctionError, MAX_PAYLOAD_BYTES, Outcome, Pending};

/// What the endpoint and the supervisor of one process share.
pub(super) struct SessionState {
    function: Arc<Function>,
    spawned_at: Instant,
    /// Set once the process is dead or being killed: pending long polls give
    /// up so they cannot take an event meant for a live process.
    stopped: watch::Receiver<bool>,
    /// Wakes the supervisor when an invocation starts or ends, so it tracks
    /// the current deadline.
    pub(super) changed: Notify,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Process start to its first `/next`: Lambda's init duration.
    init: Option<Duration>,
    /// The next event handed out is this process's first (a cold start).
    cold: bool,
    in_flight: Option<InFlight>,
    /// What the runtime reported on `/init/error`, for the exit that follows.
    init_error: Option<FunctionError>,
}

struct InFlight {
    pending: Pending,
    started: Instant,
    deadline: Instant,
    init: Option<Duration>,
}

impl InFlight {
    fn fail(self, error_type: &str, error_message: String) {
        let error = FunctionError { error_type: error_type.to_owned(), error_message };
        self.pending.complete(Outcome::FunctionError(error), self.started, self.init);
    }
}

impl SessionState {
    pub(super) fn new(function: Arc<Function>, spawned_at: Instant, stopped: watch::Receiver<bool>) -> Self {
        Self { function, spawned_at, stopped, changed: Notify::new(), inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if something did, the state
        // is still consistent enough to finish or fail invocations.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the in-flight invocation times out, if there is one.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.lock().in_flight.as_ref().map(|flight| flight.deadline)
    }

    /// Whether the process got as far as asking for an event.
    pub(super) fn initialised(&self) -> bool {
        self.lock().init.is_some()
    }

    /// Fails the in-flight invocation if its deadline has passed.
    pub(super) fn time_out(&self) -> bool {
        let mut inner = self.lock();
        let Some(flight) = inner.in_flight.take_if(|flight| flight.deadline <= Instant::now()) else {
            return false;
        };
        drop(inner);
        let message = format!(
            "RequestId: {} Error: Task timed out after {:.2} seconds",
            flight.pending.request_id,
            self.function.spec.timeout.as_secs_f64()
        );
        flight.fail("Sandbox.Timedout", message);
        true
    }

    /// Reports the process's death to whoever it affects: the invocation it
    /// was running or, if it died initialising, the invocation at the head of
    /// the queue (Lambda fails the invocation that triggered a failed init).
    pub(super) fn fail_after_exit(&self, status: &str) {
        let mut inner = self.lock();
        if let Some(flight) = inner.in_flight.take() {
            drop(inner);
            let message =
                format!("RequestId: {} Error: Runtime exited with error: {status}", flight.pending.request_id);
            flight.fail("Runtime.ExitError", message);
            return;
        }
        if inner.init.is_some() {
            return;
        }
        let reported = inner.init_error.take();
        drop(inner);
        // A busy lock means another instance is long-polling: it will serve
        // the queue, so nobody is stuck behind this failure.
        let Ok(mut queue) = self.function.queue.try_lock() else {
            return;
        };
        let Ok(pending) = queue.try_recv() else {
            return;
        };
        drop(queue);
        let error = reported.unwrap_or_else(|| FunctionError {
            error_type: "Runtime.ExitError".to_owned(),
            error_message: format!("RequestId: {} Error: Runtime exited with error: {status}", pending.request_id),
        });
        let init = Some(self.spawned_at.elapsed());
        pending.complete(Outcome::FunctionError(error), Instant::now(), init);
    }

    /// Drops the in-flight invocation on shutdown, which tells its caller.
    pub(super) fn abandon(&self) {
        self.lock().in_flight = None;
    }

    /// Hands `pending` to the runtime as the response to `/next`.
    fn begin(&self, pending: Pending) -> Response {
        let timeout = self.function.spec.timeout;
        let started = Instant::now();
        let deadline_ms = (SystemTime::now() + timeout).duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        let request_id = pending.request_id.clone();
        let payload = pending.payload.clone();

        let mut inner = self.lock();
        let init = if std::mem::take(&mut inner.cold) { inner.init } else { None };
        let abandoned = inner.in_flight.replace(InFlight { pending, started, deadline: started + timeout, init });
        drop(inner);
        if let Some(flight) = abandoned {
            let message = format!(
                "RequestId: {} Error: the runtime asked for the next event without answering this one",
                flight.pending.request_id
            );
            flight.fail("Runtime.NoResponse", message);
        }
        self.changed.notify_one();

        let headers = [
            ("lambda-runtime-aws-request-id", request_id),
            ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", self.function.arn.clone()),
            ("lambda-runtime-trace-id", new_trace_id()),
            (CONTENT_TYPE.as_str(), "application/json".to_owned()),
        ];
        let mut response = payload.into_response();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    /// Completes the in-flight invocation `request_id` with `outcome`.
    fn finish(&self, request_id: &str, outcome: Outcome) -> Response {
        let flight = self.lock().in_flight.take_if(|flight| flight.pending.request_id == request_id);
        let Some(flight) = flight else {
            return runtime_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                format!("no invocation {request_id} is in progress"),
            );
        };
        flight.pending.complete(outcome, flight.started, flight.init);
        self.changed.notify_one();
        accepted()
    }
}

/// Serves the endpoint until `stopped` turns true.
pub(super) async fn serve(listener: TcpListener, state: Arc<SessionState>, mut stopped: watch::Receiver<bool>) {
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{request_id}/response", post(invocation_response))
        .route("/2018-06-01/runtime/invocation/{request_id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // Oversized responses are a function error Lambda reports itself
        // (`Function.ResponseSizeTooLarge`), not a transport failure.
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    if let Err(err) =
        axum::serve(listener, router).with_graceful_shutdown(async move { super::raised(&mut stopped).await }).await
    {
        tracing::error!(%err, "Runtime API endpoint failed");
    }
}

async fn next_invocation(State(state): State<Arc<SessionState>>) -> Response {
    {
        let mut inner = state.lock();
        if inner.init.is_none() {
            inner.init = Some(state.spawned_at.elapsed());
            inner.cold = true;
        }
    }
    let mut stopped = state.stopped.clone();
    // `recv` is cancel-safe and nothing awaits between receiving and
    // recording the event in `begin`, so an event is never lost in between.
    let pending = tokio::select! {
        biased;
        () = super::raised(&mut stopped) => None,
        pending = async { state.function.queue.lock().await.recv().await } => pending,
    };
    match pending {
        Some(pending) => state.begin(pending),
        None => {
            // Stopped, or the queue closed for shutdown, after which the host
            // kills this process: holding the answer back until then spares
            // the runtime a confusing failure in its last moments.
            super::raised(&mut stopped).await;
            runtime_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "the function host is shutting down".to_owned(),
            )
        }
    }
}

async fn invocation_response(
    State(state): State<Arc<SessionState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let outcome = if body.len() > MAX_PAYLOAD_BYTES {
        Outcome::FunctionError(FunctionError {
            error_type: "Function.ResponseSizeTooLarge".to_owned(),
            error_message: format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
            ),
        })
    } else {
        Outcome::Response(body)
    };
    state.finish(&request_id, outcome)
}

async fn invocation_error(
    State(state): State<Arc<SessionState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = error_report(&headers, &body);
    state.finish(&request_id, Outcome::FunctionError(error))
}

async fn init_error(State(state): State<Arc<SessionState>>, headers: HeaderMap, body: Bytes) -> Response {
    let error = error_report(&headers, &body);
    tracing::warn!(function = %state.function.spec.name, error_type = %error.error_type, error_message = %error.error_message, "function reported an init error");
    state.lock().init_error = Some(error);
    accepted()
}

/// Reads an error report; runtimes other than `lambda_runtime` may send a
/// partial or non-JSON body, which is kept as the message.
fn error_report(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Report {
        error_type: Option<String>,
        error_message: Option<String>,
    }
    let header_type = || {
        headers
            .get("lambda-runtime-function-error-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("Unhandled")
            .to_owned()
    };
    match serde_json::from_slice::<Report>(body) {
        Ok(report) => FunctionError {
            error_type: report.error_type.unwrap_or_else(header_type),
            error_message: report.error_message.unwrap_or_default(),
        },
        Err(_) => {
            FunctionError { error_type: header_type(), error_message: String::from_utf8_lossy(body).into_owned() }
        }
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "status": "OK" }))).into_response()
}

fn runtime_error(status: StatusCode, error_type: &str, error_message: String) -> Response {
    let body = FunctionError { error_type: error_type.to_owned(), error_message };
    (status, Json(body)).into_response()
}

/// An X-Ray trace header in the `Root=1-{time}-{id}` form the runtime exports
/// as `_X_AMZN_TRACE_ID`.
fn new_trace_id() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("Root=1-{seconds:08x}-{:024x};Parent={:016x};Sampled=0", fastrand::u128(..) >> 32, fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reports_fall_back_to_header_and_raw_body() {
        let mut headers = HeaderMap::new();
        let parsed = error_report(&headers, br#"{"errorType":"E","errorMessage":"m"}"#);
        assert_eq!(parsed.error_type, "E");
        assert_eq!(parsed.error_message, "m");

        headers.insert("lambda-runtime-function-error-type", HeaderValue::from_static("Runtime.Custom"));
        let raw = error_report(&headers, b"not json");
        assert_eq!(raw.error_type, "Runtime.Custom");
        assert_eq!(raw.error_message, "not json");
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let id = new_trace_id();
        let root = id.strip_prefix("Root=1-").unwrap();
        let (time, rest) = root.split_once('-').unwrap();
        assert_eq!(time.len(), 8);
        assert_eq!(rest.split_once(';').unwrap().0.len(), 24);
    }
}
