//! Errors come back as the SDKs' typed errors, and unknown routes as well-formed AWS errors.

use aws_sdk_mediapackage::config::retry::RetryConfig;
use aws_sdk_mediapackage::error::ProvideErrorMetadata;
use aws_sdk_mediapackage::operation::create_harvest_job::CreateHarvestJobError;
use aws_sdk_mediapackage::operation::describe_channel::DescribeChannelError;
use aws_sdk_mediapackage::operation::describe_harvest_job::DescribeHarvestJobError;
use aws_sdk_mediapackage::operation::list_channels::ListChannelsError;
use aws_sdk_mediapackage::types::{HlsPackage, S3Destination};
use aws_sdk_mediapackagevod::operation::create_asset::CreateAssetError;
use aws_sdk_mediapackagevod::operation::create_packaging_configuration::CreatePackagingConfigurationError;
use aws_sdk_mediapackagevod::operation::describe_asset::DescribeAssetError;
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage as VodHlsPackage};

use crate::support::{Harvester, from_now};

fn destination(key: &str) -> S3Destination {
    S3Destination::builder().bucket_name("clips").manifest_key(key).role_arn("arn:aws:iam::000000000000:role/r").build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_api_errors_are_typed() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();

    let err = client.describe_channel().id("nope").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeChannelError::NotFoundException(_)), "{err:?}");
    assert_eq!(err.message(), Some("Channel 'nope' does not exist"));

    let err = client.describe_harvest_job().id("nope").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeHarvestJobError::NotFoundException(_)), "{err:?}");

    let create = |id: &str, endpoint: &str, start: String, end: String, key: &str| {
        client
            .create_harvest_job()
            .id(id)
            .origin_endpoint_id(endpoint)
            .start_time(start)
            .end_time(end)
            .s3_destination(destination(key))
            .send()
    };
    let refused = [
        (create("j1", "demo-hls", from_now(-10), from_now(-20), "k/index.m3u8").await, "startTime:"),
        (create("j2", "demo-hls", from_now(-90_000), from_now(-10), "k/index.m3u8").await, "endTime:"),
        (create("j3", "demo-hls", "yesterday".into(), from_now(-10), "k/index.m3u8").await, "startTime:"),
        (
            create("j4", "demo-hls", from_now(-20), from_now(-10), "../../etc/index.m3u8").await,
            "s3Destination.manifestKey:",
        ),
        (create("j5", "missing", from_now(-20), from_now(-10), "k/index.m3u8").await, "originEndpointId:"),
        (create("../j6", "demo-hls", from_now(-20), from_now(-10), "k/index.m3u8").await, "id:"),
    ];
    for (result, field) in refused {
        let err = result.unwrap_err().into_service_error();
        assert!(matches!(err, CreateHarvestJobError::UnprocessableEntityException(_)), "{err:?}");
        assert!(err.message().unwrap().starts_with(field), "{:?} should name {field}", err.message());
    }

    client
        .create_origin_endpoint()
        .channel_id("demo")
        .id("no-startover")
        .hls_package(HlsPackage::builder().build())
        .send()
        .await
        .unwrap();
    let err = create("j7", "no-startover", from_now(-20), from_now(-10), "k/index.m3u8").await.unwrap_err();
    assert!(matches!(err.into_service_error(), CreateHarvestJobError::UnprocessableEntityException(_)));

    create("dup", "demo-hls", from_now(-20), from_now(-10), "d/index.m3u8").await.unwrap();
    let err = create("dup", "demo-hls", from_now(-20), from_now(-10), "d/index.m3u8").await.unwrap_err();
    assert!(matches!(err.into_service_error(), CreateHarvestJobError::UnprocessableEntityException(_)));

    let err = client.list_channels().max_results(0).send().await.unwrap_err().into_service_error();
    assert!(matches!(err, ListChannelsError::UnprocessableEntityException(_)), "{err:?}");
    assert!(err.message().unwrap().starts_with("maxResults:"));

    let err = client.create_origin_endpoint().channel_id("demo").id("dash").send().await.unwrap_err();
    assert_eq!(
        err.into_service_error().message(),
        Some("hlsPackage: is required (only HLS origin endpoints are supported)")
    );
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vod_api_errors_are_typed() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.vod();

    let err = client.describe_asset().id("nope").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeAssetError::NotFoundException(_)), "{err:?}");

    let err = client
        .create_packaging_configuration()
        .id("hls")
        .packaging_group_id("missing")
        .hls_package(VodHlsPackage::builder().hls_manifests(HlsManifest::builder().build()).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(err, CreatePackagingConfigurationError::UnprocessableEntityException(_)), "{err:?}");
    assert!(err.message().unwrap().starts_with("packagingGroupId:"));

    client.create_packaging_group().id("group").send().await.unwrap();
    let create = |id: &str, arn: &str| {
        client
            .create_asset()
            .id(id)
            .packaging_group_id("group")
            .source_arn(arn)
            .source_role_arn("arn:aws:iam::0:role/r")
            .send()
    };
    let err = create("a1", "arn:aws:s3:::clips/../../x.m3u8").await.unwrap_err().into_service_error();
    assert!(matches!(err, CreateAssetError::UnprocessableEntityException(_)), "{err:?}");
    assert!(err.message().unwrap().starts_with("sourceArn:"));

    create("a2", "arn:aws:s3:::clips/missing/index.m3u8").await.unwrap();
    let err = create("a2", "arn:aws:s3:::clips/missing/index.m3u8").await.unwrap_err().into_service_error();
    assert!(matches!(err, CreateAssetError::UnprocessableEntityException(_)), "{err:?}");
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_injected_faults_are_well_formed_errors() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let http = reqwest::Client::new();
    for (method, path) in [("GET", "/nope"), ("PUT", "/channels/demo"), ("PUT", "/channels/demo/credentials")] {
        let response = http.request(method.parse().unwrap(), harvester.url(path)).body("{}").send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(response.headers()["x-amzn-errortype"], "NotFoundException");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(path));
    }
    let response = http.get(harvester.url("/channels?nextToken=%ZZ")).send().await.unwrap();
    assert_eq!(response.status(), 200, "a malformed query string is read leniently");
    let response = http.get(harvester.url("/channels?maxResults=%ZZ")).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["x-amzn-errortype"], "UnprocessableEntityException");
    let response = http.post(harvester.url("/channels")).body("{not json").send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["x-amzn-errortype"], "UnprocessableEntityException");

    let inject =
        serde_json::json!({"operation": "DescribeHarvestJob", "errorType": "TooManyRequestsException", "count": 2});
    let response = http.post(harvester.url("/_local/faults")).json(&inject).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let client = harvester.live_with_retries(RetryConfig::disabled());
    for _ in 0..2 {
        let err = client.describe_harvest_job().id("x").send().await.unwrap_err().into_service_error();
        assert!(matches!(err, DescribeHarvestJobError::TooManyRequestsException(_)), "{err:?}");
    }
    let err = client.describe_harvest_job().id("x").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeHarvestJobError::NotFoundException(_)), "the fault ran out: {err:?}");

    let inject = serde_json::json!({"operation": "DescribeChannel", "errorType": "ServiceUnavailableException"});
    http.post(harvester.url("/_local/faults")).json(&inject).send().await.unwrap();
    let err = client.describe_channel().id("demo").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeChannelError::ServiceUnavailableException(_)), "{err:?}");
    harvester.stop().await;
}
