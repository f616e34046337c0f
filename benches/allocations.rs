//! Counts heap allocations per request for every scenario and contender,
//! prints them as a table and leaves them for `sessions` to print beside
//! the times.
//!
//! A separate binary because counting costs time on every allocation:
//! `sessions` runs on the plain system allocator.
//! `cargo bench --bench allocations` (a substring filter works:
//! `cargo bench --bench allocations -- read/ours`).

mod common;

use std::{alloc::System, collections::BTreeMap, fs};

use common::{Case, Contender, Scenario, args, results};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Requests per count: enough to average out what grows now and then
/// (the `MemoryStore` of tower-sessions under `new`).
const REQUESTS: usize = 1000;

fn main() {
    let filter = args::positional().into_iter().next();
    let mut counts = BTreeMap::new();
    for scenario in Scenario::ALL {
        for contender in Contender::ALL {
            let id = format!("{}/{}", scenario.name(), contender.name());
            if filter.as_deref().is_some_and(|f| !id.contains(f)) {
                continue;
            }
            let Some(mut case) = Case::new(scenario, contender) else {
                continue;
            };
            // First requests fill caches and thread-locals once.
            for _ in 0..10 {
                std::hint::black_box(case.run());
            }
            let region = Region::new(GLOBAL);
            for _ in 0..REQUESTS {
                std::hint::black_box(case.run());
            }
            let stats = region.change();
            let per_request = |n: usize| n as f64 / REQUESTS as f64;
            counts.insert(
                id,
                serde_json::json!({
                    "allocations": per_request(stats.allocations + stats.reallocations),
                    "reallocations": per_request(stats.reallocations),
                    "bytes": per_request(stats.bytes_allocated),
                }),
            );
        }
    }

    println!("Allocations per request (of which reallocations; bytes allocated):\n");
    results::print_table_head();
    for scenario in Scenario::ALL {
        let mut row = format!("| {} |", scenario.name());
        for contender in Contender::ALL {
            let id = format!("{}/{}", scenario.name(), contender.name());
            let cell = counts.get(&id).map_or("-".to_owned(), |c| {
                format!(
                    "{} ({}; {} B)",
                    number(&c["allocations"]),
                    number(&c["reallocations"]),
                    number(&c["bytes"])
                )
            });
            row += &format!(" {cell} |");
        }
        println!("{row}");
    }

    let directory = results::output_directory();
    fs::create_dir_all(&directory).expect("criterion's directory can be made");
    let json = serde_json::to_vec_pretty(&counts).expect("JSON");
    fs::write(directory.join("allocations.json"), json).expect("the counts can be written");
}

fn number(v: &serde_json::Value) -> String {
    let n = v.as_f64().unwrap_or_default();
    if n.fract() == 0.0 {
        format!("{n}")
    } else {
        format!("{n:.1}")
    }
}
