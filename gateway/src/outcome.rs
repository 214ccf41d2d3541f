//! What flows between the stages: the request a plugin sees and what it produces.

/// One inbound request as the plugin sees it.
#[derive(Debug, Clone, Default)]
pub struct PluginRequest {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query (no `?`).
    pub query: String,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: bytes::Bytes,
    /// Unix seconds.
    pub received_at: u64,
    /// Operator settings.
    pub settings: Vec<(String, String)>,
}

/// The sender's answer from a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// What a sample does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleOp {
    /// Set a gauge.
    Set(f64),
    /// Add to a counter or gauge.
    Add(f64),
    /// Observe a histogram value.
    Observe(f64),
    /// Set a gauge unless the series exists.
    SetIfAbsent(f64),
}

/// One metric update.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Family name.
    pub family: String,
    /// Label values.
    pub label_values: Vec<String>,
    /// Op.
    pub op: SampleOp,
}

/// A forwarding action.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Event type.
    pub event_type: String,
    /// Named target, if any.
    pub target: Option<String>,
    /// Body.
    pub body: Vec<u8>,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

/// Everything an accepted request produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The answer.
    pub response: Response,
    /// Metric updates.
    pub samples: Vec<Sample>,
    /// Forwarding actions.
    pub deliveries: Vec<Delivery>,
}

/// A refused request (4xx).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Status.
    pub status: u16,
    /// Message.
    pub message: String,
    /// JSON body instead of `{"detail": message}`.
    pub body: Option<Vec<u8>>,
}
