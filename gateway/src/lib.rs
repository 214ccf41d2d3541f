//! Hookgate: a webhook gateway whose payload formats are sandboxed WebAssembly plugins.
//!
//! ```text
//! HTTP in (ingress) -> limits -> route (path / User-Agent)
//!   -> handshake (plugin, head only) -> verify signature (host; secrets never enter plugins)
//!   -> handle (runtime: fresh sandboxed instance) -> outcome
//!        samples    -> metrics (/metrics)
//!        deliveries -> outbox (SQLite, committed before the answer) -> workers -> targets
//!        response   -> the sender's answer
//! ```
//! `ingress` never names wasmtime; `runtime` never names hyper; `catalog` holds the loaded
//! plugins and the routing table as one immutable snapshot.

pub mod admin;
pub mod app;
pub mod catalog;
pub mod config;
pub mod delivery;
pub mod ingress;
pub mod manifest;
pub mod metrics;
pub mod outcome;
pub mod runtime;
pub mod standard_webhooks;
