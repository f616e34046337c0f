//! An axum web app with sessions in signed cookies: a visit counter, a
//! login form protected by a CSRF token with a "Keep me signed in" box,
//! flash messages and logout.
//!
//! ```text
//! cargo run --example axum --features axum
//! ```
//!
//! Then open <http://127.0.0.1:3000>. Settings, from the environment:
//!
//! - `SESSION_SECRET`: the signing secret, at least 32 bytes, e.g.
//!   `SESSION_SECRET=$(openssl rand -hex 32)`. Without it a random secret
//!   is made at start-up, so sessions do not survive a restart.
//! - `PORT`: the port to listen on, on 127.0.0.1. Default: 3000.
//! - `SESSION_FORMAT`: `signed_serialize` (the default) or, built with
//!   `--features axum,pyramid2`, `pyramid2`: the cookies of a Pyramid app's
//!   `SignedCookieSessionFactory(SESSION_SECRET, hashalg=SESSION_HASHALG)`,
//!   so that the two apps share their sessions (see `examples/pyramid/`);
//!   or, built with `--features axum,sealed`, `sealed`: encrypted cookies
//!   that the user cannot read.
//! - `SESSION_HASHALG`: with `pyramid2`, Pyramid's `hashalg`: `sha512`
//!   (the default), `sha384`, `sha256` or `sha1`.
//! - `SESSION_REVOCATION`: turns on revocation and the "Log out
//!   everywhere" button: `memory` (this process only) or, built with
//!   `--features axum,redis`, a Redis URL such as `redis://127.0.0.1:6379/`,
//!   shared by every instance pointed at it. Sessions then live 30 days at
//!   most. `SESSION_REVOCATION_TIMEOUT_MS` bounds each call to Redis
//!   (default 100), and `SESSION_REVOCATION_UNAVAILABLE` says what a
//!   session is while Redis cannot answer: `revoked` (the default) or
//!   `valid`.

// `pub` keeps the `unreachable_pub` lint quiet about `app::app` and
// `settings::session_layer`, which tests include too.
pub mod app;
pub mod settings;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a port number, not {port:?}"))?,
        Err(std::env::VarError::NotPresent) => 3000,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err("PORT must be a port number".to_owned());
        }
    };
    // Inside the runtime: a Redis store's connection runs on it.
    let layer = settings::session_layer(|name| std::env::var_os(name))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr().map_or(port, |addr| addr.port());
    println!("Listening on http://127.0.0.1:{port}");
    axum::serve(listener, app::app_with(layer))
        .await
        .map_err(|e| format!("server error: {e}"))
}
