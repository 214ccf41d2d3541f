//! A real Alertmanager (Debian's `prometheus-alertmanager`) notifies the gateway, bearer
//! token and all; alerts pushed through its API fire and resolve, and receivers standing in
//! for Slack and PagerDuty get bodies of the shapes those services document.

use hookgate_e2e::{Daemon, Gateway, Options, Receiver, request};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "am-t0ken";
const ROUTING_KEY: &str = "R0UT1NGKEY0000000000000000000000";

fn alertmanager(gateway: SocketAddr) -> Daemon {
    let config = format!(
        "route:\n  receiver: hookgate\n  group_by: ['alertname']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: hookgate\n    webhook_configs:\n      - url: http://{gateway}/alertmanager\n        send_resolved: true\n\
         \x20       http_config:\n          authorization:\n            type: Bearer\n            credentials: {TOKEN}\n"
    );
    Daemon::start(
        "prometheus-alertmanager",
        &config,
        |dir, config, addr| {
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address={addr}"),
                // No cluster: a single instance needs no gossip port.
                "--cluster.listen-address=".into(),
            ]
        },
        "/-/ready",
    )
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn push(am: &Daemon, ends_in: Option<Duration>) {
    let now = chrono::Utc::now();
    let ends = match ends_in {
        Some(d) => now + d,
        None => now - Duration::from_secs(1),
    };
    let alert = json!([{
        "labels": { "alertname": "DiskFull", "severity": "warning", "instance": "db-1:9100", "job": "node" },
        "annotations": { "summary": "Disk 95% full" },
        "startsAt": rfc3339(now - Duration::from_secs(60)),
        "endsAt": rfc3339(ends),
        "generatorURL": "http://prometheus.example/graph?g0.expr=disk",
    }]);
    let r = request(
        am.addr,
        "POST",
        "/api/v2/alerts",
        &[("Content-Type", "application/json")],
        alert.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The value of the one `alertmanager_alert_firing` series of `DiskFull`.
fn firing(g: &Gateway) -> Option<f64> {
    g.metrics()
        .lines()
        .find(|l| l.starts_with(r#"alertmanager_alert_firing{alertname="DiskFull""#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn body(r: &hookgate_e2e::Received) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

/// The Events API v2 fields PagerDuty requires.
fn assert_pagerduty_event(e: &Value) {
    assert_eq!(e["routing_key"].as_str().map(str::len), Some(32), "{e}");
    assert!(
        ["trigger", "acknowledge", "resolve"].contains(&e["event_action"].as_str().unwrap_or("")),
        "{e}"
    );
    assert!(
        e["dedup_key"]
            .as_str()
            .is_some_and(|k| !k.is_empty() && k.len() <= 255),
        "{e}"
    );
    if e["event_action"] == "trigger" {
        let p = &e["payload"];
        assert!(
            p["summary"]
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.len() <= 1024),
            "{e}"
        );
        assert!(p["source"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
        assert!(
            ["critical", "error", "warning", "info"]
                .contains(&p["severity"].as_str().unwrap_or("")),
            "{e}"
        );
    }
}

/// A Slack message: fallback text and Block Kit blocks.
fn assert_slack_message(m: &Value) {
    assert!(m["text"].as_str().is_some_and(|t| !t.is_empty()), "{m}");
    let blocks = m["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50, "{m}");
    for b in blocks {
        assert!(
            ["header", "section", "context"].contains(&b["type"].as_str().unwrap_or("")),
            "{b}"
        );
    }
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
}

#[test]
fn alerts_fire_and_resolve_through_a_real_alertmanager() {
    let slack = Receiver::start(vec![]);
    let pagerduty = Receiver::start(vec![]);
    let g = Gateway::start(Options {
        plugins: vec![("alertmanager", "alertmanager.wasm")],
        config: format!(
            "[plugins.alertmanager]\nscheme = \"bearer\"\nsecret = {{ env = \"AM_TOKEN\" }}\n\
             settings = {{ slack_target = \"slack\", pagerduty_target = \"pagerduty\", pagerduty_routing_key = \"{ROUTING_KEY}\" }}\n\n\
             [targets.slack]\nurl = \"{}\"\n\n[targets.pagerduty]\nurl = \"{}\"\n",
            slack.url("/services/T0/B0/X"),
            pagerduty.url("/v2/enqueue")
        ),
        env: vec![("AM_TOKEN", TOKEN.into())],
    });
    let am = alertmanager(g.addr);

    push(&am, Some(Duration::from_secs(3600)));
    assert!(slack.wait_for(1, WAIT), "{}\n{}", g.logs(), am.log());
    assert!(pagerduty.wait_for(1, WAIT), "{}", g.logs());
    let message = body(&slack.received()[0]);
    assert_slack_message(&message);
    assert_eq!(message["text"], "[FIRING:1] DiskFull");
    let trigger = body(&pagerduty.received()[0]);
    assert_pagerduty_event(&trigger);
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "warning");
    assert_eq!(trigger["payload"]["source"], "db-1:9100");
    assert_eq!(trigger["payload"]["summary"], "DiskFull: Disk 95% full");
    assert!(g.wait_until(WAIT, |g| firing(g) == Some(1.0)));

    // Resolved: Alertmanager sends the group again with status resolved.
    push(&am, None);
    assert!(slack.wait_for(2, WAIT), "{}\n{}", g.logs(), am.log());
    assert!(pagerduty.wait_for(2, WAIT), "{}", g.logs());
    let message = body(&slack.received()[1]);
    assert_slack_message(&message);
    assert_eq!(message["text"], "[RESOLVED:1] DiskFull");
    let resolve = body(&pagerduty.received()[1]);
    assert_pagerduty_event(&resolve);
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(
        resolve["dedup_key"], trigger["dedup_key"],
        "resolve closes the same incident"
    );
    assert!(g.wait_until(WAIT, |g| firing(g) == Some(0.0)));
    assert_eq!(
        g.metric(r#"alertmanager_notifications_total{receiver="hookgate",status="resolved"}"#),
        Some(1.0)
    );
    assert_eq!(
        g.metric(r#"hookgate_signature_failures_total{plugin="alertmanager",reason="mismatch"}"#)
            .unwrap_or(0.0),
        0.0
    );
}

#[test]
fn a_sender_without_the_token_is_refused() {
    let g = Gateway::start(Options {
        plugins: vec![("alertmanager", "alertmanager.wasm")],
        config: "[plugins.alertmanager]\nscheme = \"basic\"\nsecret = { env = \"AM_BASIC\" }\n"
            .into(),
        env: vec![("AM_BASIC", "am:pa55".into())],
    });
    let payload = json!({ "version": "4", "status": "firing", "receiver": "r", "groupKey": "g", "alerts": [] });
    let post = |auth: Option<&str>| {
        let mut headers = vec![
            ("User-Agent", "Alertmanager/0.25.0"),
            ("Content-Type", "application/json"),
        ];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        g.post("/alertmanager", &headers, payload.to_string().as_bytes())
    };
    assert_eq!(post(Some("Basic YW06cGE1NQ==")).status, 200);
    assert_eq!(
        post(Some("Basic YW06d3Jvbmc=")).status,
        403,
        "wrong password"
    );
    assert_eq!(post(None).status, 401, "no credentials");
    assert_eq!(
        g.metric(r#"hookgate_signature_failures_total{plugin="alertmanager",reason="mismatch"}"#),
        Some(1.0)
    );
}

#[test]
fn a_secret_path_segment_authenticates_senders_that_only_take_a_url() {
    let g = Gateway::start(Options {
        plugins: vec![("alertmanager", "alertmanager.wasm")],
        config: "[plugins.alertmanager]\nscheme = \"path-token\"\nsecret = { env = \"AM_PATH\" }\n"
            .into(),
        env: vec![("AM_PATH", "p4th-t0ken".into())],
    });
    let payload = json!({ "version": "4", "status": "firing", "receiver": "r", "groupKey": "g", "alerts": [] });
    let post = |path: &str| {
        g.post(
            path,
            &[
                ("User-Agent", "Alertmanager/0.25.0"),
                ("Content-Type", "application/json"),
            ],
            payload.to_string().as_bytes(),
        )
        .status
    };
    assert_eq!(post("/alertmanager/p4th-t0ken"), 200);
    assert_eq!(post("/hooks/alertmanager/p4th-t0ken"), 200);
    assert_eq!(post("/alertmanager/wrong"), 403);
    assert_eq!(post("/alertmanager"), 401, "no token");
    assert_eq!(post("/alertmanager/p4th-t0ken/more"), 404);
    assert!(!g.logs().contains("p4th-t0ken"), "{}", g.logs());
}
