//! Conformance tests: the harvester on 127.0.0.1:0 driven by the real `aws-sdk-mediapackage`
//! and `aws-sdk-mediapackagevod` clients, with real media and an in-test event target. One
//! test binary, so the SDKs are linked once.

mod delete;
mod errors;
mod events;
mod ingest;
mod live;
mod origin;
mod restart;
mod s3;
mod support;
mod tags;
mod vod;
