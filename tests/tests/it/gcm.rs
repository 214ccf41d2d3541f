//! The gcm plugin behind the gateway: GCM's webhook sink posts with its bearer token; metric
//! records become gauges labelled by the fields the operator lists, and changing that list in
//! the config re-labels the family live.

use hookgate_e2e::{Gateway, Options};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "gcm-t0ken";

const DEVICES: &str = r#"[
  {"hostname": "node-17", "gpu_index": 0, "gpu_util": 87.5, "power": {"draw": 301.2}, "ts": 1763870000},
  {"hostname": "node-17", "gpu_index": 1, "gpu_util": 3, "power": {"draw": 71.9}, "ts": 1763870000}
]"#;

fn config(labels: &str) -> String {
    format!(
        "[plugins.gcm]\nsecret = {{ env = \"GCM_TOKEN\" }}\nsettings = {{ labels = \"{labels}\", skip = \"ts\" }}\n"
    )
}

fn post(g: &Gateway, path: &str, token: &str, body: &str) -> hookgate_e2e::HttpResponse {
    let bearer = format!("Bearer {token}");
    g.post(
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ],
        body.as_bytes(),
    )
}

#[test]
fn records_become_gauges_and_labels_follow_the_config() {
    let g = Gateway::start(Options {
        plugins: vec![("gcm", "gcm.wasm")],
        config: config("hostname,gpu_index"),
        env: vec![("GCM_TOKEN", TOKEN.into())],
    });
    assert_eq!(post(&g, "/gcm/metrics", "wrong", DEVICES).status, 403);
    let r = post(&g, "/gcm/metrics", TOKEN, DEVICES);
    assert_eq!((r.status, r.text()), (200, r#"{"accepted":2}"#.to_string()));
    // Labels as the exposition sorts them.
    let gauge = |g: &Gateway, labels: &str| g.metric(&format!("gcm_value{{{labels}}}"));
    assert_eq!(
        gauge(&g, r#"field="gpu_util",gpu_index="0",hostname="node-17""#),
        Some(87.5)
    );
    assert_eq!(
        gauge(&g, r#"field="power.draw",gpu_index="1",hostname="node-17""#),
        Some(71.9)
    );
    assert!(!g.metrics().contains(r#"field="ts""#), "skipped");
    assert_eq!(g.metric("gcm_metric_records_total"), Some(2.0));

    let logs = r#"[{"type": "health_check", "result": "OK"}, {"type": "health_check"}, {}]"#;
    assert_eq!(post(&g, "/gcm/logs", TOKEN, logs).status, 200);
    assert_eq!(
        g.metric(r#"gcm_log_records_total{type="health_check"}"#),
        Some(2.0)
    );
    assert_eq!(
        g.metric(r#"gcm_log_records_total{type="unknown"}"#),
        Some(1.0)
    );
    let bad = post(&g, "/gcm/metrics", TOKEN, r#"[{"a": 1}, "x"]"#);
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json()["detail"],
        "record [1] must be an object, not a string"
    );

    // The operator labels by hostname only: the family is registered again with that label.
    let file = g.dir.path().join("hookgate.toml");
    let text = std::fs::read_to_string(&file).expect("read config");
    std::fs::write(
        &file,
        text.replace(&config("hostname,gpu_index"), &config("hostname")),
    )
    .expect("write config");
    assert!(
        g.wait_until(WAIT, |g| {
            post(g, "/gcm/metrics", TOKEN, DEVICES).status == 200
                && gauge(g, r#"field="gpu_util",hostname="node-17""#).is_some()
        }),
        "{}",
        g.logs()
    );
    assert!(
        !g.metrics().contains("gpu_index="),
        "the old label is gone with the old family"
    );

    // A label name Prometheus cannot take is refused; the version before keeps serving.
    let text = std::fs::read_to_string(&file).expect("read config");
    std::fs::write(
        &file,
        text.replace(&config("hostname"), &config("host-name")),
    )
    .expect("write config");
    assert!(
        g.wait_for_log("\"host-name\" is not a valid Prometheus label name", WAIT),
        "{}",
        g.logs()
    );
    assert!(g.logs().contains("plugins.gcm.settings"), "{}", g.logs());
    assert_eq!(post(&g, "/gcm/metrics", TOKEN, DEVICES).status, 200);
}
