//! The positional arguments of a bench binary that runs beside criterion:
//! `cargo bench -- ARGS` gives every bench binary the same arguments, so
//! the values of criterion's options must not be taken for names.

/// Criterion's options that take a value.
const WITH_VALUE: &[&str] = &[
    "--warm-up-time",
    "--measurement-time",
    "--sample-size",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--color",
    "--format",
    "-c",
];

/// The arguments that are neither options nor the values of options.
pub(crate) fn positional() -> Vec<String> {
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            positional.push(arg);
        }
    }
    positional
}
