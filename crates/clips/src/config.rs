//! Settings, read once at cold start from the environment into typed structs. A missing or bad
//! setting stops the cold start with a message naming it, rather than failing the first request.

use chrono::Duration;

use crate::domain::WindowRules;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is {value:?}: {reason}")]
    Invalid { name: &'static str, value: String, reason: String },
}

/// Where settings come from; the process environment in Lambda, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

fn required(source: &impl Source, name: &'static str) -> Result<String, ConfigError> {
    source.get(name).ok_or(ConfigError::Missing(name))
}

fn seconds(source: &impl Source, name: &'static str, default: Option<u32>, max: u32) -> Result<Duration, ConfigError> {
    let value = match (source.get(name), default) {
        (Some(value), _) => value,
        (None, Some(default)) => return Ok(Duration::seconds(i64::from(default))),
        (None, None) => return Err(ConfigError::Missing(name)),
    };
    let invalid = |reason: String| ConfigError::Invalid { name, value: value.clone(), reason };
    let parsed: u32 = value.parse().map_err(|_| invalid("expected whole seconds".into()))?;
    if parsed > max {
        return Err(invalid(format!("must be at most {max}")));
    }
    Ok(Duration::seconds(i64::from(parsed)))
}

/// The DynamoDB table of clips (every function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    pub table_name: String,
}

impl TableConfig {
    /// # Errors
    /// `CLIPS_TABLE` is missing.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self { table_name: required(source, "CLIPS_TABLE")? })
    }
}

/// Where harvested clips go and with which role MediaPackage writes (and VOD reads) them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestDestination {
    pub bucket: String,
    /// Prepended to every manifest key; empty or ending in `/`.
    pub prefix: String,
    pub role_arn: String,
}

impl HarvestDestination {
    /// # Errors
    /// `HARVEST_BUCKET` or `HARVEST_ROLE_ARN` is missing, or `HARVEST_PREFIX` is malformed.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let prefix = source.get("HARVEST_PREFIX").unwrap_or_else(|| "clips/".to_owned());
        if !(prefix.is_empty() || prefix.ends_with('/')) || prefix.starts_with('/') || prefix.contains("..") {
            return Err(ConfigError::Invalid {
                name: "HARVEST_PREFIX",
                value: prefix,
                reason: "must be empty or a relative folder ending in '/'".into(),
            });
        }
        Ok(Self {
            bucket: required(source, "HARVEST_BUCKET")?,
            prefix,
            role_arn: required(source, "HARVEST_ROLE_ARN")?,
        })
    }
}

/// create-clip: table, harvest destination, the origin endpoint to harvest and the window rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateClipConfig {
    pub table: TableConfig,
    pub destination: HarvestDestination,
    pub origin_endpoint_id: String,
    pub rules: WindowRules,
}

impl CreateClipConfig {
    /// # Errors
    /// The first setting that is missing or malformed.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let max = WindowRules::MAX_CLIP_SECONDS;
        Ok(Self {
            table: TableConfig::from_source(source)?,
            destination: HarvestDestination::from_source(source)?,
            origin_endpoint_id: required(source, "ORIGIN_ENDPOINT_ID")?,
            rules: WindowRules {
                end_lag: seconds(source, "CLIP_END_LAG_SECONDS", Some(10), 3600)?,
                max_clip: seconds(source, "MAX_CLIP_SECONDS", Some(max), max)?,
                // MediaPackage v1 allows a startover window of up to 14 days.
                startover_window: seconds(source, "STARTOVER_WINDOW_SECONDS", None, 1_209_600)?,
            },
        })
    }
}

/// process-harvested-clip: table, which keys are ours, the VOD packaging group to ingest into,
/// and when a clip counts as stranded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub table: TableConfig,
    pub destination: HarvestDestination,
    pub packaging_group_id: String,
    /// A clip unchanged for this long has probably lost an event; a scheduled run asks
    /// MediaPackage about it. Shorter than a typical harvest only costs a Describe call.
    pub reconcile_after: Duration,
}

impl ProcessConfig {
    /// # Errors
    /// The first setting that is missing or malformed.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table: TableConfig::from_source(source)?,
            destination: HarvestDestination::from_source(source)?,
            packaging_group_id: required(source, "PACKAGING_GROUP_ID")?,
            reconcile_after: seconds(source, "RECONCILE_AFTER_SECONDS", Some(120), 86_400)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: [(&str, &str); 7] = [
        ("CLIPS_TABLE", "clips"),
        ("HARVEST_BUCKET", "bucket"),
        ("HARVEST_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ("ORIGIN_ENDPOINT_ID", "ep"),
        ("STARTOVER_WINDOW_SECONDS", "3600"),
        ("PACKAGING_GROUP_ID", "group"),
        ("CLIP_END_LAG_SECONDS", "5"),
    ];

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        FULL.iter().copied().filter(|(k, _)| *k != name).collect()
    }

    struct Map(Vec<(&'static str, &'static str)>);
    impl Source for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn reads_every_setting_with_defaults() {
        let config = CreateClipConfig::from_source(&Map(FULL.to_vec())).unwrap();
        assert_eq!(config.destination.prefix, "clips/");
        assert_eq!(config.rules.end_lag, Duration::seconds(5));
        assert_eq!(config.rules.max_clip, Duration::seconds(86_400));
        assert_eq!(config.rules.startover_window, Duration::seconds(3600));
        assert_eq!(ProcessConfig::from_source(&Map(FULL.to_vec())).unwrap().packaging_group_id, "group");
    }

    #[test]
    fn a_missing_setting_is_named() {
        for name in
            ["CLIPS_TABLE", "HARVEST_BUCKET", "HARVEST_ROLE_ARN", "ORIGIN_ENDPOINT_ID", "STARTOVER_WINDOW_SECONDS"]
        {
            let err = CreateClipConfig::from_source(&Map(without(name))).unwrap_err();
            assert_eq!(err, ConfigError::Missing(name));
            assert!(err.to_string().contains(name));
        }
        assert_eq!(
            ProcessConfig::from_source(&Map(without("PACKAGING_GROUP_ID"))).unwrap_err(),
            ConfigError::Missing("PACKAGING_GROUP_ID")
        );
    }

    #[test]
    fn malformed_settings_are_named() {
        let mut settings = without("MAX_CLIP_SECONDS");
        settings.push(("MAX_CLIP_SECONDS", "90000"));
        let err = CreateClipConfig::from_source(&Map(settings)).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { name: "MAX_CLIP_SECONDS", .. }), "{err}");
        let mut settings = without("CLIP_END_LAG_SECONDS");
        settings.push(("CLIP_END_LAG_SECONDS", "ten"));
        assert!(matches!(
            CreateClipConfig::from_source(&Map(settings)).unwrap_err(),
            ConfigError::Invalid { name: "CLIP_END_LAG_SECONDS", .. }
        ));
        let mut settings = without("HARVEST_PREFIX");
        settings.push(("HARVEST_PREFIX", "../up/"));
        assert!(matches!(
            HarvestDestination::from_source(&Map(settings)).unwrap_err(),
            ConfigError::Invalid { name: "HARVEST_PREFIX", .. }
        ));
    }
}
