//! Host bindings generated from the one WIT package, `plugin-sdk/wit`.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../plugin-sdk/wit",
    exports: { default: async },
});

pub use self::hookgate::plugin::types as wit;
