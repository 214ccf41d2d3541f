//! # Writing a Hookgate plugin
//!
//! A Hookgate plugin turns one kind of inbound webhook (Pelorus events, Alertmanager alerts,
//! GitHub hooks, …) into three things: the HTTP answer for the sender, Prometheus samples, and
//! deliveries for the gateway's outbound queue. It is a WebAssembly component built from a
//! normal Rust library crate; the gateway runs it in a fresh sandbox for every request.
//!
//! ```no_run
//! use hookgate_plugin_sdk::prelude::*;
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn manifest() -> Manifest {
//!         Manifest::new("hello", env!("CARGO_PKG_VERSION"))
//!             .path("/hello")
//!             .counter("hello_requests_total", "Requests seen by the hello plugin", &["greeting"])
//!     }
//!
//!     fn handle(req: Request) -> Result<Outcome, Rejection> {
//!         let body: serde_json::Value = req.json()?;
//!         let greeting = body["greeting"]
//!             .as_str()
//!             .ok_or_else(|| Rejection::unprocessable("field 'greeting' must be a string"))?;
//!         Ok(Outcome::json(200, &serde_json::json!({ "echo": greeting }))
//!             .sample(Sample::inc("hello_requests_total", [greeting])))
//!     }
//! }
//!
//! export_plugin!(Hello);
//! ```
//!
//! ## The crate
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # cdylib for wasm, rlib for native tests
//!
//! [dependencies]
//! hookgate-plugin-sdk = { path = "../../plugin-sdk" }
//! serde_json = "1"
//! ```
//! Build it with `cargo build --profile plugin --target wasm32-wasip2 -p <crate>` (the
//! workspace's `plugin` profile optimises for size and aborts on panic; `.cargo/config.toml`
//! gives the guest a 64 KiB stack). Copy the `.wasm` into the gateway's plugins folder.
//!
//! ## What the gateway does around your code
//! 1. It routes by `POST /hooks/<name>`, by a path from [`Manifest::path`] (the longest
//!    matching [`Manifest::user_agent_prefix`] wins when plugins share a path), or by the
//!    User-Agent prefix alone.
//! 2. It enforces the body limit and [`Manifest::content_type`].
//! 3. It verifies the signature with the operator's secret. **Your plugin never sees secrets**;
//!    it only names the scheme ([`Manifest::signature`]) and, if it must match an existing
//!    system, the answers for a missing or wrong signature. If the signature fails and the
//!    manifest sets [`Manifest::handshake`], it first asks [`Plugin::handshake`] about the
//!    headers, so that bad headers are reported before a bad signature.
//! 4. It calls [`Plugin::handle`] (after [`Plugin::handshake`], in the same instance) and
//!    applies the [`Outcome`]: samples must name a declared family with the right number of
//!    label values, or the request fails as a plugin error.
//!
//! A plugin has no clock (use [`Request::received_at`]), no network, no files and no
//! environment. Each request gets a fresh instance: nothing carries over between requests, so
//! de-duplication that must outlive a request goes through [`SampleOp::SetIfAbsent`].
//! A plugin that loops past its deadline, grows past its memory cap or panics costs only the
//! request it was handling.
//!
//! ## Testing natively
//! [`testing::call`] runs a request through your plugin exactly as the host sequences it
//! (handshake, then handle) and checks the outcome against your manifest, under plain
//! `cargo test`, with no wasm involved.
#![deny(missing_docs)]

#[doc(hidden)]
pub mod __export {
    pub use crate::export::Adapter;
}
mod export;
mod manifest;
mod types;

pub mod fields;
pub mod testing;
pub mod time;

#[doc(hidden)]
#[allow(
    missing_docs,
    unsafe_op_in_unsafe_fn,
    unused_qualifications,
    clippy::too_many_arguments
)]
pub mod __bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_world_plugin",
        default_bindings_module: "hookgate_plugin_sdk::__bindings",
    });
}

pub use manifest::{Manifest, MetricKind, Scheme};
pub use types::{Delivery, Level, Outcome, Rejection, Request, Response, Sample, SampleOp, log};

/// What a plugin implements. See the crate docs for the request's path through the gateway.
pub trait Plugin {
    /// Describes the plugin; called once when the gateway loads it.
    fn manifest() -> Manifest;

    /// Checks the request's headers; a rejection here is reported before a signature error.
    /// Runs before every [`Plugin::handle`]. Judge headers only: when the gateway calls it on
    /// its own (a request whose signature failed), `req.body` is empty.
    fn handshake(_req: &Request) -> Result<(), Rejection> {
        Ok(())
    }

    /// Handles one verified request.
    fn handle(req: Request) -> Result<Outcome, Rejection>;
}

/// Everything a plugin usually needs, in one import.
pub mod prelude {
    pub use crate::{
        Delivery, Level, Manifest, MetricKind, Outcome, Plugin, Rejection, Request, Response,
        Sample, SampleOp, Scheme, export_plugin, log,
    };
}
