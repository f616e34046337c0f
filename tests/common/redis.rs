//! A real `redis-server` on a free loopback port, for the revocation
//! tests (and the `revocation-redis` bench contender, which includes this
//! file): started by the test, stopped when it is dropped. Debian's
//! `redis-server` is installed with `apt-get` when it is missing and the
//! tests run as root (as `.ci/run` does); otherwise the test says what to
//! install.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use super::target::target_dir;

/// A running `redis-server`, with its data kept in an append-only file
/// (fsync on every write), so that a restart finds what it had; or, for
/// a benchmark, in memory only.
pub(crate) struct RedisServer {
    port: u16,
    dir: PathBuf,
    persistent: bool,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free loopback port, in a data directory of its
    /// own; waits until it answers `PING`.
    pub(crate) fn start() -> Self {
        Self::start_with(true)
    }

    /// The same, keeping nothing on disk: no write waits for an fsync.
    pub(crate) fn start_in_memory() -> Self {
        Self::start_with(false)
    }

    fn start_with(persistent: bool) -> Self {
        let binary = redis_server();
        let port = free_port();
        let dir = target_dir().join(format!("redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a data directory for redis-server");
        let mut server = Self {
            port,
            dir,
            persistent,
            child: None,
        };
        server.child = Some(spawn(binary, port, &server.dir, persistent));
        server.wait_until_up();
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (as a crash would: no final save beyond what the
    /// append-only file already holds).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the same data directory.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn(redis_server(), self.port, &self.dir, self.persistent));
        self.wait_until_up();
    }

    /// Sends one command in Redis's inline form; returns the raw reply.
    pub(crate) fn command(&self, command: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis-server is up");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut reply = vec![0; 64 * 1024];
        let n = stream.read(&mut reply).unwrap_or(0);
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
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
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn(binary: &Path, port: u16, dir: &Path, persistent: bool) -> Child {
    let appendonly: &[&str] = if persistent {
        &["--appendonly", "yes", "--appendfsync", "always"]
    } else {
        &["--appendonly", "no"]
    };
    Command::new(binary)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", ""])
        .args(appendonly)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Where `redis-server` is installed, if it is.
pub(crate) fn installed() -> Option<PathBuf> {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// `redis-server`, installed with `apt-get` once if it is missing and
/// this process may.
fn redis_server() -> &'static Path {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BINARY.get_or_init(|| {
        let find = installed;
        if let Some(path) = find() {
            return Ok(path);
        }
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !is_root || !Path::new("/usr/bin/apt-get").exists() {
            return Err(
                "the revocation tests need redis-server: apt-get install redis-server \
                        (.ci/run does it)"
                    .to_owned(),
            );
        }
        eprintln!("installing redis-server with apt-get for the revocation tests");
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        let _ = apt(&["update"]);
        if !apt(&["install", "-y", "--no-install-recommends", "redis-server"]) {
            return Err("installing redis-server with apt-get failed".to_owned());
        }
        find().ok_or_else(|| "apt-get installed redis-server, but it is not there".to_owned())
    });
    match found {
        Ok(path) => path,
        Err(why) => panic!("{why}"),
    }
}
