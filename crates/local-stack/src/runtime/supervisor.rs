//! One instance of a function: a process, its Runtime API endpoint, and the
//! supervisor loop that replaces the process when it dies or times out.

use std::{
    io::Write as _,
    net::Ipv4Addr,
    process::{ExitStatus, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, BufReader},
    net::TcpListener,
    process::{Child, Command},
    sync::watch,
    task::{JoinHandle, JoinSet},
    time::{sleep, sleep_until, timeout},
};

use super::{Function, api::SessionState};
use crate::LocalStackError;

/// First delay before restarting a process that died during init; doubles up
/// to [`MAX_BACKOFF`] so a function that cannot start does not spin a core.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long a dead process's endpoint and log pipes get to drain, so its last
/// words are printed before the restart is.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

/// Host variables a developer expects to reach the function while debugging.
const PASSTHROUGH_ENV: [&str; 3] = ["PATH", "RUST_LOG", "RUST_BACKTRACE"];

/// Keeps one instance alive until the host shuts down.
pub(super) struct Supervisor {
    function: Arc<Function>,
    label: String,
    shutdown: watch::Receiver<bool>,
}

impl Supervisor {
    pub(super) fn new(function: Arc<Function>, label: String, shutdown: watch::Receiver<bool>) -> Self {
        Self { function, label, shutdown }
    }

    /// Runs `session`, then its successors, until shutdown.
    pub(super) async fn run(mut self, mut session: Session) {
        let mut backoff = MIN_BACKOFF;
        loop {
            match session.run(&mut self.shutdown).await {
                SessionEnd::Shutdown => return,
                // The process got as far as serving: it is worth restarting
                // right away (a crash in a handler, a timeout).
                SessionEnd::Ended { initialised: true } => backoff = MIN_BACKOFF,
                SessionEnd::Ended { initialised: false } => {
                    tracing::warn!(instance = %self.label, ?backoff, "function failed to initialise; restarting after backoff");
                    if !self.pause(&mut backoff).await {
                        return;
                    }
                }
            }
            session = loop {
                match Session::spawn(&self.function, &self.label).await {
                    Ok(next) => break next,
                    Err(err) => {
                        tracing::error!(instance = %self.label, error = %err, source = ?std::error::Error::source(&err), "cannot restart function");
                        if !self.pause(&mut backoff).await {
                            return;
                        }
                    }
                }
            };
            tracing::info!(instance = %self.label, "function process restarted");
        }
    }

    /// Sleeps for `backoff` and doubles it; `false` if shutdown came first.
    async fn pause(&mut self, backoff: &mut Duration) -> bool {
        let delay = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        tokio::select! {
            () = sleep(delay) => true,
            () = super::raised(&mut self.shutdown) => false,
        }
    }
}

/// Why a [`Session`] ended.
enum SessionEnd {
    /// The host is shutting down; do not restart.
    Shutdown,
    /// The process is gone; `initialised` says whether it ever asked for an
    /// event, which decides between restarting at once and backing off.
    Ended { initialised: bool },
}

/// One process of an instance together with its Runtime API endpoint.
pub(super) struct Session {
    label: String,
    child: Child,
    state: Arc<SessionState>,
    server: JoinHandle<()>,
    stop: watch::Sender<bool>,
    logs: JoinSet<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        // Reached without `close` only when the supervisor is aborted (the
        // host was dropped); `kill_on_drop` takes care of the process.
        self.stop.send_replace(true);
        self.server.abort();
    }
}

impl Session {
    /// Binds a fresh endpoint and starts the function binary against it.
    pub(super) async fn spawn(function: &Arc<Function>, label: &str) -> Result<Self, LocalStackError> {
        let spec = &function.spec;
        let bind_error = |source| LocalStackError::Bind { function: spec.name.clone(), source };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;

        let mut command = Command::new(&spec.binary);
        command.env_clear();
        for name in PASSTHROUGH_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        // What a provided.al2023 sandbox sets, then the function's own
        // configuration, then what the host must own to stay reachable.
        command
            .env("AWS_REGION", &spec.region)
            .env("AWS_DEFAULT_REGION", &spec.region)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .envs(spec.env.iter().map(|(name, value)| (name, value)))
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own process group keeps a terminal's Ctrl-C away from the
        // function: the host decides when it dies, after draining requests.
        #[cfg(unix)]
        command.process_group(0);

        let spawned_at = Instant::now();
        let mut child = command.spawn().map_err(|source| LocalStackError::Spawn {
            function: spec.name.clone(),
            binary: spec.binary.clone(),
            source,
        })?;
        let mut logs = JoinSet::new();
        if let Some(stdout) = child.stdout.take() {
            logs.spawn(forward_lines(stdout, label.to_owned()));
        }
        if let Some(stderr) = child.stderr.take() {
            logs.spawn(forward_lines(stderr, label.to_owned()));
        }

        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(SessionState::new(function.clone(), spawned_at, stopped.clone()));
        let server = tokio::spawn(super::api::serve(listener, state.clone(), stopped));
        tracing::debug!(instance = %label, pid = ?child.id(), runtime_api = %addr, "function process spawned");
        Ok(Self { label: label.to_owned(), child, state, server, stop, logs })
    }

    /// Watches the process and its in-flight invocation until the process
    /// must be replaced or the host shuts down.
    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> SessionEnd {
        loop {
            let deadline = self.state.deadline();
            tokio::select! {
                status = self.child.wait() => {
                    let status = describe_exit(status);
                    tracing::warn!(instance = %self.label, %status, "function process exited");
                    self.close().await;
                    let initialised = self.state.initialised();
                    self.state.fail_after_exit(&status);
                    return SessionEnd::Ended { initialised };
                }
                // An invocation started or finished: re-read the deadline.
                () = self.state.changed.notified() => {}
                () = sleep_until_some(deadline) => {
                    if self.state.time_out() {
                        tracing::warn!(instance = %self.label, "invocation timed out; replacing the process");
                        self.kill().await;
                        self.close().await;
                        return SessionEnd::Ended { initialised: true };
                    }
                }
                () = super::raised(shutdown) => {
                    self.kill().await;
                    self.close().await;
                    self.state.abandon();
                    return SessionEnd::Shutdown;
                }
            }
        }
    }

    async fn kill(&mut self) {
        if let Err(err) = self.child.kill().await {
            tracing::error!(instance = %self.label, %err, "cannot kill function process");
        }
    }

    /// Stops the endpoint (so no handler can take another event for this
    /// process) and lets the log pipes drain.
    async fn close(&mut self) {
        self.stop.send_replace(true);
        if timeout(DRAIN_TIMEOUT, &mut self.server).await.is_err() {
            self.server.abort();
        }
        let _ = timeout(DRAIN_TIMEOUT, async { while self.logs.join_next().await.is_some() {} }).await;
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Words the exit the way Lambda's `Runtime.ExitError` message does.
fn describe_exit(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(err) => format!("unknown exit status ({err})"),
    }
}

/// Copies a child's output to the host's stdout, one `[label] line` at a
/// time, so interleaved functions stay readable. Invalid UTF-8 is replaced,
/// not dropped.
async fn forward_lines(stream: impl AsyncRead + Unpin, label: String) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let mut stdout = std::io::stdout().lock();
                // A closed host stdout leaves nowhere to report to.
                let _ = writeln!(stdout, "[{label}] {}", text.trim_end_matches(['\r', '\n']));
            }
        }
    }
}
