//! `local-harvester`: runs the MediaPackage + MediaPackage VOD stand-in until ctrl-c or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use local_harvester::{HarvesterConfig, S3Endpoint, serve_with_s3};
use tracing_subscriber::EnvFilter;
use url::Url;

/// Offline AWS Elemental MediaPackage (live + harvest jobs) and MediaPackage VOD.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "HARVESTER_LISTEN", default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// Directory for the state file and the buckets.
    #[arg(long, env = "HARVESTER_DATA_DIR", default_value = ".data/harvester")]
    data_dir: PathBuf,
    /// Base URL put into returned URLs; defaults to http://{listen}/.
    #[arg(long, env = "HARVESTER_PUBLIC_URL")]
    public_url: Option<Url>,
    /// URL every event is POSTed to (repeatable), e.g.
    /// http://127.0.0.1:9000/2015-03-31/functions/process-harvested-clip/invocations.
    #[arg(long = "event-target", env = "HARVESTER_EVENT_TARGETS", value_delimiter = ',')]
    event_targets: Vec<Url>,
    /// Create the demo channel and origin endpoint if they do not exist.
    #[arg(long, env = "HARVESTER_DEMO")]
    demo: bool,
    /// AWS region used in ARNs and events.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// AWS account id used in ARNs and events.
    #[arg(long, env = "HARVESTER_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
    /// S3-compatible service to keep the buckets in (path-style), e.g. http://127.0.0.1:4568;
    /// without it a bucket is a folder under the data directory.
    #[arg(long, env = "HARVESTER_S3_ENDPOINT")]
    s3_endpoint: Option<Url>,
    /// Access key id for --s3-endpoint.
    #[arg(long, env = "HARVESTER_S3_ACCESS_KEY_ID", default_value = "test")]
    s3_access_key_id: String,
    /// Secret access key for --s3-endpoint.
    #[arg(long, env = "HARVESTER_S3_SECRET_ACCESS_KEY", default_value = "test", hide_env_values = true)]
    s3_secret_access_key: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let cli = Cli::parse();
    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(address = %cli.listen, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let public_url = match cli.public_url {
        Some(url) => url,
        None => Url::parse(&format!("http://{}/", cli.listen)).expect("a socket address makes a valid URL"),
    };
    let config = HarvesterConfig {
        data_dir: cli.data_dir,
        public_url,
        event_targets: cli.event_targets,
        region: cli.region,
        account_id: cli.account_id,
        demo: cli.demo,
    };
    let s3 = cli.s3_endpoint.map(|url| S3Endpoint {
        url,
        access_key_id: cli.s3_access_key_id,
        secret_access_key: cli.s3_secret_access_key,
    });
    match serve_with_s3(listener, config, s3, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            tracing::error!(error = %message, "local harvester failed");
            ExitCode::FAILURE
        }
    }
}

/// Completes on ctrl-c or, on Unix, SIGTERM (what `docker stop` and process managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
