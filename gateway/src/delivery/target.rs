//! A target's config turned into what the workers use: a guarded HTTP client, the headers
//! and credentials to send, the signing key and the retry policy.

use super::retry::Policy;
use super::sign::SigningKey;
use crate::config::{AuthConfig, ConfigError, TargetConfig};
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// One target, ready to send to.
pub struct Target {
    /// Name from the config.
    pub name: String,
    /// URL.
    pub url: String,
    /// Method.
    pub method: Method,
    /// Headers on every request (defaults, extras, credentials).
    pub headers: HeaderMap,
    /// Subscriptions.
    pub events: Vec<String>,
    /// Retry settings.
    pub policy: Policy,
    /// Standard Webhooks signing.
    pub signing: Option<SigningKey>,
    /// The HTTP client: timeout, TLS verification, no redirects.
    pub client: reqwest::Client,
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
        let secret =
            |field: &str, r: &crate::config::SecretRef| r.resolve().map_err(|m| key(field, m));
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
        let signing = c
            .signing_secret
            .as_ref()
            .map(|r| {
                let s = secret("signing_secret", r)?;
                SigningKey::from_secret(s.expose()).map_err(|m| key("signing_secret", m))
            })
            .transpose()?;
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
        })
    }
}

/// A header value that HTTP/2 must not index and that `Debug` will not print.
fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
    v.set_sensitive(true);
    Ok(v)
}
