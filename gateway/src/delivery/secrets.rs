//! Signing secrets the gateway generates: kept in the outbox so they survive restarts, and
//! rotated with a window in which the old secret still signs.

use rusqlite::{Connection, params};

/// Stored secrets of a target still valid at `now_ms`: `(whsec_…, expires_ms)`, current first.
pub type Rows = Vec<(String, Option<i64>)>;

/// Makes `fresh` the target's secret unless it has one; returns its secrets.
pub fn ensure(
    conn: &mut Connection,
    target: &str,
    fresh: &str,
    now_ms: i64,
) -> rusqlite::Result<Rows> {
    conn.execute(
        "INSERT INTO signing_secrets (target, secret, created_ms)
         SELECT ?1, ?2, ?3 WHERE NOT EXISTS
             (SELECT 1 FROM signing_secrets WHERE target = ?1 AND expires_ms IS NULL)",
        params![target, fresh, now_ms],
    )?;
    list(conn, target, now_ms)
}

/// Makes `fresh` current; the old current one keeps signing until `old_until_ms`.
pub fn rotate(
    conn: &mut Connection,
    target: &str,
    fresh: &str,
    old_until_ms: i64,
    now_ms: i64,
) -> rusqlite::Result<Rows> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM signing_secrets WHERE target = ?1 AND expires_ms <= ?2",
        params![target, now_ms],
    )?;
    tx.execute(
        "UPDATE signing_secrets SET expires_ms = ?2 WHERE target = ?1 AND expires_ms IS NULL",
        params![target, old_until_ms],
    )?;
    tx.execute(
        "INSERT INTO signing_secrets (target, secret, created_ms) VALUES (?1, ?2, ?3)",
        params![target, fresh, now_ms],
    )?;
    tx.commit()?;
    list(conn, target, now_ms)
}

fn list(conn: &Connection, target: &str, now_ms: i64) -> rusqlite::Result<Rows> {
    let mut stmt = conn.prepare_cached(
        "SELECT secret, expires_ms FROM signing_secrets
         WHERE target = ?1 AND (expires_ms IS NULL OR expires_ms > ?2)
         ORDER BY expires_ms IS NOT NULL, created_ms DESC",
    )?;
    let rows = stmt.query_map(params![target, now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_keeps_the_old_secret_for_its_window() {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(super::super::outbox::SCHEMA)
            .expect("schema");
        let first = ensure(&mut conn, "t", "whsec_a", 0).expect("ensure");
        assert_eq!(first, vec![("whsec_a".to_string(), None)]);
        // A restart does not replace it.
        assert_eq!(ensure(&mut conn, "t", "whsec_b", 1).expect("ensure"), first);
        let rotated = rotate(&mut conn, "t", "whsec_c", 100, 10).expect("rotate");
        assert_eq!(
            rotated,
            vec![
                ("whsec_c".to_string(), None),
                ("whsec_a".to_string(), Some(100))
            ]
        );
        assert_eq!(
            list(&conn, "t", 100).expect("list"),
            vec![("whsec_c".to_string(), None)]
        );
        assert!(list(&conn, "other", 0).expect("list").is_empty());
    }
}
