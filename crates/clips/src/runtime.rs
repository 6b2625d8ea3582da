//! Start-up shared by the three functions: JSON logs and one AWS configuration per cold start.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields, MakeWriter};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::ConfigError;

/// JSON logs (CloudWatch-friendly), one object a line, level from `RUST_LOG` (default `info`).
/// See [`FlatJson`] for the shape of a line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry().with(filter).with(json_lines(std::io::stdout)).init();
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

/// The shared AWS configuration. Endpoints come from `AWS_ENDPOINT_URL_*`, so the local stack
/// needs no code path of its own.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
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

    use super::*;

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
