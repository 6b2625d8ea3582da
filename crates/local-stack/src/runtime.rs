//! Hosts unmodified Lambda function binaries behind an emulated
//! [Lambda Runtime API](https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
//!
//! A [`FunctionHost`] runs `concurrency` *instances* of one function. Each
//! instance is a supervisor task that keeps one child process alive; every
//! process gets its own Runtime API endpoint on `127.0.0.1:0` (module `api`),
//! so a request can never be confused with one from an earlier, crashed
//! process. Invocations wait in one FIFO queue per function; an instance
//! takes the next one when its runtime long-polls `/invocation/next`, exactly
//! one at a time, like a Lambda execution environment.
//!
//! Like Lambda, the host turns a crash, an init failure or a timeout into an
//! error outcome for the invocation it hit, then starts a fresh process.

mod api;
mod supervisor;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};

use crate::{ACCOUNT_ID, LocalStackError};

/// Lambda's limit on a synchronous invocation's request and response payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Region reported to functions when a spec does not name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// What to run and how, mirroring the parts of a Lambda function
/// configuration that the runtime can observe.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Function name: `AWS_LAMBDA_FUNCTION_NAME`, the ARN, and the key the
    /// Invoke API and gateway routes use.
    pub name: String,
    /// The function's executable (the `bootstrap` of a `provided.al2023` zip).
    pub binary: PathBuf,
    /// Extra environment, as the function's configuration would set it.
    /// The child does not inherit the host's environment (a Lambda sandbox
    /// does not either, and inherited credentials could reach real AWS);
    /// only `PATH`, `RUST_LOG` and `RUST_BACKTRACE` pass through.
    pub env: Vec<(String, String)>,
    /// Execution environments that may run at once; further invocations queue.
    pub concurrency: usize,
    /// Per-invocation timeout, after which the process is killed and replaced.
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; informative only, nothing is limited.
    pub memory_mb: u32,
    /// `AWS_REGION`, also used in the function ARN.
    pub region: String,
}

impl FunctionSpec {
    /// A spec with Lambda's defaults: one instance, 30 s timeout, 128 MB.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            binary: binary.into(),
            env: Vec::new(),
            concurrency: 1,
            timeout: Duration::from_secs(30),
            memory_mb: 128,
            region: DEFAULT_REGION.to_owned(),
        }
    }

    /// The ARN the runtime reports as `invoked_function_arn`.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}", self.region, self.name)
    }

    fn validate(&self) -> Result<(), LocalStackError> {
        let reason = if self.name.is_empty() || self.name.contains([':', '/']) {
            "the name must be non-empty and contain no `:` or `/`"
        } else if self.concurrency == 0 {
            "concurrency must be at least 1"
        } else if self.timeout.is_zero() {
            "the timeout must be positive"
        } else {
            return Ok(());
        };
        Err(LocalStackError::InvalidSpec { function: self.name.clone(), reason: reason.to_owned() })
    }
}

/// A completed invocation: what the function answered and how long it took.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The `Lambda-Runtime-Aws-Request-Id` the function saw.
    pub request_id: String,
    pub outcome: Outcome,
    pub timings: Timings,
}

/// The result Lambda reports for an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes the runtime posted to `/invocation/{id}/response`, unchanged.
    /// A streaming-mode response arrives here whole, metadata prelude included.
    Response(Bytes),
    /// The function failed: its own error report, or one the host made up for
    /// a crash (`Runtime.ExitError`), an init failure or a timeout
    /// (`Sandbox.Timedout`).
    FunctionError(FunctionError),
}

/// An error report in the Runtime API's JSON shape, which is also the body
/// the Invoke API returns with `X-Amz-Function-Error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

/// Where the time of one invocation went, for benchmarks and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Waiting for a free instance (includes a cold start still in progress).
    pub queued: Duration,
    /// From handing the event to the runtime to its response (or the crash
    /// or timeout that ended it): Lambda's billed "Duration".
    pub duration: Duration,
    /// Set on the first invocation a process serves: process start to its
    /// first `/invocation/next`, Lambda's "Init Duration".
    pub init: Option<Duration>,
}

/// A running function: its instances, their processes and Runtime API
/// endpoints.
///
/// Cloning yields another handle to the same host. [`shutdown`](Self::shutdown)
/// stops it gracefully; dropping the last handle kills the processes.
#[derive(Clone)]
pub struct FunctionHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    function: Arc<Function>,
    queue: mpsc::UnboundedSender<Pending>,
    shutdown: watch::Sender<bool>,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for HostInner {
    fn drop(&mut self) {
        // Aborting drops each supervisor's session, whose child process is
        // `kill_on_drop`; no function outlives its host.
        let handles = self.supervisors.get_mut().unwrap_or_else(PoisonError::into_inner);
        for handle in handles.drain(..) {
            handle.abort();
        }
    }
}

/// State shared by all instances of one function.
struct Function {
    spec: FunctionSpec,
    arn: String,
    /// The invocation queue; whichever runtime long-polls first takes the head.
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
}

/// An accepted invocation whose result is still to come.
///
/// Split from [`FunctionHost::invoke`] so an asynchronous (`Event`) caller can
/// learn the request id and return at once while the event stays queued.
#[derive(Debug)]
pub struct QueuedInvocation {
    request_id: String,
    function: String,
    reply: oneshot::Receiver<Invocation>,
}

impl QueuedInvocation {
    /// The request id the function will see.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Waits for the invocation to complete.
    ///
    /// # Errors
    ///
    /// [`LocalStackError::ShuttingDown`] if the host stopped first.
    pub async fn wait(self) -> Result<Invocation, LocalStackError> {
        self.reply.await.map_err(|_| LocalStackError::ShuttingDown(self.function))
    }
}

/// An invocation in the queue or in a runtime's hands.
struct Pending {
    request_id: String,
    payload: Bytes,
    enqueued_at: Instant,
    reply: oneshot::Sender<Invocation>,
}

impl Pending {
    /// Reports the result; `started` is when a runtime received the event.
    fn complete(self, outcome: Outcome, started: Instant, init: Option<Duration>) {
        let timings =
            Timings { queued: started.saturating_duration_since(self.enqueued_at), duration: started.elapsed(), init };
        // The caller may have stopped waiting (an `Event` invocation whose
        // task was dropped); the result is then of no use to anyone.
        let _ = self.reply.send(Invocation { request_id: self.request_id, outcome, timings });
    }
}

impl FunctionHost {
    /// Starts `spec.concurrency` instances of the function, each with its
    /// process already initialising, and returns without waiting for them.
    ///
    /// # Errors
    ///
    /// [`LocalStackError::InvalidSpec`] for an unusable spec,
    /// [`LocalStackError::Bind`] or [`LocalStackError::Spawn`] if the first
    /// process of an instance cannot be started (later restarts only log).
    pub async fn start(spec: FunctionSpec) -> Result<Self, LocalStackError> {
        spec.validate()?;
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (shutdown_tx, _) = watch::channel(false);
        let function = Arc::new(Function { arn: spec.arn(), spec, queue: tokio::sync::Mutex::new(queue_rx) });
        let host = Self {
            inner: Arc::new(HostInner {
                function: function.clone(),
                queue: queue_tx,
                shutdown: shutdown_tx,
                supervisors: Mutex::new(Vec::new()),
            }),
        };
        let concurrency = function.spec.concurrency;
        for index in 0..concurrency {
            let label =
                if concurrency == 1 { function.spec.name.clone() } else { format!("{}#{index}", function.spec.name) };
            let session = supervisor::Session::spawn(&function, &label).await?;
            let supervisor = supervisor::Supervisor::new(function.clone(), label, host.inner.shutdown.subscribe());
            let handle = tokio::spawn(supervisor.run(session));
            host.inner.supervisors.lock().unwrap_or_else(PoisonError::into_inner).push(handle);
        }
        tracing::info!(function = %function.spec.name, concurrency, "function started");
        Ok(host)
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.inner.function.spec.name
    }

    /// Queues an invocation and returns without waiting for it.
    ///
    /// # Errors
    ///
    /// [`LocalStackError::PayloadTooLarge`] above [`MAX_PAYLOAD_BYTES`],
    /// [`LocalStackError::ShuttingDown`] once [`shutdown`](Self::shutdown) began.
    pub fn enqueue(&self, payload: Bytes) -> Result<QueuedInvocation, LocalStackError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(LocalStackError::PayloadTooLarge { limit: MAX_PAYLOAD_BYTES });
        }
        let (reply, rx) = oneshot::channel();
        let request_id = new_request_id();
        let pending = Pending { request_id: request_id.clone(), payload, enqueued_at: Instant::now(), reply };
        self.inner.queue.send(pending).map_err(|_| LocalStackError::ShuttingDown(self.name().to_owned()))?;
        Ok(QueuedInvocation { request_id, function: self.name().to_owned(), reply: rx })
    }

    /// Invokes the function synchronously (`RequestResponse`).
    ///
    /// # Errors
    ///
    /// As [`enqueue`](Self::enqueue) and [`QueuedInvocation::wait`]; a failing
    /// function is an `Ok` with [`Outcome::FunctionError`].
    pub async fn invoke(&self, payload: Bytes) -> Result<Invocation, LocalStackError> {
        self.enqueue(payload)?.wait().await
    }

    /// Stops accepting invocations, fails the queued ones with
    /// [`LocalStackError::ShuttingDown`], kills every process and waits until
    /// they are gone. Affects all clones of this handle.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        {
            let mut queue = self.inner.function.queue.lock().await;
            queue.close();
            // Dropping the queued invocations tells their callers.
            while queue.try_recv().is_ok() {}
        }
        let handles: Vec<_> = self.inner.supervisors.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        for handle in handles {
            if let Err(err) = handle.await {
                tracing::error!(function = %self.name(), %err, "instance supervisor failed");
            }
        }
        tracing::info!(function = %self.name(), "function stopped");
    }
}

/// Resolves once `flag` is raised, or its sender is gone (which means the
/// same: the owner is stopping).
async fn raised(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here.
    let _ = flag.wait_for(|raised| *raised).await;
}

/// A fresh id in the UUID form Lambda uses for request ids.
pub(crate) fn new_request_id() -> String {
    let high = fastrand::u64(..);
    let low = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0x0fff,
        ((low >> 48) & 0x3fff) | 0x8000,
        low & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_uuid_v4() {
        let id = new_request_id();
        let parts: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn spec_validation_rejects_unhostable_specs() {
        let ok = FunctionSpec::new("echo", "/bin/true");
        assert!(ok.validate().is_ok());
        assert_eq!(ok.arn(), "arn:aws:lambda:us-east-1:000000000000:function:echo");
        for bad in [
            FunctionSpec { concurrency: 0, ..ok.clone() },
            FunctionSpec { timeout: Duration::ZERO, ..ok.clone() },
            FunctionSpec { name: "a:b".into(), ..ok.clone() },
        ] {
            assert!(matches!(bad.validate(), Err(LocalStackError::InvalidSpec { .. })));
        }
    }
}
