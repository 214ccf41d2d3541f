//! Startup and shutdown of the real process.

use hookgate_e2e::{Gateway, Options};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn sigterm_drains_a_request_in_flight_then_exits_cleanly() {
    let mut g = Gateway::start(Options {
        plugins: vec![("minimal", "minimal.wasm")],
        ..Options::default()
    });
    // Headers and half the body now; the rest after SIGTERM.
    let mut stream = TcpStream::connect(g.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(b"POST /hooks/minimal HTTP/1.1\r\nHost: x\r\nX-Event: drained\r\nContent-Length: 4\r\n\r\n{}")
        .expect("first half");
    // Connections are accepted in order: once a later one is served, ours is accepted too.
    assert_eq!(g.get("/healthz").status, 200);
    g.terminate();
    assert!(
        g.wait_for_log("shutting down", Duration::from_secs(10)),
        "{}",
        g.logs()
    );
    stream.write_all(b"  ").expect("second half");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight request completed: {answer}"
    );
    assert!(answer.contains(r#"{"received":"drained"}"#), "{answer}");
    assert_eq!(
        g.wait(Duration::from_secs(15)),
        Some(0),
        "exits 0 after draining"
    );
    // New connections are refused once the listener is closed.
    assert!(TcpStream::connect(g.addr).is_err());
}

#[test]
fn a_missing_secret_stops_startup_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hookgate.toml");
    std::fs::write(
        &config,
        "[plugins.pelorus]\nsecret = { env = \"HOOKGATE_E2E_UNSET_SECRET\" }\n",
    )
    .expect("write");
    let out = std::process::Command::new(hookgate_e2e::hookgate_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plugins.pelorus.secret") && stderr.contains("HOOKGATE_E2E_UNSET_SECRET"),
        "{stderr}"
    );
}

#[test]
fn secrets_never_reach_the_log() {
    let g = Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm")],
        config: "[plugins.pelorus]\nsecret = { env = \"PELORUS_SECRET\" }\n".into(),
        env: vec![("PELORUS_SECRET", "sup3r-s3cret-value".into())],
    });
    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("X-Pelorus-Event", "ping"),
            ("X-Hub-Signature-256", &format!("sha256={}", "0".repeat(64))),
        ],
        b"{}",
    );
    assert_eq!(r.status, 400);
    assert!(g.wait_for_log("plugin loaded", Duration::from_secs(5)));
    assert!(!g.logs().contains("sup3r-s3cret-value"));
    assert!(
        !g.logs().contains("requests pass unverified"),
        "no warning when a secret is set"
    );
}

#[test]
fn no_secret_configured_warns_naming_the_plugin() {
    let g = Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm")],
        ..Options::default()
    });
    assert!(
        g.wait_for_log("requests pass unverified", Duration::from_secs(5)),
        "{}",
        g.logs()
    );
    assert!(g.logs().contains("plugins.pelorus.secret"), "{}", g.logs());
}

#[test]
fn a_second_gateway_on_the_same_outbox_is_refused() {
    let g = Gateway::start(Options::default());
    // Same config, so the same data_dir; its own port.
    let mut second = std::process::Command::new(hookgate_e2e::hookgate_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(g.dir.path().join("hookgate.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let status = hookgate_e2e::wait_for_exit(&mut second, Duration::from_secs(20));
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
    }
    assert!(
        status.is_some_and(|s| !s.success()),
        "the second gateway must stop (two would send every delivery twice): {status:?}"
    );
    let mut stderr = String::new();
    if let Some(mut pipe) = second.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("stderr");
    }
    assert!(
        stderr.contains("outbox.sqlite3 is in use by another process"),
        "{stderr}"
    );
    assert_eq!(g.get("/healthz").status, 200, "the first one serves on");
}
