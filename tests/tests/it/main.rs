//! End-to-end tests: the real `hookgate` binary, real plugins compiled to wasm, real HTTP.

mod admin_page;
mod alertmanager;
mod cli;
mod delivery;
mod gcm;
mod github;
mod gitlab;
mod hot_reload;
mod ingress;
mod k8s_admission;
mod lifecycle;
mod metrics;
mod pelorus;
mod prometheus;
mod relay;
mod sandbox;
