//! The function host against a real `lambda_runtime` function: round trips,
//! failures, crashes, timeouts, concurrency and process lifecycle.

mod common;

use std::time::{Duration, Instant};

use common::{alive, fixture, pid_of, start};
use local_stack::{FunctionHost, LocalStackError, MAX_PAYLOAD_BYTES, Outcome};
use serde_json::{Value, json};

/// Invokes with a JSON payload and returns the JSON response, panicking on a
/// function error.
async fn invoke_json(host: &FunctionHost, payload: Value) -> Value {
    let invocation = host.invoke(serde_json::to_vec(&payload).unwrap().into()).await.expect("invocation completes");
    match invocation.outcome {
        Outcome::Response(body) => serde_json::from_slice(&body).expect("JSON response"),
        Outcome::FunctionError(error) => panic!("unexpected function error: {error:?}"),
    }
}

/// Polls `alive` until it is false or `within` has passed.
async fn wait_dead(pid: u32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while alive(pid) {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Invokes and returns the function error, panicking on a response.
async fn function_error(host: &FunctionHost, payload: Value) -> local_stack::FunctionError {
    let invocation = host.invoke(serde_json::to_vec(&payload).unwrap().into()).await.expect("invocation completes");
    match invocation.outcome {
        Outcome::FunctionError(error) => error,
        Outcome::Response(body) => panic!("expected an error, got {}", String::from_utf8_lossy(&body)),
    }
}

#[tokio::test]
async fn round_trip_delivers_event_context_and_environment() {
    let mut spec = fixture("echo", None);
    spec.env.push(("FIXTURE_GREETING".into(), "hello".into()));
    spec.region = "eu-west-1".into();
    let host = start(spec).await;

    let payload = json!({ "clipId": "c-1", "nested": [1, 2] });
    let started = std::time::SystemTime::now();
    let invocation = host.invoke(serde_json::to_vec(&payload).unwrap().into()).await.unwrap();
    let Outcome::Response(body) = &invocation.outcome else {
        panic!("unexpected {:?}", invocation.outcome);
    };
    let echo: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(echo["event"], payload);
    assert_eq!(echo["requestId"], invocation.request_id.as_str());
    assert_eq!(echo["functionArn"], "arn:aws:lambda:eu-west-1:000000000000:function:echo");
    assert!(echo["traceId"].as_str().unwrap().starts_with("Root=1-"));
    let deadline = std::time::UNIX_EPOCH + Duration::from_millis(echo["deadlineMs"].as_u64().unwrap());
    let budget = deadline.duration_since(started).unwrap();
    assert!(budget > Duration::from_secs(29) && budget <= Duration::from_secs(31), "{budget:?}");

    let env = &echo["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["FIXTURE_GREETING"], "hello");
    assert_eq!(env["HOME"], serde_json::Value::Null, "host environment must not leak");

    // The first invocation of a process reports its cold start, later ones do not.
    assert!(invocation.timings.init.is_some());
    let again = host.invoke("{}".into()).await.unwrap();
    assert_eq!(again.timings.init, None);
    assert_ne!(again.request_id, invocation.request_id);

    host.shutdown().await;
}

#[tokio::test]
async fn function_error_and_panic_are_reported_without_restart() {
    let host = start(fixture("failing", None)).await;
    let pid = pid_of(&invoke_json(&host, json!({})).await);

    let error = function_error(&host, json!({ "action": "fail", "message": "no such clip" })).await;
    assert_eq!(error.error_type, "FixtureError");
    assert_eq!(error.error_message, "no such clip");

    let panicked = function_error(&host, json!({ "action": "panic" })).await;
    assert!(panicked.error_message.contains("fixture asked to panic"), "{panicked:?}");

    // lambda_runtime survives both: the same process serves the next event.
    assert_eq!(pid_of(&invoke_json(&host, json!({})).await), pid);
    host.shutdown().await;
}

#[tokio::test]
async fn crashed_process_fails_its_invocation_and_is_replaced() {
    let host = start(fixture("crashing", None)).await;
    let first = pid_of(&invoke_json(&host, json!({})).await);

    let error = function_error(&host, json!({ "action": "exit", "code": 3 })).await;
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(error.error_message.contains("exit status: 3"), "{error:?}");

    let replacement = invoke_json(&host, json!({})).await;
    assert_ne!(pid_of(&replacement), first);
    assert!(wait_dead(first, Duration::from_secs(5)).await);
    host.shutdown().await;
}

#[tokio::test]
async fn timeout_fails_the_invocation_and_replaces_the_process() {
    let mut spec = fixture("slow", None);
    spec.timeout = Duration::from_millis(500);
    let host = start(spec).await;
    let first = pid_of(&invoke_json(&host, json!({})).await);

    let started = Instant::now();
    let invocation = host.invoke(json!({ "action": "sleep", "ms": 10_000 }).to_string().into()).await.unwrap();
    let elapsed = started.elapsed();
    let Outcome::FunctionError(error) = invocation.outcome else {
        panic!("expected a timeout");
    };
    assert_eq!(error.error_type, "Sandbox.Timedout");
    assert!(error.error_message.contains("Task timed out after 0.50 seconds"), "{error:?}");
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(invocation.timings.duration >= Duration::from_millis(500));

    // The timed-out process is killed, not left running the old event.
    assert!(wait_dead(first, Duration::from_secs(5)).await);
    let replacement = invoke_json(&host, json!({})).await;
    assert_ne!(pid_of(&replacement), first);
    host.shutdown().await;
}

#[tokio::test]
async fn concurrency_runs_instances_in_parallel() {
    let mut spec = fixture("parallel", None);
    spec.concurrency = 2;
    let host = start(spec).await;
    // Let both instances initialise so the measurement is of the handler only.
    let _ = tokio::join!(
        invoke_json(&host, json!({ "action": "sleep", "ms": 200 })),
        invoke_json(&host, json!({ "action": "sleep", "ms": 200 }))
    );

    let started = Instant::now();
    let sleep = json!({ "action": "sleep", "ms": 800 });
    let (a, b) = tokio::join!(invoke_json(&host, sleep.clone()), invoke_json(&host, sleep));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "ran serially: {elapsed:?}");
    assert_ne!(pid_of(&a), pid_of(&b));
    host.shutdown().await;
}

#[tokio::test]
async fn a_single_instance_queues_invocations() {
    let host = start(fixture("serial", None)).await;
    invoke_json(&host, json!({})).await;

    let sleep = json!({ "action": "sleep", "ms": 400 }).to_string();
    let started = Instant::now();
    let (a, b) = tokio::join!(host.invoke(sleep.clone().into()), host.invoke(sleep.into()));
    assert!(started.elapsed() >= Duration::from_millis(800));
    let (a, b) = (a.unwrap(), b.unwrap());
    let waited = a.timings.queued.max(b.timings.queued);
    assert!(waited >= Duration::from_millis(350), "{waited:?}");
    host.shutdown().await;
}

#[tokio::test]
async fn init_failure_fails_the_waiting_invocation() {
    let host = start(fixture("broken", Some("fail-init"))).await;
    let invocation = tokio::time::timeout(Duration::from_secs(10), host.invoke("{}".into()))
        .await
        .expect("an init failure must not leave the caller waiting")
        .unwrap();
    let Outcome::FunctionError(error) = invocation.outcome else {
        panic!("expected an init failure");
    };
    assert_eq!(error.error_type, "Runtime.ExitError");
    assert!(invocation.timings.init.is_some());
    host.shutdown().await;
}

#[tokio::test]
async fn oversized_payload_is_rejected_before_queueing() {
    let host = start(fixture("limits", None)).await;
    let payload = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(host.invoke(payload.into()).await, Err(LocalStackError::PayloadTooLarge { .. })));
    host.shutdown().await;
}

#[tokio::test]
async fn shutdown_kills_every_process_and_fails_queued_invocations() {
    let mut spec = fixture("stopping", None);
    spec.concurrency = 2;
    let host = start(spec).await;
    let sleep = json!({ "action": "sleep", "ms": 300 });
    let (a, b) = tokio::join!(invoke_json(&host, sleep.clone()), invoke_json(&host, sleep));
    let pids = [pid_of(&a), pid_of(&b)];

    let long = json!({ "action": "sleep", "ms": 30_000 }).to_string();
    let busy: Vec<_> = (0..3).map(|_| host.enqueue(long.clone().into()).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    host.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived shutdown");
    }
    for queued in busy {
        assert!(matches!(queued.wait().await, Err(LocalStackError::ShuttingDown(_))));
    }
    assert!(matches!(host.invoke("{}".into()).await, Err(LocalStackError::ShuttingDown(_))));
}

#[tokio::test]
async fn dropping_the_host_kills_its_processes() {
    let host = start(fixture("dropped", None)).await;
    let pid = pid_of(&invoke_json(&host, json!({})).await);
    drop(host);
    assert!(wait_dead(pid, Duration::from_secs(5)).await, "process {pid} orphaned");
}

#[tokio::test]
async fn unusable_specs_and_binaries_are_rejected() {
    let mut spec = fixture("zero", None);
    spec.concurrency = 0;
    assert!(matches!(FunctionHost::start(spec).await, Err(LocalStackError::InvalidSpec { .. })));
    let missing = local_stack::FunctionSpec::new("missing", "/nonexistent/bootstrap");
    assert!(matches!(FunctionHost::start(missing).await, Err(LocalStackError::Spawn { .. })));
}
