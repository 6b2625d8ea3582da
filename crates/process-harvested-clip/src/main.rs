//! EventBridge: MediaPackage harvest-job and VOD input notifications, and the scheduled
//! reconciliation of clips whose notification never came. Wiring only; the work is
//! `clips::workflow::process_event`.

use clips::adapters::{DynamoClips, MediaPackageJobs, MediaPackageVod};
use clips::config::{Environment, ProcessConfig};
use clips::runtime::{Aws, CallPolicy, config_or_exit, init_logging};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

// One event at a time: worker threads would only add start-up time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(ProcessConfig::from_source(&Environment))?;
    let aws = config_or_exit(Aws::from_env(CallPolicy::BACKGROUND))?;
    let store = DynamoClips::new(aws.dynamodb(), &config.table.table_name);
    let vod = MediaPackageVod::new(aws.mediapackage_vod(), &config.packaging_group_id, &config.destination.role_arn);
    let jobs = MediaPackageJobs::new(aws.mediapackage());
    let (store, vod, jobs, config) = (&store, &vod, &jobs, &config);
    // The event is taken as raw JSON: a shape we do not know must be acknowledged, not bounced
    // back by the runtime as a deserialization error that EventBridge would retry.
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        clips::workflow::handle_event(store, vod, jobs, config, &event.payload, chrono::Utc::now()).await
    }))
    .await
}
