//! Runs the live-clips Lambda functions on one machine the way AWS runs them.
//!
//! The function binaries are the real, unmodified release artefacts: they only
//! see `AWS_LAMBDA_RUNTIME_API` and the usual Lambda environment, and run the
//! same `lambda_runtime` code path as in the cloud. Around them this crate
//! provides the two AWS front doors the project uses:
//!
//! - [`runtime`]: a [`FunctionHost`] per function spawns the binary, serves it
//!   an emulated Lambda Runtime API, queues invocations across a configurable
//!   number of instances, enforces the timeout and restarts crashed processes.
//! - `invoke`: the Lambda Invoke API (`POST
//!   /2015-03-31/functions/{name}/invocations`) that event producers such as
//!   the local MediaPackage stand-in call, as they would `cargo lambda watch`.
//! - [`gateway`]: an API Gateway REST API (Lambda proxy, payload format 1.0)
//!   turning HTTP requests into `ApiGatewayProxyRequest` events, and
//!   [`gateway_router`], the one axum router serving both HTTP surfaces.
//! - [`stack`]: the whole local stack (dynalite, the local harvester, the three functions behind
//!   the gateway), shared by the `local-stack` binary and the end-to-end tests.
//! - [`site`]: the clip studio (the web frontend) and its settings, for merging into the
//!   gateway router.
//! - [`dynamodb_faults`]: a proxy that makes a share of the functions' DynamoDB calls fail, as
//!   DynamoDB's throttling does.
//! - [`error`]: the crate's one error type.
//!
//! Wiring, as the `local-stack` binary does it:
//!
//! ```no_run
//! # async fn wire(shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! use local_stack::{FunctionHost, FunctionSpec, Route, gateway_router};
//! use std::net::SocketAddr;
//!
//! let clips = FunctionHost::start(FunctionSpec::new("list-clips", "target/debug/list-clips")).await?;
//! let routes = vec![Route::new(http::Method::GET, "/api/competitions/{competitionId}/clips", "list-clips")];
//! let router = gateway_router([clips.clone()], routes, local_stack::DEFAULT_STAGE)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
//!     .with_graceful_shutdown(shutdown)
//!     .await?;
//! clips.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod dynamodb_faults;
pub mod error;
pub mod gateway;
mod invoke;
pub mod runtime;
pub mod site;
pub mod stack;

pub use error::LocalStackError;
pub use gateway::{DEFAULT_STAGE, MAX_REQUEST_BYTES, Route, gateway_router};
pub use runtime::{
    DEFAULT_REGION, FunctionError, FunctionHost, FunctionSpec, Invocation, MAX_PAYLOAD_BYTES, Outcome,
    QueuedInvocation, Timings,
};

/// The account id in every ARN and request context this stack reports.
pub const ACCOUNT_ID: &str = "000000000000";
