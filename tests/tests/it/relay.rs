//! The relay plugin behind the gateway: any JSON sender's events reach the targets
//! subscribed to their type, unchanged, once per sender delivery id.

use hookgate_e2e::{Gateway, Options, Receiver};
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn post(g: &Gateway, headers: &[(&str, &str)], body: &str) -> hookgate_e2e::HttpResponse {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    g.post("/relay", &all, body.as_bytes())
}

#[test]
fn events_reach_the_targets_subscribed_to_their_type() {
    let deploys = Receiver::start(vec![]);
    let alerts = Receiver::start(vec![]);
    let g = Gateway::start(Options {
        plugins: vec![("relay", "relay.wasm")],
        config: format!(
            "[plugins.relay]\nsettings = {{ event_pointer = \"/type\" }}\n\n\
             [targets.deploys]\nurl = \"{}\"\nevents = [\"deploy.*\"]\n\n\
             [targets.alerts]\nurl = \"{}\"\nevents = [\"alert.*\"]\n",
            deploys.url("/in"),
            alerts.url("/in")
        ),
        ..Options::default()
    });
    let deploy = r#"{"type":"deploy.finished","app":"shop","version":"1.4.2"}"#;
    let r = post(&g, &[("Idempotency-Key", "d-1")], deploy);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["event_type"], "deploy.finished");
    // The sender retries the same event: stored once.
    assert_eq!(post(&g, &[("Idempotency-Key", "d-1")], deploy).status, 202);
    // The header wins over the pointer.
    let alert = r#"{"type":"ignored","summary":"disk full"}"#;
    assert_eq!(
        post(&g, &[("X-Event-Type", "alert.triggered")], alert).status,
        202
    );

    assert!(deploys.wait_for(1, WAIT), "{}", g.logs());
    assert!(alerts.wait_for(1, WAIT), "{}", g.logs());
    assert_eq!(deploys.received()[0].body, deploy.as_bytes(), "unchanged");
    assert_eq!(alerts.received()[0].body, alert.as_bytes());
    assert!(g.wait_until(WAIT, |g| {
        g.metric(r#"hookgate_outbox_deliveries{state="delivered"}"#) == Some(2.0)
            && g.metric(r#"hookgate_outbox_deliveries{state="pending"}"#) == Some(0.0)
    }));
    let bodies: HashSet<Vec<u8>> = deploys.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 1, "the retried event went out once");
    assert_eq!(deploys.received().len(), 1);
    assert_eq!(
        g.metric(r#"relay_events_total{event_type="deploy.finished"}"#),
        Some(2.0),
        "counted as received"
    );
    assert_eq!(
        g.metric(r#"relay_events_total{event_type="alert.triggered"}"#),
        Some(1.0)
    );
}

#[test]
fn bad_events_are_refused_with_the_reason_and_nothing_is_queued() {
    let g = Gateway::start(Options {
        plugins: vec![("relay", "relay.wasm")],
        ..Options::default()
    });
    let r = post(&g, &[("X-Event-Type", "a")], "{oops");
    assert_eq!(r.status, 400);
    assert!(
        r.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not JSON")),
        "{}",
        r.text()
    );
    let r = post(&g, &[], "{}");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("x-event-type"), "{}", r.text());
    let r = post(&g, &[("X-Event-Type", "no spaces please")], "{}");
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(g.wait_until(WAIT, |g| {
        g.metric(r#"hookgate_outbox_deliveries{state="pending"}"#) == Some(0.0)
    }));
    assert_eq!(
        g.metric(r#"hookgate_deliveries_unrouted_total{event_type="a",plugin="relay"}"#),
        None
    );
}
