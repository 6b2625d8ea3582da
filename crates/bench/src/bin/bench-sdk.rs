//! Attribution of the functions' cold start, step by step above `bench-hello`. `BENCH_STEP` says
//! how far init goes: `none` (the binary alone: its size, linked like a function's), `logging`
//! (the functions' JSON logs), `config` (also the functions' AWS set-up, `clips::runtime::Aws`),
//! `client` (also a DynamoDB client, as every function builds; the default). When the event
//! carries `"getItem": true`, each invocation makes one GetItem on `CLIPS_TABLE`.
//!
//! The functions' earlier choices, to show what each change bought in the same run:
//! `BENCH_LOGGING=env_filter` filters the logs with `EnvFilter` instead of `Targets`,
//! `BENCH_CONFIG=load_from_env` loads the AWS configuration with `aws_config::load_from_env`,
//! `BENCH_RUNTIME=multi_thread` runs on tokio's multi-thread runtime instead of current-thread.
//!
//! A change the functions could make: `BENCH_HTTP=lazy` gives the client an HTTPS client that is
//! the SDK's default but skips building a connector when the client is built (see [`Lazy`]).

use aws_sdk_dynamodb::config::{HttpClient, RuntimeComponents, SharedHttpClient};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{HttpConnectorSettings, SharedHttpConnector};
use clips::runtime::{Aws, CallPolicy, FlatJson};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn main() -> Result<(), Error> {
    let mut builder = if setting("BENCH_RUNTIME") == "multi_thread" {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    let step = std::env::var("BENCH_STEP").unwrap_or_else(|_| "client".to_owned());
    if step != "none" {
        init_logging();
    }
    let table = std::env::var("CLIPS_TABLE")?;
    let client = match step.as_str() {
        "none" | "logging" => None,
        _ if setting("BENCH_CONFIG") == "load_from_env" => {
            let sdk = aws_config::load_from_env().await;
            (step == "client").then(|| aws_sdk_dynamodb::Client::new(&sdk))
        }
        _ if setting("BENCH_HTTP") == "lazy" => (step == "client").then(lazy_tls_client).transpose()?,
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

fn init_logging() {
    if setting("BENCH_LOGGING") == "env_filter" {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let json = tracing_subscriber::fmt::layer().fmt_fields(JsonFields::new()).event_format(FlatJson);
        tracing_subscriber::registry().with(filter).with(json).init();
    } else {
        clips::runtime::init_logging();
    }
}

/// The SDK's default HTTPS client (rustls on aws-lc-rs, the platform's root certificates) with
/// the default `validate_base_client_config` of [`HttpClient`], which does nothing, instead of
/// the hyper client's, which builds a connector (parsing every root certificate) when each SDK
/// client is built and drops it: the connector is then built once, for the first request.
#[derive(Debug)]
struct Lazy(SharedHttpClient);

impl HttpClient for Lazy {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }
}

fn lazy_tls_client() -> Result<aws_sdk_dynamodb::Client, Error> {
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).build_https();
    let env = |name: &str| std::env::var(name);
    let credentials = aws_sdk_dynamodb::config::Credentials::new(
        env("AWS_ACCESS_KEY_ID")?,
        env("AWS_SECRET_ACCESS_KEY")?,
        None,
        None,
        "environment",
    );
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_dynamodb::config::Region::new(env("AWS_REGION")?))
        .credentials_provider(credentials)
        .endpoint_url(env("AWS_ENDPOINT_URL_DYNAMODB")?)
        .http_client(Lazy(https))
        .build();
    Ok(aws_sdk_dynamodb::Client::from_conf(config))
}
