//! Per-instance host state: WASI without capabilities, the memory limiter, the `log` import
//! and bounded capture of stdout/stderr.

use super::bindings::{PluginImports, wit};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use wasmtime::ResourceLimiter;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Everything one instance may touch.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limiter: MemoryLimiter,
    pub(super) output: Arc<Mutex<Output>>,
    plugin: Arc<str>,
}

impl HostState {
    pub fn new(plugin: Arc<str>, memory_cap: usize, log_budget: usize) -> Self {
        let output = Arc::new(Mutex::new(Output {
            remaining: log_budget,
            ..Output::default()
        }));
        // No preopened dirs, env, args, sockets or clocks beyond what WASI forces; stdin is empty.
        let wasi = WasiCtxBuilder::new()
            .stdout(Capture(output.clone(), Stream::Stdout))
            .stderr(Capture(output.clone(), Stream::Stderr))
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                cap: memory_cap,
                denied: false,
            },
            output,
            plugin,
        }
    }

    /// Writes what the guest printed to the gateway log, line by line.
    pub fn flush_output(&self) {
        let mut out = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        let printed = [
            ("stdout", std::mem::take(&mut out.stdout)),
            ("stderr", std::mem::take(&mut out.stderr)),
        ];
        for (stream, bytes) in &printed {
            for line in String::from_utf8_lossy(bytes)
                .lines()
                .filter(|l| !l.is_empty())
            {
                tracing::info!(plugin = %self.plugin, stream, "{line}");
            }
        }
        if std::mem::take(&mut out.truncated) {
            tracing::warn!(plugin = %self.plugin, "plugin output over its log budget was dropped");
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::Host for HostState {}

impl PluginImports for HostState {
    fn log(&mut self, level: wit::Level, message: String) {
        let mut out = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        if !out.spend(message.len()) {
            return;
        }
        drop(out);
        let plugin = &*self.plugin;
        match level {
            wit::Level::Trace => tracing::trace!(plugin, "{message}"),
            wit::Level::Debug => tracing::debug!(plugin, "{message}"),
            wit::Level::Info => tracing::info!(plugin, "{message}"),
            wit::Level::Warn => tracing::warn!(plugin, "{message}"),
            wit::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// Refuses memory growth past the cap, and remembers that it did, so that the trap that
/// follows (Rust aborts on allocation failure) is reported as a memory cap, not a crash.
pub struct MemoryLimiter {
    cap: usize,
    pub(super) denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// What the guest printed, within one shared byte budget.
#[derive(Default)]
pub struct Output {
    remaining: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

impl Output {
    fn spend(&mut self, n: usize) -> bool {
        if n > self.remaining {
            self.remaining = 0;
            self.truncated = true;
            return false;
        }
        self.remaining -= n;
        true
    }

    fn take(&mut self, stream: Stream, bytes: &[u8]) {
        let n = bytes.len().min(self.remaining);
        if n < bytes.len() {
            self.truncated = true;
        }
        self.remaining -= n;
        match stream {
            Stream::Stdout => self.stdout.extend_from_slice(&bytes[..n]),
            Stream::Stderr => self.stderr.extend_from_slice(&bytes[..n]),
        }
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// A guest stdout/stderr that keeps what fits the budget and silently drops the rest, so a
/// chatty plugin is never failed for printing.
#[derive(Clone)]
struct Capture(Arc<Mutex<Output>>, Stream);

impl Capture {
    fn write_bytes(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(self.1, bytes);
    }
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
