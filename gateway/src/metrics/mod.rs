//! The metrics registry: the gateway's own families plus every loaded plugin's, rendered at
//! `GET /metrics`. Sees only samples, never plugins' code.

mod own;
mod plugin_families;

pub use own::GatewayMetrics;
pub use plugin_families::{PluginFamilies, SampleError};

use crate::manifest::{Manifest, MetricFamily};
use plugin_families::Family;
use prometheus::{Encoder, IntCounterVec, Registry, TextEncoder};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// A plugin's families could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another plugin has a family of that name, declared differently.
    #[error(
        "metric family '{family}' is already registered by plugin '{owner}' with another type, help or labels"
    )]
    Taken {
        /// Family.
        family: String,
        /// A plugin that has it.
        owner: String,
    },
    /// The registry refused it (e.g. a name of the gateway's own).
    #[error("metric family registration failed: {0}")]
    Registry(#[from] prometheus::Error),
}

/// A family and the plugins that declare it. Plugins that declare a family identically share
/// it (GitHub and Pelorus events both feed `commit_timestamp`); it leaves the registry with
/// the last of them.
struct Shared {
    definition: MetricFamily,
    family: Arc<Family>,
    owners: BTreeSet<String>,
}

/// The registry and the plugins' families.
pub struct Metrics {
    registry: Registry,
    /// The gateway's own families.
    pub own: GatewayMetrics,
    families: Mutex<HashMap<String, Shared>>,
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
            families: Mutex::new(HashMap::new()),
            dropped,
        })
    }

    /// Registers the families `manifest` declares, sharing those another plugin declares
    /// identically; fails if another plugin declares one differently.
    pub fn register_plugin(
        &self,
        manifest: &Manifest,
        max_series: usize,
    ) -> Result<PluginFamilies, RegisterError> {
        let mut pool = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        for f in &manifest.metrics {
            if let Some(shared) = pool.get(&f.name).filter(|s| s.definition != *f) {
                return Err(RegisterError::Taken {
                    family: f.name.clone(),
                    owner: shared.owners.iter().next().cloned().unwrap_or_default(),
                });
            }
        }
        let mut families = HashMap::new();
        let mut created: Vec<(&MetricFamily, Arc<Family>)> = Vec::new();
        for f in &manifest.metrics {
            if let Some(shared) = pool.get(&f.name) {
                families.insert(f.name.clone(), shared.family.clone());
                continue;
            }
            let dropped = self
                .dropped
                .with_label_values(&[manifest.name.as_str(), f.name.as_str()]);
            let registered = Family::new(f, max_series, dropped).and_then(|family| {
                self.registry.register(family.collector())?;
                Ok(Arc::new(family))
            });
            match registered {
                Ok(family) => {
                    families.insert(f.name.clone(), family.clone());
                    created.push((f, family));
                }
                Err(e) => {
                    // Leave nothing half-registered.
                    for (_, family) in created {
                        let _ = self.registry.unregister(family.collector());
                    }
                    return Err(RegisterError::Registry(e));
                }
            }
        }
        for (f, family) in created {
            pool.insert(
                f.name.clone(),
                Shared {
                    definition: f.clone(),
                    family,
                    owners: BTreeSet::new(),
                },
            );
        }
        for f in &manifest.metrics {
            if let Some(shared) = pool.get_mut(&f.name) {
                shared.owners.insert(manifest.name.clone());
            }
        }
        Ok(PluginFamilies { families })
    }

    /// Puts back families taken out by [`Metrics::unregister_plugin`] (a refused new version
    /// returns the registry to how the old one had it).
    pub fn reregister_plugin(
        &self,
        manifest: &Manifest,
        families: &PluginFamilies,
    ) -> Result<(), RegisterError> {
        let mut pool = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        for f in &manifest.metrics {
            let Some(family) = families.families.get(&f.name) else {
                continue;
            };
            match pool.get_mut(&f.name) {
                Some(shared) => {
                    shared.owners.insert(manifest.name.clone());
                }
                None => {
                    self.registry.register(family.collector())?;
                    pool.insert(
                        f.name.clone(),
                        Shared {
                            definition: f.clone(),
                            family: family.clone(),
                            owners: BTreeSet::from([manifest.name.clone()]),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Removes a plugin from its families (after a failed load, or when it is unloaded); a
    /// family no other plugin declares leaves the registry.
    pub fn unregister_plugin(&self, plugin: &str, families: &PluginFamilies) {
        let mut pool = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        for name in families.families.keys() {
            let Some(shared) = pool.get_mut(name) else {
                continue;
            };
            shared.owners.remove(plugin);
            if shared.owners.is_empty() {
                let _ = self.registry.unregister(shared.family.collector());
                pool.remove(name);
            }
        }
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
