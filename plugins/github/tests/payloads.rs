//! The github plugin on payloads of the shapes GitHub sends (the full corpus of real examples
//! runs end to end in tests/tests/it/github.rs).

use github::Github;
use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;
use serde_json::{Value, json};

fn call(event: &str, body: &Value, settings: &[(&str, &str)]) -> Result<Outcome, Rejection> {
    let mut req = Request::post("/github")
        .with_header("User-Agent", "GitHub-Hookshot/044aadd")
        .with_header("X-GitHub-Event", event)
        .with_header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .with_json(body);
    for (k, v) in settings {
        req = req.with_setting(*k, *v);
    }
    testing::call::<Github>(req)
}

fn repository() -> Value {
    json!({ "name": "Hello-World", "full_name": "Codertocat/Hello-World", "owner": { "login": "Codertocat" } })
}

#[test]
fn every_pushed_commit_gets_its_commit_time() {
    let body = json!({
        "ref": "refs/heads/main",
        "repository": repository(),
        "commits": [
            { "id": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "timestamp": "2019-05-15T15:20:41Z" },
            { "id": "a10867b14bb761a232cd80139fbd4c0d33264240", "timestamp": "2019-05-15T08:21:41-07:00" }
        ],
        "head_commit": { "id": "a10867b14bb761a232cd80139fbd4c0d33264240", "timestamp": "2019-05-15T08:21:41-07:00" }
    });
    let out = call("push", &body, &[]).expect("accepted");
    assert_eq!(out.response.status, 202);
    assert_eq!(
        out.samples[..2],
        [
            Sample::set(
                "commit_timestamp",
                [
                    "Hello-World",
                    "Codertocat",
                    "",
                    "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
                ],
                1_557_933_641.0
            ),
            Sample::set(
                "commit_timestamp",
                [
                    "Hello-World",
                    "Codertocat",
                    "",
                    "a10867b14bb761a232cd80139fbd4c0d33264240"
                ],
                1_557_933_701.0
            ),
        ]
    );
    assert_eq!(out.samples[2], Sample::inc("github_events_total", ["push"]));
}

#[test]
fn a_successful_deployment_gets_its_deploy_time() {
    let body = |state: &str| {
        json!({
            "action": "created",
            "repository": repository(),
            "deployment_status": { "state": state, "created_at": "2019-05-15T15:20:55Z" },
            "deployment": { "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "environment": "production" }
        })
    };
    let out = call("deployment_status", &body("success"), &[]).expect("accepted");
    assert!(out.samples.contains(&Sample::set(
        "deploy_timestamp",
        [
            "Hello-World",
            "production",
            "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
        ],
        1_557_933_655.0
    )));
    let pending = call("deployment_status", &body("in_progress"), &[]).expect("accepted");
    assert_eq!(
        pending.samples,
        vec![Sample::inc("github_events_total", ["deployment_status"])]
    );
}

#[test]
fn failure_issues_open_and_close() {
    let issue = |action: &str, labels: &[&str]| {
        let labels: Vec<Value> = labels.iter().map(|l| json!({ "name": l })).collect();
        json!({
            "action": action,
            "repository": repository(),
            "issue": { "number": 1, "labels": labels, "created_at": "2019-05-15T15:20:18Z", "closed_at": "2019-05-16T15:20:18Z" }
        })
    };
    let opened = call("issues", &issue("opened", &["bug"]), &[]).expect("accepted");
    assert!(opened.samples.contains(&Sample::set(
        "failure_creation_timestamp",
        ["Hello-World", "1"],
        1_557_933_618.0
    )));
    let closed = call("issues", &issue("closed", &["bug"]), &[]).expect("accepted");
    assert!(closed.samples.contains(&Sample::set(
        "failure_resolution_timestamp",
        ["Hello-World", "1"],
        1_558_020_018.0
    )));
    let other_label = call("issues", &issue("opened", &["question"]), &[]).expect("accepted");
    assert_eq!(other_label.samples.len(), 1, "only the event counter");
    let custom = call(
        "issues",
        &issue("opened", &["incident"]),
        &[("failure_label", "incident")],
    )
    .expect("accepted");
    assert_eq!(custom.samples.len(), 2);
    let mut labelled = issue("labeled", &["bug"]);
    labelled["label"] = json!({ "name": "bug" });
    assert_eq!(
        call("issues", &labelled, &[])
            .expect("accepted")
            .samples
            .len(),
        2
    );
}

#[test]
fn ping_answers_and_chosen_events_are_forwarded() {
    let pong = call(
        "ping",
        &json!({ "zen": "Keep it logically awesome.", "hook_id": 1 }),
        &[],
    )
    .expect("accepted");
    assert_eq!(pong.response.status, 200);
    assert!(pong.body_text().contains("Keep it logically awesome."));
    let release = json!({ "action": "published", "release": { "tag_name": "v1" }, "repository": repository() });
    let out = call("release", &release, &[("forward", "push, release")]).expect("accepted");
    assert_eq!(out.response.status, 202);
    assert_eq!(out.deliveries.len(), 1);
    assert_eq!(out.deliveries[0].event_type, "github.release.published");
    assert_eq!(
        out.deliveries[0].idempotency_key.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert!(
        call("release", &release, &[])
            .expect("accepted")
            .deliveries
            .is_empty()
    );
}

#[test]
fn bad_requests_say_why() {
    let no_event = testing::call::<Github>(Request::post("/github").with_json(&json!({})))
        .expect_err("refused");
    assert!(
        no_event.message.contains("X-GitHub-Event"),
        "{}",
        no_event.message
    );
    let bad_time =
        json!({ "repository": repository(), "commits": [{ "id": "x", "timestamp": "yesterday" }] });
    let refused = call("push", &bad_time, &[]).expect_err("refused");
    assert_eq!(refused.status, 422);
    assert!(
        refused.message.contains("commits[0].timestamp"),
        "{}",
        refused.message
    );
    let no_repo = call("push", &json!({ "commits": [] }), &[]).expect_err("refused");
    assert!(
        no_repo.message.contains("repository.name"),
        "{}",
        no_repo.message
    );
}
