//! The real app binary: however it ends (SIGTERM, SIGINT, even SIGKILL), its sidecar ends too.
//! Needs a display: `scripts/test.sh` runs cargo test under Xvfb.
#![cfg(target_os = "linux")]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct RunningApp {
    child: Child,
    sidecar_pid: u32,
    _data: tempfile::TempDir,
}

fn launch_app() -> RunningApp {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "these tests open the real window: run them under Xvfb (scripts/test.sh does)"
    );
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sage-desktop"))
        .env("SAGE_DATA_DIR", data.path())
        .env("SAGE_SIDECAR_PYTHON", common::venv_python())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sidecars = common::sidecars_using(data.path());
        if let [pid] = sidecars[..] {
            return RunningApp { child, sidecar_pid: pid, _data: data };
        }
        assert!(Instant::now() < deadline, "the app never started its sidecar");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn send(pid: u32, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn assert_signal_ends_both(signal: &str) -> String {
    let mut app = launch_app();
    send(app.child.id(), signal);
    assert!(wait_exit(&mut app.child, Duration::from_secs(10)), "app ignored SIG{signal}");
    assert!(
        common::wait_gone(app.sidecar_pid, Duration::from_secs(2)),
        "sidecar outlived the app after SIG{signal}"
    );
    std::fs::read_to_string(app._data.path().join("logs/shell.log")).unwrap_or_default()
}

/// The shell itself stopped the sidecar (its exit hook ran), rather than leaving it to notice.
fn assert_shell_stopped_sidecar(shell_log: &str) {
    assert!(shell_log.contains(") stopped"), "no 'sidecar stopped' in shell.log:\n{shell_log}");
}

#[test]
fn sigterm_ends_app_and_sidecar() {
    assert_shell_stopped_sidecar(&assert_signal_ends_both("TERM"));
}

#[test]
fn sigint_ends_app_and_sidecar() {
    assert_shell_stopped_sidecar(&assert_signal_ends_both("INT"));
}

#[test]
fn sigkill_of_the_app_still_ends_the_sidecar() {
    // No handler runs on SIGKILL: only the sidecar's own parent watch can clean up.
    assert_signal_ends_both("KILL");
}
