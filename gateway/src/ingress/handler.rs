//! One request, top to bottom: route, limit, verify (asking the plugin's handshake first if
//! that fails), handle, apply, answer.

use super::answer::{IngressError, json_response};
use super::route::Route;
use super::verify;
use crate::catalog::{Catalog, LoadedPlugin};
use crate::metrics::Metrics;
use crate::outcome::{Outcome, PluginRequest};
use crate::runtime::Runtime;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Everything a request needs, shared by all connections.
pub struct Gateway {
    /// The sandbox.
    pub runtime: Runtime,
    /// Loaded plugins and routes.
    pub catalog: Catalog,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Set when shutdown starts; `/readyz` then answers 503.
    pub draining: AtomicBool,
    /// Outbound deliveries.
    pub deliveries: Arc<crate::delivery::Deliveries>,
    /// Senders' delivery ids already handled.
    pub dedup: super::dedup::Dedup,
}

impl crate::catalog::watch::Reloadable for Gateway {
    fn runtime(&self) -> &Runtime {
        &self.runtime
    }
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// Serves one HTTP request.
pub async fn serve(
    gateway: Arc<Gateway>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let started = Instant::now();
    if let Some(response) = (req.method() == Method::GET)
        .then(|| builtin(&gateway, req.uri().path()))
        .flatten()
    {
        return Ok(response);
    }
    let snapshot = gateway.catalog.current();
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let (label, result) = match snapshot.router.route(req.method(), req.uri().path(), agent) {
        Route::Plugin(i) => {
            let plugin = &snapshot.plugins[i];
            (
                plugin.name().to_string(),
                pipeline(&gateway, plugin, req).await,
            )
        }
        Route::UnclaimedAgent => {
            let path = req.uri().path().to_string();
            tracing::warn!("no plugin on {path} claims User-Agent {agent:?}");
            let agent = agent.unwrap_or_default().to_string();
            (
                String::new(),
                Err(IngressError::UnclaimedAgent { path, agent }),
            )
        }
        Route::WrongMethod => (
            String::new(),
            Err(IngressError::MethodNotAllowed {
                method: req.method().to_string(),
                path: req.uri().path().to_string(),
            }),
        ),
        Route::NotFound => (
            String::new(),
            Err(IngressError::NotFound {
                method: req.method().to_string(),
                path: req.uri().path().to_string(),
            }),
        ),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(plugin = %label, "{e}");
            } else {
                tracing::debug!(plugin = %label, "{} {e}", e.status().as_u16());
            }
            e.into_response()
        }
    };
    let own = &gateway.metrics.own;
    own.requests
        .with_label_values(&[label.as_str(), response.status().as_str()])
        .inc();
    own.request_duration
        .with_label_values(&[label.as_str()])
        .observe(started.elapsed().as_secs_f64());
    Ok(response)
}

fn builtin(gateway: &Gateway, path: &str) -> Option<Response<Full<Bytes>>> {
    let response = match path {
        "/healthz" => json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()),
        "/readyz" if gateway.draining.load(Ordering::Relaxed) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            br#"{"status":"draining"}"#.to_vec(),
        ),
        "/readyz" => {
            let plugins = gateway.catalog.current().plugins.len();
            json_response(
                StatusCode::OK,
                format!(r#"{{"status":"ready","plugins":{plugins}}}"#).into_bytes(),
            )
        }
        "/-/plugins" => json_response(
            StatusCode::OK,
            serde_json::to_vec(&plugins_report(gateway)).unwrap_or_default(),
        ),
        "/metrics" => {
            let mut response = Response::new(Full::new(Bytes::from(gateway.metrics.render())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => return None,
    };
    Some(response)
}

/// `GET /-/plugins` (and the admin API's `/api/plugins`): what is loaded, how it is doing, and
/// what the last reload of each file said.
pub fn plugins_report(gateway: &Gateway) -> serde_json::Value {
    let snapshot = gateway.catalog.current();
    let statuses = gateway.catalog.statuses();
    let invocations = &gateway.metrics.own.invocations;
    let count = |name: &str, results: &[&str]| -> u64 {
        results
            .iter()
            .map(|r| invocations.with_label_values(&[name, r]).get())
            .sum()
    };
    let plugins: Vec<serde_json::Value> = snapshot
        .plugins
        .iter()
        .map(|p| {
            let m = p.manifest();
            serde_json::json!({
                "name": m.name,
                "version": m.version,
                "file": p.file,
                "sha256": p.sha256,
                "loaded_at": p.loaded_at,
                "routes": { "paths": m.paths, "user_agent_prefixes": m.user_agent_prefixes, "hooks": format!("/hooks/{}", m.name) },
                "scheme": p.scheme,
                "signed": p.policy.secret.is_some(),
                "invocations": count(&m.name, &["ok", "rejected", "trap", "timeout", "memory_cap", "output_cap", "bad_output", "capacity"]),
                "errors": count(&m.name, &["trap", "timeout", "memory_cap", "output_cap", "bad_output", "capacity"]),
                "last_reload": statuses.get(&p.file),
            })
        })
        .collect();
    let files: Vec<serde_json::Value> = statuses
        .iter()
        .map(|(file, status)| serde_json::json!({ "file": file, "status": status }))
        .collect();
    serde_json::json!({ "plugins": plugins, "files": files })
}

async fn pipeline(
    gateway: &Gateway,
    plugin: &LoadedPlugin,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, IngressError> {
    let manifest = plugin.manifest();
    check_content_type(plugin, req.headers())?;
    let (parts, body) = req.into_parts();
    let body = read_body(
        body,
        parts.headers.get(header::CONTENT_LENGTH),
        plugin.policy.max_body,
    )
    .await?;
    // A path token is the segment after the plugin's route; the plugin never sees it.
    let full_path = parts.uri.path();
    let own_route = |p: &str| {
        manifest.paths.iter().any(|d| d == p) || p.strip_prefix("/hooks/") == Some(plugin.name())
    };
    let (path, path_token) = match full_path.rsplit_once('/') {
        Some((parent, token))
            if plugin.scheme == verify::Scheme::PathToken && !own_route(full_path) =>
        {
            (parent, Some(token))
        }
        _ => (full_path, None),
    };
    let mut request = PluginRequest {
        method: parts.method.to_string(),
        path: path.to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: Bytes::new(),
        received_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        settings: plugin.settings.clone(),
    };
    let invocations = &gateway.metrics.own.invocations;
    let plugin_error = |error: crate::runtime::InvokeError| {
        invocations
            .with_label_values(&[plugin.name(), error.result_label()])
            .inc();
        IngressError::Plugin {
            plugin: plugin.name().to_string(),
            error,
        }
    };
    let rejected = |r| {
        invocations
            .with_label_values(&[plugin.name(), "rejected"])
            .inc();
        IngressError::Rejected(r)
    };

    // Headers are judged before signatures (Pelorus's order), but only a failed signature
    // needs a separate handshake call: otherwise the plugin's `handle` runs it in one call.
    let mut call = gateway
        .runtime
        .start(&plugin.compiled, &plugin.policy.limits)
        .await
        .map_err(plugin_error)?;
    if let Some(secret) = &plugin.policy.secret {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if let Err(e) = verify::verify(plugin.scheme, secret, header, &body, path_token) {
            if manifest.handshake {
                call.handshake(&request)
                    .await
                    .map_err(plugin_error)?
                    .map_err(rejected)?;
            }
            gateway
                .metrics
                .own
                .signature_failures
                .with_label_values(&[plugin.name(), e.reason()])
                .inc();
            let answer = match e {
                verify::VerifyError::Missing(_) => manifest.missing_signature.clone(),
                verify::VerifyError::Malformed(_)
                | verify::VerifyError::Mismatch
                | verify::VerifyError::Expired => manifest.invalid_signature.clone(),
            };
            return Err(IngressError::Signature {
                answer,
                reason: e.to_string(),
            });
        }
    }
    // Only verified requests reach the window, so a forger cannot mark an id as handled.
    let delivery_id = manifest
        .delivery_id_header
        .as_deref()
        .and_then(|h| parts.headers.get(h))
        .and_then(|v| v.to_str().ok());
    if let Some(id) = delivery_id.filter(|id| gateway.dedup.seen(plugin.name(), id, Instant::now()))
    {
        gateway
            .metrics
            .own
            .duplicates
            .with_label_values(&[plugin.name()])
            .inc();
        let body =
            serde_json::json!({ "detail": "Duplicate delivery: already handled.", "delivery": id });
        return Ok(json_response(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    request.body = body;
    let outcome = call
        .handle(&request)
        .await
        .map_err(plugin_error)?
        .map_err(rejected)?;
    // The sandbox goes back to the pool before the outbox commit is awaited: held across
    // it, every request waiting for a commit would keep an instance slot (and its memory)
    // live, and the pool would cycle through cold slots.
    drop(call);
    apply(gateway, plugin, &outcome).await?;
    if let Some(id) = delivery_id {
        gateway.dedup.remember(plugin.name(), id, Instant::now());
    }
    invocations.with_label_values(&[plugin.name(), "ok"]).inc();
    Ok(respond(outcome))
}

fn check_content_type(
    plugin: &LoadedPlugin,
    headers: &http::HeaderMap,
) -> Result<(), IngressError> {
    let accepted = &plugin.manifest().content_types;
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    if accepted.is_empty() {
        return Ok(());
    }
    let raw = value.to_str().unwrap_or_default();
    let media = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if accepted.contains(&media) {
        return Ok(());
    }
    Err(IngressError::UnsupportedMediaType {
        plugin: plugin.name().to_string(),
        got: raw.to_string(),
        accepted: accepted.clone(),
    })
}

async fn read_body(
    body: Incoming,
    content_length: Option<&HeaderValue>,
    limit: u64,
) -> Result<Bytes, IngressError> {
    let declared = content_length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(IngressError::PayloadTooLarge { limit });
    }
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, limit_usize).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(IngressError::PayloadTooLarge { limit })
        }
        Err(e) => Err(IngressError::BodyRead(e.to_string())),
    }
}

/// Samples are checked first, deliveries committed next, samples applied last: a request
/// that fails leaves no trace in the metrics.
async fn apply(
    gateway: &Gateway,
    plugin: &LoadedPlugin,
    outcome: &Outcome,
) -> Result<(), IngressError> {
    if let Err(error) = plugin.families.check(&outcome.samples) {
        let own = &gateway.metrics.own;
        own.sample_errors.with_label_values(&[plugin.name()]).inc();
        own.invocations
            .with_label_values(&[plugin.name(), "bad_output"])
            .inc();
        return Err(IngressError::Samples {
            plugin: plugin.name().to_string(),
            error,
        });
    }
    if !outcome.deliveries.is_empty() {
        gateway
            .deliveries
            .enqueue(plugin.name(), &outcome.deliveries)
            .await
            .map_err(IngressError::Outbox)?;
    }
    plugin.families.apply(&outcome.samples);
    Ok(())
}

fn respond(outcome: Outcome) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(outcome.response.body)));
    *response.status_mut() =
        StatusCode::from_u16(outcome.response.status).unwrap_or(StatusCode::OK);
    for (name, value) in outcome.response.headers {
        // Checked when the outcome was converted.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
