//! Runs `[[schedules]]`: at each time its cron expression names, one delivery to its target.
//! A time missed while the gateway was down is not made up for, as with cron.

use super::Deliveries;
use crate::config::ScheduleConfig;
use crate::outcome::Delivery;
use chrono::{Timelike, Utc};
use std::sync::Arc;

/// Starts one task per schedule.
pub fn spawn(d: &Arc<Deliveries>, schedules: &[ScheduleConfig]) {
    for s in schedules {
        // Validated with the config; a failure here would be a bug, so it is logged loudly.
        let cron = match s.cron() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(schedule = %s.name, "cron: {e}");
                continue;
            }
        };
        let mut env = minijinja::Environment::new();
        if let Err(e) = env.add_template_owned("body", s.body.clone()) {
            tracing::error!(schedule = %s.name, "body: {e}");
            continue;
        }
        let (d, s) = (d.clone(), s.clone());
        tokio::spawn(async move {
            loop {
                let now = Utc::now();
                // croner keeps the sub-second part of its start; times are whole seconds.
                let second = now.with_nanosecond(0).unwrap_or(now);
                let next = match cron.find_next_occurrence(&second, false) {
                    Ok(next) => next,
                    Err(e) => {
                        tracing::warn!(schedule = %s.name, "no next time, the schedule stops: {e}");
                        return;
                    }
                };
                tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
                fire(&d, &s, &env, next).await;
            }
        });
    }
}

async fn fire(
    d: &Deliveries,
    s: &ScheduleConfig,
    env: &minijinja::Environment<'_>,
    at: chrono::DateTime<Utc>,
) {
    let rendered = env.get_template("body").and_then(|t| {
        t.render(minijinja::context! {
            name => s.name,
            now => at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            now_ms => at.timestamp_millis(),
        })
    });
    let body = match rendered {
        Ok(b) => b.into_bytes(),
        Err(e) => {
            tracing::error!(schedule = %s.name, "body template failed, nothing sent: {e}");
            return;
        }
    };
    let delivery = Delivery {
        event_type: format!("schedule.{}", s.name),
        target: Some(s.target.clone()),
        body,
        headers: Vec::new(),
        // Stored once per time, whatever fires it twice.
        idempotency_key: Some(format!("schedule:{}@{}", s.name, at.timestamp_millis())),
    };
    match d.enqueue("(schedule)", &[delivery]).await {
        Ok(()) => {
            tracing::info!(schedule = %s.name, target = %s.target, "scheduled delivery queued")
        }
        Err(e) => tracing::error!(schedule = %s.name, "scheduled delivery not stored: {e}"),
    }
}
