//! The app-managed sidecar handle: the one running process, its generation, the restart policy's
//! memory, and the connection the UI should use now. It only holds state; `supervisor` starts,
//! watches and restarts.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::contract::{Refusal, SageConfig, StartupError};
use super::policy::RestartPolicy;
use super::process::{SidecarProcess, DEFAULT_READY_TIMEOUT, STOP_GRACE};
use crate::paths::DataLayout;

/// What a window connects to: nothing yet (a start is under way), a running sidecar, or the
/// error that stopped it from starting.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Starting,
    Ready(SageConfig),
    Failed(StartupError),
}

/// Every start and every deliberate stop begins a new generation. A supervisor watching an older
/// generation then knows the exit it sees was intended (or superseded) and stays quiet.
///
/// Locks: `parking_lot::Mutex` throughout the shell. Every critical section is a few field
/// reads or writes, never held across an `.await` (its guard is not `Send`, so a spawned task
/// that tried would not compile), and it does not poison: a panic elsewhere must not turn every
/// later command into an error.
pub struct SidecarState {
    pub layout: DataLayout,
    pub ready_timeout: Duration,
    pub health_interval: Duration,
    pub health_failures: u32,
    current: Mutex<Option<SidecarProcess>>,
    generation: AtomicU64,
    policy: Mutex<RestartPolicy>,
    connection: watch::Sender<Connection>,
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
            generation: AtomicU64::new(0),
            policy: Mutex::new(RestartPolicy::default()),
            connection: watch::Sender::new(Connection::Starting),
        }
    }

    /// The connection as it is now (`Starting` while a start is under way).
    pub fn connection(&self) -> Connection {
        self.connection.borrow().clone()
    }

    /// Hear every change of the connection (the tray follows the sidecar's scheduler through it).
    pub fn watch_connection(&self) -> watch::Receiver<Connection> {
        self.connection.subscribe()
    }

    /// The connection once the start under way has finished: the running sidecar's, or the
    /// error that stopped it.
    pub async fn settled_connection(&self) -> Result<SageConfig, StartupError> {
        let mut receiver = self.connection.subscribe();
        let settled = receiver.wait_for(|connection| !matches!(connection, Connection::Starting)).await;
        match settled.map(|connection| connection.clone()) {
            Ok(Connection::Ready(config)) => Ok(config),
            Ok(Connection::Failed(error)) => Err(error),
            // Unreachable: the sender lives as long as `self`.
            Ok(Connection::Starting) | Err(_) => Err(self.startup_error("the sidecar state was dropped".into())),
        }
    }

    pub(crate) fn set_connection(&self, connection: Connection) {
        self.connection.send_replace(connection);
    }

    /// Stop the running sidecar on purpose (app exit): it gets `STOP_GRACE` for a clean shutdown,
    /// then its whole tree is killed; no restart follows.
    pub fn stop(&self) {
        self.advance();
        self.stop_current(STOP_GRACE);
    }

    /// The running sidecar's pid, if any.
    pub fn pid(&self) -> Option<u32> {
        self.current.lock().as_ref().map(SidecarProcess::pid)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Begin a new generation (a deliberate start or stop) and return it.
    pub(crate) fn advance(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Begin a new generation only if `expected` is still the current one: the supervisor's
    /// restart, which must not override a start or stop that happened meanwhile.
    pub(crate) fn advance_from(&self, expected: u64) -> Option<u64> {
        self.generation.compare_exchange(expected, expected + 1, Ordering::SeqCst, Ordering::SeqCst).ok().map(|g| g + 1)
    }

    /// Own `process` from now on (before its handshake, so quitting during start-up kills it).
    /// Whatever ran before is killed.
    pub(crate) fn adopt(&self, process: SidecarProcess) {
        let previous = self.current.lock().replace(process);
        drop(previous); // dropping kills it, outside the lock
    }

    /// Whether `pid` of `generation` is still the sidecar we own.
    pub(crate) fn owns(&self, generation: u64, pid: u32) -> bool {
        self.generation() == generation && self.pid() == Some(pid)
    }

    /// End the current sidecar's tree, giving it up to `grace` to shut down cleanly first.
    pub(crate) fn stop_current(&self, grace: Duration) {
        let process = self.current.lock().take();
        if let Some(mut process) = process {
            process.stop(grace); // outside the lock: it may wait
        }
    }

    /// Kill `pid` and its tree if it is still the current process (a start that failed its
    /// handshake, a sidecar that died or hangs).
    pub(crate) fn discard(&self, pid: u32) {
        let mut current = self.current.lock();
        if current.as_ref().is_some_and(|p| p.pid() == pid) {
            let process = current.take();
            drop(current);
            drop(process);
        }
    }

    pub(crate) fn reset_policy(&self) {
        self.policy.lock().reset();
    }

    pub(crate) fn next_restart_delay(&self) -> Option<Duration> {
        self.policy.lock().next_delay(Instant::now())
    }

    pub(crate) fn crash_loop_error(&self) -> StartupError {
        self.startup_error("The local engine keeps crashing, so Sage stopped restarting it.".into())
    }

    /// Points at the shell log: it has the shell's view and the sidecar's forwarded stderr, even
    /// when the sidecar died before it could open its own log.
    pub(crate) fn startup_error(&self, message: String) -> StartupError {
        StartupError::new(message, self.layout.shell_log().display().to_string())
    }

    /// The sidecar refused to start and said why (its FAILED line): the UI translates the code.
    pub(crate) fn refusal_error(&self, refusal: Refusal) -> StartupError {
        StartupError { code: Some(refusal.code), params: Some(refusal.params), ..self.startup_error(refusal.detail) }
    }
}
