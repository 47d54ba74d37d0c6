//! Is a sidecar alive? A keyed `GET /api/health` every `interval`; `failures` misses in a row
//! mean it hangs.
use std::time::Duration;

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
    pub async fn until_hung(self) {
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
