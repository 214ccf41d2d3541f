//! The one place that turns what went wrong into an HTTP status and a JSON body.

use crate::manifest::Answer;
use crate::metrics::SampleError;
use crate::outcome::Rejection;
use crate::runtime::InvokeError;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::json;

/// A request that ends in an error answer.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    /// No route.
    #[error("no plugin handles {method} {path}")]
    NotFound {
        /// Method.
        method: String,
        /// Path.
        path: String,
    },
    /// A route, but only POST is served there.
    #[error("{method} is not allowed on {path}; use POST")]
    MethodNotAllowed {
        /// Method.
        method: String,
        /// Path.
        path: String,
    },
    /// A plugin path whose plugins do not claim this User-Agent.
    #[error("Unsupported request.")]
    UnclaimedAgent {
        /// Path.
        path: String,
        /// The sender's User-Agent.
        agent: String,
    },
    /// The plugin does not accept this media type.
    #[error("Content-Type {got:?} is not accepted by plugin {plugin}; use one of {accepted:?}")]
    UnsupportedMediaType {
        /// Plugin.
        plugin: String,
        /// What came.
        got: String,
        /// What it takes.
        accepted: Vec<String>,
    },
    /// Body over the limit.
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// Bytes.
        limit: u64,
    },
    /// The body could not be read.
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// Signature missing or wrong (status and message may come from the manifest).
    #[error("{}", answer.message)]
    Signature {
        /// The answer.
        answer: Answer,
        /// Why, for the sender.
        reason: String,
    },
    /// The plugin refused the request.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// The plugin failed.
    #[error("plugin {plugin}: {error}")]
    Plugin {
        /// Plugin.
        plugin: String,
        /// What happened.
        error: InvokeError,
    },
    /// The plugin's deliveries could not be stored; nothing was accepted.
    #[error("deliveries could not be stored, retry later: {0}")]
    Outbox(crate::delivery::OutboxError),
    /// The plugin produced samples its manifest does not allow.
    #[error("plugin {plugin} produced an invalid sample: {error}")]
    Samples {
        /// Plugin.
        plugin: String,
        /// What.
        error: SampleError,
    },
}

impl IngressError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        let code = match self {
            IngressError::NotFound { .. } => 404,
            IngressError::MethodNotAllowed { .. } => 405,
            IngressError::UnclaimedAgent { .. } => 412,
            IngressError::UnsupportedMediaType { .. } => 415,
            IngressError::PayloadTooLarge { .. } => 413,
            IngressError::BodyRead(_) => 400,
            IngressError::Signature { answer, .. } => answer.status,
            IngressError::Rejected(r) => r.status,
            IngressError::Plugin {
                error: InvokeError::Timeout(_) | InvokeError::Capacity(_),
                ..
            } => 503,
            IngressError::Outbox(_) => 503,
            IngressError::Plugin { .. } | IngressError::Samples { .. } => 500,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The full answer: `{"detail": …}` plus context fields.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let status = self.status();
        let body = match &self {
            IngressError::Rejected(Rejection {
                body: Some(body), ..
            }) => body.clone(),
            IngressError::Rejected(r) => json_bytes(&json!({ "detail": r.message })),
            IngressError::UnclaimedAgent { path, agent } => json_bytes(&json!({
                "detail": self.to_string(),
                "reason": format!("no plugin on {path} accepts User-Agent {agent:?}"),
            })),
            IngressError::Signature { reason, .. } => {
                json_bytes(&json!({ "detail": self.to_string(), "reason": reason }))
            }
            IngressError::Plugin { plugin, error } => json_bytes(&json!({
                "detail": self.to_string(),
                "plugin": plugin,
                "error": error.result_label(),
            })),
            IngressError::Samples { plugin, .. }
            | IngressError::UnsupportedMediaType { plugin, .. } => {
                json_bytes(&json!({ "detail": self.to_string(), "plugin": plugin }))
            }
            _ => json_bytes(&json!({ "detail": self.to_string() })),
        };
        let mut response = json_response(status, body);
        if matches!(self, IngressError::MethodNotAllowed { .. }) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

fn json_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
