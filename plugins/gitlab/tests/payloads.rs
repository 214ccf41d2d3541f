//! The gitlab plugin on payloads of the shapes GitLab's webhook documentation gives.

use gitlab::Gitlab;
use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;
use serde_json::{Value, json};

fn call(event: &str, body: &Value, settings: &[(&str, &str)]) -> Result<Outcome, Rejection> {
    let mut req = Request::post("/gitlab")
        .with_header("User-Agent", "GitLab/17.5.0")
        .with_header("X-Gitlab-Event", event)
        .with_header("Idempotency-Key", "f1c4b2a0-0d3e-4a6b-9b5e-2d1c3b4a5f60")
        .with_json(body);
    for (k, v) in settings {
        req = req.with_setting(*k, *v);
    }
    testing::call::<Gitlab>(req)
}

fn project() -> Value {
    json!({ "id": 15, "name": "Diaspora", "namespace": "Mike", "path_with_namespace": "mike/diaspora" })
}

#[test]
fn pushed_commits_get_their_commit_times() {
    let body = json!({
        "object_kind": "push", "ref": "refs/heads/master", "project": project(),
        "commits": [
            { "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "timestamp": "2011-12-12T14:27:31+02:00" },
            { "id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "timestamp": "2012-01-03T23:36:29+02:00" }
        ],
        "total_commits_count": 2
    });
    let out = call("Push Hook", &body, &[]).expect("accepted");
    assert_eq!(
        out.samples[0],
        Sample::set(
            "commit_timestamp",
            [
                "Diaspora",
                "Mike",
                "",
                "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"
            ],
            1_323_692_851.0
        )
    );
    assert_eq!(out.samples.len(), 3, "two commits and the event counter");
}

#[test]
fn successful_deployments_get_their_deploy_time() {
    let body = |status: &str| {
        json!({
            "object_kind": "deployment", "status": status, "status_changed_at": "2021-04-28 21:50:00 +0200",
            "deployment_id": 15, "environment": "staging", "sha": "279484c09fbe69ededfced8c1bb6e6d24616b468",
            "ref": "master", "project": project()
        })
    };
    let out = call("Deployment Hook", &body("success"), &[]).expect("accepted");
    assert!(out.samples.contains(&Sample::set(
        "deploy_timestamp",
        [
            "Diaspora",
            "staging",
            "279484c09fbe69ededfced8c1bb6e6d24616b468"
        ],
        1_619_639_400.0
    )));
    let running = call("Deployment Hook", &body("running"), &[]).expect("accepted");
    assert_eq!(running.samples.len(), 1);
}

#[test]
fn failure_issues_and_pipelines() {
    let issue = |action: &str, label: &str| {
        json!({
            "object_kind": "issue", "project": project(), "labels": [{ "title": label }],
            "object_attributes": { "iid": 23, "action": action, "created_at": "2013-12-03T17:15:43Z", "closed_at": "2013-12-04 17:15:43 UTC" }
        })
    };
    let opened = call("Issue Hook", &issue("open", "bug"), &[]).expect("accepted");
    assert!(opened.samples.contains(&Sample::set(
        "failure_creation_timestamp",
        ["Diaspora", "23"],
        1_386_090_943.0
    )));
    let closed = call("Issue Hook", &issue("close", "bug"), &[]).expect("accepted");
    assert!(closed.samples.contains(&Sample::set(
        "failure_resolution_timestamp",
        ["Diaspora", "23"],
        1_386_177_343.0
    )));
    assert_eq!(
        call("Issue Hook", &issue("open", "docs"), &[])
            .expect("accepted")
            .samples
            .len(),
        1
    );

    let pipeline = json!({ "object_kind": "pipeline", "project": project(), "object_attributes": { "id": 31, "status": "failed", "finished_at": "2016-08-12 15:26:29 UTC" } });
    let out = call("Pipeline Hook", &pipeline, &[("forward", "pipeline")]).expect("accepted");
    assert!(out.samples.contains(&Sample::inc(
        "gitlab_pipelines_total",
        ["Diaspora", "failed"]
    )));
    assert_eq!(out.deliveries[0].event_type, "gitlab.pipeline");
    assert_eq!(
        out.deliveries[0].idempotency_key.as_deref(),
        Some("f1c4b2a0-0d3e-4a6b-9b5e-2d1c3b4a5f60")
    );
}

#[test]
fn bad_payloads_say_why() {
    let refused = call("Push Hook", &json!({ "project": project() }), &[]).expect_err("refused");
    assert!(
        refused.message.contains("object_kind"),
        "{}",
        refused.message
    );
    let bad_time = json!({ "object_kind": "push", "project": project(), "commits": [{ "id": "x", "timestamp": "soon" }] });
    let refused = call("Push Hook", &bad_time, &[]).expect_err("refused");
    assert!(
        refused.message.starts_with("commits[0].timestamp"),
        "{}",
        refused.message
    );
    let other = call(
        "Wiki Page Hook",
        &json!({ "object_kind": "wiki_page" }),
        &[],
    )
    .expect("accepted");
    assert_eq!(other.response.status, 202);
}
