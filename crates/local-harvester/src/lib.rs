//! An offline stand-in for AWS Elemental MediaPackage (v1 live: channels, origin endpoints,
//! harvest jobs) and MediaPackage VOD (packaging groups, packaging configurations, assets)
//! that really harvests HLS.
//!
//! The unmodified AWS SDKs talk to it (point `endpoint_url`, or
//! `AWS_ENDPOINT_URL_MEDIAPACKAGE` / `AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD`, at it): same REST
//! paths, camelCase JSON, status codes and error shapes. Both APIs, the live origin and the VOD
//! egress share one HTTP server. A built-in demo channel loops bundled sample media (H.264 +
//! AAC in MPEG-TS, two renditions) as a live stream with advancing program date time, so
//! harvest jobs cut real video; finished jobs and VOD ingests are announced as
//! EventBridge-shaped events POSTed to configured targets (e.g. a Lambda Invoke API).
//!
//! Layout:
//! - [`serve`] (`server.rs`): lifecycle, shared context, start-up and resumption.
//! - `api/`: the REST operations, one module per resource (and `tags.rs` for both APIs' tag
//!   operations), with AWS-cased DTOs; `api/error.rs` is AWS's error shape.
//! - `live/`: the per-channel segment buffer, its sources (the demo loop, and `ingest.rs`: HLS
//!   pushed by an encoder over HTTP PUT, MPEG-TS or fMP4/CMAF) and the live origin.
//! - `harvest.rs`: harvest rules, segment selection and VOD output; `hls.rs`: typed playlists.
//! - `vod.rs`: asset ingest and egress. `events.rs`: event shapes and at-least-once delivery.
//! - `model.rs`: internal records; `store.rs`: the persisted state; `storage.rs`: the buckets
//!   (folders, or an S3-compatible service);
//!   `validate.rs`: input rules that also keep ids and keys inside the data directory.

mod api;
#[doc(hidden)]
pub mod bench;
mod body;
mod config;
mod error;
mod events;
mod harvest;
mod hls;
mod live;
mod model;
mod server;
mod storage;
mod store;
mod validate;
mod vod;

pub use config::HarvesterConfig;
pub use error::HarvesterError;
pub use server::{serve, serve_with_s3};
pub use storage::S3Endpoint;

/// Id of the demo channel created by `HarvesterConfig::demo`.
pub const DEMO_CHANNEL_ID: &str = "demo";
/// Id of the demo channel's HLS origin endpoint (startover window one hour, manifest `index`).
pub const DEMO_ORIGIN_ENDPOINT_ID: &str = "demo-hls";
