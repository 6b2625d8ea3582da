//! POST /api/clip: wiring only; the handler is `clips::api::create_clip_handler`.

use clips::adapters::{DynamoClips, MediaPackageHarvester};
use clips::config::{CreateClipConfig, Environment};
use clips::runtime::{aws_config, config_or_exit, init_logging};
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(CreateClipConfig::from_source(&Environment))?;
    let aws = aws_config().await;
    let store = DynamoClips::new(aws_sdk_dynamodb::Client::new(&aws), &config.table.table_name);
    let harvester = MediaPackageHarvester::new(
        aws_sdk_mediapackage::Client::new(&aws),
        &config.origin_endpoint_id,
        config.destination.clone(),
    );
    let (store, harvester, config) = (&store, &harvester, &config);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(clips::api::create_clip_handler(store, harvester, config, &request, chrono::Utc::now()).await)
    }))
    .await
}
