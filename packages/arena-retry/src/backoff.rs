//! Delays between tries: exponential, doubling from `first` up to `max`, for a bounded number of
//! retries or forever. Deterministic (no jitter), so the delays are pinned by tests; Arena's
//! services retry against nodes they run themselves or a handful of public RPCs, where
//! synchronised retries of many clients are not the risk jitter guards against.

use std::time::Duration;

/// A back-off policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub first: Duration,
    /// No delay is longer than this.
    pub max: Duration,
    /// How many retries (after the first try) before giving up; `None`: never give up.
    pub retries: Option<u32>,
}

impl Backoff {
    /// One request to a node (a query, a broadcast, a connection at start-up): 200 ms doubling
    /// up to 5 s, ten retries, about 31 s in all. That rides out a node restart (1–5 s on the
    /// devnet) and a devnet that is still starting, and a caller that waited longer would be
    /// better off failing and saying why.
    pub const REQUEST: Backoff =
        Backoff { first: Duration::from_millis(200), max: Duration::from_secs(5), retries: Some(10) };

    /// Repeated failures of a loop's step that runs every `pace`: `pace` doubling up to 30 s
    /// (or `pace`, if that is longer), forever. A step that succeeds starts the curve again.
    pub fn loop_errors(pace: Duration) -> Backoff {
        Backoff { first: pace, max: Duration::from_secs(30).max(pace), retries: None }
    }

    /// `first` doubling up to `max`, never giving up (a connection a service must hold open).
    pub const fn forever(first: Duration, max: Duration) -> Backoff {
        Backoff { first, max, retries: None }
    }

    /// The delays, in order.
    pub fn delays(&self) -> Delays {
        Delays { next: self.first.min(self.max), max: self.max, left: self.retries }
    }
}

/// The delays of a [`Backoff`], in order.
#[derive(Clone, Debug)]
pub struct Delays {
    next: Duration,
    max: Duration,
    left: Option<u32>,
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if let Some(left) = &mut self.left {
            *left = left.checked_sub(1)?;
        }
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(backoff: Backoff, n: usize) -> Vec<u128> {
        backoff.delays().take(n).map(|d| d.as_millis()).collect()
    }

    #[test]
    fn request_delays_are_pinned() {
        assert_eq!(ms(Backoff::REQUEST, 20), [200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000]);
        let total: Duration = Backoff::REQUEST.delays().sum();
        assert_eq!(total, Duration::from_millis(31_200));
    }

    #[test]
    fn loop_error_delays_start_at_the_pace_and_never_end() {
        let secs: Vec<u64> =
            Backoff::loop_errors(Duration::from_secs(1)).delays().take(8).map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(ms(Backoff::loop_errors(Duration::from_millis(200)), 3), [200, 400, 800]);
        // A pace slower than the cap is its own cap.
        assert_eq!(ms(Backoff::loop_errors(Duration::from_secs(60)), 2), [60_000, 60_000]);
        assert_eq!(Backoff::loop_errors(Duration::from_secs(1)).delays().take(1000).count(), 1000);
    }

    #[test]
    fn no_retries_means_no_delays_and_huge_ones_saturate() {
        let none = Backoff { retries: Some(0), ..Backoff::REQUEST };
        assert_eq!(none.delays().next(), None);
        let huge = Backoff::forever(Duration::MAX / 2, Duration::MAX);
        assert_eq!(huge.delays().nth(5), Some(Duration::MAX));
    }
}
