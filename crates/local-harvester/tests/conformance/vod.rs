//! MediaPackage VOD through the real `aws-sdk-mediapackagevod` client: packaging groups and
//! configurations, assets from a harvest, and egress.

use aws_sdk_mediapackage::types::Status;
use aws_sdk_mediapackagevod::types::{HlsManifest, HlsPackage};

use crate::support::{Harvester, create_asset, egress_when, eventually, from_now, harvest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvested_clip_becomes_a_playable_asset() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let key = "comp/clip-9/index.m3u8";
    assert_eq!(harvest(&harvester.live(), "clip-9", from_now(-25), from_now(-15), key).await, Status::Succeeded);
    let client = harvester.vod();

    let group = client.create_packaging_group().id("clips").send().await.unwrap();
    assert_eq!(group.arn(), Some("arn:aws:mediapackage-vod:us-east-1:000000000000:packaging-groups/clips"));
    assert!(group.domain_name().is_some());
    let configuration = client
        .create_packaging_configuration()
        .id("hls")
        .packaging_group_id("clips")
        .hls_package(
            HlsPackage::builder()
                .segment_duration_seconds(2)
                .hls_manifests(HlsManifest::builder().manifest_name("index").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(configuration.hls_package().unwrap().hls_manifests()[0].manifest_name(), Some("index"));

    let asset = client
        .create_asset()
        .id("clip-9")
        .packaging_group_id("clips")
        .source_arn(format!("arn:aws:s3:::clips/{key}"))
        .source_role_arn("arn:aws:iam::000000000000:role/vod")
        .resource_id("clip-9")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.arn(), Some("arn:aws:mediapackage-vod:us-east-1:000000000000:assets/clip-9"));
    let egress = &asset.egress_endpoints()[0];
    assert_eq!(egress.packaging_configuration_id(), Some("hls"));
    let expected_url = harvester.url("out/v1/vod/clips/clip-9/hls/index.m3u8");
    assert_eq!(egress.url(), Some(expected_url.as_str()));

    let playable = eventually(20, "the asset to become playable", || async {
        let asset = client.describe_asset().id("clip-9").send().await.unwrap();
        (asset.egress_endpoints()[0].status() == Some("PLAYABLE")).then_some(asset)
    })
    .await;
    assert_eq!(playable.source_arn(), Some(format!("arn:aws:s3:::clips/{key}").as_str()));
    assert_eq!(playable.resource_id(), Some("clip-9"));

    let http = reqwest::Client::new();
    let master_url = url::Url::parse(&expected_url).unwrap();
    let master = http.get(master_url.clone()).send().await.unwrap();
    assert_eq!(master.status(), 200);
    let master = m3u8_rs::parse_master_playlist_res(&master.bytes().await.unwrap()).unwrap();
    assert_eq!(master.variants.len(), 2);
    let mut segments = 0;
    for variant in &master.variants {
        let media_url = master_url.join(&variant.uri).unwrap();
        let media = http.get(media_url.clone()).send().await.unwrap().bytes().await.unwrap();
        let media = m3u8_rs::parse_media_playlist_res(&media).unwrap();
        assert!(media.end_list);
        for segment in &media.segments {
            let response = http.get(media_url.join(&segment.uri).unwrap()).send().await.unwrap();
            assert_eq!(response.status(), 200, "{}", segment.uri);
            assert_eq!(response.bytes().await.unwrap()[0], 0x47);
            segments += 1;
        }
    }
    assert!(segments >= 10, "two renditions of a 10 s clip");
    let outside = http.get(harvester.url("out/v1/vod/clips/clip-9/hls/..%2F..%2Fstate.json")).send().await.unwrap();
    assert_eq!(outside.status(), 404);

    let group = client.describe_packaging_group().id("clips").send().await.unwrap();
    assert_eq!(group.approximate_asset_count(), Some(1));
    let configurations = client.list_packaging_configurations().packaging_group_id("clips").send().await.unwrap();
    assert_eq!(configurations.packaging_configurations().len(), 1);
    let described = client.describe_packaging_configuration().id("hls").send().await.unwrap();
    assert_eq!(described.packaging_group_id(), Some("clips"));
    let assets = client.list_assets().packaging_group_id("clips").send().await.unwrap();
    assert_eq!(assets.assets()[0].id(), Some("clip-9"));
    let groups = client.list_packaging_groups().send().await.unwrap();
    assert_eq!(groups.packaging_groups().len(), 1);
    harvester.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_with_a_missing_source_fails_ingest() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let client = harvester.vod();
    client.create_packaging_group().id("g").send().await.unwrap();
    client
        .create_packaging_configuration()
        .id("hls")
        .packaging_group_id("g")
        .hls_package(HlsPackage::builder().hls_manifests(HlsManifest::builder().build()).build())
        .send()
        .await
        .unwrap();
    create_asset(&client, "g", "ghost", "nothing/index.m3u8").await;
    egress_when(&client, "ghost", "FAILED").await;
    let response = reqwest::get(harvester.url("out/v1/vod/g/ghost/hls/index.m3u8")).await.unwrap();
    assert_eq!(response.status(), 404);
    harvester.stop().await;
}
