//! How the sidecar process is started: the bundled frozen build, or a program of our choosing
//! (the project venv's Python in dev, fakes in tests). Resolved from the package info alone: no
//! app handle needed.
use std::path::PathBuf;
use std::process::Command;

use tauri::utils::platform;
use tauri::{Env, PackageInfo};

use super::contract::{ENV_SIDECAR_HOME, ENV_SIDECAR_PYTHON};

/// File name of the externalBin (`binaries/sage-sidecar-<target-triple>` in tauri.conf.json),
/// which the bundler installs next to the app's executable.
pub const SIDECAR_BIN: &str = "sage-sidecar";
/// The resource folder that holds the PyInstaller onedir build.
pub const SIDECAR_RESOURCE_DIR: &str = "sidecar";

#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// The externalBin launcher, pointed at the onedir folder in the app's resources.
    Bundled { launcher: PathBuf, home: PathBuf },
    /// Any program; dev mode uses `<venv python> -m sage_sidecar`.
    Program { program: PathBuf, args: Vec<String> },
}

impl Launch {
    /// `SAGE_SIDECAR_PYTHON` selects dev mode; otherwise the bundled build.
    pub fn from_env(package_info: &PackageInfo) -> Result<Self, String> {
        if let Some(python) = std::env::var_os(ENV_SIDECAR_PYTHON).filter(|v| !v.is_empty()) {
            return Ok(Self::dev(PathBuf::from(python)));
        }
        let exe = platform::current_exe().map_err(|e| format!("cannot find the app's executable: {e}"))?;
        let exe_dir = exe.parent().ok_or("the app's executable has no folder")?;
        let launcher = exe_dir.join(format!("{SIDECAR_BIN}{}", std::env::consts::EXE_SUFFIX));
        let resources = platform::resource_dir(package_info, &Env::default())
            .map_err(|e| format!("cannot find the app's resources: {e}"))?;
        Ok(Self::Bundled { launcher, home: resources.join(SIDECAR_RESOURCE_DIR) })
    }

    pub fn dev(python: PathBuf) -> Self {
        Self::Program { program: python, args: vec!["-m".into(), "sage_sidecar".into()] }
    }

    pub(crate) fn command(&self) -> Command {
        match self {
            Self::Bundled { launcher, home } => {
                let mut command = Command::new(launcher);
                command.env(ENV_SIDECAR_HOME, home);
                command
            }
            Self::Program { program, args } => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
        }
    }
}
