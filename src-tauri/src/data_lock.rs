//! An advisory lock on the data dir, held by the running app for its whole life (the OS drops it
//! when the process ends, however it ends). It answers one question before the app is built: may
//! this process start a sidecar on this data right now? The single-instance hand-over happens
//! only later, while the app is built, and a second launch must never run a sidecar on the data a
//! running one owns (a sidecar's start marks unfinished replies interrupted).
use std::fs::{self, File, OpenOptions};
use std::path::Path;

use crate::paths::DataLayout;

const LOCK_FILE: &str = ".sage-shell.lock";

/// Holding this means no other Sage shell holds the same data dir.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// The lock if this process could take it; `None` when another process holds it (or the data
    /// dir cannot be created, which the sidecar will then report properly).
    pub fn try_acquire(layout: &DataLayout) -> Option<Self> {
        create_private_dir(layout.root()).ok()?;
        let file =
            OpenOptions::new().create(true).truncate(false).write(true).open(layout.root().join(LOCK_FILE)).ok()?;
        // std opens files close-on-exec: a sidecar spawned later does not inherit (and keep) it.
        file.try_lock().ok()?;
        Some(Self { _file: file })
    }
}

/// The data dir holds conversations and API keys: only its user may enter it (0700 on Unix, also
/// when it already existed; the sidecar tightens what is inside at every start).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("sage-lock-test-{}", std::process::id()));
        let layout = DataLayout { root: dir.clone() };
        let first = DataDirLock::try_acquire(&layout).expect("a free data dir can be locked");
        assert!(DataDirLock::try_acquire(&layout).is_none(), "the same data dir was locked twice");
        drop(first);
        assert!(DataDirLock::try_acquire(&layout).is_some(), "the lock outlived its holder");
        let _ = fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn the_data_dir_is_private_even_when_it_existed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sage-lock-private-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let layout = DataLayout { root: dir.clone() };
        let lock = DataDirLock::try_acquire(&layout).expect("a free data dir can be locked");
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        drop(lock);
        let _ = fs::remove_dir_all(dir);
    }
}
