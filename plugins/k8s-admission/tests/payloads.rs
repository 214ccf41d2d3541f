//! The admission plugin on AdmissionReview requests as the Kubernetes API server sends them.

use base64::Engine as _;
use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;
use k8s_admission::K8sAdmission;
use serde_json::{Value, json};

fn pod(labels: Value, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({ "name": format!("c{i}"), "image": image }))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "web-1", "namespace": "shop", "labels": labels },
        "spec": { "containers": containers }
    })
}

/// An AdmissionReview as the API server sends it for a CREATE.
fn review(kind: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": { "group": "", "version": "v1", "kind": kind },
            "resource": { "group": "", "version": "v1", "resource": "pods" },
            "requestKind": { "group": "", "version": "v1", "kind": kind },
            "name": "web-1",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": { "username": "admin", "groups": ["system:authenticated"] },
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": { "apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" }
        }
    })
}

fn call(review: &Value, settings: &[(&str, &str)]) -> Result<Value, Rejection> {
    let mut req = Request::post("/k8s/admission")
        .with_header("Content-Type", "application/json")
        .with_json(review);
    for (k, v) in settings {
        req = req.with_setting(*k, *v);
    }
    let out = testing::call::<K8sAdmission>(req)?;
    assert_eq!(
        out.response.status, 200,
        "the API server wants 200 whatever the decision"
    );
    Ok(serde_json::from_slice(&out.response.body).expect("JSON answer"))
}

const POLICY: [(&str, &str); 2] = [
    ("required_labels", "team, app"),
    ("denied_images", "*:latest, docker.io/*"),
];

#[test]
fn an_object_within_the_policy_is_allowed_and_the_uid_echoed() {
    let answer = call(
        &review(
            "Pod",
            pod(
                json!({ "team": "a", "app": "web" }),
                &["ghcr.io/shop/web:1.4"],
            ),
        ),
        &POLICY,
    )
    .expect("answered");
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(
        answer["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"].get("patch").is_none());
}

#[test]
fn missing_labels_and_denied_images_are_refused_with_every_reason() {
    let answer = call(
        &review(
            "Pod",
            pod(
                json!({ "team": "a" }),
                &["nginx:latest", "docker.io/library/redis:7", "ghcr.io/ok:1"],
            ),
        ),
        &POLICY,
    )
    .expect("answered");
    let response = &answer["response"];
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().expect("message");
    assert!(
        message.contains("missing required labels: app"),
        "{message}"
    );
    assert!(
        message.contains(r#"container "c0" runs image "nginx:latest", denied by "*:latest""#),
        "{message}"
    );
    assert!(
        message.contains(r#""docker.io/library/redis:7", denied by "docker.io/*""#),
        "{message}"
    );
    assert!(!message.contains("ghcr.io/ok"), "{message}");
}

#[test]
fn workload_templates_and_cronjobs_are_checked_too() {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "web", "labels": { "team": "a", "app": "web" } },
        "spec": { "template": { "spec": { "initContainers": [{ "name": "init", "image": "busybox:latest" }], "containers": [{ "name": "web", "image": "ghcr.io/web:1" }] } } }
    });
    let answer = call(&review("Deployment", deployment), &POLICY).expect("answered");
    assert_eq!(answer["response"]["allowed"], false);
    let cronjob = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": { "name": "nightly", "labels": { "team": "a", "app": "batch" } },
        "spec": { "jobTemplate": { "spec": { "template": { "spec": { "containers": [{ "name": "job", "image": "docker.io/library/python:3" }] } } } } }
    });
    let answer = call(&review("CronJob", cronjob), &POLICY).expect("answered");
    assert_eq!(answer["response"]["allowed"], false);
}

#[test]
fn the_mutating_mode_adds_missing_labels_with_a_patch_that_applies() {
    let settings = [
        ("required_labels", "team"),
        ("mode", "mutate"),
        (
            "default_labels",
            "team=platform, app.kubernetes.io/managed-by=hookgate",
        ),
    ];
    for labels in [json!({ "app": "web" }), Value::Null] {
        let mut object = pod(labels.clone(), &["ghcr.io/web:1"]);
        if labels.is_null() {
            object["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("labels");
        }
        let answer = call(&review("Pod", object.clone()), &settings).expect("answered");
        let response = &answer["response"];
        assert_eq!(
            response["allowed"], true,
            "the default fills the required label"
        );
        assert_eq!(response["patchType"], "JSONPatch");
        let patch = base64::engine::general_purpose::STANDARD
            .decode(response["patch"].as_str().expect("patch"))
            .expect("base64");
        let patch: json_patch::Patch = serde_json::from_slice(&patch).expect("a JSONPatch");
        json_patch::patch(&mut object, &patch).expect("the patch applies");
        assert_eq!(object["metadata"]["labels"]["team"], "platform");
        assert_eq!(
            object["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "hookgate"
        );
    }
}

#[test]
fn delete_has_no_object_and_is_allowed() {
    let mut r = review("Pod", Value::Null);
    r["request"]["operation"] = json!("DELETE");
    let answer = call(&r, &POLICY).expect("answered");
    assert_eq!(answer["response"]["allowed"], true);
}

#[test]
fn bad_reviews_and_bad_settings_are_refused_with_the_reason() {
    let mut no_uid = review("Pod", pod(json!({}), &[]));
    no_uid["request"]
        .as_object_mut()
        .expect("request")
        .remove("uid");
    assert!(
        call(&no_uid, &[])
            .expect_err("refused")
            .message
            .contains("request.uid")
    );
    let mut v1beta1 = review("Pod", pod(json!({}), &[]));
    v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
    assert_eq!(call(&v1beta1, &[]).expect_err("refused").status, 422);
    let bad_mode =
        call(&review("Pod", pod(json!({}), &[])), &[("mode", "enforce")]).expect_err("refused");
    assert!(
        bad_mode.message.contains("setting mode"),
        "{}",
        bad_mode.message
    );
    let bad_pair = call(
        &review("Pod", pod(json!({}), &[])),
        &[("mode", "mutate"), ("default_labels", "team")],
    )
    .expect_err("refused");
    assert!(
        bad_pair.message.contains("default_labels"),
        "{}",
        bad_pair.message
    );
}
