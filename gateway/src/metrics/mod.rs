//! The metrics registry: the gateway's own families plus every loaded plugin's, rendered at
//! `GET /metrics`. Sees only samples, never plugins' code.

mod own;
mod plugin_families;

pub use own::GatewayMetrics;
pub use plugin_families::{PluginFamilies, SampleError};

use crate::manifest::Manifest;
use prometheus::{Encoder, IntCounterVec, Registry, TextEncoder};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// A plugin's families could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another plugin owns a family of that name.
    #[error("metric family '{family}' is already registered by plugin '{owner}'")]
    Taken {
        /// Family.
        family: String,
        /// Plugin that owns it.
        owner: String,
    },
    /// The registry refused it (e.g. a name of the gateway's own).
    #[error("metric family registration failed: {0}")]
    Registry(#[from] prometheus::Error),
}

/// The registry and who owns which family.
pub struct Metrics {
    registry: Registry,
    /// The gateway's own families.
    pub own: GatewayMetrics,
    owners: Mutex<HashMap<String, String>>,
    dropped: IntCounterVec,
}

impl Metrics {
    /// A registry with the gateway's families.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let own = GatewayMetrics::register(&registry)?;
        let dropped = own.series_dropped.clone();
        Ok(Metrics {
            registry,
            own,
            owners: Mutex::new(HashMap::new()),
            dropped,
        })
    }

    /// Registers the families `manifest` declares; fails if another plugin owns one.
    pub fn register_plugin(
        &self,
        manifest: &Manifest,
        max_series: usize,
    ) -> Result<PluginFamilies, RegisterError> {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        for f in &manifest.metrics {
            if let Some(owner) = owners.get(&f.name).filter(|o| **o != manifest.name) {
                return Err(RegisterError::Taken {
                    family: f.name.clone(),
                    owner: owner.clone(),
                });
            }
        }
        let plugin = manifest.name.clone();
        let families = PluginFamilies::build(manifest, max_series, |family| {
            self.dropped.with_label_values(&[plugin.as_str(), family])
        })?;
        for collector in families.collectors() {
            if let Err(e) = self.registry.register(collector) {
                // Leave nothing half-registered: the ones that went in come out again.
                for c in families.collectors() {
                    let _ = self.registry.unregister(c);
                }
                return Err(RegisterError::Registry(e));
            }
        }
        for f in &manifest.metrics {
            owners.insert(f.name.clone(), manifest.name.clone());
        }
        Ok(families)
    }

    /// Puts back families taken out by [`Metrics::unregister_plugin`] (a refused new version
    /// returns the registry to how the old one had it).
    pub fn reregister_plugin(
        &self,
        manifest: &Manifest,
        families: &PluginFamilies,
    ) -> Result<(), RegisterError> {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        for collector in families.collectors() {
            self.registry.register(collector)?;
        }
        for f in &manifest.metrics {
            owners.insert(f.name.clone(), manifest.name.clone());
        }
        Ok(())
    }

    /// Removes a plugin's families (after a failed load, or when it is unloaded).
    pub fn unregister_plugin(&self, plugin: &str, families: &PluginFamilies) {
        for c in families.collectors() {
            let _ = self.registry.unregister(c);
        }
        self.owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, owner| owner != plugin);
    }

    /// The text exposition of every family.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!("cannot encode metrics: {e}");
        }
        out
    }
}
