//! The relay plugin on the kinds of payloads generic senders post.

use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;
use relay::Relay;

fn post(body: &str) -> Request {
    Request::post("/relay")
        .with_header("Content-Type", "application/json")
        .with_body(body.as_bytes().to_vec())
}

#[test]
fn the_header_names_the_event_and_the_body_goes_on_unchanged() {
    let body = r#"{"deployment": {"id": 42, "env": "prod"}}"#;
    let out = testing::call::<Relay>(post(body).with_header("X-Event-Type", "deploy.finished"))
        .expect("accepted");
    assert_eq!(out.response.status, 202);
    assert_eq!(
        out.body_text(),
        r#"{"accepted":true,"event_type":"deploy.finished"}"#
    );
    assert_eq!(out.deliveries.len(), 1);
    assert_eq!(out.deliveries[0].event_type, "deploy.finished");
    assert_eq!(out.deliveries[0].body, body.as_bytes());
    assert_eq!(out.deliveries[0].target, None);
    assert_eq!(
        out.samples,
        vec![Sample::inc("relay_events_total", ["deploy.finished"])]
    );
}

#[test]
fn a_json_pointer_finds_the_event_when_there_is_no_header() {
    // The shape of a Grafana alert webhook.
    let grafana = r#"{"receiver":"hookgate","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighCPU"}}]}"#;
    let out = testing::call::<Relay>(post(grafana).with_setting("event_pointer", "/status"))
        .expect("accepted");
    assert_eq!(out.deliveries[0].event_type, "firing");
    let nested = testing::call::<Relay>(
        post(grafana).with_setting("event_pointer", "/alerts/0/labels/alertname"),
    )
    .expect("accepted");
    assert_eq!(nested.deliveries[0].event_type, "HighCPU");
}

#[test]
fn settings_name_a_target_another_header_and_turn_counting_off() {
    let out = testing::call::<Relay>(
        post("{}")
            .with_header("X-GitLab-Event", "Push Hook".replace(' ', "-"))
            .with_setting("event_header", "X-GitLab-Event")
            .with_setting("target", "archive")
            .with_setting("count", "false"),
    )
    .expect("accepted");
    assert_eq!(out.deliveries[0].event_type, "Push-Hook");
    assert_eq!(out.deliveries[0].target.as_deref(), Some("archive"));
    assert!(out.samples.is_empty());
}

#[test]
fn the_senders_delivery_id_becomes_the_idempotency_key() {
    let out = testing::call::<Relay>(
        post("{}")
            .with_header("X-Event-Type", "a")
            .with_header("webhook-id", "msg_123"),
    )
    .expect("accepted");
    assert_eq!(
        out.deliveries[0].idempotency_key.as_deref(),
        Some("msg_123")
    );
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let cases: [(Request, u16, &str); 5] = [
        (
            post("{not json").with_header("X-Event-Type", "a"),
            400,
            "not JSON",
        ),
        (post("{}"), 400, "header 'x-event-type' is required"),
        (
            post(r#"{"type": 7}"#).with_setting("event_pointer", "/type"),
            422,
            "must be a string",
        ),
        (
            post("{}").with_setting("event_pointer", "/type"),
            422,
            "nothing at /type",
        ),
        (
            post("{}").with_header("X-Event-Type", "a b"),
            422,
            "letters, digits",
        ),
    ];
    for (req, status, says) in cases {
        let refused = testing::call::<Relay>(req).expect_err("refused");
        assert_eq!(refused.status, status, "{}", refused.message);
        assert!(refused.message.contains(says), "{}", refused.message);
    }
}
