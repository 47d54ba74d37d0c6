//! The supervisor with the real sidecar (project venv) on a mock Tauri app: a killed sidecar is
//! replaced, a hung one too, a crash loop ends in a failure event, and a deliberate stop is final.
#![cfg(target_os = "linux")]
mod common;

use std::process::Command;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use sage_desktop_lib::paths::DataLayout;
use sage_desktop_lib::sidecar::supervisor::{SIDECAR_CHANGED_EVENT, SIDECAR_FAILED_EVENT};
use sage_desktop_lib::sidecar::{SageConfig, SidecarState};
use tauri::async_runtime::block_on;
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{Listener, Manager};

struct Harness {
    app: tauri::App<MockRuntime>,
    changed: Receiver<String>,
    failed: Receiver<String>,
    _data: tempfile::TempDir,
}

fn harness() -> Harness {
    std::env::set_var("SAGE_SIDECAR_PYTHON", common::venv_python());
    std::env::set_var("SAGE_HEALTH_INTERVAL_MS", "300");
    let data = tempfile::tempdir().unwrap();
    let layout = DataLayout::resolve(Some(data.path().to_path_buf()), None).unwrap();
    let app = mock_builder()
        .plugin(tauri_plugin_shell::init())
        .manage(SidecarState::new(layout))
        .build(mock_context(noop_assets()))
        .unwrap();
    let (changed_tx, changed) = channel();
    let (failed_tx, failed) = channel();
    app.listen_any(SIDECAR_CHANGED_EVENT, move |e| drop(changed_tx.send(e.payload().to_owned())));
    app.listen_any(SIDECAR_FAILED_EVENT, move |e| drop(failed_tx.send(e.payload().to_owned())));
    Harness { app, changed, failed, _data: data }
}

fn port_of(config: &SageConfig) -> u16 {
    config.api_base.rsplit(':').next().unwrap().parse().unwrap()
}

fn signal(pid: u32, name: &str) {
    assert!(Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap().success());
}

#[test]
fn killed_sidecar_is_replaced_with_new_port_and_key() {
    let h = harness();
    let state = h.app.state::<SidecarState>();
    let first = block_on(state.restart(h.app.handle())).unwrap();
    let old_pid = state.pid().unwrap();

    signal(old_pid, "KILL");
    let killed_at = Instant::now();
    let second: SageConfig = serde_json::from_str(&h.changed.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    let took = killed_at.elapsed();
    // 0.2 s backoff + the venv sidecar's ~0.7 s start; 2 s is the promise.
    assert!(took < Duration::from_secs(2), "replacement took {took:?}");
    assert_ne!(port_of(&first), port_of(&second));
    assert_ne!(first.api_key, second.api_key);
    assert_eq!(common::get_status(port_of(&second), "/api/health", Some(&second.api_key)), 200);
    assert_eq!(common::get_status(port_of(&first), "/api/health", Some(&first.api_key)), 0, "old port still open");
    state.stop();
}

#[test]
fn hung_sidecar_is_restarted() {
    let h = harness();
    let state = h.app.state::<SidecarState>();
    let first = block_on(state.restart(h.app.handle())).unwrap();
    let hung_pid = state.pid().unwrap();
    signal(hung_pid, "STOP"); // alive, but answers nothing
    let second: SageConfig = serde_json::from_str(&h.changed.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_ne!(first.api_key, second.api_key);
    assert!(common::wait_gone(hung_pid, Duration::from_secs(2)), "the hung process was not killed");
    assert_eq!(common::get_status(port_of(&second), "/api/health", Some(&second.api_key)), 200);
    state.stop();
}

#[test]
fn a_crash_loop_ends_in_a_failure_event_with_the_log_path() {
    let h = harness();
    let state = h.app.state::<SidecarState>();
    block_on(state.restart(h.app.handle())).unwrap();
    // The default policy allows 5 restarts a minute; the 6th crash is a loop.
    for _ in 0..5 {
        signal(state.pid().unwrap(), "KILL");
        h.changed.recv_timeout(Duration::from_secs(15)).expect("restarted");
    }
    signal(state.pid().unwrap(), "KILL");
    let failure: serde_json::Value = serde_json::from_str(&h.failed.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert!(failure["message"].as_str().unwrap().contains("keeps crashing"));
    assert!(failure["logPath"].as_str().unwrap().ends_with("logs/shell.log"));
    assert!(h.changed.recv_timeout(Duration::from_millis(500)).is_err(), "restarted after giving up");
    // The user's Restart starts it again, with a fresh count.
    assert!(block_on(state.restart(h.app.handle())).is_ok());
    state.stop();
}

#[test]
fn a_deliberate_stop_is_not_restarted() {
    let h = harness();
    let state = h.app.state::<SidecarState>();
    block_on(state.restart(h.app.handle())).unwrap();
    let pid = state.pid().unwrap();
    state.stop();
    assert!(common::wait_gone(pid, Duration::from_secs(2)));
    assert!(h.changed.recv_timeout(Duration::from_secs(1)).is_err(), "a stopped sidecar came back");
    assert_eq!(state.pid(), None);
}
