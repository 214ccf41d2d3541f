//! Why a plugin could not be loaded or did not finish a call.

/// Loading a `.wasm` failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a component, or not one that implements the `hookgate:plugin` world.
    #[error("not a valid hookgate plugin component: {0}")]
    Compile(String),
    /// The component compiled but does not fit the plugin interface.
    #[error("component does not implement hookgate:plugin@0.2.0: {0}")]
    Link(String),
    /// `manifest()` trapped or returned something unusable.
    #[error("manifest: {0}")]
    Manifest(String),
}

/// One call into a plugin failed; the request gets a 5xx, the gateway serves on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The wall-clock deadline passed (503).
    #[error("plugin exceeded its {0} ms deadline")]
    Timeout(u128),
    /// The plugin tried to grow its memory past the cap.
    #[error("plugin exceeded its memory cap of {0} bytes")]
    MemoryCap(u64),
    /// The plugin trapped (panic, unreachable, out of bounds, …).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The plugin returned more than its limits allow.
    #[error("plugin output over its limit: {0}")]
    OutputCap(String),
    /// The plugin returned something the host cannot use.
    #[error("plugin returned an invalid result: {0}")]
    BadOutput(String),
    /// No sandbox slot was free.
    #[error("no sandbox capacity: {0}")]
    Capacity(String),
}

impl InvokeError {
    /// Label for `hookgate_plugin_invocations_total{result}`.
    pub fn result_label(&self) -> &'static str {
        match self {
            InvokeError::Timeout(_) => "timeout",
            InvokeError::MemoryCap(_) => "memory_cap",
            InvokeError::Trap(_) => "trap",
            InvokeError::OutputCap(_) => "output_cap",
            InvokeError::BadOutput(_) => "bad_output",
            InvokeError::Capacity(_) => "capacity",
        }
    }
}
