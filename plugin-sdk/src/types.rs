//! The values that cross the boundary, as plain Rust types with builders.

use serde::{Serialize, de::DeserializeOwned};

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed diagnostics.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

/// Writes to the gateway's log, tagged with the plugin's name. The host bounds how much a
/// single request may log. Natively (under `cargo test`) it prints to stderr.
pub fn log(level: Level, message: impl AsRef<str>) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::__bindings::hookgate::plugin::types::Level as L;
        let level = match level {
            Level::Trace => L::Trace,
            Level::Debug => L::Debug,
            Level::Info => L::Info,
            Level::Warn => L::Warn,
            Level::Error => L::Error,
        };
        crate::__bindings::log(level, message.as_ref());
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {}", message.as_ref());
}

/// One inbound request, after routing and signature verification.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// HTTP method, upper-case.
    pub method: String,
    /// URL path, without the query.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    /// Headers with lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body (empty in `handshake`).
    pub body: Vec<u8>,
    /// Unix seconds when the gateway received the request.
    pub received_at: u64,
    /// The operator's settings for this plugin.
    pub settings: Vec<(String, String)>,
}

impl Request {
    /// A `POST` to `path`, for tests.
    pub fn post(path: impl Into<String>) -> Self {
        Request {
            method: "POST".into(),
            path: path.into(),
            ..Request::default()
        }
    }

    /// Adds a header (the name is lower-cased, as the gateway does).
    pub fn with_header(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        self.headers
            .push((name.as_ref().to_ascii_lowercase(), value.into()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` serialised as JSON.
    pub fn with_json(self, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.with_body(body)
    }

    /// Sets the receive time.
    pub fn with_received_at(mut self, unix_seconds: u64) -> Self {
        self.received_at = unix_seconds;
        self
    }

    /// Adds an operator setting.
    pub fn with_setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The operator setting called `name`.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses the body as JSON; a body that is not valid JSON becomes a 400 rejection that
    /// says where parsing stopped.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Rejection::bad_request(format!("body is not valid JSON: {e}")))
    }
}

/// The answer to the sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What a sample does to its series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleOp {
    /// Set a gauge.
    Set(f64),
    /// Add to a counter or gauge.
    Add(f64),
    /// Observe a histogram value.
    Observe(f64),
    /// Set a gauge only if the series has no value yet (the first report wins).
    SetIfAbsent(f64),
}

/// One metric update for a family the manifest declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Family name.
    pub family: String,
    /// Label values, in the order of the family's label names.
    pub label_values: Vec<String>,
    /// What to do.
    pub op: SampleOp,
}

impl Sample {
    fn new<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
        op: SampleOp,
    ) -> Self {
        Sample {
            family: family.into(),
            label_values: labels.into_iter().map(Into::into).collect(),
            op,
        }
    }

    /// Adds one to a counter.
    pub fn inc<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
    ) -> Self {
        Self::new(family, labels, SampleOp::Add(1.0))
    }

    /// Adds `value` to a counter or gauge.
    pub fn add<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
        value: f64,
    ) -> Self {
        Self::new(family, labels, SampleOp::Add(value))
    }

    /// Sets a gauge.
    pub fn set<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
        value: f64,
    ) -> Self {
        Self::new(family, labels, SampleOp::Set(value))
    }

    /// Sets a gauge unless the series already has a value.
    pub fn set_if_absent<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
        value: f64,
    ) -> Self {
        Self::new(family, labels, SampleOp::SetIfAbsent(value))
    }

    /// Observes a histogram value.
    pub fn observe<L: Into<String>>(
        family: impl Into<String>,
        labels: impl IntoIterator<Item = L>,
        value: f64,
    ) -> Self {
        Self::new(family, labels, SampleOp::Observe(value))
    }
}

/// A forwarding action: the gateway queues it durably and delivers it to the operator's
/// targets. The plugin names an event type (and optionally a target), never a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Event type, e.g. `alert.triggered`; targets subscribe to these.
    pub event_type: String,
    /// A target name from the operator's config; `None` fans out by subscription.
    pub target: Option<String>,
    /// Body to send.
    pub body: Vec<u8>,
    /// Extra headers to send.
    pub headers: Vec<(String, String)>,
    /// Deliveries with the same key are sent once.
    pub idempotency_key: Option<String>,
}

impl Delivery {
    /// A delivery of `body` for `event_type`.
    pub fn new(event_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Delivery {
            event_type: event_type.into(),
            target: None,
            body: body.into(),
            headers: Vec::new(),
            idempotency_key: None,
        }
    }

    /// A delivery whose body is `value` as JSON.
    pub fn json(event_type: impl Into<String>, value: &impl Serialize) -> Self {
        Self::new(event_type, serde_json::to_vec(value).unwrap_or_default())
    }

    /// Sends to one named target instead of every subscriber.
    pub fn to_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// Everything a plugin produced for an accepted request.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The answer to the sender.
    pub response: Response,
    /// Metric updates.
    pub samples: Vec<Sample>,
    /// Forwarding actions.
    pub deliveries: Vec<Delivery>,
}

impl Outcome {
    /// An empty answer with `status`.
    pub fn status(status: u16) -> Self {
        Outcome {
            response: Response {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
            samples: Vec::new(),
            deliveries: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        Self::status(status)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(value).unwrap_or_default())
    }

    /// Adds a response header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.response.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the response body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.response.body = body.into();
        self
    }

    /// Adds a metric sample.
    pub fn sample(mut self, sample: Sample) -> Self {
        self.samples.push(sample);
        self
    }

    /// Adds a delivery.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.deliveries.push(delivery);
        self
    }

    /// The response body as UTF-8 text (for tests).
    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.response.body).unwrap_or("<binary>")
    }
}

/// A refused request. The status must be 4xx; the gateway answers `{"detail": message}`
/// unless a JSON body is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// HTTP status (4xx).
    pub status: u16,
    /// What is wrong, for the sender and the log.
    pub message: String,
    /// A JSON body to send instead of the default.
    pub body: Option<Vec<u8>>,
}

impl Rejection {
    /// A rejection with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
            body: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 422 Unprocessable Entity: well-formed, but the content breaks a rule.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, message)
    }

    /// Sends `value` as the JSON body.
    pub fn with_json(mut self, value: &impl Serialize) -> Self {
        self.body = serde_json::to_vec(value).ok();
        self
    }
}
