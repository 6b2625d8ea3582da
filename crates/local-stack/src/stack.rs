//! The whole of live-clips on one machine: a DynamoDB-compatible server (dynalite), the local
//! harvester with its demo live channel and a VOD packaging group, the three function binaries
//! under the Lambda host, and the API gateway in front of them.
//!
//! The same `Stack` serves `local-stack up` and the end-to-end tests, so what the tests prove is
//! what a developer runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage};
use clips::adapters::PENDING_INDEX;
use http::Method;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::dynamodb_faults::DynamoFaultProxy;
use crate::error::LocalStackError;
use crate::gateway::{Route, gateway_router};
use crate::runtime::{FunctionHost, FunctionSpec};
use crate::site::{local_config, site_router};

/// Names the stack gives the resources it creates; the same names template.yaml's resources get
/// on AWS are not needed, only the same shapes.
pub const TABLE_NAME: &str = "live-clips-local";
pub const BUCKET: &str = "live-clips-local";
pub const HARVEST_PREFIX: &str = "clips/";
pub const PACKAGING_GROUP_ID: &str = "live-clips";
pub const PACKAGING_CONFIGURATION_ID: &str = "hls";
pub const HARVEST_ROLE_ARN: &str = "arn:aws:iam::000000000000:role/live-clips-local-mediapackage";
pub const REGION: &str = "us-east-1";
pub const STAGE: &str = "local";
const PROCESS_FUNCTION: &str = "process-harvested-clip";

/// Where the stack runs and what it overrides.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Holds `dynamodb/` and `harvester/`; state survives a restart on the same folder.
    pub data_dir: PathBuf,
    /// The folder with the `create-clip`, `list-clips` and `process-harvested-clip` binaries.
    pub bin_dir: PathBuf,
    /// The folder holding `node_modules/` with dynalite.
    pub node_dir: PathBuf,
    pub api_addr: SocketAddr,
    pub harvester_addr: SocketAddr,
    pub dynamodb_addr: SocketAddr,
    /// create-clip's `STARTOVER_WINDOW_SECONDS`; by default the demo origin endpoint's own
    /// window. Tests set it wider to make MediaPackage, not the API, refuse a window.
    pub startover_window_override: Option<u32>,
    /// The built clip studio (`web/dist`), served at `/` beside the API; `None` serves no page.
    pub site_dir: Option<PathBuf>,
    /// Whether the harvester delivers its events to process-harvested-clip. Tests turn it off
    /// to play MediaPackage losing every notification.
    pub deliver_events: bool,
    /// How often the stack sends process-harvested-clip the scheduled reconciliation event, as
    /// the deployment's EventBridge schedule does; `None` leaves it to the caller.
    pub reconcile_every: Option<Duration>,
    /// process-harvested-clip's `RECONCILE_AFTER_SECONDS`.
    pub reconcile_after_seconds: u32,
    /// Whether the functions reach dynalite through a [`DynamoFaultProxy`], so a test can make
    /// a share of their DynamoDB calls fail.
    pub dynamodb_fault_proxy: bool,
}

impl StackOptions {
    /// Every service on a free loopback port, binaries beside the running executable.
    ///
    /// # Errors
    /// When the executable's folder cannot be found.
    pub fn ephemeral(data_dir: PathBuf, node_dir: PathBuf) -> Result<Self, LocalStackError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Ok(Self {
            data_dir,
            bin_dir: binary_dir()?,
            node_dir,
            api_addr: any,
            harvester_addr: any,
            dynamodb_addr: any,
            startover_window_override: None,
            site_dir: None,
            deliver_events: true,
            reconcile_every: None,
            reconcile_after_seconds: 1,
            dynamodb_fault_proxy: false,
        })
    }
}

/// The folder cargo put this executable's sibling binaries in (`target/<profile>`), also when
/// the executable is a test in `target/<profile>/deps`.
///
/// # Errors
/// When the running executable's path is unknown.
pub fn binary_dir() -> Result<PathBuf, LocalStackError> {
    let exe =
        std::env::current_exe().map_err(|e| LocalStackError::Setup(format!("cannot locate this executable: {e}")))?;
    let dir = exe.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(if dir.ends_with("deps") { dir.parent().unwrap_or(&dir).to_path_buf() } else { dir })
}

/// A running stack; dropping it (or `shutdown`) stops every part.
pub struct Stack {
    pub api_url: String,
    pub harvester_url: String,
    pub dynamodb_url: String,
    /// The demo channel's live playlist, as the origin endpoint serves it.
    pub live_url: String,
    pub startover_window_seconds: u32,
    dynalite: Dynalite,
    dynamodb_faults: Option<DynamoFaultProxy>,
    harvester: Harvester,
    functions: Vec<FunctionHost>,
    stop_api: Option<oneshot::Sender<()>>,
    api: Option<JoinHandle<()>>,
    /// The periodic reconciliation; stopped, not awaited, since it only wakes once a minute.
    schedule: Option<JoinHandle<()>>,
}

impl Stack {
    /// Starts every part and waits until each answers.
    ///
    /// # Errors
    /// The first part that does not start, with the reason.
    pub async fn start(options: StackOptions) -> Result<Self, LocalStackError> {
        let setup = |what: &str, e: &dyn std::fmt::Display| LocalStackError::Setup(format!("{what}: {e}"));
        std::fs::create_dir_all(options.data_dir.join("dynamodb")).map_err(|e| setup("data folder", &e))?;

        let dynalite = Dynalite::start(&options).await?;
        let dynamodb_url = dynalite.url();
        let dynamodb_faults = match options.dynamodb_fault_proxy {
            true => Some(DynamoFaultProxy::start(&dynamodb_url).await?),
            false => None,
        };
        let api_listener = TcpListener::bind(options.api_addr).await.map_err(|e| setup("API address", &e))?;
        let api_addr = api_listener.local_addr().map_err(|e| setup("API address", &e))?;
        let api_url = format!("http://{api_addr}");
        let harvester_listener =
            TcpListener::bind(options.harvester_addr).await.map_err(|e| setup("harvester address", &e))?;
        let harvester_addr = harvester_listener.local_addr().map_err(|e| setup("harvester address", &e))?;
        let harvester_url = format!("http://{harvester_addr}");

        let public_url = format!("{harvester_url}/").parse().map_err(|e| setup("harvester URL", &e))?;
        let mut harvester_config =
            local_harvester::HarvesterConfig::new(options.data_dir.join("harvester"), public_url);
        if options.deliver_events {
            let target = format!("{api_url}/2015-03-31/functions/{PROCESS_FUNCTION}/invocations");
            harvester_config.event_targets = vec![target.parse().map_err(|e| setup("event target", &e))?];
        }
        harvester_config.region = REGION.to_owned();
        harvester_config.account_id = crate::ACCOUNT_ID.to_owned();
        harvester_config.demo = true;
        let harvester = Harvester::spawn(harvester_listener, harvester_config);

        let clients = LocalClients::new(&dynamodb_url, &harvester_url).await;
        wait_for_port(harvester_addr, "the local harvester").await?;
        create_table(&clients.dynamodb).await?;
        let startover = demo_startover_window(&clients.mediapackage).await?;
        create_packaging(&clients.vod).await?;

        let startover_window_seconds = options.startover_window_override.unwrap_or(startover);
        let functions_dynamodb_url = dynamodb_faults.as_ref().map_or(&dynamodb_url, |proxy| &proxy.url);
        let mut env = function_env(functions_dynamodb_url, &harvester_url, startover_window_seconds);
        env.push(("RECONCILE_AFTER_SECONDS".to_owned(), options.reconcile_after_seconds.to_string()));
        let mut functions = Vec::new();
        for name in ["create-clip", "list-clips", PROCESS_FUNCTION] {
            let mut spec = FunctionSpec::new(name, options.bin_dir.join(name));
            spec.env = env.clone();
            spec.concurrency = 2;
            spec.region = REGION.to_owned();
            functions.push(FunctionHost::start(spec).await?);
        }
        let routes = vec![
            Route::new(Method::POST, "/api/clip", "create-clip"),
            Route::new(Method::GET, "/api/competitions/{competitionId}/clips", "list-clips"),
            Route::new(Method::GET, "/api/competitions/{competitionId}/clips/{clipId}", "list-clips"),
        ];
        let router = gateway_router(functions.clone(), routes, STAGE)?;
        let live_url = format!("{harvester_url}/out/v1/{}/index.m3u8", local_harvester::DEMO_ORIGIN_ENDPOINT_ID);
        let router = match &options.site_dir {
            Some(dist) => router.merge(site_router(dist.clone(), local_config(&live_url))),
            None => router,
        };
        let (stop_api, api_stopped) = oneshot::channel::<()>();
        let api = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let shutdown = async {
                api_stopped.await.ok();
            };
            if let Err(err) = axum::serve(api_listener, service).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %err, "API gateway stopped");
            }
        });

        let mut stack = Self {
            api_url,
            live_url,
            harvester_url,
            dynamodb_url,
            startover_window_seconds,
            dynalite,
            dynamodb_faults,
            harvester,
            functions,
            stop_api: Some(stop_api),
            api: Some(api),
            schedule: None,
        };
        if let Some(every) = options.reconcile_every {
            let process = stack.functions.iter().find(|f| f.name() == PROCESS_FUNCTION).cloned();
            stack.schedule = process.map(|f| tokio::spawn(reconcile_periodically(f, every)));
        }
        Ok(stack)
    }

    /// Sends process-harvested-clip EventBridge's scheduled event, as the deployment's schedule
    /// rule does, so clips whose notification was lost are found.
    pub async fn reconcile(&self) -> Result<(), LocalStackError> {
        let process = self.functions.iter().find(|f| f.name() == PROCESS_FUNCTION);
        let process = process.ok_or_else(|| LocalStackError::FunctionNotFound(PROCESS_FUNCTION.to_owned()))?;
        process.invoke(scheduled_event()).await.map(drop)
    }

    /// The proxy the functions reach DynamoDB through, when the options asked for one.
    pub fn dynamodb_faults(&self) -> Option<&DynamoFaultProxy> {
        self.dynamodb_faults.as_ref()
    }

    /// Stops dynalite and starts it again on the same port and data, as a DynamoDB outage
    /// the functions must ride out.
    ///
    /// # Errors
    /// dynalite does not come back.
    pub async fn restart_dynalite(&mut self) -> Result<(), LocalStackError> {
        self.dynalite.restart().await
    }

    /// Stops the harvester (its background work cancelled, as at a crash) and starts it again
    /// on the same address and data folder.
    ///
    /// # Errors
    /// The address cannot be bound again.
    pub async fn restart_harvester(&mut self) -> Result<(), LocalStackError> {
        let config = self.harvester.config.clone();
        let addr = self.harvester.addr;
        self.harvester.stop().await;
        let listener =
            TcpListener::bind(addr).await.map_err(|e| LocalStackError::Setup(format!("harvester address: {e}")))?;
        self.harvester = Harvester::spawn(listener, config);
        wait_for_port(addr, "the local harvester").await
    }

    /// Stops the API, the functions, the harvester and dynalite, in that order, so nothing is
    /// left half-done by a part that went away first.
    pub async fn shutdown(mut self) {
        if let Some(schedule) = self.schedule.take() {
            schedule.abort();
        }
        if let Some(stop) = self.stop_api.take() {
            stop.send(()).ok();
        }
        for function in &self.functions {
            function.shutdown().await;
        }
        if let Some(api) = self.api.take() {
            api.await.ok();
        }
        self.harvester.stop().await;
        self.dynalite.child.kill().await.ok();
    }
}

/// The in-process harvester and what it takes to start it again.
struct Harvester {
    config: local_harvester::HarvesterConfig,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Harvester {
    fn spawn(listener: TcpListener, config: local_harvester::HarvesterConfig) -> Self {
        let addr = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let (stop, stopped) = oneshot::channel::<()>();
        let served = config.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                stopped.await.ok();
            };
            if let Err(err) = local_harvester::serve(listener, served, shutdown).await {
                tracing::error!(error = %err, "local harvester stopped");
            }
        });
        Self { config, addr, stop: Some(stop), task: Some(task) }
    }

    /// Stops serving and waits for the background work to end.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            task.await.ok();
        }
    }
}

async fn reconcile_periodically(process: FunctionHost, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    // A run that took longer than the period is not made up for with a burst of runs.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(err) = process.invoke(scheduled_event()).await {
            tracing::warn!(error = %err, "scheduled reconciliation was not delivered");
            return;
        }
    }
}

/// EventBridge's "Scheduled Event", as a schedule rule delivers it.
fn scheduled_event() -> bytes::Bytes {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "version": "0",
        "id": format!("local-{}", chrono::Utc::now().timestamp_millis()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": crate::ACCOUNT_ID,
        "time": now,
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{}:rule/live-clips-reconcile", crate::ACCOUNT_ID)],
        "detail": {}
    })
    .to_string()
    .into()
}

/// The settings a deployment gives the functions, pointed at the local parts.
fn function_env(dynamodb_url: &str, harvester_url: &str, startover_window_seconds: u32) -> Vec<(String, String)> {
    [
        ("CLIPS_TABLE", TABLE_NAME.to_owned()),
        ("HARVEST_BUCKET", BUCKET.to_owned()),
        ("HARVEST_PREFIX", HARVEST_PREFIX.to_owned()),
        ("HARVEST_ROLE_ARN", HARVEST_ROLE_ARN.to_owned()),
        ("ORIGIN_ENDPOINT_ID", local_harvester::DEMO_ORIGIN_ENDPOINT_ID.to_owned()),
        ("STARTOVER_WINDOW_SECONDS", startover_window_seconds.to_string()),
        ("PACKAGING_GROUP_ID", PACKAGING_GROUP_ID.to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url.to_owned()),
        ("AWS_ENDPOINT_URL_MEDIAPACKAGE", harvester_url.to_owned()),
        ("AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD", harvester_url.to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// SDK clients for the local parts, with dummy credentials (nothing local checks them).
#[derive(Debug, Clone)]
pub struct LocalClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub mediapackage: aws_sdk_mediapackage::Client,
    pub vod: aws_sdk_mediapackagevod::Client,
}

impl LocalClients {
    pub async fn new(dynamodb_url: &str, harvester_url: &str) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-stack",
            ))
            .load()
            .await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(dynamodb_url).build(),
            ),
            mediapackage: aws_sdk_mediapackage::Client::from_conf(
                aws_sdk_mediapackage::config::Builder::from(&sdk).endpoint_url(harvester_url).build(),
            ),
            vod: aws_sdk_mediapackagevod::Client::from_conf(
                aws_sdk_mediapackagevod::config::Builder::from(&sdk).endpoint_url(harvester_url).build(),
            ),
        }
    }
}

/// How long a local part may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

async fn wait_for_port(addr: SocketAddr, what: &str) -> Result<(), LocalStackError> {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if tokio::time::Instant::now() > deadline {
            return Err(LocalStackError::Setup(format!("{what} did not listen on {addr} within {READY_TIMEOUT:?}")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// dynalite from the project's node_modules, on loopback, storing under `data_dir/dynamodb`.
struct Dynalite {
    cli: PathBuf,
    addr: SocketAddr,
    path: PathBuf,
    child: Child,
}

impl Dynalite {
    async fn start(options: &StackOptions) -> Result<Self, LocalStackError> {
        let cli = options.node_dir.join("node_modules/dynalite/cli.js");
        if !cli.exists() {
            return Err(LocalStackError::Setup(format!(
                "{} is missing: run `npm ci` in {} first (the README's commands do)",
                cli.display(),
                options.node_dir.display()
            )));
        }
        let addr = if options.dynamodb_addr.port() == 0 {
            // dynalite cannot report the port it bound, so pick a free one for it.
            std::net::TcpListener::bind(options.dynamodb_addr)
                .and_then(|l| l.local_addr())
                .map_err(|e| LocalStackError::Setup(format!("no free port for dynalite: {e}")))?
        } else {
            options.dynamodb_addr
        };
        let path = options.data_dir.join("dynamodb");
        let child = Self::spawn(&cli, addr, &path).await?;
        Ok(Self { cli, addr, path, child })
    }

    async fn spawn(cli: &Path, addr: SocketAddr, path: &Path) -> Result<Child, LocalStackError> {
        let child = Command::new("node")
            .arg(cli)
            .args(["--host", &addr.ip().to_string(), "--port", &addr.port().to_string(), "--path"])
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| LocalStackError::Setup(format!("cannot start dynalite with node: {e}")))?;
        wait_for_port(addr, "dynalite").await?;
        Ok(child)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn restart(&mut self) -> Result<(), LocalStackError> {
        self.child.kill().await.ok();
        self.child = Self::spawn(&self.cli, self.addr, &self.path).await?;
        Ok(())
    }
}

/// The clips table with template.yaml's key schema: HASH `competition`, RANGE `clip`, and the
/// sparse index of unfinished clips the reconciliation reads.
async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<(), LocalStackError> {
    let attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let result = client
        .create_table()
        .table_name(TABLE_NAME)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("competition").map_err(sdk_build)?)
        .attribute_definitions(attribute("clip").map_err(sdk_build)?)
        .attribute_definitions(attribute("pending").map_err(sdk_build)?)
        .attribute_definitions(attribute("updatedAt").map_err(sdk_build)?)
        .key_schema(key("competition", KeyType::Hash).map_err(sdk_build)?)
        .key_schema(key("clip", KeyType::Range).map_err(sdk_build)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(PENDING_INDEX)
                .key_schema(key("pending", KeyType::Hash).map_err(sdk_build)?)
                .key_schema(key("updatedAt", KeyType::Range).map_err(sdk_build)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(sdk_build)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(err) => {
            return Err(LocalStackError::Setup(format!(
                "cannot create table {TABLE_NAME}: {}",
                DisplayErrorContext(err)
            )));
        }
    }
    // dynalite creates tables asynchronously, as DynamoDB does.
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        let table = client.describe_table().table_name(TABLE_NAME).send().await.ok().and_then(|t| t.table);
        if table.and_then(|t| t.table_status).is_some_and(|s| s == aws_sdk_dynamodb::types::TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(LocalStackError::Setup(format!("table {TABLE_NAME} did not become ACTIVE")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sdk_build(err: aws_sdk_dynamodb::error::BuildError) -> LocalStackError {
    LocalStackError::Setup(format!("invalid table definition: {err}"))
}

/// The demo origin endpoint's startover window: what create-clip must check windows against.
async fn demo_startover_window(client: &aws_sdk_mediapackage::Client) -> Result<u32, LocalStackError> {
    let endpoint = client
        .describe_origin_endpoint()
        .id(local_harvester::DEMO_ORIGIN_ENDPOINT_ID)
        .send()
        .await
        .map_err(|e| LocalStackError::Setup(format!("demo origin endpoint: {}", DisplayErrorContext(e))))?;
    endpoint
        .startover_window_seconds()
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0)
        .ok_or_else(|| LocalStackError::Setup("the demo origin endpoint has no startover window".into()))
}

/// The VOD packaging group clips are ingested into, with one HLS packaging configuration.
async fn create_packaging(client: &aws_sdk_mediapackagevod::Client) -> Result<(), LocalStackError> {
    match client.create_packaging_group().id(PACKAGING_GROUP_ID).send().await {
        Ok(_) => {}
        Err(err) if already_exists(&err) => {}
        Err(err) => return Err(LocalStackError::Setup(format!("packaging group: {}", DisplayErrorContext(err)))),
    }
    let manifest = HlsManifest::builder().manifest_name("index").build();
    let package = HlsPackage::builder().hls_manifests(manifest).segment_duration_seconds(6).build();
    match client
        .create_packaging_configuration()
        .id(PACKAGING_CONFIGURATION_ID)
        .packaging_group_id(PACKAGING_GROUP_ID)
        .hls_package(package)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if already_exists(&err) => Ok(()),
        Err(err) => Err(LocalStackError::Setup(format!("packaging configuration: {}", DisplayErrorContext(err)))),
    }
}

/// MediaPackage VOD answers a create for an existing id with 422; for set-up that means done.
fn already_exists<E>(
    err: &aws_sdk_mediapackagevod::error::SdkError<E, aws_sdk_mediapackagevod::config::http::HttpResponse>,
) -> bool {
    err.raw_response().is_some_and(|r| r.status().as_u16() == 422)
}
