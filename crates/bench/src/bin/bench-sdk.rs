//! Attribution of the functions' cold start, step by step above `bench-hello`. `BENCH_STEP` says
//! how far init goes: `logging` (the functions' JSON logs), `config` (also the shared AWS
//! configuration), `client` (also a DynamoDB client, as every function builds; the default).
//! When the event carries `"getItem": true`, each invocation makes one GetItem on `CLIPS_TABLE`.
//! `BENCH_RUNTIME=current_thread` runs it on tokio's current-thread runtime instead of the
//! functions' multi-thread one.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

fn main() -> Result<(), Error> {
    let current_thread = std::env::var("BENCH_RUNTIME").is_ok_and(|v| v == "current_thread");
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    let step = std::env::var("BENCH_STEP").unwrap_or_else(|_| "client".to_owned());
    clips::runtime::init_logging();
    let table = std::env::var("CLIPS_TABLE")?;
    let aws = if step == "logging" { None } else { Some(clips::runtime::aws_config().await) };
    let client = aws.as_ref().filter(|_| step == "client").map(aws_sdk_dynamodb::Client::new);
    let (client, table) = (&client, &table);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        if let Some(client) =
            client.as_ref().filter(|_| event.payload.get("getItem").and_then(Value::as_bool) == Some(true))
        {
            client
                .get_item()
                .table_name(table)
                .key("competition", AttributeValue::S("100m-final".into()))
                .key("clip", AttributeValue::S("20261121T093000Z-abcdefghjk".into()))
                .send()
                .await?;
        }
        Ok::<_, Error>(json!({ "ok": true }))
    }))
    .await
}
