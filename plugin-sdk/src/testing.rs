//! Run a plugin natively, the way the gateway sequences it, under plain `cargo test`.
//!
//! ```
//! use hookgate_plugin_sdk::{prelude::*, testing};
//!
//! struct Echo;
//! impl Plugin for Echo {
//!     fn manifest() -> Manifest { Manifest::new("echo", "1.0.0") }
//!     fn handle(req: Request) -> Result<Outcome, Rejection> {
//!         Ok(Outcome::status(200).body(req.body))
//!     }
//! }
//!
//! let out = testing::call::<Echo>(Request::post("/hooks/echo").with_body("hi")).unwrap();
//! assert_eq!(out.body_text(), "hi");
//! ```

use crate::Plugin;
use crate::manifest::MetricKind;
use crate::types::{Outcome, Rejection, Request, SampleOp};

/// Calls `handshake` (on the head only) and then `handle`, as a request with a valid
/// signature goes through the gateway, then checks the outcome as the gateway would: panics if a sample names an undeclared
/// family, has the wrong number of label values or an op that does not fit the family's
/// kind, or if a delivery's event type is undeclared. A plugin test that passes here does
/// not fail on those rules in production.
pub fn call<P: Plugin>(req: Request) -> Result<Outcome, Rejection> {
    let manifest = P::manifest();
    let head = Request {
        body: Vec::new(),
        ..req.clone()
    };
    P::handshake(&head)?;
    let req_settings = req.settings.clone();
    let outcome = P::handle(req)?;
    for sample in &outcome.samples {
        let family = manifest
            .family_named(&sample.family)
            .unwrap_or_else(|| panic!("sample for undeclared metric family '{}'", sample.family));
        // Labels named by an operator setting follow the declared ones, as the gateway adds them.
        let mut labels = family.label_names.clone();
        if let Some(value) = family
            .label_names_setting
            .as_ref()
            .and_then(|s| req_settings.iter().find(|(k, _)| k == s))
            .map(|(_, v)| v)
        {
            labels.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        assert_eq!(
            labels.len(),
            sample.label_values.len(),
            "family '{}' has labels {:?}, sample gave {:?}",
            family.name,
            labels,
            sample.label_values
        );
        let fits = matches!(
            (family.kind, sample.op),
            (MetricKind::Counter, SampleOp::Add(v)) if v >= 0.0
        ) || matches!(
            (family.kind, sample.op),
            (
                MetricKind::Gauge,
                SampleOp::Set(_) | SampleOp::Add(_) | SampleOp::SetIfAbsent(_)
            ) | (MetricKind::Histogram, SampleOp::Observe(_))
        );
        assert!(
            fits,
            "{:?} does not fit {:?} family '{}'",
            sample.op, family.kind, family.name
        );
    }
    for delivery in &outcome.deliveries {
        // Declared types are patterns as targets subscribe: exact, `prefix.*` or `*`.
        let declared = manifest
            .event_types
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => delivery.event_type.starts_with(prefix),
                None => *p == delivery.event_type,
            });
        assert!(
            declared,
            "delivery with undeclared event type '{}'",
            delivery.event_type
        );
    }
    Ok(outcome)
}
