//! A target's config turned into what the workers use: a guarded HTTP client, the headers
//! and credentials to send, the signing key and the retry policy.

use super::breaker::Breaker;
use super::retry::Policy;
use super::sign::{self, SigningSecret};
use crate::config::{self, AuthConfig, ConfigError, TargetConfig};
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// One target, ready to send to.
pub struct Target {
    /// Name from the config.
    pub name: String,
    /// URL.
    pub url: reqwest::Url,
    /// Method.
    pub method: Method,
    /// Headers on every request (defaults, extras, credentials).
    pub headers: HeaderMap,
    /// Subscriptions.
    pub events: Vec<String>,
    /// Retry settings.
    pub policy: Policy,
    /// Standard Webhooks signing.
    pub signing: Option<Signing>,
    /// The HTTP client: timeout, TLS verification, no redirects.
    pub client: reqwest::Client,
    /// Renders the body sent to this target, if configured.
    pub template: Option<minijinja::Environment<'static>>,
    /// Minimum interval between attempt starts, and when the next may start.
    pub pace: Option<(Duration, Mutex<Instant>)>,
    /// Holds deliveries while the receiver keeps failing.
    pub breaker: Mutex<Breaker>,
}

/// A target's signing secrets, current first.
pub struct Signing {
    /// Made by the gateway (and so rotatable by the admin API), not configured.
    pub generated: bool,
    secrets: RwLock<Vec<SigningSecret>>,
}

impl Signing {
    /// The secrets, current first.
    pub fn secrets(&self) -> Vec<SigningSecret> {
        self.secrets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the secrets (after loading or rotating them).
    pub fn set(&self, secrets: Vec<SigningSecret>) {
        *self.secrets.write().unwrap_or_else(PoisonError::into_inner) = secrets;
    }

    /// The Standard Webhooks headers for one attempt.
    pub fn headers(
        &self,
        id: &str,
        timestamp: i64,
        body: &[u8],
        now_ms: i64,
    ) -> [(&'static str, String); 3] {
        let secrets = self.secrets.read().unwrap_or_else(PoisonError::into_inner);
        sign::headers(&secrets, id, timestamp, body, now_ms)
    }
}

/// Most of a response body kept for the attempt log.
pub const RESPONSE_EXCERPT: usize = 1024;

impl Target {
    /// Builds `targets.<name>`, reading its secrets now.
    pub fn build(name: &str, c: &TargetConfig) -> Result<Self, ConfigError> {
        let key = |k: &str, m: String| ConfigError::Key {
            key: format!("targets.{name}.{k}"),
            message: m,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in &c.headers {
            let header =
                HeaderName::from_bytes(k.as_bytes()).map_err(|e| key("headers", e.to_string()))?;
            if v.is_empty() {
                headers.remove(&header);
            } else {
                let value =
                    HeaderValue::from_str(v).map_err(|e| key("headers", format!("{k}: {e}")))?;
                headers.insert(header, value);
            }
        }
        let secret = |field: &str, r: &config::SecretRef| r.resolve().map_err(|m| key(field, m));
        match &c.auth {
            AuthConfig::None => {}
            AuthConfig::Bearer { token } => {
                let token = secret("auth.token", token)?;
                let value = format!("Bearer {}", String::from_utf8_lossy(token.expose()));
                headers.insert(
                    http::header::AUTHORIZATION,
                    sensitive(&value).map_err(|m| key("auth.token", m))?,
                );
            }
            AuthConfig::ApiKey { header, key: k } => {
                let value = secret("auth.key", k)?;
                let header = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|e| key("auth.header", e.to_string()))?;
                headers.insert(
                    header,
                    sensitive(&String::from_utf8_lossy(value.expose()))
                        .map_err(|m| key("auth.key", m))?,
                );
            }
            AuthConfig::Basic { user, password } => {
                let password = secret("auth.password", password)?;
                let raw = [user.as_bytes(), b":", password.expose()].concat();
                let value = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                );
                headers.insert(
                    http::header::AUTHORIZATION,
                    sensitive(&value).map_err(|m| key("auth.password", m))?,
                );
            }
        }
        let signing = match &c.signing_secret {
            None => None,
            // Loaded from the outbox (or made) when the deliveries start.
            Some(config::SigningSecret::Generated(_)) => Some(Signing {
                generated: true,
                secrets: RwLock::default(),
            }),
            Some(config::SigningSecret::Configured(r)) => {
                let s = secret("signing_secret", r)?;
                let text = String::from_utf8(s.expose().to_vec())
                    .map_err(|_| key("signing_secret", "is not UTF-8".into()))?;
                let current =
                    SigningSecret::new(text, None).map_err(|m| key("signing_secret", m))?;
                Some(Signing {
                    generated: false,
                    secrets: RwLock::new(vec![current]),
                })
            }
        };
        let client = reqwest::Client::builder()
            .timeout(c.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(!c.verify_tls)
            .user_agent(concat!("Hookgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| key("url", format!("cannot build an HTTP client: {e}")))?;
        Ok(Target {
            name: name.to_string(),
            url: c.url.clone(),
            method: Method::from_bytes(c.method.as_bytes())
                .map_err(|e| key("method", e.to_string()))?,
            headers,
            events: c.events.clone(),
            policy: Policy {
                retries: c.retries,
                backoff: c.backoff.clone(),
            },
            signing,
            client,
            template: c
                .template
                .as_ref()
                .map(|t| {
                    let mut env = minijinja::Environment::new();
                    env.add_template_owned("body", t.clone())
                        .map_err(|e| key("template", e.to_string()))?;
                    Ok(env)
                })
                .transpose()?,
            pace: c
                .rate_limit
                .map(|every| (every, Mutex::new(Instant::now()))),
            breaker: Mutex::new(Breaker::new(c.breaker.after, c.breaker.cooldown)),
        })
    }
}

impl Target {
    /// The body to send for a delivery: the template's rendering, or the body as it is.
    pub fn render(
        &self,
        id: &str,
        event_type: &str,
        plugin: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, String> {
        let Some(env) = &self.template else {
            return Ok(body.to_vec());
        };
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
        });
        let template = env.get_template("body").map_err(|e| e.to_string())?;
        template
            .render(minijinja::context! { body => value, event_type => event_type, plugin => plugin, id => id })
            .map(String::into_bytes)
            .map_err(|e| e.to_string())
    }

    /// Whether the circuit breaker and the rate limit let an attempt start now (and if so,
    /// books the slot).
    pub fn may_start(&self) -> bool {
        let now = Instant::now();
        let mut breaker = self.breaker();
        if !breaker.may_start(now) {
            return false;
        }
        if let Some((every, next)) = &self.pace {
            let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
            if now < *next {
                breaker.release();
                return false;
            }
            *next = now + *every;
        }
        true
    }

    /// The circuit breaker.
    pub fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A header value that HTTP/2 must not index and that `Debug` will not print.
fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
    v.set_sensitive(true);
    Ok(v)
}
