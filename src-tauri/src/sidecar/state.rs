//! The app-managed sidecar handle: the one running process, its generation, and the restart
//! policy the supervisor applies.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tauri::{AppHandle, Runtime};

use super::contract::{SageConfig, StartupError};
use super::launch::Launch;
use super::process::{handshake, SidecarProcess, DEFAULT_READY_TIMEOUT};
use super::supervisor::{self, HealthCheck, RestartPolicy};
use crate::paths::DataLayout;

pub(crate) type StartFuture<'a> = Pin<Box<dyn Future<Output = Result<SageConfig, StartupError>> + Send + 'a>>;

/// Every start and every deliberate stop begins a new generation. A supervisor watching an older
/// generation then knows the exit it sees was intended (or superseded) and stays quiet.
pub struct SidecarState {
    pub layout: DataLayout,
    pub ready_timeout: Duration,
    pub health_interval: Duration,
    pub health_failures: u32,
    current: Mutex<Option<SidecarProcess>>,
    /// What the last start (or the supervisor giving up) produced: windows opened later, like
    /// quick ask, are created with it.
    latest: Mutex<Option<Result<SageConfig, StartupError>>>,
    generation: AtomicU64,
    policy: Mutex<RestartPolicy>,
}

impl SidecarState {
    pub fn new(layout: DataLayout) -> Self {
        // SAGE_HEALTH_INTERVAL_MS shortens the hang detection in tests.
        let interval = std::env::var("SAGE_HEALTH_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(5));
        Self {
            layout,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            health_interval: interval,
            health_failures: 3,
            current: Mutex::new(None),
            latest: Mutex::new(None),
            generation: AtomicU64::new(0),
            policy: Mutex::new(RestartPolicy::default()),
        }
    }

    /// A deliberate (re)start — at launch, or the user's Restart: the crash count starts afresh.
    pub async fn restart<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SageConfig, StartupError> {
        lock(&self.policy).reset();
        self.start(app).await
    }

    /// Stop whatever runs, start a fresh process (new port, new key), put a supervisor on it,
    /// and return what the UI needs. The child is registered before the handshake so `stop()`
    /// can kill it mid-start.
    ///
    /// Boxed with an explicit `Send`: the supervisor it spawns calls `start` again, and the
    /// compiler cannot infer `Send` through that cycle on its own.
    pub(crate) fn start<'a, R: Runtime>(&'a self, app: &'a AppHandle<R>) -> StartFuture<'a> {
        Box::pin(async move {
            let result = self.start_inner(app).await;
            self.remember(result.clone());
            result
        })
    }

    /// The connection the UI should use now (`None` before the first start has finished).
    pub fn latest(&self) -> Option<Result<SageConfig, StartupError>> {
        lock(&self.latest).clone()
    }

    pub(crate) fn remember(&self, result: Result<SageConfig, StartupError>) {
        *lock(&self.latest) = Some(result);
    }

    async fn start_inner<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SageConfig, StartupError> {
        self.stop();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let launch = Launch::from_env(app).map_err(|e| self.startup_error(e.to_string()))?;
        let (process, events) = SidecarProcess::spawn(app, &launch, self.layout.root())
            .map_err(|e| self.startup_error(e.to_string()))?;
        let pid = process.pid();
        let api_key = process.api_key.clone();
        *lock(&self.current) = Some(process);

        let (ready, exited) = handshake(events, self.ready_timeout).await;
        let mut current = lock(&self.current);
        let still_ours = current.as_ref().is_some_and(|p| p.pid() == pid);
        match ready {
            Ok(ready) if still_ours => {
                let health = HealthCheck {
                    port: ready.port,
                    api_key: api_key.expose().to_owned(),
                    interval: self.health_interval,
                    failures: self.health_failures,
                };
                tauri::async_runtime::spawn(supervisor::watch(app.clone(), generation, exited, health));
                Ok(SageConfig::new(&ready, api_key.expose()))
            }
            Ok(_) => Err(self.startup_error("the sidecar was stopped while starting".into())),
            Err(error) => {
                if still_ours {
                    *current = None; // drop kills it
                }
                Err(self.startup_error(error.to_string()))
            }
        }
    }

    /// Kill the running sidecar on purpose (app exit): no restart follows.
    pub fn stop(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.kill_current();
    }

    /// The running sidecar's pid, if any.
    pub fn pid(&self) -> Option<u32> {
        lock(&self.current).as_ref().map(SidecarProcess::pid)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Kill without starting a new generation: the supervisor uses it on a hung sidecar.
    pub(crate) fn kill_current(&self) {
        if let Some(mut process) = lock(&self.current).take() {
            process.stop();
        }
    }

    pub(crate) fn next_restart_delay(&self) -> Option<Duration> {
        lock(&self.policy).next_delay(Instant::now())
    }

    pub(crate) fn crash_loop_error(&self) -> StartupError {
        self.startup_error("The local engine keeps crashing, so Sage stopped restarting it.".into())
    }

    /// Points at the shell log: it has the shell's view and the sidecar's forwarded stderr, even
    /// when the sidecar died before it could open its own log.
    fn startup_error(&self, message: String) -> StartupError {
        StartupError { message, log_path: self.layout.shell_log().display().to_string() }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going with it.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
