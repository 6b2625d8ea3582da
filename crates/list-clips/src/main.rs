//! GET /api/competitions/{competitionId}/clips[/{clipId}]: wiring only.

use clips::adapters::DynamoClips;
use clips::config::{Environment, TableConfig};
use clips::runtime::{Aws, CallPolicy, config_or_exit, init_logging};
use lambda_http::{Error, Request, RequestExt, run, service_fn};

// One event at a time: worker threads would only add start-up time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(TableConfig::from_source(&Environment))?;
    let aws = config_or_exit(Aws::from_env(CallPolicy::INTERACTIVE))?;
    let store = DynamoClips::new(aws.dynamodb(), &config.table_name);
    let store = &store;
    run(service_fn(move |request: Request| async move {
        // One function serves both routes; the clip route is the one with a clipId.
        let response = if request.path_parameters().first("clipId").is_some() {
            clips::api::get_clip_handler(store, &request).await
        } else {
            clips::api::list_clips_handler(store, &request).await
        };
        Ok::<_, Error>(response)
    }))
    .await
}
