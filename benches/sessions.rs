//! Times every scenario for every contender in one process, then prints
//! the medians side by side with the ratios BENCHMARKS.md reports.
//!
//! `cargo bench --bench sessions` (criterion's filters work:
//! `cargo bench --bench sessions -- read/`). Run `allocations` first
//! (`cargo bench` does) to get the allocation counts in the same table.

mod common;
#[path = "common/results.rs"]
mod results;

use std::{
    collections::BTreeMap,
    fs,
    path::Path,
    time::{Duration, SystemTime},
};

use common::{Case, Contender, Scenario};
use criterion::{Criterion, black_box};

fn main() {
    let started = SystemTime::now();
    let directory = results::output_directory();
    let mut criterion = Criterion::default()
        .output_directory(&directory)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .without_plots()
        .configure_from_args();
    for scenario in Scenario::ALL {
        let mut group = criterion.benchmark_group(scenario.name());
        for contender in Contender::ALL {
            if !Case::applies(scenario, contender) {
                continue;
            }
            // Set up only when the filter selects this contender.
            let mut case = None;
            group.bench_function(contender.name(), |b| {
                let case = case.get_or_insert_with(|| {
                    Case::new(scenario, contender).expect("the case applies")
                });
                b.iter(|| black_box(case.run()));
            });
            // A path that broke while it was timed (a cookie gone stale,
            // say) must not go unnoticed.
            if let Some(case) = &mut case {
                case.check();
            }
        }
        group.finish();
    }
    criterion.final_summary();
    print_summary(&directory, started);
}

/// Prints the medians of this run (only benchmarks measured by this
/// process) as Markdown, with the allocation counts if `allocations` ran
/// on this build.
fn print_summary(directory: &Path, started: SystemTime) {
    let mut medians = BTreeMap::new();
    for scenario in Scenario::ALL {
        for contender in Contender::ALL {
            let path = directory
                .join(scenario.name())
                .join(contender.name())
                .join("new/estimates.json");
            if let Some(median) = median_ns(&path, started) {
                medians.insert((scenario.name(), contender.name()), median);
            }
        }
    }
    if medians.is_empty() {
        return;
    }
    let allocations = read_allocations(directory);
    let time = |s: Scenario, c: Contender| medians.get(&(s.name(), c.name())).copied();

    println!("\nMedian time per request (allocations per request):\n");
    let mut header = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for contender in Contender::ALL {
        header += &format!(" {} |", contender.name());
        rule += "---:|";
    }
    println!("{header}\n{rule}");
    for scenario in Scenario::ALL {
        let mut row = format!("| {} |", scenario.name());
        for contender in Contender::ALL {
            let cell = match time(scenario, contender) {
                Some(ns) => {
                    let key = format!("{}/{}", scenario.name(), contender.name());
                    match allocations.get(&key) {
                        Some(count) => format!("{} ({count})", micros(ns)),
                        None => micros(ns),
                    }
                }
                None => "-".to_owned(),
            };
            row += &format!(" {cell} |");
        }
        println!("{row}");
    }

    println!("\nRatios (ours / other; below 1 is faster):\n");
    let peers = [
        Contender::TowerSessions,
        Contender::CookieStore,
        Contender::AxumExtra,
    ];
    let mut header = String::from("| scenario | ours / bare | ours / (bare + primitives) |");
    let mut rule = String::from("|---|---:|---:|");
    for peer in peers {
        header += &format!(" ours / {} |", peer.name());
        rule += "---:|";
    }
    println!("{header}\n{rule}");
    for scenario in Scenario::ALL {
        let Some(ours) = time(scenario, Contender::Ours) else {
            continue;
        };
        let ratio =
            |other: Option<f64>| other.map_or("-".to_owned(), |o| format!("{:.2}", ours / o));
        let bare = time(scenario, Contender::Bare);
        let floor = match (bare, time(scenario, Contender::Primitives)) {
            (Some(b), Some(p)) => Some(b + p),
            _ => None,
        };
        let mut row = format!(
            "| {} | {} | {} |",
            scenario.name(),
            ratio(bare),
            ratio(floor)
        );
        for peer in peers {
            row += &format!(" {} |", ratio(time(scenario, peer)));
        }
        println!("{row}");
    }
}

/// The median of a benchmark measured after `started`, in nanoseconds.
fn median_ns(path: &Path, started: SystemTime) -> Option<f64> {
    let modified = fs::metadata(path).and_then(|m| m.modified()).ok()?;
    if modified < started {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// The counts `allocations` wrote, if it ran on this build.
fn read_allocations(directory: &Path) -> BTreeMap<String, String> {
    let path = directory.join("allocations.json");
    let built = std::env::current_exe()
        .and_then(fs::metadata)
        .and_then(|m| m.modified());
    let written = fs::metadata(&path).and_then(|m| m.modified());
    match (built, written) {
        (Ok(built), Ok(written)) if written >= built => {}
        _ => return BTreeMap::new(),
    }
    fs::read(&path)
        .ok()
        .and_then(|bytes| {
            serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&bytes).ok()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v["allocations"].as_f64().map(count)?)))
        .collect()
}

fn count(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n}")
    } else {
        format!("{n:.1}")
    }
}

fn micros(ns: f64) -> String {
    let us = ns / 1000.0;
    if us < 10.0 {
        format!("{us:.2} µs")
    } else {
        format!("{us:.1} µs")
    }
}
