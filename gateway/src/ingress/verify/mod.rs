//! Signature verification, host side. Only this module sees secrets; only a request that
//! passed it reaches the plugin's `handle`.

mod credentials;

pub use credentials::same as constant_time_eq;
mod hub_sha256;
mod json_forms;
mod standard;

use crate::config::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a sender signs its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// No signature.
    None,
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
    HubSha256,
    /// [`Scheme::HubSha256`], also accepting a signature over the JSON body re-serialised in
    /// the forms the Pelorus exporter tries (best effort).
    HubSha256Json,
    /// `Authorization: Bearer <secret>`: a shared token, not a signature.
    Bearer,
    /// `Authorization: Basic base64(<secret>)`, the secret being `user:password`.
    Basic,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`.
    StandardWebhooks,
    /// `X-Gitlab-Token: <secret>`.
    GitlabToken,
    /// The secret as one more path segment: `/alertmanager/<secret>`, for senders that can
    /// only be given a URL.
    PathToken,
}

impl FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Scheme::None),
            "hub-sha256" => Ok(Scheme::HubSha256),
            "hub-sha256-json" => Ok(Scheme::HubSha256Json),
            "bearer" => Ok(Scheme::Bearer),
            "basic" => Ok(Scheme::Basic),
            "standard-webhooks" => Ok(Scheme::StandardWebhooks),
            "gitlab-token" => Ok(Scheme::GitlabToken),
            "path-token" => Ok(Scheme::PathToken),
            other => Err(format!(
                "unknown signature scheme '{other}' (known: none, hub-sha256, hub-sha256-json, bearer, basic, standard-webhooks, gitlab-token, path-token)"
            )),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::None => "none",
            Scheme::HubSha256 => "hub-sha256",
            Scheme::HubSha256Json => "hub-sha256-json",
            Scheme::Bearer => "bearer",
            Scheme::Basic => "basic",
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::GitlabToken => "gitlab-token",
            Scheme::PathToken => "path-token",
        })
    }
}

/// Why a request failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A secret is configured, the request has no signature.
    #[error("signature header {0} is missing")]
    Missing(&'static str),
    /// The signature header is not of the scheme's form.
    #[error("signature header {0} is malformed")]
    Malformed(&'static str),
    /// The signature does not match the body.
    #[error("signature does not match the body")]
    Mismatch,
    /// The signed timestamp is too far from now (a replay, or a clock far off).
    #[error("signature timestamp is more than five minutes from now")]
    Expired,
}

impl VerifyError {
    /// Short label for metrics.
    pub fn reason(self) -> &'static str {
        match self {
            VerifyError::Missing(_) => "missing",
            VerifyError::Malformed(_) => "malformed",
            VerifyError::Mismatch => "mismatch",
            VerifyError::Expired => "expired",
        }
    }
}

/// Checks `body` against the signature in `header` (looked up by lower-case name), or
/// `path_token` (the segment after the plugin's route, if any) for [`Scheme::PathToken`].
pub fn verify<'h>(
    scheme: Scheme,
    secret: &Secret,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    path_token: Option<&str>,
) -> Result<(), VerifyError> {
    match scheme {
        Scheme::None => Ok(()),
        Scheme::HubSha256 => hub_sha256::verify(secret, header(hub_sha256::HEADER), body, false),
        Scheme::HubSha256Json => hub_sha256::verify(secret, header(hub_sha256::HEADER), body, true),
        Scheme::Bearer => credentials::verify_bearer(secret, header("authorization")),
        Scheme::Basic => credentials::verify_basic(secret, header("authorization")),
        Scheme::StandardWebhooks => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            standard::verify(secret, header, body, now)
        }
        Scheme::GitlabToken => credentials::verify_token(secret, header("x-gitlab-token")),
        Scheme::PathToken => credentials::verify_path_token(secret, path_token),
    }
}

/// The header a sender should send for `body` under `scheme` (for `hookgate sign`).
pub fn sign(scheme: Scheme, secret: &Secret, body: &[u8]) -> Option<(&'static str, String)> {
    match scheme {
        Scheme::None => None,
        Scheme::HubSha256 | Scheme::HubSha256Json => {
            Some((hub_sha256::HEADER, hub_sha256::header_value(secret, body)))
        }
        Scheme::Bearer => Some(("authorization", credentials::header_value("Bearer", secret))),
        Scheme::Basic => Some(("authorization", credentials::header_value("Basic", secret))),
        Scheme::GitlabToken => Some((
            "x-gitlab-token",
            String::from_utf8_lossy(secret.expose()).into_owned(),
        )),
        // Three headers and a timestamp: senders use their Standard Webhooks library; the
        // path token is not a header.
        Scheme::StandardWebhooks | Scheme::PathToken => None,
    }
}
