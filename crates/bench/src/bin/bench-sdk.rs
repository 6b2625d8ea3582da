//! Attribution of the functions' cold start, step by step above `bench-hello`. `BENCH_STEP` says
//! how far init goes: `none` (the binary alone: its size, linked like a function's), `logging`
//! (the functions' JSON logs), `config` (also the functions' AWS set-up, `clips::runtime::Aws`,
//! with its HTTPS client), `client` (also a DynamoDB client, as every function builds; the
//! default). When the event carries `"getItem": true`, each invocation makes one GetItem on
//! `CLIPS_TABLE`.
//!
//! `BENCH_ROOTS=platform` builds the client with the trust store the functions used before, the
//! platform's root certificates (the SDK's default), on the same rustls and ring, so the rows
//! show what the compiled-in roots bought in the same run.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use clips::runtime::{Aws, CallPolicy};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

fn main() -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    let step = std::env::var("BENCH_STEP").unwrap_or_else(|_| "client".to_owned());
    if step != "none" {
        clips::runtime::init_logging();
    }
    let table = std::env::var("CLIPS_TABLE")?;
    let client = match step.as_str() {
        "none" | "logging" => None,
        "client" if std::env::var("BENCH_ROOTS").is_ok_and(|roots| roots == "platform") => {
            Some(platform_roots_client()?)
        }
        _ => {
            let aws = Aws::from_env(CallPolicy::INTERACTIVE)?;
            (step == "client").then(|| aws.dynamodb())
        }
    };
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

/// A DynamoDB client as `Aws` builds it, but trusting the platform's root certificates, read
/// from disk whenever a connector is built.
fn platform_roots_client() -> Result<aws_sdk_dynamodb::Client, Error> {
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let env = |name: &str| std::env::var(name);
    let credentials =
        Credentials::new(env("AWS_ACCESS_KEY_ID")?, env("AWS_SECRET_ACCESS_KEY")?, None, None, "environment");
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(Region::new(env("AWS_REGION")?))
        .credentials_provider(credentials)
        .endpoint_url(env("AWS_ENDPOINT_URL_DYNAMODB")?)
        .http_client(https)
        .build();
    Ok(aws_sdk_dynamodb::Client::from_conf(config))
}
