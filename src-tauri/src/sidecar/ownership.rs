//! The shell owns the sidecar and everything it starts (MCP servers, scripts, parser workers),
//! through every kind of exit. Per OS:
//!
//! - **Linux**: the sidecar leads its own session (`setsid`), and everything it starts stays in
//!   it (the sidecar puts its children in their own process groups, never new sessions), so the
//!   session id names the whole tree even after the sidecar is gone. It gets `SIGTERM` when the
//!   shell dies, however it dies (`PR_SET_PDEATHSIG`; spawned from one thread that lives as long
//!   as the shell, because the signal follows the forking *thread*), and then ends its own tree.
//!   [`OwnedTree::kill`] sweeps /proc for the session's members and their descendants.
//! - **macOS**: `setsid` as well; the sweep is a `killpg` of the sidecar's group, and the sidecar's
//!   parent watch (stdin EOF, parent pid) stands in for the death signal.
//! - **Windows**: the sidecar is put in a Job object with `KILL_ON_JOB_CLOSE`: the OS ends every
//!   process in it when the shell's handle closes, however the shell ends. Not tested here (no
//!   Windows runner): see docs/architecture.md.
use std::io;
use std::process::Command;

use shared_child::SharedChild;

/// Start `command` as an owned sidecar: set up what its death and its children's depend on.
pub fn spawn(mut command: Command) -> io::Result<(SharedChild, OwnedTree)> {
    prepare(&mut command);
    let child = spawn_from_lasting_thread(command)?;
    match OwnedTree::of(&child) {
        Ok(tree) => Ok((child, tree)),
        Err(error) => {
            // Not owned, so not kept: never leave it running.
            let _ = child.kill();
            let _ = child.wait();
            Err(error)
        }
    }
}

/// What the shell needs to end a sidecar's whole tree.
pub struct OwnedTree {
    /// The sidecar's pid, which is also its session and process group id.
    #[cfg(unix)]
    leader: u32,
    #[cfg(windows)]
    job: windows::Job,
}

impl OwnedTree {
    #[cfg(unix)]
    fn of(child: &SharedChild) -> io::Result<Self> {
        Ok(Self { leader: child.id() })
    }

    #[cfg(windows)]
    fn of(child: &SharedChild) -> io::Result<Self> {
        Ok(Self { job: windows::Job::containing(child.id())? })
    }

    /// Ask the sidecar to shut down cleanly (it stops what it started, then exits). On Windows
    /// the request is the end of its stdin, which the caller closes.
    pub fn ask_to_stop(&self) {
        #[cfg(unix)]
        unsafe {
            // SAFETY: a plain syscall on a pid we own (not reaped yet: the caller checked).
            libc::kill(self.leader as libc::pid_t, libc::SIGTERM);
        }
    }

    /// SIGKILL (TerminateJobObject) the sidecar, if it still runs, and everything it started;
    /// returns how many processes there were.
    #[cfg(target_os = "linux")]
    pub fn kill(&self) -> usize {
        linux::kill_session(self.leader)
    }

    /// (macOS: the sidecar's process group, which is all there is to find without /proc.)
    #[cfg(all(unix, not(target_os = "linux")))]
    pub fn kill(&self) -> usize {
        // SAFETY: a plain syscall; the group is the sidecar's own (it leads its session).
        usize::from(unsafe { libc::killpg(self.leader as libc::pid_t, libc::SIGKILL) } == 0)
    }

    #[cfg(windows)]
    pub fn kill(&self) -> usize {
        self.job.terminate()
    }
}

#[cfg(unix)]
fn prepare(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    #[cfg(target_os = "linux")]
    let shell = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls between fork and exec, and no allocation.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong, 0, 0, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
                // The shell died between the fork and the prctl: nobody would send the signal.
                if libc::getppid() != shell {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            Ok(())
        });
    }
}

#[cfg(windows)]
fn prepare(_command: &mut Command) {}

/// `PR_SET_PDEATHSIG` fires when the thread that forked the child ends, not the process (a
/// runtime's idle worker would kill the sidecar): every sidecar is forked by one thread that lives
/// as long as the shell.
#[cfg(target_os = "linux")]
fn spawn_from_lasting_thread(command: Command) -> io::Result<SharedChild> {
    use std::sync::mpsc;
    use std::sync::OnceLock;
    type Job = (Command, mpsc::Sender<io::Result<SharedChild>>);
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();

    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sidecar-spawner".into())
            .spawn(move || {
                for (mut command, reply) in queue {
                    let _ = reply.send(SharedChild::spawn(&mut command));
                }
            })
            .expect("the sidecar spawner thread starts");
        jobs
    });
    let gone = || io::Error::other("the sidecar spawner thread is gone");
    let (reply, answer) = mpsc::channel();
    spawner.send((command, reply)).map_err(|_| gone())?;
    answer.recv().map_err(|_| gone())?
}

#[cfg(not(target_os = "linux"))]
fn spawn_from_lasting_thread(mut command: Command) -> io::Result<SharedChild> {
    SharedChild::spawn(&mut command)
}

#[cfg(target_os = "linux")]
mod linux {
    //! The /proc sweep: the members of a session, and every descendant of theirs (a process
    //! that called `setsid` itself is still found while its parent is).
    use std::collections::{HashMap, HashSet};
    use std::time::{Duration, Instant};

    /// How long a sweep keeps looking for processes that forked while being killed.
    const SWEEP_FOR: Duration = Duration::from_secs(1);

    struct Stat {
        ppid: u32,
        session: u32,
        zombie: bool,
    }

    fn stat(pid: u32) -> Option<Stat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may contain anything: split after the last ')'.
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        Some(Stat {
            zombie: fields.first() == Some(&"Z"),
            ppid: fields.get(1)?.parse().ok()?,
            session: fields.get(3)?.parse().ok()?,
        })
    }

    fn processes() -> HashMap<u32, Stat> {
        let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        entries
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| Some((pid, stat(pid)?)))
            .collect()
    }

    /// Live processes of session `leader`, and their descendants.
    pub fn session_tree(leader: u32) -> Vec<u32> {
        let table = processes();
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for (pid, stat) in &table {
            children.entry(stat.ppid).or_default().push(*pid);
        }
        let mut found: Vec<u32> = table.iter().filter(|(_, s)| s.session == leader).map(|(pid, _)| *pid).collect();
        let mut next = 0;
        while next < found.len() {
            for child in children.get(&found[next]).into_iter().flatten() {
                if !found.contains(child) {
                    found.push(*child);
                }
            }
            next += 1;
        }
        let me = std::process::id();
        found.retain(|pid| *pid != me && table.get(pid).is_some_and(|s| !s.zombie));
        found
    }

    /// SIGKILL the session's tree until nothing of it is left (a process may fork meanwhile).
    pub fn kill_session(leader: u32) -> usize {
        let mut killed = HashSet::new();
        let deadline = Instant::now() + SWEEP_FOR;
        loop {
            let left = session_tree(leader);
            if left.is_empty() || Instant::now() >= deadline {
                break;
            }
            for pid in left {
                // SAFETY: a plain syscall.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                killed.insert(pid);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        killed.len()
    }
}

#[cfg(windows)]
mod windows {
    //! A Job object that ends every process in it when its last handle closes.
    use std::io;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
        TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    };
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_SET_QUOTA, PROCESS_TERMINATE};

    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used from any thread.
    unsafe impl Send for Job {}
    unsafe impl Sync for Job {}

    impl Job {
        /// A new job holding the process `pid` (which its children then join too). The handle is
        /// not inheritable, so only the shell holds it: when the shell ends, the job ends.
        pub fn containing(pid: u32) -> io::Result<Self> {
            // SAFETY: FFI with checked results; every handle opened here is closed or owned.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return Err(io::Error::last_os_error());
                }
                let job = Job(job);
                let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                let set = SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    &limits as *const _ as *const core::ffi::c_void,
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if set == 0 {
                    return Err(io::Error::last_os_error());
                }
                let process = OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, 0, pid);
                if process.is_null() {
                    return Err(io::Error::last_os_error());
                }
                let assigned = AssignProcessToJobObject(job.0, process);
                CloseHandle(process);
                if assigned == 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(job)
            }
        }

        pub fn terminate(&self) -> usize {
            // SAFETY: our own job handle.
            usize::from(unsafe { TerminateJobObject(self.0, 1) } != 0)
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: closed once, here. Closing the last handle kills what is left in the job.
            unsafe { CloseHandle(self.0) };
        }
    }
}
