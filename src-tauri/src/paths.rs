//! Where Sage keeps its data: `<platform data dir>/Sage/data` (macOS `~/Library/Application
//! Support`, Windows `%AppData%`, Linux `~/.local/share`), or `SAGE_DATA_DIR` in dev and tests so
//! nothing touches a real user's data.
use std::path::{Path, PathBuf};

use crate::sidecar::contract::ENV_DATA_DIR;

const APP_DIR_NAME: &str = "Sage";
const DATA_DIR_NAME: &str = "data";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PathsError {
    #[error("this system has no per-user data directory; set {ENV_DATA_DIR} to choose one")]
    NoPlatformDataDir,
    #[error("{ENV_DATA_DIR} must be an absolute path, got {0:?}")]
    RelativeOverride(PathBuf),
}

/// The data dir and the well-known places inside it (the sidecar creates the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct DataLayout {
    pub root: PathBuf,
}

impl DataLayout {
    /// Resolve from the process environment and the platform.
    pub fn from_env() -> Result<Self, PathsError> {
        let override_dir = std::env::var_os(ENV_DATA_DIR).filter(|value| !value.is_empty()).map(PathBuf::from);
        Self::resolve(override_dir, dirs::data_dir())
    }

    /// Pure resolution rule, separate from the environment so it can be tested.
    pub fn resolve(override_dir: Option<PathBuf>, platform_data_dir: Option<PathBuf>) -> Result<Self, PathsError> {
        let root = match override_dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => return Err(PathsError::RelativeOverride(dir)),
            None => platform_data_dir.ok_or(PathsError::NoPlatformDataDir)?.join(APP_DIR_NAME).join(DATA_DIR_NAME),
        };
        Ok(Self { root })
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The sidecar's own rotating log (written by the sidecar, named in error pages).
    pub fn sidecar_log(&self) -> PathBuf {
        self.logs_dir().join("sidecar.log")
    }

    /// The shell's log (tauri-plugin-log), which also receives the sidecar's stderr.
    pub fn shell_log(&self) -> PathBuf {
        self.logs_dir().join("shell.log")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Asks the next sidecar to set the database aside whole (into `backups/`) and start with a
    /// new one: the way out when an encrypted database's key is gone. The sidecar acts on it
    /// before it opens the database (src-python/sage_sidecar/storage/conversion.py).
    pub fn start_fresh_marker(&self) -> PathBuf {
        self.root.join("agent_platform.db.start-fresh")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_fresh_marker_is_the_one_the_sidecar_reads() {
        // storage/conversion.py `start_fresh_path`: the database's name + ".start-fresh".
        let conversion = include_str!("../../src-python/sage_sidecar/storage/conversion.py");
        assert!(conversion.contains(r#"db_path.name + ".start-fresh""#));
        let layout = DataLayout::resolve(Some(PathBuf::from("/data")), None).unwrap();
        assert_eq!(layout.start_fresh_marker(), PathBuf::from("/data/agent_platform.db.start-fresh"));
    }

    #[test]
    fn platform_dir_gets_sage_data_suffix() {
        let layout = DataLayout::resolve(None, Some(PathBuf::from("/home/ada/.local/share"))).unwrap();
        assert_eq!(layout.root, PathBuf::from("/home/ada/.local/share/Sage/data"));
        assert_eq!(layout.sidecar_log(), PathBuf::from("/home/ada/.local/share/Sage/data/logs/sidecar.log"));
    }

    #[test]
    fn absolute_override_wins_over_platform_dir() {
        let layout =
            DataLayout::resolve(Some(PathBuf::from("/tmp/sage-test")), Some(PathBuf::from("/home/ada/.local/share")))
                .unwrap();
        assert_eq!(layout.root, PathBuf::from("/tmp/sage-test"));
    }

    #[test]
    fn relative_override_is_refused() {
        let error = DataLayout::resolve(Some(PathBuf::from("data")), None).unwrap_err();
        assert_eq!(error, PathsError::RelativeOverride(PathBuf::from("data")));
    }

    #[test]
    fn missing_platform_dir_is_an_error_not_a_guess() {
        assert_eq!(DataLayout::resolve(None, None).unwrap_err(), PathsError::NoPlatformDataDir);
    }
}
