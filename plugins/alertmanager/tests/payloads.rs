//! The alertmanager plugin on webhook payloads as Alertmanager 0.25 sends them.

use alertmanager::Alertmanager;
use hookgate_plugin_sdk::prelude::*;
use hookgate_plugin_sdk::testing;
use serde_json::{Value, json};

fn notification(status: &str, alert_status: &str) -> Value {
    json!({
        "receiver": "hookgate",
        "status": status,
        "alerts": [
            {
                "status": alert_status,
                "labels": { "alertname": "HighCPU", "instance": "node-1:9100", "job": "node", "severity": "critical" },
                "annotations": { "summary": "CPU above 90% for 5 minutes" },
                "startsAt": "2026-11-22T10:00:00.000Z",
                "endsAt": if alert_status == "firing" { "0001-01-01T00:00:00Z" } else { "2026-11-22T10:30:00.000Z" },
                "generatorURL": "http://prometheus:9090/graph?g0.expr=cpu",
                "fingerprint": "c2e1a6f7d1b9a3e4"
            },
            {
                "status": alert_status,
                "labels": { "alertname": "HighCPU", "instance": "node-2:9100", "job": "node", "severity": "critical" },
                "annotations": {},
                "startsAt": "2026-11-22T10:01:00.000Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "f00d"
            }
        ],
        "groupLabels": { "alertname": "HighCPU" },
        "commonLabels": { "alertname": "HighCPU", "job": "node", "severity": "critical" },
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": "{}:{alertname=\"HighCPU\"}",
        "truncatedAlerts": 0
    })
}

fn call(body: &Value, settings: &[(&str, &str)]) -> Result<Outcome, Rejection> {
    let mut req = Request::post("/alertmanager")
        .with_header("User-Agent", "Alertmanager/0.25.0")
        .with_header("Content-Type", "application/json")
        .with_json(body);
    for (k, v) in settings {
        req = req.with_setting(*k, *v);
    }
    testing::call::<Alertmanager>(req)
}

const PD: [(&str, &str); 2] = [
    ("pagerduty_target", "pagerduty"),
    ("pagerduty_routing_key", "R0UT1NGKEY0000000000000000000000"),
];

fn json_of(d: &Delivery) -> Value {
    serde_json::from_slice(&d.body).expect("JSON body")
}

#[test]
fn a_firing_group_counts_and_marks_each_alert() {
    let out = call(&notification("firing", "firing"), &[]).expect("accepted");
    assert_eq!(out.response.status, 200);
    assert!(out.samples.contains(&Sample::inc(
        "alertmanager_notifications_total",
        ["hookgate", "firing"]
    )));
    assert!(out.samples.contains(&Sample::set(
        "alertmanager_alert_firing",
        ["HighCPU", "critical", "c2e1a6f7d1b9a3e4"],
        1.0
    )));
    let resolved = call(&notification("resolved", "resolved"), &[]).expect("accepted");
    assert!(resolved.samples.contains(&Sample::set(
        "alertmanager_alert_firing",
        ["HighCPU", "critical", "c2e1a6f7d1b9a3e4"],
        0.0
    )));
}

#[test]
fn slack_gets_one_message_per_notification() {
    let out = call(
        &notification("firing", "firing"),
        &[("slack_target", "slack")],
    )
    .expect("accepted");
    let slack: Vec<&Delivery> = out
        .deliveries
        .iter()
        .filter(|d| d.target.as_deref() == Some("slack"))
        .collect();
    assert_eq!(slack.len(), 1);
    assert_eq!(slack[0].event_type, "alert.triggered");
    let body = json_of(slack[0]);
    assert_eq!(body["text"], "[FIRING:2] HighCPU");
    assert_eq!(body["blocks"][0]["type"], "header");
    let section = body["blocks"][1]["text"]["text"].as_str().expect("section");
    assert!(
        section.contains("*HighCPU* (critical): CPU above 90% for 5 minutes"),
        "{section}"
    );
    assert!(
        section.contains("<http://prometheus:9090/graph?g0.expr=cpu|source>"),
        "{section}"
    );
    assert_eq!(body["blocks"][2]["type"], "context");
    // Without slack_target it goes to every target subscribed to alert.*.
    let fanned = call(&notification("resolved", "resolved"), &[]).expect("accepted");
    assert_eq!(fanned.deliveries.len(), 1);
    assert_eq!(fanned.deliveries[0].target, None);
    assert_eq!(fanned.deliveries[0].event_type, "alert.resolved");
    assert_eq!(
        json_of(&fanned.deliveries[0])["text"],
        "[RESOLVED:2] HighCPU"
    );
}

#[test]
fn pagerduty_gets_an_event_per_alert_and_resolve_reuses_the_dedup_key() {
    let trigger = call(&notification("firing", "firing"), &PD).expect("accepted");
    let events: Vec<Value> = trigger
        .deliveries
        .iter()
        .filter(|d| d.target.as_deref() == Some("pagerduty"))
        .map(json_of)
        .collect();
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!(first["routing_key"], PD[1].1);
    assert_eq!(first["event_action"], "trigger");
    assert_eq!(
        first["payload"]["summary"],
        "HighCPU: CPU above 90% for 5 minutes"
    );
    assert_eq!(first["payload"]["source"], "node-1:9100");
    assert_eq!(first["payload"]["severity"], "critical");
    assert_eq!(first["payload"]["timestamp"], "2026-11-22T10:00:00.000Z");
    assert_eq!(
        first["links"][0]["href"],
        "http://prometheus:9090/graph?g0.expr=cpu"
    );
    let key = first["dedup_key"].as_str().expect("dedup_key");
    assert_eq!(key.len(), 64);
    assert_ne!(
        events[1]["dedup_key"], first["dedup_key"],
        "one incident per alert"
    );

    let resolve = call(&notification("resolved", "resolved"), &PD).expect("accepted");
    let closing = json_of(
        resolve
            .deliveries
            .iter()
            .find(|d| d.target.as_deref() == Some("pagerduty"))
            .expect("a resolve event"),
    );
    assert_eq!(closing["event_action"], "resolve");
    assert_eq!(closing["dedup_key"], key);
}

#[test]
fn severities_map_onto_pagerdutys_four() {
    use alertmanager::pagerduty_severity as map;
    assert_eq!(
        ["critical", "Warning", "info", "page", "", "bogus"].map(map),
        ["critical", "warning", "info", "critical", "error", "error"]
    );
}

#[test]
fn a_missing_routing_key_still_answers_and_sends_slack() {
    let out = call(
        &notification("firing", "firing"),
        &[("pagerduty_target", "pagerduty")],
    )
    .expect("accepted");
    assert_eq!(out.deliveries.len(), 1, "Slack only");
}

#[test]
fn bad_payloads_name_the_field() {
    let mut wrong_version = notification("firing", "firing");
    wrong_version["version"] = json!("3");
    let mut no_name = notification("firing", "firing");
    no_name["alerts"][1]["labels"] = json!({ "severity": "warning" });
    let mut bad_status = notification("firing", "firing");
    bad_status["alerts"][0]["status"] = json!("burning");
    let mut no_fingerprint = notification("firing", "firing");
    no_fingerprint["alerts"][0]
        .as_object_mut()
        .expect("alert")
        .remove("fingerprint");
    for (body, field) in [
        (wrong_version, "version"),
        (no_name, "alerts[1].labels.alertname"),
        (bad_status, "alerts[0].status"),
        (no_fingerprint, "alerts[0].fingerprint"),
    ] {
        let refused = call(&body, &[]).expect_err("refused");
        assert_eq!(refused.status, 422, "{}", refused.message);
        assert!(
            refused.message.starts_with(field),
            "{field}: {}",
            refused.message
        );
    }
    let not_json =
        testing::call::<Alertmanager>(Request::post("/alertmanager").with_body(b"{".to_vec()))
            .expect_err("refused");
    assert_eq!(not_json.status, 400);
}
