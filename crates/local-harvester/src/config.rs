//! How one harvester instance is set up.

use std::path::PathBuf;

use url::Url;

/// Everything [`serve`](crate::serve) needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct HarvesterConfig {
    /// Root of all persistent data: the state file and the S3 stand-in (`buckets/{bucket}/{key}`).
    pub data_dir: PathBuf,
    /// Base URL clients reach this server at. Returned URLs (origin endpoint `url`, ingest URLs,
    /// VOD egress URLs, `manifest_urls` in events) are built from it, so it must be the address
    /// the consumers of those URLs can reach, which is not always the listening address.
    pub public_url: Url,
    /// Where EventBridge-shaped events go: each event is POSTed as JSON to every target, e.g. the
    /// Lambda Invoke API `http://127.0.0.1:9000/2015-03-31/functions/{name}/invocations`.
    pub event_targets: Vec<Url>,
    /// AWS region put into ARNs and events.
    pub region: String,
    /// AWS account id put into ARNs and events.
    pub account_id: String,
    /// Create the demo channel and origin endpoint at start-up when they do not exist yet.
    pub demo: bool,
}

impl HarvesterConfig {
    /// A configuration with AWS-like defaults: region `us-east-1`, account `000000000000`, no
    /// event targets and no demo.
    pub fn new(data_dir: impl Into<PathBuf>, public_url: Url) -> Self {
        Self {
            data_dir: data_dir.into(),
            public_url,
            event_targets: Vec::new(),
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            demo: false,
        }
    }

    /// `public_url` joined with a path relative to it. The base is treated as a directory even
    /// when it lacks a trailing slash, so `http://host/prefix` keeps its prefix.
    pub(crate) fn public(&self, relative: &str) -> String {
        let mut base = self.public_url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        base.push_str(relative.trim_start_matches('/'));
        base
    }

    /// ARN of a MediaPackage (live) resource, e.g. `channels/{id}`.
    pub(crate) fn live_arn(&self, resource: &str) -> String {
        format!("arn:aws:mediapackage:{}:{}:{resource}", self.region, self.account_id)
    }

    /// ARN of a MediaPackage VOD resource, e.g. `assets/{id}`.
    pub(crate) fn vod_arn(&self, resource: &str) -> String {
        format!("arn:aws:mediapackage-vod:{}:{}:{resource}", self.region, self.account_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_keep_a_path_prefix() {
        let url = Url::parse("http://127.0.0.1:4566/prefix").unwrap();
        let config = HarvesterConfig::new("/tmp", url);
        assert_eq!(config.public("/out/v1/x"), "http://127.0.0.1:4566/prefix/out/v1/x");
    }

    #[test]
    fn arns_follow_aws_format() {
        let config = HarvesterConfig::new("/tmp", Url::parse("http://localhost/").unwrap());
        assert_eq!(config.live_arn("channels/demo"), "arn:aws:mediapackage:us-east-1:000000000000:channels/demo");
        assert_eq!(config.vod_arn("assets/a"), "arn:aws:mediapackage-vod:us-east-1:000000000000:assets/a");
    }
}
