//! Helpers shared by the shell's integration tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The project venv's Python (what `scripts/test.sh` prepares), or `SAGE_SIDECAR_PYTHON`.
pub fn venv_python() -> PathBuf {
    if let Some(python) = std::env::var_os("SAGE_SIDECAR_PYTHON") {
        return PathBuf::from(python);
    }
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(python.exists(), "no project venv at {}: run scripts/test.sh", python.display());
    python
}

/// A process counts as gone once it no longer exists or is a zombie awaiting its reaper.
#[cfg(target_os = "linux")]
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !pid_alive(pid)
}

/// Live processes whose environment carries `SAGE_DATA_DIR=<data_dir>`: the sidecars of one test.
#[cfg(target_os = "linux")]
pub fn sidecars_using(data_dir: &Path) -> Vec<u32> {
    let needle = format!("SAGE_DATA_DIR={}", data_dir.display());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        let has = |var: &str| environ.split(|b| *b == 0).any(|kv| kv == var.as_bytes());
        let is_sidecar = environ.split(|b| *b == 0).any(|kv| kv.starts_with(b"SAGE_API_KEY="));
        if is_sidecar && has(&needle) && pid_alive(pid) {
            pids.push(pid);
        }
    }
    pids
}

/// GET `path` on the sidecar, returning the status code (errors are statuses, not panics).
pub fn get_status(port: u16, path: &str, bearer: Option<&str>) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut request = agent.get(format!("http://127.0.0.1:{port}{path}"));
    if let Some(key) = bearer {
        request = request.header("Authorization", format!("Bearer {key}"));
    }
    request.call().map(|response| response.status().as_u16()).unwrap_or(0)
}
