//! Debian packages the tests drive (Chromium, redis-server), installed
//! with `apt-get` when they are missing and this process may (root); the
//! error says what to install otherwise.

use std::{path::Path, process::Command};

/// Makes sure every file of `binaries` exists, installing `packages` with
/// `apt-get` if one is missing; `why` names the tests that need them.
pub(crate) fn ensure(binaries: &[&str], packages: &[&str], why: &str) -> Result<(), String> {
    let present = || binaries.iter().all(|b| Path::new(b).exists());
    if present() {
        return Ok(());
    }
    let list = packages.join(" ");
    let how = format!("install Debian's packages {list} (apt-get install {list}; .ci/run does it)");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root || !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!("{} missing: {how}", binaries.join(" or ")));
    }
    eprintln!("installing {list} with apt-get for {why}");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    if apt(&["update"]) && apt(&install) && present() {
        Ok(())
    } else {
        Err(format!("installing them with apt-get failed: {how}"))
    }
}
