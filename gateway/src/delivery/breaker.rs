//! The circuit breaker of one target: after `after` consecutive failed attempts it opens and
//! holds the target's deliveries for a cool-down; then one attempt probes (half-open). A
//! success closes it; a failure opens it again for twice as long, up to `MAX_COOLDOWN`.
//! Pure state machine; the caller passes the clock.

use std::time::{Duration, Instant};

/// The longest cool-down, however long a receiver stays down.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(600);

/// Breaker settings and state.
#[derive(Debug)]
pub struct Breaker {
    after: u32,
    cooldown: Duration,
    failures: u32,
    wait: Duration,
    open_until: Option<Instant>,
    probing: bool,
}

impl Breaker {
    /// Opens after `after` consecutive failures (`0` never opens), first for `cooldown`.
    pub fn new(after: u32, cooldown: Duration) -> Self {
        Breaker {
            after,
            cooldown,
            failures: 0,
            wait: cooldown,
            open_until: None,
            probing: false,
        }
    }

    /// Carries the count of consecutive failures over a restart: open again for one
    /// cool-down if it was over the threshold.
    pub fn restore(&mut self, failures: u32, now: Instant) {
        self.failures = failures;
        if self.after > 0 && failures >= self.after {
            self.wait = self.cooldown;
            self.open_until = Some(now + self.wait);
        }
    }

    /// Whether `may_start` would say yes now, without booking anything.
    pub fn would_start(&self, now: Instant) -> bool {
        match self.open_until {
            None => true,
            Some(until) => !self.probing && now >= until,
        }
    }

    /// Whether an attempt may start now; a probe, when it is one, is booked.
    pub fn may_start(&mut self, now: Instant) -> bool {
        let yes = self.would_start(now);
        if yes && self.open_until.is_some() {
            self.probing = true;
        }
        yes
    }

    /// Gives back a probe booked by `may_start` that did not go out after all.
    pub fn release(&mut self) {
        self.probing = false;
    }

    /// Failed attempts since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether it is open (or probing) now.
    pub fn is_open(&self) -> bool {
        self.open_until.is_some()
    }

    /// When the next probe may start, while open.
    pub fn open_until(&self) -> Option<Instant> {
        self.open_until
    }

    /// An attempt succeeded.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.wait = self.cooldown;
        self.open_until = None;
        self.probing = false;
    }

    /// An attempt failed. Attempts already in flight when the breaker opened do not extend
    /// it; a failed probe doubles the wait.
    pub fn failed(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        if self.after == 0 {
            return;
        }
        if self.probing {
            self.probing = false;
            self.wait = self
                .wait
                .saturating_mul(2)
                .min(MAX_COOLDOWN.max(self.cooldown));
            self.open_until = Some(now + self.wait);
        } else if self.open_until.is_none() && self.failures >= self.after {
            self.wait = self.cooldown;
            self.open_until = Some(now + self.wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn opens_after_the_threshold_and_probes_once() {
        let t = Instant::now();
        let mut b = Breaker::new(3, 10 * S);
        b.failed(t);
        b.failed(t);
        assert!(b.may_start(t) && !b.is_open());
        b.failed(t);
        assert!(b.is_open());
        assert!(!b.may_start(t + 9 * S) && !b.would_start(t + 9 * S));
        assert!(b.would_start(t + 10 * S));
        assert!(b.may_start(t + 10 * S), "the probe");
        assert!(!b.would_start(t + 10 * S));
        assert!(!b.may_start(t + 10 * S), "only one probe at a time");
        b.succeeded();
        assert!(!b.is_open());
        assert!(b.may_start(t + 10 * S) && b.may_start(t + 10 * S));
    }

    #[test]
    fn each_failed_probe_doubles_the_wait_up_to_the_cap() {
        let t = Instant::now();
        let mut b = Breaker::new(1, 10 * S);
        b.failed(t);
        assert_eq!(b.open_until(), Some(t + 10 * S));
        b.failed(t + S);
        assert_eq!(
            b.open_until(),
            Some(t + 10 * S),
            "in flight before it opened"
        );
        assert!(b.may_start(t + 10 * S));
        b.failed(t + 10 * S);
        assert_eq!(b.open_until(), Some(t + 30 * S));
        assert!(b.may_start(t + 30 * S));
        b.failed(t + 30 * S);
        assert_eq!(b.open_until(), Some(t + 70 * S));
        let mut now = t + 70 * S;
        for _ in 0..20 {
            assert!(b.may_start(now));
            b.failed(now);
            now = b.open_until().expect("open");
        }
        assert!(b.may_start(now));
        b.failed(now);
        assert_eq!(b.open_until(), Some(now + MAX_COOLDOWN));
    }

    #[test]
    fn a_released_probe_can_start_again() {
        let t = Instant::now();
        let mut b = Breaker::new(1, S);
        b.failed(t);
        assert!(b.may_start(t + S));
        b.release();
        assert!(b.may_start(t + S));
    }

    #[test]
    fn zero_never_opens_and_restarts_carry_the_count() {
        let t = Instant::now();
        let mut never = Breaker::new(0, S);
        for _ in 0..100 {
            never.failed(t);
        }
        assert!(!never.is_open() && never.may_start(t));
        let mut restarted = Breaker::new(3, S);
        restarted.restore(2, t);
        assert!(!restarted.is_open());
        restarted.restore(500, t);
        assert_eq!(
            restarted.open_until(),
            Some(t + S),
            "one cool-down, not 500 doublings"
        );
    }
}
