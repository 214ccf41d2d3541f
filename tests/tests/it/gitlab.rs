//! The gitlab plugin behind the gateway: the token checked host-side, repeats of an
//! Idempotency-Key answered once, and the DORA families shared with the github plugin.

use hookgate_e2e::{Gateway, Options};
use serde_json::json;

#[test]
fn tokens_repeats_and_shared_dora_families() {
    let g = Gateway::start(Options {
        plugins: vec![("gitlab", "gitlab.wasm"), ("github", "github.wasm")],
        config: "[plugins.gitlab]\nsecret = { env = \"GL_TOKEN\" }\n".into(),
        env: vec![("GL_TOKEN", "gl-t0ken".into())],
    });
    let push = json!({
        "object_kind": "push",
        "project": { "name": "shop", "namespace": "acme" },
        "commits": [{ "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "timestamp": "2011-12-12T14:27:31+02:00" }]
    })
    .to_string();
    let send = |token: &str, key: &str| {
        g.post(
            "/gitlab",
            &[
                ("User-Agent", "GitLab/17.5.0"),
                ("Content-Type", "application/json"),
                ("X-Gitlab-Event", "Push Hook"),
                ("X-Gitlab-Token", token),
                ("Idempotency-Key", key),
            ],
            push.as_bytes(),
        )
    };
    assert_eq!(send("wrong", "k-1").status, 403);
    assert_eq!(send("gl-t0ken", "k-1").status, 202);
    assert_eq!(
        send("gl-t0ken", "k-1").status,
        200,
        "a retry of the same event"
    );
    assert_eq!(g.metric(r#"gitlab_events_total{kind="push"}"#), Some(1.0));
    assert_eq!(
        g.metric(r#"commit_timestamp{app="shop",commit_hash="b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",image_sha="",namespace="acme"}"#),
        Some(1_323_692_851.0)
    );
    let plugins = g.plugins();
    let loaded: Vec<&str> = plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        loaded.contains(&"github") && loaded.contains(&"gitlab"),
        "{plugins}"
    );
}
