//! Keeps the outbox from growing without end: deliveries that finished (delivered or dead)
//! longer ago than `server.retention`, and attempts older than that, are deleted, at start and
//! then hourly, in small batches so that enqueues never wait long behind them.

use super::Deliveries;
use super::outbox::{Moved, now_ms};
use rusqlite::{Connection, params};
use std::sync::Arc;
use std::time::Duration;

/// Rows deleted per statement.
const BATCH: u32 = 5000;
/// How often it runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Starts the hourly pruning.
pub fn spawn(d: &Arc<Deliveries>, retention: Duration) {
    let d = d.clone();
    tokio::spawn(async move {
        loop {
            let cutoff = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            match prune_all(&d, cutoff).await {
                Ok((0, 0)) => {}
                Ok((deliveries, attempts)) => {
                    tracing::info!(deliveries, attempts, "pruned the outbox past its retention");
                }
                Err(e) => tracing::error!("pruning the outbox: {e}"),
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}

async fn prune_all(d: &Deliveries, cutoff: i64) -> Result<(usize, usize), super::OutboxError> {
    let targets = d.outbox().with(targets).await?;
    let (mut deliveries, mut attempts) = (0, 0);
    for target in targets {
        loop {
            let t = target.clone();
            let (n, m) = d
                .outbox()
                .change(move |c| {
                    let (moved, attempts) = prune(c, &t, cutoff, BATCH)?;
                    let deliveries = moved.iter().map(|m| m.n as usize).sum::<usize>();
                    Ok(((deliveries, attempts), moved))
                })
                .await?;
            deliveries += n;
            attempts += m;
            if n < BATCH as usize && m < BATCH as usize {
                break;
            }
        }
    }
    Ok((deliveries, attempts))
}

/// Every target with stored deliveries or attempts, configured or not any more.
fn targets(conn: &mut Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT target FROM deliveries UNION SELECT DISTINCT target FROM attempts",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// Deletes up to `batch` of `target`'s deliveries per finished state that finished before
/// `cutoff_ms`, and up to `batch` of its attempts from before then; each through its
/// (target, …) index. Returns the deliveries deleted as moves, and the attempts deleted.
/// One transaction: the moves reported are exactly what was deleted, or nothing was.
pub fn prune(
    conn: &mut Connection,
    target: &str,
    cutoff_ms: i64,
    batch: u32,
) -> rusqlite::Result<(Vec<Moved>, usize)> {
    let conn = conn.transaction()?;
    let mut moved = Vec::new();
    // A finished delivery's next_attempt_ms is when it finished.
    for state in ["delivered", "dead"] {
        let n = conn.execute(
            "DELETE FROM deliveries WHERE rowid IN (
                 SELECT rowid FROM deliveries
                 WHERE target = ?1 AND state = ?2 AND next_attempt_ms < ?3 LIMIT ?4)",
            params![target, state, cutoff_ms, batch],
        )?;
        if n > 0 {
            moved.push(Moved {
                target: target.to_string(),
                from: state,
                to: None,
                n: n as i64,
            });
        }
    }
    let attempts = conn.execute(
        "DELETE FROM attempts WHERE id IN
             (SELECT id FROM attempts WHERE target = ?1 AND at_ms < ?2 LIMIT ?3)",
        params![target, cutoff_ms, batch],
    )?;
    conn.commit()?;
    Ok((moved, attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_finished_before_the_cutoff_goes() {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(super::super::outbox::SCHEMA)
            .expect("schema");
        for (id, state, at) in [
            ("old-delivered", "delivered", 10),
            ("old-dead", "dead", 20),
            ("old-pending", "pending", 5),
            ("new-delivered", "delivered", 200),
        ] {
            conn.execute(
                "INSERT INTO deliveries (id, target, event_type, plugin, body, headers, created_ms, state, next_attempt_ms)
                 VALUES (?1, 't', 'e', 'p', x'', '[]', 0, ?2, ?3)",
                params![id, state, at],
            )
            .expect("insert");
            conn.execute(
                "INSERT INTO attempts (delivery, target, at_ms, duration_ms, request_bytes, response_excerpt)
                 VALUES (?1, 't', ?2, 1, 0, '')",
                params![id, at],
            )
            .expect("insert");
        }
        let deleted = |(moved, attempts): (Vec<Moved>, usize)| {
            let states: Vec<(&str, i64)> = moved.iter().map(|m| (m.from, m.n)).collect();
            (states, attempts)
        };
        assert_eq!(
            deleted(prune(&mut conn, "t", 100, 1).expect("prune")),
            (vec![("delivered", 1), ("dead", 1)], 1),
            "batches per state"
        );
        assert_eq!(
            deleted(prune(&mut conn, "t", 100, 10).expect("prune")),
            (vec![], 2)
        );
        assert_eq!(
            deleted(prune(&mut conn, "t", 100, 10).expect("prune")),
            (vec![], 0)
        );
        assert_eq!(targets(&mut conn).expect("targets"), ["t"]);
        let left: Vec<String> = conn
            .prepare("SELECT id FROM deliveries ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("select");
        assert_eq!(
            left,
            ["new-delivered", "old-pending"],
            "pending stays, however old"
        );
    }
}
