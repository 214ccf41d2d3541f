//! End-to-end harness: builds the plugins to wasm and the `hookgate` binary, starts the real
//! binary on a free port with its own temporary folder, and speaks real HTTP to it.

mod browser;
mod daemon;
mod receiver;

pub use browser::Browser;
pub use daemon::Daemon;
pub use receiver::{Received, Receiver, Reply};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Guest crates the tests load, by package name, and the file name cargo gives them.
const GUESTS: [(&str, &str); 11] = [
    ("pelorus", "pelorus"),
    ("gcm", "gcm"),
    ("github", "github"),
    ("gitlab", "gitlab"),
    ("alertmanager", "alertmanager"),
    ("k8s-admission", "k8s_admission"),
    ("minimal", "minimal"),
    ("relay", "relay"),
    ("fixture-adversary", "fixture_adversary"),
    ("fixture-clash", "fixture_clash"),
    ("fixture-versioned", "fixture_versioned"),
];

/// The repository's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn cargo(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo {args:?} failed");
}

/// `cargo build` of guests, as `scripts/build-plugins` does it.
const WASM_BUILD: [&str; 6] = [
    "build",
    "--quiet",
    "--profile",
    "plugin",
    "--target",
    "wasm32-wasip2",
];

/// Builds (once per test process) the binary and every guest; returns the wasm folder.
pub fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo(&["build", "--quiet", "-p", "hookgate"]);
        let mut args = WASM_BUILD.to_vec();
        for (package, _) in GUESTS {
            args.extend(["-p", package]);
        }
        cargo(&args);
        let out = workspace_root().join("target/wasm32-wasip2/plugin");
        // The versioned fixture twice: 1.0.0 (built above) and, with feature v2, 2.0.0.
        std::fs::copy(
            out.join("fixture_versioned.wasm"),
            out.join("versioned-v1.wasm"),
        )
        .expect("copy v1");
        cargo(
            &[
                WASM_BUILD.as_slice(),
                &["-p", "fixture-versioned", "--features", "v2"],
            ]
            .concat(),
        );
        std::fs::copy(
            out.join("fixture_versioned.wasm"),
            out.join("versioned-v2.wasm"),
        )
        .expect("copy v2");
        out
    })
}

/// The versioned fixture as 1.0.0 (`1`) or 2.0.0 (`2`).
pub fn versioned(version: u8) -> PathBuf {
    built().join(format!("versioned-v{version}.wasm"))
}

/// The path of a built guest, by package name.
pub fn wasm(package: &str) -> PathBuf {
    let file = GUESTS
        .iter()
        .find(|(p, _)| *p == package)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("unknown guest {package}"));
    built().join(format!("{file}.wasm"))
}

/// The `hookgate` binary.
pub fn hookgate_bin() -> PathBuf {
    built();
    workspace_root().join("target/debug/hookgate")
}

/// A running gateway; stopped (SIGTERM, then kill) on drop.
pub struct Gateway {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where the admin API listens, if configured.
    pub admin: Option<SocketAddr>,
    /// Its folder: `plugins/`, `hookgate.toml`.
    pub dir: tempfile::TempDir,
    logs: Arc<Mutex<String>>,
}

/// How to start a gateway.
#[derive(Default)]
pub struct Options {
    /// Guest packages to put in the plugins folder, with the file name to give each.
    pub plugins: Vec<(&'static str, &'static str)>,
    /// Extra TOML appended to the config.
    pub config: String,
    /// Extra environment variables.
    pub env: Vec<(&'static str, String)>,
}

impl Gateway {
    /// Starts the binary and waits until it listens.
    pub fn start(options: Options) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir(&plugins).expect("plugins dir");
        for (package, file) in &options.plugins {
            let source = match *package {
                "versioned-v1" => versioned(1),
                "versioned-v2" => versioned(2),
                other => wasm(other),
            };
            std::fs::copy(source, plugins.join(file)).expect("copy plugin");
        }
        let config = dir.path().join("hookgate.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nplugins_dir = {:?}\ncache_dir = {:?}\ndata_dir = {:?}\nshutdown_grace = \"10s\"\npoll_interval = \"500ms\"\n{}",
                plugins.display().to_string(),
                dir.path().join("cache").display().to_string(),
                dir.path().join("data").display().to_string(),
                options.config
            ),
        )
        .expect("write config");
        let (child, addr, admin, logs) = spawn(&config, &options.env);
        Gateway {
            child,
            addr,
            admin,
            dir,
            logs,
        }
    }

    /// Starts the binary again with `config` (of a gateway that has exited).
    pub fn restart(config: &Path, env: &[(&'static str, String)]) -> Gateway {
        let (child, addr, admin, logs) = spawn(config, env);
        let dir = tempfile::tempdir().expect("tempdir");
        Gateway {
            child,
            addr,
            admin,
            dir,
            logs,
        }
    }

    /// The gateway's log so far (stderr).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.logs().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The plugins folder.
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Puts `source` into the plugins folder as `name` the atomic way: copy beside, then rename.
    pub fn install(&self, source: &Path, name: &str) {
        let tmp = self.plugins_dir().join(format!(".{name}.partial"));
        std::fs::copy(source, &tmp).expect("copy");
        std::fs::rename(&tmp, self.plugins_dir().join(name)).expect("rename into place");
    }

    /// `GET /-/plugins`, as JSON.
    pub fn plugins(&self) -> serde_json::Value {
        self.get("/-/plugins").json()
    }

    /// The version `/-/plugins` reports for plugin `name`, if loaded.
    pub fn plugin_version(&self, name: &str) -> Option<String> {
        self.plugins()["plugins"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["version"].as_str().map(str::to_string))
    }

    /// Polls `check` every 50 ms until it holds or `timeout` passes.
    pub fn wait_until(&self, timeout: Duration, mut check: impl FnMut(&Gateway) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// An admin API call with the token `admin-t0ken` (the tests' `[admin]` section).
    pub fn admin(&self, method: &str, path: &str) -> HttpResponse {
        self.admin_with(method, path, b"")
    }

    /// An admin API call with a body.
    pub fn admin_with(&self, method: &str, path: &str, body: &[u8]) -> HttpResponse {
        let addr = self.admin.expect("this gateway has an [admin] section");
        request(
            addr,
            method,
            path,
            &[("Authorization", "Bearer admin-t0ken")],
            body,
        )
    }

    /// A POST with headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
        request(self.addr, "POST", path, headers, body)
    }

    /// A GET.
    pub fn get(&self, path: &str) -> HttpResponse {
        request(self.addr, "GET", path, &[], b"")
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        let r = self.get("/metrics");
        assert_eq!(r.status, 200);
        r.text()
    }

    /// The value of the series `name{labels}` as written in the exposition (labels sorted by
    /// name, as the prometheus crate prints them), or None.
    pub fn metric(&self, series: &str) -> Option<f64> {
        metric_value(&self.metrics(), series)
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: plain kill(2) on the child we spawned.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }

    /// Waits for the process to exit and returns its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        wait_for_exit(&mut self.child, timeout).and_then(|s| s.code())
    }
}

/// Waits up to `timeout` for `child` to exit; `None` if it still runs.
pub fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
            if self.wait(Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

fn spawn(
    config: &Path,
    env: &[(&'static str, String)],
) -> (Child, SocketAddr, Option<SocketAddr>, Arc<Mutex<String>>) {
    let mut child = Command::new(hookgate_bin())
        .args(["serve", "--config"])
        .arg(config)
        // Only a test's own env may turn the admin listener on.
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "info")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hookgate");
    let logs = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut logs = sink.lock().expect("logs");
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut admin = None;
    let addr = loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            panic!(
                "hookgate exited before listening; logs:\n{}",
                logs.lock().expect("logs")
            );
        }
        if let Some(a) = line.trim().strip_prefix("hookgate admin on http://") {
            admin = a.parse().ok();
        } else if let Some(a) = line.trim().strip_prefix("hookgate listening on http://") {
            break a.parse().expect("address");
        }
    };
    (child, addr, admin, logs)
}

/// Finds `series` in an exposition.
pub fn metric_value(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
}

/// An HTTP answer.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection, `Connection: close`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    exchange(addr, &raw)
}

/// Sends raw bytes and parses the answer (read until the server closes).
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(raw).expect("send");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read answer");
    parse_response(&out)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
