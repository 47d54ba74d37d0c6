//! When to restart a sidecar that died: backoff between attempts, and how many crashes in a
//! window count as a crash loop (then Sage stops trying and tells the user).
use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct RestartPolicy {
    delays: Vec<Duration>,
    window: Duration,
    max_in_window: usize,
    recent: VecDeque<Instant>,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Self::new(vec![ms(200), ms(500), ms(1000), ms(2000), ms(5000)], Duration::from_secs(60), 5)
    }
}

impl RestartPolicy {
    pub fn new(delays: Vec<Duration>, window: Duration, max_in_window: usize) -> Self {
        assert!(!delays.is_empty() && max_in_window > 0);
        Self { delays, window, max_in_window, recent: VecDeque::new() }
    }

    /// Record a crash at `now`: the delay before restarting, or `None` when this crash makes
    /// `max_in_window` within `window` (a crash loop: stop trying, tell the user).
    pub fn next_delay(&mut self, now: Instant) -> Option<Duration> {
        while self.recent.front().is_some_and(|t| now.duration_since(*t) > self.window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.max_in_window {
            return None;
        }
        self.recent.push_back(now);
        Some(self.delays[(self.recent.len() - 1).min(self.delays.len() - 1)])
    }

    /// A manual restart starts the count afresh.
    pub fn reset(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        let ms = Duration::from_millis;
        RestartPolicy::new(vec![ms(200), ms(500), ms(1000)], Duration::from_secs(60), 4)
    }

    #[test]
    fn delays_grow_then_cap() {
        let mut p = policy();
        let t = Instant::now();
        let got: Vec<_> = (0..4).map(|i| p.next_delay(t + Duration::from_secs(i))).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(got, vec![ms(200), ms(500), ms(1000), ms(1000)]);
    }

    #[test]
    fn too_many_crashes_in_the_window_is_a_crash_loop() {
        let mut p = policy();
        let t = Instant::now();
        for i in 0..4 {
            assert!(p.next_delay(t + Duration::from_secs(i)).is_some());
        }
        assert_eq!(p.next_delay(t + Duration::from_secs(5)), None);
    }

    #[test]
    fn old_crashes_age_out_of_the_window() {
        let mut p = policy();
        let t = Instant::now();
        for i in 0..4 {
            p.next_delay(t + Duration::from_secs(i));
        }
        // A minute later the earlier crashes no longer count, and backoff starts small again.
        assert_eq!(p.next_delay(t + Duration::from_secs(70)), Some(Duration::from_millis(200)));
    }

    #[test]
    fn reset_forgets_crashes() {
        let mut p = policy();
        let t = Instant::now();
        for i in 0..4 {
            p.next_delay(t + Duration::from_secs(i));
        }
        p.reset();
        assert_eq!(p.next_delay(t + Duration::from_secs(5)), Some(Duration::from_millis(200)));
    }
}
