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
    /// Label names (after [`Manifest::resolve_labels`], also those from the setting).
    pub label_names: Vec<String>,
    /// A setting whose comma-separated value adds label names.
    pub label_names_setting: Option<String>,
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
            if let Some(setting) = &family.label_names_setting
                && !self.settings.iter().any(|s| &s.name == setting)
            {
                return Err(err(
                    format!("{field}.label_names_setting"),
                    format!("{setting:?} is not a declared setting"),
                ));
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

    /// Adds to each family the label names its setting lists in `settings` (comma-separated;
    /// none when the setting is absent). The error names the setting and the bad name.
    pub fn resolve_labels(
        &mut self,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        for family in &mut self.metrics {
            let Some(setting) = &family.label_names_setting else {
                continue;
            };
            let Some(value) = settings.get(setting) else {
                continue;
            };
            for label in value.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                let reserved = label.starts_with("__")
                    || (family.kind == MetricKind::Histogram && label == "le");
                if !valid_label_name(label) || reserved {
                    return Err(format!(
                        "setting '{setting}': {label:?} is not a valid Prometheus label name"
                    ));
                }
                if family.label_names.iter().any(|l| l == label) {
                    return Err(format!(
                        "setting '{setting}': label {label:?} is already a label of {}",
                        family.name
                    ));
                }
                family.label_names.push(label.to_string());
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

#[cfg(test)]
impl Manifest {
    /// A plugin `name` with only these families, for tests.
    pub(crate) fn for_tests(name: &str, metrics: Vec<MetricFamily>) -> Manifest {
        let answer = |status| Answer {
            status,
            message: String::new(),
        };
        Manifest {
            name: name.into(),
            version: "1.0.0".into(),
            description: String::new(),
            paths: Vec::new(),
            user_agent_prefixes: Vec::new(),
            content_types: Vec::new(),
            metrics,
            event_types: Vec::new(),
            scheme: Scheme::None,
            missing_signature: answer(401),
            invalid_signature: answer(403),
            settings: vec![Setting {
                name: "labels".into(),
                description: String::new(),
                required: false,
            }],
            handshake: false,
            delivery_id_header: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gauge `g{field, …}`, more labels from the `labels` setting.
    fn gauge() -> MetricFamily {
        MetricFamily {
            name: "g".into(),
            kind: MetricKind::Gauge,
            help: "h".into(),
            label_names: vec!["field".into()],
            label_names_setting: Some("labels".into()),
            buckets: Vec::new(),
        }
    }

    #[test]
    fn labels_from_a_setting_follow_the_declared_ones_and_are_checked() {
        let resolve = |value: Option<&str>| {
            let mut m = Manifest::for_tests("p", vec![gauge()]);
            let settings = value
                .map(|v| std::collections::BTreeMap::from([("labels".to_string(), v.to_string())]))
                .unwrap_or_default();
            m.resolve_labels(&settings)
                .map(|()| m.metrics[0].label_names.clone())
        };
        assert_eq!(resolve(None), Ok(vec!["field".to_string()]));
        assert_eq!(
            resolve(Some(" hostname, gpu_index ,,")),
            Ok(vec!["field".into(), "hostname".into(), "gpu_index".into()])
        );
        for (bad, why) in [
            ("host-name", "not a valid Prometheus label name"),
            ("__name", "not a valid Prometheus label name"),
            ("field", "already a label of g"),
            ("a,a", "already a label of g"),
        ] {
            let e = resolve(Some(bad)).expect_err(bad);
            assert!(
                e.starts_with("setting 'labels': ") && e.contains(why),
                "{bad}: {e}"
            );
        }
        let mut undeclared = Manifest::for_tests("p", vec![gauge()]);
        undeclared.settings.clear();
        let e = undeclared.validate().expect_err("undeclared setting");
        assert_eq!(e.field, "metrics[0].label_names_setting");
    }
}
