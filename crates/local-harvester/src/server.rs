//! Server lifecycle: load the state, start the channels and the unfinished work, serve until
//! shutdown, then stop every background task.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::any_service;
use chrono::{TimeDelta, Utc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::cors::{Any, CorsLayer};

use crate::api::channels::new_channel;
use crate::api::faults::Faults;
use crate::api::origin_endpoints::default_hls_package;
use crate::live::demo::{self, DemoLoop};
use crate::live::ingest::{self, Ingests};
use crate::live::{DEMO_STARTOVER_WINDOW_SECONDS, LiveBuffer, LiveChannels, retention_for};
use crate::model::{ChannelSource, IngestStatus, JobStatus, LiveHlsPackage, OriginEndpoint};
use crate::storage::{S3Endpoint, Storage};
use crate::store::Store;
use crate::{DEMO_CHANNEL_ID, DEMO_ORIGIN_ENDPOINT_ID, HarvesterConfig, HarvesterError, api, events, harvest, vod};

/// What every handler and background task shares.
#[derive(Debug)]
pub struct Context {
    pub config: HarvesterConfig,
    pub store: Store,
    pub live: LiveChannels,
    /// Where each encoder-fed channel's ingest stands (rendition mapping, sequence numbering).
    pub ingests: Ingests,
    pub faults: Faults,
    pub demo: Arc<DemoLoop>,
    /// Client for event delivery, built once so connections are reused.
    pub http: reqwest::Client,
    /// Every background task (feeders, job runners, ingests, deliveries), so shutdown can wait
    /// for them.
    pub tasks: TaskTracker,
    /// Cancelled at shutdown; long-running tasks watch it.
    pub cancel: CancellationToken,
}

pub type Ctx = Arc<Context>;

impl Context {
    /// Resizes `channel_id`'s buffer to the startover and playlist windows of its endpoints and,
    /// for a demo channel, fills any newly covered past at once, so a harvest created right
    /// after a new endpoint already finds its content.
    pub async fn refresh_retention(&self, channel_id: &str) {
        let (windows, source) = self
            .store
            .read(|s| {
                let windows: Vec<_> = s
                    .origin_endpoints
                    .values()
                    .filter(|e| e.channel_id == channel_id)
                    .map(|e| (e.startover_window_seconds, e.hls.playlist_window_seconds))
                    .collect();
                (windows, s.channels.get(channel_id).map(|c| c.source.clone()))
            })
            .await;
        let Some(buffer) = self.live.get(channel_id) else { return };
        let mut buffer = buffer.write().unwrap_or_else(|e| e.into_inner());
        buffer.set_retention(retention_for(windows));
        if let Some(ChannelSource::Demo { epoch }) = source {
            self.demo.feed(epoch, &mut buffer, Utc::now());
        }
    }
}

/// Runs the harvester on `listener` until `shutdown` completes, with its buckets as folders
/// under the data directory.
///
/// Both APIs, the live origin and the VOD egress are served on the one listener. Background
/// work (the demo feeder, harvest jobs, asset ingests, event deliveries) runs until shutdown
/// and is resumed from the state file on the next start.
///
/// # Errors
/// The data directory or its state file cannot be used, or serving fails.
pub async fn serve(
    listener: TcpListener,
    config: HarvesterConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HarvesterError> {
    serve_with_s3(listener, config, None, shutdown).await
}

/// [`serve`], keeping the buckets in the S3-compatible service `s3` when given.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_s3(
    listener: TcpListener,
    config: HarvesterConfig,
    s3: Option<S3Endpoint>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HarvesterError> {
    let buckets = Storage::new(&config.data_dir, s3.as_ref(), &config.region);
    let store = Store::open(&config.data_dir, buckets).await?;
    let ctx = Arc::new(Context {
        config,
        store,
        live: LiveChannels::default(),
        ingests: Ingests::default(),
        faults: Faults::default(),
        demo: Arc::new(DemoLoop::bundled()?),
        http: events::client(),
        tasks: TaskTracker::new(),
        cancel: CancellationToken::new(),
    });
    if ctx.config.demo {
        create_demo(&ctx).await?;
    }
    start_channels(&ctx).await;
    resume(&ctx).await;

    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, public_url = %ctx.config.public_url, "local harvester listening");
    }
    let cancel = ctx.cancel.clone();
    let served = axum::serve(listener, app(ctx.clone()))
        .with_graceful_shutdown(async move {
            shutdown.await;
            cancel.cancel();
        })
        .await;
    ctx.cancel.cancel();
    ctx.tasks.close();
    ctx.tasks.wait().await;
    ctx.live.keep_files();
    tracing::info!("local harvester stopped");
    served.map_err(HarvesterError::Serve)
}

/// Every route, with CORS on the live origin and the VOD egress (`/out/`): web players on other
/// origins fetch playlists and segments from there, which MediaPackage endpoints allow
/// (`Access-Control-Allow-Origin: *`). The management APIs stay same-origin, like AWS's.
fn app(ctx: Ctx) -> Router {
    let api = any_service(api::router(ctx));
    let out = api.clone().layer(CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD]));
    // Dispatched from a fallback rather than a `/out/{*path}` route: a route would add its own
    // path parameter to those the inner router's handlers extract.
    Router::new().fallback(move |request: Request| {
        let service = if request.uri().path().starts_with("/out/") { out.clone() } else { api.clone() };
        service.call(request, ())
    })
}

/// Creates the demo channel and its origin endpoint where missing. The stream is deemed to
/// have started a startover window before the channel was created, so the whole window can be
/// clipped at once.
async fn create_demo(ctx: &Ctx) -> Result<(), HarvesterError> {
    let config = &ctx.config;
    ctx.store
        .update(|state| {
            if !state.channels.contains_key(DEMO_CHANNEL_ID) {
                let epoch = Utc::now() - TimeDelta::seconds(i64::from(DEMO_STARTOVER_WINDOW_SECONDS));
                let description = Some("Demo: the bundled sample media looped as a live stream".to_owned());
                let channel = new_channel(
                    config,
                    DEMO_CHANNEL_ID,
                    description,
                    Default::default(),
                    ChannelSource::Demo { epoch },
                );
                state.channels.insert(channel.id.clone(), channel);
                tracing::info!(channel = DEMO_CHANNEL_ID, %epoch, "created the demo channel");
            }
            if !state.origin_endpoints.contains_key(DEMO_ORIGIN_ENDPOINT_ID) {
                let endpoint = OriginEndpoint {
                    id: DEMO_ORIGIN_ENDPOINT_ID.to_owned(),
                    arn: config.live_arn(&format!("origin_endpoints/{DEMO_ORIGIN_ENDPOINT_ID}")),
                    channel_id: DEMO_CHANNEL_ID.to_owned(),
                    description: Some("Demo: HLS with a one-hour startover window".to_owned()),
                    manifest_name: "index".to_owned(),
                    startover_window_seconds: DEMO_STARTOVER_WINDOW_SECONDS,
                    time_delay_seconds: 0,
                    // The bundled media is cut in 2 s segments, passed through as they are.
                    hls: LiveHlsPackage { segment_duration_seconds: 2, ..default_hls_package() },
                    origination: "ALLOW".to_owned(),
                    whitelist: Vec::new(),
                    tags: Default::default(),
                    created_at: Utc::now(),
                };
                state.origin_endpoints.insert(endpoint.id.clone(), endpoint);
            }
            Ok(())
        })
        .await
}

/// Gives every demo channel its buffer, filled up to now, and a feeder that keeps it current;
/// restores the buffer of every channel fed by an encoder from its spool.
async fn start_channels(ctx: &Ctx) {
    let channels: Vec<_> =
        ctx.store.read(|s| s.channels.values().map(|c| (c.id.clone(), c.source.clone())).collect()).await;
    for (channel_id, source) in channels {
        match source {
            ChannelSource::Demo { epoch } => {
                let buffer = ctx
                    .live
                    .get_or_insert(&channel_id, || LiveBuffer::new(ctx.demo.renditions().to_vec(), retention_for([])));
                ctx.refresh_retention(&channel_id).await;
                ctx.tasks.spawn(demo::run_feeder(ctx.demo.clone(), epoch, buffer, ctx.cancel.clone()));
            }
            ChannelSource::Ingest => ingest::restore(ctx, &channel_id).await,
        }
    }
}

/// Restarts what the previous run left unfinished: running jobs, ingests and deliveries.
async fn resume(ctx: &Ctx) {
    let (jobs, assets, deliveries) = ctx
        .store
        .read(|s| {
            let jobs: Vec<String> =
                s.harvest_jobs.values().filter(|j| j.status == JobStatus::InProgress).map(|j| j.id.clone()).collect();
            let assets: Vec<String> = s
                .assets
                .values()
                .filter(|a| matches!(a.status, IngestStatus::Queued | IngestStatus::Processing))
                .map(|a| a.id.clone())
                .collect();
            (jobs, assets, s.deliveries.clone())
        })
        .await;
    for id in jobs {
        tracing::info!(job = %id, "resuming harvest job");
        ctx.tasks.spawn(harvest::run(ctx.clone(), id));
    }
    for id in assets {
        tracing::info!(asset = %id, "resuming asset ingest");
        ctx.tasks.spawn(vod::ingest(ctx.clone(), id));
    }
    for (id, delivery) in deliveries {
        events::spawn_delivery(ctx, id, delivery);
    }
}
