//! The duplicate window: senders' delivery ids (per plugin) already handled, so that a sender's
//! retry of a delivery that did go through is answered 200 without being processed twice.
//! Ids are forgotten after the window, or oldest first when the set is full.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most ids remembered at once.
pub const CAPACITY: usize = 100_000;
/// Longest id remembered; a longer one is processed every time.
pub const MAX_ID: usize = 200;

/// The ids seen in the last `window`.
pub struct Dedup {
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<(String, String)>,
    order: VecDeque<(Instant, (String, String))>,
}

impl Inner {
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < window {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.seen.remove(&key);
            }
        }
    }
}

impl Dedup {
    /// Remembers ids for `window`, at most `capacity` of them.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Dedup {
            window,
            capacity,
            inner: Mutex::default(),
        }
    }

    /// Whether `plugin` already handled `id` within the window.
    pub fn seen(&self, plugin: &str, id: &str, now: Instant) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now, self.window);
        inner.seen.contains(&(plugin.to_string(), id.to_string()))
    }

    /// Records that `plugin` handled `id`.
    pub fn remember(&self, plugin: &str, id: &str, now: Instant) {
        if id.len() > MAX_ID || self.window.is_zero() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now, self.window);
        let key = (plugin.to_string(), id.to_string());
        if !inner.seen.insert(key.clone()) {
            return;
        }
        inner.order.push_back((now, key));
        while inner.order.len() > self.capacity {
            if let Some((_, old)) = inner.order.pop_front() {
                inner.seen.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_remembered_per_plugin_for_the_window() {
        let t = Instant::now();
        let d = Dedup::new(Duration::from_secs(60), 10);
        assert!(!d.seen("github", "a", t));
        d.remember("github", "a", t);
        assert!(d.seen("github", "a", t + Duration::from_secs(59)));
        assert!(!d.seen("gitlab", "a", t), "per plugin");
        assert!(
            !d.seen("github", "a", t + Duration::from_secs(60)),
            "forgotten after the window"
        );
    }

    #[test]
    fn the_oldest_go_first_when_full_and_long_ids_are_not_kept() {
        let t = Instant::now();
        let d = Dedup::new(Duration::from_secs(60), 2);
        for id in ["a", "b", "c"] {
            d.remember("p", id, t);
        }
        assert!(!d.seen("p", "a", t));
        assert!(d.seen("p", "b", t) && d.seen("p", "c", t));
        let long = "x".repeat(MAX_ID + 1);
        d.remember("p", &long, t);
        assert!(!d.seen("p", &long, t));
    }
}
