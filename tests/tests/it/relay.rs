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

/// Standard Webhooks headers for `body`, made by the `standardwebhooks` Python package.
fn python_signed(secret: &str, id: &str, at: i64, body: &str) -> String {
    let script = "import sys, datetime\nfrom standardwebhooks import Webhook\n\
                  secret, msg_id, at, body = sys.argv[1:]\n\
                  t = datetime.datetime.fromtimestamp(int(at), tz=datetime.timezone.utc)\n\
                  print(Webhook(secret).sign(msg_id, t, body))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, secret, id, &at.to_string(), body])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

#[test]
fn standard_webhooks_senders_are_verified_with_a_window_against_replays() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let g = Gateway::start(Options {
        plugins: vec![("relay", "relay.wasm")],
        config:
            "[plugins.relay]\nscheme = \"standard-webhooks\"\nsecret = { env = \"SW_SECRET\" }\n"
                .into(),
        env: vec![("SW_SECRET", SECRET.into())],
    });
    let body = r#"{"type":"invoice.paid"}"#;
    let now = hookgate_e2e::now() as i64;
    let send = |at: i64, body: &str, signed_body: &str| {
        let signature = python_signed(SECRET, "msg_1", at, signed_body);
        let at = at.to_string();
        post(
            &g,
            &[
                ("X-Event-Type", "invoice.paid"),
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", &at),
                ("webhook-signature", &signature),
            ],
            body,
        )
        .status
    };
    assert_eq!(send(now, body, body), 202);
    assert_eq!(
        send(now, r#"{"type":"invoice.void"}"#, body),
        403,
        "tampered"
    );
    assert_eq!(send(now - 3600, body, body), 403, "an hour old: a replay");
    assert_eq!(
        post(&g, &[("X-Event-Type", "a")], body).status,
        401,
        "unsigned"
    );
    for reason in ["mismatch", "expired", "missing"] {
        assert_eq!(
            g.metric(&format!(
                r#"hookgate_signature_failures_total{{plugin="relay",reason="{reason}"}}"#
            )),
            Some(1.0),
            "{reason}"
        );
    }
}

#[test]
fn gitlab_tokens_are_checked_by_the_gateway() {
    let g = Gateway::start(Options {
        plugins: vec![("relay", "relay.wasm")],
        config: "[plugins.relay]\nscheme = \"gitlab-token\"\nsecret = { env = \"GL_TOKEN\" }\nsettings = { event_header = \"X-Gitlab-Event\" }\n".into(),
        env: vec![("GL_TOKEN", "gl-t0ken".into())],
    });
    let push = |token: &str| {
        post(
            &g,
            &[("X-Gitlab-Event", "Push-Hook"), ("X-Gitlab-Token", token)],
            r#"{"object_kind":"push"}"#,
        )
        .status
    };
    assert_eq!(push("gl-t0ken"), 202);
    assert_eq!(push("wrong"), 403);
}
