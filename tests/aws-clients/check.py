"""Independent-client check of the local harvester: unmodified boto3 (botocore's own service
models, not this project's) drives MediaPackage and MediaPackage VOD at the harvester and gets
what AWS would return.

Run by scripts/aws-clients-check.sh, which starts the harvester with the demo channel and sets
AWS_ENDPOINT_URL_MEDIAPACKAGE / AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD (boto3 reads them itself).
Exits non-zero on the first failed expectation.
"""

import datetime
import os
import re
import sys
import time

import boto3

RUN = os.environ.get("CHECK_RUN", str(int(time.time())))
ACCOUNT = "000000000000"
REGION = "us-east-1"


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"  ok  {what}")


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except Exception as e:  # botocore.exceptions.ClientError and its modelled subclasses
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        check(got == code, f"{call.__name__} fails with {code} (got {got}: {e})")
        return e
    sys.exit(f"FAILED: {call.__name__} succeeded, expected {code}")


def iso(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def main():
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    live = session.client("mediapackage")
    vod = session.client("mediapackage-vod")

    print("MediaPackage: channels")
    ids = [f"check-{RUN}-{n}" for n in range(3)]
    for channel_id in ids:
        created = live.create_channel(Id=channel_id, Description="boto3 check", Tags={"suite": "aws-clients"})
    check(created["Arn"] == f"arn:aws:mediapackage:{REGION}:{ACCOUNT}:channels/{ids[-1]}", "channel ARN format")
    ingest = created["HlsIngest"]["IngestEndpoints"]
    check(len(ingest) == 2 and all(e["Username"] and e["Password"] for e in ingest), "two ingest endpoints with credentials")
    check(re.search(rf"/in/v2/{ids[-1]}/[0-9a-f]+/channel$", ingest[0]["Url"]) is not None, "ingest URL layout")
    described = live.describe_channel(Id=ids[0])
    check(described["Tags"] == {"suite": "aws-clients"} and described["Description"] == "boto3 check", "describe channel")
    expect_error("NotFoundException", live.describe_channel, Id="no-such-channel")
    expect_error("UnprocessableEntityException", live.create_channel, Id=ids[0])

    first = live.list_channels(MaxResults=2)
    check(len(first["Channels"]) == 2 and "NextToken" in first, "list channels: a page of 2 with a NextToken")
    seen = []
    for page in live.get_paginator("list_channels").paginate(PaginationConfig={"PageSize": 2}):
        seen.extend(c["Id"] for c in page["Channels"])
    check(set(ids) <= set(seen) and len(seen) == len(set(seen)), "the paginator visits every channel once")

    print("MediaPackage: origin endpoints")
    endpoint = live.create_origin_endpoint(
        ChannelId=ids[0],
        Id=f"{ids[0]}-hls",
        StartoverWindowSeconds=300,
        HlsPackage={"SegmentDurationSeconds": 2, "PlaylistWindowSeconds": 30},
    )
    check(endpoint["Url"].endswith(f"/out/v1/{ids[0]}-hls/index.m3u8"), "origin endpoint URL")
    check(endpoint["StartoverWindowSeconds"] == 300, "startover window echoed")
    listed = live.list_origin_endpoints(ChannelId=ids[0])["OriginEndpoints"]
    check([e["Id"] for e in listed] == [f"{ids[0]}-hls"], "list origin endpoints filtered by ChannelId")
    expect_error("UnprocessableEntityException", live.create_origin_endpoint, ChannelId="no-such-channel", Id=f"x-{RUN}",
                 HlsPackage={})

    print("MediaPackage: harvest job on the demo channel")
    job_id = f"job-{RUN}"
    key = f"aws-clients/{job_id}/index.m3u8"
    job = live.create_harvest_job(
        Id=job_id,
        OriginEndpointId="demo-hls",
        StartTime=iso(-30),
        EndTime=iso(-10),
        S3Destination={"BucketName": "clips", "ManifestKey": key, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/harvest"},
    )
    check(job["Status"] == "IN_PROGRESS" and job["ChannelId"] == "demo", "harvest job created IN_PROGRESS")
    check(job["Arn"] == f"arn:aws:mediapackage:{REGION}:{ACCOUNT}:harvest_jobs/{job_id}", "harvest job ARN format")
    for _ in range(100):
        status = live.describe_harvest_job(Id=job_id)["Status"]
        if status != "IN_PROGRESS":
            break
        time.sleep(0.2)
    check(status == "SUCCEEDED", "harvest job SUCCEEDED")
    succeeded = live.list_harvest_jobs(IncludeStatus="SUCCEEDED", IncludeChannelId="demo")["HarvestJobs"]
    check(job_id in [j["Id"] for j in succeeded], "list harvest jobs filtered by status and channel")
    expect_error("UnprocessableEntityException", live.create_harvest_job, Id=f"late-{RUN}", OriginEndpointId="demo-hls",
                 StartTime=iso(-10), EndTime=iso(-20),
                 S3Destination={"BucketName": "clips", "ManifestKey": "k/index.m3u8", "RoleArn": "arn:aws:iam::0:role/r"})

    print("MediaPackage VOD: packaging group, configuration, asset")
    group_id = f"group-{RUN}"
    group = vod.create_packaging_group(Id=group_id)
    check(group["Arn"] == f"arn:aws:mediapackage-vod:{REGION}:{ACCOUNT}:packaging-groups/{group_id}", "group ARN format")
    check("DomainName" in group, "group has a DomainName")
    config = vod.create_packaging_configuration(
        Id=f"hls-{RUN}",
        PackagingGroupId=group_id,
        HlsPackage={"HlsManifests": [{"ManifestName": "index"}], "SegmentDurationSeconds": 6},
    )
    check(config["PackagingGroupId"] == group_id and config["HlsPackage"]["HlsManifests"][0]["ManifestName"] == "index",
          "packaging configuration echoed")
    asset_ids = [f"asset-{RUN}-{n}" for n in range(3)]
    for asset_id in asset_ids:
        asset = vod.create_asset(
            Id=asset_id,
            PackagingGroupId=group_id,
            SourceArn=f"arn:aws:s3:::clips/{key}",
            SourceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/vod",
        )
    check(asset["Arn"] == f"arn:aws:mediapackage-vod:{REGION}:{ACCOUNT}:assets/{asset_ids[-1]}", "asset ARN format")
    for _ in range(100):
        egress = vod.describe_asset(Id=asset_ids[0])["EgressEndpoints"]
        if egress and all(e["Status"] == "PLAYABLE" for e in egress):
            break
        time.sleep(0.2)
    check(len(egress) == 1 and egress[0]["Status"] == "PLAYABLE", "asset egress PLAYABLE")
    check(egress[0]["Url"].endswith(f"/{group_id}/{asset_ids[0]}/hls-{RUN}/index.m3u8"), "egress URL layout")
    page = vod.list_assets(PackagingGroupId=group_id, MaxResults=2)
    check(len(page["Assets"]) == 2 and "NextToken" in page, "list assets: a page of 2 with a NextToken")
    rest = vod.list_assets(PackagingGroupId=group_id, MaxResults=2, NextToken=page["NextToken"])
    check([a["Id"] for a in page["Assets"] + rest["Assets"]] == asset_ids and "NextToken" not in rest,
          "the next page completes the list")
    groups = [g["Id"] for p in vod.get_paginator("list_packaging_groups").paginate() for g in p["PackagingGroups"]]
    check(group_id in groups, "list packaging groups")
    configs = vod.list_packaging_configurations(PackagingGroupId=group_id)["PackagingConfigurations"]
    check([c["Id"] for c in configs] == [f"hls-{RUN}"], "list packaging configurations filtered by group")
    expect_error("NotFoundException", vod.describe_asset, Id="no-such-asset")
    expect_error("UnprocessableEntityException", vod.create_asset, Id=f"bad-{RUN}", PackagingGroupId="no-such-group",
                 SourceArn=f"arn:aws:s3:::clips/{key}", SourceRoleArn="arn:aws:iam::0:role/r")
    print("boto3: all checks passed")


if __name__ == "__main__":
    main()
