//! Adversarial guests cost only their own request.

use hookgate_e2e::{Gateway, Options};
use std::time::Duration;

fn gateway(extra: &str) -> Gateway {
    Gateway::start(Options {
        plugins: vec![
            ("fixture-adversary", "adversary.wasm"),
            ("pelorus", "pelorus.wasm"),
        ],
        config: format!("[plugins.adversary]\nmemory = \"16MiB\"\n{extra}"),
        ..Options::default()
    })
}

fn call(g: &Gateway, mode: &str) -> hookgate_e2e::HttpResponse {
    g.post("/hooks/adversary", &[("X-Mode", mode)], b"{}")
}

fn assert_healthy(g: &Gateway) {
    let r = call(g, "ok");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "ok ok"),
        "the next request is served normally"
    );
    let r = g.post(
        "/pelorus/webhook",
        &[
            ("User-Agent", "Pelorus-Webhook/t"),
            ("X-Pelorus-Event", "ping"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200, "other plugins are unaffected");
}

fn assert_plugin_error(r: &hookgate_e2e::HttpResponse, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let body = r.json();
    assert_eq!(body["plugin"], "adversary", "{body}");
    assert_eq!(body["error"], error, "{body}");
}

#[test]
fn an_infinite_loop_times_out_with_503_and_the_gateway_serves_on() {
    let g = gateway("");
    assert_plugin_error(&call(&g, "loop"), 503, "timeout");
    assert_healthy(&g);
    assert_eq!(
        g.metric(r#"hookgate_plugin_invocations_total{plugin="adversary",result="timeout"}"#),
        Some(1.0)
    );
    assert!(
        g.wait_for_log("deadline", Duration::from_secs(5)),
        "logged: {}",
        g.logs()
    );
}

#[test]
fn a_loop_does_not_block_other_requests() {
    let g = gateway("timeout = \"2s\"\n");
    let addr = g.addr;
    let looping = std::thread::spawn(move || {
        hookgate_e2e::request(addr, "POST", "/hooks/adversary", &[("X-Mode", "loop")], b"")
    });
    // While the loop runs (up to 2 s), twenty other requests complete.
    for _ in 0..20 {
        assert_eq!(call(&g, "ok").status, 200);
    }
    assert!(
        !looping.is_finished(),
        "the loop was still running while the others were served"
    );
    assert_eq!(looping.join().expect("thread").status, 503);
}

#[test]
fn a_memory_hog_hits_its_cap_with_500() {
    let g = gateway("");
    assert_plugin_error(&call(&g, "hog"), 500, "memory_cap");
    assert_healthy(&g);
    assert_eq!(
        g.metric(r#"hookgate_plugin_invocations_total{plugin="adversary",result="memory_cap"}"#),
        Some(1.0)
    );
}

#[test]
fn a_panic_is_a_trap_with_500_and_its_message_is_logged() {
    let g = gateway("");
    assert_plugin_error(&call(&g, "panic"), 500, "trap");
    assert_healthy(&g);
    assert!(
        g.wait_for_log("adversary panicked on purpose", Duration::from_secs(5)),
        "the guest's panic message reaches the log: {}",
        g.logs()
    );
    assert_eq!(
        g.metric(r#"hookgate_plugin_invocations_total{plugin="adversary",result="trap"}"#),
        Some(1.0)
    );
}

#[test]
fn output_floods_are_capped() {
    let g = gateway(
        "timeout = \"5s\"\nmax_samples = 1000\nmax_response_bytes = \"1MiB\"\nmax_log_bytes = \"4KiB\"\n",
    );
    // Printing is bounded, not fatal.
    assert_eq!(call(&g, "print").status, 200);
    assert!(
        g.wait_for_log("over its log budget", Duration::from_secs(5)),
        "{}",
        g.logs()
    );
    assert!(
        !g.logs().contains("line 4999"),
        "output past the budget is dropped"
    );
    assert_plugin_error(&call(&g, "big-body"), 500, "output_cap");
    assert_plugin_error(&call(&g, "many-samples"), 500, "output_cap");
    assert_healthy(&g);
    assert_eq!(
        g.metric(r#"hookgate_plugin_invocations_total{plugin="adversary",result="output_cap"}"#),
        Some(2.0)
    );
    assert_eq!(
        g.metric(r#"adversary_calls_total{mode="many"}"#),
        None,
        "nothing of a refused outcome is applied"
    );
}

#[test]
fn samples_that_break_the_manifest_are_plugin_errors() {
    let g = gateway("");
    for mode in ["undeclared-family", "wrong-labels"] {
        let r = call(&g, mode);
        assert_eq!(r.status, 500, "{}", r.text());
        assert_eq!(r.json()["plugin"], "adversary");
    }
    assert_plugin_error(&call(&g, "bad-reject"), 500, "bad_output");
    assert_eq!(
        g.metric(r#"hookgate_plugin_sample_errors_total{plugin="adversary"}"#),
        Some(2.0)
    );
    assert_healthy(&g);
}

#[test]
fn series_over_the_cap_are_dropped_and_counted() {
    let g = gateway("max_series = 3\n");
    for id in 0..5 {
        let id = id.to_string();
        let r = g.post(
            "/hooks/adversary",
            &[("X-Mode", "series"), ("X-Id", &id)],
            b"",
        );
        assert_eq!(r.status, 200);
    }
    let m = g.metrics();
    let kept = (0..5)
        .filter(|id| {
            hookgate_e2e::metric_value(&m, &format!(r#"adversary_calls_total{{mode="{id}"}}"#))
                .is_some()
        })
        .count();
    assert_eq!(kept, 3);
    assert_eq!(
        hookgate_e2e::metric_value(
            &m,
            r#"hookgate_plugin_series_dropped_total{family="adversary_calls_total",plugin="adversary"}"#
        ),
        Some(2.0)
    );
}

#[test]
fn no_state_passes_between_requests() {
    // The fixture counts its calls in a static: a reused instance would answer "call 2".
    let g = gateway("");
    for _ in 0..3 {
        assert_eq!(call(&g, "state").text(), "call 1");
    }
    // A trap leaves nothing behind, and many calls after it reuse pool slots without running out.
    assert_eq!(call(&g, "panic").status, 500);
    for _ in 0..600 {
        assert_eq!(call(&g, "ok").status, 200);
    }
    assert_eq!(g.metric(r#"adversary_calls_total{mode="ok"}"#), Some(600.0));
}

#[test]
fn unrouted_deliveries_are_counted_not_dropped_silently() {
    let g = gateway("");
    let r = g.post("/hooks/adversary", &[("X-Mode", "deliver")], br#"{"x":1}"#);
    assert_eq!(r.status, 202);
    assert_eq!(
        g.metric(
            r#"hookgate_deliveries_unrouted_total{event_type="test.event",plugin="adversary"}"#
        ),
        Some(1.0)
    );
    assert!(
        g.wait_for_log("delivery not routed", Duration::from_secs(5)),
        "{}",
        g.logs()
    );
}
