//! The live origin through the public API: what a player's playlist poll costs (the demo
//! channel's master and media playlists over HTTP, rendered from the live buffer each time).
//! Harvests at scale are in `harvest.rs`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use local_harvester::{DEMO_ORIGIN_ENDPOINT_ID, HarvesterConfig};

fn origin(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let data_dir = std::env::temp_dir().join(format!("harvester-bench-{}", std::process::id()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let base = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("a bound address");
        let public_url = format!("http://{address}/").parse().expect("a valid URL");
        let config = HarvesterConfig { demo: true, ..HarvesterConfig::new(&data_dir, public_url) };
        tokio::spawn(local_harvester::serve(listener, config, async move {
            stopped.await.ok();
        }));
        format!("http://{address}/out/v1/{DEMO_ORIGIN_ENDPOINT_ID}")
    });
    let client = reqwest::Client::new();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(&url).send().await.expect("the origin answers");
            assert!(response.status().is_success(), "{url}: {}", response.status());
            response.bytes().await.expect("a body")
        }
    };
    // The demo needs a moment to put its first segments in the buffer.
    runtime.block_on(async {
        for _ in 0..100 {
            if client.get(format!("{base}/index_1.m3u8")).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the demo channel has no playlist after 10 s");
    });
    c.bench_function("origin/GET master playlist", |b| b.iter(|| runtime.block_on(get(format!("{base}/index.m3u8")))));
    c.bench_function("origin/GET live media playlist", |b| {
        b.iter(|| runtime.block_on(get(format!("{base}/index_1.m3u8"))));
    });
    stop.send(()).ok();
    std::fs::remove_dir_all(&data_dir).ok();
}

criterion_group!(benches, origin);
criterion_main!(benches);
