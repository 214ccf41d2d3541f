//! The github plugin against the community corpus of real GitHub payloads
//! (`@octokit/webhooks-examples`, installed by `scripts/setup --test-tools`), signed as GitHub
//! signs them, next to the Pelorus plugin whose DORA families it shares.

use hookgate_e2e::{Gateway, HttpResponse, Options, hub_signature, now, workspace_root};
use serde_json::{Value, json};

const SECRET: &str = "It's a Secret to Everybody";

fn gateway() -> Gateway {
    Gateway::start(Options {
        plugins: vec![("github", "github.wasm"), ("pelorus", "pelorus.wasm")],
        config: "[plugins.github]\nsecret = { env = \"GH_SECRET\" }\n".into(),
        env: vec![("GH_SECRET", SECRET.into())],
    })
}

fn send(g: &Gateway, event: &str, delivery: &str, body: &[u8]) -> HttpResponse {
    let signature = hub_signature(SECRET, body);
    g.post(
        "/github",
        &[
            ("User-Agent", "GitHub-Hookshot/044aadd"),
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    )
}

/// `[(event, [payload])]` from the corpus.
fn corpus() -> Vec<(String, Vec<Value>)> {
    let index = workspace_root().join(
        "target/test-tools/node_modules/@octokit/webhooks-examples/api.github.com/index.json",
    );
    let text = std::fs::read_to_string(&index).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/setup --test-tools installs it)",
            index.display()
        )
    });
    let index: Vec<Value> = serde_json::from_str(&text).expect("the corpus is JSON");
    index
        .into_iter()
        .map(|e| {
            let name = e["name"].as_str().expect("name").to_string();
            let examples = e["examples"].as_array().cloned().unwrap_or_default();
            (name, examples)
        })
        .collect()
}

#[test]
fn every_real_github_payload_is_answered_cleanly_and_the_dora_ones_counted() {
    let g = gateway();
    let handled = ["push", "deployment_status", "issues", "ping"];
    let mut sent = 0;
    for (event, examples) in corpus() {
        for (i, example) in examples.iter().enumerate() {
            let body = serde_json::to_vec(example).expect("JSON");
            let r = send(&g, &event, &format!("{event}-{i}"), &body);
            sent += 1;
            if handled.contains(&event.as_str()) {
                assert!(
                    (200..300).contains(&r.status),
                    "{event}[{i}]: {} {}",
                    r.status,
                    r.text()
                );
            } else {
                assert!(
                    (200..300).contains(&r.status)
                        || ((400..500).contains(&r.status) && r.json()["detail"].is_string()),
                    "{event}[{i}]: {} {}",
                    r.status,
                    r.text()
                );
            }
        }
    }
    assert!(sent > 300, "the whole corpus: {sent}");
    let invocations = |result: &str| {
        g.metric(&format!(
            r#"hookgate_plugin_invocations_total{{plugin="github",result="{result}"}}"#
        ))
        .unwrap_or(0.0)
    };
    assert_eq!(invocations("trap"), 0.0, "{}", g.logs());
    assert_eq!(invocations("ok"), f64::from(sent));
    // The corpus's pushes (its examples give this commit two times; the last sent wins),
    // deployment and bug report.
    assert_eq!(
        g.metric(r#"commit_timestamp{app="Hello-World",commit_hash="6113728f27ae82c7b1a177c8d03f9e96e0adf246",image_sha="",namespace="Codertocat"}"#),
        Some(1_557_933_565.0)
    );
    assert_eq!(
        g.metric(r#"deploy_timestamp{app="Hello-World",image_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",namespace="production"}"#),
        Some(1_557_933_655.0)
    );
    assert!(
        g.metric(r#"failure_creation_timestamp{app="Hello-World",failure_id="1"}"#)
            .is_some(),
        "{}",
        g.metrics()
    );
    assert_eq!(g.metric(r#"github_events_total{event="push"}"#), Some(7.0));
}

#[test]
fn github_and_pelorus_feed_the_same_families_and_repeats_are_answered_once() {
    let g = gateway();
    let push = json!({
        "repository": { "name": "shop", "owner": { "login": "acme" } },
        "commits": [{ "id": "abc123", "timestamp": "2026-11-22T10:00:00Z" }]
    });
    let body = serde_json::to_vec(&push).expect("JSON");
    assert_eq!(send(&g, "push", "d-1", &body).status, 202);
    let again = send(&g, "push", "d-1", &body);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["delivery"], "d-1");
    assert_eq!(
        g.metric(r#"github_events_total{event="push"}"#),
        Some(1.0),
        "not counted twice"
    );
    assert_eq!(
        g.metric(r#"hookgate_duplicates_total{plugin="github"}"#),
        Some(1.0)
    );
    // A forged repeat is refused by the signature check, not answered as a duplicate.
    let forged = g.post(
        "/github",
        &[
            ("User-Agent", "GitHub-Hookshot/044aadd"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-1"),
            ("X-Hub-Signature-256", "sha256=00"),
        ],
        &body,
    );
    assert_eq!(forged.status, 403, "{}", forged.text());

    let pelorus = json!({ "app": "shop", "commit_hash": "def4567", "image_sha": "sha256:af4092ccbfa99a3ec1ea93058fe39b8ddfd8db1c7a18081db397c50a0b8ec77d", "namespace": "acme", "timestamp": now() - 60 });
    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/test"),
            ("Content-Type", "application/json"),
            ("X-Pelorus-Event", "committime"),
        ],
        pelorus.to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let metrics = g.metrics();
    let commits: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("commit_timestamp{"))
        .collect();
    assert_eq!(
        commits.len(),
        2,
        "one family, both plugins' series: {commits:?}"
    );
    assert_eq!(
        metrics.matches("# TYPE commit_timestamp gauge").count(),
        1,
        "{metrics}"
    );
}
