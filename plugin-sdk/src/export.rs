//! The bridge between the SDK's types and the generated WIT bindings, and the export macro.

use crate::__bindings::hookgate::plugin::types as wit;
use crate::Plugin;
use crate::manifest::{Manifest, MetricKind};
use crate::types::{Outcome, Rejection, Request, SampleOp};
use std::marker::PhantomData;

/// Implements the generated `Guest` trait for any [`Plugin`]; used by [`export_plugin!`].
#[doc(hidden)]
pub struct Adapter<P>(PhantomData<P>);

impl<P: Plugin> crate::__bindings::Guest for Adapter<P> {
    fn manifest() -> wit::Manifest {
        P::manifest().into()
    }

    fn handshake(req: wit::Request) -> Result<(), wit::Rejection> {
        P::handshake(&req.into()).map_err(Into::into)
    }

    fn handle(req: wit::Request) -> Result<wit::Outcome, wit::Rejection> {
        // The host calls `handshake` separately only when it must order its answer against a
        // failed signature check; on the common path both run in this one call.
        let req: Request = req.into();
        P::handshake(&req)?;
        P::handle(req).map(Into::into).map_err(Into::into)
    }
}

/// Exports a type implementing [`Plugin`](crate::Plugin) as the component's entry points.
/// Use it once, at the root of the plugin crate.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        type __HookgatePluginAdapter = $crate::__export::Adapter<$plugin>;
        #[cfg(target_arch = "wasm32")]
        $crate::__bindings::__export_world_plugin!(
            __HookgatePluginAdapter with_types_in $crate::__bindings
        );
    };
}

impl From<wit::Request> for Request {
    fn from(r: wit::Request) -> Self {
        Request {
            method: r.method,
            path: r.path,
            query: r.query,
            headers: r.headers,
            body: r.body,
            received_at: r.received_at,
            settings: r.settings,
        }
    }
}

impl From<Rejection> for wit::Rejection {
    fn from(r: Rejection) -> Self {
        wit::Rejection {
            status: r.status,
            message: r.message,
            body: r.body,
        }
    }
}

impl From<Outcome> for wit::Outcome {
    fn from(o: Outcome) -> Self {
        wit::Outcome {
            response: wit::Response {
                status: o.response.status,
                headers: o.response.headers,
                body: o.response.body,
            },
            samples: o
                .samples
                .into_iter()
                .map(|s| wit::Sample {
                    family: s.family,
                    label_values: s.label_values,
                    op: match s.op {
                        SampleOp::Set(v) => wit::SampleOp::Set(v),
                        SampleOp::Add(v) => wit::SampleOp::Add(v),
                        SampleOp::Observe(v) => wit::SampleOp::Observe(v),
                        SampleOp::SetIfAbsent(v) => wit::SampleOp::SetIfAbsent(v),
                    },
                })
                .collect(),
            deliveries: o
                .deliveries
                .into_iter()
                .map(|d| wit::Delivery {
                    event_type: d.event_type,
                    target: d.target,
                    body: d.body,
                    headers: d.headers,
                    idempotency_key: d.idempotency_key,
                })
                .collect(),
        }
    }
}

impl From<Manifest> for wit::Manifest {
    fn from(m: Manifest) -> Self {
        let answer = |a: Option<crate::manifest::Answer>| {
            a.map(|a| wit::Answer {
                status: a.status,
                message: a.message,
            })
        };
        wit::Manifest {
            name: m.name,
            version: m.version,
            description: m.description,
            paths: m.paths,
            user_agent_prefixes: m.user_agent_prefixes,
            content_types: m.content_types,
            metrics: m
                .metrics
                .into_iter()
                .map(|f| wit::MetricFamily {
                    name: f.name,
                    kind: match f.kind {
                        MetricKind::Counter => wit::MetricKind::Counter,
                        MetricKind::Gauge => wit::MetricKind::Gauge,
                        MetricKind::Histogram => wit::MetricKind::Histogram,
                    },
                    help: f.help,
                    label_names: f.label_names,
                    label_names_setting: f.label_names_setting,
                    buckets: f.buckets,
                })
                .collect(),
            event_types: m.event_types,
            signature: wit::SignaturePolicy {
                scheme: m.scheme.as_str().to_string(),
                missing: answer(m.missing_signature),
                invalid: answer(m.invalid_signature),
            },
            settings: m
                .settings
                .into_iter()
                .map(|s| wit::Setting {
                    name: s.name,
                    description: s.description,
                    required: s.required,
                })
                .collect(),
            handshake: m.handshake,
            delivery_id_header: m.delivery_id_header,
        }
    }
}
