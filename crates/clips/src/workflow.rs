//! The clip workflow: creating a clip and moving it along as MediaPackage reports progress.
//! Everything here is generic over the ports, so the same code runs against AWS and the local
//! stand-ins.

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::config::{CreateClipConfig, ProcessConfig};
use crate::domain::{Clip, ClipFact, ClipKey, ClipStatus, CompetitionId, PlaybackStatus, WindowRequest};
use crate::error::{ClipError, EventError, HarvestError, StoreError, VodError};
use crate::events::ClipEvent;
use crate::ports::{
    ClipStore, HarvestJobState, HarvestJobStatus, HarvestRequest, Idempotency, IdempotencyRecord, ReadClips,
    StartHarvest, VodAssets, WriteClips, Written,
};

/// A validated POST /api/clip body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClip {
    pub competition: CompetitionId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub window: WindowRequest,
}

/// The `Idempotency-Key` of a request and a digest of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// Stores the clip as HARVESTING, then asks MediaPackage to harvest it. The record comes first so
/// that whatever happens to the job, the clip and its context exist to be updated; a refused job
/// leaves the clip FAILED with the reason.
///
/// # Errors
/// Invalid windows, a reused idempotency key, a refused or unreachable harvest, a store outage.
pub async fn create_clip<S, H>(
    store: &S,
    harvester: &H,
    config: &CreateClipConfig,
    request: NewClip,
    idempotency: Option<IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Clip, ClipError>
where
    S: ReadClips + WriteClips + Idempotency,
    H: StartHarvest,
{
    let window = request.window.resolve(now, &config.rules).map_err(ClipError::Invalid)?;
    let mut clip = Clip::harvesting(request.competition, request.title, request.description, window, now);
    if let Some(idempotency) = idempotency {
        let record = IdempotencyRecord {
            key: idempotency.key,
            fingerprint: idempotency.fingerprint,
            clip: ClipKey { competition: clip.competition.clone(), id: clip.id.clone() },
            window,
        };
        let bound = store.claim(&record).await?;
        if bound.fingerprint != record.fingerprint {
            return Err(ClipError::IdempotencyKeyReused);
        }
        if bound.clip != record.clip {
            match store.get(&bound.clip).await? {
                // A replay of a request that got past its harvest call: answer as it was answered.
                Some(stored) if stored.clip.status != ClipStatus::Harvesting => return Ok(stored.clip),
                // A replay of one that may have stopped before or during the harvest call:
                // finish it (starting the same harvest job again is harmless).
                Some(stored) => clip = stored.clip,
                None => {
                    clip.id = bound.clip.id;
                    clip.window = bound.window;
                }
            }
        }
    }
    // A conflict means a concurrent replay stored the same clip first; go on with the harvest.
    store.insert(&clip).await?;
    let key = ClipKey { competition: clip.competition.clone(), id: clip.id.clone() };
    let request = HarvestRequest {
        job_id: clip.id.clone(),
        window: clip.window,
        manifest_key: key.manifest_key(&config.destination.prefix),
    };
    match harvester.start_harvest(&request).await {
        Ok(()) => {
            info!(clip = %clip.id, competition = %clip.competition, "harvest job started");
            Ok(clip)
        }
        Err(HarvestError::Refused(reason)) => {
            let failed = fail(store, &key, format!("MediaPackage refused the harvest job: {reason}"), now).await?;
            Err(ClipError::HarvestRefused { clip: Box::new(failed), reason })
        }
        Err(HarvestError::Unavailable(source)) => {
            let reason = "MediaPackage could not be reached to start the harvest job".to_owned();
            let failed = fail(store, &key, reason, now).await?;
            Err(ClipError::HarvestUnavailable { clip: Box::new(failed), source })
        }
    }
}

async fn fail<S: ReadClips + WriteClips>(
    store: &S,
    key: &ClipKey,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Clip, StoreError> {
    match apply_fact(store, key, &ClipFact::Failed { reason }, now).await? {
        Applied::Changed(clip) | Applied::Unchanged(clip) => Ok(clip),
        Applied::Missing => Err(StoreError::Corrupt(format!("clip {} vanished while being failed", key.id))),
    }
}

/// What became of a fact applied to a stored clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Changed(Clip),
    /// The fact was a repeat or would have moved the clip backwards.
    Unchanged(Clip),
    Missing,
}

/// How many times a conditional update is retried when another writer got there first.
const MAX_WRITE_ATTEMPTS: usize = 8;

/// Applies `fact` to the stored clip with an optimistic, versioned write, re-reading on conflict.
///
/// # Errors
/// A store outage, or more concurrent writers than `MAX_WRITE_ATTEMPTS` can outlast.
pub async fn apply_fact<S: ReadClips + WriteClips>(
    store: &S,
    key: &ClipKey,
    fact: &ClipFact,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let Some(stored) = store.get(key).await? else { return Ok(Applied::Missing) };
        let Some(next) = stored.clip.apply(fact, now) else { return Ok(Applied::Unchanged(stored.clip)) };
        if store.replace(&next, stored.version).await? == Written::Written {
            info!(clip = %key.id, competition = %key.competition, status = next.status.as_str(), "clip updated");
            return Ok(Applied::Changed(next));
        }
    }
    Err(StoreError::Unavailable(format!("clip {} kept changing under {MAX_WRITE_ATTEMPTS} attempts", key.id).into()))
}

/// What processing one event did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Updated(ClipStatus),
    Unchanged(ClipStatus),
    Ignored(String),
    /// A reconciliation run: how many stranded clips it looked at and how many it moved.
    Reconciled {
        examined: usize,
        changed: usize,
    },
}

/// What an event asks of the store.
enum Step {
    Apply(ClipKey, ClipFact),
    Done(Processed),
}

/// How many stranded clips one reconciliation run looks at; the next run takes the rest.
const RECONCILE_BATCH: u16 = 100;

/// Moves the clip an event is about. Safe to call any number of times with the same event, in
/// any order with the others.
///
/// # Errors
/// Only what a retry can fix: store or VOD outages. Events that are foreign, malformed or about
/// clips that do not exist are `Processed::Ignored`.
pub async fn process_event<S, V, J>(
    store: &S,
    vod: &V,
    jobs: &J,
    config: &ProcessConfig,
    event: ClipEvent,
    now: DateTime<Utc>,
) -> Result<Processed, EventError>
where
    S: ClipStore,
    V: VodAssets,
    J: HarvestJobStatus,
{
    let destination = &config.destination;
    let ours = |bucket: &str, manifest_key: &str| {
        (bucket == destination.bucket)
            .then(|| ClipKey::from_manifest_key(&destination.prefix, manifest_key))
            .flatten()
            .ok_or_else(|| Processed::Ignored(format!("s3://{bucket}/{manifest_key} is not a clip of ours")))
    };
    let step = match event {
        ClipEvent::Ignored(reason) => Step::Done(Processed::Ignored(reason)),
        ClipEvent::Reconcile => return reconcile(store, vod, jobs, config, now).await,
        ClipEvent::HarvestFailed { bucket, manifest_key, message, .. } => match ours(&bucket, &manifest_key) {
            Ok(key) => Step::Apply(key, ClipFact::Failed { reason: message }),
            Err(ignored) => Step::Done(ignored),
        },
        ClipEvent::Harvested { bucket, manifest_key, .. } => match ours(&bucket, &manifest_key) {
            Ok(key) => harvested(store, vod, key, &bucket, &manifest_key).await?,
            Err(ignored) => Step::Done(ignored),
        },
        ClipEvent::AssetPlayable { asset_id, packaging_configuration_id } => {
            match describe(vod, config, &asset_id).await? {
                Some((key, mut asset)) => {
                    // The event is newer news than the description for its own endpoint.
                    asset
                        .playback
                        .iter_mut()
                        .filter(|p| p.packaging_configuration_id == packaging_configuration_id)
                        .for_each(|p| p.status = PlaybackStatus::Playable);
                    Step::Apply(key, ClipFact::Packaging { playback: asset.playback })
                }
                None => Step::Done(Processed::Ignored(format!("asset {asset_id} is not a clip of ours"))),
            }
        }
        ClipEvent::AssetFailed { asset_id, message } => match describe(vod, config, &asset_id).await? {
            Some((key, _)) => Step::Apply(
                key,
                ClipFact::Failed { reason: format!("MediaPackage VOD could not ingest the clip: {message}") },
            ),
            None => Step::Done(Processed::Ignored(format!("asset {asset_id} is not a clip of ours"))),
        },
    };
    match step {
        Step::Done(processed) => Ok(processed),
        Step::Apply(key, fact) => match apply_fact(store, &key, &fact, now).await? {
            Applied::Missing => Ok(Processed::Ignored(format!("no clip {}", key.id))),
            Applied::Changed(clip) => Ok(Processed::Updated(clip.status)),
            Applied::Unchanged(clip) => Ok(Processed::Unchanged(clip.status)),
        },
    }
}

/// The harvest is in the bucket: create the VOD asset, unless the clip is past that already.
async fn harvested<S: ReadClips, V: VodAssets>(
    store: &S,
    vod: &V,
    key: ClipKey,
    bucket: &str,
    manifest_key: &str,
) -> Result<Step, EventError> {
    let Some(stored) = store.get(&key).await? else {
        return Ok(Step::Done(Processed::Ignored(format!("no clip {}", key.id))));
    };
    if stored.clip.status != ClipStatus::Harvesting {
        return Ok(Step::Done(Processed::Unchanged(stored.clip.status)));
    }
    let fact = match vod.create_asset(&key.id, bucket, manifest_key).await {
        Ok(asset) => ClipFact::Packaging { playback: asset.playback },
        Err(VodError::Refused(reason)) => {
            ClipFact::Failed { reason: format!("MediaPackage VOD refused the asset: {reason}") }
        }
        Err(err) => return Err(err.into()),
    };
    Ok(Step::Apply(key, fact))
}

/// Asks MediaPackage about clips that have waited longer than `reconcile_after` for an event:
/// MediaPackage emits events on a best-effort basis, so one may never come. A clip whose
/// lookup fails is left for the next run rather than failing the others.
async fn reconcile<S, V, J>(
    store: &S,
    vod: &V,
    jobs: &J,
    config: &ProcessConfig,
    now: DateTime<Utc>,
) -> Result<Processed, EventError>
where
    S: ClipStore,
    V: VodAssets,
    J: HarvestJobStatus,
{
    let stale = store.stale(now - config.reconcile_after, RECONCILE_BATCH).await?;
    let mut changed = 0;
    for stored in &stale {
        let clip = &stored.clip;
        let key = ClipKey { competition: clip.competition.clone(), id: clip.id.clone() };
        let step = match clip.status {
            ClipStatus::Harvesting => match jobs.harvest_job_state(&clip.id).await {
                Ok(HarvestJobState::InProgress) => continue,
                Ok(HarvestJobState::Succeeded { bucket, manifest_key }) => {
                    harvested(store, vod, key, &bucket, &manifest_key).await?
                }
                Ok(HarvestJobState::Failed) => Step::Apply(
                    key,
                    ClipFact::Failed {
                        reason: "MediaPackage reports the harvest job FAILED (its notification was lost)".into(),
                    },
                ),
                Ok(HarvestJobState::Missing) => {
                    Step::Apply(key, ClipFact::Failed { reason: "The harvest job was never started".into() })
                }
                Err(err) => {
                    warn!(clip = %clip.id, error = &err as &dyn std::error::Error, "harvest job lookup failed; retrying next run");
                    continue;
                }
            },
            ClipStatus::Packaging => match vod.describe_asset(clip.id.as_str()).await {
                Ok(Some(asset)) => Step::Apply(key, ClipFact::Packaging { playback: asset.playback }),
                Ok(None) => {
                    Step::Apply(key, ClipFact::Failed { reason: "The clip's VOD asset no longer exists".into() })
                }
                Err(err) => {
                    warn!(clip = %clip.id, error = &err as &dyn std::error::Error, "asset lookup failed; retrying next run");
                    continue;
                }
            },
            ClipStatus::Ready | ClipStatus::Failed => continue,
        };
        if let Step::Apply(key, fact) = step
            && matches!(apply_fact(store, &key, &fact, now).await?, Applied::Changed(_))
        {
            changed += 1;
        }
    }
    Ok(Processed::Reconciled { examined: stale.len(), changed })
}

/// The asset and the clip it was made from; an asset is traced back to its clip through the
/// manifest it was ingested from, which names the competition the asset id alone does not.
async fn describe<V: VodAssets>(
    vod: &V,
    config: &ProcessConfig,
    asset_id: &str,
) -> Result<Option<(ClipKey, crate::ports::AssetDescription)>, EventError> {
    let Some(asset) = vod.describe_asset(asset_id).await? else {
        warn!(asset = asset_id, "event for an asset that does not exist");
        return Ok(None);
    };
    let key = ClipKey::from_manifest_key(&config.destination.prefix, &asset.source_key);
    Ok(key.filter(|k| k.id.as_str() == asset_id).map(|k| (k, asset)))
}

/// The process-harvested-clip handler: parse, process, log the outcome once.
///
/// # Errors
/// Only `EventError::Retryable`, which fails the invocation so Lambda retries it (and then the
/// dead-letter queue has it); everything else is acknowledged.
pub async fn handle_event<S, V, J>(
    store: &S,
    vod: &V,
    jobs: &J,
    config: &ProcessConfig,
    event: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), EventError>
where
    S: ClipStore,
    V: VodAssets,
    J: HarvestJobStatus,
{
    let event_id = event.get("id").and_then(serde_json::Value::as_str).unwrap_or("-").to_owned();
    let parsed = ClipEvent::parse(event);
    let kind = format!("{parsed:?}");
    match process_event(store, vod, jobs, config, parsed, now).await {
        Ok(Processed::Ignored(reason)) => info!(event = %event_id, %reason, "event ignored"),
        Ok(outcome) => info!(event = %event_id, ?outcome, "event processed"),
        Err(err) => {
            error!(event = %event_id, error = &err as &dyn std::error::Error, %kind, "event will be retried");
            return Err(err);
        }
    }
    Ok(())
}

impl From<EventError> for lambda_runtime::Diagnostic {
    fn from(err: EventError) -> Self {
        Self { error_type: "Retryable".to_owned(), error_message: err.to_string() }
    }
}
