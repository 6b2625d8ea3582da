//! Chaos: many clips at once while the upstream services misbehave the way AWS's do.
//!
//! 60 clips are requested concurrently over four competitions while 30 % of the functions'
//! calls to MediaPackage, MediaPackage VOD and DynamoDB fail with throttling or 5xx answers,
//! some calls are slow, a tenth of the harvests fail, every event is delivered three times
//! with random delays (so in any order) and a tenth of the events are never delivered at all,
//! and the local DynamoDB and the harvester are each restarted once mid-run. The client
//! behaves as a real one: it retries 5xx answers with the same `Idempotency-Key`.
//!
//! Afterwards every clip must be READY, or FAILED with the true reason (the injected harvest
//! failure, or MediaPackage unreachable at creation); none may be stuck, every READY clip has
//! exactly one VOD asset, and the counts of everything injected are printed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use end_to_end::{TestStack, stack};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const CLIPS: usize = 60;
const COMPETITIONS: [&str; 4] = ["chaos-100m", "chaos-long-jump", "chaos-relay", "chaos-marathon"];
/// Share of upstream calls (harvester and DynamoDB alike) that fail transiently.
const UPSTREAM_FAILURES: f64 = 0.3;
const HARVEST_FAILURE: &str = "Injected failure: the origin endpoint lost its input";
/// What create-clip records when MediaPackage stayed unreachable through every retry.
const UNREACHABLE: &str = "MediaPackage could not be reached to start the harvest job";
/// What the reconciliation records for a failed harvest whose notification was lost
/// (DescribeHarvestJob gives no reason).
const LOST_FAILURE: &str = "MediaPackage reports the harvest job FAILED (its notification was lost)";
/// What the reconciliation records for a clip stored by a create-clip that stopped before its
/// harvest job was created.
const NEVER_STARTED: &str = "The harvest job was never started";
/// How long the clips may take to settle, restarts and redeliveries included.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(240);
/// Attempts of the client for one clip request, as a patient frontend would make.
const CLIENT_ATTEMPTS: u32 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clips_converge_through_faults_duplicates_loss_and_restarts() {
    let started = Instant::now();
    let mut test = TestStack::start_with(|options| {
        options.dynamodb_fault_proxy = true;
        options.reconcile_every = Some(Duration::from_secs(2));
        options.reconcile_after_seconds = 3;
    })
    .await;
    let mut injected = Injected::default();
    break_the_harvester(&test).await;
    test.stack.dynamodb_faults().expect("fault proxy").fail_fraction(UPSTREAM_FAILURES);

    // Requests are spread over about two seconds; the restarts land in the middle of them.
    let mut requests = JoinSet::new();
    for n in 0..CLIPS {
        let (http, api) = (test.http.clone(), test.stack.api_url.clone());
        requests.spawn(async move {
            tokio::time::sleep(Duration::from_millis(35 * n as u64)).await;
            request_clip(&http, &api, n).await
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    test.stack.restart_dynalite().await.expect("dynalite restarts");
    tokio::time::sleep(Duration::from_millis(500)).await;
    injected.add(&harvester_counts(&test).await);
    test.stack.restart_harvester().await.expect("the harvester restarts");
    break_the_harvester(&test).await;

    let mut clips = Vec::new();
    while let Some(outcome) = requests.join_next().await {
        let (clip, retries) = outcome.expect("request task");
        injected.client_retries += retries;
        clips.push(clip);
    }
    assert_eq!(clips.len(), CLIPS);

    let settled = wait_until_settled(&test, &clips).await;
    injected.add(&harvester_counts(&test).await);
    injected.dynamodb_errors = test.stack.dynamodb_faults().expect("fault proxy").injected();
    // The faults are off for the checks, which read through the same API.
    test.stack.dynamodb_faults().expect("fault proxy").fail_fraction(0.0);
    clear_faults(&test).await;

    let jobs = harvest_jobs(&test).await;
    let assets = asset_counts(&test).await;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for clip in &settled {
        let id = clip["id"].as_str().expect("clip id");
        let job = jobs.get(id);
        match clip["status"].as_str() {
            Some("READY") => {
                assert_eq!(job.map(String::as_str), Some("SUCCEEDED"), "{clip}");
                assert_eq!(assets.get(id), Some(&1), "a READY clip has exactly one asset: {clip}");
                let url = clip["playback"][0]["url"].as_str().expect("playback URL");
                assert_eq!(test.get_text(url).await.0, 200, "{url}");
                *outcomes.entry("READY".into()).or_default() += 1;
            }
            Some("FAILED") => {
                let reason = clip["error"].as_str().expect("a FAILED clip says why");
                assert_eq!(assets.get(id), None, "a FAILED clip has no asset: {clip}");
                let outcome = match job.map(String::as_str) {
                    // The harvest switch is the only thing that fails harvests in this run.
                    Some("FAILED") if reason.contains(HARVEST_FAILURE) => "FAILED: harvest failed (injected)",
                    Some("FAILED") if reason == LOST_FAILURE => "FAILED: harvest failed (injected), event lost",
                    None if reason == UNREACHABLE => "FAILED: MediaPackage unreachable at creation",
                    None if reason == NEVER_STARTED => "FAILED: creation cut short, harvest never started",
                    _ => panic!("a reason no injected fault explains (harvest job {job:?}): {clip}"),
                };
                *outcomes.entry(outcome.into()).or_default() += 1;
            }
            _ => panic!("not settled: {clip}"),
        }
    }
    assert!(assets.values().all(|n| *n == 1), "an asset was created twice: {assets:?}");
    // Counted from the jobs: the switch's own count misses a harvest failed between the last
    // read and the restart.
    let failed_harvests = jobs.values().filter(|status| *status == "FAILED").count();
    let ready = outcomes.get("READY").copied().unwrap_or(0);
    assert!(ready >= CLIPS / 2, "most clips should survive transient faults: {outcomes:?}");

    eprintln!(
        "chaos: {CLIPS} clips over {} competitions settled in {:.1?}: {outcomes:?}",
        COMPETITIONS.len(),
        started.elapsed()
    );
    eprintln!(
        "chaos: injected {} MediaPackage/VOD errors, {} slow calls, {} DynamoDB errors, {} failed harvests; \
         events: {} extra deliveries, {} dropped; restarts: dynalite 1, harvester 1; client retries: {}",
        injected.errors,
        injected.delayed_calls,
        injected.dynamodb_errors,
        failed_harvests,
        injected.extra_deliveries,
        injected.dropped_events,
        injected.client_retries,
    );
    assert!(injected.errors > 0 && injected.dynamodb_errors > 0 && injected.extra_deliveries > 0, "{injected:?}");
    test.shutdown().await;
}

/// What the fault switches did over the run (the harvester's counts restart with it).
#[derive(Debug, Default)]
struct Injected {
    errors: u64,
    delayed_calls: u64,
    dropped_events: u64,
    extra_deliveries: u64,
    dynamodb_errors: u64,
    client_retries: u32,
}

impl Injected {
    fn add(&mut self, counts: &Value) {
        let count = |name: &str| counts[name].as_u64().unwrap_or_else(|| panic!("{name} in {counts}"));
        self.errors += count("errors");
        self.delayed_calls += count("delayedCalls");
        self.dropped_events += count("droppedEvents");
        self.extra_deliveries += count("extraDeliveries");
    }
}

/// Turns on every harvester switch the run needs; they live in memory, so again after a restart.
async fn break_the_harvester(test: &TestStack) {
    let switches = [
        ("", json!({"operation": "*", "errorType": "TooManyRequestsException", "fraction": UPSTREAM_FAILURES / 2.0})),
        (
            "",
            json!({"operation": "*", "errorType": "ServiceUnavailableException", "fraction": UPSTREAM_FAILURES / 2.0}),
        ),
        ("", json!({"operation": "*", "latencyMs": 50, "fraction": 0.1})),
        ("/harvests", json!({"fraction": 0.1, "message": HARVEST_FAILURE})),
        ("/events", json!({"copies": 3, "maxDelayMs": 1500, "dropFraction": 0.1})),
    ];
    for (path, body) in switches {
        let url = format!("{}/_local/faults{path}", test.stack.harvester_url);
        let response = test.http.post(&url).json(&body).send().await.expect("fault switch");
        assert_eq!(response.status(), 204, "{url} {body}: {}", response.text().await.unwrap_or_default());
    }
}

async fn clear_faults(test: &TestStack) {
    let response = test.http.delete(format!("{}/_local/faults", test.stack.harvester_url)).send().await;
    assert_eq!(response.expect("clear faults").status(), 204);
}

async fn harvester_counts(test: &TestStack) -> Value {
    let response = test.http.get(format!("{}/_local/faults", test.stack.harvester_url)).send().await;
    response.expect("fault counts").json().await.expect("JSON counts")
}

/// POSTs clip `n` until it is answered with a clip, as a client with an `Idempotency-Key` may:
/// 5xx answers and dropped connections are retried with the same key and body. Returns the
/// clip's competition and id, and how many retries it took.
async fn request_clip(http: &reqwest::Client, api: &str, n: usize) -> ((String, String), u32) {
    let competition = COMPETITIONS[n % COMPETITIONS.len()];
    let body = json!({"competition": competition, "title": format!("Moment {n}"), "duration": 6 + n % 10});
    let key = format!("chaos-{n}");
    for attempt in 0..CLIENT_ATTEMPTS {
        let sent = http
            .post(format!("{api}/api/clip"))
            .header("content-type", "application/json")
            .header("idempotency-key", &key)
            .body(body.to_string())
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            // A clip refused or failed by MediaPackage comes back in the problem's `clip`.
            let clip = if answer["clip"].is_object() { &answer["clip"] } else { &answer };
            if let Some(id) = clip["id"].as_str() {
                return ((competition.to_owned(), id.to_owned()), attempt);
            }
            assert!(status >= 500, "clip {n}: HTTP {status} without a clip: {answer}");
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
    }
    panic!("clip {n} was never accepted in {CLIENT_ATTEMPTS} attempts");
}

/// Polls every clip through the API until none is HARVESTING or PACKAGING; returns them.
async fn wait_until_settled(test: &TestStack, clips: &[(String, String)]) -> Vec<Value> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut settled: HashMap<&str, Value> = HashMap::new();
    while settled.len() < clips.len() {
        for (competition, id) in clips {
            if settled.contains_key(id.as_str()) {
                continue;
            }
            let response = test.http.get(test.api(&format!("/api/competitions/{competition}/clips/{id}"))).send().await;
            let Ok(response) = response else { continue };
            let status = response.status().as_u16();
            let clip: Value = response.json().await.unwrap_or(Value::Null);
            // DynamoDB faults reach list-clips too; a 503 is retried like any client would.
            assert!(status == 200 || status == 503, "GET clip {id}: HTTP {status}: {clip}");
            if matches!(clip["status"].as_str(), Some("READY" | "FAILED")) {
                settled.insert(id, clip);
            }
        }
        if Instant::now() > deadline {
            let stuck: Vec<_> = clips.iter().filter(|(_, id)| !settled.contains_key(id.as_str())).collect();
            panic!("{} clips not settled after {SETTLE_TIMEOUT:?}: {stuck:?}", stuck.len());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    settled.into_values().collect()
}

/// Every harvest job's status, by id.
async fn harvest_jobs(test: &TestStack) -> HashMap<String, String> {
    let pages = test.clients.mediapackage.list_harvest_jobs().into_paginator().items().send();
    let jobs = pages.collect::<Result<Vec<_>, _>>().await.expect("ListHarvestJobs");
    jobs.into_iter()
        .map(|job| {
            let status = job.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
            (job.id.unwrap_or_default(), status)
        })
        .collect()
}

/// How many VOD assets each id has in the clips' packaging group.
async fn asset_counts(test: &TestStack) -> HashMap<String, usize> {
    let pages =
        test.clients.vod.list_assets().packaging_group_id(stack::PACKAGING_GROUP_ID).into_paginator().items().send();
    let assets = pages.collect::<Result<Vec<_>, _>>().await.expect("ListAssets");
    let mut counts = HashMap::new();
    for asset in assets {
        *counts.entry(asset.id.unwrap_or_default()).or_default() += 1;
    }
    counts
}
