//! The sandbox: one wasmtime `Engine`, plugins compiled once and pre-instantiated, and a
//! fresh instance for every request, with a wall-clock deadline, a memory cap and output caps.
//! Knows nothing of HTTP.

mod bindings;
mod cache;
mod convert;
mod error;
mod host;

pub use error::{InvokeError, LoadError};

use crate::config::{Limits, MAX_PLUGIN_MEMORY};
use crate::manifest::Manifest;
use crate::outcome::{Outcome, PluginRequest, Rejection};
use bindings::{Plugin, PluginPre};
use host::HostState;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

/// Instances that may run at once; more concurrent requests get 503.
const POOL_INSTANCES: u32 = 512;
/// The epoch ticks this often; deadlines are checked (and long calls yield) at each tick.
const TICK: Duration = Duration::from_millis(1);

/// The engine, the linker and the epoch ticker.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    ticker: Ticker,
}

/// A plugin compiled and linked, ready to instantiate many times.
pub struct CompiledPlugin {
    pre: PluginPre<HostState>,
    /// What the plugin declared.
    pub manifest: Manifest,
}

/// The deadline ran out (raised from the epoch callback).
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded")]
struct DeadlineExceeded;

impl Runtime {
    /// Builds the engine (pooling allocator, epoch interruption) and starts the ticker.
    pub fn new() -> Result<Self, LoadError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 4)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 2)
            .total_stacks(POOL_INSTANCES)
            .max_memory_size(MAX_PLUGIN_MEMORY.as_u64() as usize)
            // Keep the guest's usual footprint (64 KiB stack + heap) mapped between
            // instances: a fresh instance then costs ~25 µs instead of ~40 µs of page faults.
            .linear_memory_keep_resident(256 << 10)
            .table_keep_resident(16 << 10);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| LoadError::Compile(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Link(e.to_string()))?;
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Link(e.to_string()))?;
        let ticker = Ticker::start(engine.clone());
        Ok(Runtime {
            engine,
            linker,
            ticker,
        })
    }

    /// Compiles, links and asks for the manifest. Compilation takes ~100 ms: call it off the
    /// request path.
    pub async fn load(&self, wasm: &[u8], limits: &Limits) -> Result<CompiledPlugin, LoadError> {
        let component =
            Component::new(&self.engine, wasm).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        self.prepare(&component, limits).await
    }

    /// Like [`Runtime::load`], but reuses the compiled artifact cached in `cache_dir` for a
    /// wasm with this sha256, and caches a fresh compilation there.
    pub async fn load_cached(
        &self,
        wasm: &[u8],
        sha256: &str,
        cache_dir: &Path,
        limits: &Limits,
    ) -> Result<CompiledPlugin, LoadError> {
        let entry = cache::Entry::new(cache_dir, &self.engine, sha256);
        let component = match entry.load(&self.engine) {
            Some(component) => component,
            None => {
                // Compiling takes ~100 ms of CPU; keep it off the request-serving workers.
                let component = tokio::task::block_in_place(|| Component::new(&self.engine, wasm))
                    .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                entry.store(&component);
                component
            }
        };
        self.prepare(&component, limits).await
    }

    async fn prepare(
        &self,
        component: &Component,
        limits: &Limits,
    ) -> Result<CompiledPlugin, LoadError> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = PluginPre::new(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let mut call = Call::new(&self.engine, &pre, "(loading)".into(), limits)
            .await
            .map_err(|e| LoadError::Manifest(e.to_string()))?;
        let manifest = call
            .run(|p, s| Box::pin(async move { p.call_manifest(s).await }))
            .await
            .map_err(|e| LoadError::Manifest(e.to_string()))?;
        let manifest = convert::manifest(manifest).map_err(LoadError::Manifest)?;
        Ok(CompiledPlugin { pre, manifest })
    }

    /// A fresh instance of `plugin` for one request.
    pub async fn start(
        &self,
        plugin: &CompiledPlugin,
        limits: &Limits,
    ) -> Result<Invocation, InvokeError> {
        let call = Call::new(
            &self.engine,
            &plugin.pre,
            plugin.manifest.name.as_str().into(),
            limits,
        )
        .await?;
        Ok(Invocation {
            call,
            limits: *limits,
        })
    }

    /// Stops the epoch ticker (also done on drop).
    pub fn shutdown(&self) {
        self.ticker.stop();
    }
}

/// One request's instance: `handshake` (when needed) and `handle` run on the same fresh instance,
/// which is dropped (and its memory reset) afterwards.
pub struct Invocation {
    call: Call,
    limits: Limits,
}

impl Invocation {
    /// Calls `handshake` with the request head (no body).
    pub async fn handshake(
        &mut self,
        req: &PluginRequest,
    ) -> Result<Result<(), Rejection>, InvokeError> {
        let wit_req = convert::request(req, false);
        let result = self
            .call
            .run(|p, s| Box::pin(async move { p.call_handshake(s, &wit_req).await }))
            .await?;
        match result {
            Ok(()) => Ok(Ok(())),
            Err(r) => convert::rejection(r).map(Err),
        }
    }

    /// Calls `handle` with the whole request.
    pub async fn handle(
        &mut self,
        req: &PluginRequest,
    ) -> Result<Result<Outcome, Rejection>, InvokeError> {
        let wit_req = convert::request(req, true);
        let result = self
            .call
            .run(|p, s| Box::pin(async move { p.call_handle(s, &wit_req).await }))
            .await?;
        match result {
            Ok(o) => convert::outcome(o, &self.limits).map(Ok),
            Err(r) => convert::rejection(r).map(Err),
        }
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = wasmtime::Result<T>> + Send + 'a>>;

/// A store with one instance, a deadline and a memory cap.
struct Call {
    store: Store<HostState>,
    plugin: Plugin,
    deadline_ms: u128,
    memory_cap: u64,
}

impl Call {
    async fn new(
        engine: &Engine,
        pre: &PluginPre<HostState>,
        name: Arc<str>,
        limits: &Limits,
    ) -> Result<Self, InvokeError> {
        let memory_cap = limits.memory.as_u64();
        let state = HostState::new(
            name,
            memory_cap as usize,
            limits.max_log_bytes.as_u64() as usize,
        );
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        let deadline = Instant::now() + limits.timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                return Err(DeadlineExceeded.into());
            }
            // Give the executor back to other requests at every tick of a long call.
            Ok(UpdateDeadline::Yield(1))
        });
        let plugin = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| classify(e, &store, limits.timeout.as_millis(), memory_cap, true))?;
        Ok(Call {
            store,
            plugin,
            deadline_ms: limits.timeout.as_millis(),
            memory_cap,
        })
    }

    async fn run<T: Send + 'static>(
        &mut self,
        f: impl for<'a> FnOnce(&'a Plugin, &'a mut Store<HostState>) -> BoxFuture<'a, T>,
    ) -> Result<T, InvokeError> {
        let result = f(&self.plugin, &mut self.store).await;
        self.store.data().flush_output();
        result.map_err(|e| classify(e, &self.store, self.deadline_ms, self.memory_cap, false))
    }
}

fn classify(
    e: wasmtime::Error,
    store: &Store<HostState>,
    deadline_ms: u128,
    memory_cap: u64,
    instantiating: bool,
) -> InvokeError {
    if e.downcast_ref::<DeadlineExceeded>().is_some() {
        return InvokeError::Timeout(deadline_ms);
    }
    if store.data().limiter.denied {
        return InvokeError::MemoryCap(memory_cap);
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return InvokeError::Trap(trap.to_string());
    }
    if instantiating {
        return InvokeError::Capacity(format!("{e:#}"));
    }
    InvokeError::Trap(format!("{e:#}"))
}

/// A thread that advances the engine's epoch every [`TICK`], owned by the runtime.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("hookgate-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the epoch ticker, plugin deadlines will not fire: {e}");
        }
        Ticker { stop }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}
