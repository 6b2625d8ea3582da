#!/usr/bin/env bash
# Independent clients against the local harvester: boto3 and the AWS CLI, unmodified, from PyPI
# (installed into a venv under .local/, git-ignored), drive MediaPackage and MediaPackage VOD on a
# harvester this script starts with the demo channel, and must get what AWS would return.
#   1. tests/aws-clients/check.py (boto3, endpoints from AWS_ENDPOINT_URL_MEDIAPACKAGE[_VOD]);
#   2. AWS CLI calls with --endpoint-url: create, describe, list with pagination, typed errors.
# Prints how long it took. Exits non-zero on the first failure (the harvester log is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

venv=.local/aws-clients
if [[ ! -x $venv/bin/aws || ! -x $venv/bin/python ]]; then
  echo "› installing boto3 and awscli into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check boto3 awscli
fi
cargo build --quiet -p local-harvester

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
endpoint=http://127.0.0.1:$port
target/debug/local-harvester --listen "127.0.0.1:$port" --data-dir "$data" --demo >"$data/harvester.log" 2>&1 &
harvester=$!
finish() {
  status=$?
  kill "$harvester" 2>/dev/null || true
  wait "$harvester" 2>/dev/null || true
  if [[ $status -ne 0 ]]; then
    echo "--- harvester log"
    cat "$data/harvester.log"
  fi
  rm -rf "$data"
}
trap finish EXIT
for _ in $(seq 100); do
  curl -sf "$endpoint/channels" >/dev/null && break
  sleep 0.1
done

# Nothing from the developer's own AWS setup may leak in.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
export AWS_ENDPOINT_URL_MEDIAPACKAGE=$endpoint AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD=$endpoint

echo "› boto3 ($("$venv/bin/python" -c 'import boto3; print(boto3.__version__)'))"
"$venv/bin/python" tests/aws-clients/check.py

echo "› AWS CLI ($("$venv/bin/aws" --version 2>&1))"
aws() { "$venv/bin/aws" --endpoint-url "$endpoint" "$@"; }
expect() { # expect WHAT EXPECTED ACTUAL
  if [[ "$2" != "$3" ]]; then
    echo "FAILED: $1: expected '$2', got '$3'"
    exit 1
  fi
  echo "  ok  $1"
}
run=cli$RANDOM
for n in 1 2 3; do
  aws mediapackage create-channel --id "$run-$n" --output text --query Id >/dev/null
done
expect "describe-channel ARN" "arn:aws:mediapackage:us-east-1:000000000000:channels/$run-1" \
  "$(aws mediapackage describe-channel --id "$run-1" --output text --query Arn)"
# The CLI follows nextToken itself: page size 1 must still list every channel once.
all=$(aws mediapackage list-channels --page-size 1 --output text --query 'Channels[].Id' | tr '\t' '\n' | grep -c "^$run-")
expect "list-channels paginated by 1" 3 "$all"
token=$(aws mediapackage list-channels --max-items 1 --output json --query NextToken)
[[ $token != null ]] || { echo "FAILED: list-channels --max-items 1 has no NextToken"; exit 1; }
echo "  ok  list-channels --max-items 1 returns a NextToken"
aws mediapackage create-origin-endpoint --channel-id "$run-1" --id "$run-1-hls" --startover-window-seconds 300 \
  --hls-package SegmentDurationSeconds=2 --output text --query Id >/dev/null
expect "list-origin-endpoints --channel-id" "$run-1-hls" \
  "$(aws mediapackage list-origin-endpoints --channel-id "$run-1" --output text --query 'OriginEndpoints[].Id')"
start=$(date -u -d '-30 seconds' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '-10 seconds' +%Y-%m-%dT%H:%M:%SZ)
expect "create-harvest-job status" IN_PROGRESS "$(aws mediapackage create-harvest-job --id "$run-job" \
  --origin-endpoint-id demo-hls --start-time "$start" --end-time "$end" \
  --s3-destination "BucketName=clips,ManifestKey=$run/index.m3u8,RoleArn=arn:aws:iam::000000000000:role/h" \
  --output text --query Status)"
for _ in $(seq 100); do
  status=$(aws mediapackage describe-harvest-job --id "$run-job" --output text --query Status)
  [[ $status == IN_PROGRESS ]] || break
  sleep 0.2
done
expect "describe-harvest-job status" SUCCEEDED "$status"
aws mediapackage-vod create-packaging-group --id "$run-group" --output text --query Id >/dev/null
aws mediapackage-vod create-packaging-configuration --id "$run-hls" --packaging-group-id "$run-group" \
  --hls-package 'HlsManifests=[{ManifestName=index}]' --output text --query Id >/dev/null
aws mediapackage-vod create-asset --id "$run-asset" --packaging-group-id "$run-group" \
  --source-arn "arn:aws:s3:::clips/$run/index.m3u8" --source-role-arn arn:aws:iam::000000000000:role/v \
  --output text --query Id >/dev/null
expect "list-assets --packaging-group-id" "$run-asset" \
  "$(aws mediapackage-vod list-assets --packaging-group-id "$run-group" --output text --query 'Assets[].Id')"
set +e
error=$(aws mediapackage-vod describe-asset --id "no-such-asset" 2>&1 >/dev/null)
code=$?
set -e
[[ $code -ne 0 && $error == *NotFoundException* ]] || { echo "FAILED: describe-asset of a missing id: $code $error"; exit 1; }
echo "  ok  describe-asset of a missing id fails with NotFoundException"

echo "aws-clients check passed in $((SECONDS - started)) s"
