//! A real Prometheus (Debian's `prometheus`, installed by `scripts/setup --test-tools`) scrapes
//! the gateway; PromQL over its HTTP API returns the DORA metrics the test traffic produced.

use hookgate_e2e::{Daemon, Gateway, Options, now, request};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A Prometheus server scraping one target every second.
struct Prometheus(Daemon);

impl Prometheus {
    fn start(scrape: SocketAddr) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: hookgate\n    static_configs:\n      - targets: ['{scrape}']\n"
        );
        Prometheus(Daemon::start(
            "prometheus",
            &config,
            |dir, config, addr| {
                vec![
                    format!("--config.file={}", config.display()),
                    format!("--storage.tsdb.path={}", dir.join("data").display()),
                    format!("--web.listen-address={addr}"),
                ]
            },
            "/-/ready",
        ))
    }

    /// The result vector of an instant PromQL query.
    fn query(&self, promql: &str) -> Vec<Value> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let r = request(
            self.0.addr,
            "GET",
            &format!("/api/v1/query?query={encoded}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let body = r.json();
        assert_eq!(body["status"], "success", "{body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Queries until the result is not empty.
    fn wait_for(&self, promql: &str) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let result = self.query(promql);
            if !result.is_empty() || Instant::now() > deadline {
                return result;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn prometheus_scrapes_the_dora_metrics_of_the_test_traffic() {
    let g = Gateway::start(Options {
        plugins: vec![("pelorus", "pelorus.wasm")],
        ..Options::default()
    });
    let image = "sha256:af4092ccbfa99a3ec1ea93058fe39b8ddfd8db1c7a18081db397c50a0b8ec77d";
    let deployed_at = now() - 600;
    let events = [
        (
            "committime",
            json!({ "app": "todolist", "commit_hash": "5379bad65a3f83853a75aabec9e0e43c75fd18fc",
                    "image_sha": image, "namespace": "prod", "timestamp": 1678105701 }),
        ),
        (
            "deploytime",
            json!({ "app": "todolist", "image_sha": image, "namespace": "prod", "timestamp": deployed_at }),
        ),
    ];
    for (event, body) in &events {
        let r = g.post(
            "/pelorus/webhook",
            &[
                ("User-Agent", "Pelorus-Webhook/test"),
                ("Content-Type", "application/json"),
                ("X-Pelorus-Event", event),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 202, "{}", r.text());
    }
    let prometheus = Prometheus::start(g.addr);

    // Pelorus labels apps as "/app/" (see the README's Pelorus section).
    let commits = prometheus.wait_for(r#"commit_timestamp{app="/todolist/"}"#);
    assert_eq!(commits.len(), 1, "{commits:?}");
    assert_eq!(commits[0]["metric"]["namespace"], "prod");
    assert_eq!(commits[0]["metric"]["job"], "hookgate");
    assert_eq!(commits[0]["value"][1], "1678105701");

    // Lead time for changes, as a Pelorus dashboard computes it.
    let lead = prometheus.wait_for(
        r#"deploy_timestamp{app="/todolist/"} - on(image_sha) group_left commit_timestamp{app="/todolist/"}"#,
    );
    assert_eq!(lead.len(), 1, "{lead:?}");
    assert_eq!(
        lead[0]["value"][1],
        (deployed_at - 1678105701).to_string(),
        "{lead:?}"
    );

    let accepted =
        prometheus.wait_for(r#"sum(hookgate_requests_total{plugin="pelorus",status="202"})"#);
    assert_eq!(accepted[0]["value"][1], "2", "{accepted:?}");
}
