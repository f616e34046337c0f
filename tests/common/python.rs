//! A Python interpreter with one pinned package, for the tests that check
//! the layer against a Python implementation: a virtual environment under
//! the target directory, made from a requirements file on first use, unless
//! an environment variable names another interpreter.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, PoisonError},
};

use super::target::target_dir;

/// A Python interpreter that has `package` at `version`:
///
/// - the one the environment variable `env_var` names, if set;
/// - else `bin/python` of the virtual environment `venv` under the target
///   directory, which is made (or brought up to date) from `requirements`
///   (a path relative to `Cargo.toml`) when it lacks that version.
///
/// `requirements` must pin `package==version`, and the interpreter must
/// report that version; either failing panics with what is wrong.
///
/// The test threads of one file wait for one another rather than make the
/// environment twice.
pub(crate) fn python(
    env_var: &str,
    venv: &str,
    requirements: &str,
    package: &str,
    version: &str,
) -> &'static Path {
    static MADE: Mutex<BTreeMap<String, &'static Path>> = Mutex::new(BTreeMap::new());
    // A thread that panicked while making it leaves nothing behind, so the
    // next one tries again (and most likely says why it fails).
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(python) = made.get(venv) {
        return python;
    }

    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join(requirements);
    let prefix = format!("{package}==");
    let pinned = std::fs::read_to_string(&requirements)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements.display()))
        .lines()
        .find_map(|line| line.trim().strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("{} pins no {package}", requirements.display()));
    assert_eq!(
        pinned,
        version,
        "{} pins {package} {pinned}; these tests pin {version}",
        requirements.display()
    );

    let python = match std::env::var_os(env_var) {
        Some(python) => PathBuf::from(python),
        None => {
            let venv = target_dir().join(venv);
            let python = venv.join("bin").join("python");
            if installed(&python, package).as_deref() != Some(version) {
                let needed = format!("{package} is needed for these tests");
                run(
                    Command::new("python3").arg("-m").arg("venv").arg(&venv),
                    &needed,
                );
                run(
                    Command::new(&python)
                        .args(["-m", "pip", "install", "--quiet", "-r"])
                        .arg(&requirements),
                    &needed,
                );
            }
            python
        }
    };
    let installed = installed(&python, package)
        .unwrap_or_else(|| panic!("{} has no {package}, or cannot be run", python.display()));
    assert_eq!(
        installed,
        version,
        "these tests pin {package} {version} ({})",
        python.display()
    );
    let python: &'static Path = Box::leak(python.into_boxed_path());
    made.insert(venv.to_owned(), python);
    python
}

/// The version of `package` that `python` has; `None` when it has none,
/// or cannot be run.
fn installed(python: &Path, package: &str) -> Option<String> {
    let output = Command::new(python)
        .arg("-c")
        .arg(format!(
            "import importlib.metadata as m; print(m.version({package:?}))"
        ))
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs `command`; panics if it cannot be run or fails, saying `why` it
/// was run.
fn run(command: &mut Command, why: &str) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed ({status}); {why}");
}
