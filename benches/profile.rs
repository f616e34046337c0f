//! Runs one case many times and nothing else, for a profiler:
//!
//! ```sh
//! cargo bench --bench profile --no-run
//! valgrind --tool=callgrind --toggle-collect='profile::requests' \
//!     target/release/deps/profile-<hash> write/ours 20000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>
//! ```
//!
//! With `--toggle-collect`, callgrind counts only the requests, so its
//! total divided by the count is the instructions per request;
//! `benches/callgrind.sh` does that for a list of cases and prints a
//! table (`benches/callgrind.sh new/ours new/handle`).
//! Under a plain `cargo bench` (no case named) it does nothing.

mod common;

use common::{Case, Contender, Scenario, args};

fn main() {
    let positional = args::positional();
    let case = positional.first().and_then(|id| {
        let (scenario, contender) = id.split_once('/')?;
        let scenario = Scenario::ALL.into_iter().find(|s| s.name() == scenario)?;
        let contender = Contender::ALL.into_iter().find(|c| c.name() == contender)?;
        Some((scenario, contender))
    });
    // Under `cargo bench -- FILTER`, a filter that names no case.
    let Some((scenario, contender)) = case else {
        println!("profile: name a case to run, e.g. `write/ours 20000`");
        return;
    };
    let count: usize = positional
        .get(1)
        .map_or(10_000, |n| n.parse().expect("a count"));
    let Some(mut case) = Case::new(scenario, contender) else {
        println!(
            "profile: {} has no {} case",
            contender.name(),
            scenario.name()
        );
        return;
    };
    // Fill caches and thread-locals before the profile starts.
    for _ in 0..10 {
        std::hint::black_box(case.run());
    }
    std::hint::black_box(requests(&mut case, count));
    case.check();
}

#[inline(never)]
fn requests(case: &mut Case, count: usize) -> usize {
    (0..count).map(|_| std::hint::black_box(case.run())).sum()
}
