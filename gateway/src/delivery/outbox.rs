//! The durable outbox: one SQLite file (WAL), owned by one thread. Enqueues from concurrent
//! requests are committed together in one transaction (group commit) before any of those
//! requests is answered; a delivery accepted is on disk.

use crate::config::OutboxSync;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

/// A delivery to store.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Stable id, sent as `webhook-id` on every attempt.
    pub id: String,
    /// Target name.
    pub target: String,
    /// Event type.
    pub event_type: String,
    /// Plugin that produced it.
    pub plugin: String,
    /// Body.
    pub body: Vec<u8>,
    /// Headers from the plugin.
    pub headers: Vec<(String, String)>,
    /// Deliveries with the same key and target are stored once.
    pub idempotency_key: Option<String>,
}

/// A stored delivery due for an attempt.
#[derive(Debug, Clone)]
pub struct Due {
    /// Id.
    pub id: String,
    /// Target.
    pub target: String,
    /// Event type.
    pub event_type: String,
    /// Body.
    pub body: Vec<u8>,
    /// Plugin headers.
    pub headers: Vec<(String, String)>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// One attempt, for the log.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Delivery.
    pub delivery: String,
    /// Target.
    pub target: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// HTTP status, if any.
    pub http_status: Option<u16>,
    /// Milliseconds.
    pub duration_ms: i64,
    /// Bytes sent.
    pub request_bytes: i64,
    /// Start of the answer.
    pub response_excerpt: String,
    /// What went wrong.
    pub error: Option<String>,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered.
    Delivered,
    /// Pending again at this unix-ms time.
    RetryAt(i64),
    /// Dead (kept for replay).
    Dead,
}

/// The outbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[error("outbox: {0}")]
pub struct OutboxError(String);

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        OutboxError(e.to_string())
    }
}

type Reply<T> = oneshot::Sender<Result<T, OutboxError>>;

/// `targets` (one entry per delivery) as moves from `from` to `to`, one per target.
pub fn moved(
    targets: impl IntoIterator<Item = String>,
    from: &'static str,
    to: Option<&'static str>,
) -> Vec<Moved> {
    let mut out: Vec<Moved> = Vec::new();
    for target in targets {
        match out.iter_mut().find(|m| m.target == target) {
            Some(m) => m.n += 1,
            None => out.push(Moved {
                target,
                from,
                to,
                n: 1,
            }),
        }
    }
    out
}

/// One target's deliveries by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting for a first try or a retry.
    pub pending: i64,
    /// Delivered.
    pub delivered: i64,
    /// Given up on.
    pub dead: i64,
}

/// What a [`Outbox::change`] did to the deliveries' states: `n` of `target`'s deliveries left
/// `from` for `to` (`None`: deleted). The outbox keeps its counts in step from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Target.
    pub target: String,
    /// State before.
    pub from: &'static str,
    /// State after, if still stored.
    pub to: Option<&'static str>,
    /// How many.
    pub n: i64,
}

enum Command {
    Enqueue(Vec<NewDelivery>, Reply<()>),
    Due {
        targets: Vec<(String, u32)>,
        now_ms: i64,
        reply: Reply<Vec<Due>>,
    },
    Record {
        attempt: Attempt,
        next: Next,
        reply: Reply<()>,
    },
    Counts(Reply<Vec<(String, i64)>>),
    TargetCounts(String, Reply<Counts>),
    Run(Job),
}

/// Work for the outbox thread; returns the state changes it made.
type Job = Box<dyn FnOnce(&mut Connection) -> Vec<Moved> + Send>;

/// Handle to the outbox thread.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Command>,
}

/// The tables, created on open.
pub(super) const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    event_type TEXT NOT NULL,
    plugin TEXT NOT NULL,
    body BLOB NOT NULL,
    headers TEXT NOT NULL,
    idempotency_key TEXT,
    created_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS deliveries_idempotency
    ON deliveries (target, idempotency_key) WHERE idempotency_key IS NOT NULL;
DROP INDEX IF EXISTS deliveries_due;
DROP INDEX IF EXISTS deliveries_by_target;
CREATE INDEX IF NOT EXISTS deliveries_due_by_target ON deliveries (target, state, next_attempt_ms, created_ms);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    delivery TEXT NOT NULL,
    target TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    http_status INTEGER,
    duration_ms INTEGER NOT NULL,
    request_bytes INTEGER NOT NULL,
    response_excerpt TEXT NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_target ON attempts (target, at_ms);
CREATE TABLE IF NOT EXISTS signing_secrets (
    target TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER
);
CREATE TABLE IF NOT EXISTS target_state (
    target TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    reason TEXT
);
";

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Outbox {
    /// Opens (or creates) `dir/outbox.sqlite3` and starts its thread.
    pub fn open(dir: &Path, sync: OutboxSync) -> Result<Self, OutboxError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| OutboxError(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("outbox.sqlite3");
        let conn = Connection::open(&path)?;
        // One gateway per outbox: two would send every delivery twice. The lock is held until
        // the connection closes, and the OS drops it if the process dies; a predecessor still
        // shutting down gets a few seconds.
        conn.busy_timeout(Duration::from_secs(3))?;
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy) => {
                    OutboxError(format!(
                        "{} is in use by another process (another Hookgate with the same server.data_dir?)",
                        path.display()
                    ))
                }
                _ => e.into(),
            })?;
        conn.execute_batch(SCHEMA)?;
        // The plans never depend on bound values; without this, rebinding a `LIMIT ?` (every
        // `due` poll) makes SQLite prepare the statement again.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.execute_batch(match sync {
            OutboxSync::Full => "PRAGMA synchronous = FULL;",
            OutboxSync::Normal => "PRAGMA synchronous = NORMAL;",
        })?;
        let pace = match sync {
            OutboxSync::Full => Duration::ZERO,
            OutboxSync::Normal => NORMAL_COMMIT_INTERVAL,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("hookgate-outbox".into())
            .spawn(move || run(conn, rx, pace))
            .map_err(|e| OutboxError(format!("cannot start the outbox thread: {e}")))?;
        Ok(Outbox { tx })
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, OutboxError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(make(reply))
            .map_err(|_| OutboxError("the outbox thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| OutboxError("the outbox thread has stopped".into()))?
    }

    /// Stores deliveries durably; returns once they are committed.
    pub async fn enqueue(&self, deliveries: Vec<NewDelivery>) -> Result<(), OutboxError> {
        self.ask(|reply| Command::Enqueue(deliveries, reply)).await
    }

    /// Pending deliveries whose time has come, oldest first, up to a limit per target;
    /// none of a paused or disabled target.
    pub async fn due(&self, targets: Vec<(String, u32)>) -> Result<Vec<Due>, OutboxError> {
        let now_ms = now_ms();
        self.ask(|reply| Command::Due {
            targets,
            now_ms,
            reply,
        })
        .await
    }

    /// Logs an attempt and moves its delivery on.
    pub async fn record(&self, attempt: Attempt, next: Next) -> Result<(), OutboxError> {
        self.ask(|reply| Command::Record {
            attempt,
            next,
            reply,
        })
        .await
    }

    /// Runs `f` on the outbox thread (for the admin views and operations); `f` must not
    /// change deliveries' states (see `change`).
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, OutboxError> {
        self.change(move |conn| f(conn).map(|t| (t, Vec::new())))
            .await
    }

    /// Runs `f`, which may move deliveries between states and says how, on the outbox thread.
    pub async fn change<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<(T, Vec<Moved>)> + Send + 'static,
    ) -> Result<T, OutboxError> {
        self.ask(|reply: Reply<T>| {
            Command::Run(Box::new(move |conn| match f(conn) {
                Ok((t, moved)) => {
                    let _ = reply.send(Ok(t));
                    moved
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                    Vec::new()
                }
            }))
        })
        .await
    }

    /// Deliveries by state, all targets together.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, OutboxError> {
        self.ask(Command::Counts).await
    }

    /// One target's deliveries by state (kept in memory: no scan).
    pub async fn target_counts(&self, target: &str) -> Result<Counts, OutboxError> {
        self.ask(|reply| Command::TargetCounts(target.to_string(), reply))
            .await
    }
}

/// Deliveries by target and state, counted once at start and then kept in step with every
/// write, so that the gauges and the admin views (refreshed every few seconds) cost no scan
/// of a table that holds days of deliveries.
#[derive(Debug, Default)]
struct Tally(HashMap<String, Counts>);

impl Tally {
    fn count(conn: &Connection) -> rusqlite::Result<Tally> {
        let mut t = Tally::default();
        let mut stmt = conn.prepare_cached(
            "SELECT target, state, count(*) FROM deliveries GROUP BY target, state",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (target, state, n) = row?;
            t.add(&target, &state, n);
        }
        Ok(t)
    }

    fn add(&mut self, target: &str, state: &str, n: i64) {
        let counts = match self.0.get_mut(target) {
            Some(c) => c,
            None => self.0.entry(target.to_string()).or_default(),
        };
        match state {
            "pending" => counts.pending += n,
            "delivered" => counts.delivered += n,
            "dead" => counts.dead += n,
            _ => {}
        }
    }

    fn apply(&mut self, moved: &[Moved]) {
        for m in moved {
            self.add(&m.target, m.from, -m.n);
            if let Some(to) = m.to {
                self.add(&m.target, to, m.n);
            }
        }
    }

    fn list(&self) -> Vec<(String, i64)> {
        let sum = |f: fn(&Counts) -> i64| self.0.values().map(f).sum::<i64>();
        vec![
            ("pending".into(), sum(|c| c.pending)),
            ("delivered".into(), sum(|c| c.delivered)),
            ("dead".into(), sum(|c| c.dead)),
        ]
    }
}

/// With `outbox_sync = "normal"`, the least time from one group commit's start to the next's.
/// Without an fsync a commit is quick, so unpaced the groups shrink towards one request each
/// and every request pays for a commit and a wake-up of this thread (paired runs: 0.90 of
/// `full`'s rate unpaced, 1.12 with this). Under `full` the fsync spaces the groups already
/// (paced as well, it measured 0.98).
const NORMAL_COMMIT_INTERVAL: Duration = Duration::from_micros(200);

/// The outbox thread: group commits no closer than `pace` apart (a request finding the outbox
/// idle for longer is committed at once), and everything else in between.
fn run(mut conn: Connection, rx: mpsc::Receiver<Command>, pace: Duration) {
    let mut tally = Tally::count(&conn).unwrap_or_else(|e| {
        tracing::error!("cannot count the outbox: {e}");
        Tally::default()
    });
    let mut last_commit: Option<Instant> = None;
    while let Ok(first) = rx.recv() {
        if let Some(last) = last_commit {
            std::thread::sleep((last + pace).saturating_duration_since(Instant::now()));
        }
        // Group commit: every enqueue and attempt record waiting now goes into one
        // transaction, so one fsync covers many requests.
        let mut enqueues = Vec::new();
        let mut records = Vec::new();
        let mut other = Vec::new();
        for command in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match command {
                Command::Enqueue(d, r) => enqueues.push((d, r)),
                Command::Record {
                    attempt,
                    next,
                    reply,
                } => records.push((attempt, next, reply)),
                c => other.push(c),
            }
        }
        if !enqueues.is_empty() || !records.is_empty() {
            last_commit = Some(Instant::now());
            let result = write(
                &mut conn,
                enqueues.iter().flat_map(|(d, _)| d.iter()),
                records.iter().map(|(a, n, _)| (a, *n)),
            );
            let result = result.map(|(inserted, moved)| {
                for target in inserted {
                    tally.add(target, "pending", 1);
                }
                tally.apply(&moved);
            });
            let reply = || {
                result
                    .as_ref()
                    .map_err(|e| OutboxError(e.to_string()))
                    .copied()
            };
            for (_, r) in enqueues {
                let _ = r.send(reply());
            }
            for (_, _, r) in records {
                let _ = r.send(reply());
            }
        }
        for command in other {
            handle(&mut conn, &mut tally, command);
        }
    }
}

/// One transaction; returns the targets of the deliveries that were new and where each
/// recorded attempt moved its (pending) delivery.
fn write<'a>(
    conn: &mut Connection,
    deliveries: impl Iterator<Item = &'a NewDelivery>,
    attempts: impl Iterator<Item = (&'a Attempt, Next)>,
) -> Result<(Vec<&'a str>, Vec<Moved>), rusqlite::Error> {
    let tx = conn.transaction()?;
    let inserted = insert(&tx, deliveries)?;
    let mut moved = Vec::new();
    for (attempt, next) in attempts {
        if let Some(to) = record(&tx, attempt, next)? {
            moved.push(Moved {
                target: attempt.target.clone(),
                from: "pending",
                to: Some(to),
                n: 1,
            });
        }
    }
    tx.commit()?;
    Ok((inserted, moved))
}

fn insert<'a>(
    tx: &Connection,
    deliveries: impl Iterator<Item = &'a NewDelivery>,
) -> Result<Vec<&'a str>, rusqlite::Error> {
    let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO deliveries
             (id, target, event_type, plugin, body, headers, idempotency_key, created_ms, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
    let now = now_ms();
    let mut inserted = Vec::new();
    for d in deliveries {
        let headers = serde_json::to_string(&d.headers).unwrap_or_else(|_| "[]".into());
        let new = stmt.execute(params![
            d.id,
            d.target,
            d.event_type,
            d.plugin,
            d.body,
            headers,
            d.idempotency_key,
            now
        ])?;
        if new == 1 {
            inserted.push(d.target.as_str());
        }
    }
    Ok(inserted)
}

fn handle(conn: &mut Connection, tally: &mut Tally, command: Command) {
    match command {
        Command::Due {
            targets,
            now_ms,
            reply,
        } => {
            let _ = reply.send(due(conn, &targets, now_ms).map_err(Into::into));
        }
        Command::Enqueue(..) | Command::Record { .. } => {}
        Command::Counts(reply) => {
            let _ = reply.send(Ok(tally.list()));
        }
        Command::TargetCounts(target, reply) => {
            let _ = reply.send(Ok(tally.0.get(&target).copied().unwrap_or_default()));
        }
        Command::Run(f) => {
            let moved = f(conn);
            tally.apply(&moved);
        }
    }
}

// One indexed query per target, so that a paused target's backlog costs nothing to skip
// and one busy target cannot fill every worker's slot.
fn due(
    conn: &Connection,
    targets: &[(String, u32)],
    now_ms: i64,
) -> Result<Vec<Due>, rusqlite::Error> {
    let held: std::collections::HashSet<String> = conn
        .prepare_cached("SELECT target FROM target_state WHERE paused = 1 OR disabled = 1")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (target, limit) in targets.iter().filter(|(t, _)| !held.contains(t)) {
        out.extend(due_of(conn, target, *limit, now_ms)?);
    }
    Ok(out)
}

fn due_of(
    conn: &Connection,
    target: &str,
    limit: u32,
    now_ms: i64,
) -> Result<Vec<Due>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, target, event_type, body, headers, attempts FROM deliveries
         WHERE target = ?1 AND state = 'pending' AND next_attempt_ms <= ?2
         ORDER BY next_attempt_ms, created_ms LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![target, now_ms, limit], |r| {
        let headers: String = r.get(4)?;
        Ok(Due {
            id: r.get(0)?,
            target: r.get(1)?,
            event_type: r.get(2)?,
            body: r.get(3)?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            attempts: r.get(5)?,
        })
    })?;
    rows.collect()
}

fn record(
    tx: &Connection,
    a: &Attempt,
    next: Next,
) -> Result<Option<&'static str>, rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO attempts (delivery, target, at_ms, http_status, duration_ms, request_bytes, response_excerpt, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.delivery,
        a.target,
        a.at_ms,
        a.http_status,
        a.duration_ms,
        a.request_bytes,
        a.response_excerpt,
        a.error
    ])?;
    let (state, next_ms) = match next {
        Next::Delivered => ("delivered", a.at_ms),
        Next::RetryAt(ms) => ("pending", ms),
        Next::Dead => ("dead", a.at_ms),
    };
    let changed = tx
        .prepare_cached(
            "UPDATE deliveries SET state = ?2, attempts = attempts + 1, next_attempt_ms = ?3, last_error = ?4
             WHERE id = ?1 AND state = 'pending'",
        )?
        .execute(params![a.delivery, state, next_ms, a.error])?;
    Ok((changed == 1).then_some(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::OptionalExtension;

    /// A delivery's state, for tests and the admin view.
    fn state_of(conn: &Connection, id: &str) -> Option<String> {
        conn.query_row("SELECT state FROM deliveries WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .ok()
        .flatten()
    }

    fn delivery(id: &str, key: Option<&str>) -> NewDelivery {
        NewDelivery {
            id: id.into(),
            target: "t".into(),
            event_type: "e".into(),
            plugin: "p".into(),
            body: b"{}".to_vec(),
            headers: vec![("x-a".into(), "1".into())],
            idempotency_key: key.map(Into::into),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn enqueued_deliveries_survive_a_reopen_and_move_through_states() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::open(dir.path(), OutboxSync::Full).expect("open");
        outbox
            .enqueue(vec![
                delivery("a", Some("k")),
                delivery("b", Some("k")),
                delivery("c", None),
            ])
            .await
            .expect("enqueue");
        drop(outbox);
        let outbox = Outbox::open(dir.path(), OutboxSync::Full).expect("reopen");
        let due = outbox.due(vec![("t".into(), 10)]).await.expect("due");
        let ids: Vec<&str> = due.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "c"],
            "the second delivery with key k was stored once"
        );
        assert_eq!(due[0].headers, vec![("x-a".to_string(), "1".to_string())]);
        let attempt = |id: &str| Attempt {
            delivery: id.into(),
            target: "t".into(),
            at_ms: now_ms(),
            http_status: Some(500),
            duration_ms: 3,
            request_bytes: 2,
            response_excerpt: String::new(),
            error: None,
        };
        outbox
            .record(attempt("a"), Next::RetryAt(now_ms() + 60_000))
            .await
            .expect("record");
        outbox
            .record(attempt("c"), Next::Dead)
            .await
            .expect("record");
        assert!(
            outbox
                .due(vec![("t".into(), 10)])
                .await
                .expect("due")
                .is_empty(),
            "a waits, c is dead"
        );
        let mut counts = outbox.counts().await.expect("counts");
        counts.sort();
        assert_eq!(
            counts,
            vec![
                ("dead".to_string(), 1),
                ("delivered".to_string(), 0),
                ("pending".to_string(), 1)
            ]
        );
        let counts = |pending, dead| Counts {
            pending,
            delivered: 0,
            dead,
        };
        assert_eq!(outbox.target_counts("t").await.expect("t"), counts(1, 1));
        assert_eq!(outbox.target_counts("u").await.expect("u"), counts(0, 0));
        // A change reports its moves; the counts follow without a scan.
        let replayed = outbox
            .change(|c| super::super::state::replay(c, None, Some("t"), now_ms()))
            .await
            .expect("replay");
        assert_eq!(replayed, 1);
        assert_eq!(outbox.target_counts("t").await.expect("t"), counts(2, 0));
        drop(outbox);
        // Counted again from the table on open: the same.
        let outbox = Outbox::open(dir.path(), OutboxSync::Full).expect("reopen");
        assert_eq!(outbox.target_counts("t").await.expect("t"), counts(2, 0));
        let c = outbox
            .with(|conn| Ok(state_of(conn, "c")))
            .await
            .expect("state");
        assert_eq!(c.as_deref(), Some("pending"));
    }
}
