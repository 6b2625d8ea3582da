#!/usr/bin/env bash
# Offline checks of the AWS deployment, with no AWS account or credentials:
#   1. template.yaml: `sam validate --lint`, cfn-lint, and checkov with no failed check, where
#      every skip in the template has a reason and still stands for a check that would fail;
#   2. openapi.yaml: a valid OpenAPI 3.1 document (openapi-spec-validator);
#   3. `sam build` of the three functions with cargo-lambda (Zig cross-compiles), and a look at
#      each bootstrap it made.
# The tools come from PyPI, at the versions pinned below, into a virtualenv under .local/.
#
# Usage: scripts/check-deploy.sh [--architecture arm64|x86_64] [--full-release] [--no-build]
#        scripts/check-deploy.sh --tools    installs the tools only and prints their bin folder
#
# `sam build` compiles the functions in release mode from scratch (its own target triple). The
# release profile of Cargo.toml (fat LTO, one codegen unit) makes that take half an hour on two
# cores, so this check builds with optimisation and LTO off unless --full-release is given: it
# checks that the template, cargo-lambda and the workspace produce the three bootstraps, not how
# fast they run. `sam build` for a deployment is the plain one in docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=(
  aws-sam-cli==1.170.0
  cfn-lint==1.58.0
  checkov==3.2.459
  openapi-spec-validator==0.9.0
  cargo-lambda==1.9.2
)
VENV=.local/deploy-tools

architecture=arm64
full_release=false
build=true
tools_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --architecture) architecture="${2:?--architecture needs arm64 or x86_64}"; shift 2 ;;
    --full-release) full_release=true; shift ;;
    --no-build) build=false; shift ;;
    --tools) tools_only=true; shift ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$architecture" in arm64 | x86_64) ;; *) echo "--architecture is arm64 or x86_64" >&2; exit 2 ;; esac

# Installs the pinned tools unless the virtualenv already holds exactly them.
install_tools() {
  local wanted="${TOOLS[*]}"
  if [ -x "$VENV/bin/sam" ] && [ "$(cat "$VENV/.pinned" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  echo "› installing ${TOOLS[*]} (pip, into $VENV)" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}" >&2
  echo "$wanted" > "$VENV/.pinned"
}

if $tools_only; then
  install_tools
  echo "$PWD/$VENV/bin"
  exit 0
fi

started=$SECONDS
step_started=$SECONDS
step() {
  echo "› $* (after $((SECONDS - started)) s)"
  step_started=$SECONDS
}
done_step() {
  echo "  ok in $((SECONDS - step_started)) s"
}

step "deploy tools"
install_tools
done_step
export PATH="$PWD/$VENV/bin:$PATH"
# Offline and quiet: no telemetry, no credentials or instance metadata looked up.
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

step "sam validate --lint"
sam validate --lint --template-file template.yaml
done_step

step "cfn-lint template.yaml"
cfn-lint template.yaml
done_step

step "checkov (CloudFormation)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
checkov -f template.yaml --framework cloudformation --skip-download --quiet --compact \
  -o json > "$work/checkov.json" || true
# The same template without its skips: each skip must stand for a check that fails there.
python - "$work" <<'EOF'
import json, sys
from pathlib import Path
from cfnlint.decode import cfn_yaml

work = Path(sys.argv[1])
template = cfn_yaml.load("template.yaml")
skips, missing_reasons = set(), []
for name, resource in template["Resources"].items():
    for skip in resource.get("Metadata", {}).pop("checkov", {}).get("skip", []):
        skips.add((skip["id"], name))
        if len(str(skip.get("comment", "")).strip()) < 20:
            missing_reasons.append(f"{name}: {skip['id']}")
(work / "unskipped.json").write_text(json.dumps(template, default=str))
(work / "skips.json").write_text(json.dumps(sorted(skips)))
if missing_reasons:
    sys.exit(f"checkov skips without a written reason: {missing_reasons}")
EOF
checkov -f "$work/unskipped.json" --framework cloudformation --skip-download --quiet --compact \
  -o json > "$work/unskipped-checkov.json" || true
python - "$work" <<'EOF'
import json, sys
from pathlib import Path

work = Path(sys.argv[1])

def results(name):
    report = json.loads((work / name).read_text())
    report = report[0] if isinstance(report, list) else report
    return report.get("results", {}), report.get("summary", {})

def keyed(checks):
    # checkov names a resource "AWS::Type.LogicalId".
    return {(c["check_id"], c["resource"].rsplit(".", 1)[-1]) for c in checks}

with_skips, summary = results("checkov.json")
failed = keyed(with_skips.get("failed_checks", []))
print(f"  checkov: {summary.get('passed')} passed, {summary.get('failed')} failed, "
      f"{summary.get('skipped')} skipped")
if failed:
    sys.exit(f"checkov failed checks: {sorted(failed)}")
skips = {tuple(s) for s in json.loads((work / "skips.json").read_text())}
without_skips, _ = results("unskipped-checkov.json")
would_fail = keyed(without_skips.get("failed_checks", []))
stale = skips - would_fail
if stale:
    sys.exit(f"checkov skips for checks that pass anyway (remove them): {sorted(stale)}")
unexplained = would_fail - skips
if unexplained:
    sys.exit(f"checks that fail without being skipped: {sorted(unexplained)}")
EOF
done_step

step "openapi-spec-validator openapi.yaml"
openapi-spec-validator openapi.yaml
done_step

if ! $build; then
  echo "› all deploy checks passed in $((SECONDS - started)) s (sam build skipped)"
  exit 0
fi

profile="release profile with optimisation and LTO off (--full-release for Cargo.toml's own)"
if $full_release; then
  profile="Cargo.toml's release profile"
else
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_INCREMENTAL=false
fi
if [ "$architecture" = arm64 ]; then
  # Cross-compiling needs the target's standard library; rustup fetches it once.
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
fi
step "sam build, $architecture, $profile"
build_dir=.local/sam-build
sam build --template-file template.yaml --build-dir "$build_dir" \
  --parameter-overrides "Architecture=$architecture" --beta-features
# Each function's bootstrap: an ELF executable for the architecture.
python - "$build_dir" "$architecture" <<'EOF'
import struct, sys
from pathlib import Path

build_dir, architecture = Path(sys.argv[1]), sys.argv[2]
machine = {"arm64": 0xB7, "x86_64": 0x3E}[architecture]
for function in ["CreateClipFunction", "ListClipsFunction", "ProcessHarvestedClipFunction"]:
    bootstrap = build_dir / function / "bootstrap"
    header = bootstrap.read_bytes()[:20]
    if header[:4] != b"\x7fELF" or struct.unpack("<H", header[18:20])[0] != machine:
        sys.exit(f"{bootstrap} is not an {architecture} executable")
    print(f"  {bootstrap}: {architecture} ELF, {bootstrap.stat().st_size // 1024} KiB")
EOF
done_step
echo "› all deploy checks passed in $((SECONDS - started)) s"
