//! The plugin's self-description, built with chained calls.

/// Prometheus type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Distribution in buckets.
    Histogram,
}

/// How senders sign requests for this plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Senders do not sign.
    None,
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` (GitHub style).
    HubSha256,
    /// As [`Scheme::HubSha256`], and also accept a signature over the body's JSON re-serialised
    /// in the separator/spacing/newline forms the Pelorus webhook exporter tries.
    HubSha256Json,
    /// `Authorization: Bearer <token>`: senders authenticate rather than sign.
    Bearer,
    /// `Authorization: Basic <base64 user:password>`.
    Basic,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    StandardWebhooks,
    /// `X-Gitlab-Token: <token>`.
    GitlabToken,
    /// The token as one more path segment (`/alertmanager/<token>`).
    PathToken,
}

impl Scheme {
    /// The scheme's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::None => "none",
            Scheme::HubSha256 => "hub-sha256",
            Scheme::HubSha256Json => "hub-sha256-json",
            Scheme::Bearer => "bearer",
            Scheme::Basic => "basic",
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::GitlabToken => "gitlab-token",
            Scheme::PathToken => "path-token",
        }
    }
}

/// A metric family the plugin writes to.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// Name, e.g. `deploy_timestamp`.
    pub name: String,
    /// Prometheus type.
    pub kind: MetricKind,
    /// Help text.
    pub help: String,
    /// Label names, in the order samples give values.
    pub label_names: Vec<String>,
    /// A setting whose comma-separated value adds label names after `label_names`.
    pub label_names_setting: Option<String>,
    /// Histogram buckets (empty: Prometheus defaults).
    pub buckets: Vec<f64>,
}

/// A status and message the gateway answers with on the plugin's behalf.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Sent as `{"detail": message}`.
    pub message: String,
}

/// An operator setting the plugin reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Key under `[plugins.<name>.settings]`.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Whether the plugin refuses to load without it.
    pub required: bool,
}

/// What a plugin is: name, routes, metric families, signature scheme, settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Unique plugin name; also the route `/hooks/<name>`.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// One line for `hookgate plugin inspect`.
    pub description: String,
    /// Paths the plugin answers on.
    pub paths: Vec<String>,
    /// User-Agent prefixes that pick the plugin (case-insensitive).
    pub user_agent_prefixes: Vec<String>,
    /// Accepted media types; empty accepts any.
    pub content_types: Vec<String>,
    /// Metric families.
    pub metrics: Vec<MetricFamily>,
    /// Event types of the plugin's deliveries.
    pub event_types: Vec<String>,
    /// Default signature scheme.
    pub scheme: Scheme,
    /// Answer for a missing signature (default 401).
    pub missing_signature: Option<Answer>,
    /// Answer for a wrong signature (default 403).
    pub invalid_signature: Option<Answer>,
    /// Settings the plugin reads.
    pub settings: Vec<Setting>,
    /// Whether handshake errors take precedence over signature errors.
    pub handshake: bool,
    /// Header carrying the sender's delivery id, for the host's duplicate window.
    pub delivery_id_header: Option<String>,
}

impl Manifest {
    /// A manifest with a name and version and nothing else.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Manifest {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            paths: Vec::new(),
            user_agent_prefixes: Vec::new(),
            content_types: Vec::new(),
            metrics: Vec::new(),
            event_types: Vec::new(),
            scheme: Scheme::None,
            missing_signature: None,
            invalid_signature: None,
            settings: Vec::new(),
            handshake: false,
            delivery_id_header: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Answers on `path` too (besides `/hooks/<name>`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.paths.push(path.into());
        self
    }

    /// Claims requests whose User-Agent starts with `prefix` (case-insensitive).
    pub fn user_agent_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_agent_prefixes.push(prefix.into());
        self
    }

    /// Accepts this media type (others get 415).
    pub fn content_type(mut self, media_type: impl Into<String>) -> Self {
        self.content_types.push(media_type.into());
        self
    }

    fn family(
        mut self,
        kind: MetricKind,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Self {
        self.metrics.push(MetricFamily {
            name: name.into(),
            kind,
            help: help.into(),
            label_names: labels.iter().map(|l| (*l).to_string()).collect(),
            label_names_setting: None,
            buckets: buckets.to_vec(),
        });
        self
    }

    /// Declares a counter family.
    pub fn counter(self, name: &str, help: &str, labels: &[&str]) -> Self {
        self.family(MetricKind::Counter, name, help, labels, &[])
    }

    /// Declares a gauge family.
    pub fn gauge(self, name: &str, help: &str, labels: &[&str]) -> Self {
        self.family(MetricKind::Gauge, name, help, labels, &[])
    }

    /// Declares a histogram family (empty `buckets`: Prometheus defaults).
    pub fn histogram(self, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> Self {
        self.family(MetricKind::Histogram, name, help, labels, buckets)
    }

    /// Gives the family declared last more labels, named by the operator: the comma-separated
    /// value of `setting` (declare it with [`Manifest::setting`]). Samples then carry values
    /// for `labels` followed by one per listed name, in the listed order.
    pub fn labels_from_setting(mut self, setting: &str) -> Self {
        if let Some(family) = self.metrics.last_mut() {
            family.label_names_setting = Some(setting.into());
        }
        self
    }

    /// Declares an event type the plugin's deliveries may carry: exact, `prefix.*`, or `*` for
    /// a plugin whose senders name their own types.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_types.push(event_type.into());
        self
    }

    /// Sets the default signature scheme (the operator may override it).
    pub fn signature(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Answer for a request without a signature when a secret is configured.
    pub fn on_missing_signature(mut self, status: u16, message: impl Into<String>) -> Self {
        self.missing_signature = Some(Answer {
            status,
            message: message.into(),
        });
        self
    }

    /// Answer for a request whose signature does not match.
    pub fn on_invalid_signature(mut self, status: u16, message: impl Into<String>) -> Self {
        self.invalid_signature = Some(Answer {
            status,
            message: message.into(),
        });
        self
    }

    /// Declares a setting the plugin reads.
    pub fn setting(mut self, name: &str, description: &str, required: bool) -> Self {
        self.settings.push(Setting {
            name: name.into(),
            description: description.into(),
            required,
        });
        self
    }

    /// Names the header that carries the sender's delivery id: the gateway answers a repeat
    /// within its window with 200 and does not call the plugin (nor count it) again.
    pub fn delivery_id_header(mut self, header: &str) -> Self {
        self.delivery_id_header = Some(header.to_ascii_lowercase());
        self
    }

    /// Reports [`crate::Plugin::handshake`]'s rejection in place of a signature error when a
    /// request fails both.
    pub fn handshake(mut self) -> Self {
        self.handshake = true;
        self
    }

    /// The family called `name`.
    pub fn family_named(&self, name: &str) -> Option<&MetricFamily> {
        self.metrics.iter().find(|f| f.name == name)
    }
}
