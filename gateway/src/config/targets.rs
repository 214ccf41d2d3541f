//! `[targets.<name>]`: where deliveries go and how.

use super::SecretRef;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// One outbound target.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// `http://` or `https://` URL, parsed by the parser the sender uses.
    #[serde(deserialize_with = "url")]
    pub url: reqwest::Url,
    /// HTTP method.
    #[serde(default = "post")]
    pub method: String,
    /// How to authenticate.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Extra headers; they replace the default `Content-Type: application/json`, and a header
    /// set to `""` is not sent.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Verify the server's certificate.
    #[serde(default = "yes")]
    pub verify_tls: bool,
    /// Per attempt.
    #[serde(default = "thirty_seconds", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts after the first.
    #[serde(default = "eight")]
    pub retries: u32,
    /// Waits between attempts (`["5s", "5m", "30m"]`); the last repeats.
    #[serde(default = "default_backoff", deserialize_with = "durations")]
    pub backoff: Vec<Duration>,
    /// Event types this target takes: `alert.*`, `cluster.degraded`, `*`.
    #[serde(default = "everything")]
    pub events: Vec<String>,
    /// Sign with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`): a `whsec_` + base64 secret from the environment or a file, or
    /// `"generate"` for one the gateway makes, keeps in the outbox and rotates on request.
    pub signing_secret: Option<SigningSecret>,
    /// The circuit breaker that holds deliveries while the receiver keeps failing.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// At most this many attempts per period: `"1/s"`, `"30/m"`, `"100/h"`.
    #[serde(default, deserialize_with = "rate")]
    pub rate_limit: Option<Duration>,
    /// A minijinja template that renders the body sent to this target from the delivery:
    /// `body` (the delivery's JSON, or its text), `event_type`, `plugin`, `id`.
    pub template: Option<String>,
    /// State on first start (`active` or `paused`); afterwards the operator's last choice holds.
    #[serde(default)]
    pub state: InitialState,
}

/// Where a target's signing secret comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "\"generate\", { env = \"VAR\" } or { file = \"path\" }"
)]
pub enum SigningSecret {
    /// Made by the gateway on first start, kept in the outbox, rotated by the admin API.
    Generated(Generate),
    /// The operator's, from the environment or a file.
    Configured(SecretRef),
}

/// The word `generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generate {
    /// `"generate"`.
    Generate,
}

/// `[targets.<name>.breaker]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the breaker; 0 turns it off.
    #[serde(default = "three")]
    pub after: u32,
    /// How long it stays open before one attempt probes; doubles with each failed probe.
    #[serde(default = "thirty_seconds", with = "humantime_serde")]
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            after: three(),
            cooldown: thirty_seconds(),
        }
    }
}

fn three() -> u32 {
    3
}

/// A target's state on first start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitialState {
    /// Deliveries flow.
    #[default]
    Active,
    /// Deliveries wait until resumed.
    Paused,
}

fn url<'de, D: Deserializer<'de>>(d: D) -> Result<reqwest::Url, D::Error> {
    let text = String::deserialize(d)?;
    reqwest::Url::parse(&text)
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a URL: {e}")))
}

/// `"N/s"` and friends, as the minimum interval between attempts.
fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    let bad = || {
        serde::de::Error::custom(format!(
            "{text:?} is not a rate like \"1/s\", \"30/m\" or \"100/h\""
        ))
    };
    let (count, per) = text.split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    let period = match per.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return Err(bad()),
    };
    if count == 0 {
        return Err(bad());
    }
    Ok(Some(period / count))
}

/// Outbound authentication.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthConfig {
    /// Nothing.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: SecretRef,
    },
    /// `<header>: <key>`.
    ApiKey {
        /// Header name.
        header: String,
        /// The key.
        key: SecretRef,
    },
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User.
        user: String,
        /// Password.
        password: SecretRef,
    },
}

fn post() -> String {
    "POST".into()
}
fn yes() -> bool {
    true
}
fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}
fn eight() -> u32 {
    8
}
fn everything() -> Vec<String> {
    vec!["*".into()]
}

/// Standard Webhooks' suggested schedule, shortened at the tail.
fn default_backoff() -> Vec<Duration> {
    [5, 300, 1800, 7200, 18_000, 36_000]
        .into_iter()
        .map(Duration::from_secs)
        .collect()
}

fn durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| {
            humantime::parse_duration(t)
                .map_err(|e| serde::de::Error::custom(format!("{t:?}: {e}")))
        })
        .collect()
}

/// Does `pattern` (`*`, `alert.*`, `alert.triggered`) take `event_type`?
pub fn subscribes(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

impl TargetConfig {
    /// Checks what serde cannot; errors name the key under `targets.<name>`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !matches!(self.url.scheme(), "http" | "https") || self.url.host().is_none() {
            return Err((
                "url",
                format!(
                    "{:?} must be an http:// or https:// URL with a host",
                    self.url.as_str()
                ),
            ));
        }
        if http::Method::from_bytes(self.method.as_bytes()).is_err() {
            return Err(("method", format!("{:?} is not an HTTP method", self.method)));
        }
        for name in self.headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(("headers", format!("{name:?} is not a header name")));
            }
        }
        if self.timeout.is_zero() {
            return Err(("timeout", "must be greater than 0".into()));
        }
        if let Some(template) = &self.template {
            minijinja::Environment::new()
                .template_from_str(template)
                .map_err(|e| ("template", e.to_string()))?;
        }
        if self.events.is_empty() {
            return Err((
                "events",
                "must name at least one event type (or \"*\")".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(subscribes("*", "anything"));
        assert!(subscribes("alert.*", "alert.triggered"));
        assert!(!subscribes("alert.*", "alerting"));
        assert!(!subscribes("alert.*", "cluster.degraded"));
        assert!(subscribes("cluster.degraded", "cluster.degraded"));
        assert!(!subscribes("cluster.degraded", "cluster.degraded.more"));
    }
}
