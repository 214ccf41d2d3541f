//! WIT values to the host's domain types; output caps are enforced here.

use super::bindings::wit;
use super::error::InvokeError;
use crate::config::Limits;
use crate::ingress::verify::Scheme;
use crate::manifest::{Answer, Manifest, MetricFamily, MetricKind, Setting};
use crate::outcome::{Delivery, Outcome, PluginRequest, Rejection, Response, Sample, SampleOp};

pub fn request(req: &PluginRequest, with_body: bool) -> wit::Request {
    wit::Request {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: if with_body {
            req.body.to_vec()
        } else {
            Vec::new()
        },
        received_at: req.received_at,
        settings: req.settings.clone(),
    }
}

pub fn rejection(r: wit::Rejection) -> Result<Rejection, InvokeError> {
    if !(400..500).contains(&r.status) {
        return Err(InvokeError::BadOutput(format!(
            "rejection status {} is not 4xx (message: {:?})",
            r.status, r.message
        )));
    }
    Ok(Rejection {
        status: r.status,
        message: r.message,
        body: r.body,
    })
}

pub fn outcome(o: wit::Outcome, limits: &Limits) -> Result<Outcome, InvokeError> {
    let status = o.response.status;
    if !(200..600).contains(&status) {
        return Err(InvokeError::BadOutput(format!(
            "response status {status} is not 2xx-5xx"
        )));
    }
    if o.response.body.len() as u64 > limits.max_response_bytes.as_u64() {
        return Err(InvokeError::OutputCap(format!(
            "response body of {} bytes (limit {})",
            o.response.body.len(),
            limits.max_response_bytes.as_u64()
        )));
    }
    if o.samples.len() > limits.max_samples as usize {
        return Err(InvokeError::OutputCap(format!(
            "{} samples (limit {})",
            o.samples.len(),
            limits.max_samples
        )));
    }
    if o.deliveries.len() > limits.max_deliveries as usize {
        return Err(InvokeError::OutputCap(format!(
            "{} deliveries (limit {})",
            o.deliveries.len(),
            limits.max_deliveries
        )));
    }
    for (name, value) in &o.response.headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(value).is_err()
        {
            return Err(InvokeError::BadOutput(format!(
                "response header {name:?} is not a valid HTTP header"
            )));
        }
    }
    Ok(Outcome {
        response: Response {
            status,
            headers: o.response.headers,
            body: o.response.body,
        },
        samples: o
            .samples
            .into_iter()
            .map(|s| Sample {
                family: s.family,
                label_values: s.label_values,
                op: match s.op {
                    wit::SampleOp::Set(v) => SampleOp::Set(v),
                    wit::SampleOp::Add(v) => SampleOp::Add(v),
                    wit::SampleOp::Observe(v) => SampleOp::Observe(v),
                    wit::SampleOp::SetIfAbsent(v) => SampleOp::SetIfAbsent(v),
                },
            })
            .collect(),
        deliveries: o
            .deliveries
            .into_iter()
            .map(|d| Delivery {
                event_type: d.event_type,
                target: d.target,
                body: d.body,
                headers: d.headers,
                idempotency_key: d.idempotency_key,
            })
            .collect(),
    })
}

pub fn manifest(m: wit::Manifest) -> Result<Manifest, String> {
    let scheme: Scheme = m.signature.scheme.parse()?;
    let answer = |a: Option<wit::Answer>, status: u16, message: &str| {
        a.map_or_else(
            || Answer {
                status,
                message: message.into(),
            },
            |a| Answer {
                status: a.status,
                message: a.message,
            },
        )
    };
    let manifest = Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        paths: m.paths,
        user_agent_prefixes: m.user_agent_prefixes,
        content_types: m
            .content_types
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect(),
        metrics: m
            .metrics
            .into_iter()
            .map(|f| MetricFamily {
                name: f.name,
                kind: match f.kind {
                    wit::MetricKind::Counter => MetricKind::Counter,
                    wit::MetricKind::Gauge => MetricKind::Gauge,
                    wit::MetricKind::Histogram => MetricKind::Histogram,
                },
                help: f.help,
                label_names: f.label_names,
                label_names_setting: f.label_names_setting,
                buckets: f.buckets,
            })
            .collect(),
        event_types: m.event_types,
        scheme,
        missing_signature: answer(m.signature.missing, 401, "Missing signature."),
        invalid_signature: answer(m.signature.invalid, 403, "Invalid signature."),
        settings: m
            .settings
            .into_iter()
            .map(|s| Setting {
                name: s.name,
                description: s.description,
                required: s.required,
            })
            .collect(),
        handshake: m.handshake,
        delivery_id_header: m.delivery_id_header.map(|h| h.to_ascii_lowercase()),
    };
    manifest.validate().map_err(|e| e.to_string())?;
    Ok(manifest)
}
