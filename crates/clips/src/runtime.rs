//! Start-up shared by the three functions: JSON logs and one AWS configuration per cold start.

use crate::config::ConfigError;

/// JSON logs (CloudWatch-friendly), level from `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
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
