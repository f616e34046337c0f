//! `revocation-memory` with its records in Redis (`RedisRevocations`):
//! a `redis-server` the contender starts on a free loopback port, with no
//! persistence, stopped with the case. Each request with a cookie costs
//! one `MGET` round trip before the handler, so this contender's requests
//! wait on a socket: they run on a current-thread Tokio runtime (IO and
//! time), which drives the connection on the bench's thread, so the
//! thread's CPU time counts the client's whole share. Wall time (the
//! interleaved tables, or `BENCH_CLOCK=wall`) adds the round trip and
//! Redis's own work. Only with the crate's `redis` feature; skipped,
//! saying so, when `redis-server` is not installed.

use std::sync::OnceLock;

use tower_cookie_session::RedisRevocations;

use super::{Http, revocation_memory};
use crate::common::{Scenario, drive::Runtime};

// The tests' `redis-server` on a free loopback port, and where cargo puts
// its data directory.
#[allow(dead_code, reason = "installing is the tests' job, not the bench's")]
#[path = "../../../tests/common/apt.rs"]
mod apt;
#[allow(dead_code, reason = "the bench starts and stops it, nothing more")]
#[path = "../../../tests/common/redis.rs"]
mod redis;
#[path = "../../../tests/common/target.rs"]
mod target;

use redis::RedisServer;

/// Whether `redis-server` is installed; says once that the contender is
/// skipped if it is not (the bench installs nothing).
pub(super) fn available() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let installed = redis::installed().is_some();
        if !installed {
            eprintln!(
                "revocation-redis: skipped, no redis-server in /usr/bin or /usr/local/bin \
                 (apt-get install redis-server)"
            );
        }
        installed
    })
}

pub(super) fn http(scenario: Scenario) -> Http {
    let server = RedisServer::start_in_memory();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    // The connection is made, and runs, on this runtime.
    let (router, cookie) = {
        let _entered = tokio.enter();
        let store = RedisRevocations::open(&server.url()).expect("a Redis URL");
        tokio
            .block_on(revocation_memory::revoke_others(&store))
            .expect("redis-server answers");
        super::ours::http_with(&revocation_memory::layer(store), scenario)
    };
    Http {
        router,
        cookie,
        runtime: Some(Runtime::new(tokio, Box::new(server))),
    }
}
