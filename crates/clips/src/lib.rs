//! The core of live-clips: everything the three Lambda functions do, minus the wiring.
//!
//! - `domain`: clips, windows, ids and status transitions; pure, no I/O.
//! - `workflow`: creating clips and processing MediaPackage events, generic over `ports`.
//! - `ports`: one small trait per capability (read clips, write clips, start a harvest, VOD assets).
//! - `adapters`: those traits on DynamoDB, MediaPackage and MediaPackage VOD.
//! - `api`: Clip API v1 (request parsing, the `Clip` JSON, problem details) over lambda_http.
//! - `events`: MediaPackage EventBridge events, parsed into `events::ClipEvent`.
//! - `config`: each function's settings, read once at cold start.
//! - `error`: one error type per layer.
//! - `runtime`: what every function's `main` shares (logging, AWS clients).

pub mod adapters;
pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod ports;
pub mod runtime;
pub mod workflow;
