//! Cold start and peak memory: every function, and the `bench-hello` baseline, started fresh
//! under `local_stack::FunctionHost` for each run and served one event.
//!
//! Runs are interleaved (hello, create-clip, list-clips, process-harvested-clip, hello, ...) so a
//! busy machine slows all of them alike and the ratios hold. Per run:
//! - *init*: the host's `Timings::init`, process start to the first `/invocation/next`;
//! - *first response*: from `FunctionHost::start` to the response of the first invocation;
//! - *peak RSS*: `VmHWM` of the function process, read from `/proc` after the response while the
//!   process waits for its next event (the host does not expose its children's pids, so the
//!   bench finds its own child running that binary);
//! - *warm response*: a second event of the same kind (a fresh clip for process-harvested-clip),
//!   served by the same process. First response less warm response is what the cold start adds
//!   to the work itself: process start, set-up, first connections.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use chrono::Utc;
use clips::adapters::DynamoClips;
use clips::domain::{Clip, ClipWindow, CompetitionId};
use clips::ports::WriteClips as _;
use local_stack::{FunctionHost, FunctionSpec, Outcome};
use serde_json::Value;

use crate::services::{BUCKET, Services, TABLE};
use crate::stats::{median, millis, verdict};

pub const HELLO: &str = "bench-hello";
pub const FUNCTIONS: [&str; 3] = ["create-clip", "list-clips", "process-harvested-clip"];
const SDK: &str = "bench-sdk";

/// One row of the report: a binary, the event it is served and any extra environment.
struct Probe {
    label: &'static str,
    binary: &'static str,
    /// The function whose sample event is served (`binary` itself for the functions).
    event: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// Attribution rows explain the functions' numbers; they have no budget.
    attribution: bool,
}

/// The baseline, the functions, then `bench-sdk`'s steps from hello towards a function.
fn probes(attribution: bool) -> Vec<Probe> {
    let plain = |name: &'static str| Probe { label: name, binary: name, event: name, env: &[], attribution: false };
    let mut probes: Vec<Probe> = std::iter::once(HELLO).chain(FUNCTIONS).map(plain).collect();
    if attribution {
        let step = |label, event, env| Probe { label, binary: SDK, event, env, attribution: true };
        probes.extend([
            step("bench-sdk, nothing set up (a function-sized binary)", SDK, &[("BENCH_STEP", "none")][..]),
            step("… + the functions' logging", SDK, &[("BENCH_STEP", "logging")][..]),
            step("… + AWS set-up and HTTPS client (clips::runtime::Aws)", SDK, &[("BENCH_STEP", "config")][..]),
            step("… + DynamoDB client", SDK, &[][..]),
            step("… + DynamoDB client, platform root certificates (before)", SDK, &[("BENCH_ROOTS", "platform")][..]),
            step("… + one GetItem", "bench-sdk-get", &[][..]),
            step(
                "… + one GetItem, platform root certificates (before)",
                "bench-sdk-get",
                &[("BENCH_ROOTS", "platform")][..],
            ),
        ]);
    }
    probes
}

/// One cold invocation.
#[derive(Debug, Clone, Copy)]
struct Sample {
    init: Duration,
    first_response: Duration,
    warm_response: Duration,
    peak_rss_kib: u64,
}

/// The medians of one row.
pub struct ColdResult {
    pub name: String,
    pub runs: usize,
    pub init_ms: f64,
    pub first_response_ms: f64,
    pub warm_response_ms: f64,
    pub peak_rss_kib: f64,
    /// What the first run answered (status code, or the error), to show the path measured.
    pub answer: String,
    pub attribution: bool,
}

/// Runs every probe `runs` times, interleaved; results in [`probes`] order.
///
/// # Errors
/// A binary that cannot be started or measured.
pub async fn measure(
    services: &Services,
    bin_dir: &Path,
    events_dir: &Path,
    runs: usize,
    attribution: bool,
) -> Result<Vec<ColdResult>> {
    let probes = probes(attribution);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); probes.len()];
    let mut answers = vec![String::new(); probes.len()];
    let store = DynamoClips::new(services.clients.dynamodb.clone(), TABLE);
    for run in 0..runs {
        for (index, probe) in probes.iter().enumerate() {
            let events =
                [event_for(probe.event, events_dir, &store).await?, event_for(probe.event, events_dir, &store).await?];
            let mut env = services.function_env();
            env.extend(probe.env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            let (sample, answer) = cold_invocation(probe.label, &bin_dir.join(probe.binary), env, events).await?;
            if run == 0 {
                answers[index] = answer;
            }
            samples[index].push(sample);
        }
    }
    Ok(probes
        .iter()
        .zip(samples)
        .zip(answers)
        .map(|((probe, samples), answer)| ColdResult {
            name: probe.label.to_owned(),
            runs: samples.len(),
            init_ms: median(&samples.iter().map(|s| millis(s.init)).collect::<Vec<_>>()),
            first_response_ms: median(&samples.iter().map(|s| millis(s.first_response)).collect::<Vec<_>>()),
            warm_response_ms: median(&samples.iter().map(|s| millis(s.warm_response)).collect::<Vec<_>>()),
            #[allow(clippy::cast_precision_loss)] // KiB counts far below 2^52
            peak_rss_kib: median(&samples.iter().map(|s| s.peak_rss_kib as f64).collect::<Vec<_>>()),
            answer,
            attribution: probe.attribution,
        })
        .collect())
}

/// The event each function is served: the repository's sample events, made to hit real data.
async fn event_for(name: &str, events_dir: &Path, store: &DynamoClips) -> Result<Bytes> {
    let read = |file: &str| -> Result<Value> {
        let path = events_dir.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        Ok(serde_json::from_str(&text)?)
    };
    let event = match name {
        HELLO | SDK => serde_json::json!({ "hello": "bench" }),
        "bench-sdk-get" => serde_json::json!({ "getItem": true }),
        // POST /api/clip for the last 30 s of the demo channel's competition.
        "create-clip" => read("api-create-clip.json")?,
        "list-clips" => read("api-list-clips.json")?,
        // A harvest that succeeded for a clip that exists and is HARVESTING, as MediaPackage
        // would report it: the function reads the clip, creates the VOD asset and updates it.
        "process-harvested-clip" => {
            let now = Utc::now();
            let window =
                ClipWindow { start: now - chrono::Duration::seconds(70), end: now - chrono::Duration::seconds(10) };
            let competition = CompetitionId::parse("100m-final").map_err(|e| anyhow::anyhow!("{e}"))?;
            let clip = Clip::harvesting(competition, Some("bench".into()), None, window, now);
            store.insert(&clip).await.context("seed a HARVESTING clip")?;
            let mut event = read("harvest-succeeded.json")?;
            let job = &mut event["detail"]["harvest_job"];
            let id = clip.id.as_str();
            job["id"] = id.into();
            job["arn"] = format!("arn:aws:mediapackage:us-east-1:000000000000:harvest_jobs/{id}").into();
            job["start_time"] = clips::domain::format_instant(window.start).into();
            job["end_time"] = clips::domain::format_instant(window.end).into();
            job["s3_destination"]["bucket_name"] = BUCKET.into();
            job["s3_destination"]["manifest_key"] = format!("clips/100m-final/{id}/index.m3u8").into();
            event
        }
        other => bail!("no event for {other}"),
    };
    Ok(Bytes::from(serde_json::to_vec(&event)?))
}

async fn cold_invocation(
    name: &str,
    binary: &Path,
    env: Vec<(String, String)>,
    [first, second]: [Bytes; 2],
) -> Result<(Sample, String)> {
    if !binary.exists() {
        bail!("{} is missing: build it with `cargo build --release` first", binary.display());
    }
    // The function name is the binary's: labels are for the report only.
    let function = binary.file_name().and_then(|n| n.to_str()).unwrap_or("bench");
    let mut spec = FunctionSpec::new(function, binary);
    spec.env = env;
    let started = Instant::now();
    let host = FunctionHost::start(spec).await?;
    let invocation = host.invoke(first).await;
    let first_response = started.elapsed();
    let peak = child_running(binary).and_then(peak_rss_kib);
    let warm_started = Instant::now();
    let warm = host.invoke(second).await;
    let warm_response = warm_started.elapsed();
    host.shutdown().await;
    warm.with_context(|| format!("{name} did not answer a second event"))?;
    let invocation = invocation?;
    let init = invocation.timings.init.context("the first invocation reports no init time")?;
    let peak_rss_kib = peak.with_context(|| format!("cannot read the peak RSS of {name}"))?;
    let answer = match &invocation.outcome {
        Outcome::Response(body) => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("statusCode").map(ToString::to_string))
            .map_or_else(|| "response".to_owned(), |status| format!("HTTP {status}")),
        Outcome::FunctionError(err) => format!("error {}", err.error_type),
    };
    Ok((Sample { init, first_response, warm_response, peak_rss_kib }, answer))
}

/// The pid of this process's child that runs `binary`.
fn child_running(binary: &Path) -> Option<u32> {
    let me = std::process::id();
    let wanted = std::fs::canonicalize(binary).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after its `)`.
        let ppid: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
        (ppid == me && exe == wanted).then_some(pid)
    })
}

/// `VmHWM` (peak resident set) of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// The markdown table of `results` (hello first) with each budget's ratio.
pub fn report(results: &[ColdResult]) -> String {
    let Some(hello) = results.iter().find(|r| r.name == HELLO) else { return String::new() };
    let start_up = |r: &ColdResult| r.first_response_ms - r.warm_response_ms;
    let mut out = String::from(
        "| binary | runs | answer | init (ms) | first response (ms) | × hello | peak RSS (MiB) | × hello | budgets (≤ 2×) \
         | warm response (ms) | first − warm (ms) | × hello |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|\n",
    );
    for r in results {
        let time_ratio = r.first_response_ms / hello.first_response_ms;
        let rss_ratio = r.peak_rss_kib / hello.peak_rss_kib;
        let budgets = if r.name == HELLO {
            "baseline".to_owned()
        } else if r.attribution {
            "(attribution)".to_owned()
        } else {
            format!("cold start {}, RSS {}", verdict(time_ratio, 2.0), verdict(rss_ratio, 2.0))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} | {} | {:.1} | {:.1} | {:.2} |\n",
            r.name,
            r.runs,
            r.answer,
            r.init_ms,
            r.first_response_ms,
            time_ratio,
            r.peak_rss_kib / 1024.0,
            rss_ratio,
            budgets,
            r.warm_response_ms,
            start_up(r),
            start_up(r) / start_up(hello),
        ));
    }
    out
}
