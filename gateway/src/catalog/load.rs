//! `.wasm` file -> compiled plugin -> checked against the config -> metric families.

use super::{LoadedPlugin, Snapshot};
use crate::config::{Config, ConfigError};
use crate::ingress::route::{RouteClash, RouteSpec, Router};
use crate::ingress::verify::Scheme;
use crate::metrics::{Metrics, RegisterError};
use crate::runtime::{LoadError, Runtime};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why one plugin file was not loaded; the gateway serves on without it.
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
    /// Its metric families clash with another plugin's.
    #[error(transparent)]
    Metrics(#[from] RegisterError),
    /// Its routes clash with another plugin's.
    #[error(transparent)]
    Route(#[from] RouteClash),
}

/// Loads one `.wasm` file.
pub async fn load_file(
    runtime: &Runtime,
    metrics: &Metrics,
    config: &Config,
    path: &Path,
) -> Result<LoadedPlugin, LoadFailure> {
    let wasm = tokio::fs::read(path)
        .await
        .map_err(|e| LoadFailure::Io(path.to_path_buf(), e))?;
    let sha256 = hex::encode(Sha256::digest(&wasm));
    let compiled = runtime.load(&wasm, &config.limits).await?;
    let manifest = &compiled.manifest;
    let policy = config.policy(&manifest.name)?;
    check_settings(manifest, &policy.settings)?;
    let scheme = policy.scheme.unwrap_or(manifest.scheme);
    if policy.secret.is_none() && scheme != Scheme::None {
        tracing::warn!(
            plugin = %manifest.name,
            "no secret configured (plugins.{}.secret): requests pass unverified",
            manifest.name
        );
    }
    let families = metrics.register_plugin(manifest, policy.limits.max_series as usize)?;
    let loaded_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(LoadedPlugin {
        file: path.to_path_buf(),
        sha256,
        loaded_at,
        scheme,
        secret: policy.secret,
        settings: policy.settings.into_iter().collect(),
        max_body: policy.max_body,
        limits: policy.limits,
        families,
        compiled,
    })
}

fn check_settings(
    manifest: &crate::manifest::Manifest,
    settings: &std::collections::BTreeMap<String, String>,
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

/// Loads every `*.wasm` in `dir` (sorted by file name). A file that fails is logged and
/// skipped; the returned list says which and why.
pub async fn load_dir(
    runtime: &Runtime,
    metrics: &Metrics,
    config: &Config,
    dir: &Path,
) -> (Snapshot, Vec<(PathBuf, LoadFailure)>) {
    let mut failures = Vec::new();
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
    let mut plugins: Vec<Arc<LoadedPlugin>> = Vec::new();
    for path in files {
        let result = match load_file(runtime, metrics, config, &path).await {
            Ok(plugin) => {
                let mut candidate: Vec<&LoadedPlugin> = plugins.iter().map(|p| &**p).collect();
                candidate.push(&plugin);
                match build_router(&candidate) {
                    Ok(_) => Ok(plugin),
                    Err(clash) => {
                        metrics.unregister_plugin(plugin.name(), &plugin.families);
                        Err(LoadFailure::Route(clash))
                    }
                }
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(plugin) => {
                tracing::info!(
                    plugin = %plugin.name(),
                    version = %plugin.manifest().version,
                    sha256 = %plugin.sha256,
                    scheme = %plugin.scheme,
                    "plugin loaded from {}",
                    path.display()
                );
                plugins.push(Arc::new(plugin));
            }
            Err(e) => {
                tracing::error!("plugin {} not loaded: {e}", path.display());
                failures.push((path, e));
            }
        }
    }
    let refs: Vec<&LoadedPlugin> = plugins.iter().map(|p| &**p).collect();
    // Every plugin was checked against the ones before it, so the full set cannot clash.
    let router = build_router(&refs).unwrap_or_default();
    (Snapshot { plugins, router }, failures)
}

fn build_router(plugins: &[&LoadedPlugin]) -> Result<Router, RouteClash> {
    let specs: Vec<RouteSpec<'_>> = plugins
        .iter()
        .map(|p| RouteSpec {
            name: p.name(),
            paths: &p.manifest().paths,
            user_agent_prefixes: &p.manifest().user_agent_prefixes,
        })
        .collect();
    Router::build(&specs)
}
