//! Where cargo puts its output, and so where tests keep what they make.

use std::path::{Path, PathBuf};

/// `CARGO_TARGET_DIR`, else `target/` beside `Cargo.toml`.
pub(crate) fn target_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir.join(dir),
        None => manifest_dir.join("target"),
    }
}
