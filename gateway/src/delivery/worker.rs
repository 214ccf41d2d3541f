//! Claims due deliveries, sends them, records every attempt and moves each delivery on
//! according to the retry policy.

use super::Deliveries;
use super::outbox::{Attempt, Due, Next, now_ms};
use super::retry::{AttemptResult, Decision, decide, parse_retry_after};
use super::target::{RESPONSE_EXCERPT, Target};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Semaphore;

/// Attempts in flight at once, over all targets.
const CONCURRENCY: usize = 32;
/// How often the outbox is polled when nothing wakes the worker.
const POLL: Duration = Duration::from_millis(100);
/// The least time between two polls: under load, wake-ups from many requests share a poll
/// instead of each costing one.
const MIN_POLL: Duration = Duration::from_millis(2);

pub fn spawn(d: Arc<Deliveries>) {
    tokio::spawn(async move {
        let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut last_counts = Instant::now() - Duration::from_secs(10);
        let mut last_poll = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = d.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            tokio::time::sleep_until(last_poll + MIN_POLL).await;
            last_poll = tokio::time::Instant::now();
            if last_counts.elapsed() >= Duration::from_secs(1) {
                last_counts = Instant::now();
                if let Ok(counts) = d.outbox.counts().await {
                    for state in ["pending", "delivered", "dead"] {
                        let n = counts
                            .iter()
                            .find(|(s, _)| s == state)
                            .map_or(0, |(_, n)| *n);
                        d.metrics
                            .outbox_deliveries
                            .with_label_values(&[state])
                            .set(n);
                    }
                }
                // The state gauges follow here, once a second, not per attempt.
                for target in d.targets.keys() {
                    d.publish_state(target).await;
                }
            }
            // Only targets that may send now, and no more of each than it can take.
            let now = Instant::now();
            let wanted = d
                .targets
                .values()
                .filter(|t| t.breaker().would_start(now))
                .map(|t| {
                    let one = t.pace.is_some() || t.breaker().is_open();
                    (t.name.clone(), if one { 1 } else { CONCURRENCY as u32 * 2 })
                })
                .collect();
            let due = match d.outbox.due(wanted).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!("{e}");
                    continue;
                }
            };
            for item in due {
                if in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains(&item.id)
                {
                    continue;
                }
                // Over its rate limit or held by its breaker: stays pending for a later pass.
                if d.targets.get(&item.target).is_some_and(|t| !t.may_start()) {
                    continue;
                }
                if !in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(item.id.clone())
                {
                    continue;
                }
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (d, in_flight) = (d.clone(), in_flight.clone());
                tokio::spawn(async move {
                    let id = item.id.clone();
                    attempt(&d, item).await;
                    in_flight
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(&id);
                    drop(permit);
                    d.wake.notify_one();
                });
            }
        }
    });
}

async fn attempt(d: &Deliveries, item: Due) {
    let at_ms = now_ms();
    let Some(target) = d.targets.get(&item.target) else {
        let error = format!("target '{}' is no longer configured", item.target);
        record(
            d,
            &item,
            at_ms,
            None,
            0,
            String::new(),
            Some(error),
            Next::Dead,
        )
        .await;
        return;
    };
    let started = Instant::now();
    let (result, status, excerpt, error) = send(target, &item).await;
    let elapsed = started.elapsed();
    d.metrics
        .delivery_duration
        .with_label_values(&[target.name.as_str()])
        .observe(elapsed.as_secs_f64());
    let decision = decide(&target.policy, item.attempts + 1, result, jitter());
    {
        let mut breaker = target.breaker();
        let was_open = breaker.is_open();
        if decision == Decision::Delivered {
            breaker.succeeded();
            if was_open {
                tracing::info!(target = %target.name, "circuit closed: the receiver answers again");
            }
        } else {
            breaker.failed(Instant::now());
            if !was_open && breaker.is_open() {
                tracing::warn!(target = %target.name, "circuit open: deliveries held, one probe after the cool-down");
            }
        }
    }
    let (next, label) = match decision {
        Decision::Delivered => (Next::Delivered, "delivered"),
        Decision::RetryIn(wait) => (Next::RetryAt(now_ms() + wait.as_millis() as i64), "retry"),
        Decision::Dead => (Next::Dead, "dead"),
        Decision::DisableTarget => {
            tracing::warn!(target = %target.name, "target answered 410 Gone: disabled until an operator resumes it; its deliveries wait");
            (Next::Dead, "disabled")
        }
    };
    d.metrics
        .deliveries
        .with_label_values(&[target.name.as_str(), label])
        .inc();
    if label != "delivered" {
        tracing::warn!(
            target = %target.name,
            delivery = %item.id,
            attempt = item.attempts + 1,
            status = ?status,
            error = ?error,
            "delivery attempt failed ({label})"
        );
    }
    record(
        d,
        &item,
        at_ms,
        status,
        elapsed.as_millis() as i64,
        excerpt,
        error,
        next,
    )
    .await;
    if decision == Decision::DisableTarget {
        let name = target.name.clone();
        let result = d
            .outbox
            .with(move |conn| super::state::disable(conn, &name, "answered 410 Gone"))
            .await;
        if let Err(e) = result {
            tracing::error!("{e}");
        }
        d.publish_state(&target.name).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    d: &Deliveries,
    item: &Due,
    at_ms: i64,
    status: Option<u16>,
    duration_ms: i64,
    excerpt: String,
    error: Option<String>,
    next: Next,
) {
    let attempt = Attempt {
        delivery: item.id.clone(),
        target: item.target.clone(),
        at_ms,
        http_status: status,
        duration_ms,
        request_bytes: item.body.len() as i64,
        response_excerpt: excerpt,
        error,
    };
    if let Err(e) = d.outbox.record(attempt, next).await {
        // Left pending: it will be sent again, with the same webhook-id.
        tracing::error!(delivery = %item.id, "cannot record the attempt: {e}");
    }
}

/// One HTTP attempt: what came back, the status, a bounded excerpt, the error.
async fn send(target: &Target, item: &Due) -> (AttemptResult, Option<u16>, String, Option<String>) {
    let mut request = target
        .client
        .request(target.method.clone(), target.url.clone())
        .headers(target.headers.clone())
        .body(item.body.clone());
    for (name, value) in &item.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(signing) = &target.signing {
        let now = now_ms();
        for (name, value) in signing.headers(&item.id, now / 1000, &item.body, now) {
            request = request.header(name, value);
        }
    } else {
        request = request.header("webhook-id", item.id.as_str());
    }
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return (
                AttemptResult::Timeout,
                None,
                String::new(),
                Some(format!("timed out: {e}")),
            );
        }
        Err(e) => {
            return (
                AttemptResult::Network,
                None,
                String::new(),
                Some(error_chain(&e)),
            );
        }
    };
    let code = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let mut excerpt = Vec::new();
    // Read at most the excerpt; the rest of a large answer is not worth waiting for.
    while excerpt.len() < RESPONSE_EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt
                .extend_from_slice(&chunk[..chunk.len().min(RESPONSE_EXCERPT - excerpt.len())]),
            _ => break,
        }
    }
    let error = (!(200..300).contains(&code)).then(|| format!("HTTP {code}"));
    (
        AttemptResult::Status { code, retry_after },
        Some(code),
        String::from_utf8_lossy(&excerpt).into_owned(),
        error,
    )
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn jitter() -> f64 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}
