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

use super::{apt, target::target_dir};

/// A server's data kept in an append-only file, fsynced on every write.
const PERSISTENT: [&str; 4] = ["--appendonly", "yes", "--appendfsync", "always"];

/// A running `redis-server`, with its data kept in an append-only file
/// (fsync on every write), so that a restart finds what it had; or, for
/// a benchmark, in memory only.
pub(crate) struct RedisServer {
    port: u16,
    dir: PathBuf,
    /// What it keeps on disk, and cluster mode.
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free loopback port, in a data directory of its
    /// own; waits until it answers `PING`.
    pub(crate) fn start() -> Self {
        Self::start_with(PERSISTENT.iter().map(|a| (*a).to_owned()).collect())
    }

    /// The same, keeping nothing on disk: no write waits for an fsync.
    pub(crate) fn start_in_memory() -> Self {
        Self::start_with(vec!["--appendonly".to_owned(), "no".to_owned()])
    }

    fn start_with(args: Vec<String>) -> Self {
        let port = free_port();
        let dir = target_dir().join(format!("redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a data directory for redis-server");
        let mut server = Self {
            port,
            dir,
            args,
            child: None,
        };
        server.child = Some(server.spawn());
        server.wait_until_up();
        server
    }

    /// A Redis Cluster of `nodes` masters (no replicas) on free loopback
    /// ports, made with `redis-cli --cluster create`; returns once every
    /// node says the cluster is ok.
    pub(crate) fn cluster(nodes: usize) -> Vec<Self> {
        let args = ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"];
        let servers: Vec<Self> = (0..nodes)
            .map(|_| Self::start_with(args.iter().map(|a| (*a).to_owned()).collect()))
            .collect();
        let cli = Path::new(redis_server()).with_file_name("redis-cli");
        let status = Command::new(&cli)
            .args(["--cluster", "create"])
            .args(servers.iter().map(|s| format!("127.0.0.1:{}", s.port)))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.display()));
        assert!(status.success(), "redis-cli --cluster create failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !servers
            .iter()
            .all(|s| s.command("CLUSTER INFO").contains("cluster_state:ok"))
        {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        servers
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
        self.child = Some(self.spawn());
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

impl RedisServer {
    fn spawn(&self) -> Child {
        let binary = redis_server();
        Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--dir"])
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
    }
}

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Where `redis-server` is installed, if it is (without installing it).
pub(crate) fn installed() -> Option<PathBuf> {
    Some(PathBuf::from("/usr/bin/redis-server")).filter(|p| p.exists())
}

/// `redis-server`, installed with `apt-get` once if it is missing and
/// this process may.
fn redis_server() -> &'static Path {
    const BINARY: &str = "/usr/bin/redis-server";
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let installed =
        INSTALLED.get_or_init(|| apt::ensure(&[BINARY], &["redis-server"], "the revocation tests"));
    match installed {
        Ok(()) => Path::new(BINARY),
        Err(why) => panic!("{why}"),
    }
}
