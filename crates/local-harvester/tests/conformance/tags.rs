//! TagResource, UntagResource and ListTagsForResource through both SDKs, by ARN.

use aws_sdk_mediapackage::error::ProvideErrorMetadata;

use crate::support::Harvester;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_tagged_untagged_and_listed_by_arn() {
    let harvester = Harvester::fresh(Vec::new()).await;
    let live = harvester.live();
    let channel = live.create_channel().id("tagged").tags("team", "a").send().await.unwrap();
    let arn = channel.arn().unwrap();

    live.tag_resource().resource_arn(arn).tags("env", "dev").tags("team", "b").send().await.unwrap();
    let tags = live.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!((tags["env"].as_str(), tags["team"].as_str(), tags.len()), ("dev", "b", 2));
    live.untag_resource().resource_arn(arn).tag_keys("team").tag_keys("absent").send().await.unwrap();
    let described = live.describe_channel().id("tagged").send().await.unwrap();
    assert_eq!(described.tags().unwrap().keys().collect::<Vec<_>>(), ["env"]);

    let missing = "arn:aws:mediapackage:us-east-1:000000000000:channels/none";
    // The tag operations model no error shapes: the code is in the error's metadata.
    let err = live.list_tags_for_resource().resource_arn(missing).send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("NotFoundException"), "{err:?}");
    assert!(live.tag_resource().resource_arn(missing).tags("a", "b").send().await.is_err());

    let vod = harvester.vod();
    let group = vod.create_packaging_group().id("tagged-group").send().await.unwrap();
    let arn = group.arn().unwrap();
    vod.tag_resource().resource_arn(arn).tags("cost", "clips").send().await.unwrap();
    let tags = vod.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()["cost"], "clips");
    vod.untag_resource().resource_arn(arn).tag_keys("cost").send().await.unwrap();
    let tags = vod.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert!(tags.tags().is_none_or(|t| t.is_empty()));
    harvester.stop().await;
}
