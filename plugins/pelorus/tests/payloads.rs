//! The plugin's logic on the Pelorus documentation's payloads, natively, through the SDK's
//! harness (handshake, then handle, with the manifest's rules checked).

use hookgate_plugin_sdk::testing::call;
use hookgate_plugin_sdk::{Outcome, Rejection, Request, Sample};
use pelorus::Pelorus;
use serde_json::{Value, json};

const IMAGE: &str = "sha256:af4092ccbfa99a3ec1ea93058fe39b8ddfd8db1c7a18081db397c50a0b8ec77d";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn request(event: &str, body: impl Into<Vec<u8>>, received_at: u64) -> Request {
    Request::post("/pelorus/webhook")
        .with_header("User-Agent", "Pelorus-Webhook/test")
        .with_header("X-Pelorus-Event", event)
        .with_body(body)
        .with_received_at(received_at)
}

fn accepted(out: Result<Outcome, Rejection>) -> Outcome {
    let out = out.unwrap_or_else(|r| panic!("rejected: {} {}", r.status, r.message));
    assert_eq!(out.response.status, 202);
    assert_eq!(
        out.body_text(),
        r#"{"http_response":"Webhook Received","http_response_code":200}"#
    );
    out
}

fn rejected(out: Result<Outcome, Rejection>) -> (u16, Value) {
    let r = out.expect_err("rejected");
    let body = r
        .body
        .as_deref()
        .map(|b| serde_json::from_slice(b).expect("json"))
        .unwrap_or(Value::Null);
    (r.status, body)
}

#[test]
fn documented_committime_gives_the_commit_series() {
    let out = accepted(call::<Pelorus>(request(
        "committime",
        fixture("mongo_committime.json"),
        1_678_106_000,
    )));
    assert_eq!(
        out.samples[0],
        Sample::set_if_absent(
            "commit_timestamp",
            [
                "/mongo-todolist/",
                "mongo-persistent",
                IMAGE,
                "5379bad65a3f83853a75aabec9e0e43c75fd18fc"
            ],
            1_678_105_701.0
        )
    );
    assert_eq!(
        out.samples[1],
        Sample::inc("webhook_received_total", [] as [&str; 0])
    );
    assert_eq!(
        out.samples[2],
        Sample::inc("webhook_processed_total", [] as [&str; 0])
    );
}

#[test]
fn documented_committime_is_accepted_however_old() {
    // Commit times precede deploys by any amount; only deploy and failure events have a window.
    accepted(call::<Pelorus>(request(
        "committime",
        fixture("mongo_committime.json"),
        1_800_000_000,
    )));
}

#[test]
fn documented_deploytime_within_the_window() {
    // The documentation's scenario: the deploy happened 10 minutes before sending.
    let out = accepted(call::<Pelorus>(request(
        "deploytime",
        fixture("mongo_deploytime.json"),
        1_678_106_205 + 600,
    )));
    assert_eq!(
        out.samples[0],
        Sample::set_if_absent(
            "deploy_timestamp",
            ["/mongo-todolist/", "mongo-persistent", IMAGE],
            1_678_106_205.0
        )
    );
}

#[test]
fn documented_deploytime_too_late_is_refused() {
    let (status, body) = rejected(call::<Pelorus>(request(
        "deploytime",
        fixture("mongo_deploytime.json"),
        1_678_106_205 + 1801,
    )));
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["loc"], json!(["body", "timestamp"]));
    assert_eq!(
        body["errors"][0]["msg"],
        "Timestamp cannot be older than 30 minutes"
    );
}

#[test]
fn documented_failures_go_to_two_families() {
    let created = accepted(call::<Pelorus>(request(
        "failure",
        fixture("mongo_production_failure.json"),
        1_678_181_704,
    )));
    assert_eq!(
        created.samples[0],
        Sample::set_if_absent(
            "failure_creation_timestamp",
            ["/mongo-todolist/", "MONGO-1"],
            1_678_181_704.0
        )
    );
    let resolved = accepted(call::<Pelorus>(request(
        "failure",
        fixture("mongo_production_failure_resolved.json"),
        1_678_206_464 + 5,
    )));
    assert_eq!(
        resolved.samples[0],
        Sample::set_if_absent(
            "failure_resolution_timestamp",
            ["/mongo-todolist/", "MONGO-1"],
            1_678_206_464.0
        )
    );
}

#[test]
fn all_broken_rules_are_reported_together() {
    let body = json!({ "app": "x".repeat(201), "image_sha": "nope", "namespace": "ns", "timestamp": "soon" });
    let (status, body) = rejected(call::<Pelorus>(request(
        "deploytime",
        body.to_string(),
        1_700_000_000,
    )));
    assert_eq!(status, 422);
    assert_eq!(body["detail"], "Invalid payload.");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["loc"][1].as_str())
        .collect();
    assert_eq!(fields, ["app", "timestamp", "image_sha"]);
}

#[test]
fn app_names_are_formatted_like_pelorus() {
    for (app, label) in [
        ("robotron", "/robotron/"),
        ("/robotron", "/robotron/"),
        ("group/sub/robotron", "/group/sub/robotron/"),
    ] {
        let body = json!({ "app": app, "commit_hash": "abcdef0", "image_sha": IMAGE, "namespace": "n", "timestamp": 1_700_000_000 });
        let out = accepted(call::<Pelorus>(request(
            "committime",
            body.to_string(),
            1_700_000_000,
        )));
        assert_eq!(out.samples[0].label_values[0], label);
    }
}

#[test]
fn handshake_checks_event_and_signature_format() {
    let body = fixture("mongo_committime.json");
    let (status, json) = rejected(call::<Pelorus>(request(
        "commit",
        body.clone(),
        1_700_000_000,
    )));
    assert_eq!(
        (status, json["detail"].as_str()),
        (400, Some("Improper headers."))
    );
    let bad_sig = request("committime", body, 1_700_000_000)
        .with_header("X-Hub-Signature-256", format!("sha256={}", "g".repeat(64)));
    let (status, json) = rejected(call::<Pelorus>(bad_sig));
    assert_eq!(
        (status, json["errors"][0]["loc"][1].as_str()),
        (400, Some("x-hub-signature-256"))
    );
}

#[test]
fn ping_pongs() {
    let out = call::<Pelorus>(request("ping", "{}", 0)).expect("accepted");
    assert_eq!(
        (out.response.status, out.body_text()),
        (200, r#"{"detail":"pong"}"#)
    );
}
