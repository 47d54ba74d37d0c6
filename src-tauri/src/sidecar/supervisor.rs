//! Starts the sidecar and keeps it alive: restarts it when it exits unexpectedly or stops
//! answering its keyed health check, with backoff and a crash-loop limit, and tells the UI
//! either way.
//!
//! Events: `sage://sidecar-changed` (payload: the new `SageConfig`, the UI connects or
//! reconnects) after every successful start, and `sage://sidecar-failed` (payload: a
//! `StartupError`, the UI shows it with a Restart button) when a start failed or the supervisor
//! gave up. The UI can also ask at any time with the `get_connection` command.
//!
//! Only this module starts processes; `state` just holds them. One task per running sidecar
//! watches it and, when it dies, starts the next one itself (a loop, not a new task), so no
//! future here contains itself.
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager, PackageInfo, Runtime};

use super::contract::{SageConfig, StartupError};
use super::health::HealthCheck;
use super::launch::Launch;
use super::process::{handshake, SidecarError, SidecarEvents, SidecarProcess, STOP_GRACE};
use super::state::{Connection, SidecarState};

pub const SIDECAR_CHANGED_EVENT: &str = "sage://sidecar-changed";
pub const SIDECAR_FAILED_EVENT: &str = "sage://sidecar-failed";

/// A deliberate start under way: its generation, and the process spawned for it (owned by the
/// state) or why none could be.
pub struct Start {
    generation: u64,
    spawned: Result<Spawned, StartupError>,
}

/// A process the state owns whose handshake is still to come.
struct Spawned {
    pid: u32,
    api_key: String,
    events: SidecarEvents,
}

/// A sidecar that answered its handshake, and what its watcher needs.
struct Running {
    generation: u64,
    pid: u32,
    config: SageConfig,
    exited: JoinHandle<()>,
    health: HealthCheck,
}

/// Begin a deliberate (re)start — at launch, or the user's Restart: whatever runs is stopped, the
/// crash count starts afresh and a new process is spawned (new port, new key). Synchronous, so
/// the first one is spawned at the very start of the app's setup.
pub fn begin(state: &SidecarState, package_info: &PackageInfo) -> Start {
    state.reset_policy();
    let generation = state.advance();
    Start { generation, spawned: spawn(state, package_info) }
}

impl Start {
    /// The spawned process, if the spawn worked.
    pub fn pid(&self) -> Option<u32> {
        self.spawned.as_ref().ok().map(|spawned| spawned.pid)
    }
}

/// Finish a deliberate start: wait for the handshake, put a watcher on the sidecar and tell every
/// window the outcome.
pub async fn finish<R: Runtime>(app: &AppHandle<R>, start: Start) -> Result<SageConfig, StartupError> {
    let state = app.state::<SidecarState>();
    let outcome = match start.spawned {
        Ok(spawned) => handshake_of(&state, start.generation, spawned).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(running) => {
            let config = running.config.clone();
            announce(app, &config);
            tauri::async_runtime::spawn(supervise(app.clone(), running));
            Ok(config)
        }
        Err(error) => {
            // A newer start or a stop superseded this one: the outcome is theirs to report.
            if state.generation() == start.generation {
                state.set_connection(Connection::Failed(error.clone()));
                announce_failure(app, &error);
            }
            Err(error)
        }
    }
}

/// A deliberate restart from start to finish (the UI's Retry/Restart).
pub async fn restart<R: Runtime>(app: &AppHandle<R>) -> Result<SageConfig, StartupError> {
    let start = begin(&app.state::<SidecarState>(), app.package_info());
    finish(app, start).await
}

/// Spawn a sidecar for the current generation; the state owns it from here on, so a stop (app
/// exit) kills it even mid-start. A sidecar still running (the user's Restart) is stopped
/// cleanly first.
fn spawn(state: &SidecarState, package_info: &PackageInfo) -> Result<Spawned, StartupError> {
    state.set_connection(Connection::Starting);
    state.stop_current(STOP_GRACE);
    let launch = Launch::from_env(package_info).map_err(|e| state.startup_error(e))?;
    let (process, events) =
        SidecarProcess::spawn(&launch, state.layout.root()).map_err(|e| state.startup_error(e.to_string()))?;
    let spawned = Spawned { pid: process.pid(), api_key: process.api_key.expose().to_owned(), events };
    state.adopt(process);
    Ok(spawned)
}

/// Wait for a spawned sidecar's handshake.
async fn handshake_of(state: &SidecarState, generation: u64, spawned: Spawned) -> Result<Running, StartupError> {
    let Spawned { pid, api_key, events } = spawned;
    let (ready, exited) = handshake(events, state.ready_timeout).await;
    let ready = ready.map_err(|error| {
        state.discard(pid);
        match error {
            SidecarError::Refused(refusal) => state.refusal_error(refusal),
            other => state.startup_error(other.to_string()),
        }
    })?;
    if !state.owns(generation, pid) {
        return Err(state.startup_error("the sidecar was stopped while starting".into()));
    }
    let config = SageConfig::new(&ready, &api_key);
    state.set_connection(Connection::Ready(config.clone()));
    let health =
        HealthCheck { port: ready.port, api_key, interval: state.health_interval, failures: state.health_failures };
    Ok(Running { generation, pid, config, exited, health })
}

/// Watch a running sidecar until it exits or hangs, then restart it per policy; repeat until a
/// deliberate start or stop takes over, or the policy gives up.
async fn supervise<R: Runtime>(app: AppHandle<R>, mut running: Running) {
    let state = app.state::<SidecarState>();
    loop {
        let hung = tokio::select! {
            _ = &mut running.exited => false,
            _ = running.health.clone().until_hung() => true,
        };
        if state.generation() != running.generation {
            return; // stopped on purpose, or already replaced
        }
        if hung {
            log::warn!("sidecar stopped answering its health check; restarting it");
        } else {
            log::warn!("sidecar exited unexpectedly; restarting it");
        }
        // Now, not at the next spawn: what a dead sidecar started must not outlive it, even when
        // the crash-loop limit means no next spawn comes. (Only if it is still the current one: a
        // Restart may have replaced it since the check above.)
        state.discard(running.pid);
        let mut generation = running.generation;
        running = loop {
            let Some(delay) = state.next_restart_delay() else {
                if state.generation() == generation {
                    let error = state.crash_loop_error();
                    log::error!("{}", error.message);
                    state.set_connection(Connection::Failed(error.clone()));
                    announce_failure(&app, &error);
                }
                return;
            };
            tokio::time::sleep(delay).await;
            let Some(next) = state.advance_from(generation) else {
                return; // the user restarted it meanwhile, or the app is quitting
            };
            generation = next;
            let launched = match spawn(&state, app.package_info()) {
                Ok(spawned) => handshake_of(&state, generation, spawned).await,
                Err(error) => Err(error),
            };
            match launched {
                Ok(next) => {
                    announce(&app, &next.config);
                    break next;
                }
                // A refusal (a database from a newer Sage) would be the same at every try.
                Err(error) if error.code.is_some() => {
                    log::error!("the sidecar refused to start: {}", error.message);
                    if state.generation() == generation {
                        state.set_connection(Connection::Failed(error.clone()));
                        announce_failure(&app, &error);
                    }
                    return;
                }
                Err(error) => log::warn!("restart failed: {}", error.message),
            }
        };
    }
}

fn announce<R: Runtime>(app: &AppHandle<R>, config: &SageConfig) {
    if let Err(error) = app.emit(SIDECAR_CHANGED_EVENT, config) {
        log::warn!("could not announce the new sidecar: {error}");
    }
}

fn announce_failure<R: Runtime>(app: &AppHandle<R>, error: &StartupError) {
    if let Err(emit_error) = app.emit(SIDECAR_FAILED_EVENT, error) {
        log::warn!("could not announce the sidecar failure: {emit_error}");
    }
}
