//! A function whose configuration is incomplete stops at cold start, naming the setting, before
//! it takes any event.

use std::process::Command;

use end_to_end::stack::binary_dir;

#[test]
fn a_missing_setting_stops_the_cold_start_with_its_name() {
    let cases = [
        ("create-clip", vec![], "CLIPS_TABLE"),
        ("list-clips", vec![], "CLIPS_TABLE"),
        (
            "process-harvested-clip",
            vec![("CLIPS_TABLE", "t"), ("HARVEST_BUCKET", "b"), ("HARVEST_ROLE_ARN", "r")],
            "PACKAGING_GROUP_ID",
        ),
        (
            "create-clip",
            vec![("CLIPS_TABLE", "t"), ("HARVEST_BUCKET", "b"), ("HARVEST_ROLE_ARN", "r"), ("ORIGIN_ENDPOINT_ID", "e")],
            "STARTOVER_WINDOW_SECONDS",
        ),
    ];
    for (function, env, missing) in cases {
        let binary = binary_dir().expect("binary folder").join(function);
        let output = Command::new(&binary)
            .env_clear()
            .envs(env)
            // A Runtime API address nothing listens on: the function must stop before using it.
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e} (run cargo build --workspace --bins)", binary.display()));
        let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(!output.status.success(), "{function} started without {missing}");
        assert!(log.contains(missing), "{function} did not name {missing}: {log}");
    }
}
