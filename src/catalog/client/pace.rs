//! Pacing requests to the limit the server advertises (`X-RateLimit-Remaining`
//! requests left until the window resets in `X-RateLimit-Reset` seconds), so
//! that the client spreads its requests over the window instead of running
//! into 429s and backing off.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pacer {
    /// The earliest start of the next request.
    next: Instant,
    /// Spacing between request starts, from the last answer's headers.
    interval: Duration,
}

impl Pacer {
    pub fn new(now: Instant) -> Self {
        Self { next: now, interval: Duration::ZERO }
    }

    /// Reserves the next start time; the caller waits until it.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let at = self.next.max(now);
        self.next = at + self.interval;
        at
    }

    /// Learns from an answer: `remaining` requests are allowed in the next
    /// `reset` seconds. Nothing is learnt from an answer without them.
    pub fn observe(&mut self, now: Instant, remaining: Option<u64>, reset_secs: Option<u64>) {
        let (Some(remaining), Some(reset)) = (remaining, reset_secs) else { return };
        let window = Duration::from_secs(reset.min(3_600));
        if remaining == 0 {
            // Nothing left: every request waits for the window to turn, then
            // all of them may go (the next answer's headers pace them again).
            self.next = self.next.max(now + window);
            self.interval = Duration::ZERO;
        } else {
            self.interval = window / u32::try_from(remaining).unwrap_or(u32::MAX);
        }
    }

    #[cfg(test)]
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_the_remaining_requests_over_the_window() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert_eq!(p.reserve(t0), t0, "nothing known: no wait");
        // 3,000 a minute with the whole window left: one every 20 ms
        p.observe(t0, Some(3_000), Some(60));
        assert_eq!(p.interval(), Duration::from_millis(20));
        let a = p.reserve(t0);
        let b = p.reserve(t0);
        assert_eq!(b - a, Duration::from_millis(20));
        // the window used up: wait for the reset
        p.observe(t0, Some(0), Some(12));
        assert!(p.reserve(t0) >= t0 + Duration::from_secs(12));
        // every request queued behind a used-up window goes when it turns,
        // not one window after another
        let mut r = Pacer::new(t0);
        r.observe(t0, Some(0), Some(30));
        let reset = t0 + Duration::from_secs(30);
        for k in 0..50 {
            assert_eq!(r.reserve(t0 + Duration::from_millis(k)), reset, "request {k}");
        }
        // a hostile reset cannot park the client for more than an hour
        let mut q = Pacer::new(t0);
        q.observe(t0, Some(0), Some(u64::MAX));
        assert!(q.reserve(t0) <= t0 + Duration::from_secs(3_600));
    }
}
