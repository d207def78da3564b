//! Which failures are worth another attempt, and how long to wait first.
//! The one place that decides it (Vector's `RetryLogic`): 429 (after its
//! `Retry-After`), 408, 5xx, connection faults and cut or garbled bodies may
//! succeed later; 401 gets one token refresh; every other 4xx is final.

use std::time::Duration;

/// What one attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer with this status, and its `Retry-After`, if any.
    Status(u16, Option<Duration>),
    /// No answer: the connection failed, was refused or reset, or timed out.
    Transport,
    /// A success status whose body was cut short or is not what it should be.
    BadBody,
}

/// What to do about an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A success: use the answer.
    Done,
    /// Try again after a backoff, or after the server's own `Retry-After`.
    Retry { after: Option<Duration> },
    /// The token was refused: get a new one and try once more.
    RefreshToken,
    /// Final: record it, do not try again.
    Fail,
}

pub fn classify(outcome: Outcome) -> Decision {
    match outcome {
        Outcome::Status(s, _) if (200..300).contains(&s) => Decision::Done,
        Outcome::Status(429, after) => Decision::Retry { after },
        Outcome::Status(408, _) => Decision::Retry { after: None },
        Outcome::Status(s, after) if (500..600).contains(&s) => Decision::Retry { after },
        Outcome::Status(401, _) => Decision::RefreshToken,
        Outcome::Status(_, _) => Decision::Fail,
        Outcome::Transport | Outcome::BadBody => Decision::Retry { after: None },
    }
}

/// Exponential backoff with full jitter: a wait drawn evenly from
/// `[0, min(cap, base * 2^attempt)]`, where `unit` is that draw in `[0, 1)`.
/// `attempt` counts from 0 for the first retry.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, unit: f64) -> Duration {
    let ceiling = base.saturating_mul(2u32.saturating_pow(attempt.min(30))).min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the catalogue
/// and is read as absent), bounded so a hostile value cannot park us for a day.
pub fn retry_after(value: Option<&str>, max: Duration) -> Option<Duration> {
    let secs: u64 = value?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried_and_what_is_final() {
        let after = Some(Duration::from_secs(3));
        assert_eq!(classify(Outcome::Status(200, None)), Decision::Done);
        assert_eq!(classify(Outcome::Status(201, None)), Decision::Done);
        assert_eq!(classify(Outcome::Status(429, after)), Decision::Retry { after });
        assert_eq!(classify(Outcome::Status(408, None)), Decision::Retry { after: None });
        for s in [500, 502, 503, 504, 599] {
            assert_eq!(classify(Outcome::Status(s, None)), Decision::Retry { after: None }, "{s}");
        }
        assert_eq!(classify(Outcome::Status(503, after)), Decision::Retry { after });
        assert_eq!(classify(Outcome::Status(401, None)), Decision::RefreshToken);
        for s in [400, 403, 404, 405, 409, 413, 422] {
            assert_eq!(classify(Outcome::Status(s, None)), Decision::Fail, "{s}");
        }
        assert_eq!(classify(Outcome::Transport), Decision::Retry { after: None });
        assert_eq!(classify(Outcome::BadBody), Decision::Retry { after: None });
    }

    #[test]
    fn backoff_grows_to_its_cap_and_jitters_below_it() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(backoff(0, base, cap, 0.999_999), Duration::from_millis(100).mul_f64(0.999_999));
        assert_eq!(backoff(3, base, cap, 0.5), Duration::from_millis(400));
        assert_eq!(backoff(10, base, cap, 1.0), cap, "capped");
        assert_eq!(backoff(1_000, base, cap, 0.5), Duration::from_millis(2_500), "no overflow");
        assert_eq!(backoff(4, base, cap, 0.0), Duration::ZERO, "full jitter reaches zero");
    }

    #[test]
    fn retry_after_is_seconds_and_bounded() {
        let max = Duration::from_secs(60);
        assert_eq!(retry_after(Some("7"), max), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some(" 86400 "), max), Some(max));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2026 07:28:00 GMT"), max), None);
        assert_eq!(retry_after(Some("-1"), max), None);
        assert_eq!(retry_after(None, max), None);
    }
}

/// A source of numbers in `[0, 1)` for backoff jitter (xorshift; spread, not
/// secrecy), shared by the tasks of one client.
#[derive(Debug)]
pub struct Jitter(std::sync::atomic::AtomicU64);

impl Default for Jitter {
    fn default() -> Self {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
        Self(std::sync::atomic::AtomicU64::new(seed))
    }
}

impl Jitter {
    pub fn unit(&self) -> f64 {
        use std::sync::atomic::Ordering;
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
