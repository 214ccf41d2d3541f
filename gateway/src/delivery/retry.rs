//! Whether and when to try a delivery again: a pure function of the attempt's result.

use std::time::Duration;

/// What one attempt came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The target answered.
    Status {
        /// HTTP status.
        code: u16,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// No answer within the target's timeout.
    Timeout,
    /// Connection refused, reset, TLS failure, …
    Network,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 2xx: done.
    Delivered,
    /// Try again after this long.
    RetryIn(Duration),
    /// Retries exhausted: keep it, as dead, for replay.
    Dead,
    /// 410 Gone: the receiver asks never to be called again.
    DisableTarget,
}

/// A target's retry settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Attempts after the first.
    pub retries: u32,
    /// Waits between attempts; the last one repeats.
    pub backoff: Vec<Duration>,
}

/// Longest wait a `Retry-After` may impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Decides after attempt number `attempt` (1 for the first). `jitter` in `[0, 1)` spreads
/// retries of many deliveries over ±20 % of the backoff step.
pub fn decide(policy: &Policy, attempt: u32, result: AttemptResult, jitter: f64) -> Decision {
    match result {
        AttemptResult::Status { code, .. } if (200..300).contains(&code) => {
            return Decision::Delivered;
        }
        AttemptResult::Status { code: 410, .. } => return Decision::DisableTarget,
        _ => {}
    }
    if attempt > policy.retries {
        return Decision::Dead;
    }
    let step = policy
        .backoff
        .get(attempt as usize - 1)
        .or(policy.backoff.last())
        .copied()
        .unwrap_or(Duration::from_secs(5));
    let jittered = step.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    match result {
        AttemptResult::Status {
            code: 429 | 503,
            retry_after: Some(after),
        } => Decision::RetryIn(after.min(MAX_RETRY_AFTER)),
        _ => Decision::RetryIn(jittered),
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            retries: 3,
            backoff: vec![Duration::from_secs(1), Duration::from_secs(10)],
        }
    }

    fn status(code: u16) -> AttemptResult {
        AttemptResult::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn success_and_gone() {
        assert_eq!(decide(&policy(), 1, status(200), 0.5), Decision::Delivered);
        assert_eq!(decide(&policy(), 1, status(204), 0.5), Decision::Delivered);
        assert_eq!(
            decide(&policy(), 1, status(410), 0.5),
            Decision::DisableTarget
        );
        assert_eq!(
            decide(&policy(), 9, status(410), 0.5),
            Decision::DisableTarget
        );
    }

    #[test]
    fn failures_back_off_along_the_schedule_with_jitter() {
        for result in [
            status(500),
            status(302),
            status(404),
            AttemptResult::Timeout,
            AttemptResult::Network,
        ] {
            assert_eq!(
                decide(&policy(), 1, result, 0.5),
                Decision::RetryIn(Duration::from_secs(1))
            );
        }
        assert_eq!(
            decide(&policy(), 2, status(500), 0.5),
            Decision::RetryIn(Duration::from_secs(10))
        );
        assert_eq!(
            decide(&policy(), 3, status(500), 0.5),
            Decision::RetryIn(Duration::from_secs(10)),
            "last step repeats"
        );
        assert_eq!(
            decide(&policy(), 1, status(500), 0.0),
            Decision::RetryIn(Duration::from_millis(800))
        );
        assert_eq!(
            decide(&policy(), 1, status(500), 1.0),
            Decision::RetryIn(Duration::from_millis(1200))
        );
    }

    #[test]
    fn retries_run_out() {
        assert_eq!(decide(&policy(), 4, status(500), 0.5), Decision::Dead);
        let none = Policy {
            retries: 0,
            backoff: vec![],
        };
        assert_eq!(
            decide(&none, 1, AttemptResult::Network, 0.5),
            Decision::Dead
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let throttled = |secs| AttemptResult::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            decide(&policy(), 1, throttled(7), 0.5),
            Decision::RetryIn(Duration::from_secs(7))
        );
        assert_eq!(
            decide(&policy(), 1, throttled(0), 0.5),
            Decision::RetryIn(Duration::ZERO)
        );
        assert_eq!(
            decide(&policy(), 1, throttled(99_999), 0.5),
            Decision::RetryIn(MAX_RETRY_AFTER)
        );
        assert_eq!(
            decide(&policy(), 4, throttled(7), 0.5),
            Decision::Dead,
            "Retry-After does not add retries"
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
