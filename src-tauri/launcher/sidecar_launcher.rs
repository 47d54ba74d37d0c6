//! `sage-sidecar`: the externalBin Tauri bundles next to the app binary.
//!
//! Tauri's externalBin must be one file, but the frozen sidecar is a PyInstaller onedir folder
//! (it starts about twice as fast as onefile and leaves nothing in /tmp). That folder ships as the
//! `sidecar/` resource; this launcher runs it. The shell passes the folder in SAGE_SIDECAR_HOME
//! because only it knows the platform's resource dir. Built by scripts/build-sidecar.sh (and
//! scripts/build.ps1) with plain `rustc`: no dependencies; on Windows the C runtime is linked
//! statically, so a clean machine without the VC++ redistributable runs it.
//! scripts/check-release.sh runs the tests at the bottom and type-checks the Windows code.
use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{exit, Command};

const EXE_NAME: &str = if cfg!(windows) { "sage-sidecar.exe" } else { "sage-sidecar" };
const ENV_HOME: &str = "SAGE_SIDECAR_HOME";
/// Paths the sidecar receives from the shell, cleaned of the `\\?\` prefix like the home folder.
const PATH_VARS: [&str; 2] = [ENV_HOME, "SAGE_DATA_DIR"];

/// `\\?\C:\x` -> `C:\x` and `\\?\UNC\server\share` -> `\\server\share`. Tauri's resource dir on
/// Windows is such a "verbatim" path; Python (sys.executable, sys._MEIPASS, importlib, DLL
/// search) does not handle it. Left alone: anything else, and paths too long for the short form.
fn without_verbatim_prefix(path: &str) -> String {
    const MAX_PATH: usize = 260;
    let short = if let Some(rest) = path.strip_prefix(r"\\?\UNC\") {
        format!(r"\\{rest}")
    } else if let Some(rest) = path.strip_prefix(r"\\?\") {
        let drive = rest.as_bytes();
        if drive.len() >= 3 && drive[0].is_ascii_alphabetic() && drive[1] == b':' && drive[2] == b'\\' {
            rest.to_string()
        } else {
            return path.to_string(); // \\?\Volume{...} and the like have no short form
        }
    } else {
        return path.to_string();
    };
    if short.len() >= MAX_PATH || short.split('\\').any(|part| part == "." || part == "..") {
        return path.to_string();
    }
    short
}

fn cleaned(value: OsString) -> OsString {
    match value.into_string() {
        Ok(text) => without_verbatim_prefix(&text).into(),
        Err(raw) => raw,
    }
}

fn sidecar_home() -> Option<PathBuf> {
    if let Some(home) = env::var_os(ENV_HOME) {
        return Some(PathBuf::from(cleaned(home)));
    }
    Some(env::current_exe().ok()?.parent()?.join("sidecar"))
}

fn main() {
    let Some(home) = sidecar_home() else {
        eprintln!("sage-sidecar launcher: cannot locate the sidecar folder (set {ENV_HOME})");
        exit(70);
    };
    let exe = home.join(EXE_NAME);
    let mut command = Command::new(&exe);
    command.args(env::args_os().skip(1));
    for name in PATH_VARS {
        if let Some(value) = env::var_os(name) {
            command.env(name, cleaned(value));
        }
    }

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
        // The launcher first puts itself in a Job object that kills every member when its last
        // handle closes: when the shell kills the launcher (quit, update, crash), the sidecar and
        // everything it started end at once, not a moment later on stdin EOF, so an
        // installer never finds the sidecar's files locked.
        if let Err(error) = windows_job::kill_children_with_launcher() {
            eprintln!("sage-sidecar launcher: no job object ({error}); relying on stdin EOF");
        }
        match command.status() {
            Ok(status) => exit(status.code().unwrap_or(1)),
            Err(error) => {
                eprintln!("sage-sidecar launcher: cannot run {}: {error}", exe.display());
                exit(71);
            }
        }
    }
}

/// The Win32 calls, declared by hand (no crates). `--cfg sage_typecheck` compiles this module on
/// any OS so scripts/check-release.sh can type-check it where no Windows target is installed.
#[cfg(any(windows, sage_typecheck))]
#[allow(dead_code)]
mod windows_job {
    use std::ffi::c_void;

    type Handle = *mut c_void;
    const JOB_OBJECT_EXTENDED_LIMIT_INFORMATION: i32 = 9;
    const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: u32 = 0x2000;

    #[repr(C)]
    #[derive(Default)]
    struct BasicLimitInformation {
        per_process_user_time_limit: i64,
        per_job_user_time_limit: i64,
        limit_flags: u32,
        minimum_working_set_size: usize,
        maximum_working_set_size: usize,
        active_process_limit: u32,
        affinity: usize,
        priority_class: u32,
        scheduling_class: u32,
    }

    #[repr(C)]
    #[derive(Default)]
    struct ExtendedLimitInformation {
        basic: BasicLimitInformation,
        io_counters: [u64; 6],
        process_memory_limit: usize,
        job_memory_limit: usize,
        peak_process_memory_used: usize,
        peak_job_memory_used: usize,
    }

    #[cfg_attr(windows, link(name = "kernel32"))]
    extern "system" {
        fn CreateJobObjectW(attributes: *const c_void, name: *const u16) -> Handle;
        fn SetInformationJobObject(job: Handle, class: i32, info: *const c_void, length: u32) -> i32;
        fn AssignProcessToJobObject(job: Handle, process: Handle) -> i32;
        fn GetCurrentProcess() -> Handle;
    }

    /// Put this process (and so every process it starts) in a kill-on-close job. The handle is
    /// deliberately never closed: the kernel closes it when the launcher ends, however it ends.
    pub fn kill_children_with_launcher() -> std::io::Result<()> {
        // SAFETY: plain Win32 calls with a valid, fully initialised struct of the documented
        // layout (JOBOBJECT_EXTENDED_LIMIT_INFORMATION, 144 bytes on x64).
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return Err(std::io::Error::last_os_error());
            }
            let mut limits = ExtendedLimitInformation::default();
            limits.basic.limit_flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let size = std::mem::size_of::<ExtendedLimitInformation>() as u32;
            let info = (&limits as *const ExtendedLimitInformation).cast::<c_void>();
            if SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, info, size) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Nested jobs (Windows 8+) allow this even when the shell put us in a job of its own.
            if AssignProcessToJobObject(job, GetCurrentProcess()) == 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    #[cfg(all(test, target_pointer_width = "64"))]
    #[test]
    fn the_limit_struct_has_the_win32_size() {
        assert_eq!(std::mem::size_of::<ExtendedLimitInformation>(), 144);
    }
}

#[cfg(test)]
mod tests {
    use super::without_verbatim_prefix as clean;

    #[test]
    fn drive_paths_lose_the_verbatim_prefix() {
        assert_eq!(clean(r"\\?\C:\Program Files\Sage\sidecar"), r"C:\Program Files\Sage\sidecar");
        assert_eq!(clean(r"\\?\UNC\server\share\Sage"), r"\\server\share\Sage");
    }

    #[test]
    fn other_paths_are_left_alone() {
        for path in [
            r"C:\Program Files\Sage",
            "/usr/lib/Sage/sidecar",
            r"\\?\Volume{1234}\Sage",
            r"\\?\C:\a\..\b",
            r"\\server\share",
        ] {
            assert_eq!(clean(path), path);
        }
        let long = format!(r"\\?\C:\{}", "x".repeat(300));
        assert_eq!(clean(&long), long, "too long for the short form: keep the verbatim path");
    }
}
