//! Warm list-clips: the handler (`clips::api::list_clips_handler` on `DynamoClips`, in this
//! process, clients built once as the function does) against a bare DynamoDB Query for the same
//! page of the same table, for competitions of growing size.
//!
//! Each size is seeded with READY clips by BatchWriteItem, copies of an item the adapter itself
//! wrote, so the items have exactly the production shape. Seeding stops at a time budget and
//! the report says how many clips were reached. Handler and Query alternate, the order flipping
//! every iteration, so both see the same machine.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{TimeZone as _, Utc};
use clips::adapters::DynamoClips;
use clips::domain::{Clip, ClipId, ClipStatus, ClipWindow, CompetitionId, Playback, PlaybackStatus};
use clips::ports::WriteClips as _;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::services::{Services, TABLE, sdk_error};
use crate::stats::{median, millis, verdict};

/// DynamoDB's page size for one list request, as the budget names it.
pub const PAGE: u16 = 25;
const BATCH: usize = 25;
const WRITERS: usize = 4;

type Item = HashMap<String, AttributeValue>;

pub struct ListResult {
    pub wanted: usize,
    pub seeded: usize,
    pub seed_time: Duration,
    pub handler_ms: f64,
    pub query_ms: f64,
}

/// Seeds one competition per size (within `seed_budget` each) and measures `iterations` pages.
///
/// # Errors
/// DynamoDB failures, or a handler answer other than 200.
pub async fn measure(
    services: &Services,
    events_dir: &Path,
    sizes: &[usize],
    seed_budget: Duration,
    iterations: usize,
) -> Result<Vec<ListResult>> {
    let client = &services.clients.dynamodb;
    let store = DynamoClips::new(client.clone(), TABLE);
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(events_dir.join("api-list-clips.json")).context("events/api-list-clips.json")?,
    )?;
    let mut results = Vec::new();
    for &wanted in sizes {
        let competition = format!("scale-{wanted}");
        let started = Instant::now();
        let seeded = seed(services, &store, &competition, wanted, seed_budget).await?;
        let seed_time = started.elapsed();
        let request = list_request(&template, &competition)?;
        let mut handler = Vec::new();
        let mut query = Vec::new();
        for i in 0..iterations + 5 {
            let (h, q) = if i % 2 == 0 {
                let h = time_handler(&store, &request).await?;
                (h, time_query(client, &competition).await?)
            } else {
                let q = time_query(client, &competition).await?;
                (time_handler(&store, &request).await?, q)
            };
            // The first few warm the connection pools and dynalite's caches.
            if i >= 5 {
                handler.push(millis(h));
                query.push(millis(q));
            }
        }
        results.push(ListResult { wanted, seeded, seed_time, handler_ms: median(&handler), query_ms: median(&query) });
    }
    Ok(results)
}

/// A GET of the first page (newest first, `limit=25`) of `competition`, from the sample event.
fn list_request(template: &Value, competition: &str) -> Result<lambda_http::Request> {
    let mut event = template.clone();
    event["path"] = format!("/api/competitions/{competition}/clips").into();
    event["pathParameters"] = serde_json::json!({ "competitionId": competition });
    event["queryStringParameters"] = serde_json::json!({ "limit": PAGE.to_string(), "order": "desc" });
    event["multiValueQueryStringParameters"] = serde_json::json!({ "limit": [PAGE.to_string()], "order": ["desc"] });
    Ok(lambda_http::request::from_str(&serde_json::to_string(&event)?)?)
}

async fn time_handler(store: &DynamoClips, request: &lambda_http::Request) -> Result<Duration> {
    let started = Instant::now();
    let response = clips::api::list_clips_handler(store, request).await;
    let elapsed = started.elapsed();
    if response.status() != 200 {
        bail!("list-clips answered {}", response.status());
    }
    Ok(elapsed)
}

/// The same page as the handler asks for, with nothing done to the items.
async fn time_query(client: &aws_sdk_dynamodb::Client, competition: &str) -> Result<Duration> {
    let started = Instant::now();
    let output = client
        .query()
        .table_name(TABLE)
        .key_condition_expression("competition = :competition")
        .expression_attribute_values(":competition", AttributeValue::S(competition.to_owned()))
        .scan_index_forward(false)
        .limit(i32::from(PAGE))
        .send()
        .await
        .map_err(sdk_error)?;
    let elapsed = started.elapsed();
    if output.count() == 0 {
        bail!("the query of {competition} returned nothing");
    }
    Ok(elapsed)
}

/// Writes up to `wanted` READY clips of `competition`, one second apart; returns how many.
async fn seed(
    services: &Services,
    store: &DynamoClips,
    competition: &str,
    wanted: usize,
    budget: Duration,
) -> Result<usize> {
    let client = &services.clients.dynamodb;
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().context("base time")?;
    // One clip through the adapter gives the exact item shape; the rest are copies of it.
    let first = ready_clip(competition, base)?;
    store.insert(&first).await?;
    let template = client
        .get_item()
        .table_name(TABLE)
        .key("competition", AttributeValue::S(competition.to_owned()))
        .key("clip", AttributeValue::S(first.id.to_string()))
        .send()
        .await
        .map_err(sdk_error)?
        .item
        .context("the seeded clip is missing")?;
    let deadline = Instant::now() + budget;
    let mut written = 1;
    let mut writers = JoinSet::new();
    let mut next = 1;
    while written < wanted && Instant::now() < deadline {
        while writers.len() < WRITERS && next < wanted {
            let count = BATCH.min(wanted - next);
            let items: Vec<Item> = (next..next + count).map(|i| copy_item(&template, base, i)).collect();
            next += count;
            writers.spawn(write_batch(client.clone(), items));
        }
        match writers.join_next().await {
            Some(result) => written += result??,
            None => break,
        }
    }
    while let Some(result) = writers.join_next().await {
        written += result??;
    }
    Ok(written)
}

fn ready_clip(competition: &str, start: chrono::DateTime<Utc>) -> Result<Clip> {
    let competition = CompetitionId::parse(competition).map_err(|e| anyhow::anyhow!("{e}"))?;
    let window = ClipWindow { start, end: start + chrono::Duration::seconds(30) };
    let mut clip = Clip::harvesting(competition, Some("Photo finish".into()), None, window, start);
    clip.status = ClipStatus::Ready;
    clip.playback = vec![Playback {
        packaging_configuration_id: "hls".into(),
        url: format!("http://127.0.0.1:4566/out/v1/live-clips/hls/{}/index.m3u8", clip.id),
        status: PlaybackStatus::Playable,
    }];
    Ok(clip)
}

/// Clip `i` of the competition: the template with its own id and window.
fn copy_item(template: &Item, base: chrono::DateTime<Utc>, i: usize) -> Item {
    let start = base + chrono::Duration::seconds(i64::try_from(i).unwrap_or(i64::MAX));
    let id = ClipId::generate(start);
    let mut item = template.clone();
    item.insert("clip".into(), AttributeValue::S(id.to_string()));
    item.insert("start".into(), AttributeValue::S(clips::domain::format_instant(start)));
    item.insert("end".into(), AttributeValue::S(clips::domain::format_instant(start + chrono::Duration::seconds(30))));
    item
}

/// One BatchWriteItem, retried until DynamoDB took every item; returns the count.
async fn write_batch(client: aws_sdk_dynamodb::Client, items: Vec<Item>) -> Result<usize> {
    let count = items.len();
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<_, _>>()?;
    while !requests.is_empty() {
        let output = client.batch_write_item().request_items(TABLE, requests).send().await.map_err(sdk_error)?;
        requests = output.unprocessed_items.and_then(|mut left| left.remove(TABLE)).unwrap_or_default();
    }
    Ok(count)
}

pub fn report(results: &[ListResult]) -> String {
    let mut out = String::from(
        "| clips in the competition | seeded in (s) | list-clips handler (ms) | bare Query (ms) | handler ÷ Query (≤ 1.2×) | page ÷ smallest |\n\
         |---:|---:|---:|---:|---:|---:|\n",
    );
    let base = results.first().map_or(1.0, |r| r.handler_ms);
    for r in results {
        let seeded = if r.seeded < r.wanted {
            format!("{} (of {}: seeding budget)", r.seeded, r.wanted)
        } else {
            r.seeded.to_string()
        };
        let ratio = r.handler_ms / r.query_ms;
        out.push_str(&format!(
            "| {seeded} | {:.1} | {:.2} | {:.2} | {ratio:.2} ({}) | {:.2} |\n",
            r.seed_time.as_secs_f64(),
            r.handler_ms,
            r.query_ms,
            verdict(ratio, 1.2),
            r.handler_ms / base
        ));
    }
    out
}
