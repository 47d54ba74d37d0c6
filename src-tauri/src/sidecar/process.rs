//! One sidecar process: spawn it, wait for its READY line, forward its output to the log, and
//! kill it when this handle is dropped or stopped.
use std::path::Path;
use std::time::Duration;

use tauri::async_runtime::{JoinHandle, Receiver};
use tauri::{AppHandle, Runtime};
use tauri_plugin_shell::process::{CommandChild, CommandEvent};

use super::contract::{parse_ready_line, HandshakeError, ReadyInfo, ENV_API_KEY, ENV_DATA_DIR, ENV_PARENT_PID};
use super::key::ApiKey;
use super::launch::Launch;

/// Generous: the frozen sidecar is ready in ~0.5 s, but a first start migrates the database and a
/// cold disk or antivirus scan can be slow.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How many trailing stderr lines an early-exit error carries.
const STDERR_TAIL_LINES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("could not start the sidecar: {0}")]
    Spawn(String),
    #[error("the sidecar did not report ready within {0:?}")]
    Timeout(Duration),
    #[error("the sidecar exited before it was ready ({status}){}", tail_suffix(.stderr_tail))]
    ExitedEarly { status: String, stderr_tail: String },
    #[error("the sidecar's handshake was invalid: {0}")]
    Handshake(#[from] HandshakeError),
}

fn tail_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {tail}")
    }
}

/// A running sidecar child. Killed on `stop()` or drop, whether or not it ever became ready.
pub struct SidecarProcess {
    child: Option<CommandChild>,
    pid: u32,
    pub api_key: ApiKey,
}

impl SidecarProcess {
    /// Spawn with a fresh key. The caller owns the child from here on, so it can be killed even
    /// while the handshake is still pending (e.g. the user quits during start-up).
    pub fn spawn<R: Runtime>(
        app: &AppHandle<R>,
        launch: &Launch,
        data_dir: &Path,
    ) -> Result<(Self, Receiver<CommandEvent>), SidecarError> {
        let api_key = ApiKey::generate();
        // Secrets go in the environment, never on the command line (other users can read argv).
        let command = launch
            .command(app)
            .map_err(|e| SidecarError::Spawn(e.to_string()))?
            .env(ENV_API_KEY, api_key.expose())
            .env(ENV_DATA_DIR, data_dir)
            .env(ENV_PARENT_PID, std::process::id().to_string());
        let (events, child) = command.spawn().map_err(|e| SidecarError::Spawn(e.to_string()))?;
        let pid = child.pid();
        log::info!("sidecar spawned (pid {pid}) with {launch:?}");
        Ok((Self { child: Some(child), pid, api_key }, events))
    }

    /// Spawn and wait for the handshake; on failure the child is killed (by drop).
    pub async fn start<R: Runtime>(
        app: &AppHandle<R>,
        launch: &Launch,
        data_dir: &Path,
        ready_timeout: Duration,
    ) -> Result<(Self, ReadyInfo), SidecarError> {
        let (process, events) = Self::spawn(app, launch, data_dir)?;
        let (ready, _output) = handshake(events, ready_timeout).await;
        Ok((process, ready?))
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kill the process now. Idempotent.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            match child.kill() {
                Ok(()) => log::info!("sidecar (pid {}) stopped", self.pid),
                Err(error) => log::warn!("could not kill sidecar (pid {}): {error}", self.pid),
            }
        }
    }
}

/// Wait for READY, then keep forwarding the child's output to the log for the rest of its life.
/// The returned task finishes when the process has exited: the supervisor waits on it.
pub async fn handshake(
    mut events: Receiver<CommandEvent>,
    timeout: Duration,
) -> (Result<ReadyInfo, SidecarError>, JoinHandle<()>) {
    let result = await_ready(&mut events, timeout).await;
    match &result {
        Ok(ready) => log::info!("sidecar {} ready on 127.0.0.1:{}", ready.version, ready.port),
        Err(error) => log::error!("{error}"),
    }
    (result, tauri::async_runtime::spawn(forward_output(events)))
}

impl Drop for SidecarProcess {
    /// Dropping the handle must never leave an orphan behind.
    fn drop(&mut self) {
        self.stop();
    }
}

/// Read events until the READY line. Lines before it are forwarded to the log; the last stderr
/// lines are kept so an early exit can say why.
pub async fn await_ready(events: &mut Receiver<CommandEvent>, timeout: Duration) -> Result<ReadyInfo, SidecarError> {
    let mut stderr_tail: Vec<String> = Vec::new();
    let wait = async {
        while let Some(event) = events.recv().await {
            match event {
                CommandEvent::Stdout(bytes) => {
                    let line = String::from_utf8_lossy(&bytes);
                    if let Some(ready) = parse_ready_line(&line)? {
                        return Ok(ready);
                    }
                    log::info!(target: "sidecar", "{}", line.trim_end());
                }
                CommandEvent::Stderr(bytes) => {
                    let line = String::from_utf8_lossy(&bytes).trim_end().to_owned();
                    log::info!(target: "sidecar", "{line}");
                    stderr_tail.push(line);
                    if stderr_tail.len() > STDERR_TAIL_LINES {
                        stderr_tail.remove(0);
                    }
                }
                CommandEvent::Terminated(payload) => {
                    let status = match (payload.code, payload.signal) {
                        (Some(code), _) => format!("exit code {code}"),
                        (None, Some(signal)) => format!("signal {signal}"),
                        (None, None) => "unknown status".to_owned(),
                    };
                    return Err(SidecarError::ExitedEarly { status, stderr_tail: stderr_tail.join("\n") });
                }
                CommandEvent::Error(error) => log::warn!(target: "sidecar", "output error: {error}"),
                _ => {}
            }
        }
        Err(SidecarError::ExitedEarly { status: "output closed".into(), stderr_tail: stderr_tail.join("\n") })
    };
    tokio::time::timeout(timeout, wait).await.unwrap_or(Err(SidecarError::Timeout(timeout)))
}

/// Keep draining the child's output for its whole life: an undrained pipe would block the
/// sidecar as soon as the buffer fills.
async fn forward_output(mut events: Receiver<CommandEvent>) {
    while let Some(event) = events.recv().await {
        match event {
            CommandEvent::Stdout(bytes) | CommandEvent::Stderr(bytes) => {
                log::info!(target: "sidecar", "{}", String::from_utf8_lossy(&bytes).trim_end());
            }
            CommandEvent::Terminated(payload) => {
                log::warn!(target: "sidecar", "sidecar exited: code {:?}, signal {:?}", payload.code, payload.signal);
            }
            CommandEvent::Error(error) => log::warn!(target: "sidecar", "output error: {error}"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::async_runtime::{block_on, channel};
    use tauri_plugin_shell::process::TerminatedPayload;

    fn run(events: Vec<CommandEvent>, timeout: Duration) -> Result<ReadyInfo, SidecarError> {
        let (tx, mut rx) = channel(16);
        block_on(async move {
            for event in events {
                tx.send(event).await.unwrap();
            }
            // Keep the sender alive so "no more output" looks like silence, not a closed pipe.
            let result = await_ready(&mut rx, timeout).await;
            drop(tx);
            result
        })
    }

    fn stdout(line: &str) -> CommandEvent {
        CommandEvent::Stdout(line.as_bytes().to_vec())
    }

    #[test]
    fn ready_after_other_output() {
        let ready = run(
            vec![
                CommandEvent::Stderr(b"INFO starting".to_vec()),
                stdout("some noise"),
                stdout(r#"SAGE_SIDECAR_READY {"port":4100,"pid":7,"version":"0.1.0"}"#),
            ],
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(ready.port, 4100);
    }

    #[test]
    fn missing_ready_line_times_out() {
        let error = run(vec![stdout("hello")], Duration::from_millis(100)).unwrap_err();
        assert!(matches!(error, SidecarError::Timeout(_)), "{error}");
    }

    #[test]
    fn garbage_ready_line_is_a_handshake_error() {
        let error = run(vec![stdout("SAGE_SIDECAR_READY {oops")], Duration::from_secs(1)).unwrap_err();
        assert!(matches!(error, SidecarError::Handshake(_)), "{error}");
    }

    #[test]
    fn early_exit_reports_status_and_stderr() {
        let error = run(
            vec![
                CommandEvent::Stderr(b"sage-sidecar: refusing to start: SAGE_API_KEY".to_vec()),
                CommandEvent::Terminated(TerminatedPayload { code: Some(2), signal: None }),
            ],
            Duration::from_secs(1),
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("exit code 2"), "{message}");
        assert!(message.contains("refusing to start"), "{message}");
    }
}
