//! Bodies for the receivers: a Slack message (text and blocks) per notification, and a
//! PagerDuty Events API v2 event per alert.

use crate::payload::{Alert, Notification};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Alerts listed one by one in a Slack message; the rest are counted.
const SLACK_ALERTS: usize = 10;
/// Slack's limit for a header block's text.
const SLACK_HEADER: usize = 150;
/// Slack's limit for a section's text.
const SLACK_SECTION: usize = 3000;
/// PagerDuty's limit for `payload.summary`.
const PD_SUMMARY: usize = 1024;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// `[FIRING:2] HighCPU` as Alertmanager's own templates title a notification.
fn title(n: &Notification) -> String {
    let firing = n.alerts.iter().filter(|a| a.status == "firing").count();
    let count = if n.status == "firing" {
        firing
    } else {
        n.alerts.len()
    };
    let name = n
        .common_labels
        .get("alertname")
        .and_then(Value::as_str)
        .or_else(|| n.alerts.first().map(Alert::alertname))
        .unwrap_or("alerts");
    format!("[{}:{count}] {name}", n.status.to_uppercase())
}

fn describe(a: &Alert) -> String {
    let summary = [a.annotation("summary"), a.annotation("description")]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let severity = match a.severity() {
        "" => String::new(),
        s => format!(" ({s})"),
    };
    let emoji = if a.status == "firing" {
        ":red_circle:"
    } else {
        ":large_green_circle:"
    };
    let mut line = format!("{emoji} *{}*{severity}", a.alertname());
    if !summary.is_empty() {
        line.push_str(": ");
        line.push_str(summary);
    }
    if !a.generator_url.is_empty() {
        line.push_str(&format!(" <{}|source>", a.generator_url));
    }
    line
}

/// A Slack message (incoming webhook or `chat.postMessage` body).
pub fn slack(n: &Notification) -> Value {
    let title = title(n);
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&title, SLACK_HEADER) },
    })];
    let listed: Vec<String> = n.alerts.iter().take(SLACK_ALERTS).map(describe).collect();
    let mut body = listed.join("\n");
    let more = n.alerts.len().saturating_sub(SLACK_ALERTS) as u64 + n.truncated;
    if more > 0 {
        body.push_str(&format!("\n…and {more} more"));
    }
    if !body.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": cut(&body, SLACK_SECTION) },
        }));
    }
    let mut context = format!("receiver {}", n.receiver);
    if !n.external_url.is_empty() {
        context = format!("<{}|Alertmanager> · {context}", n.external_url);
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": context }],
    }));
    json!({ "text": title, "blocks": blocks })
}

/// PagerDuty's four severities from the `severity` label; unknown or absent is `error`.
pub fn pagerduty_severity(label: &str) -> &'static str {
    match label.to_ascii_lowercase().as_str() {
        "critical" | "page" | "emergency" | "fatal" => "critical",
        "warning" | "warn" | "minor" => "warning",
        "info" | "informational" | "none" | "low" => "info",
        _ => "error",
    }
}

/// The same for an alert's trigger and its resolve, and different for the same alert in two
/// groups: sha256 of the group key and the fingerprint.
pub fn dedup_key(n: &Notification, a: &Alert) -> String {
    let mut h = Sha256::new();
    h.update(n.group_key.as_bytes());
    h.update(b"\n");
    h.update(a.fingerprint.as_bytes());
    hex::encode(h.finalize())
}

/// A PagerDuty Events API v2 event for one alert.
pub fn pagerduty(n: &Notification, a: &Alert, routing_key: &str) -> Value {
    let dedup_key = dedup_key(n, a);
    if a.status != "firing" {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let summary = match a.annotation("summary") {
        "" => a.alertname().to_string(),
        s => format!("{}: {s}", a.alertname()),
    };
    let source = [a.label("instance"), a.label("job")]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("alertmanager");
    let mut event = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": cut(&summary, PD_SUMMARY),
            "source": source,
            "severity": pagerduty_severity(a.severity()),
            "group": a.alertname(),
            "custom_details": {
                "labels": a.labels,
                "annotations": a.annotations,
                "receiver": n.receiver,
            },
        },
        "client": "Hookgate",
    });
    if !a.starts_at.is_empty() {
        event["payload"]["timestamp"] = json!(a.starts_at);
    }
    if !a.label("job").is_empty() {
        event["payload"]["component"] = json!(a.label("job"));
    }
    if !a.generator_url.is_empty() {
        event["links"] = json!([{ "href": a.generator_url, "text": "Alert source" }]);
    }
    if !n.external_url.is_empty() {
        event["client_url"] = json!(n.external_url);
    }
    event
}
