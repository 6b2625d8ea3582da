//! POST /api/clip: wiring only; the handler is `clips::api::create_clip_handler`.

use clips::adapters::{DynamoClips, MediaPackageHarvester};
use clips::config::{CreateClipConfig, Environment};
use clips::runtime::{Aws, CallPolicy, config_or_exit, init_logging};
use lambda_http::{Error, Request, run, service_fn};

// One event at a time: worker threads would only add start-up time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(CreateClipConfig::from_source(&Environment))?;
    let aws = config_or_exit(Aws::from_env(CallPolicy::INTERACTIVE))?;
    let store = DynamoClips::new(aws.dynamodb(), &config.table.table_name);
    let harvester =
        MediaPackageHarvester::new(aws.mediapackage(), &config.origin_endpoint_id, config.destination.clone());
    let (store, harvester, config) = (&store, &harvester, &config);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(clips::api::create_clip_handler(store, harvester, config, &request, chrono::Utc::now()).await)
    }))
    .await
}
