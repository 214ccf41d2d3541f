//! `alertmanager`: Prometheus Alertmanager's webhook (payload version 4). Counts
//! notifications, tracks which alerts fire, and turns each notification into deliveries
//! ready for Slack (one message per notification) and PagerDuty Events API v2 (one event per
//! alert, deduplicated by group and fingerprint so that resolve closes what trigger opened).

mod payload;
mod render;

pub use render::pagerduty_severity;

use hookgate_plugin_sdk::prelude::*;
use payload::Notification;
use serde_json::json;

/// The plugin.
pub struct Alertmanager;

const NOTIFICATIONS: &str = "alertmanager_notifications_total";
const FIRING: &str = "alertmanager_alert_firing";

impl Plugin for Alertmanager {
    fn manifest() -> Manifest {
        Manifest::new("alertmanager", env!("CARGO_PKG_VERSION"))
            .description(
                "Alertmanager webhook: firing alerts as metrics, Slack and PagerDuty deliveries",
            )
            .user_agent_prefix("Alertmanager/")
            .path("/alertmanager")
            .content_type("application/json")
            .counter(
                NOTIFICATIONS,
                "Alertmanager notifications received, by receiver and status",
                &["receiver", "status"],
            )
            .gauge(
                FIRING,
                "1 while an alert fires, 0 once resolved; sum by (alertname, severity) counts them",
                &["alertname", "severity", "fingerprint"],
            )
            .event_type("alert.triggered")
            .event_type("alert.resolved")
            .setting(
                "slack_target",
                "Target for the Slack messages (default: every target subscribed to alert.*)",
                false,
            )
            .setting(
                "pagerduty_target",
                "Target for PagerDuty Events API v2 events (none sent without it)",
                false,
            )
            .setting(
                "pagerduty_routing_key",
                "The PagerDuty integration's routing key (required with pagerduty_target)",
                false,
            )
    }

    fn handle(req: Request) -> Result<Outcome, Rejection> {
        let n = Notification::parse(&req.body)?;
        let pagerduty = match (
            req.setting("pagerduty_target"),
            req.setting("pagerduty_routing_key"),
        ) {
            (Some(target), Some(key)) => Some((target, key)),
            (Some(_), None) => {
                // The operator's mistake, not the sender's: the sender still gets its answer
                // and Slack its message.
                log(
                    Level::Error,
                    "settings name a pagerduty_target but no pagerduty_routing_key: no PagerDuty events sent",
                );
                None
            }
            _ => None,
        };
        let mut out =
            Outcome::json(200, &json!({ "status": "ok", "alerts": n.alerts.len() })).sample(
                Sample::inc(NOTIFICATIONS, [n.receiver.as_str(), n.status.as_str()]),
            );
        for alert in &n.alerts {
            let firing = alert.status == "firing";
            out = out.sample(Sample::set(
                FIRING,
                [
                    alert.alertname(),
                    alert.severity(),
                    alert.fingerprint.as_str(),
                ],
                if firing { 1.0 } else { 0.0 },
            ));
            if let Some((target, key)) = pagerduty {
                out = out.delivery(
                    Delivery::json(event_type(firing), &render::pagerduty(&n, alert, key))
                        .to_target(target),
                );
            }
        }
        let mut slack = Delivery::json(event_type(n.status == "firing"), &render::slack(&n));
        if let Some(target) = req.setting("slack_target") {
            slack = slack.to_target(target);
        }
        Ok(out.delivery(slack))
    }
}

fn event_type(firing: bool) -> &'static str {
    if firing {
        "alert.triggered"
    } else {
        "alert.resolved"
    }
}

export_plugin!(Alertmanager);
