//! The loaded plugins and the routing table over them, as one immutable snapshot that
//! requests read without locks and that a reload replaces whole.
//!
//! Files flow: `watch` (events, SIGHUP, periodic rescan) -> `reload` (load changed files,
//! validate, run their examples) -> one atomic swap. A file that fails keeps the version
//! before it serving.

mod examples;
mod reload;
pub mod watch;

pub use reload::{LoadFailure, Settle, Summary, reload};
pub use watch::spawn as watch;

use crate::config::{Config, PluginPolicy};
use crate::ingress::route::Router;
use crate::ingress::verify::Scheme;
use crate::manifest::Manifest;
use crate::metrics::PluginFamilies;
use crate::runtime::CompiledPlugin;
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

/// A plugin ready to serve: compiled code, the operator's policy and its metric families.
pub struct LoadedPlugin {
    /// Compiled, linked, with its manifest.
    pub compiled: CompiledPlugin,
    /// Where it came from.
    pub file: PathBuf,
    /// Size and modification time of the file when it was read.
    pub fingerprint: Fingerprint,
    /// sha256 of the `.wasm`, hex.
    pub sha256: String,
    /// Unix seconds.
    pub loaded_at: u64,
    /// Effective signature scheme (operator override or manifest default).
    pub scheme: Scheme,
    /// The operator's section for this plugin, resolved.
    pub policy: PluginPolicy,
    /// `policy.settings` as passed to every request.
    pub settings: Vec<(String, String)>,
    /// Its metric families (shared with the next version if that declares the same ones).
    pub families: Arc<PluginFamilies>,
}

impl LoadedPlugin {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.compiled.manifest
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.compiled.manifest.name
    }
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Bytes.
    pub len: u64,
    /// Last modification.
    pub modified: SystemTime,
}

/// Plugins plus the router built over them; indices in the router point into `plugins`.
pub struct Snapshot {
    /// Loaded plugins.
    pub plugins: Vec<Arc<LoadedPlugin>>,
    /// Routing table.
    pub router: Router,
    /// The configuration they were loaded with.
    pub config: Arc<Config>,
}

/// The outcome of the last attempt to load one file.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadStatus {
    /// The plugin's name, once known.
    pub plugin: Option<String>,
    /// `loaded`, `error` or `removed`.
    pub result: &'static str,
    /// What went wrong.
    pub error: Option<String>,
    /// Unix seconds.
    pub at: u64,
}

/// The current snapshot and what the last reload said about each file.
pub struct Catalog {
    current: ArcSwap<Snapshot>,
    status: Mutex<BTreeMap<PathBuf, ReloadStatus>>,
    reloading: tokio::sync::Mutex<()>,
}

impl Catalog {
    /// A catalog with no plugins yet.
    pub fn new(config: Arc<Config>) -> Self {
        Catalog {
            current: ArcSwap::from_pointee(Snapshot {
                plugins: Vec::new(),
                router: Router::default(),
                config,
            }),
            status: Mutex::new(BTreeMap::new()),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The snapshot to serve one request with; it stays valid for that request even if a
    /// reload replaces it meanwhile.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The last reload result of every file seen.
    pub fn statuses(&self) -> BTreeMap<PathBuf, ReloadStatus> {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_status(&self, file: PathBuf, status: ReloadStatus) {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(file, status);
    }
}
