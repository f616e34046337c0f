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

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use tower_cookie_session::RedisRevocations;

use super::{Http, revocation_memory};
use crate::common::{Scenario, drive::Runtime};

/// Whether `redis-server` is installed; says once that the contender is
/// skipped if it is not.
pub(super) fn available() -> bool {
    binary().is_some()
}

fn binary() -> Option<&'static PathBuf> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let found = std::env::split_paths(&path)
                .map(|dir| dir.join("redis-server"))
                .find(|p| p.is_file());
            if found.is_none() {
                eprintln!(
                    "revocation-redis: skipped, no redis-server on the PATH \
                     (apt-get install redis-server)"
                );
            }
            found
        })
        .as_ref()
}

pub(super) fn http(scenario: Scenario) -> Http {
    let server = RedisServer::start();
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

/// A `redis-server` on a free loopback port, stopped when dropped.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Self {
        let binary = binary().expect("available() was asked first");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = Self { port, child };
        server.wait_until_up();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut reply = [0; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
