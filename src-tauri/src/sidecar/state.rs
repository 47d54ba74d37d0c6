//! The app-managed sidecar handle: the one running process and what to inject into the UI.
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Runtime};

use super::contract::{SageConfig, StartupError};
use super::launch::Launch;
use super::process::{handshake, SidecarProcess, DEFAULT_READY_TIMEOUT};
use crate::paths::DataLayout;

pub struct SidecarState {
    pub layout: DataLayout,
    pub ready_timeout: Duration,
    current: Mutex<Option<SidecarProcess>>,
}

impl SidecarState {
    pub fn new(layout: DataLayout) -> Self {
        Self { layout, ready_timeout: DEFAULT_READY_TIMEOUT, current: Mutex::new(None) }
    }

    /// Stop whatever runs, start a fresh process (new port, new key) and return what the UI needs.
    /// The child is registered before the handshake so `stop()` can kill it mid-start.
    pub async fn restart<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SageConfig, StartupError> {
        self.stop();
        let launch = Launch::from_env(app).map_err(|e| self.startup_error(e.to_string()))?;
        let (process, events) = SidecarProcess::spawn(app, &launch, self.layout.root())
            .map_err(|e| self.startup_error(e.to_string()))?;
        let pid = process.pid();
        let api_key = process.api_key.clone();
        *self.lock() = Some(process);

        let ready = handshake(events, self.ready_timeout).await;
        let mut current = self.lock();
        let still_ours = current.as_ref().is_some_and(|p| p.pid() == pid);
        match ready {
            Ok(ready) if still_ours => Ok(SageConfig::new(&ready, api_key.expose())),
            Ok(_) => Err(self.startup_error("the sidecar was stopped while starting".into())),
            Err(error) => {
                if still_ours {
                    *current = None; // drop kills it
                }
                Err(self.startup_error(error.to_string()))
            }
        }
    }

    /// Kill the running sidecar, if any. Called on app exit.
    pub fn stop(&self) {
        if let Some(mut process) = self.lock().take() {
            process.stop();
        }
    }

    /// Points at the shell log: it has the shell's view and the sidecar's forwarded stderr, even
    /// when the sidecar died before it could open its own log.
    fn startup_error(&self, message: String) -> StartupError {
        StartupError { message, log_path: self.layout.shell_log().display().to_string() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SidecarProcess>> {
        // A panic while holding the lock leaves plain data behind; keep going with it.
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
