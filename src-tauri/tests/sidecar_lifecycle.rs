//! The shell's own spawn code (`SidecarProcess`, which needs no Tauri app) against the real
//! sidecar from the project venv and against misbehaving stand-ins.
#![cfg(target_os = "linux")]
mod common;

use std::path::PathBuf;
use std::time::Duration;

use sage_desktop_lib::sidecar::{Launch, SidecarError, SidecarProcess};
use tauri::async_runtime::block_on;

fn shell_script(script: &str) -> Launch {
    Launch::Program { program: PathBuf::from("/bin/sh"), args: vec!["-c".into(), script.into()] }
}

#[test]
fn real_sidecar_handshake_auth_and_cleanup() {
    let data = tempfile::tempdir().unwrap();
    let launch = Launch::dev(common::venv_python());
    let (process, ready) = block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(30)))
        .expect("the sidecar starts and says READY");

    assert_eq!(ready.pid, process.pid(), "READY comes from the process we spawned");
    assert_eq!(ready.version, env!("CARGO_PKG_VERSION"), "shell and sidecar versions agree");
    let port = ready.port;
    let key = process.api_key.expose().to_owned();
    assert_eq!(common::get_status(port, "/api/health", Some(&key)), 200);
    assert_eq!(common::get_status(port, "/api/health", None), 401);
    assert_eq!(common::get_status(port, "/api/health", Some(&"0".repeat(64))), 401);
    assert!(data.path().join("agent_platform.db").is_file(), "the data dir override is used");
    assert_eq!(common::sidecars_using(data.path()), vec![process.pid()]);

    let pid = process.pid();
    drop(process);
    assert!(common::wait_gone(pid, Duration::from_secs(2)), "sidecar still alive after drop");
    assert_eq!(common::get_status(port, "/api/health", Some(&key)), 0, "port still answers");
}

#[test]
fn each_start_gets_a_new_key_and_port() {
    let data = tempfile::tempdir().unwrap();
    let launch = Launch::dev(common::venv_python());
    let start = || block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(30))).unwrap();
    let first = start();
    let second = start();
    assert_ne!(first.0.api_key, second.0.api_key);
    assert_ne!(first.1.port, second.1.port);
    // Each key opens only its own sidecar.
    assert_eq!(common::get_status(first.1.port, "/api/health", Some(second.0.api_key.expose())), 401);
}

#[test]
fn key_travels_in_the_environment_not_on_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    // A stand-in sidecar that reports the key's length as its "version".
    let launch = shell_script(
        r#"printf 'SAGE_SIDECAR_READY {"port":1,"pid":%s,"version":"%s"}\n' $$ "${#SAGE_API_KEY}"; exec sleep 30"#,
    );
    let (process, ready) = block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(5))).unwrap();
    assert_eq!(ready.version, "64");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", process.pid())).unwrap();
    let key = process.api_key.expose().as_bytes();
    assert!(!cmdline.windows(key.len()).any(|w| w == key), "key visible in argv");
}

#[test]
fn missing_ready_line_times_out_and_kills_the_child() {
    let data = tempfile::tempdir().unwrap();
    let pid_file = data.path().join("pid");
    let launch = shell_script(&format!("echo $$ > '{}'; echo starting; exec sleep 30", pid_file.display()));
    let error = block_on(SidecarProcess::start(&launch, data.path(), Duration::from_millis(800)))
        .err()
        .expect("no READY line must fail");
    assert!(matches!(error, SidecarError::Timeout(_)), "{error}");
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(common::wait_gone(pid, Duration::from_secs(2)), "timed-out child left running");
}

#[test]
fn early_exit_is_reported_with_its_stderr() {
    let data = tempfile::tempdir().unwrap();
    let launch = shell_script("echo 'refusing to start: no key' >&2; exit 3");
    let error = block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(5)))
        .err()
        .expect("early exit must fail");
    let message = error.to_string();
    assert!(message.contains("exit code 3") && message.contains("refusing to start"), "{message}");
}

#[test]
fn a_program_that_cannot_be_spawned_is_an_error() {
    let data = tempfile::tempdir().unwrap();
    let launch = Launch::Program { program: PathBuf::from("/nonexistent/sage-sidecar"), args: vec![] };
    let error =
        block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(5))).err().expect("spawn must fail");
    assert!(matches!(error, SidecarError::Spawn(_)), "{error}");
}

/// The pid and session id of `pid`, from /proc.
fn session_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(3)?.parse().ok()
}

/// The pids a stand-in sidecar wrote to `file`, once it has written `count` of them.
fn pids_in(file: &std::path::Path, count: usize) -> Vec<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let pids: Vec<u32> = std::fs::read_to_string(file)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.len() >= count {
            return pids;
        }
        assert!(std::time::Instant::now() < deadline, "the stand-in never wrote {count} pids");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_sidecar_leads_a_session_whose_whole_tree_ends_with_it() {
    let data = tempfile::tempdir().unwrap();
    let pids = data.path().join("pids");
    // A child in the sidecar's session and a grandchild that moved to a session of its own.
    let launch = shell_script(&format!(
        "sleep 301 & echo $! >> '{0}'; setsid sleep 302 & echo $! >> '{0}'; \
         printf 'SAGE_SIDECAR_READY {{\"port\":1,\"pid\":%s,\"version\":\"x\"}}\\n' $$; exec sleep 303",
        pids.display()
    ));
    let (process, _ready) = block_on(SidecarProcess::start(&launch, data.path(), Duration::from_secs(5))).unwrap();
    let sidecar = process.pid();
    assert_eq!(session_of(sidecar), Some(sidecar), "the sidecar leads its own session");
    let tree = [vec![sidecar], pids_in(&pids, 2)].concat();
    drop(process);
    for pid in tree {
        assert!(common::wait_gone(pid, Duration::from_secs(2)), "{pid} outlived the sidecar's stop");
    }
}

#[test]
fn a_sidecar_spawned_by_a_thread_that_ends_keeps_running() {
    // PR_SET_PDEATHSIG follows the thread that forked: the shell's spawner thread must do it, not
    // the caller's (an idle runtime worker that ends would take the sidecar with it).
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_owned();
    let launch = shell_script("exec sleep 30");
    let (process, _events) = std::thread::spawn(move || SidecarProcess::spawn(&launch, &path).unwrap()).join().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(common::pid_alive(process.pid()), "the sidecar died with the thread that asked for it");
}
