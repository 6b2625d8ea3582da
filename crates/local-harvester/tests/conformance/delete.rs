//! Delete operations through the real SDKs: AWS's order rules (endpoints before their channel,
//! assets and configurations before their group), 404 afterwards, and the live side following.

use aws_sdk_mediapackage::error::ProvideErrorMetadata;
use aws_sdk_mediapackage::operation::delete_channel::DeleteChannelError;
use aws_sdk_mediapackage::operation::describe_origin_endpoint::DescribeOriginEndpointError;
use aws_sdk_mediapackage::types::HlsPackage;
use aws_sdk_mediapackagevod::operation::delete_asset::DeleteAssetError;
use aws_sdk_mediapackagevod::operation::delete_packaging_group::DeletePackagingGroupError;
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage as VodHlsPackage};

use crate::support::Harvester;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_endpoints_are_deleted_endpoints_first() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.live();
    client.create_channel().id("gone").send().await.unwrap();
    client
        .create_origin_endpoint()
        .channel_id("gone")
        .id("gone-hls")
        .hls_package(HlsPackage::builder().build())
        .send()
        .await
        .unwrap();

    let err = client.delete_channel().id("gone").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DeleteChannelError::UnprocessableEntityException(_)), "{err:?}");
    assert!(err.message().unwrap().contains("'gone-hls'"), "{err:?}");

    client.delete_origin_endpoint().id("gone-hls").send().await.unwrap();
    let err = client.describe_origin_endpoint().id("gone-hls").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DescribeOriginEndpointError::NotFoundException(_)), "{err:?}");
    let live = reqwest::get(harvester.url("out/v1/gone-hls/index.m3u8")).await.unwrap();
    assert_eq!(live.status(), reqwest::StatusCode::NOT_FOUND);

    client.delete_channel().id("gone").send().await.unwrap();
    let err = client.delete_channel().id("gone").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DeleteChannelError::NotFoundException(_)), "{err:?}");
    let channels = client.list_channels().send().await.unwrap();
    assert!(channels.channels().iter().all(|c| c.id() != Some("gone")));
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packaging_groups_are_deleted_after_their_assets_and_configurations() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let vod = harvester.vod();
    vod.create_packaging_group().id("old").send().await.unwrap();
    vod.create_packaging_configuration()
        .id("old-hls")
        .packaging_group_id("old")
        .hls_package(VodHlsPackage::builder().hls_manifests(HlsManifest::builder().build()).build())
        .send()
        .await
        .unwrap();
    vod.create_asset()
        .id("old-clip")
        .packaging_group_id("old")
        .source_arn("arn:aws:s3:::clips/none/index.m3u8")
        .source_role_arn("arn:aws:iam::000000000000:role/vod")
        .send()
        .await
        .unwrap();

    let err = vod.delete_packaging_group().id("old").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DeletePackagingGroupError::UnprocessableEntityException(_)), "{err:?}");
    vod.delete_asset().id("old-clip").send().await.unwrap();
    let err = vod.delete_asset().id("old-clip").send().await.unwrap_err().into_service_error();
    assert!(matches!(err, DeleteAssetError::NotFoundException(_)), "{err:?}");
    let err = vod.delete_packaging_group().id("old").send().await.unwrap_err().into_service_error();
    assert!(err.message().unwrap().contains("packaging configuration 'old-hls'"), "{err:?}");
    vod.delete_packaging_configuration().id("old-hls").send().await.unwrap();
    vod.delete_packaging_group().id("old").send().await.unwrap();
    assert!(vod.describe_packaging_group().id("old").send().await.is_err());
    assert!(vod.list_packaging_groups().send().await.unwrap().packaging_groups().is_empty());
    harvester.stop().await;
}
