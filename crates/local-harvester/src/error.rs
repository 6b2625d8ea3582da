//! Errors of the server itself (start-up, persistence), as opposed to API errors returned to
//! clients, which live in [`crate::api::error`].

use std::path::PathBuf;

/// Why the harvester could not start, persist its state or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum HarvesterError {
    /// Accepting or serving connections failed.
    #[error("serving HTTP failed")]
    Serve(#[source] std::io::Error),
    /// Reading or writing a file under the data directory failed.
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The state file exists but is not a state this version understands.
    #[error("state file {path} is corrupt")]
    CorruptState {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The state could not be serialised (a bug, not an environment problem).
    #[error("cannot serialise state")]
    Serialize(#[source] serde_json::Error),
    /// An object could not be read or written through the configured S3 endpoint.
    #[error("{object}: {message}")]
    S3 { object: String, message: String },
    /// The bundled demo media does not parse; only a broken build can cause this.
    #[error("bundled demo media is invalid: {0}")]
    DemoMedia(String),
}

impl HarvesterError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
