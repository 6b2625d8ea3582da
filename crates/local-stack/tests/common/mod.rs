//! Set-up shared by the integration tests: the fixture function and process
//! liveness checks.

use local_stack::{FunctionHost, FunctionSpec};
use serde_json::Value;

/// The fixture binary cargo built for this test run.
pub const FIXTURE: &str = env!("CARGO_BIN_EXE_local-stack-fixture");

/// A spec for the fixture in `mode` (see the fixture's docs).
pub fn fixture(name: &str, mode: Option<&str>) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, FIXTURE);
    if let Some(mode) = mode {
        spec.env.push(("FIXTURE_MODE".into(), mode.into()));
    }
    spec
}

pub async fn start(spec: FunctionSpec) -> FunctionHost {
    FunctionHost::start(spec).await.expect("fixture starts")
}

pub fn pid_of(response: &Value) -> u32 {
    u32::try_from(response["pid"].as_u64().expect("pid in echo")).unwrap()
}

/// Whether `pid` is a live process (a zombie is dead for this purpose).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the parenthesised command name.
    let state = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
    state != Some("Z")
}
