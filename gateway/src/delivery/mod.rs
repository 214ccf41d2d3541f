//! Deliveries: plugins' forwarding actions, routed to targets, committed to the outbox before
//! the sender is answered, then sent by workers with retries. Knows targets and queued
//! deliveries, not plugins.

mod breaker;
mod outbox;
mod retention;
mod retry;
mod schedule;
mod secrets;
mod sign;
pub mod state;
mod target;
mod worker;

pub use outbox::{NewDelivery, Outbox, OutboxError};
pub use retry::{AttemptResult, Decision, Policy, decide, parse_retry_after};
pub use sign::SigningSecret;
pub use target::Target;

use crate::config::{Config, ConfigError, InitialState, subscribes};
use crate::metrics::GatewayMetrics;
use crate::outcome::Delivery;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// The delivery side of the gateway.
pub struct Deliveries {
    targets: BTreeMap<String, Arc<Target>>,
    outbox: Outbox,
    wake: Arc<Notify>,
    metrics: GatewayMetrics,
}

/// Why deliveries could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A target's section is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The outbox could not be opened.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A generated signing secret could not be made or read back.
    #[error("targets.{target}.signing_secret: {message}")]
    Secret {
        /// The target.
        target: String,
        /// Why.
        message: String,
    },
}

impl Deliveries {
    /// Opens the outbox in `server.data_dir`, builds the targets and starts the workers;
    /// deliveries left pending by a previous run are sent again (same `webhook-id`).
    pub async fn start(
        config: &Config,
        metrics: GatewayMetrics,
    ) -> Result<Arc<Self>, DeliveryError> {
        let targets = config
            .targets
            .iter()
            .map(|(name, c)| Ok((name.clone(), Arc::new(Target::build(name, c)?))))
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
        let outbox = Outbox::open(&config.server.data_dir, config.server.outbox_sync)?;
        let paused: Vec<String> = config
            .targets
            .iter()
            .filter(|(_, t)| t.state == InitialState::Paused)
            .map(|(n, _)| n.clone())
            .collect();
        let names: Vec<String> = targets.keys().cloned().collect();
        let failures = outbox
            .change(move |conn| {
                for name in paused {
                    // Only on first start: the operator's later choice is kept.
                    conn.execute(
                        "INSERT OR IGNORE INTO target_state (target, paused) VALUES (?1, 1)",
                        [name],
                    )?;
                }
                // Kept for replay should the target come back.
                let orphaned: Vec<String> = conn
                    .prepare(&format!(
                        "UPDATE deliveries SET state = 'dead', last_error = 'target no longer configured'
                         WHERE state = 'pending' AND target NOT IN ({}) RETURNING target",
                        vec!["?"; names.len()].join(", ")
                    ))?
                    .query_map(rusqlite::params_from_iter(&names), |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if !orphaned.is_empty() {
                    tracing::warn!(orphaned = orphaned.len(), "pending deliveries of targets no longer configured are now dead (replayable)");
                }
                let failures = names
                    .iter()
                    .map(|n| Ok((n.clone(), state::consecutive_failures(conn, n)?)))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((failures, outbox::moved(orphaned, "pending", Some("dead"))))
            })
            .await?;
        let now = std::time::Instant::now();
        for (name, n) in failures {
            if let Some(t) = targets.get(&name) {
                t.breaker()
                    .restore(u32::try_from(n).unwrap_or(u32::MAX), now);
            }
        }
        for t in targets.values() {
            if let Some(signing) = t.signing.as_ref().filter(|s| s.generated) {
                let fresh = sign::generate_secret().map_err(|message| DeliveryError::Secret {
                    target: t.name.clone(),
                    message,
                })?;
                let name = t.name.clone();
                let rows = outbox
                    .with(move |conn| secrets::ensure(conn, &name, &fresh, outbox::now_ms()))
                    .await?;
                signing.set(parse_secrets(&t.name, rows)?);
            }
        }
        let deliveries = Arc::new(Deliveries {
            targets,
            outbox,
            wake: Arc::new(Notify::new()),
            metrics,
        });
        worker::spawn(deliveries.clone());
        schedule::spawn(&deliveries, &config.schedules);
        retention::spawn(&deliveries, config.server.retention);
        Ok(deliveries)
    }

    /// Routes a request's deliveries to targets (named, or every target subscribed to the
    /// event type) and commits them. Deliveries no target takes are counted and logged.
    pub async fn enqueue(&self, plugin: &str, deliveries: &[Delivery]) -> Result<(), OutboxError> {
        let mut rows = Vec::new();
        for d in deliveries {
            let chosen: Vec<&Arc<Target>> = match &d.target {
                Some(name) => self.targets.get(name).into_iter().collect(),
                None => self
                    .targets
                    .values()
                    .filter(|t| t.events.iter().any(|p| subscribes(p, &d.event_type)))
                    .collect(),
            };
            if chosen.is_empty() {
                self.metrics
                    .deliveries_unrouted
                    .with_label_values(&[plugin, d.event_type.as_str()])
                    .inc();
                tracing::warn!(
                    plugin,
                    event_type = %d.event_type,
                    target = ?d.target,
                    "delivery not routed: no target takes it"
                );
            }
            for target in chosen {
                let id = new_id();
                let body = target.render(&id, &d.event_type, plugin, &d.body).unwrap_or_else(|e| {
                    // Sent as the plugin produced it rather than lost; the log says why.
                    tracing::error!(target = %target.name, "body template failed, sending the body unrendered: {e}");
                    d.body.clone()
                });
                rows.push(NewDelivery {
                    id,
                    target: target.name.clone(),
                    event_type: d.event_type.clone(),
                    plugin: plugin.to_string(),
                    body,
                    headers: d.headers.clone(),
                    idempotency_key: d.idempotency_key.clone(),
                });
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        self.outbox.enqueue(rows).await?;
        self.wake.notify_one();
        Ok(())
    }
}

impl Deliveries {
    /// The configured targets.
    pub fn targets(&self) -> impl Iterator<Item = &Arc<Target>> {
        self.targets.values()
    }

    /// Target `name`, if configured.
    pub fn target(&self, name: &str) -> Option<&Arc<Target>> {
        self.targets.get(name)
    }

    /// The outbox, for the admin views.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Wakes the workers (after a resume or a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The state of `target`: paused or disabled as stored, degraded from its breaker's count
    /// of consecutive failures.
    pub async fn state(&self, target: &str) -> Result<state::TargetState, OutboxError> {
        let failures = self
            .targets
            .get(target)
            .map_or(0, |t| t.breaker().failures());
        let name = target.to_string();
        self.outbox
            .with(move |conn| state::state(conn, &name, failures))
            .await
    }

    /// Sets `hookgate_target_state{target,state}`.
    pub async fn publish_state(&self, target: &str) {
        if let Ok(current) = self.state(target).await {
            for s in [
                state::TargetState::Active,
                state::TargetState::Paused,
                state::TargetState::Disabled,
                state::TargetState::Degraded,
            ] {
                let label = serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                self.metrics
                    .target_state
                    .with_label_values(&[target, label.as_str()])
                    .set(i64::from(s == current));
            }
        }
    }

    /// Queues a test delivery to one target, through the real pipeline (signed and sent like
    /// any other). Returns its id.
    pub async fn send_test(&self, target: &str) -> Result<Option<String>, OutboxError> {
        if !self.targets.contains_key(target) {
            return Ok(None);
        }
        let id = new_id();
        let body = serde_json::json!({
            "type": "hookgate.test",
            "target": target,
            "sent_at_ms": outbox::now_ms(),
            "message": "Test delivery from Hookgate",
        });
        self.outbox
            .enqueue(vec![NewDelivery {
                id: id.clone(),
                target: target.to_string(),
                event_type: "hookgate.test".into(),
                plugin: "(admin)".into(),
                body: serde_json::to_vec(&body).unwrap_or_default(),
                headers: Vec::new(),
                idempotency_key: None,
            }])
            .await?;
        self.wake();
        Ok(Some(id))
    }
}

impl Deliveries {
    /// Replaces a generated signing secret with a new one; the old one keeps signing for
    /// `grace`. `None` when the target does not exist or does not sign.
    pub async fn rotate_secret(
        &self,
        target: &str,
        grace: std::time::Duration,
    ) -> Result<Option<Vec<SigningSecret>>, DeliveryError> {
        let Some(signing) = self.targets.get(target).and_then(|t| t.signing.as_ref()) else {
            return Ok(None);
        };
        let error = |message: String| DeliveryError::Secret {
            target: target.to_string(),
            message,
        };
        if !signing.generated {
            return Err(error(
                "comes from the config: change it there (rotation is for \"generate\")".into(),
            ));
        }
        let fresh = sign::generate_secret().map_err(error)?;
        let name = target.to_string();
        let now = outbox::now_ms();
        let until = now.saturating_add(i64::try_from(grace.as_millis()).unwrap_or(i64::MAX));
        let rows = self
            .outbox
            .with(move |conn| secrets::rotate(conn, &name, &fresh, until, now))
            .await?;
        let parsed = parse_secrets(target, rows)?;
        signing.set(parsed.clone());
        Ok(Some(parsed))
    }
}

fn parse_secrets(target: &str, rows: secrets::Rows) -> Result<Vec<SigningSecret>, DeliveryError> {
    rows.into_iter()
        .map(|(text, expires_ms)| SigningSecret::new(text, expires_ms))
        .collect::<Result<_, _>>()
        .map_err(|message| DeliveryError::Secret {
            target: target.to_string(),
            message,
        })
}

/// `msg_` and 16 bytes, 6 of unix milliseconds then 10 random: the `webhook-id` receivers
/// deduplicate on. Time first, so that new rows go to the end of the outbox's index.
fn new_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&outbox::now_ms().to_be_bytes()[2..]);
    if getrandom::fill(&mut bytes[6..]).is_err() {
        // No OS randomness: a counter keeps ids unique in this process.
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[8..].copy_from_slice(&n.to_be_bytes());
    }
    format!("msg_{}", hex::encode(bytes))
}
