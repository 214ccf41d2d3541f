//! A loaded plugin's manifest, checked once: the host's own copy of what the plugin declared.

use crate::ingress::verify::Scheme;
use serde::Serialize;

/// Prometheus type of a plugin metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets.
    Histogram,
}

/// One declared metric family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFamily {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: MetricKind,
    /// Help text.
    pub help: String,
    /// Label names.
    pub label_names: Vec<String>,
    /// Histogram buckets (empty: defaults).
    pub buckets: Vec<f64>,
}

/// A status and message the host answers with on the plugin's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `{"detail": message}`.
    pub message: String,
}

/// An operator setting the plugin reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// Key.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Load fails without it.
    pub required: bool,
}

/// What a plugin declared about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Unique name.
    pub name: String,
    /// Version.
    pub version: String,
    /// One line.
    pub description: String,
    /// Paths it answers on.
    pub paths: Vec<String>,
    /// User-Agent prefixes it claims (matched case-insensitively).
    pub user_agent_prefixes: Vec<String>,
    /// Accepted media types (empty: any).
    pub content_types: Vec<String>,
    /// Metric families.
    pub metrics: Vec<MetricFamily>,
    /// Event types of its deliveries.
    pub event_types: Vec<String>,
    /// Default signature scheme.
    pub scheme: Scheme,
    /// Answer for a missing signature.
    pub missing_signature: Answer,
    /// Answer for a wrong signature.
    pub invalid_signature: Answer,
    /// Settings it reads.
    pub settings: Vec<Setting>,
    /// Whether `handshake` runs before verification.
    pub handshake: bool,
    /// Header with the sender's delivery id (lower-case), for the duplicate window.
    pub delivery_id_header: Option<String>,
}

/// A manifest that breaks a rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("manifest field `{field}`: {message}")]
pub struct ManifestError {
    /// Which field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ManifestError {
    ManifestError {
        field: field.into(),
        message: message.into(),
    }
}

/// Paths the gateway itself serves; plugins cannot claim them.
pub const RESERVED_PATHS: [&str; 3] = ["/metrics", "/healthz", "/readyz"];

impl Manifest {
    /// Checks names, paths, metric names and answer statuses.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(err(
                "name",
                format!("{:?} must be 1-64 of [a-z0-9_-]", self.name),
            ));
        }
        for (i, path) in self.paths.iter().enumerate() {
            if !path.starts_with('/')
                || path.starts_with("/hooks/")
                || RESERVED_PATHS.contains(&path.as_str())
                || path.starts_with("/-/")
            {
                return Err(err(
                    format!("paths[{i}]"),
                    format!(
                        "{path:?} must start with '/' and not be /hooks/…, /-/… or one of {RESERVED_PATHS:?}"
                    ),
                ));
            }
        }
        if let Some(h) = &self.delivery_id_header
            && http::HeaderName::from_bytes(h.as_bytes()).is_err()
        {
            return Err(err(
                "delivery_id_header",
                format!("{h:?} is not a header name"),
            ));
        }
        for (i, prefix) in self.user_agent_prefixes.iter().enumerate() {
            if prefix.is_empty() {
                return Err(err(
                    format!("user_agent_prefixes[{i}]"),
                    "must not be empty",
                ));
            }
        }
        for (i, family) in self.metrics.iter().enumerate() {
            let field = format!("metrics[{i}]");
            if !valid_metric_name(&family.name) || family.name.starts_with("hookgate_") {
                return Err(err(
                    format!("{field}.name"),
                    format!(
                        "{:?} is not a valid Prometheus metric name outside the hookgate_ prefix",
                        family.name
                    ),
                ));
            }
            for label in &family.label_names {
                let reserved = label.starts_with("__")
                    || (family.kind == MetricKind::Histogram && label == "le");
                if !valid_label_name(label) || reserved {
                    return Err(err(
                        format!("{field}.label_names"),
                        format!("{label:?} is not a valid label name"),
                    ));
                }
            }
            if self.metrics[..i].iter().any(|f| f.name == family.name) {
                return Err(err(
                    format!("{field}.name"),
                    format!("{:?} is declared twice", family.name),
                ));
            }
            if family.buckets.windows(2).any(|w| w[0] >= w[1])
                || family.buckets.iter().any(|b| !b.is_finite())
            {
                return Err(err(
                    format!("{field}.buckets"),
                    "must be finite and strictly increasing",
                ));
            }
        }
        for (field, answer) in [
            ("signature.missing", &self.missing_signature),
            ("signature.invalid", &self.invalid_signature),
        ] {
            if !(400..500).contains(&answer.status) {
                return Err(err(field, format!("status {} must be 4xx", answer.status)));
            }
        }
        Ok(())
    }

    /// The declared family called `name`.
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.metrics.iter().find(|f| f.name == name)
    }
}

fn valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
