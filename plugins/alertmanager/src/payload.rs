//! The webhook payload, version 4, read field by field so that a refusal names the field.

use hookgate_plugin_sdk::prelude::*;
use serde_json::{Map, Value};

/// One notification: a group of alerts.
#[derive(Debug, Clone)]
pub struct Notification {
    /// `firing` or `resolved` (the group's).
    pub status: String,
    /// Receiver name in Alertmanager's config.
    pub receiver: String,
    /// Identifies the group across notifications.
    pub group_key: String,
    /// Labels the group shares.
    pub common_labels: Map<String, Value>,
    /// Alertmanager's URL.
    pub external_url: String,
    /// Alerts in the group.
    pub alerts: Vec<Alert>,
    /// Alerts left out because of `max_alerts`.
    pub truncated: u64,
}

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels; `alertname` is always there.
    pub labels: Map<String, Value>,
    /// Its annotations (`summary`, `description`…).
    pub annotations: Map<String, Value>,
    /// RFC 3339.
    pub starts_at: String,
    /// The rule's URL.
    pub generator_url: String,
    /// Stable identity of the label set.
    pub fingerprint: String,
}

fn unprocessable(field: &str, why: &str) -> Rejection {
    let message = format!("{field}: {why}");
    Rejection::unprocessable(message.clone())
        .with_json(&serde_json::json!({ "detail": message, "field": field }))
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Rejection> {
    v.as_object()
        .ok_or_else(|| unprocessable(field, "must be an object"))
}

fn text(o: &Map<String, Value>, key: &str, field: &str) -> Result<String, Rejection> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(unprocessable(field, "must be a string")),
        None => Err(unprocessable(field, "is required")),
    }
}

fn optional_text(o: &Map<String, Value>, key: &str) -> String {
    o.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn status(o: &Map<String, Value>, field: &str) -> Result<String, Rejection> {
    let s = text(o, "status", field)?;
    if s == "firing" || s == "resolved" {
        Ok(s)
    } else {
        Err(unprocessable(field, "must be \"firing\" or \"resolved\""))
    }
}

/// A string map (labels, annotations); absent is empty.
fn string_map(
    o: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Map<String, Value>, Rejection> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(v) => Ok(object(v, field)?.clone()),
    }
}

impl Notification {
    /// Parses and checks a body.
    pub fn parse(body: &[u8]) -> Result<Self, Rejection> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| Rejection::bad_request(format!("body is not valid JSON: {e}")))?;
        let o = object(&v, "(body)")?;
        let version = text(o, "version", "version")?;
        if version != "4" {
            return Err(unprocessable(
                "version",
                &format!("payload version {version:?} is not supported (only \"4\")"),
            ));
        }
        let alerts = match o.get("alerts") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err(unprocessable("alerts", "must be an array")),
            None => return Err(unprocessable("alerts", "is required")),
        };
        let alerts = alerts
            .iter()
            .enumerate()
            .map(|(i, a)| Alert::parse(a, &format!("alerts[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Notification {
            status: status(o, "status")?,
            receiver: text(o, "receiver", "receiver")?,
            group_key: text(o, "groupKey", "groupKey")?,
            common_labels: string_map(o, "commonLabels", "commonLabels")?,
            external_url: optional_text(o, "externalURL"),
            alerts,
            truncated: o
                .get("truncatedAlerts")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        })
    }
}

impl Alert {
    fn parse(v: &Value, at: &str) -> Result<Self, Rejection> {
        let o = object(v, at)?;
        let labels = string_map(o, "labels", &format!("{at}.labels"))?;
        match labels.get("alertname") {
            Some(Value::String(_)) => {}
            _ => {
                return Err(unprocessable(
                    &format!("{at}.labels.alertname"),
                    "is required (a string)",
                ));
            }
        }
        Ok(Alert {
            status: status(o, &format!("{at}.status"))?,
            annotations: string_map(o, "annotations", &format!("{at}.annotations"))?,
            labels,
            starts_at: optional_text(o, "startsAt"),
            generator_url: optional_text(o, "generatorURL"),
            fingerprint: text(o, "fingerprint", &format!("{at}.fingerprint"))?,
        })
    }

    /// The `alertname` label.
    pub fn alertname(&self) -> &str {
        self.label("alertname")
    }

    /// The `severity` label, or "".
    pub fn severity(&self) -> &str {
        self.label("severity")
    }

    /// A label's value, or "".
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// An annotation's value, or "".
    pub fn annotation(&self, name: &str) -> &str {
        self.annotations
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}
