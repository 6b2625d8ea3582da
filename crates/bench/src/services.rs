//! The local parts the functions talk to, started the way `local_stack::stack` starts them but
//! without the stack's own function hosts and event delivery: nothing else runs on the machine
//! while a function is measured.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage};
use local_stack::stack::LocalClients;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TABLE: &str = "live-clips-bench";
pub const BUCKET: &str = "live-clips-bench";
pub const PACKAGING_GROUP_ID: &str = "live-clips";
const ROLE_ARN: &str = "arn:aws:iam::000000000000:role/live-clips-bench";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// dynalite and the local harvester (demo channel, no event targets), with the clips table and
/// the VOD packaging group created.
pub struct Services {
    pub dynamodb_url: String,
    pub harvester_url: String,
    pub clients: LocalClients,
    dynalite: Child,
    stop_harvester: Option<oneshot::Sender<()>>,
    harvester: Option<JoinHandle<()>>,
}

impl Services {
    /// Starts both under `data_dir`; `node_dir` holds `node_modules/dynalite`.
    ///
    /// # Errors
    /// A part that does not start or answer.
    pub async fn start(data_dir: &Path, node_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir.join("dynamodb")).context("data folder")?;
        let cli = node_dir.join("node_modules/dynalite/cli.js");
        if !cli.exists() {
            bail!("{} is missing: run `npm ci` in {} first", cli.display(), node_dir.display());
        }
        // dynalite cannot report the port it bound, so pick a free one for it.
        let dynamo_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let dynalite = Command::new("node")
            .arg(&cli)
            .args(["--host", "127.0.0.1", "--port", &dynamo_addr.port().to_string(), "--path"])
            .arg(data_dir.join("dynamodb"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start dynalite with node")?;
        wait_for_port(dynamo_addr).await?;
        let dynamodb_url = format!("http://{dynamo_addr}");

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let harvester_addr = listener.local_addr()?;
        let harvester_url = format!("http://{harvester_addr}");
        let config = local_harvester::HarvesterConfig {
            data_dir: data_dir.join("harvester"),
            public_url: format!("{harvester_url}/").parse()?,
            event_targets: Vec::new(),
            region: local_stack::DEFAULT_REGION.to_owned(),
            account_id: local_stack::ACCOUNT_ID.to_owned(),
            demo: true,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let harvester = tokio::spawn(async move {
            let shutdown = async {
                stopped.await.ok();
            };
            if let Err(err) = local_harvester::serve(listener, config, shutdown).await {
                eprintln!("local harvester stopped: {err}");
            }
        });
        wait_for_port(harvester_addr).await?;
        let clients = LocalClients::new(&dynamodb_url, &harvester_url).await;
        create_table(&clients.dynamodb).await?;
        create_packaging(&clients.vod).await?;
        Ok(Self {
            dynamodb_url,
            harvester_url,
            clients,
            dynalite,
            stop_harvester: Some(stop),
            harvester: Some(harvester),
        })
    }

    /// The configuration a deployment gives the functions, pointed at these parts.
    pub fn function_env(&self) -> Vec<(String, String)> {
        [
            ("CLIPS_TABLE", TABLE),
            ("HARVEST_BUCKET", BUCKET),
            ("HARVEST_PREFIX", "clips/"),
            ("HARVEST_ROLE_ARN", ROLE_ARN),
            ("ORIGIN_ENDPOINT_ID", local_harvester::DEMO_ORIGIN_ENDPOINT_ID),
            ("STARTOVER_WINDOW_SECONDS", "3600"),
            ("PACKAGING_GROUP_ID", PACKAGING_GROUP_ID),
            ("AWS_ENDPOINT_URL_DYNAMODB", &self.dynamodb_url),
            ("AWS_ENDPOINT_URL_MEDIAPACKAGE", &self.harvester_url),
            ("AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD", &self.harvester_url),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop_harvester.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.harvester.take() {
            task.await.ok();
        }
        self.dynalite.kill().await.ok();
    }
}

async fn wait_for_port(addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on {addr} after {READY_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<()> {
    let attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("competition")?)
        .attribute_definitions(attribute("clip")?)
        .key_schema(key("competition", KeyType::Hash)?)
        .key_schema(key("clip", KeyType::Range)?)
        .send()
        .await
        .map_err(sdk_error)
        .context("create table")?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let table = client.describe_table().table_name(TABLE).send().await.ok().and_then(|t| t.table);
        if table.and_then(|t| t.table_status) == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("table {TABLE} did not become ACTIVE");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create_packaging(client: &aws_sdk_mediapackagevod::Client) -> Result<()> {
    client
        .create_packaging_group()
        .id(PACKAGING_GROUP_ID)
        .send()
        .await
        .map_err(sdk_error)
        .context("packaging group")?;
    let manifest = HlsManifest::builder().manifest_name("index").build();
    let package = HlsPackage::builder().hls_manifests(manifest).segment_duration_seconds(6).build();
    client
        .create_packaging_configuration()
        .id("hls")
        .packaging_group_id(PACKAGING_GROUP_ID)
        .hls_package(package)
        .send()
        .await
        .map_err(sdk_error)
        .context("packaging configuration")?;
    Ok(())
}

/// An SDK error with its whole cause chain in the message (the SDK's own `Display` says only
/// "service error").
pub fn sdk_error<E: std::error::Error + Send + Sync + 'static>(err: E) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))
}
