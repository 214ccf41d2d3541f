//! What triggers a reload: file events in the plugins folder or on the config file (debounced),
//! SIGHUP, and a periodic rescan for mounts where events never arrive. A pass that finds
//! nothing changed costs a directory listing.

use super::{Catalog, Settle, reload};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after the last event before reloading, so a burst of writes is one reload.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// What the watcher needs from the gateway.
pub trait Reloadable: Send + Sync + 'static {
    /// The sandbox.
    fn runtime(&self) -> &Runtime;
    /// The registry.
    fn metrics(&self) -> &Metrics;
    /// The catalog.
    fn catalog(&self) -> &Catalog;
}

/// Starts watching; runs until the process ends.
pub fn spawn<G: Reloadable>(gateway: Arc<G>, config_path: Option<PathBuf>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let config = gateway.catalog().current().config.clone();
    let events = tx.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = events.send(());
        }
    });
    let _watcher = match watcher {
        Ok(mut w) => {
            let mut watched = vec![config.server.plugins_dir.clone()];
            if let Some(dir) = config_path.as_ref().and_then(|p| p.parent()) {
                watched.push(if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir.to_path_buf()
                });
            }
            for dir in watched {
                if let Err(e) = w.watch(&dir, RecursiveMode::NonRecursive) {
                    tracing::warn!(
                        "cannot watch {} ({e}); rescanning every {:?}",
                        dir.display(),
                        config.server.poll_interval
                    );
                }
            }
            Some(w)
        }
        Err(e) => {
            tracing::warn!(
                "file events unavailable ({e}); rescanning every {:?}",
                config.server.poll_interval
            );
            None
        }
    };
    // Installed now, not in the task, so a SIGHUP right after start-up cannot kill the process.
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut signal) => {
            let hup = tx.clone();
            tokio::spawn(async move {
                while signal.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading");
                    let _ = hup.send(());
                }
            });
        }
        Err(e) => tracing::warn!("cannot listen for SIGHUP: {e}"),
    }
    tokio::spawn(async move {
        let _keep = _watcher;
        let mut tick = tokio::time::interval(config.server.poll_interval);
        tick.tick().await;
        loop {
            tokio::select! {
                got = rx.recv() => {
                    if got.is_none() { return; }
                    // Debounce: wait until events stop for a moment.
                    while tokio::time::timeout(DEBOUNCE, rx.recv()).await.is_ok_and(|e| e.is_some()) {}
                }
                _ = tick.tick() => {}
            }
            let current = gateway.catalog().current().config.clone();
            let config = match &config_path {
                Some(path) => match Config::load(path) {
                    Ok(new) => Arc::new(new),
                    Err(e) => {
                        tracing::error!("config not reloaded, keeping the previous one: {e}");
                        gateway
                            .metrics()
                            .own
                            .reloads
                            .with_label_values(&["(config)", "error"])
                            .inc();
                        current
                    }
                },
                None => current,
            };
            let summary = reload(
                gateway.runtime(),
                gateway.metrics(),
                gateway.catalog(),
                config,
                Settle::Wait,
            )
            .await;
            if summary.loaded + summary.failed + summary.removed > 0 {
                tracing::info!(
                    loaded = summary.loaded,
                    failed = summary.failed,
                    removed = summary.removed,
                    "reload done"
                );
            }
            if summary.unsettled > 0 {
                // A file is still being written: look again once it has settled.
                let again = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    let _ = again.send(());
                });
            }
        }
    });
}
