//! Which of a chain's endpoints a client talks to, and when it moves to another: the decisions
//! alone, on plain values and an explicit clock, so that they are tested without a chain.
//!
//! A client talks to one endpoint at a time (the *current* one) and leaves it when
//! - the endpoint fails at the connection level ([`ClientError::is_node_failure`]): it is marked
//!   down and the next one is tried at once; or
//! - it is *stale*: its height has not advanced for `stale_after` while another endpoint reports
//!   a greater one. A chain that halted everywhere is not a reason to move (every node is as
//!   stale as the current one), nor is a node that is briefly behind.
//!
//! When it moves, it prefers the endpoint with the greatest known height among those not marked
//! down, then the next in the configured order. An endpoint marked down is tried again when
//! every other one is down too, or after it answers again.
//!
//! [`ClientError::is_node_failure`]: crate::ClientError::is_node_failure

use std::time::{Duration, Instant};

/// What the client knows of one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Health {
    /// The greatest height it reported.
    height: u64,
    /// When `height` was first seen.
    advanced_at: Option<Instant>,
    /// Since when it fails at the connection level; None while it answers.
    down_since: Option<Instant>,
}

/// A chain's endpoints, the current one and what is known of each.
#[derive(Clone, Debug)]
pub struct EndpointSet {
    urls: Vec<String>,
    health: Vec<Health>,
    current: usize,
    stale_after: Duration,
}

impl EndpointSet {
    /// `urls` in order of preference (at least one); the first is current.
    pub fn new(urls: Vec<String>, stale_after: Duration) -> Self {
        assert!(!urls.is_empty(), "a chain client needs at least one endpoint");
        let health = vec![Health::default(); urls.len()];
        EndpointSet { urls, health, current: 0, stale_after }
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// Makes `index` current (the first endpoint that answered at connection).
    pub fn start_at(&mut self, index: usize) {
        assert!(index < self.len());
        self.current = index;
    }

    pub fn current(&self) -> usize {
        self.current
    }

    pub fn url(&self, index: usize) -> &str {
        &self.urls[index]
    }

    /// Endpoint `index` answered with `height` at `now`.
    pub fn observe_height(&mut self, index: usize, height: u64, now: Instant) {
        let h = &mut self.health[index];
        h.down_since = None;
        if height > h.height || h.advanced_at.is_none() {
            h.height = h.height.max(height);
            h.advanced_at = Some(now);
        }
    }

    /// Endpoint `index` answered something (it is up), height unknown.
    pub fn observe_answer(&mut self, index: usize) {
        self.health[index].down_since = None;
    }

    /// Endpoint `index` failed at the connection level at `now`.
    pub fn observe_failure(&mut self, index: usize, now: Instant) {
        self.health[index].down_since.get_or_insert(now);
    }

    pub fn is_down(&self, index: usize) -> bool {
        self.health[index].down_since.is_some()
    }

    /// Whether the current endpoint's height has not advanced for `stale_after` at `now` (a
    /// reason to ask the others for theirs).
    pub fn current_looks_stale(&self, now: Instant) -> bool {
        let h = &self.health[self.current];
        h.advanced_at.is_some_and(|at| now.duration_since(at) >= self.stale_after)
    }

    /// Whether the client should leave the current endpoint at `now`: it is down, or it is stale
    /// and another endpoint that is not down reports a greater height.
    pub fn should_leave(&self, now: Instant) -> bool {
        if self.len() == 1 {
            return false;
        }
        if self.is_down(self.current) {
            return true;
        }
        let mine = self.health[self.current].height;
        self.current_looks_stale(now)
            && (0..self.len()).any(|i| i != self.current && !self.is_down(i) && self.health[i].height > mine)
    }

    /// Moves to another endpoint and returns it: the greatest known height among those not down
    /// (ties: the next in order after the current), else the next in order.
    pub fn fail_over(&mut self, now: Instant) -> usize {
        let _ = now;
        let n = self.len();
        let order = (1..n).map(|step| (self.current + step) % n);
        let best_up = order.clone().filter(|&i| !self.is_down(i)).fold(None, |best: Option<usize>, i| match best {
            Some(b) if self.health[b].height >= self.health[i].height => Some(b),
            _ => Some(i),
        });
        let next = best_up.or_else(|| order.clone().next()).unwrap_or(self.current);
        if next != self.current {
            tracing::warn!(from = %self.urls[self.current], to = %self.urls[next], "chain client fails over to another node");
        }
        self.current = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: Duration = Duration::from_secs(8);

    fn set(n: usize) -> EndpointSet {
        EndpointSet::new((0..n).map(|i| format!("http://node-{i}:9090")).collect(), STALE)
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn one_endpoint_is_never_left() {
        let t0 = Instant::now();
        let mut s = set(1);
        s.observe_failure(0, t0);
        assert!(!s.should_leave(secs(t0, 100)));
        assert_eq!(s.fail_over(t0), 0);
    }

    #[test]
    fn a_node_that_is_down_is_left_for_the_next_that_is_not() {
        let t0 = Instant::now();
        let mut s = set(4);
        s.observe_failure(0, t0);
        s.observe_failure(1, t0);
        assert!(s.should_leave(t0));
        assert_eq!(s.fail_over(t0), 2, "node 1 is down too");
        assert_eq!(s.url(s.current()), "http://node-2:9090");
        assert!(!s.should_leave(t0), "node 2 is fine");
    }

    #[test]
    fn the_highest_node_is_preferred_when_moving() {
        let t0 = Instant::now();
        let mut s = set(4);
        for (i, h) in [(1, 90), (2, 100), (3, 95)] {
            s.observe_height(i, h, t0);
        }
        s.observe_failure(0, t0);
        assert_eq!(s.fail_over(t0), 2);
    }

    #[test]
    fn when_all_are_down_the_next_in_order_is_tried() {
        let t0 = Instant::now();
        let mut s = set(3);
        (0..3).for_each(|i| s.observe_failure(i, t0));
        assert_eq!(s.fail_over(t0), 1);
        assert_eq!(s.fail_over(t0), 2);
        assert_eq!(s.fail_over(t0), 0, "and round again: a node that comes back is found");
        s.observe_height(0, 5, t0);
        assert!(!s.is_down(0), "an answer clears the mark");
    }

    #[test]
    fn a_stale_node_is_left_only_for_one_that_is_ahead() {
        let t0 = Instant::now();
        let mut s = set(3);
        s.observe_height(0, 100, t0);
        s.observe_height(1, 100, t0);
        assert!(!s.should_leave(secs(t0, 7)), "not stale yet");
        assert!(s.current_looks_stale(secs(t0, 8)));
        assert!(!s.should_leave(secs(t0, 8)), "stale, but nobody is ahead: a halted chain");
        s.observe_height(1, 101, secs(t0, 8));
        assert!(s.should_leave(secs(t0, 8)));
        assert_eq!(s.fail_over(secs(t0, 8)), 1);
        assert!(!s.should_leave(secs(t0, 9)));
    }

    #[test]
    fn a_node_briefly_behind_is_kept() {
        let t0 = Instant::now();
        let mut s = set(2);
        s.observe_height(0, 100, t0);
        s.observe_height(1, 103, t0);
        s.observe_height(0, 101, secs(t0, 1));
        assert!(!s.should_leave(secs(t0, 5)), "behind, but advancing");
        assert!(s.should_leave(secs(t0, 9)), "8 s without a new block while node 1 is ahead");
    }

    #[test]
    fn a_height_reported_again_does_not_count_as_advancing() {
        let t0 = Instant::now();
        let mut s = set(2);
        s.observe_height(0, 100, t0);
        s.observe_height(0, 100, secs(t0, 5));
        s.observe_height(1, 120, secs(t0, 5));
        assert!(s.should_leave(secs(t0, 8)));
    }

    #[test]
    fn a_node_marked_down_is_not_chosen_for_its_height() {
        let t0 = Instant::now();
        let mut s = set(3);
        s.observe_height(1, 500, t0);
        s.observe_failure(1, secs(t0, 1));
        s.observe_height(2, 10, t0);
        s.observe_failure(0, secs(t0, 1));
        assert_eq!(s.fail_over(secs(t0, 1)), 2);
    }
}
