//! The small interfaces the core asks of the outside world, one per capability, so each function
//! depends on exactly what it uses and each can be served by the real AWS adapter or a local one.

use std::future::Future;

use crate::domain::{Clip, ClipId, ClipKey, ClipStatus, ClipWindow, CompetitionId, Playback};
use crate::error::{HarvestError, StoreError, VodError};

/// A clip as stored, with the version its next conditional write must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClip {
    pub clip: Clip,
    pub version: u64,
}

/// One page of a competition's clips, in sort-key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipQuery {
    pub competition: CompetitionId,
    pub limit: u16,
    /// Exclusive start: the last clip id of the previous page.
    pub after: Option<ClipId>,
    pub newest_first: bool,
    pub status: Option<ClipStatus>,
    /// Inclusive bounds on the clip's start, at whole-second precision (the id's precision).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipPage {
    pub clips: Vec<Clip>,
    /// Where the next page starts, when the store says there may be one.
    pub last_evaluated: Option<ClipId>,
}

pub trait ReadClips: Send + Sync {
    fn get(&self, key: &ClipKey) -> impl Future<Output = Result<Option<StoredClip>, StoreError>> + Send;
    fn query(&self, query: &ClipQuery) -> impl Future<Output = Result<ClipPage, StoreError>> + Send;
}

/// Clips that are not final and have not changed since `updated_before`, oldest first: the ones
/// whose events may have been lost.
pub trait FindStaleClips: Send + Sync {
    fn stale(
        &self,
        updated_before: chrono::DateTime<chrono::Utc>,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<StoredClip>, StoreError>> + Send;
}

/// Everything event processing asks of the clips table.
pub trait ClipStore: ReadClips + WriteClips + FindStaleClips {}

impl<T: ReadClips + WriteClips + FindStaleClips> ClipStore for T {}

/// Outcome of a conditional write that lost to another writer (or a repeat of itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Written,
    /// The condition failed: the item exists already, or changed since it was read.
    Conflict,
}

pub trait WriteClips: Send + Sync {
    /// Stores a new clip at version 1 unless its key exists.
    fn insert(&self, clip: &Clip) -> impl Future<Output = Result<Written, StoreError>> + Send;
    /// Replaces the clip if it is still at `expected_version`.
    fn replace(&self, clip: &Clip, expected_version: u64) -> impl Future<Output = Result<Written, StoreError>> + Send;
}

/// What an `Idempotency-Key` was first used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    /// A digest of the request body the key was first used with.
    pub fingerprint: String,
    pub clip: ClipKey,
    /// The window the clip was resolved to, so a replay after a crash harvests the same window
    /// rather than one re-resolved from a later "now".
    pub window: ClipWindow,
}

pub trait Idempotency: Send + Sync {
    /// Records `record` unless its key is taken; returns what the key is bound to either way.
    fn claim(&self, record: &IdempotencyRecord) -> impl Future<Output = Result<IdempotencyRecord, StoreError>> + Send;
}

/// What the core asks MediaPackage to harvest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestRequest {
    pub job_id: ClipId,
    pub window: ClipWindow,
    pub manifest_key: String,
}

pub trait StartHarvest: Send + Sync {
    /// Starts the harvest job; starting the same job again is not an error.
    fn start_harvest(&self, request: &HarvestRequest) -> impl Future<Output = Result<(), HarvestError>> + Send;
}

/// Where MediaPackage says a harvest job is, for clips whose notification never came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarvestJobState {
    InProgress,
    Succeeded {
        bucket: String,
        manifest_key: String,
    },
    Failed,
    /// No such job: the request to start it never reached MediaPackage.
    Missing,
}

pub trait HarvestJobStatus: Send + Sync {
    fn harvest_job_state(&self, job_id: &ClipId) -> impl Future<Output = Result<HarvestJobState, HarvestError>> + Send;
}

/// A VOD asset as far as clips care: where it came from and how it plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetDescription {
    /// The S3 key of the harvested manifest the asset was made from.
    pub source_key: String,
    pub playback: Vec<Playback>,
}

pub trait VodAssets: Send + Sync {
    /// Creates the asset for a harvested manifest; an existing asset of the same id is described
    /// instead, so a repeated event is harmless.
    fn create_asset(
        &self,
        id: &ClipId,
        bucket: &str,
        manifest_key: &str,
    ) -> impl Future<Output = Result<AssetDescription, VodError>> + Send;
    fn describe_asset(&self, id: &str) -> impl Future<Output = Result<Option<AssetDescription>, VodError>> + Send;
}
