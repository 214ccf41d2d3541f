//! The metrics registry: the gateway's own families plus every loaded plugin's, rendered at
//! `GET /metrics`. Sees only samples, never plugins' code.
//!
//! Plugins' families live in a pool of their own rather than in the prometheus `Registry`,
//! which remembers every name's labels for the life of the process: a new plugin version (or
//! a new `labels` setting) may change a family's labels, and a registry would refuse that.

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
    /// Prometheus refused the definition (e.g. a bad name).
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
        // Nothing enters the pool until every family of the plugin is made.
        let mut created: Vec<(&MetricFamily, Arc<Family>)> = Vec::new();
        for f in &manifest.metrics {
            if let Some(shared) = pool.get(&f.name) {
                families.insert(f.name.clone(), shared.family.clone());
                continue;
            }
            let dropped = self
                .dropped
                .with_label_values(&[manifest.name.as_str(), f.name.as_str()]);
            let family = Arc::new(Family::new(f, max_series, dropped)?);
            families.insert(f.name.clone(), family.clone());
            created.push((f, family));
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
    /// returns the pool to how the old one had it).
    pub fn reregister_plugin(&self, manifest: &Manifest, families: &PluginFamilies) {
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
                pool.remove(name);
            }
        }
    }

    /// The text exposition of every family.
    pub fn render(&self) -> Vec<u8> {
        // A registry for this scrape only gathers the plugins' families the standard way
        // (empty ones pruned, series sorted); the pool guarantees their names are unique.
        let scrape = Registry::new();
        for shared in self
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            if let Err(e) = scrape.register(shared.family.collector()) {
                tracing::error!("cannot collect a plugin metric family: {e}");
            }
        }
        let mut all = self.registry.gather();
        all.extend(scrape.gather());
        all.sort_by(|a, b| a.name().cmp(b.name()));
        let mut out = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&all, &mut out) {
            tracing::error!("cannot encode metrics: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Sample, SampleOp};

    fn family(labels: &[&str]) -> MetricFamily {
        MetricFamily {
            name: "gpu".into(),
            kind: crate::manifest::MetricKind::Gauge,
            help: "h".into(),
            label_names: labels.iter().map(|l| (*l).to_string()).collect(),
            label_names_setting: None,
            buckets: Vec::new(),
        }
    }

    #[test]
    fn a_family_may_come_back_with_other_labels_once_its_owner_left() {
        let metrics = Metrics::new().expect("metrics");
        let set = |labels: &[&str]| Sample {
            family: "gpu".into(),
            label_values: labels.iter().map(|l| (*l).to_string()).collect(),
            op: SampleOp::Set(1.0),
        };
        let v1 = Manifest::for_tests("p", vec![family(&["host"])]);
        let f1 = metrics.register_plugin(&v1, 10).expect("v1");
        f1.apply(&[set(&["a"])]);
        assert!(String::from_utf8_lossy(&metrics.render()).contains(r#"gpu{host="a"} 1"#));
        // Another plugin cannot take the name with other labels while v1 holds it.
        let other = Manifest::for_tests("q", vec![family(&["gpu"])]);
        assert!(matches!(
            metrics.register_plugin(&other, 10),
            Err(RegisterError::Taken { .. })
        ));
        metrics.unregister_plugin("p", &f1);
        let v2 = Manifest::for_tests("p", vec![family(&["host", "index"])]);
        let f2 = metrics
            .register_plugin(&v2, 10)
            .expect("v2 with more labels");
        f2.apply(&[set(&["a", "0"])]);
        let text = String::from_utf8_lossy(&metrics.render()).into_owned();
        assert!(text.contains(r#"gpu{host="a",index="0"} 1"#), "{text}");
        assert!(!text.contains(r#"gpu{host="a"} 1"#), "{text}");
        assert_eq!(text.matches("# TYPE gpu gauge").count(), 1);
    }
}
