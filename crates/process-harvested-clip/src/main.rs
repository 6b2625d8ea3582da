//! EventBridge: MediaPackage harvest-job and VOD input notifications, and the scheduled
//! reconciliation of clips whose notification never came. Wiring only; the work is
//! `clips::workflow::process_event`.

use clips::adapters::{DynamoClips, MediaPackageJobs, MediaPackageVod};
use clips::config::{Environment, ProcessConfig};
use clips::runtime::{aws_config, config_or_exit, init_logging};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(ProcessConfig::from_source(&Environment))?;
    let aws = aws_config().await;
    let store = DynamoClips::new(aws_sdk_dynamodb::Client::new(&aws), &config.table.table_name);
    let vod = MediaPackageVod::new(
        aws_sdk_mediapackagevod::Client::new(&aws),
        &config.packaging_group_id,
        &config.destination.role_arn,
    );
    let jobs = MediaPackageJobs::new(aws_sdk_mediapackage::Client::new(&aws));
    let (store, vod, jobs, config) = (&store, &vod, &jobs, &config);
    // The event is taken as raw JSON: a shape we do not know must be acknowledged, not bounced
    // back by the runtime as a deserialization error that EventBridge would retry.
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        clips::workflow::handle_event(store, vod, jobs, config, &event.payload, chrono::Utc::now()).await
    }))
    .await
}
