//! Operator views and actions on targets and deliveries, as queries on the outbox: state
//! (active, paused, disabled by a 410, degraded), statistics, recent attempts, pause, resume,
//! replay.

use super::outbox::{Counts, Moved, moved};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A target's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    /// Deliveries flow.
    Active,
    /// Held by the operator; deliveries wait.
    Paused,
    /// The receiver answered 410 Gone; deliveries wait until the operator resumes it.
    Disabled,
    /// Active, but its recent attempts mostly fail.
    Degraded,
}

/// Consecutive failed attempts after which an active target counts as degraded.
pub const DEGRADED_AFTER: u32 = 3;

/// Per-target numbers, as operators expect them.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Deliveries delivered.
    pub delivered: i64,
    /// Deliveries given up on (dead).
    pub failed: i64,
    /// Deliveries waiting (first try or a retry).
    pub pending: i64,
    /// delivered / (delivered + failed), when any finished.
    pub success_rate: Option<f64>,
    /// Unix ms of the last successful attempt.
    pub last_delivery_ms: Option<i64>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i64,
}

/// One logged attempt.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    /// Unix ms.
    pub at_ms: i64,
    /// Delivery id (its `webhook-id`).
    pub delivery: String,
    /// `success` or `failed`.
    pub status: &'static str,
    /// HTTP status, if the receiver answered.
    pub http_status: Option<u16>,
    /// Milliseconds.
    pub duration_ms: i64,
    /// Payload bytes.
    pub request_bytes: i64,
    /// Start of the answer.
    pub response_excerpt: String,
    /// What went wrong.
    pub error: Option<String>,
}

/// One stored delivery.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    /// Id.
    pub id: String,
    /// Target.
    pub target: String,
    /// Event type.
    pub event_type: String,
    /// Plugin.
    pub plugin: String,
    /// pending, delivered or dead.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Unix ms.
    pub created_ms: i64,
    /// Unix ms of the next attempt (pending).
    pub next_attempt_ms: i64,
    /// Last error.
    pub last_error: Option<String>,
}

/// The state of `target`, which has failed `failures` attempts in a row.
pub fn state(conn: &Connection, target: &str, failures: u32) -> rusqlite::Result<TargetState> {
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT paused, disabled FROM target_state WHERE target = ?1",
            [target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((1, _)) => TargetState::Paused,
        Some((_, 1)) => TargetState::Disabled,
        _ if failures >= DEGRADED_AFTER => TargetState::Degraded,
        _ => TargetState::Active,
    })
}

/// Failed attempts in a row counted at most this far back (the breaker and the page need to
/// know "many", not how many of a receiver down for a week).
const MAX_RUN: i64 = 10_000;

/// Statistics of `target`, whose deliveries by state are `counts` (the outbox keeps them).
pub fn stats(conn: &Connection, target: &str, counts: Counts) -> rusqlite::Result<Stats> {
    let (delivered, failed, pending) = (counts.delivered, counts.dead, counts.pending);
    let last_delivery_ms = last_delivery(conn, target)?;
    let consecutive_failures = failures_since(conn, target, last_delivery_ms)?;
    let finished = delivered + failed;
    Ok(Stats {
        delivered,
        failed,
        pending,
        success_rate: (finished > 0).then(|| delivered as f64 / finished as f64),
        last_delivery_ms,
        consecutive_failures,
    })
}

/// Unix ms of `target`'s last successful attempt. Walks the (target, at_ms) index back from
/// the newest attempt: usually one step.
fn last_delivery(conn: &Connection, target: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT at_ms FROM attempts WHERE target = ?1 AND http_status BETWEEN 200 AND 299
         ORDER BY at_ms DESC LIMIT 1",
        [target],
        |r| r.get(0),
    )
    .optional()
}

fn failures_since(conn: &Connection, target: &str, since: Option<i64>) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM attempts WHERE target = ?1 AND at_ms > ?2 LIMIT ?3)",
        params![target, since.unwrap_or(0), MAX_RUN],
        |r| r.get(0),
    )
}

/// Failed attempts on `target` since its last success (at most 10,000).
pub fn consecutive_failures(conn: &Connection, target: &str) -> rusqlite::Result<i64> {
    failures_since(conn, target, last_delivery(conn, target)?)
}

/// The most recent attempts on `target`, newest first.
pub fn recent_attempts(
    conn: &Connection,
    target: &str,
    limit: u32,
) -> rusqlite::Result<Vec<AttemptView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms, delivery, http_status, duration_ms, request_bytes, response_excerpt, error
         FROM attempts WHERE target = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![target, limit], |r| {
        let http_status: Option<u16> = r.get(2)?;
        Ok(AttemptView {
            at_ms: r.get(0)?,
            delivery: r.get(1)?,
            status: if http_status.is_some_and(|s| (200..300).contains(&s)) {
                "success"
            } else {
                "failed"
            },
            http_status,
            duration_ms: r.get(3)?,
            request_bytes: r.get(4)?,
            response_excerpt: r.get(5)?,
            error: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Deliveries, newest first, filtered by state and target.
pub fn deliveries(
    conn: &Connection,
    state: Option<&str>,
    target: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<DeliveryView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, target, event_type, plugin, state, attempts, created_ms, next_attempt_ms, last_error
         FROM deliveries WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR target = ?2)
         ORDER BY created_ms DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![state, target, limit], |r| {
        Ok(DeliveryView {
            id: r.get(0)?,
            target: r.get(1)?,
            event_type: r.get(2)?,
            plugin: r.get(3)?,
            state: r.get(4)?,
            attempts: r.get(5)?,
            created_ms: r.get(6)?,
            next_attempt_ms: r.get(7)?,
            last_error: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Pauses (`true`) or resumes (`false`) a target; resuming also re-enables one a 410 disabled.
pub fn set_paused(conn: &Connection, target: &str, paused: bool) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO target_state (target, paused, disabled) VALUES (?1, ?2, 0)
         ON CONFLICT (target) DO UPDATE SET paused = ?2, disabled = CASE WHEN ?2 = 0 THEN 0 ELSE disabled END",
        params![target, paused],
    )?;
    Ok(())
}

/// Marks a target disabled (it answered 410 Gone).
pub fn disable(conn: &Connection, target: &str, reason: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO target_state (target, disabled, reason) VALUES (?1, 1, ?2)
         ON CONFLICT (target) DO UPDATE SET disabled = 1, reason = ?2",
        params![target, reason],
    )?;
    Ok(())
}

/// Puts dead deliveries back in the queue, due now, with a fresh retry budget: one by id, or
/// all of a target's. Returns how many, and the moves for the outbox's counts.
pub fn replay(
    conn: &Connection,
    id: Option<&str>,
    target: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<(usize, Vec<Moved>)> {
    let targets: Vec<String> = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_ms = ?3
             WHERE state = 'dead' AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR target = ?2)
             RETURNING target",
        )?
        .query_map(params![id, target, now_ms], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((targets.len(), moved(targets, "dead", Some("pending"))))
}

/// Attempts on a target in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Minute {
    /// Unix ms of the minute's start.
    pub start_ms: i64,
    /// Attempts answered 2xx.
    pub success: i64,
    /// Other attempts.
    pub failed: i64,
}

/// Attempts on `target` per minute over the `minutes` minutes up to `now_ms` (the current
/// minute last), oldest first, empty minutes included.
pub fn history(
    conn: &Connection,
    target: &str,
    now_ms: i64,
    minutes: u32,
) -> rusqlite::Result<Vec<Minute>> {
    const MINUTE: i64 = 60_000;
    let first = now_ms.div_euclid(MINUTE) - i64::from(minutes) + 1;
    let mut out: Vec<Minute> = (0..i64::from(minutes))
        .map(|i| Minute {
            start_ms: (first + i) * MINUTE,
            success: 0,
            failed: 0,
        })
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms / 60000, count(CASE WHEN http_status BETWEEN 200 AND 299 THEN 1 END), count(*)
         FROM attempts WHERE target = ?1 AND at_ms >= ?2 GROUP BY 1",
    )?;
    let rows = stmt.query_map(params![target, first * MINUTE], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (minute, success, all) = row?;
        // Attempts stamped after `now_ms` (a clock step) fall outside and are left out.
        if let Some(m) = usize::try_from(minute - first)
            .ok()
            .and_then(|i| out.get_mut(i))
        {
            m.success = success;
            m.failed = all - success;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_buckets_attempts_by_minute_with_empty_minutes_and_window_edges() {
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(super::super::outbox::SCHEMA)
            .expect("schema");
        let now = 10 * 60_000 + 30_000; // half past minute 10
        for (target, at, status) in [
            ("t", 7 * 60_000 - 1, Some(200)), // minute 6: before a 4-minute window
            ("t", 7 * 60_000, Some(204)),     // first bucket's first millisecond
            ("t", 7 * 60_000 + 5, Some(500)),
            ("t", 9 * 60_000 + 1, None), // network error
            ("t", now, Some(200)),
            ("other", now, Some(500)),
        ] {
            conn.execute(
                "INSERT INTO attempts (delivery, target, at_ms, http_status, duration_ms, request_bytes, response_excerpt)
                 VALUES ('d', ?1, ?2, ?3, 1, 0, '')",
                params![target, at, status],
            )
            .expect("insert");
        }
        let got = history(&conn, "t", now, 4).expect("history");
        let minute = |m: i64, success, failed| Minute {
            start_ms: m * 60_000,
            success,
            failed,
        };
        assert_eq!(
            got,
            [
                minute(7, 1, 1),
                minute(8, 0, 0),
                minute(9, 0, 1),
                minute(10, 1, 0)
            ]
        );
    }
}
