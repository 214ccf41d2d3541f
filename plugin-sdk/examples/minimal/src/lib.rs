//! The smallest useful plugin: counts requests by their `X-Event` header and answers 200.

use hookgate_plugin_sdk::prelude::*;
use serde_json::json;

/// The plugin.
pub struct Minimal;

impl Plugin for Minimal {
    fn manifest() -> Manifest {
        Manifest::new("minimal", env!("CARGO_PKG_VERSION"))
            .description("Counts requests by X-Event header")
            .counter(
                "minimal_events_total",
                "Events received by the minimal plugin",
                &["event"],
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let event = req
            .header("x-event")
            .ok_or_else(|| Rejection::bad_request("header 'X-Event' is required"))?
            .to_string();
        Ok(Outcome::json(200, &json!({ "received": event }))
            .sample(Sample::inc("minimal_events_total", [event])))
    }
}

export_plugin!(Minimal);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_plugin_sdk::testing;

    #[test]
    fn counts_the_event() {
        let out = testing::call::<Minimal>(
            Request::post("/hooks/minimal").with_header("X-Event", "push"),
        )
        .expect("accepted");
        assert_eq!(out.body_text(), r#"{"received":"push"}"#);
        assert_eq!(
            out.samples,
            vec![Sample::inc("minimal_events_total", ["push"])]
        );
    }

    #[test]
    fn rejects_a_missing_header() {
        let err = testing::call::<Minimal>(Request::post("/hooks/minimal")).expect_err("rejected");
        assert_eq!(err.status, 400);
    }
}
