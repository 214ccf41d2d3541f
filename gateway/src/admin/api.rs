//! The admin API's calls: JSON in and out, the token already checked.
//!
//! | call | does |
//! |---|---|
//! | `GET /api/targets` | targets with state and statistics |
//! | `GET /api/targets/{name}` | one target with its recent attempts and its last hour by minute |
//! | `POST /api/targets/{name}/pause` / `resume` | hold / release its deliveries |
//! | `POST /api/targets/{name}/test` | send a test delivery through the real pipeline |
//! | `POST /api/targets/{name}/replay` | requeue all its dead deliveries |
//! | `GET /api/targets/{name}/secret` | its signing secrets, current first |
//! | `POST /api/targets/{name}/secret/rotate` | new generated secret; `{"grace": "24h"}` keeps the old one signing that long |
//! | `GET /api/deliveries?state=dead&target=t&limit=100` | stored deliveries |
//! | `POST /api/deliveries/{id}/replay` | requeue one dead delivery |
//! | `GET /api/plugins` | loaded plugins and the last reload result of every file |

use crate::delivery::{Deliveries, DeliveryError, OutboxError, SigningSecret, Target, state};
use crate::ingress::handler::{Gateway, plugins_report};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

/// A JSON answer.
pub(super) fn answer(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// `{"detail": …}` with a status.
pub(super) fn error(status: StatusCode, detail: impl Into<String>) -> Response<Full<Bytes>> {
    answer(status, json!({ "detail": detail.into() }))
}

/// Answers one authorised call.
pub(super) async fn call(gateway: &Gateway, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let d = &*gateway.deliveries;
    let path: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    let query = req.uri().query().unwrap_or_default().to_string();
    let result = match (req.method().clone(), path.as_slice()) {
        (Method::GET, ["api", "plugins"]) => Ok(answer(StatusCode::OK, plugins_report(gateway))),
        (Method::GET, ["api", "targets"]) => list_targets(d).await,
        (Method::GET, ["api", "targets", name]) => one_target(d, name).await,
        (Method::GET, ["api", "targets", name, "secret"]) => Ok(secret(d, name)),
        (Method::POST, ["api", "targets", name, "secret", "rotate"]) => {
            let name = name.to_string();
            Ok(rotate(d, &name, req.into_body()).await)
        }
        (Method::POST, ["api", "targets", name, action]) => target_action(d, name, action).await,
        (Method::GET, ["api", "deliveries"]) => list_deliveries(d, &query).await,
        (Method::POST, ["api", "deliveries", id, "replay"]) => {
            let id = id.to_string();
            let n = d
                .outbox()
                .change(move |c| state::replay(c, Some(&id), None, now()))
                .await;
            n.map(|n| {
                d.wake();
                if n == 0 {
                    error(StatusCode::NOT_FOUND, "no dead delivery with that id")
                } else {
                    answer(StatusCode::OK, json!({ "replayed": n }))
                }
            })
        }
        _ => Ok(error(
            StatusCode::NOT_FOUND,
            format!("no admin call {} {}", req.method(), req.uri().path()),
        )),
    };
    result.unwrap_or_else(|e| error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn describe(d: &Deliveries, t: &Target, attempts: u32) -> Result<Value, OutboxError> {
    let name = t.name.clone();
    let failures = t.breaker().failures();
    let detail = attempts > 0;
    let counts = d.outbox().target_counts(&name).await?;
    let (st, stats, recent, history) = d
        .outbox()
        .with(move |c| {
            Ok((
                state::state(c, &name, failures)?,
                state::stats(c, &name, counts)?,
                state::recent_attempts(c, &name, attempts)?,
                if detail {
                    state::history(c, &name, now(), 60)?
                } else {
                    Vec::new()
                },
            ))
        })
        .await?;
    let mut v = json!({
        "name": t.name,
        "url": t.url.as_str(),
        "events": t.events,
        "signed": t.signing.is_some(),
        "state": st,
        "circuit": circuit(t),
        "stats": stats,
    });
    if detail {
        v["recent_attempts"] = json!(recent);
        v["last_hour"] = json!(history);
    }
    Ok(v)
}

/// `{"open": false}`, or open with the milliseconds until the next probe may go.
fn circuit(t: &Target) -> Value {
    let breaker = t.breaker();
    match breaker.open_until() {
        None => json!({ "open": false }),
        Some(until) => json!({
            "open": true,
            "next_probe_in_ms": until.saturating_duration_since(std::time::Instant::now()).as_millis() as u64,
        }),
    }
}

async fn list_targets(d: &Deliveries) -> Result<Response<Full<Bytes>>, OutboxError> {
    let mut out = Vec::new();
    for t in d.targets() {
        out.push(describe(d, t, 0).await?);
    }
    Ok(answer(StatusCode::OK, json!({ "targets": out })))
}

async fn one_target(d: &Deliveries, name: &str) -> Result<Response<Full<Bytes>>, OutboxError> {
    match d.target(name) {
        Some(t) => Ok(answer(StatusCode::OK, describe(d, t, 50).await?)),
        None => Ok(error(StatusCode::NOT_FOUND, format!("no target '{name}'"))),
    }
}

async fn target_action(
    d: &Deliveries,
    name: &str,
    action: &str,
) -> Result<Response<Full<Bytes>>, OutboxError> {
    if d.target(name).is_none() {
        return Ok(error(StatusCode::NOT_FOUND, format!("no target '{name}'")));
    }
    let owned = name.to_string();
    let body = match action {
        "pause" | "resume" => {
            let paused = action == "pause";
            d.outbox()
                .with(move |c| state::set_paused(c, &owned, paused))
                .await?;
            d.publish_state(name).await;
            d.wake();
            json!({ "target": name, "state": d.state(name).await? })
        }
        "test" => json!({ "target": name, "delivery": d.send_test(name).await? }),
        "replay" => {
            let n = d
                .outbox()
                .change(move |c| state::replay(c, None, Some(&owned), now()))
                .await?;
            d.wake();
            json!({ "target": name, "replayed": n })
        }
        other => {
            return Ok(error(
                StatusCode::NOT_FOUND,
                format!("unknown action '{other}' (pause, resume, test, replay)"),
            ));
        }
    };
    Ok(answer(StatusCode::OK, body))
}

/// The secrets that still sign, current first.
fn secrets_json(secrets: &[SigningSecret]) -> Value {
    let now = now();
    json!(
        secrets
            .iter()
            .filter(|s| s.expires_ms.is_none_or(|e| e > now))
            .map(|s| json!({ "secret": s.text, "expires_ms": s.expires_ms }))
            .collect::<Vec<_>>()
    )
}

fn secret(d: &Deliveries, name: &str) -> Response<Full<Bytes>> {
    let Some(t) = d.target(name) else {
        return error(StatusCode::NOT_FOUND, format!("no target '{name}'"));
    };
    let Some(signing) = &t.signing else {
        return error(
            StatusCode::NOT_FOUND,
            format!("target '{name}' does not sign (no signing_secret)"),
        );
    };
    let source = if signing.generated {
        "generated"
    } else {
        "config"
    };
    answer(
        StatusCode::OK,
        json!({ "target": name, "source": source, "secrets": secrets_json(&signing.secrets()) }),
    )
}

/// Most of a rotate request's body read.
const MAX_BODY: usize = 4096;

async fn rotate(d: &Deliveries, name: &str, body: Incoming) -> Response<Full<Bytes>> {
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body: {e}")),
    };
    let grace = if body.iter().all(u8::is_ascii_whitespace) {
        std::time::Duration::from_secs(24 * 3600)
    } else {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Rotate {
            #[serde(with = "humantime_serde")]
            grace: std::time::Duration,
        }
        match serde_json::from_slice::<Rotate>(&body) {
            Ok(r) => r.grace,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("expected {{\"grace\": \"24h\"}}: {e}"),
                );
            }
        }
    };
    match d.rotate_secret(name, grace).await {
        Ok(Some(secrets)) => answer(
            StatusCode::OK,
            json!({ "target": name, "source": "generated", "secrets": secrets_json(&secrets) }),
        ),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("no target '{name}' that signs"),
        ),
        Err(e @ DeliveryError::Secret { .. }) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn list_deliveries(
    d: &Deliveries,
    query: &str,
) -> Result<Response<Full<Bytes>>, OutboxError> {
    let param = |key: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    let (st, target) = (param("state"), param("target"));
    if let Some(s) = st
        .as_deref()
        .filter(|s| !["pending", "delivered", "dead"].contains(s))
    {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            format!("state '{s}' is not one of pending, delivered, dead"),
        ));
    }
    let limit = match param("limit").map(|l| l.parse::<u32>()) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "limit must be a number from 1 to 1000",
            ));
        }
    };
    let rows = d
        .outbox()
        .with(move |c| state::deliveries(c, st.as_deref(), target.as_deref(), limit))
        .await?;
    Ok(answer(StatusCode::OK, json!({ "deliveries": rows })))
}
