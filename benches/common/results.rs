//! Where `sessions` finds criterion's results and `allocations` leaves its
//! counts, and the tables both print.

use std::path::{Path, PathBuf};

use crate::common::Contender;

/// Prints the head of a Markdown table with a column per contender.
pub(crate) fn print_table_head() {
    let mut header = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for contender in Contender::ALL {
        header += &format!(" {} |", contender.name());
        rule += "---:|";
    }
    println!("{header}\n{rule}");
}

/// Where criterion keeps its results, and `allocations` its counts:
/// criterion's own default, resolved here so both binaries agree.
pub(crate) fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(home)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(target).join("criterion")
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
    }
}
