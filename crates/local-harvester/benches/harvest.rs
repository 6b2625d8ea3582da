//! Harvest at scale: a 1 h, 6 h and 24 h window of three renditions of 2 s segments (5 400,
//! 32 400 and 129 600 segments) planned and written into folder buckets, and what a buffered
//! segment costs in memory over a 14-day startover window.
//!
//! `cargo bench -p local-harvester --bench harvest`. Segments are one MPEG-TS packet each, so
//! the cost measured is the per-segment work (planning, one file per segment, playlists), not
//! the disk's bandwidth. Memory is the growth of the process's resident set (`VmRSS`) while a
//! buffer is filled, divided by the segments it holds: what the buffer really occupies,
//! allocator overhead included (measured first, on a fresh heap, so little freed memory is
//! reused).

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use local_harvester::bench::SyntheticChannel;

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`, Linux).
fn resident() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux's /proc");
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).expect("a VmRSS line");
    let kib: usize = line.trim().trim_end_matches("kB").trim().parse().expect("VmRSS in kB");
    kib * 1024
}

/// Resident bytes per buffered segment of the channel `fill` makes.
fn memory_per_segment(fill: impl FnOnce() -> SyntheticChannel) -> f64 {
    let before = resident();
    let channel = fill();
    let used = resident().saturating_sub(before);
    used as f64 / channel.segments() as f64
}

fn harvest(c: &mut Criterion) {
    const FOURTEEN_DAYS: u32 = 14 * 24;
    let shared = memory_per_segment(|| SyntheticChannel::shared(1, FOURTEEN_DAYS));
    let spool = std::path::Path::new("/srv/live-clips/.data/harvester/ingest/channel-id");
    let spooled = memory_per_segment(|| SyntheticChannel::spooled(1, FOURTEEN_DAYS, spool));
    println!(
        "memory per buffered segment over a 14-day window (604 800 segments): \
         {shared:.0} bytes shared (demo), {spooled:.0} bytes spooled (ingest)"
    );

    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut group = c.benchmark_group("harvest");
    // One harvest per sample (flat sampling): a 24 h harvest takes seconds, and criterion's
    // default of growing iteration counts would run it dozens of times.
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for hours in [1, 6, 24] {
        let channel = SyntheticChannel::shared(3, hours);
        group.bench_function(format!("{hours}h x3 renditions"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let root = std::env::temp_dir().join(format!("harvest-bench-{}", fastrand::u64(..)));
                    let started = Instant::now();
                    let master = runtime.block_on(channel.harvest_all(&root));
                    spent += started.elapsed();
                    assert!(master.is_file());
                    std::fs::remove_dir_all(&root).expect("the harvest is removed");
                }
                spent
            });
        });
    }
    group.finish();
}

criterion_group!(benches, harvest);
criterion_main!(benches);
