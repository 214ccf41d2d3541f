//! A real server from Debian's packages (Prometheus, Alertmanager) started for one test on a
//! free loopback port, in its own folder, and stopped by PID when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to get ready.
const READY: Duration = Duration::from_secs(30);

/// A running daemon.
pub struct Daemon {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// Writes `config` to `DIR/config.yml`, runs `program` with `args(dir, config, addr)` and
    /// waits until `GET ready_path` answers 200.
    pub fn start(
        program: &str,
        config: &str,
        args: impl FnOnce(&Path, &Path, SocketAddr) -> Vec<String>,
        ready_path: &str,
    ) -> Daemon {
        Self::start_until(program, config, args, |addr| {
            std::net::TcpStream::connect(addr).is_ok()
                && crate::request(addr, "GET", ready_path, &[], b"").status == 200
        })
    }

    /// The same, ready when `ready(addr)` says so.
    pub fn start_until(
        program: &str,
        config: &str,
        args: impl FnOnce(&Path, &Path, SocketAddr) -> Vec<String>,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).expect("write config");
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let child = Command::new(program)
            .args(args(dir.path(), &config_file, addr))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{program} runs (scripts/setup --test-tools installs it): {e}")
            });
        let daemon = Daemon { child, addr, dir };
        let deadline = Instant::now() + READY;
        while !ready(daemon.addr) {
            assert!(
                Instant::now() < deadline,
                "{program} did not get ready: {}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon
    }

    /// Its folder.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
