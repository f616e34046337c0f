//! Where `sessions` finds criterion's results and `allocations` leaves its
//! counts.

use std::path::{Path, PathBuf};

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
