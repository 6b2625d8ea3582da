//! Persistence: all resource records in one JSON file, and the buckets ([`Storage`]).
//!
//! The state is small (records, not media), so it is kept in memory behind one lock and the
//! whole file is rewritten atomically (temporary file + rename) after every change: a crash
//! leaves either the old or the new state, never a torn one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::HarvesterError;
use crate::events::Delivery;
use crate::model::{Asset, Channel, HarvestJob, OriginEndpoint, PackagingConfiguration, PackagingGroup};
use crate::storage::Storage;

const STATE_FILE: &str = "state.json";

/// Everything that survives a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub channels: BTreeMap<String, Channel>,
    pub origin_endpoints: BTreeMap<String, OriginEndpoint>,
    pub harvest_jobs: BTreeMap<String, HarvestJob>,
    pub packaging_groups: BTreeMap<String, PackagingGroup>,
    pub packaging_configurations: BTreeMap<String, PackagingConfiguration>,
    pub assets: BTreeMap<String, Asset>,
    /// Event deliveries not yet acknowledged by their target, keyed by delivery id.
    pub deliveries: BTreeMap<String, Delivery>,
}

/// The state behind its lock, plus where it is persisted, and the buckets.
#[derive(Debug)]
pub struct Store {
    data_dir: PathBuf,
    state: Mutex<State>,
    pub buckets: Storage,
}

impl Store {
    /// Loads the state of `data_dir`, or starts empty when there is none yet.
    ///
    /// # Errors
    /// The directory cannot be created or read, or the state file is corrupt.
    pub async fn open(data_dir: &Path, buckets: Storage) -> Result<Self, HarvesterError> {
        tokio::fs::create_dir_all(data_dir).await.map_err(HarvesterError::io(data_dir))?;
        let path = data_dir.join(STATE_FILE);
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| HarvesterError::CorruptState { path: path.clone(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(HarvesterError::io(&path)(e)),
        };
        Ok(Self { data_dir: data_dir.to_owned(), state: Mutex::new(state), buckets })
    }

    pub async fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&*self.state.lock().await)
    }

    /// Applies `f` and persists the result. `f` must check before it changes anything: when it
    /// fails, nothing is written and its error is returned.
    ///
    /// # Errors
    /// `f`'s error, or the state could not be written.
    pub async fn update<R, E>(&self, f: impl FnOnce(&mut State) -> Result<R, E>) -> Result<R, E>
    where
        E: From<HarvesterError>,
    {
        let mut state = self.state.lock().await;
        let result = f(&mut state)?;
        let bytes = serde_json::to_vec_pretty(&*state).map_err(HarvesterError::Serialize)?;
        write_atomic(&self.data_dir.join(STATE_FILE), &bytes).await?;
        Ok(result)
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the whole new one, creating
/// parent folders as needed.
///
/// # Errors
/// The folder, the temporary file or the rename fails.
pub async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HarvesterError> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(HarvesterError::io(parent))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", crate::validate::random_hex(8)));
    let tmp = PathBuf::from(tmp);
    tokio::fs::write(&tmp, bytes).await.map_err(HarvesterError::io(&tmp))?;
    if let Err(e) = tokio::fs::rename(&tmp, path).await {
        // Best effort: the rename error is what matters to the caller.
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(HarvesterError::io(path)(e));
    }
    Ok(())
}
