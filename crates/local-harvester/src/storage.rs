//! Buckets: where harvests are written and VOD assets are read from.
//!
//! By default a bucket is a folder, `{data_dir}/buckets/{bucket}/{key}`, with S3's key layout.
//! With an S3 endpoint configured (any S3-compatible server), objects go through `aws-sdk-s3`
//! instead, so the rest of a local setup (players, other tools) can read the clips from a real
//! S3 API. Harvests and VOD ingest see only the four operations below.

use std::path::PathBuf;

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use url::Url;

use crate::HarvesterError;
use crate::live::SegmentBytes;
use crate::model::S3Object;
use crate::store::write_atomic;

/// An S3-compatible service to keep the buckets in, instead of folders.
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    /// Base URL of the service, e.g. `http://127.0.0.1:4568`; buckets are addressed path-style
    /// (`{url}/{bucket}/{key}`), which every S3-compatible server understands without DNS.
    pub url: Url,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The buckets of one harvester.
#[derive(Debug, Clone)]
pub enum Storage {
    /// The folder holding one folder per bucket.
    Folder(PathBuf),
    S3(aws_sdk_s3::Client),
}

impl Storage {
    /// Buckets under `data_dir`, or at `s3` when given; `region` signs the S3 requests.
    pub fn new(data_dir: &std::path::Path, s3: Option<&S3Endpoint>, region: &str) -> Self {
        let Some(s3) = s3 else { return Self::Folder(data_dir.join("buckets")) };
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(s3.url.as_str().trim_end_matches('/'))
            .force_path_style(true)
            .credentials_provider(Credentials::new(&s3.access_key_id, &s3.secret_access_key, None, None, "harvester"))
            // S3-compatible servers do not all take the SDK's default trailing checksums
            // (`aws-chunked` uploads); plain signed requests work everywhere.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self::S3(aws_sdk_s3::Client::from_conf(config))
    }

    /// The file an object is kept in; bucket and key are validated on the way in, so it stays
    /// inside the buckets folder.
    fn path(root: &std::path::Path, object: &S3Object) -> PathBuf {
        root.join(&object.bucket).join(&object.key)
    }

    /// Stores segments, stopping at the first that cannot be stored. In a folder each is written
    /// in place (a segment is only found through the playlist written after it, so nobody reads
    /// one half-written), all of them on one blocking thread: a long harvest writes a hundred
    /// thousand small files, and handing each to the blocking pool on its own cost more than
    /// writing it. In S3 up to [`S3_UPLOADS_IN_FLIGHT`] are sent at once.
    ///
    /// # Errors
    /// A segment cannot be read or stored.
    pub async fn put_segments(&self, segments: Vec<(S3Object, SegmentBytes)>) -> Result<(), HarvesterError> {
        match self {
            Self::Folder(root) => {
                let files: Vec<(PathBuf, SegmentBytes)> =
                    segments.into_iter().map(|(object, bytes)| (Self::path(root, &object), bytes)).collect();
                tokio::task::spawn_blocking(move || write_files(&files)).await.unwrap_or_else(|e| {
                    Err(HarvesterError::io(root.clone())(std::io::Error::other(format!("the writer stopped: {e}"))))
                })
            }
            Self::S3(client) => {
                let mut in_flight = tokio::task::JoinSet::new();
                let mut outcome = Ok(());
                for (object, bytes) in segments {
                    if in_flight.len() >= S3_UPLOADS_IN_FLIGHT {
                        outcome = finished(in_flight.join_next().await);
                        if outcome.is_err() {
                            break;
                        }
                    }
                    let client = client.clone();
                    in_flight.spawn(async move { put_segment(&client, &object, &bytes).await });
                }
                while outcome.is_ok()
                    && let Some(upload) = in_flight.join_next().await
                {
                    outcome = finished(Some(upload));
                }
                outcome
            }
        }
    }

    /// Stores a whole object so that readers see the old one or the new one, never a part.
    ///
    /// # Errors
    /// The object cannot be stored.
    pub async fn put(&self, object: &S3Object, bytes: Vec<u8>) -> Result<(), HarvesterError> {
        match self {
            Self::Folder(root) => write_atomic(&Self::path(root, object), &bytes).await,
            Self::S3(client) => put_object(client, object, ByteStream::from(bytes)).await,
        }
    }

    /// The object's bytes, or `None` when it does not exist.
    ///
    /// # Errors
    /// The object exists (or may) but cannot be read.
    pub async fn get(&self, object: &S3Object) -> Result<Option<Bytes>, HarvesterError> {
        match self {
            Self::Folder(root) => {
                let path = Self::path(root, object);
                match tokio::fs::read(&path).await {
                    Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(HarvesterError::io(&path)(e)),
                }
            }
            Self::S3(client) => {
                let sent = client.get_object().bucket(&object.bucket).key(&object.key).send().await;
                match sent {
                    Ok(output) => {
                        let body = output.body.collect().await.map_err(|e| s3_error(object, e))?;
                        Ok(Some(body.into_bytes()))
                    }
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
                    Err(e) => Err(s3_error(object, e)),
                }
            }
        }
    }

    /// Whether the object exists.
    ///
    /// # Errors
    /// The answer cannot be had.
    pub async fn exists(&self, object: &S3Object) -> Result<bool, HarvesterError> {
        match self {
            Self::Folder(root) => {
                let path = Self::path(root, object);
                tokio::fs::try_exists(&path).await.map_err(HarvesterError::io(&path))
            }
            Self::S3(client) => match client.head_object().bucket(&object.bucket).key(&object.key).send().await {
                Ok(_) => Ok(true),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
                Err(e) => Err(s3_error(object, e)),
            },
        }
    }
}

async fn put_object(client: &aws_sdk_s3::Client, object: &S3Object, body: ByteStream) -> Result<(), HarvesterError> {
    client
        .put_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .body(body)
        .send()
        .await
        .map_err(|e| s3_error(object, e))?;
    Ok(())
}

/// How many segment uploads one harvest keeps going at once: enough to hide an S3 round trip
/// behind the others, few enough not to be throttled.
const S3_UPLOADS_IN_FLIGHT: usize = 16;

async fn put_segment(
    client: &aws_sdk_s3::Client,
    object: &S3Object,
    bytes: &SegmentBytes,
) -> Result<(), HarvesterError> {
    let body = match bytes {
        SegmentBytes::Shared(bytes) => ByteStream::from(bytes.clone()),
        SegmentBytes::File(path) => ByteStream::from_path(path.as_ref()).await.map_err(|e| s3_error(object, e))?,
    };
    put_object(client, object, body).await
}

/// The outcome of an upload task; `None` (no task left) is success.
fn finished(upload: Option<Result<Result<(), HarvesterError>, tokio::task::JoinError>>) -> Result<(), HarvesterError> {
    match upload {
        None => Ok(()),
        Some(Ok(outcome)) => outcome,
        Some(Err(e)) => {
            Err(HarvesterError::S3 { object: "a segment".to_owned(), message: format!("the upload stopped: {e}") })
        }
    }
}

/// Writes each file in place, creating each folder once.
fn write_files(files: &[(PathBuf, SegmentBytes)]) -> Result<(), HarvesterError> {
    let mut folder_made: Option<&std::path::Path> = None;
    for (path, bytes) in files {
        if let Some(parent) = path.parent()
            && folder_made != Some(parent)
        {
            std::fs::create_dir_all(parent).map_err(HarvesterError::io(parent))?;
            folder_made = Some(parent);
        }
        bytes.write_blocking(path).map_err(HarvesterError::io(path))?;
    }
    Ok(())
}

fn s3_error(object: &S3Object, error: impl std::error::Error) -> HarvesterError {
    // The SDK's error says little on its own ("service error"); its context names the cause.
    let message = aws_sdk_s3::error::DisplayErrorContext(error).to_string();
    HarvesterError::S3 { object: format!("s3://{}/{}", object.bucket, object.key), message }
}
