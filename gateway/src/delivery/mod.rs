//! Deliveries: plugins' forwarding actions, routed to targets, committed to the outbox before
//! the sender is answered, then sent by workers with retries. Knows targets and queued
//! deliveries, not plugins.

mod outbox;
mod retry;
mod sign;
mod target;
mod worker;

pub use outbox::{NewDelivery, Outbox, OutboxError};
pub use retry::{AttemptResult, Decision, Policy, decide, parse_retry_after};
pub use target::Target;

use crate::config::{Config, ConfigError, subscribes};
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
}

impl Deliveries {
    /// Opens the outbox in `server.data_dir`, builds the targets and starts the workers;
    /// deliveries left pending by a previous run are sent again (same `webhook-id`).
    pub fn start(config: &Config, metrics: GatewayMetrics) -> Result<Arc<Self>, DeliveryError> {
        let targets = config
            .targets
            .iter()
            .map(|(name, c)| Ok((name.clone(), Arc::new(Target::build(name, c)?))))
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
        let outbox = Outbox::open(&config.server.data_dir)?;
        let deliveries = Arc::new(Deliveries {
            targets,
            outbox,
            wake: Arc::new(Notify::new()),
            metrics,
        });
        worker::spawn(deliveries.clone());
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
                rows.push(NewDelivery {
                    id: new_id(),
                    target: target.name.clone(),
                    event_type: d.event_type.clone(),
                    plugin: plugin.to_string(),
                    body: d.body.clone(),
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

/// `msg_` and 16 random bytes: the `webhook-id` receivers deduplicate on.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to time and a counter, still unique in this process.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&outbox::now_ms().to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
    }
    format!("msg_{}", hex::encode(bytes))
}
