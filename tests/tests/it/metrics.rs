//! `/metrics` after real traffic: the gateway's own families, plugin families, promtool.

use hookgate_e2e::{Gateway, Options, now};
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn live_output_passes_promtool_after_traffic() {
    let g = Gateway::start(Options {
        plugins: vec![
            ("pelorus", "pelorus.wasm"),
            ("fixture-adversary", "adversary.wasm"),
        ],
        ..Options::default()
    });
    let ua = ("User-Agent", "Pelorus-Webhook/test");
    let body = format!(
        r#"{{"app":"todo","image_sha":"sha256:{}","namespace":"ns","timestamp":{}}}"#,
        "a".repeat(64),
        now()
    );
    assert_eq!(
        g.post(
            "/pelorus/webhook",
            &[ua, ("X-Pelorus-Event", "deploytime")],
            body.as_bytes()
        )
        .status,
        202
    );
    assert_eq!(
        g.post(
            "/pelorus/webhook",
            &[ua, ("X-Pelorus-Event", "deploytime")],
            b"{}"
        )
        .status,
        422
    );
    assert_eq!(
        g.post("/pelorus/webhook", &[("User-Agent", "x")], b"{}")
            .status,
        412
    );
    assert_eq!(
        g.post("/hooks/adversary", &[("X-Mode", "panic")], b"")
            .status,
        500
    );
    assert_eq!(g.post("/nope", &[], b"").status, 404);

    let text = g.metrics();
    for family in [
        "hookgate_requests_total",
        "hookgate_request_duration_seconds",
        "hookgate_plugin_invocations_total",
        "hookgate_plugins_loaded",
        "deploy_timestamp",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing from\n{text}"
        );
    }
    let value = |s: &str| hookgate_e2e::metric_value(&text, s);
    assert_eq!(value("hookgate_plugins_loaded"), Some(2.0));
    assert_eq!(
        value(r#"hookgate_requests_total{plugin="pelorus",status="202"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"hookgate_requests_total{plugin="pelorus",status="422"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"hookgate_requests_total{plugin="",status="412"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"hookgate_plugin_invocations_total{plugin="pelorus",result="rejected"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"hookgate_plugin_invocations_total{plugin="adversary",result="trap"}"#),
        Some(1.0)
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package `prometheus`; scripts/test installs it)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed promtool");
    let out = promtool.wait_with_output().expect("promtool runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // promtool exits 3 for lint findings only (style); 1 for a parse error.
    let parse_ok = out.status.success() || out.status.code() == Some(3);
    assert!(parse_ok, "promtool rejected the exposition: {report}");
    assert!(!report.contains("error"), "promtool: {report}");
}

#[test]
fn a_family_owned_by_another_plugin_fails_that_load_only() {
    let g = Gateway::start(Options {
        plugins: vec![
            ("pelorus", "pelorus.wasm"),
            ("fixture-clash", "zz-clash.wasm"),
        ],
        ..Options::default()
    });
    assert!(
        g.wait_for_log(
            "metric family 'commit_timestamp' is already registered by plugin 'pelorus'",
            std::time::Duration::from_secs(5)
        ),
        "{}",
        g.logs()
    );
    assert_eq!(g.metric("hookgate_plugins_loaded"), Some(1.0));
    assert_eq!(g.post("/hooks/clash", &[], b"").status, 404);
    let ping = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/x"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    assert_eq!(ping.status, 200);
}
