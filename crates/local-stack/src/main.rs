//! `local-stack`: live-clips on this machine, with a demo live channel, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use local_stack::stack::{BUCKET, HARVEST_PREFIX, Stack, StackOptions, binary_dir};

/// Runs the local stack: DynamoDB (dynalite), the local MediaPackage harvester with a demo live
/// channel, the three clip functions, and the clip API in front of them.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Where DynamoDB and the harvester keep their state; it survives restarts.
    #[arg(long, env = "LIVE_CLIPS_DATA_DIR", default_value = ".data")]
    data_dir: PathBuf,
    /// The folder holding node_modules/ with dynalite.
    #[arg(long, default_value = ".")]
    node_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:3000")]
    api: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:4566")]
    harvester: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:8000")]
    dynamodb: SocketAddr,
    /// The built clip studio, served at the API's `/` (`npm run build` in web/ makes it).
    #[arg(long, default_value = "web/dist")]
    site_dir: PathBuf,
}

/// The local schedule of the reconciliation of clips whose events were lost, and how old a clip
/// must be to be looked at.
const RECONCILE_EVERY_SECONDS: u64 = 60;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn")),
        )
        .init();
    let args = Args::parse();
    let stack = Stack::start(StackOptions {
        data_dir: args.data_dir.clone(),
        bin_dir: binary_dir()?,
        node_dir: args.node_dir,
        api_addr: args.api,
        harvester_addr: args.harvester,
        dynamodb_addr: args.dynamodb,
        startover_window_override: None,
        site_dir: Some(args.site_dir.clone()),
        deliver_events: true,
        reconcile_every: Some(std::time::Duration::from_secs(RECONCILE_EVERY_SECONDS)),
        reconcile_after_seconds: RECONCILE_EVERY_SECONDS as u32,
        dynamodb_fault_proxy: false,
    })
    .await?;
    let api = &stack.api_url;
    println!(
        "\nlive-clips is running locally.\n\n\
         \x20 Clip studio         {api}/\n\
         \x20 Clip API            {api}/api\n\
         \x20 Live stream (demo)  {live}\n\
         \x20 MediaPackage (local harvester)  {harvester}\n\
         \x20 DynamoDB (dynalite)             {dynamodb}\n\
         \x20 Harvested clips     {bucket_dir}\n\n\
         Make a clip of the last 30 seconds:\n\n\
         \x20 curl -si -X POST {api}/api/clip -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"competition\":\"demo\",\"title\":\"My first clip\",\"duration\":30}}'\n\n\
         Then list the competition's clips (READY within seconds, with a playback URL):\n\n\
         \x20 curl -s {api}/api/competitions/demo/clips\n\n\
         Ctrl-C stops everything; state is kept in {data}.\n",
        live = stack.live_url,
        harvester = stack.harvester_url,
        dynamodb = stack.dynamodb_url,
        bucket_dir = args.data_dir.join("harvester/buckets").join(BUCKET).join(HARVEST_PREFIX).display(),
        data = args.data_dir.display(),
    );
    shutdown_signal().await;
    println!("stopping…");
    stack.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.ok();
}
