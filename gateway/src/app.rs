//! Wiring: config -> metrics -> runtime -> catalog -> ingress, and shutdown on signals.

use crate::catalog::{Catalog, Settle, reload, watch};
use crate::config::Config;
use crate::delivery::Deliveries;
use crate::ingress::{self, handler::Gateway};
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::net::TcpListener;

/// Loads the plugins, listens, and serves until SIGTERM or SIGINT; reloads plugins and the
/// config file (`config_path`) when they change, on SIGHUP, and every `server.poll_interval`.
pub async fn serve(config: Config, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let metrics = Metrics::new().context("registering the gateway's metrics")?;
    let runtime = Runtime::new().context("starting the wasm runtime")?;
    for name in config.plugins.keys() {
        // Secrets are read now, so a missing one stops startup with its key.
        config.policy(name)?;
    }
    let deliveries = Deliveries::start(&config, metrics.own.clone())
        .await
        .context("starting deliveries")?;
    for name in config.targets.keys() {
        deliveries.publish_state(name).await;
    }
    let config = Arc::new(config);
    let catalog = Catalog::new(config.clone());
    let summary = reload(&runtime, &metrics, &catalog, config.clone(), Settle::No).await;
    let dir = &config.server.plugins_dir;
    let snapshot = catalog.current();
    for name in config.plugins.keys() {
        if !snapshot.plugins.iter().any(|p| p.name() == name) {
            tracing::warn!(
                "config has [plugins.{name}] but no such plugin is loaded from {}",
                dir.display()
            );
        }
    }
    tracing::info!(
        loaded = snapshot.plugins.len(),
        failed = summary.failed,
        "plugins from {}",
        dir.display()
    );
    let gateway = Arc::new(Gateway {
        runtime,
        catalog,
        metrics,
        draining: AtomicBool::new(false),
        deliveries,
        dedup: ingress::dedup::Dedup::new(config.server.dedup_window, ingress::dedup::CAPACITY),
    });
    watch(gateway.clone(), config_path);
    match config.admin.token()? {
        Some(token) => {
            let admin = TcpListener::bind(config.admin.listen)
                .await
                .with_context(|| format!("binding the admin listener {}", config.admin.listen))?;
            tracing::info!("admin API on http://{}", admin.local_addr()?);
            // The second stdout line: tests and scripts read the admin address from it.
            println!("hookgate admin on http://{}", admin.local_addr()?);
            crate::admin::spawn(admin, token, gateway.clone());
        }
        None => tracing::info!(
            "admin API and page off: no [admin] token and no {}",
            crate::config::ADMIN_TOKEN_ENV
        ),
    }
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    // The one line on stdout: scripts and tests read the bound address from it.
    println!("hookgate listening on http://{addr}");
    tracing::info!("listening on http://{addr}");
    ingress::serve(
        listener,
        gateway.clone(),
        config.server.header_read_timeout,
        config.server.shutdown_grace,
        shutdown,
    )
    .await;
    gateway.runtime.shutdown();
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, not when
/// the future is first polled, so a signal right after start-up is not lost.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
