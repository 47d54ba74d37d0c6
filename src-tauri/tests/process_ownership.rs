//! The real app owns every process its sidecar starts (issue #13 §3). The sidecar is given an MCP
//! server that ignores the end of its stdin and SIGTERM and has two children, one daemonised into
//! a session of its own; the test lists the sidecar's descendants (/proc) before the app or the
//! sidecar is ended each way there is — the window closed to quit, SIGTERM to the shell, kill -9
//! of the shell, kill -9 of the sidecar — and checks that none of them survives. A clean quit also
//! lets the sidecar shut down by itself (nothing had to be killed).
//! Needs a display: `scripts/test.sh` runs cargo test under Xvfb.
#![cfg(target_os = "linux")]
mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Everything the sidecar started must be gone this soon after the app (or the sidecar) is.
const GONE_WITHIN: Duration = Duration::from_secs(1);
/// After kill -9 of the sidecar, its scripts' and MCP servers' supervisors get their parent-death
/// signal and the shell sweeps the dead sidecar's session once its supervisor sees the exit; with
/// four apps starting in parallel on a 2-core runner that has taken just over a second. The issue's
/// one-second bound is for kill -9 of the shell; here it is "gone, promptly".
const SWEPT_WITHIN: Duration = Duration::from_secs(5);

/// The app binary, owned by the test: killed and reaped when dropped, whatever the test did.
struct AppProcess(Child);

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct RunningApp {
    app: AppProcess,
    sidecar: u32,
    /// The sidecar and all its descendants, listed once the MCP server was up.
    tree: Vec<u32>,
    marker: String,
    data: tempfile::TempDir,
}

impl Drop for RunningApp {
    /// Whatever a failed test left running goes too.
    fn drop(&mut self) {
        for pid in self.tree.iter().chain(marked(&self.marker).iter()) {
            signal(*pid, "KILL");
        }
    }
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).stderr(Stdio::null()).status();
}

fn shell_log(data: &Path) -> String {
    std::fs::read_to_string(data.join("logs/shell.log")).unwrap_or_default()
}

/// Wait until the shell log says `needle` `times` times.
fn wait_for_log(data: &Path, needle: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while shell_log(data).matches(needle).count() < times {
        assert!(Instant::now() < deadline, "shell.log never said {needle:?} {times} time(s)");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// pid → parent pid of every live (non-zombie) process.
fn parents() -> HashMap<u32, u32> {
    let mut table = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() != Some(&"Z") {
            if let Some(ppid) = fields.get(1).and_then(|p| p.parse().ok()) {
                table.insert(pid, ppid);
            }
        }
    }
    table
}

/// `root` and every live process below it.
fn tree_of(root: u32) -> Vec<u32> {
    let table = parents();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(table.iter().filter(|(_, ppid)| **ppid == parent).map(|(pid, _)| *pid));
        next += 1;
    }
    found
}

/// Live processes with `marker` as an argument: the MCP server and its two children.
fn marked(marker: &str) -> Vec<u32> {
    let live = parents();
    live.keys()
        .copied()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|b| *b == 0).any(|arg| arg == marker.as_bytes())
        })
        .collect()
}

fn alive(pids: &[u32]) -> Vec<u32> {
    let live = parents();
    pids.iter().copied().filter(|pid| live.contains_key(pid)).collect()
}

/// Wait up to `within` for every one of `pids` to be gone; the survivors otherwise.
fn survivors(pids: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = alive(pids);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn describe(pids: &[u32]) -> Vec<String> {
    pids.iter()
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}

/// A keyed JSON request to the sidecar; the answer's body, or a panic on a non-2xx answer.
fn call(port: u16, key: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let url = format!("http://127.0.0.1:{port}{path}");
    let auth = format!("Bearer {key}");
    let mut response = match body {
        Some(body) => agent
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
        None => agent.get(&url).header("Authorization", &auth).call(),
    }
    .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    assert!(status < 300, "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// The sidecar's key, from its environment (the tests run as root, as CI does: the sidecar makes
/// itself non-dumpable, so only root can read it).
fn key_of(sidecar: u32) -> String {
    let environ = std::fs::read(format!("/proc/{sidecar}/environ")).expect("the sidecar's environment");
    environ
        .split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(b"SAGE_API_KEY="))
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .expect("SAGE_API_KEY in the sidecar's environment")
}

fn port_in_log(data: &Path) -> u16 {
    let log = shell_log(data);
    let (_, rest) = log.rsplit_once("ready on 127.0.0.1:").expect("a READY in shell.log");
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-python/tests/fixtures").join(name)
}

/// The app with its sidecar up and the stubborn MCP server started, its tree listed.
fn launch(close_to_tray: bool) -> RunningApp {
    assert!(std::env::var_os("DISPLAY").is_some(), "this test opens the real window: run it under Xvfb");
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config");
    std::fs::create_dir_all(config.join("app.sage.desktop")).unwrap();
    std::fs::write(
        config.join("app.sage.desktop/shell-settings.json"),
        serde_json::json!({ "closeToTray": close_to_tray }).to_string(),
    )
    .unwrap();
    let app = AppProcess(
        Command::new(env!("CARGO_BIN_EXE_sage-desktop"))
            .env("SAGE_DATA_DIR", data.path())
            .env("SAGE_SIDECAR_PYTHON", common::venv_python())
            .env("SAGE_UPDATE_CHECK", "off")
            .env("XDG_CONFIG_HOME", &config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app binary starts"),
    );
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let marker = format!("{}.{}", 100_000 + nanos % 900_000, std::process::id() % 10);
    let mut running = RunningApp { app, sidecar: 0, tree: Vec::new(), marker, data };
    wait_for_log(running.data.path(), "ready on 127.0.0.1:", 1);
    let [sidecar] = common::sidecars_using(running.data.path())[..] else { panic!("expected one sidecar") };
    running.sidecar = sidecar;
    let (port, key) = (port_in_log(running.data.path()), key_of(sidecar));
    let server = call(
        port,
        &key,
        "POST",
        "/api/mcp-servers",
        Some(serde_json::json!({
            "name": "stubborn", "transport": "stdio", "trusted": true,
            "command": common::venv_python(),
            "args": [fixture("mcp_stubborn_server.py"), &running.marker],
        })),
    );
    let tools = call(port, &key, "GET", &format!("/api/mcp-servers/{}/tools", server["id"].as_str().unwrap()), None);
    assert_eq!(tools["ok"], true, "{tools}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while marked(&running.marker).len() < 3 {
        assert!(Instant::now() < deadline, "the MCP server and its two children never all ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    running.tree = tree_of(sidecar);
    let mut outside: Vec<u32> = marked(&running.marker);
    outside.retain(|pid| !running.tree.contains(pid));
    assert!(outside.is_empty(), "not below the sidecar: {:?}", describe(&outside));
    running
}

fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// After the app ended: nothing of the sidecar's tree is left, and the sidecar had ended it
/// itself in its clean shutdown (`clean`) rather than the shell's kill.
fn assert_tree_gone(running: &RunningApp, clean: bool) {
    let left = survivors(&running.tree, GONE_WITHIN);
    assert!(left.is_empty(), "outlived the app by {GONE_WITHIN:?}: {:?}", describe(&left));
    if clean {
        let log = shell_log(running.data.path());
        assert!(
            log.contains("stopped: exited by itself") && log.contains("; 0 process(es) of its tree killed"),
            "the sidecar did not shut down cleanly by itself:\n{log}"
        );
    }
}

#[test]
fn sigterm_of_the_shell_ends_the_whole_tree_cleanly() {
    let mut running = launch(true);
    signal(running.app.0.id(), "TERM");
    assert!(wait_exit(&mut running.app.0, Duration::from_secs(10)), "the app ignored SIGTERM");
    assert_tree_gone(&running, true);
}

#[test]
fn closing_the_window_to_quit_ends_the_whole_tree_cleanly() {
    let mut running = launch(false);
    let script = fixture("x11_close.py");
    let deadline = Instant::now() + Duration::from_secs(40);
    // Repeated while the window is mapped: a request sent while GTK sets the window up is lost.
    while !wait_exit(&mut running.app.0, Duration::from_secs(2)) {
        assert!(Instant::now() < deadline, "closing the window did not quit the app");
        let _ = Command::new(common::venv_python())
            .arg(&script)
            .args([&running.app.0.id().to_string(), "Sage"])
            .stderr(Stdio::null())
            .status();
    }
    assert_tree_gone(&running, true);
}

#[test]
fn kill_9_of_the_shell_ends_the_whole_tree_within_a_second() {
    let mut running = launch(true);
    signal(running.app.0.id(), "KILL");
    running.app.0.wait().unwrap();
    assert_tree_gone(&running, false);
}

#[test]
fn kill_9_of_the_sidecar_ends_what_it_started_and_a_new_one_answers() {
    let mut running = launch(true);
    signal(running.sidecar, "KILL");
    let left = survivors(&running.tree, SWEPT_WITHIN);
    assert!(left.is_empty(), "outlived the sidecar by {SWEPT_WITHIN:?}: {:?}", describe(&left));
    wait_for_log(running.data.path(), "ready on 127.0.0.1:", 2);
    // The app still quits cleanly with its new sidecar.
    signal(running.app.0.id(), "TERM");
    assert!(wait_exit(&mut running.app.0, Duration::from_secs(10)), "the app ignored SIGTERM");
}
