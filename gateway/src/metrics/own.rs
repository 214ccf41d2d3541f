//! The gateway's own metric families, every one typed here and registered once.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every `hookgate_*` family.
#[derive(Clone)]
pub struct GatewayMetrics {
    /// `hookgate_requests_total{plugin,status}`: every answered request.
    pub requests: IntCounterVec,
    /// `hookgate_request_duration_seconds{plugin}`: time from headers to answer.
    pub request_duration: HistogramVec,
    /// `hookgate_plugin_invocations_total{plugin,result}`: ok, rejected, trap, timeout, …
    pub invocations: IntCounterVec,
    /// `hookgate_signature_failures_total{plugin,reason}`: missing, malformed, mismatch.
    pub signature_failures: IntCounterVec,
    /// `hookgate_plugin_sample_errors_total{plugin}`: samples that broke the manifest.
    pub sample_errors: IntCounterVec,
    /// `hookgate_plugin_series_dropped_total{plugin,family}`: series over the cap.
    pub series_dropped: IntCounterVec,
    /// `hookgate_deliveries_unrouted_total{plugin,event_type}`: deliveries no target takes.
    pub deliveries_unrouted: IntCounterVec,
    /// `hookgate_duplicates_total{plugin}`: senders' repeats answered from the duplicate window.
    pub duplicates: IntCounterVec,
    /// `hookgate_plugins_loaded`: plugins serving now.
    pub plugins_loaded: IntGauge,
    /// `hookgate_plugin_reloads_total{plugin,result}`: loaded, error, removed.
    pub reloads: IntCounterVec,
    /// `hookgate_deliveries_total{target,result}`: delivered, retry, dead, disabled.
    pub deliveries: IntCounterVec,
    /// `hookgate_delivery_duration_seconds{target}`: one attempt.
    pub delivery_duration: HistogramVec,
    /// `hookgate_outbox_deliveries{state}`: pending, delivered, dead.
    pub outbox_deliveries: IntGaugeVec,
    /// `hookgate_target_state{target,state}`: 1 for the target's state.
    pub target_state: IntGaugeVec,
}

impl GatewayMetrics {
    /// Creates and registers every family.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntCounterVec> {
                let c = IntCounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "hookgate_request_duration_seconds",
                "Time from request headers to answer",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0,
            ]),
            &["plugin"],
        )?;
        registry.register(Box::new(request_duration.clone()))?;
        let delivery_duration = HistogramVec::new(
            HistogramOpts::new(
                "hookgate_delivery_duration_seconds",
                "Duration of one delivery attempt",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["target"],
        )?;
        registry.register(Box::new(delivery_duration.clone()))?;
        let gauge = |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntGaugeVec> {
            let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let outbox_deliveries = gauge(
            "hookgate_outbox_deliveries",
            "Deliveries in the outbox by state",
            &["state"],
        )?;
        let target_state = gauge(
            "hookgate_target_state",
            "1 for each target's current state",
            &["target", "state"],
        )?;
        let plugins_loaded =
            IntGauge::new("hookgate_plugins_loaded", "Plugins loaded and serving")?;
        registry.register(Box::new(plugins_loaded.clone()))?;
        Ok(GatewayMetrics {
            requests: counter(
                "hookgate_requests_total",
                "Requests answered, by plugin and HTTP status",
                &["plugin", "status"],
            )?,
            request_duration,
            invocations: counter(
                "hookgate_plugin_invocations_total",
                "Plugin calls by result (ok, rejected, trap, timeout, memory_cap, output_cap, bad_output, capacity)",
                &["plugin", "result"],
            )?,
            signature_failures: counter(
                "hookgate_signature_failures_total",
                "Requests refused by signature verification, by reason",
                &["plugin", "reason"],
            )?,
            sample_errors: counter(
                "hookgate_plugin_sample_errors_total",
                "Plugin samples for an undeclared family, with the wrong label count or an op that does not fit the family",
                &["plugin"],
            )?,
            series_dropped: counter(
                "hookgate_plugin_series_dropped_total",
                "New series dropped because the family reached its series cap",
                &["plugin", "family"],
            )?,
            deliveries_unrouted: counter(
                "hookgate_deliveries_unrouted_total",
                "Deliveries produced by plugins that no configured target takes",
                &["plugin", "event_type"],
            )?,
            duplicates: counter(
                "hookgate_duplicates_total",
                "Requests whose delivery id was already handled within the window, answered 200 unprocessed",
                &["plugin"],
            )?,
            plugins_loaded,
            reloads: counter(
                "hookgate_plugin_reloads_total",
                "Plugin file loads by result: loaded, error (the previous version keeps serving), removed",
                &["plugin", "result"],
            )?,
            deliveries: counter(
                "hookgate_deliveries_total",
                "Delivery attempts by target and result (delivered, retry, dead, disabled)",
                &["target", "result"],
            )?,
            delivery_duration,
            outbox_deliveries,
            target_state,
        })
    }
}
