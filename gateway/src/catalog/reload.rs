//! One pass over the plugins folder: keep what is unchanged, load what changed, refuse what
//! fails (keeping the version before it), drop what was removed, then swap once.

use super::{Catalog, Fingerprint, LoadedPlugin, ReloadStatus, Snapshot, examples};
use crate::config::{Config, ConfigError, PluginPolicy};
use crate::ingress::route::{RouteClash, RouteSpec, Router};
use crate::ingress::verify::Scheme;
use crate::manifest::Manifest;
use crate::metrics::{Metrics, RegisterError};
use crate::runtime::{LoadError, Runtime};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file modified more recently than this may still be being written: it waits for the
/// next pass (`cp` into the folder), while `mv` into place is seen whole at once.
const SETTLE: Duration = Duration::from_millis(300);

/// Why one plugin file was not loaded; the version before it (if any) keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadFailure {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Compiling, linking or the manifest failed.
    #[error(transparent)]
    Runtime(#[from] LoadError),
    /// The plugin's config section is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Operator settings do not fit what the plugin reads.
    #[error("config key `plugins.{plugin}.settings`: {message}")]
    Settings {
        /// Plugin.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// Another file already provides a plugin of that name.
    #[error("plugin name '{name}' is already loaded from {other}")]
    DuplicateName {
        /// The name.
        name: String,
        /// The other file.
        other: String,
    },
    /// Its metric families clash with another plugin's.
    #[error(transparent)]
    Metrics(#[from] RegisterError),
    /// Its routes clash with another plugin's.
    #[error(transparent)]
    Route(#[from] RouteClash),
    /// Its own examples failed.
    #[error("{0}")]
    Examples(String),
}

/// What a pass did, for the log and the tests.
#[derive(Debug, Default)]
pub struct Summary {
    /// Files loaded (new or changed).
    pub loaded: usize,
    /// Files refused.
    pub failed: usize,
    /// Plugins removed.
    pub removed: usize,
    /// Files skipped because they were still being written.
    pub unsettled: usize,
}

/// When to load a file that changed a moment ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Now (the first load at start-up: a half-written file simply fails and is retried).
    No,
    /// On a later pass, once it has not changed for a moment (it may still be being copied).
    Wait,
}

/// Brings the catalog in line with `config` and its plugins folder.
pub async fn reload(
    runtime: &Runtime,
    metrics: &Metrics,
    catalog: &Catalog,
    config: Arc<Config>,
    settle: Settle,
) -> Summary {
    let _one_at_a_time = catalog.reloading.lock().await;
    let current = catalog.current();
    let dir = &config.server.plugins_dir;
    let files = list_wasm(dir);
    let mut summary = Summary::default();
    let mut next: Vec<Arc<LoadedPlugin>> = Vec::new();
    // Families of removed plugins, unregistered once the new snapshot is live.
    let mut retired = Vec::new();

    for (i, path) in files.iter().enumerate() {
        let old = current.plugins.iter().find(|p| &p.file == path).cloned();
        let Some(fingerprint) = fingerprint(path) else {
            continue;
        };
        if let Some(old) = &old {
            let same_policy = config.policy(old.name()).is_ok_and(|p| p == old.policy);
            if old.fingerprint == fingerprint && same_policy {
                next.push(old.clone());
                continue;
            }
        }
        if settle == Settle::Wait && fingerprint.modified.elapsed().is_ok_and(|age| age < SETTLE) {
            summary.unsettled += 1;
            next.extend(old);
            continue;
        }
        // Plugins this one must not clash with: those already decided, and those of files
        // still to come (which keep their current version unless they change too).
        let later: Vec<Arc<LoadedPlugin>> = current
            .plugins
            .iter()
            .filter(|p| files[i + 1..].contains(&p.file))
            .cloned()
            .collect();
        let others: Vec<&LoadedPlugin> = next.iter().chain(later.iter()).map(|p| &**p).collect();
        match load(
            runtime,
            metrics,
            &config,
            path,
            fingerprint,
            old.as_deref(),
            &others,
        )
        .await
        {
            Ok(plugin) => {
                tracing::info!(
                    plugin = %plugin.name(),
                    version = %plugin.manifest().version,
                    sha256 = %plugin.sha256,
                    scheme = %plugin.scheme,
                    "plugin loaded from {}",
                    path.display()
                );
                metrics
                    .own
                    .reloads
                    .with_label_values(&[plugin.name(), "loaded"])
                    .inc();
                catalog.set_status(path.clone(), status(Some(plugin.name()), "loaded", None));
                next.push(Arc::new(plugin));
                summary.loaded += 1;
            }
            Err(e) => {
                let name = old.as_ref().map(|o| o.name().to_string());
                let label = name.clone().unwrap_or_else(|| file_stem(path));
                tracing::error!(
                    "plugin {} not loaded: {e}{}",
                    path.display(),
                    if old.is_some() {
                        " (the previous version keeps serving)"
                    } else {
                        ""
                    }
                );
                metrics
                    .own
                    .reloads
                    .with_label_values(&[label.as_str(), "error"])
                    .inc();
                catalog.set_status(
                    path.clone(),
                    status(name.as_deref(), "error", Some(e.to_string())),
                );
                next.extend(old);
                summary.failed += 1;
            }
        }
    }

    for gone in current.plugins.iter().filter(|p| !files.contains(&p.file)) {
        tracing::info!(plugin = %gone.name(), "plugin removed: {} is gone", gone.file.display());
        metrics
            .own
            .reloads
            .with_label_values(&[gone.name(), "removed"])
            .inc();
        catalog.set_status(
            gone.file.clone(),
            status(Some(gone.name()), "removed", None),
        );
        retired.push((gone.name().to_string(), gone.families.clone()));
        summary.removed += 1;
    }

    let refs: Vec<&LoadedPlugin> = next.iter().map(|p| &**p).collect();
    // Each plugin was checked against all the others, so the whole set cannot clash.
    let router = build_router(&refs).unwrap_or_default();
    metrics.own.plugins_loaded.set(next.len() as i64);
    catalog.current.store(Arc::new(Snapshot {
        plugins: next,
        router,
        config,
    }));
    for (name, families) in retired {
        // A family set still used by the live snapshot (kept across versions) stays.
        if !catalog
            .current()
            .plugins
            .iter()
            .any(|p| Arc::ptr_eq(&p.families, &families))
        {
            metrics.unregister_plugin(&name, &families);
        }
    }
    summary
}

/// Loads one file as the next version of `old` (if any), checked against `others`.
async fn load(
    runtime: &Runtime,
    metrics: &Metrics,
    config: &Config,
    path: &Path,
    fingerprint: Fingerprint,
    old: Option<&LoadedPlugin>,
    others: &[&LoadedPlugin],
) -> Result<LoadedPlugin, LoadFailure> {
    let wasm = tokio::fs::read(path)
        .await
        .map_err(|e| LoadFailure::Io(path.to_path_buf(), e))?;
    let sha256 = hex::encode(Sha256::digest(&wasm));
    let mut compiled = runtime
        .load_cached(&wasm, &sha256, &config.server.cache_dir, &config.limits)
        .await?;
    let name = compiled.manifest.name.clone();
    if let Some(other) = others.iter().find(|p| p.name() == name) {
        return Err(LoadFailure::DuplicateName {
            name,
            other: other.file.display().to_string(),
        });
    }
    let policy = config.policy(&name)?;
    check_settings(&compiled.manifest, &policy.settings)?;
    compiled
        .manifest
        .resolve_labels(&policy.settings)
        .map_err(|message| LoadFailure::Settings {
            plugin: name.clone(),
            message,
        })?;
    let manifest = &compiled.manifest;
    let mut candidates: Vec<&LoadedPlugin> = others.to_vec();
    let specs: Vec<RouteSpec<'_>> = candidates
        .drain(..)
        .map(spec)
        .chain(std::iter::once(RouteSpec {
            name: &manifest.name,
            paths: &manifest.paths,
            user_agent_prefixes: &manifest.user_agent_prefixes,
            path_token: policy.scheme.unwrap_or(manifest.scheme) == Scheme::PathToken,
        }))
        .collect();
    Router::build(&specs)?;
    let settings: Vec<(String, String)> = policy.settings.clone().into_iter().collect();
    examples::run(runtime, &compiled, path, &policy.limits, &settings)
        .await
        .map_err(LoadFailure::Examples)?;

    let scheme = policy.scheme.unwrap_or(manifest.scheme);
    if policy.secret.is_none() && scheme != Scheme::None {
        tracing::warn!(
            plugin = %manifest.name,
            "no secret configured (plugins.{}.secret): requests pass unverified",
            manifest.name
        );
    }
    // Metric families last: everything else about this version is known good.
    let families = match old {
        Some(old) if old.manifest().metrics == manifest.metrics && old.name() == manifest.name => {
            old.families.clone()
        }
        Some(old) => {
            // New family shapes: the old ones must leave the registry for the new to enter.
            metrics.unregister_plugin(old.name(), &old.families);
            match metrics.register_plugin(manifest, policy.limits.max_series as usize) {
                Ok(f) => Arc::new(f),
                Err(e) => {
                    metrics.reregister_plugin(old.manifest(), &old.families);
                    return Err(e.into());
                }
            }
        }
        None => Arc::new(metrics.register_plugin(manifest, policy.limits.max_series as usize)?),
    };
    let loaded_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(LoadedPlugin {
        file: path.to_path_buf(),
        fingerprint,
        sha256,
        loaded_at,
        scheme,
        settings,
        policy,
        families,
        compiled,
    })
}

fn spec(p: &LoadedPlugin) -> RouteSpec<'_> {
    RouteSpec {
        name: p.name(),
        paths: &p.manifest().paths,
        user_agent_prefixes: &p.manifest().user_agent_prefixes,
        path_token: p.scheme == Scheme::PathToken,
    }
}

fn build_router(plugins: &[&LoadedPlugin]) -> Result<Router, RouteClash> {
    let specs: Vec<RouteSpec<'_>> = plugins.iter().map(|p| spec(p)).collect();
    Router::build(&specs)
}

fn check_settings(
    manifest: &Manifest,
    settings: &BTreeMap<String, String>,
) -> Result<(), LoadFailure> {
    let fail = |message: String| LoadFailure::Settings {
        plugin: manifest.name.clone(),
        message,
    };
    let known: Vec<&str> = manifest.settings.iter().map(|s| s.name.as_str()).collect();
    if let Some(unknown) = settings.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(fail(format!(
            "plugin '{}' does not read setting '{unknown}' (it reads: {})",
            manifest.name,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    if let Some(missing) = manifest
        .settings
        .iter()
        .find(|s| s.required && !settings.contains_key(&s.name))
    {
        return Err(fail(format!(
            "required setting '{}' is missing ({})",
            missing.name, missing.description
        )));
    }
    Ok(())
}

fn list_wasm(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
            .collect(),
        Err(e) => {
            tracing::warn!("plugins folder {} is not readable: {e}", dir.display());
            Vec::new()
        }
    };
    files.sort();
    files
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        len: meta.len(),
        modified: meta.modified().ok()?,
    })
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn status(plugin: Option<&str>, result: &'static str, error: Option<String>) -> ReloadStatus {
    ReloadStatus {
        plugin: plugin.map(str::to_string),
        result,
        error,
        at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    }
}

/// For `PluginPolicy` comparisons: the resolved section a plugin was loaded with.
impl PartialEq for PluginPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
            && self.scheme == other.scheme
            && self.settings == other.settings
            && self.max_body == other.max_body
            && self.limits == other.limits
    }
}
