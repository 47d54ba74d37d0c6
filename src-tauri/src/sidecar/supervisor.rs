//! Keeps the sidecar alive: restarts it when it exits unexpectedly or stops answering its keyed
//! health check, with backoff and a crash-loop limit, and tells the UI either way.
//!
//! Events: `sage://sidecar-changed` (payload: the new `SageConfig`, the UI reconnects) and
//! `sage://sidecar-failed` (payload: a `StartupError`, the UI shows it with a Restart button).
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use super::contract::{SageConfig, StartupError};
use super::state::SidecarState;

pub const SIDECAR_CHANGED_EVENT: &str = "sage://sidecar-changed";
pub const SIDECAR_FAILED_EVENT: &str = "sage://sidecar-failed";

/// Backoff between restarts, and how many crashes in a window count as a crash loop.
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

/// Where and how to ask a sidecar whether it is alive.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub port: u16,
    pub api_key: String,
    pub interval: Duration,
    /// Consecutive failed checks that mean "hung".
    pub failures: u32,
}

impl HealthCheck {
    /// Resolves only when the sidecar failed `failures` checks in a row.
    async fn until_hung(self) {
        let mut failed = 0;
        loop {
            tokio::time::sleep(self.interval).await;
            let check = self.clone();
            let ok = tauri::async_runtime::spawn_blocking(move || check.probe()).await.unwrap_or(false);
            failed = if ok { 0 } else { failed + 1 };
            if failed >= self.failures {
                return;
            }
        }
    }

    fn probe(&self) -> bool {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.interval.min(Duration::from_secs(3))))
            .build()
            .into();
        agent
            .get(format!("http://127.0.0.1:{}/api/health", self.port))
            .header("Authorization", format!("Bearer {}", self.api_key))
            .call()
            .is_ok()
    }
}

/// Watch one sidecar generation until it exits or hangs, then restart per policy.
pub async fn watch<R: Runtime>(app: AppHandle<R>, generation: u64, exited: JoinHandle<()>, health: HealthCheck) {
    let hung = tokio::select! {
        _ = exited => false,
        _ = health.until_hung() => true,
    };
    let state = app.state::<SidecarState>();
    if state.generation() != generation {
        return; // stopped on purpose, or already replaced
    }
    if hung {
        log::warn!("sidecar stopped answering its health check; restarting it");
        state.kill_current();
    } else {
        log::warn!("sidecar exited unexpectedly; restarting it");
    }
    loop {
        let Some(delay) = state.next_restart_delay() else {
            let error = state.crash_loop_error();
            log::error!("{}", error.message);
            state.remember(Err(error.clone()));
            announce_failure(&app, &error);
            return;
        };
        tokio::time::sleep(delay).await;
        if state.generation() != generation {
            return; // the user restarted it meanwhile
        }
        match state.start(&app).await {
            Ok(config) => {
                announce(&app, &config);
                return;
            }
            Err(error) => log::warn!("restart failed: {}", error.message),
        }
    }
}

pub fn announce<R: Runtime>(app: &AppHandle<R>, config: &SageConfig) {
    if let Err(error) = app.emit(SIDECAR_CHANGED_EVENT, config) {
        log::warn!("could not announce the new sidecar: {error}");
    }
}

fn announce_failure<R: Runtime>(app: &AppHandle<R>, error: &StartupError) {
    if let Err(emit_error) = app.emit(SIDECAR_FAILED_EVENT, error) {
        log::warn!("could not announce the sidecar failure: {emit_error}");
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
