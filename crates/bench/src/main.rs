//! `lambda-bench`: the measured side of issue #6's budgets.
//!
//! - `cold`: each function binary (and the `bench-hello` baseline) started fresh under
//!   `local_stack::FunctionHost` and served one sample event, N times: init, first response and
//!   peak RSS medians, with the ratios against hello (budget ≤ 2×).
//! - `list`: warm list-clips handler latency against a bare DynamoDB Query for the same page
//!   (budget ≤ 1.2×), for competitions of growing size (budget: flat).
//!
//! Both start their own dynalite and local harvester in a scratch folder and print a markdown
//! table (also written to `--out`), which `scripts/bench.sh` puts into docs/performance.md.
//! Benchmarks are not tests: nothing here fails on a missed budget.
//!
//! Layout: `services` (the local parts), `cold`, `list`, `stats` (medians, verdicts).

mod cold;
mod list;
mod services;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Cold start, memory and list latency of the live-clips functions")]
struct Args {
    /// The folder with the release builds of the functions and `bench-hello`.
    #[arg(long, default_value = "target/release", global = true)]
    bin_dir: PathBuf,
    /// The sample events (`events/` of the repository).
    #[arg(long, default_value = "events", global = true)]
    events_dir: PathBuf,
    /// The folder holding `node_modules/` with dynalite.
    #[arg(long, default_value = ".", global = true)]
    node_dir: PathBuf,
    /// Where the markdown table goes, besides stdout.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cold start and peak RSS of every function against `bench-hello`.
    Cold {
        /// Fresh processes per binary.
        #[arg(long, default_value_t = 15)]
        runs: usize,
        /// Leave out the `bench-sdk` rows that split the functions' cost into steps.
        #[arg(long)]
        no_attribution: bool,
    },
    /// Warm list-clips against a bare Query, by competition size.
    List {
        /// Competition sizes to seed and page through.
        #[arg(long, value_delimiter = ',', default_values_t = [100, 10_000, 100_000])]
        sizes: Vec<usize>,
        /// Seeding time allowed per size; the report says when it cut a size short.
        #[arg(long, default_value_t = 120)]
        seed_budget_secs: u64,
        /// Measured pages per size (after 5 warm-up pages).
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let data_dir = std::env::temp_dir().join(format!("lambda-bench-{}", std::process::id()));
    let services = services::Services::start(&data_dir, &args.node_dir).await?;
    let result = match &args.command {
        Command::Cold { runs, no_attribution } => {
            cold::measure(&services, &args.bin_dir, &args.events_dir, *runs, !no_attribution)
                .await
                .map(|r| cold::report(&r))
        }
        Command::List { sizes, seed_budget_secs, iterations } => {
            list::measure(&services, &args.events_dir, sizes, Duration::from_secs(*seed_budget_secs), *iterations)
                .await
                .map(|r| list::report(&r))
        }
    };
    services.shutdown().await;
    std::fs::remove_dir_all(&data_dir).ok();
    let table = result?;
    println!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table)?;
    }
    Ok(())
}
