//! The operator's TOML file, parsed once into typed structs. Every error names its key path.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! plugins_dir = "plugins.d"
//! max_body = "1MiB"
//!
//! [limits]                 # defaults for every plugin
//! timeout = "100ms"
//! memory = "32MiB"
//!
//! [plugins.pelorus]
//! secret = { env = "PELORUS_SECRET" }
//! ```

mod schedules;
mod secret;
mod targets;

pub use schedules::ScheduleConfig;
pub use secret::{Secret, SecretRef};
pub use targets::{
    AuthConfig, BreakerConfig, InitialState, SigningSecret, TargetConfig, subscribes,
};

use crate::ingress::verify::Scheme;
use bytesize::ByteSize;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A config file that could not be used; `key` is the dotted path of the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key is missing, unknown or has a bad value.
    #[error("config key `{key}`: {message}")]
    Key {
        /// Dotted key path, e.g. `plugins.pelorus.timeout`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    fn key(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Key {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The HTTP server.
    pub server: ServerConfig,
    /// Sandbox limits for every plugin, unless its own section overrides them.
    pub limits: Limits,
    /// Per-plugin sections, by plugin name.
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Outbound targets for plugins' deliveries, by name.
    pub targets: BTreeMap<String, TargetConfig>,
    /// Deliveries sent on a cron schedule.
    pub schedules: Vec<ScheduleConfig>,
    /// The admin API.
    pub admin: AdminConfig,
}

/// `[admin]`: the operator API on its own listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Bearer token every call must carry; without one the admin API does not start.
    pub token: Option<SecretRef>,
}

/// Where the admin token comes from when the config names none.
pub const ADMIN_TOKEN_ENV: &str = "HOOKGATE_ADMIN_TOKEN";

impl AdminConfig {
    /// The token: `[admin] token`, else a non-empty `HOOKGATE_ADMIN_TOKEN`; `None` turns the
    /// admin listener off.
    pub fn token(&self) -> Result<Option<Secret>, ConfigError> {
        match &self.token {
            Some(r) => r
                .resolve()
                .map(Some)
                .map_err(|message| ConfigError::key("admin.token", message)),
            None => Ok(std::env::var(ADMIN_TOKEN_ENV)
                .ok()
                .filter(|t| !t.is_empty())
                .map(Secret::new)),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            token: None,
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder of `*.wasm` plugins.
    pub plugins_dir: PathBuf,
    /// Largest accepted request body (413 above).
    pub max_body: ByteSize,
    /// How long a client may take to send its request headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Compiled plugins are cached here, keyed by the wasm's sha256 and the engine. Only the
    /// gateway may write to it: cached code is loaded as trusted native code.
    pub cache_dir: PathBuf,
    /// The plugins folder and the config file are also rescanned this often, for mounts
    /// where file events are not delivered.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Durable state: the delivery outbox (`outbox.sqlite3`).
    pub data_dir: PathBuf,
    /// When an accepted delivery counts as stored: `full` (fsync before the answer; survives
    /// power loss) or `normal` (written to the OS before the answer; survives a crash or
    /// kill -9 of the gateway, not of the machine).
    pub outbox_sync: OutboxSync,
    /// Delivered and dead deliveries, and attempts, older than this are deleted (hourly).
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// How long a sender's delivery id (for plugins that name its header) is remembered;
    /// a repeat within it is answered 200 unprocessed. `0s` turns it off.
    #[serde(with = "humantime_serde")]
    pub dedup_window: Duration,
}

/// How hard the outbox commits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxSync {
    /// fsync on every group commit.
    #[default]
    Full,
    /// No fsync on commit (SQLite WAL, `synchronous = NORMAL`).
    Normal,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            plugins_dir: PathBuf::from("plugins.d"),
            max_body: ByteSize::mib(1),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            cache_dir: PathBuf::from(".hookgate-cache"),
            poll_interval: Duration::from_secs(2),
            data_dir: PathBuf::from("hookgate-data"),
            outbox_sync: OutboxSync::Full,
            retention: Duration::from_secs(7 * 24 * 3600),
            dedup_window: Duration::from_secs(3600),
        }
    }
}

/// Sandbox limits for one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock deadline for one request (handshake and handle together).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Linear memory cap per instance.
    pub memory: ByteSize,
    /// Most samples one request may produce.
    pub max_samples: u32,
    /// Most deliveries one request may produce.
    pub max_deliveries: u32,
    /// Largest response body a plugin may return.
    pub max_response_bytes: ByteSize,
    /// Most series per plugin metric family; further series are dropped and counted.
    pub max_series: u32,
    /// Most bytes of log, stdout and stderr one request may write.
    pub max_log_bytes: ByteSize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(100),
            memory: ByteSize::mib(32),
            max_samples: 1000,
            max_deliveries: 100,
            max_response_bytes: ByteSize::mib(1),
            max_series: 10_000,
            max_log_bytes: ByteSize::kib(16),
        }
    }
}

/// The hard ceiling for `memory`: the size of a slot in the sandbox's memory pool.
pub const MAX_PLUGIN_MEMORY: ByteSize = ByteSize::mib(256);
/// The hard ceiling for `timeout`.
pub const MAX_PLUGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// `[plugins.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginConfig {
    /// The signing secret: `{ env = "VAR" }` or `{ file = "path" }`.
    pub secret: Option<SecretRef>,
    /// Overrides the plugin's default signature scheme.
    pub scheme: Option<Scheme>,
    /// Refuse to start unless a secret is configured.
    pub require_signature: bool,
    /// Values the plugin reads (never secrets).
    pub settings: BTreeMap<String, String>,
    /// Largest request body for this plugin (defaults to `server.max_body`).
    pub max_body: Option<ByteSize>,
    /// Overrides `limits.timeout`.
    #[serde(with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Overrides `limits.memory`.
    pub memory: Option<ByteSize>,
    /// Overrides `limits.max_samples`.
    pub max_samples: Option<u32>,
    /// Overrides `limits.max_deliveries`.
    pub max_deliveries: Option<u32>,
    /// Overrides `limits.max_response_bytes`.
    pub max_response_bytes: Option<ByteSize>,
    /// Overrides `limits.max_series`.
    pub max_series: Option<u32>,
    /// Overrides `limits.max_log_bytes`.
    pub max_log_bytes: Option<ByteSize>,
}

/// A plugin's section with its secret read and its limits merged: what the gateway uses.
#[derive(Debug, Clone, Default)]
pub struct PluginPolicy {
    /// The resolved secret.
    pub secret: Option<Secret>,
    /// Scheme override.
    pub scheme: Option<Scheme>,
    /// Operator settings.
    pub settings: BTreeMap<String, String>,
    /// Body limit.
    pub max_body: u64,
    /// Effective limits.
    pub limits: Limits,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let de = toml::de::Deserializer::parse(text)
            .map_err(|e| ConfigError::key("(file)", e.message().to_string()))?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().message().to_string();
            ConfigError::key(if key == "." { "(file)".into() } else { key }, message)
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        check_limits("limits", &self.limits)?;
        if self.server.poll_interval < Duration::from_millis(100) {
            return Err(ConfigError::key(
                "server.poll_interval",
                "must be at least 100ms",
            ));
        }
        if self.server.max_body.as_u64() == 0 {
            return Err(ConfigError::key(
                "server.max_body",
                "must be greater than 0",
            ));
        }
        for (name, target) in &self.targets {
            // Names go into admin URLs, metric labels and the admin page unescaped.
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(ConfigError::key(
                    format!("targets.{name}"),
                    "a target's name is 1 to 64 letters, digits, '-', '_' or '.'",
                ));
            }
            target.validate().map_err(|(key, message)| {
                ConfigError::key(format!("targets.{name}.{key}"), message)
            })?;
        }
        for (i, schedule) in self.schedules.iter().enumerate() {
            let key = |k: &str| format!("schedules[{i}].{k}");
            schedule
                .validate()
                .map_err(|(k, message)| ConfigError::key(key(k), message))?;
            if !self.targets.contains_key(&schedule.target) {
                return Err(ConfigError::key(
                    key("target"),
                    format!("no [targets.{}] is configured", schedule.target),
                ));
            }
            if self.schedules[..i].iter().any(|s| s.name == schedule.name) {
                return Err(ConfigError::key(
                    key("name"),
                    format!("{:?} is the name of an earlier schedule", schedule.name),
                ));
            }
        }
        for (name, plugin) in &self.plugins {
            let limits = plugin.apply(self.limits);
            check_limits(&format!("plugins.{name}"), &limits)?;
            if plugin.require_signature && plugin.secret.is_none() {
                return Err(ConfigError::key(
                    format!("plugins.{name}.require_signature"),
                    "is true, but no `secret` is configured for this plugin",
                ));
            }
            if plugin.scheme == Some(Scheme::None) && plugin.secret.is_some() {
                return Err(ConfigError::key(
                    format!("plugins.{name}.scheme"),
                    "is \"none\", but a `secret` is configured: the secret would never be checked",
                ));
            }
        }
        Ok(())
    }

    /// The policy for plugin `name`, reading its secret now.
    pub fn policy(&self, name: &str) -> Result<PluginPolicy, ConfigError> {
        let Some(plugin) = self.plugins.get(name) else {
            return Ok(PluginPolicy {
                max_body: self.server.max_body.as_u64(),
                limits: self.limits,
                ..PluginPolicy::default()
            });
        };
        let secret = plugin
            .secret
            .as_ref()
            .map(|r| {
                r.resolve()
                    .map_err(|m| ConfigError::key(format!("plugins.{name}.secret"), m))
            })
            .transpose()?;
        Ok(PluginPolicy {
            secret,
            scheme: plugin.scheme,
            settings: plugin.settings.clone(),
            max_body: plugin.max_body.unwrap_or(self.server.max_body).as_u64(),
            limits: plugin.apply(self.limits),
        })
    }
}

impl PluginConfig {
    fn apply(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            memory: self.memory.unwrap_or(base.memory),
            max_samples: self.max_samples.unwrap_or(base.max_samples),
            max_deliveries: self.max_deliveries.unwrap_or(base.max_deliveries),
            max_response_bytes: self.max_response_bytes.unwrap_or(base.max_response_bytes),
            max_series: self.max_series.unwrap_or(base.max_series),
            max_log_bytes: self.max_log_bytes.unwrap_or(base.max_log_bytes),
        }
    }
}

fn check_limits(prefix: &str, limits: &Limits) -> Result<(), ConfigError> {
    if limits.timeout.is_zero() || limits.timeout > MAX_PLUGIN_TIMEOUT {
        return Err(ConfigError::key(
            format!("{prefix}.timeout"),
            format!("must be between 1ms and {}s", MAX_PLUGIN_TIMEOUT.as_secs()),
        ));
    }
    if limits.memory < ByteSize::mib(1) || limits.memory > MAX_PLUGIN_MEMORY {
        return Err(ConfigError::key(
            format!("{prefix}.memory"),
            format!("must be between 1 MiB and {MAX_PLUGIN_MEMORY}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
