//! `[[schedules]]`: deliveries sent on a cron schedule rather than by a sender.

use serde::Deserialize;
use std::str::FromStr;

/// One schedule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Its name; deliveries carry the event type `schedule.<name>`.
    pub name: String,
    /// When, in UTC: five fields (`0 9 * * MON-FRI`), or six with seconds first.
    pub cron: String,
    /// The target that gets the delivery.
    pub target: String,
    /// A minijinja template of the body: `name`, `now` (RFC 3339) and `now_ms` (unix ms).
    pub body: String,
}

impl ScheduleConfig {
    /// The parsed cron expression.
    pub fn cron(&self) -> Result<croner::Cron, String> {
        croner::Cron::from_str(&self.cron).map_err(|e| format!("{:?}: {e}", self.cron))
    }

    /// Checks what serde cannot; errors name the key under `schedules[i]`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.is_empty() {
            return Err(("name", "must not be empty".into()));
        }
        self.cron().map_err(|m| ("cron", m))?;
        minijinja::Environment::new()
            .template_from_str(&self.body)
            .map_err(|e| ("body", e.to_string()))?;
        Ok(())
    }
}
