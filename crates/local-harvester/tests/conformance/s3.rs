//! Buckets in an S3-compatible service: s3rver (from the root `package.json`) as the service,
//! the harvester writing through `aws-sdk-s3`, and VOD reading the clip back from it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use aws_sdk_mediapackage::types::Status;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use local_harvester::S3Endpoint;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::ingest::decode;
use crate::support::{Harvester, TempDir, create_asset, egress_when, from_now, harvest, playable_asset};

/// s3rver's built-in credentials.
const KEY: &str = "S3RVER";

/// s3rver on a free port of 127.0.0.1 with bucket `clips`, stopped when dropped.
struct S3rver {
    url: url::Url,
    _process: Child,
    _dir: TempDir,
}

impl S3rver {
    async fn start() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cli: PathBuf = root.join("node_modules/s3rver/bin/s3rver.js");
        assert!(cli.exists(), "{} is missing: run `npm ci` at the repository root", cli.display());
        let dir = TempDir::new();
        let mut process = Command::new("node")
            .arg(cli)
            .args(["--address", "127.0.0.1", "--port", "0", "--silent", "--configure-bucket", "clips", "-d"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        // It prints the port it bound once it listens, even when silent.
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let address = loop {
            let line = lines.next_line().await.unwrap().expect("s3rver exited before listening");
            if let Some(address) = line.strip_prefix("S3rver listening on ") {
                break address.trim().to_owned();
            }
        };
        Self { url: url::Url::parse(&format!("http://{address}")).unwrap(), _process: process, _dir: dir }
    }

    fn endpoint(&self) -> S3Endpoint {
        S3Endpoint { url: self.url.clone(), access_key_id: KEY.to_owned(), secret_access_key: KEY.to_owned() }
    }

    fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.url.as_str())
            .force_path_style(true)
            .credentials_provider(Credentials::new(KEY, KEY, None, None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_goes_to_s3_and_plays_back_from_it_as_a_vod_asset() {
    let s3 = S3rver::start().await;
    let data_dir = TempDir::new();
    let harvester = Harvester::start_with_s3(data_dir.path(), Vec::new(), Some(s3.endpoint())).await;
    let key = "s3/clip-1/index.m3u8";
    assert_eq!(harvest(&harvester.live(), "clip-1", from_now(-25), from_now(-15), key).await, Status::Succeeded);
    assert!(!data_dir.path().join("buckets").exists(), "nothing is written to the bucket folders");

    // The clip is in the service: master, media playlists and segments.
    let listed = s3.client().list_objects_v2().bucket("clips").prefix("s3/clip-1/").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(keys.contains(&key), "{keys:?}");
    assert!(keys.iter().filter(|k| k.ends_with(".ts")).count() >= 10, "two renditions of 10 s: {keys:?}");
    let master = s3.client().get_object().bucket("clips").key(key).send().await.unwrap();
    let master = master.body.collect().await.unwrap().into_bytes();
    assert_eq!(m3u8_rs::parse_master_playlist_res(&master).unwrap().variants.len(), 2);

    // The asset is checked and served from the service, and the clip decodes.
    let url = playable_asset(&harvester.vod(), "s3", "clip-1", key).await;
    let duration = decode(Path::new(&url)).await;
    assert!((duration - 10.0).abs() <= 2.0, "the clip lasts {duration} s");

    // A source that is not in the bucket fails the ingest (a missing key, not an S3 error).
    let vod = harvester.vod();
    create_asset(&vod, "s3", "absent", "s3/absent/index.m3u8").await;
    egress_when(&vod, "absent", "FAILED").await;
    harvester.stop().await;
}
