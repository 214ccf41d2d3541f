//! The admission plugin behind the gateway answers the API server synchronously.

use hookgate_e2e::{Gateway, Options};
use serde_json::{Value, json};

fn review(uid: &str, labels: Value, image: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": { "group": "", "version": "v1", "kind": "Pod" },
            "resource": { "group": "", "version": "v1", "resource": "pods" },
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": { "username": "admin" },
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": { "name": "web", "labels": labels },
                "spec": { "containers": [{ "name": "web", "image": image }] }
            }
        }
    })
}

#[test]
fn reviews_are_answered_by_the_configured_policy() {
    let g = Gateway::start(Options {
        plugins: vec![("k8s-admission", "k8s-admission.wasm")],
        config: "[plugins.k8s-admission]\nsettings = { required_labels = \"team\", denied_images = \"*:latest\", mode = \"mutate\", default_labels = \"tier=web\" }\n".into(),
        ..Options::default()
    });
    let post = |body: &Value| {
        let r = g.post(
            "/k8s/admission",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["response"].clone()
    };
    let allowed = post(&review("uid-1", json!({ "team": "a" }), "ghcr.io/web:1"));
    assert_eq!(allowed["uid"], "uid-1");
    assert_eq!(allowed["allowed"], true);
    assert_eq!(allowed["patchType"], "JSONPatch", "tier=web is added");

    let denied = post(&review("uid-2", json!({}), "nginx:latest"));
    assert_eq!(denied["uid"], "uid-2");
    assert_eq!(denied["allowed"], false);
    let message = denied["status"]["message"].as_str().expect("message");
    assert!(
        message.contains("missing required labels: team") && message.contains("nginx:latest"),
        "{message}"
    );

    assert_eq!(
        g.metric(r#"k8s_admission_reviews_total{allowed="false",kind="Pod",operation="CREATE"}"#),
        Some(1.0)
    );
    assert_eq!(
        g.metric(r#"k8s_admission_reviews_total{allowed="true",kind="Pod",operation="CREATE"}"#),
        Some(1.0)
    );
    let bad = g.post(
        "/k8s/admission",
        &[("Content-Type", "application/json")],
        b"{\"kind\":\"AdmissionReview\"}",
    );
    assert_eq!(bad.status, 422, "{}", bad.text());
}
