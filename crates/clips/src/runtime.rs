//! Start-up shared by the three functions: JSON logs and one AWS configuration per cold start.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{
    Credentials, HttpClient, RuntimeComponents, SharedCredentialsProvider, SharedHttpClient,
};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpConnectorSettings, SharedHttpConnector};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::{Targets, filter_fn};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields, MakeWriter};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{ConfigError, Environment, Source};

/// JSON logs (CloudWatch-friendly), one object a line, levels from [`log_levels`].
/// See [`FlatJson`] for the shape of a line.
pub fn init_logging() {
    tracing_subscriber::registry().with(log_levels(&Environment)).with(json_lines(std::io::stdout)).init();
}

/// Levels per target from `RUST_LOG` (`info,clips=debug`), else the level Lambda's advanced
/// logging controls set in `AWS_LAMBDA_LOG_LEVEL`, else `info`.
///
/// `Targets` rather than `EnvFilter`: a level per module is all the functions need, and
/// `Targets` reads `RUST_LOG`'s usual form without `EnvFilter`'s span and field directives
/// (their start-up cost measured the same; see docs/performance.md).
fn log_levels(source: &impl Source) -> Targets {
    let info = || Targets::new().with_default(LevelFilter::INFO);
    if let Some(directives) = source.get("RUST_LOG") {
        return directives.parse().unwrap_or_else(|_| info());
    }
    match source.get("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_ascii_lowercase()) {
        // Lambda's scale has a FATAL that tracing has not.
        Some(level) if level == "fatal" => Targets::new().with_default(LevelFilter::ERROR),
        Some(level) => level.parse::<LevelFilter>().map_or_else(|_| info(), |level| Targets::new().with_default(level)),
        None => info(),
    }
}

/// The functions' log output: [`FlatJson`] lines to `writer`, less lambda_runtime's echo of
/// handler errors (see [`is_handler_error_echo`]).
fn json_lines<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .with_filter(filter_fn(|metadata| !is_handler_error_echo(metadata)))
}

/// lambda_runtime logs every error a handler returns, as its `Debug` text with no other field,
/// after the handler has logged it with its context and cause (`workflow::handle_event`; the
/// HTTP handlers answer every error themselves and return none). Dropping the echo keeps one
/// line per error. The runtime's panic reports, which carry an `error` field, are kept.
fn is_handler_error_echo(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && metadata.target().starts_with("lambda_runtime::layers::panic")
        && metadata.fields().field("error").is_none()
}

/// One flat JSON object per event: `level`, `requestId` and `message` first, then the fields of
/// every span the event is in (outermost first, an inner span's field winning over an outer
/// one's), then the event's own fields.
///
/// lambda_runtime runs each invocation in a span carrying `requestId` (and `xrayTraceId` when
/// traced), so every line of a request has `requestId` at the top level, where CloudWatch Logs
/// Insights (`filter requestId = "…"`) and metric filters find it; a span that records the clip
/// id (`clip`) puts it on every line inside it the same way. tracing-subscriber's own JSON format
/// nests span fields in a `spans` list instead. No timestamp: CloudWatch stamps each line.
///
/// An error passed as a field (`error = &err as &dyn std::error::Error`) is written with its
/// whole cause chain, so one line says what failed and why.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = BTreeMap::new();
        for span in ctx.event_scope().into_iter().flat_map(|scope| scope.from_root()) {
            let extensions = span.extensions();
            let recorded = extensions.get::<FormattedFields<JsonFields>>();
            // JsonFields stores each span's fields as a JSON object ("" while it has none).
            if let Some(Ok(Value::Object(span_fields))) = recorded.map(|f| serde_json::from_str(f.as_str())) {
                fields.extend(span_fields);
            }
        }
        event.record(&mut FieldVisitor(&mut fields));

        let level = Value::from(event.metadata().level().as_str());
        let first =
            [("level", Some(level)), ("requestId", fields.remove("requestId")), ("message", fields.remove("message"))];
        let mut line = String::from("{");
        let members = first.into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))).chain(fields);
        for (index, (key, value)) in members.enumerate() {
            if index > 0 {
                line.push(',');
            }
            line.push_str(&Value::from(key).to_string());
            line.push(':');
            line.push_str(&value.to_string());
        }
        line.push('}');
        writeln!(writer, "{line}")
    }
}

/// Collects an event's fields as JSON values.
struct FieldVisitor<'a>(&'a mut BTreeMap<String, Value>);

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.0.insert(field.name().to_owned(), Value::from(ErrorChain(value).to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

/// An error and its sources, `outer: cause: root cause`, for a log line or a message.
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// How a function's AWS calls retry and when they give up. The values and the reasons for them
/// are in docs/architecture.md, "Retries and timeouts".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The cap of the first retry's jittered delay; each further retry doubles it.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// One attempt, connection and response body included.
    pub attempt_timeout: Duration,
    /// The whole call, retries and their delays included.
    pub operation_timeout: Duration,
}

impl CallPolicy {
    /// create-clip and list-clips: a caller waits behind API Gateway and the function has 10 s,
    /// in which create-clip makes up to four calls and must still record a failed harvest.
    pub const INTERACTIVE: Self = Self {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_secs(2),
    };

    /// process-harvested-clip: nobody waits, so retries back off further to give a throttled
    /// table or API room, within the function's 30 s for an event's three calls; past that,
    /// EventBridge's retries and the reconciliation take over.
    pub const BACKGROUND: Self = Self {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(3),
        operation_timeout: Duration::from_secs(8),
    };

    /// Standard mode, not adaptive: adaptive's client-side rate limiter learns a send rate over
    /// many calls, which one short-lived Lambda sandbox at a time never makes.
    fn retry_config(self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    fn timeout_config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }
}

/// The functions' AWS set-up, read from the environment Lambda gives every function: region
/// (`AWS_REGION`), the execution role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and, for the local stack and tests, endpoint
/// overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`).
///
/// Built by hand rather than by `aws_config::load_from_env`, whose provider chains (profile
/// files, SSO, web identity, ECS, IMDS) are set up at every cold start only to end at the
/// environment on Lambda: that set-up was the largest single step of the functions' init.
#[derive(Debug, Clone)]
pub struct Aws {
    sdk: SdkConfig,
    dynamodb_url: Option<String>,
    mediapackage_url: Option<String>,
    mediapackage_vod_url: Option<String>,
}

impl Aws {
    /// # Errors
    /// A setting Lambda always provides is missing: not running in Lambda or the local stack.
    pub fn from_env(policy: CallPolicy) -> Result<Self, ConfigError> {
        Self::from_source(&Environment, policy)
    }

    /// # Errors
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY` is missing.
    pub fn from_source(source: &impl Source, policy: CallPolicy) -> Result<Self, ConfigError> {
        let region = source.get("AWS_REGION").ok_or(ConfigError::Missing("AWS_REGION"))?;
        let key_id = source.get("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?;
        let secret = source.get("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?;
        // Lambda's credentials last as long as the sandbox, so they are read once.
        let credentials = Credentials::new(key_id, secret, source.get("AWS_SESSION_TOKEN"), None, "environment");
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(https_client())
            .retry_config(policy.retry_config())
            .timeout_config(policy.timeout_config())
            .build();
        // A service's own override wins over the global one, as in the SDK's own loader.
        let endpoint = |service: &str| {
            source.get(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| source.get("AWS_ENDPOINT_URL"))
        };
        Ok(Self {
            sdk,
            dynamodb_url: endpoint("DYNAMODB"),
            mediapackage_url: endpoint("MEDIAPACKAGE"),
            mediapackage_vod_url: endpoint("MEDIAPACKAGE_VOD"),
        })
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut config = aws_sdk_dynamodb::config::Builder::from(&self.sdk);
        config.set_endpoint_url(self.dynamodb_url.clone());
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }

    pub fn mediapackage(&self) -> aws_sdk_mediapackage::Client {
        let mut config = aws_sdk_mediapackage::config::Builder::from(&self.sdk);
        config.set_endpoint_url(self.mediapackage_url.clone());
        aws_sdk_mediapackage::Client::from_conf(config.build())
    }

    pub fn mediapackage_vod(&self) -> aws_sdk_mediapackagevod::Client {
        let mut config = aws_sdk_mediapackagevod::config::Builder::from(&self.sdk);
        config.set_endpoint_url(self.mediapackage_vod_url.clone());
        aws_sdk_mediapackagevod::Client::from_conf(config.build())
    }
}

/// The HTTPS client every SDK client of a function shares: rustls on ring, trusting only the
/// roots AWS's service endpoints chain to, compiled into the binary (`aws-roots.pem`: Amazon
/// Root CA 1 to 4 of Amazon Trust Services, and the Starfield Services root that cross-signs
/// them for older clients).
///
/// The SDK's default client reads the platform's root certificates (a bundle and every file of
/// `/etc/ssl/certs`) each time a connector is built, which was the largest part of building a
/// client at a cold start, and links aws-lc-rs beside the ring that rustls would need anyway.
/// A function talks to DynamoDB and MediaPackage only, so trusting the five roots their
/// certificates chain to, rather than the hundred-odd of a browser's set, verifies every
/// connection it makes, leaves out every CA that has no business vouching for an AWS endpoint,
/// and costs a few kilobytes to parse at the first connection instead of a quarter of a
/// megabyte. An endpoint override to an HTTPS server with another CA (`AWS_ENDPOINT_URL_*`) is
/// refused; the local stack's endpoints are plain HTTP.
fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(BuiltOnFirstCall(hyper_client()))
}

fn hyper_client() -> SharedHttpClient {
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS_PEM);
    let tls = TlsContext::builder().with_trust_store(trust).build().expect("a TLS context without extra names builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

const AWS_ROOTS_PEM: &[u8] = include_bytes!("aws-roots.pem");

/// The SDK's hyper client, less its early connector. Every SDK client built on it asks it to
/// validate the configuration, and it answers by building a connector and dropping it, so that
/// platform certificates are read when a client is built rather than at its first request. With
/// compiled-in roots there is nothing to read early, and each of those connectors parsed all the
/// root certificates for nothing: one per SDK client, at every cold start. The connector a
/// request needs is built on the first call and then shared by every client, as before.
#[derive(Debug)]
struct BuiltOnFirstCall(SharedHttpClient);

impl HttpClient for BuiltOnFirstCall {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Stops the cold start with the setting's name when the configuration is incomplete.
///
/// # Errors
/// Passes `err` on, logged, so Lambda reports an init error naming the setting.
pub fn config_or_exit<T>(config: Result<T, ConfigError>) -> Result<T, lambda_runtime::Error> {
    config.map_err(|err| {
        tracing::error!(error = %err, "configuration incomplete");
        err.into()
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponentsBuilder};
    use aws_smithy_runtime_api::box_error::BoxError;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    struct Map(Vec<(&'static str, &'static str)>);

    impl Source for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        }
    }

    const LAMBDA: [(&str, &str); 4] = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    fn lambda_env(extra: &[(&'static str, &'static str)]) -> Map {
        Map(LAMBDA.iter().chain(extra).copied().collect())
    }

    #[tokio::test]
    async fn the_aws_set_up_takes_region_and_credentials_from_the_lambda_environment() {
        use aws_sdk_dynamodb::config::ProvideCredentials as _;
        let aws = Aws::from_source(&lambda_env(&[]), CallPolicy::INTERACTIVE).unwrap();
        assert_eq!(aws.sdk.region().map(Region::as_ref), Some("eu-west-1"));
        let credentials = aws.sdk.credentials_provider().unwrap().provide_credentials().await.unwrap();
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
        assert_eq!((aws.dynamodb_url, aws.mediapackage_url, aws.mediapackage_vod_url), (None, None, None));
    }

    #[test]
    fn a_service_endpoint_override_wins_over_the_global_one() {
        let env = lambda_env(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
            ("AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD", "http://127.0.0.1:3"),
        ]);
        let aws = Aws::from_source(&env, CallPolicy::INTERACTIVE).unwrap();
        assert_eq!(aws.dynamodb_url.as_deref(), Some("http://127.0.0.1:2"));
        assert_eq!(aws.mediapackage_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(aws.mediapackage_vod_url.as_deref(), Some("http://127.0.0.1:3"));
    }

    #[test]
    fn the_clients_carry_the_functions_retry_and_timeout_policy() {
        let aws = Aws::from_source(&lambda_env(&[]), CallPolicy::BACKGROUND).unwrap();
        let client = aws.mediapackage_vod();
        let retry = client.config().retry_config().unwrap();
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry.max_attempts(), 5);
        assert_eq!(retry.initial_backoff(), Duration::from_millis(200));
        let timeouts = client.config().timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(1)));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(8)));
    }

    #[test]
    fn the_https_client_trusts_the_aws_roots_of_the_mozilla_set() {
        let pem = std::str::from_utf8(AWS_ROOTS_PEM).unwrap();
        let roots: Vec<Vec<u8>> = pem
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body = block.split("-----END CERTIFICATE-----").next().unwrap();
                STANDARD.decode(body.split_whitespace().collect::<String>()).unwrap()
            })
            .collect();
        assert_eq!(roots.len(), 5);
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        for root in &roots {
            assert!(mozilla.iter().any(|m| m.as_ref() == root.as_slice()), "a root outside Mozilla's current set");
        }
        // The SDK's early connector parses every root, and panics on one it cannot.
        let validated =
            hyper_client().validate_base_client_config(&RuntimeComponentsBuilder::new("test"), &ConfigBag::base());
        assert!(validated.is_ok(), "{validated:?}");
    }

    /// Counts the SDK's requests for an early connector.
    #[derive(Debug, Default)]
    struct EarlyConnectors(Arc<Mutex<usize>>);

    impl HttpClient for EarlyConnectors {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            unreachable!("building a client makes no request")
        }

        fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
            *self.0.lock().unwrap() += 1;
            Ok(())
        }
    }

    #[test]
    fn building_the_clients_builds_no_connector() {
        let early = EarlyConnectors::default();
        let asked = Arc::clone(&early.0);
        let build = |client: SharedHttpClient| {
            aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::Config::builder()
                    .behavior_version_latest()
                    .region(Region::new("eu-west-1"))
                    .http_client(client)
                    .build(),
            )
        };
        build(SharedHttpClient::new(EarlyConnectors(Arc::clone(&asked))));
        assert_eq!(*asked.lock().unwrap(), 1, "the SDK asks its HTTP client for an early connector");
        build(SharedHttpClient::new(BuiltOnFirstCall(SharedHttpClient::new(early))));
        assert_eq!(*asked.lock().unwrap(), 1, "ours does not pass the request on");
    }

    #[test]
    fn the_aws_set_up_names_a_missing_lambda_setting() {
        let without = |name| Map(LAMBDA.iter().filter(|(k, _)| *k != name).copied().collect());
        for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let err = Aws::from_source(&without(name), CallPolicy::INTERACTIVE).unwrap_err();
            assert!(matches!(err, ConfigError::Missing(missing) if missing == name), "{name}: {err}");
        }
        assert!(Aws::from_source(&without("AWS_SESSION_TOKEN"), CallPolicy::INTERACTIVE).is_ok());
    }

    #[test]
    fn log_levels_come_from_rust_log_then_lambdas_log_level_then_info() {
        use tracing::Level;
        let levels = |env: &[(&'static str, &'static str)]| log_levels(&Map(env.to_vec()));
        let rust_log = levels(&[("RUST_LOG", "warn,clips=debug"), ("AWS_LAMBDA_LOG_LEVEL", "TRACE")]);
        assert!(rust_log.would_enable("clips::workflow", &Level::DEBUG));
        assert!(!rust_log.would_enable("aws_smithy_runtime", &Level::INFO));
        let lambda = levels(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]);
        assert!(lambda.would_enable("clips", &Level::DEBUG) && !lambda.would_enable("clips", &Level::TRACE));
        let fatal = levels(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]);
        assert!(fatal.would_enable("clips", &Level::ERROR) && !fatal.would_enable("clips", &Level::WARN));
        for default in [levels(&[]), levels(&[("RUST_LOG", "clips=loud")])] {
            assert!(default.would_enable("clips", &Level::INFO) && !default.would_enable("clips", &Level::DEBUG));
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// What `log` writes through the functions' log layer.
    fn output(log: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(json_lines(buffer.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn lines(log: impl FnOnce()) -> Vec<Value> {
        let text = output(log);
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
    }

    #[test]
    fn every_line_of_a_request_carries_its_request_id_and_clip_at_the_top() {
        let lines = lines(|| {
            // What lambda_runtime opens around each invocation.
            let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "8f5e-req", xrayTraceId = "Root=1-x");
            let _invoke = invoke.enter();
            let clip = tracing::info_span!("clip", clip = tracing::field::Empty);
            let _clip = clip.enter();
            tracing::info!("before the clip id is known");
            clip.record("clip", "20261121T093000Z-abcdefghjk");
            tracing::warn!(status = 400, refused = true, "request refused");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["requestId"], "8f5e-req");
        assert_eq!(lines[0]["xrayTraceId"], "Root=1-x");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "before the clip id is known");
        assert!(lines[0].get("clip").is_none(), "{}", lines[0]);
        assert_eq!(lines[1]["clip"], "20261121T093000Z-abcdefghjk");
        assert_eq!((lines[1]["level"].as_str(), lines[1]["status"].as_u64()), (Some("WARN"), Some(400)));
        assert_eq!(lines[1]["refused"], true);
        assert!(lines[1].get("spans").is_none() && lines[1].get("fields").is_none(), "flat: {}", lines[1]);
    }

    #[test]
    fn a_line_starts_with_level_request_id_and_message() {
        let text = output(|| {
            let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "r-1");
            let _invoke = invoke.enter();
            tracing::info!(a = 1, "hello");
        });
        assert_eq!(text, "{\"level\":\"INFO\",\"requestId\":\"r-1\",\"message\":\"hello\",\"a\":1}\n");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the clips table did not answer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_error_field_is_written_with_its_causes() {
        let err = Outer(std::io::Error::other("connection refused"));
        let lines = lines(|| tracing::error!(error = &err as &dyn Error, "request failed"));
        assert_eq!(lines[0]["error"], "the clips table did not answer: connection refused");
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(ErrorChain(&err).to_string(), "the clips table did not answer: connection refused");
    }

    #[test]
    fn the_runtimes_echo_of_a_handler_error_is_dropped_and_panics_are_kept() {
        let lines = lines(|| {
            tracing::error!(target: "lambda_runtime::layers::panic", "Retryable(Unavailable(..))");
            tracing::error!(target: "lambda_runtime::layers::panic", error = "boom", "user handler panicked");
            tracing::error!(target: "lambda_runtime::layers::api_client", error = "refused", "request failed");
        });
        let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
        assert_eq!(messages, ["user handler panicked", "request failed"]);
    }
}
