//! One sidecar process: spawn it, wait for its READY line, forward its output to the log, and
//! end it and everything it started when this handle is stopped (asked first, then killed) or
//! dropped (killed). Plain `std::process` plus reader threads (`shared_child` lets one thread wait
//! while another kills): it needs no Tauri app. `ownership` holds the per-OS process tree rules.
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{ChildStdin, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared_child::SharedChild;
use tauri::async_runtime::{channel, JoinHandle, Receiver, Sender};

use super::contract::{
    parse_failed_line, parse_ready_line, HandshakeError, ReadyInfo, Refusal, ENV_API_KEY, ENV_DATA_DIR, ENV_PARENT_PID,
};
use super::key::ApiKey;
use super::launch::Launch;
use super::ownership::{self, OwnedTree};

/// Generous: the frozen sidecar is ready in ~0.5 s, but a first start migrates the database and a
/// cold disk or antivirus scan can be slow.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How many trailing stderr lines an early-exit error carries.
const STDERR_TAIL_LINES: usize = 8;
/// A quit asks the sidecar to stop and waits at most this long for its clean shutdown (replies
/// saved, ingest paused, MCP servers, scripts and workers ended: 1.4–1.8 s with an MCP server that
/// ignores its stdin, on a loaded 2-core machine) before killing the tree.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// Once the sidecar has exited, how long its last output may take to arrive before `Exited` is
/// sent anyway (the pipes may stay open in processes it started).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(60);

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
    /// It said why on its FAILED line (e.g. a database from a newer Sage) and exited.
    #[error("{}", .0.detail)]
    Refused(Refusal),
}

fn tail_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {tail}")
    }
}

/// What a running sidecar does, line by line, and finally its end (always the last event).
#[derive(Debug, Clone, PartialEq)]
pub enum SidecarEvent {
    Stdout(String),
    Stderr(String),
    /// The process ended: "exit code 2", "signal 9".
    Exited(String),
}

pub type SidecarEvents = Receiver<SidecarEvent>;

/// A running sidecar child. Ended with its whole tree on `stop()` or drop, whether or not it ever
/// became ready.
pub struct SidecarProcess {
    child: Arc<SharedChild>,
    tree: OwnedTree,
    /// Held open for the child's life: when the shell dies the OS closes it, and the sidecar's
    /// parent watch sees EOF.
    stdin: Option<ChildStdin>,
    pid: u32,
    stopped: bool,
    pub api_key: ApiKey,
}

impl SidecarProcess {
    /// Spawn with a fresh key. The caller owns the child from here on, so it can be killed even
    /// while the handshake is still pending (e.g. the user quits during start-up).
    pub fn spawn(launch: &Launch, data_dir: &Path) -> Result<(Self, SidecarEvents), SidecarError> {
        let api_key = ApiKey::generate();
        let mut command = launch.command();
        // Secrets go in the environment, never on the command line (other users can read argv).
        command
            .env(ENV_API_KEY, api_key.expose())
            .env(ENV_DATA_DIR, data_dir)
            .env(ENV_PARENT_PID, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            command.creation_flags(CREATE_NO_WINDOW);
        }
        let (child, tree) = ownership::spawn(command).map_err(|e| SidecarError::Spawn(e.to_string()))?;
        let child = Arc::new(child);
        let pid = child.id();
        let stdin = child.take_stdin();
        let (tx, events) = channel(64);
        let readers = [
            child.take_stdout().map(|out| read_lines(out, tx.clone(), SidecarEvent::Stdout)),
            child.take_stderr().map(|err| read_lines(err, tx.clone(), SidecarEvent::Stderr)),
        ];
        let waited = child.clone();
        std::thread::spawn(move || {
            let status = waited.wait();
            // `Exited` comes after what the sidecar wrote (a short-lived child can exit before
            // anything was read), but not after its descendants: a process it started may hold the
            // same pipes (an MCP server writes to the sidecar's stderr, and so do its children), and
            // the supervisor must hear of the exit now to sweep them and start a new sidecar.
            let deadline = Instant::now() + DRAIN_AFTER_EXIT;
            for reader in readers.iter().flatten() {
                while !reader.is_finished() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            let _ = tx.blocking_send(SidecarEvent::Exited(describe(status)));
        });
        log::info!("sidecar spawned (pid {pid}) with {launch:?}");
        Ok((Self { child, tree, stdin, pid, stopped: false, api_key }, events))
    }

    /// Spawn and wait for the handshake; on failure the child is killed (by drop).
    pub async fn start(
        launch: &Launch,
        data_dir: &Path,
        ready_timeout: Duration,
    ) -> Result<(Self, ReadyInfo), SidecarError> {
        let (process, events) = Self::spawn(launch, data_dir)?;
        let (ready, _output) = handshake(events, ready_timeout).await;
        Ok((process, ready?))
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// End the sidecar and everything it started: ask it to stop, give it up to `grace` for its
    /// clean shutdown, then kill whatever is left of its tree. Synchronous (the app may be
    /// exiting); idempotent.
    pub fn stop(&mut self, grace: Duration) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let started = Instant::now();
        let mut exited = matches!(self.child.try_wait(), Ok(Some(_)));
        if !exited && !grace.is_zero() {
            self.tree.ask_to_stop();
            #[cfg(windows)]
            self.stdin.take(); // its stop request on Windows: its parent watch sees EOF
            exited = matches!(self.child.wait_timeout(grace), Ok(Some(_)));
        }
        let killed = self.tree.kill();
        if !exited {
            if let Err(error) = self.child.kill() {
                log::warn!("could not kill sidecar (pid {}): {error}", self.pid);
            }
        }
        self.stdin.take();
        let how = if exited { "exited by itself" } else { "killed" };
        log::info!(
            "sidecar (pid {}) stopped: {how} after {:?}; {killed} process(es) of its tree killed",
            self.pid,
            started.elapsed()
        );
    }
}

impl Drop for SidecarProcess {
    /// Dropping the handle must never leave an orphan behind, nor wait.
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}

/// Forward a pipe to `tx` line by line until EOF.
fn read_lines<R: Read + Send + 'static>(
    pipe: R,
    tx: Sender<SidecarEvent>,
    event: fn(String) -> SidecarEvent,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line).trim_end_matches('\r').to_owned();
            if tx.blocking_send(event(text)).is_err() {
                break; // nobody listens any more
            }
        }
    })
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    let status = match status {
        Ok(status) => status,
        Err(error) => return format!("unknown status: {error}"),
    };
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    "unknown status".to_owned()
}

/// Wait for READY, then keep forwarding the child's output to the log for the rest of its life.
/// The returned task finishes when the process has exited: the supervisor waits on it.
pub async fn handshake(
    mut events: SidecarEvents,
    timeout: Duration,
) -> (Result<ReadyInfo, SidecarError>, JoinHandle<()>) {
    let result = await_ready(&mut events, timeout).await;
    match &result {
        Ok(ready) => log::info!("sidecar {} ready on 127.0.0.1:{}", ready.version, ready.port),
        Err(error) => log::error!("{error}"),
    }
    (result, tauri::async_runtime::spawn(forward_output(events)))
}

/// Read events until the READY line. Lines before it are forwarded to the log; the last stderr
/// lines are kept so an early exit can say why.
pub async fn await_ready(events: &mut SidecarEvents, timeout: Duration) -> Result<ReadyInfo, SidecarError> {
    let mut stderr_tail: Vec<String> = Vec::new();
    let mut refusal: Option<Refusal> = None;
    let wait = async {
        while let Some(event) = events.recv().await {
            match event {
                SidecarEvent::Stdout(line) => {
                    if let Some(ready) = parse_ready_line(&line)? {
                        return Ok(ready);
                    }
                    if let Some(refused) = parse_failed_line(&line) {
                        refusal = Some(refused);
                    }
                    log::info!(target: "sidecar", "{}", line.trim_end());
                }
                SidecarEvent::Stderr(line) => {
                    let line = line.trim_end().to_owned();
                    log::info!(target: "sidecar", "{line}");
                    stderr_tail.push(line);
                    if stderr_tail.len() > STDERR_TAIL_LINES {
                        stderr_tail.remove(0);
                    }
                }
                SidecarEvent::Exited(status) => {
                    if let Some(refused) = refusal.take() {
                        return Err(SidecarError::Refused(refused));
                    }
                    return Err(SidecarError::ExitedEarly { status, stderr_tail: stderr_tail.join("\n") });
                }
            }
        }
        Err(SidecarError::ExitedEarly { status: "output closed".into(), stderr_tail: stderr_tail.join("\n") })
    };
    tokio::time::timeout(timeout, wait).await.unwrap_or(Err(SidecarError::Timeout(timeout)))
}

/// Keep draining the child's output for its whole life: an undrained pipe would block the
/// sidecar as soon as the buffer fills.
async fn forward_output(mut events: SidecarEvents) {
    while let Some(event) = events.recv().await {
        match event {
            SidecarEvent::Stdout(line) | SidecarEvent::Stderr(line) => {
                log::info!(target: "sidecar", "{}", line.trim_end());
            }
            SidecarEvent::Exited(status) => {
                // Done: the supervisor waits on this task. What descendants still write to the
                // pipes is dropped (their readers end when this receiver goes), and they are
                // about to be swept.
                log::warn!(target: "sidecar", "sidecar exited: {status}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::async_runtime::block_on;

    fn run(events: Vec<SidecarEvent>, timeout: Duration) -> Result<ReadyInfo, SidecarError> {
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

    fn stdout(line: &str) -> SidecarEvent {
        SidecarEvent::Stdout(line.to_owned())
    }

    #[test]
    fn ready_after_other_output() {
        let ready = run(
            vec![
                SidecarEvent::Stderr("INFO starting".into()),
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
    fn a_refusal_on_the_failed_line_is_kept_for_the_ui() {
        let line = r#"SAGE_SIDECAR_FAILED {"code":"storage.newer_database","detail":"Update Sage","params":{"revision":"0012"}}"#;
        let error =
            run(vec![stdout(line), SidecarEvent::Exited("exit code 3".into())], Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.to_string(), "Update Sage");
        match error {
            SidecarError::Refused(refusal) => {
                assert_eq!(refusal.code, "storage.newer_database");
                assert_eq!(refusal.params["revision"], "0012");
            }
            other => panic!("not a refusal: {other}"),
        }
    }

    #[test]
    fn early_exit_reports_status_and_stderr() {
        let error = run(
            vec![
                SidecarEvent::Stderr("sage-sidecar: refusing to start: SAGE_API_KEY".into()),
                SidecarEvent::Exited("exit code 2".into()),
            ],
            Duration::from_secs(1),
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("exit code 2"), "{message}");
        assert!(message.contains("refusing to start"), "{message}");
    }
}
