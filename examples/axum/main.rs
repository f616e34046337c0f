//! An axum web app with sessions in signed cookies: a visit counter, a
//! login form protected by a CSRF token, flash messages and logout.
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

// `pub` keeps the `unreachable_pub` lint quiet about `app::app`, which
// tests/example_axum.rs includes too.
pub mod app;

use std::process::ExitCode;

use tower_cookie_session::MIN_SECRET_LEN;

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
    let secret = secret()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr().map_or(port, |addr| addr.port());
    println!("Listening on http://127.0.0.1:{port}");
    axum::serve(listener, app::app(&secret))
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// The secret from `SESSION_SECRET`, or a random one.
fn secret() -> Result<Vec<u8>, String> {
    if let Some(secret) = std::env::var_os("SESSION_SECRET") {
        let secret = secret.into_encoded_bytes();
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "SESSION_SECRET is {} bytes; it needs at least {MIN_SECRET_LEN} bytes of \
                 random data, e.g. SESSION_SECRET=$(openssl rand -hex 32)",
                secret.len()
            ));
        }
        return Ok(secret);
    }
    let mut secret = vec![0; MIN_SECRET_LEN];
    getrandom::fill(&mut secret)
        .map_err(|e| format!("cannot make a random secret ({e}); set SESSION_SECRET"))?;
    println!(
        "note: SESSION_SECRET is not set; using a random secret, so sessions \
         will not survive a restart"
    );
    Ok(secret)
}
