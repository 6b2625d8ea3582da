//! The Invoke API and the API gateway over real HTTP, in front of the
//! fixture function in its `lambda_runtime`, `lambda_http` and raw-proxy modes.

mod common;

use std::time::{Duration, Instant};

use std::net::SocketAddr;

use common::{alive, fixture, pid_of, start};
use http::Method;
use local_stack::{DEFAULT_STAGE, FunctionHost, LocalStackError, MAX_REQUEST_BYTES, Route, gateway_router};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// A gateway served the way the `local-stack` binary serves it.
pub struct Server {
    pub addr: SocketAddr,
    pub hosts: Vec<FunctionHost>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(hosts: Vec<FunctionHost>, routes: Vec<Route>) -> Self {
        let router = gateway_router(hosts.clone(), routes, "local").expect("valid routes");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self { addr, hosts, stop, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful shutdown: stop serving, then stop the functions.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
        for host in &self.hosts {
            host.shutdown().await;
        }
    }
}

async fn server() -> Server {
    let echo = start(fixture("echo", None)).await;
    let web = start(fixture("web", Some("http"))).await;
    let raw = start(fixture("raw", Some("proxy-raw"))).await;
    let routes = vec![
        Route::new(Method::GET, "/api/competitions/{competitionId}/clips/{clipId}", "web"),
        Route::new(Method::POST, "/api/competitions/{competitionId}/clips", "web"),
        Route::new(Method::from_bytes(b"ANY").unwrap(), "/files/{proxy+}", "web"),
        Route::new(Method::GET, "/fail", "web"),
        Route::new(Method::GET, "/raw/{id}", "raw"),
        Route::new(Method::POST, "/raw/{id}", "raw"),
    ];
    Server::start(vec![echo, web, raw], routes).await
}

async fn json_body(response: reqwest::Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

#[tokio::test]
async fn invoke_api_request_response_event_and_errors() {
    let server = server().await;
    let client = reqwest::Client::new();
    let invoke_url = |name: &str| server.url(&format!("/2015-03-31/functions/{name}/invocations"));

    // RequestResponse (the default): the payload comes back as the body.
    let response = client
        .post(invoke_url("echo"))
        .body(json!({ "detail-type": "HarvestJob Notification" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-amz-function-error").is_none());
    let request_id = response.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    let echo = json_body(response).await;
    assert_eq!(echo["event"]["detail-type"], "HarvestJob Notification");
    assert_eq!(echo["requestId"], request_id.as_str());

    // An ARN names the function too.
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo";
    let response = client.post(invoke_url(arn)).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A function error is a 200 flagged by X-Amz-Function-Error.
    let response = client
        .post(invoke_url("echo"))
        .body(json!({ "action": "fail", "message": "bad event" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-amz-function-error"], "Unhandled");
    assert_eq!(json_body(response).await, json!({ "errorType": "FixtureError", "errorMessage": "bad event" }));

    // Unknown function.
    let response = client.post(invoke_url("nope")).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(json_body(response).await["__type"], "ResourceNotFoundException");

    // Unknown invocation type.
    let response =
        client.post(invoke_url("echo")).header("x-amz-invocation-type", "Sometime").body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Event: 202 at once, the function runs in the background.
    let marker = std::env::temp_dir().join(format!("local-stack-event-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let started = Instant::now();
    let response = client
        .post(invoke_url("echo"))
        .header("x-amz-invocation-type", "Event")
        .body(json!({ "action": "touch", "path": marker }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert!(response.bytes().await.unwrap().is_empty());
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "event never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::remove_file(&marker).unwrap();

    server.shutdown().await;
}

#[tokio::test]
async fn gateway_builds_the_rest_api_proxy_event() {
    let server = server().await;
    let client = reqwest::Client::new();

    let response = client
        .get(server.url("/raw/clip%201?tag=a&tag=b&q=x%20y"))
        .header("x-multi", "1")
        .header("x-multi", "2")
        .header("user-agent", "tests")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let gateway_request_id = response.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    let event = json_body(response).await;
    assert_eq!(event["resource"], "/raw/{id}");
    assert_eq!(event["path"], "/raw/clip%201");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"], json!({ "id": "clip 1" }));
    assert_eq!(event["queryStringParameters"], json!({ "tag": "b", "q": "x y" }));
    assert_eq!(event["multiValueQueryStringParameters"], json!({ "tag": ["a", "b"], "q": ["x y"] }));
    assert_eq!(event["headers"]["x-multi"], "2");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["1", "2"]));
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], false);

    let context = &event["requestContext"];
    assert_eq!(context["stage"], DEFAULT_STAGE);
    assert_eq!(context["resourcePath"], "/raw/{id}");
    assert_eq!(context["path"], "/raw/clip%201");
    assert_eq!(context["httpMethod"], "GET");
    assert_eq!(context["accountId"], "000000000000");
    assert_eq!(context["requestId"], gateway_request_id.as_str());
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["identity"]["userAgent"], "tests");
    assert_eq!(context["resourceId"].as_str().unwrap().len(), 6);
    let epoch_ms = context["requestTimeEpoch"].as_i64().unwrap();
    let now_ms =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap();
    assert!((now_ms - epoch_ms).abs() < 60_000);

    // A UTF-8 body is passed as text, anything else base64-encoded.
    let text = client.post(server.url("/raw/1")).body(r#"{"title":"goal"}"#).send().await.unwrap();
    let event = json_body(text).await;
    assert_eq!(event["body"], r#"{"title":"goal"}"#);
    assert_eq!(event["isBase64Encoded"], false);

    let binary = client.post(server.url("/raw/1")).body(vec![0_u8, 0x9f, 0x92, 0x96]).send().await.unwrap();
    let event = json_body(binary).await;
    assert_eq!(event["body"], "AJ+Slg==");
    assert_eq!(event["isBase64Encoded"], true);

    server.shutdown().await;
}

#[tokio::test]
async fn gateway_serves_a_lambda_http_function() {
    let server = server().await;
    let client = reqwest::Client::new();

    let response = client
        .get(server.url("/api/competitions/comp%201/clips/clip-9?tag=a&tag=b"))
        .header("x-request", "yes")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let echo = json_body(response).await;
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["pathParameters"], json!({ "competitionId": "comp 1", "clipId": "clip-9" }));
    assert_eq!(echo["query"], json!({ "tag": ["a", "b"] }));
    assert_eq!(echo["headers"]["x-request"], json!(["yes"]));
    // lambda_http puts the stage in front of the path, as on AWS.
    assert_eq!(echo["path"], "/local/api/competitions/comp%201/clips/clip-9");
    assert_eq!(echo["requestContext"]["stage"], "local");

    // JSON body in, status code out.
    let clip = json!({ "start": "2024-05-01T12:00:00Z", "durationSeconds": 30 });
    let response = client
        .post(server.url("/api/competitions/c1/clips"))
        .header("x-fixture-status", "201")
        .json(&clip)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let echo = json_body(response).await;
    assert_eq!(echo["method"], "POST");
    let sent: Value = serde_json::from_str(echo["body"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(sent, clip);

    // Binary in and out, through a greedy ANY route.
    let bytes: Vec<u8> = (0..=255).collect();
    let response = client
        .put(server.url("/files/segments/000.ts"))
        .header("x-fixture-binary", "1")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);

    server.shutdown().await;
}

#[tokio::test]
async fn gateway_errors_look_like_api_gateway() {
    let server = server().await;
    let client = reqwest::Client::new();

    let failed = client.get(server.url("/fail")).send().await.unwrap();
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(json_body(failed).await, json!({ "message": "Internal server error" }));

    for (method, path) in [
        (reqwest::Method::GET, "/nowhere"),
        (reqwest::Method::DELETE, "/api/competitions/c1/clips/c2"),
        (reqwest::Method::GET, "/api/competitions/c1/clips/c2/extra"),
    ] {
        let response = client.request(method, server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(response.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
        assert_eq!(json_body(response).await, json!({ "message": "Missing Authentication Token" }));
    }

    let too_large = client.post(server.url("/raw/1")).body(vec![b'x'; MAX_REQUEST_BYTES + 1]).send().await.unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);

    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_leaves_no_processes() {
    let server = server().await;
    let client = reqwest::Client::new();
    let response = client.post(server.url("/2015-03-31/functions/echo/invocations")).body("{}").send().await.unwrap();
    let pid = pid_of(&json_body(response).await);
    assert!(alive(pid));

    server.shutdown().await;
    assert!(!alive(pid), "process {pid} outlived shutdown");
}

#[tokio::test]
async fn router_rejects_routes_it_cannot_serve() {
    let host = start(fixture("lonely", None)).await;
    let unknown = gateway_router([host.clone()], vec![Route::new(Method::GET, "/x", "missing")], "local");
    assert!(matches!(unknown, Err(LocalStackError::InvalidRoute { .. })));
    let bad_stage = gateway_router([host.clone()], Vec::new(), "a/b");
    assert!(matches!(bad_stage, Err(LocalStackError::InvalidStage(_))));
    host.shutdown().await;
}
