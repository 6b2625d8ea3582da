//! GET /api/competitions/{competitionId}/clips[/{clipId}]: wiring only.

use clips::adapters::DynamoClips;
use clips::config::{Environment, TableConfig};
use clips::runtime::{aws_config, config_or_exit, init_logging};
use lambda_http::{Error, Request, RequestExt, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let config = config_or_exit(TableConfig::from_source(&Environment))?;
    let aws = aws_config().await;
    let store = DynamoClips::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name);
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
