//! `relay`: a generic plugin for JSON senders without a plugin of their own. The body is
//! forwarded unchanged as a delivery; its event type comes from a header or a JSON pointer
//! into the body, and routes it to the targets subscribed to that type (or to one named
//! target). Events are counted by type unless turned off.

use hookgate_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The plugin.
pub struct Relay;

const EVENTS: &str = "relay_events_total";
/// Header read for the event type unless `event_header` names another.
const DEFAULT_HEADER: &str = "x-event-type";
/// Longest event type accepted.
const MAX_EVENT_TYPE: usize = 128;

impl Plugin for Relay {
    fn manifest() -> Manifest {
        Manifest::new("relay", env!("CARGO_PKG_VERSION"))
            .description("Forwards any JSON webhook as a delivery, routed by its event type")
            .path("/relay")
            .content_type("application/json")
            .counter(EVENTS, "Events relayed, by event type", &["event_type"])
            // The sender names the type.
            .event_type("*")
            .setting(
                "event_header",
                "Header that carries the event type (default X-Event-Type)",
                false,
            )
            .setting(
                "event_pointer",
                "JSON pointer to the event type in the body (e.g. /type), used when the header is absent",
                false,
            )
            .setting(
                "target",
                "Send every event to this target instead of the subscribed ones",
                false,
            )
            .setting("count", "\"false\" turns the per-type counter off", false)
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let body: Value = serde_json::from_slice(&req.body)
            .map_err(|e| Rejection::bad_request(format!("body is not JSON: {e}")))?;
        let event_type = event_type(&req, &body)?;
        let mut delivery = Delivery::new(event_type.clone(), req.body.clone());
        if let Some(target) = req.setting("target") {
            delivery = delivery.to_target(target);
        }
        // A sender's own delivery id makes its retries one delivery downstream.
        if let Some(key) = req
            .header("idempotency-key")
            .or_else(|| req.header("webhook-id"))
        {
            delivery = delivery.idempotency_key(key);
        }
        let mut out = Outcome::json(202, &json!({ "accepted": true, "event_type": event_type }))
            .delivery(delivery);
        if req.setting("count") != Some("false") {
            out = out.sample(Sample::inc(EVENTS, [event_type]));
        }
        Ok(out)
    }
}

/// The event type: from the header, else from the JSON pointer; checked to be a short name.
fn event_type(req: &Request, body: &Value) -> Result<String, Rejection> {
    let header = req.setting("event_header").unwrap_or(DEFAULT_HEADER);
    let pointer = req.setting("event_pointer");
    let found = match (req.header(header), pointer) {
        (Some(value), _) => value.to_string(),
        (None, Some(pointer)) => match body.pointer(pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(Rejection::unprocessable(format!(
                    "the event type at {pointer} must be a string, not {other}"
                )));
            }
            None => {
                return Err(Rejection::unprocessable(format!(
                    "no event type: header '{header}' is missing and the body has nothing at {pointer}"
                )));
            }
        },
        (None, None) => {
            return Err(Rejection::bad_request(format!(
                "header '{header}' is required: it names the event type"
            )));
        }
    };
    let valid = !found.is_empty()
        && found.len() <= MAX_EVENT_TYPE
        && found
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-/".contains(&b));
    if !valid {
        return Err(Rejection::unprocessable(format!(
            "event type {found:?} must be 1 to {MAX_EVENT_TYPE} letters, digits or . _ : - /"
        )));
    }
    Ok(found)
}

export_plugin!(Relay);
