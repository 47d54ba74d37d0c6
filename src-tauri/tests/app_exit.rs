//! The real app binary: however it ends (SIGTERM, SIGINT, even SIGKILL), its sidecar ends too;
//! and an app whose sidecar cannot start still ends when asked (SIGTERM, closing its window).
//! Needs a display: `scripts/test.sh` runs cargo test under Xvfb.
#![cfg(target_os = "linux")]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The app binary, owned by the test: killed and reaped when dropped, whatever the test did.
struct AppProcess(Child);

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the real app on its own data dir (and config dir: default shell settings).
fn spawn_app(data: &std::path::Path, sidecar_python: &std::path::Path) -> AppProcess {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "these tests open the real window: run them under Xvfb (scripts/test.sh does)"
    );
    AppProcess(
        Command::new(env!("CARGO_BIN_EXE_sage-desktop"))
            .env("SAGE_DATA_DIR", data)
            .env("SAGE_SIDECAR_PYTHON", sidecar_python)
            .env("SAGE_UPDATE_CHECK", "off")
            .env("XDG_CONFIG_HOME", data.join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app binary starts"),
    )
}

struct RunningApp {
    app: AppProcess,
    sidecar_pid: u32,
    _data: tempfile::TempDir,
}

/// Wait until the shell log says `needle`.
fn wait_for_log(data: &std::path::Path, needle: &str) {
    let log = data.join("logs/shell.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains(needle) {
        assert!(Instant::now() < deadline, "shell.log never said {needle:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The app with its sidecar up and answering (the window opens earlier, while it starts).
fn launch_app() -> RunningApp {
    let data = tempfile::tempdir().unwrap();
    let app = spawn_app(data.path(), &common::venv_python());
    wait_for_log(data.path(), "ready on 127.0.0.1:");
    let sidecars = common::sidecars_using(data.path());
    let [pid] = sidecars[..] else { panic!("expected one sidecar, found {sidecars:?}") };
    RunningApp { app, sidecar_pid: pid, _data: data }
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
    let mut running = launch_app();
    send(running.app.0.id(), signal);
    assert!(wait_exit(&mut running.app.0, Duration::from_secs(10)), "app ignored SIG{signal}");
    assert!(
        common::wait_gone(running.sidecar_pid, Duration::from_secs(2)),
        "sidecar outlived the app after SIG{signal}"
    );
    std::fs::read_to_string(running._data.path().join("logs/shell.log")).unwrap_or_default()
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

/// The app with a sidecar that exits at once (`/bin/false`): it shows the startup error.
fn launch_failing_app() -> (AppProcess, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let app = spawn_app(data.path(), std::path::Path::new("/bin/false"));
    wait_for_log(data.path(), "exited before it was ready");
    (app, data)
}

/// Send the window the close request a window manager sends (WM_DELETE_WINDOW); false when no
/// such window is mapped.
fn request_close(pid: u32, title: &str) -> bool {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-python/tests/fixtures/x11_close.py");
    Command::new(common::venv_python())
        .arg(&script)
        .args([&pid.to_string(), title])
        .stderr(Stdio::null())
        .status()
        .expect("x11_close.py runs")
        .success()
}

/// Close the window and wait for the app to exit. The request is repeated while the window is
/// still mapped (one sent while GTK was still setting the window up can be lost, and on a loaded
/// machine the app may not have mapped it yet); a window that is gone while the app runs on was
/// hidden instead of closed.
fn close_window_and_wait_exit(app: &mut Child, title: &str) -> Result<(), &'static str> {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut requested = false;
    while Instant::now() < deadline {
        if request_close(app.id(), title) {
            requested = true;
        }
        if wait_exit(app, Duration::from_secs(2)) {
            return Ok(());
        }
    }
    Err(if requested {
        "the window was asked to close but the app is still running"
    } else {
        "the window was never mapped"
    })
}

#[test]
fn an_app_whose_sidecar_cannot_start_exits_on_sigterm() {
    let (mut app, _data) = launch_failing_app();
    send(app.0.id(), "TERM");
    assert!(wait_exit(&mut app.0, Duration::from_secs(10)), "the app ignored SIGTERM in the startup-error state");
}

#[test]
fn an_app_whose_sidecar_cannot_start_exits_when_its_window_is_closed() {
    // Close to tray is on by default, but with no engine running there is nothing to keep.
    let (mut app, _data) = launch_failing_app();
    if let Err(what) = close_window_and_wait_exit(&mut app.0, "Sage") {
        panic!("closing the window left the app running in the startup-error state: {what}");
    }
}
