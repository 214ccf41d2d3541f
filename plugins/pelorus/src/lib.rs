//! A drop-in for the Pelorus webhook exporter (dora-metrics/pelorus, `exporters/webhook`).
//!
//! Senders keep their User-Agent (`Pelorus-Webhook/…`), `X-Pelorus-Event`, payloads and
//! signatures; Prometheus keeps the same families, labels and values, so Pelorus dashboards
//! work unchanged. The checks run in the exporter's order: sender (routing, 412), headers
//! (handshake, 400 "Improper headers."), signature (host, 400 "Non existing signature." /
//! "Invalid signature."), payload (422 "Invalid payload."). Where Hookgate deliberately
//! differs from the exporter, the README lists it.

mod fields;

use fields::{FieldError, Fields};
use hookgate_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The plugin.
pub struct Pelorus;

/// Values of `X-Pelorus-Event`.
const EVENTS: [&str; 4] = ["committime", "deploytime", "failure", "ping"];

const COMMIT: &str = "commit_timestamp";
const DEPLOY: &str = "deploy_timestamp";
const FAILURE_CREATED: &str = "failure_creation_timestamp";
const FAILURE_RESOLVED: &str = "failure_resolution_timestamp";
const RECEIVED: &str = "webhook_received_total";
const PROCESSED: &str = "webhook_processed_total";

impl Plugin for Pelorus {
    fn manifest() -> Manifest {
        Manifest::new("pelorus", env!("CARGO_PKG_VERSION"))
            .description("Pelorus webhook exporter: committime, deploytime and failure events as DORA metrics")
            .path("/pelorus/webhook")
            .user_agent_prefix("Pelorus-Webhook/")
            .content_type("application/json")
            .gauge(COMMIT, "Commit timestamp", &["app", "namespace", "image_sha", "commit_hash"])
            .gauge(DEPLOY, "Deployment timestamp", &["app", "namespace", "image_sha"])
            .gauge(FAILURE_CREATED, "Failure Creation Timestamp", &["app", "failure_id"])
            .gauge(FAILURE_RESOLVED, "Failure Resolution Timestamp", &["app", "failure_id"])
            .counter(RECEIVED, "Number of received webhooks", &[])
            .counter(PROCESSED, "Number of processed webhooks", &[])
            .signature(Scheme::HubSha256Json)
            .on_missing_signature(400, "Non existing signature.")
            .on_invalid_signature(400, "Invalid signature.")
            .handshake()
    }

    fn handshake(req: &Request) -> Result<(), Rejection> {
        let mut errors = Vec::new();
        match req.header("x-pelorus-event") {
            None => errors.push(header_error("x-pelorus-event", "field required".into())),
            Some(e) if !EVENTS.contains(&e) => errors.push(header_error(
                "x-pelorus-event",
                format!(
                    "value is not a valid enumeration member; permitted: {}",
                    quoted(&EVENTS)
                ),
            )),
            Some(_) => {}
        }
        // The exporter checks the signature's format even when it has no secret.
        if let Some(Err(msg)) = req
            .header("x-hub-signature-256")
            .map(check_signature_format)
        {
            errors.push(header_error("x-hub-signature-256", msg.into()));
        }
        if errors.is_empty() {
            return Ok(());
        }
        Err(Rejection::bad_request("Improper headers.")
            .with_json(&json!({ "detail": "Improper headers.", "errors": errors })))
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let event = req.header("x-pelorus-event").unwrap_or_default();
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            invalid_payload(vec![body_error(format!("body is not valid JSON: {e}"))])
        })?;
        let Value::Object(object) = &body else {
            return Err(invalid_payload(vec![body_error(
                "value is not a valid dict".into(),
            )]));
        };
        if event == "ping" {
            return Ok(Outcome::json(200, &json!({ "detail": "pong" }))
                .sample(Sample::inc(RECEIVED, NO_LABELS)));
        }

        let now = i64::try_from(req.received_at).unwrap_or(i64::MAX);
        let mut fields = Fields::new(object);
        // Pelorus labels `app` as "/name/" (provider_common.format_app_name).
        let app = fields.string_max("app", 200).map(|a| format_app_name(&a));
        let sample = match event {
            "committime" => {
                let timestamp = fields.timestamp("timestamp", None);
                let image_sha = fields.image_sha("image_sha");
                let namespace = fields.string_max("namespace", 63);
                let commit = fields.commit_hash("commit_hash");
                fields.errors.is_empty().then(|| {
                    Sample::set_if_absent(
                        COMMIT,
                        [app, namespace, image_sha, commit].map(Option::unwrap_or_default),
                        timestamp.unwrap_or_default() as f64,
                    )
                })
            }
            "deploytime" => {
                let timestamp = fields.timestamp("timestamp", Some(now));
                let image_sha = fields.image_sha("image_sha");
                let namespace = fields.string_max("namespace", 63);
                fields.errors.is_empty().then(|| {
                    Sample::set_if_absent(
                        DEPLOY,
                        [app, namespace, image_sha].map(Option::unwrap_or_default),
                        timestamp.unwrap_or_default() as f64,
                    )
                })
            }
            _ => {
                let timestamp = fields.timestamp("timestamp", Some(now));
                let failure_id = fields.string("failure_id");
                let family = match fields.one_of("failure_event", &["created", "resolved"]) {
                    Some("created") => FAILURE_CREATED,
                    _ => FAILURE_RESOLVED,
                };
                fields.errors.is_empty().then(|| {
                    Sample::set_if_absent(
                        family,
                        [app, failure_id].map(Option::unwrap_or_default),
                        timestamp.unwrap_or_default() as f64,
                    )
                })
            }
        };
        let Some(sample) = sample else {
            return Err(invalid_payload(
                fields.errors.iter().map(field_error).collect(),
            ));
        };
        Ok(Outcome::json(
            202,
            &json!({ "http_response": "Webhook Received", "http_response_code": 200 }),
        )
        .sample(sample)
        .sample(Sample::inc(RECEIVED, NO_LABELS))
        .sample(Sample::inc(PROCESSED, NO_LABELS)))
    }
}

export_plugin!(Pelorus);

const NO_LABELS: [&str; 0] = [];

/// "/name/", as Pelorus formats application names.
fn format_app_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    if !name.starts_with('/') {
        out.push('/');
    }
    out.push_str(name);
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// `sha256=` followed by 64 hex characters, as the exporter's header model requires.
fn check_signature_format(value: &str) -> Result<(), &'static str> {
    let Some((algorithm, signature)) = value.split_once('=') else {
        return Err("Signature should be in format 'sha256=' followed by 64 characters");
    };
    if algorithm != "sha256" {
        return Err("Signature should use sha256 algorithm");
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("Signature should be in format 'sha256=' followed by 64 hex characters");
    }
    Ok(())
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn header_error(name: &str, msg: String) -> Value {
    json!({ "loc": ["header", name], "msg": msg })
}

fn body_error(msg: String) -> Value {
    json!({ "loc": ["body"], "msg": msg })
}

fn field_error(e: &FieldError) -> Value {
    json!({ "loc": ["body", e.field], "msg": e.message })
}

fn invalid_payload(errors: Vec<Value>) -> Rejection {
    let first = errors
        .first()
        .map(|e| {
            let field = e["loc"]
                .as_array()
                .and_then(|l| l.last())
                .and_then(Value::as_str)
                .unwrap_or("body");
            format!(
                "Invalid payload: {field}: {}",
                e["msg"].as_str().unwrap_or_default()
            )
        })
        .unwrap_or_else(|| "Invalid payload.".into());
    Rejection::unprocessable(first)
        .with_json(&json!({ "detail": "Invalid payload.", "errors": errors }))
}
