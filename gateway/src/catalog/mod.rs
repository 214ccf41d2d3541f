//! The loaded plugins and the routing table over them, as one immutable snapshot that
//! requests read without locks and that a reload replaces whole.

mod load;

pub use load::{LoadFailure, load_dir, load_file};

use crate::config::{Limits, Secret};
use crate::ingress::route::Router;
use crate::ingress::verify::Scheme;
use crate::manifest::Manifest;
use crate::metrics::PluginFamilies;
use crate::runtime::CompiledPlugin;
use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::Arc;

/// A plugin ready to serve: compiled code, the operator's policy and its metric families.
pub struct LoadedPlugin {
    /// Compiled, linked, with its manifest.
    pub compiled: CompiledPlugin,
    /// Where it came from.
    pub file: PathBuf,
    /// sha256 of the `.wasm`, hex.
    pub sha256: String,
    /// Unix seconds.
    pub loaded_at: u64,
    /// Effective signature scheme (operator override or manifest default).
    pub scheme: Scheme,
    /// The signing secret, if configured.
    pub secret: Option<Secret>,
    /// Operator settings passed to every request.
    pub settings: Vec<(String, String)>,
    /// Body limit.
    pub max_body: u64,
    /// Sandbox limits.
    pub limits: Limits,
    /// Its metric families.
    pub families: PluginFamilies,
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

/// Plugins plus the router built over them; indices in the router point into `plugins`.
#[derive(Default)]
pub struct Snapshot {
    /// Loaded plugins.
    pub plugins: Vec<Arc<LoadedPlugin>>,
    /// Routing table.
    pub router: Router,
}

/// The current snapshot.
pub struct Catalog {
    current: ArcSwap<Snapshot>,
}

impl Catalog {
    /// A catalog serving `snapshot`.
    pub fn new(snapshot: Snapshot) -> Self {
        Catalog {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The snapshot to serve one request with; it stays valid for that request even if a
    /// reload replaces it meanwhile.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }
}
