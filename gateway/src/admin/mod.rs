//! The operator's side, on its own listener: the admin API under `/api/` behind the bearer
//! token from `[admin]`, and the web page over it at `/` (static, embedded, no data inside,
//! so it is served without the token; it asks for one and sends it on every API call).

mod api;
mod page;

use crate::config::Secret;
use crate::ingress::handler::Gateway;
use crate::ingress::verify::constant_time_eq;
use api::error;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves the admin API and page until the process ends.
pub fn spawn(listener: TcpListener, token: Secret, gateway: Arc<Gateway>) {
    let token = Arc::new(token);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (token, gateway) = (token.clone(), gateway.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let (token, gateway) = (token.clone(), gateway.clone());
                    async move { Ok::<_, std::convert::Infallible>(handle(&token, &gateway, req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn handle(
    token: &Secret,
    gateway: &Gateway,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if req.method() == Method::GET
        && let Some(asset) = page::asset(req.uri().path())
    {
        return asset;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => error(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer <token>`",
        ),
        Some(t) if !constant_time_eq(t.as_bytes(), token.expose()) => {
            error(StatusCode::FORBIDDEN, "wrong admin token")
        }
        Some(_) => api::call(gateway, req).await,
    }
}
