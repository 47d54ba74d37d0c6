//! `sage-sidecar`: the externalBin Tauri bundles next to the app binary.
//!
//! Tauri's externalBin must be one file, but the frozen sidecar is a PyInstaller onedir folder
//! (it starts about twice as fast as onefile and leaves nothing in /tmp). That folder ships as the
//! `sidecar/` resource; this launcher runs it. The shell passes the folder in SAGE_SIDECAR_HOME
//! because only it knows the platform's resource dir. Built by scripts/build-sidecar.sh with plain
//! `rustc`: no dependencies.
use std::env;
use std::path::PathBuf;
use std::process::{exit, Command};

const EXE_NAME: &str = if cfg!(windows) { "sage-sidecar.exe" } else { "sage-sidecar" };

fn sidecar_home() -> Option<PathBuf> {
    if let Some(home) = env::var_os("SAGE_SIDECAR_HOME") {
        return Some(PathBuf::from(home));
    }
    Some(env::current_exe().ok()?.parent()?.join("sidecar"))
}

fn main() {
    let Some(home) = sidecar_home() else {
        eprintln!("sage-sidecar launcher: cannot locate the sidecar folder (set SAGE_SIDECAR_HOME)");
        exit(70);
    };
    let exe = home.join(EXE_NAME);
    let mut command = Command::new(&exe);
    command.args(env::args_os().skip(1));

    #[cfg(unix)]
    {
        // exec: the sidecar takes over this process, so the shell's pid, pipes and kill reach it.
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("sage-sidecar launcher: cannot run {}: {error}", exe.display());
        exit(71);
    }
    #[cfg(not(unix))]
    {
        // No exec on Windows: run it as a child with inherited pipes and pass its exit code on.
        // The sidecar also exits on its own when its stdin (the shell's pipe) closes.
        match command.status() {
            Ok(status) => exit(status.code().unwrap_or(1)),
            Err(error) => {
                eprintln!("sage-sidecar launcher: cannot run {}: {error}", exe.display());
                exit(71);
            }
        }
    }
}
