//! HTTP-level answers: routing, limits, methods, health, keep-alive and HTTP/2.

use hookgate_e2e::{Gateway, Options};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn gateway(config: &str) -> Gateway {
    Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm"), ("minimal", "minimal.wasm")],
        config: config.into(),
        ..Options::default()
    })
}

#[test]
fn errors_are_json_with_a_message_that_says_what_is_wrong() {
    let g = gateway("");
    let r = g.post("/nowhere", &[], b"{}");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("POST /nowhere"))
    );

    let r = g.post("/hooks/nosuchplugin", &[], b"{}");
    assert_eq!(r.status, 404);

    let r = g.get("/pelorus/webhook");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("use POST"))
    );

    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("Content-Type", "text/plain"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 415);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("text/plain") && d.contains("application/json"))
    );
}

#[test]
fn bodies_over_the_limit_get_413_declared_or_streamed() {
    let g = gateway("max_body = \"1KB\"\n");
    let big = vec![b' '; 2000];
    let r = g.post("/hooks/minimal", &[("X-Event", "e")], &big);
    assert_eq!(r.status, 413);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1000 bytes"))
    );
    // Chunked, so the limit is found while reading.
    let raw = format!(
        "POST /hooks/minimal HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Event: e\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        big.len(),
        String::from_utf8_lossy(&big)
    );
    assert_eq!(hookgate_e2e::exchange(g.addr, raw.as_bytes()).status, 413);
    // Under the limit passes.
    assert_eq!(
        g.post("/hooks/minimal", &[("X-Event", "e")], b"{}").status,
        200
    );
}

#[test]
fn the_body_limit_is_per_plugin() {
    let g = gateway("[plugins.minimal]\nmax_body = \"10B\"\n");
    assert_eq!(
        g.post("/hooks/minimal", &[("X-Event", "e")], b"0123456789A")
            .status,
        413
    );
    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{                                  }",
    );
    assert_eq!(r.status, 200, "pelorus keeps the global limit");
}

#[test]
fn health_and_readiness() {
    let g = gateway("");
    assert_eq!(g.get("/healthz").json()["status"], "ok");
    let ready = g.get("/readyz");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["plugins"], 2);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let g = gateway("");
    let mut stream = TcpStream::connect(g.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    for i in 0..3 {
        let req = format!(
            "POST /hooks/minimal HTTP/1.1\r\nHost: x\r\nX-Event: n{i}\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        stream.write_all(req.as_bytes()).expect("send");
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).expect("answer");
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains(&format!("\"received\":\"n{i}\"")), "{text}");
    }
    assert_eq!(g.metric(r#"minimal_events_total{event="n2"}"#), Some(1.0));
}

#[test]
fn http2_prior_knowledge_is_served() {
    let g = gateway("");
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
        ])
        .args(["-X", "POST", "-H", "X-Event: h2", "-d", "{}"])
        .arg(format!("http://{}/hooks/minimal", g.addr))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 200");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let g = gateway("header_read_timeout = \"1s\"\n");
    let mut stream = TcpStream::connect(g.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(b"POST /hooks/minimal HTTP/1.1\r\nHost: x\r\n")
        .expect("partial headers");
    let mut rest = Vec::new();
    // The server closes the connection (possibly after a 408) instead of waiting forever.
    let closed = stream.read_to_end(&mut rest).is_ok();
    assert!(closed, "the connection was closed by the server");
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}
