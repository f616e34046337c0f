//! Times every scenario for every contender in one process, then prints
//! the tables BENCHMARKS.md reports.
//!
//! `cargo bench --bench sessions`; criterion's filters work
//! (`cargo bench --bench sessions -- read/`). Criterion times each
//! contender in [`ROUNDS`] rounds, on the thread's CPU time
//! (`BENCH_CLOCK=wall` for wall time). The summary then times the
//! contenders of each scenario interleaved, which is what makes ratios
//! hold on a machine shared with other work, and prints both. Run
//! `allocations` first (`cargo bench` does) to get the allocation counts
//! in the same table.

mod common;

use std::{
    collections::BTreeMap,
    fs,
    path::Path,
    time::{Duration, Instant, SystemTime},
};

use common::{Case, Contender, Scenario, results};
use cpu_time::ThreadTime;
use criterion::{
    BenchmarkId, Criterion, black_box,
    measurement::{Measurement, ValueFormatter, WallTime},
};

fn main() {
    let started = SystemTime::now();
    let directory = results::output_directory();
    // On a shared machine the thread's CPU time leaves out the time other
    // processes hold the core; `BENCH_CLOCK=wall` measures wall time.
    if std::env::var("BENCH_CLOCK").is_ok_and(|c| c == "wall") {
        run(criterion(WallTime, &directory));
    } else {
        run(criterion(ThreadCpuTime, &directory));
    }
    print_summary(&directory, started);
}

fn criterion<M: Measurement>(measurement: M, directory: &Path) -> Criterion<M> {
    Criterion::default()
        .with_measurement(measurement)
        .output_directory(directory)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

/// Each contender is timed once a round, every scenario and contender in
/// turn; a disturbance on a shared machine only ever adds time, so the
/// summary keeps each one's lowest median.
const ROUNDS: u32 = 3;

fn run<M: Measurement>(mut criterion: Criterion<M>) {
    for round in 1..=ROUNDS {
        for scenario in Scenario::ALL {
            let mut group = criterion.benchmark_group(scenario.name());
            for contender in Contender::ALL {
                if !Case::applies(scenario, contender) {
                    continue;
                }
                // Set up only when the filter selects this contender, and
                // afresh each round (a store that grows starts empty).
                let mut case = None;
                let id = BenchmarkId::new(contender.name(), round);
                group.bench_function(id, |b| {
                    let case = case.get_or_insert_with(|| {
                        Case::new(scenario, contender).expect("the case applies")
                    });
                    b.iter(|| black_box(case.run()));
                });
                // A path that broke while it was timed must not go
                // unnoticed.
                if let Some(case) = &mut case {
                    case.check();
                }
            }
            group.finish();
        }
    }
    criterion.final_summary();
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), in the same
/// units and format as criterion's wall time.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// Prints, as Markdown, the medians of the benchmarks this process ran:
/// first measured interleaved (see [`interleaved`]), with the allocation
/// counts if `allocations` ran on this build, then criterion's.
fn print_summary(directory: &Path, started: SystemTime) {
    let mut criterion = Times::new();
    for scenario in Scenario::ALL {
        for contender in Contender::ALL {
            let lowest = (1..=ROUNDS)
                .filter_map(|round| {
                    let path = directory
                        .join(scenario.name())
                        .join(contender.name())
                        .join(round.to_string())
                        .join("new/estimates.json");
                    median_ns(&path, started)
                })
                .reduce(f64::min);
            if let Some(median) = lowest {
                criterion.insert((scenario.name(), contender.name()), median);
            }
        }
    }
    if criterion.is_empty() {
        return;
    }
    let interleaved = interleaved(&criterion);
    print_tables(
        &format!(
            "Median time per request, contenders interleaved for {} s a scenario \
             (allocations per request)",
            INTERLEAVED.as_secs()
        ),
        &interleaved,
        &read_allocations(directory),
    );
    print_tables(
        &format!("Criterion's medians, the lowest of {ROUNDS} rounds"),
        &criterion,
        &BTreeMap::new(),
    );
}

/// Median nanoseconds per request, by scenario and contender name.
type Times = BTreeMap<(&'static str, &'static str), f64>;

/// How long each scenario's contenders are timed, in turn.
const INTERLEAVED: Duration = Duration::from_secs(3);
/// About how long one contender runs before the next one's turn.
const SLICE: Duration = Duration::from_micros(500);

/// Times the contenders of each scenario in `which` in turn, a slice of
/// about [`SLICE`] each, for [`INTERLEAVED`]; the median over slices of
/// each contender's time per request. On a shared machine the load
/// changes within a second: criterion times one contender after another,
/// so each meets a different load, while here all meet the same.
fn interleaved(which: &Times) -> Times {
    let mut times = Times::new();
    for scenario in Scenario::ALL {
        let mut cases: Vec<_> = Contender::ALL
            .into_iter()
            .filter(|c| which.contains_key(&(scenario.name(), c.name())))
            .filter_map(|c| Some((c, Case::new(scenario, c)?)))
            .map(|(contender, mut case)| {
                let start = Instant::now();
                for _ in 0..100 {
                    black_box(case.run());
                }
                let per_request = start.elapsed().as_nanos().max(1) / 100;
                let per_slice = (SLICE.as_nanos() / per_request).clamp(1, 100_000);
                (contender, case, per_slice, Vec::new())
            })
            .collect();
        let start = Instant::now();
        while start.elapsed() < INTERLEAVED {
            for (_, case, per_slice, samples) in &mut cases {
                let slice = Instant::now();
                for _ in 0..*per_slice {
                    black_box(case.run());
                }
                samples.push(slice.elapsed().as_nanos() as f64 / *per_slice as f64);
            }
        }
        for (contender, mut case, _, mut samples) in cases {
            case.check();
            samples.sort_by(f64::total_cmp);
            if let Some(median) = samples.get(samples.len() / 2) {
                times.insert((scenario.name(), contender.name()), *median);
            }
        }
    }
    times
}

fn print_tables(title: &str, times: &Times, allocations: &BTreeMap<String, String>) {
    let time = |s: Scenario, c: Contender| times.get(&(s.name(), c.name())).copied();
    println!("\n{title}:\n");
    results::print_table_head();
    for scenario in Scenario::ALL {
        if Contender::ALL.iter().all(|&c| time(scenario, c).is_none()) {
            continue;
        }
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
    let mut header = String::from(
        "| scenario | ours / bare | ours / (bare + primitives) \
         | ours / handle | ours / (handle + primitives) |",
    );
    let mut rule = String::from("|---|---:|---:|---:|---:|");
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
        // The codec work added to a layer that does only the HTTP part.
        let plus_primitives =
            |layer: Option<f64>| match (layer, time(scenario, Contender::Primitives)) {
                (Some(l), Some(p)) => Some(l + p),
                _ => None,
            };
        let bare = time(scenario, Contender::Bare);
        let handle = time(scenario, Contender::Handle);
        let mut row = format!(
            "| {} | {} | {} | {} | {} |",
            scenario.name(),
            ratio(bare),
            ratio(plus_primitives(bare)),
            ratio(handle),
            ratio(plus_primitives(handle)),
        );
        for peer in peers {
            row += &format!(" {} |", ratio(time(scenario, peer)));
        }
        println!("{row}");
    }

    #[cfg(feature = "sealed")]
    print_sealed_ratios(times);
    print_revocation_cost(times);
}

/// What revocation's check adds to ours: each revocation contender's
/// time minus ours', and the ratio.
fn print_revocation_cost(times: &Times) {
    let time = |s: Scenario, c: Contender| times.get(&(s.name(), c.name())).copied();
    let contenders = [
        Contender::RevocationMemory,
        #[cfg(feature = "redis")]
        Contender::RevocationRedis,
    ];
    if Scenario::ALL
        .iter()
        .all(|&s| contenders.iter().all(|&c| time(s, c).is_none()))
    {
        return;
    }
    println!("\nRevocation (the contender minus ours, and the contender / ours):\n");
    let mut columns = vec!["ours".to_owned()];
    for contender in contenders {
        let name = contender.name();
        columns.extend([
            name.to_owned(),
            format!("{name} - ours"),
            format!("{name} / ours"),
        ]);
    }
    print_head(&columns);
    for scenario in Scenario::ALL {
        let Some(ours) = time(scenario, Contender::Ours) else {
            continue;
        };
        let mut row = format!("| {} | {} |", scenario.name(), micros(ours));
        for contender in contenders {
            row += &match time(scenario, contender) {
                Some(t) => format!(
                    " {} | {:+.2} µs | {:.2} |",
                    micros(t),
                    (t - ours) / 1000.0,
                    t / ours
                ),
                None => " - | - | - |".to_owned(),
            };
        }
        println!("{row}");
    }
}

/// Sealed against ours (the price of encryption) and against the peers
/// that encrypt too.
#[cfg(feature = "sealed")]
fn print_sealed_ratios(times: &Times) {
    let time = |s: Scenario, c: Contender| times.get(&(s.name(), c.name())).copied();
    let others = [
        Contender::Ours,
        Contender::CookieStorePrivate,
        Contender::AxumExtraPrivate,
    ];
    println!("\nRatios (sealed / other; below 1 is faster):\n");
    let columns: Vec<String> = others
        .iter()
        .map(|other| format!("sealed / {}", other.name()))
        .collect();
    print_head(&columns);
    for scenario in Scenario::ALL {
        let Some(sealed) = time(scenario, Contender::Sealed) else {
            continue;
        };
        let mut row = format!("| {} |", scenario.name());
        for other in others {
            let cell =
                time(scenario, other).map_or("-".to_owned(), |o| format!("{:.2}", sealed / o));
            row += &format!(" {cell} |");
        }
        println!("{row}");
    }
}

/// Prints the head of a Markdown table: `scenario`, then `columns`,
/// right-aligned.
fn print_head(columns: &[String]) {
    let mut header = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for column in columns {
        header += &format!(" {column} |");
        rule += "---:|";
    }
    println!("{header}\n{rule}");
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
