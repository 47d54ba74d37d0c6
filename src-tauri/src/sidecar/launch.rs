//! How the sidecar process is started: the bundled frozen build, or a program of our choosing
//! (the project venv's Python in dev, fakes in tests).
use std::path::PathBuf;

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_shell::{process::Command, ShellExt};

use super::contract::{ENV_SIDECAR_HOME, ENV_SIDECAR_PYTHON};

/// File name of the externalBin (`binaries/sage-sidecar-<target-triple>` in tauri.conf.json).
pub const SIDECAR_BIN: &str = "sage-sidecar";
/// The resource folder that holds the PyInstaller onedir build.
pub const SIDECAR_RESOURCE_DIR: &str = "sidecar";

#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// The externalBin launcher, pointed at the onedir folder in the app's resources.
    Bundled { home: PathBuf },
    /// Any program; dev mode uses `<venv python> -m sage_sidecar`.
    Program { program: PathBuf, args: Vec<String> },
}

impl Launch {
    /// `SAGE_SIDECAR_PYTHON` selects dev mode; otherwise the bundled build.
    pub fn from_env<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Self> {
        if let Some(python) = std::env::var_os(ENV_SIDECAR_PYTHON).filter(|v| !v.is_empty()) {
            return Ok(Self::dev(PathBuf::from(python)));
        }
        let home = app.path().resource_dir()?.join(SIDECAR_RESOURCE_DIR);
        Ok(Self::Bundled { home })
    }

    pub fn dev(python: PathBuf) -> Self {
        Self::Program { program: python, args: vec!["-m".into(), "sage_sidecar".into()] }
    }

    pub(crate) fn command<R: Runtime>(&self, app: &AppHandle<R>) -> Result<Command, tauri_plugin_shell::Error> {
        Ok(match self {
            Self::Bundled { home } => app.shell().sidecar(SIDECAR_BIN)?.env(ENV_SIDECAR_HOME, home),
            Self::Program { program, args } => app.shell().command(program).args(args),
        })
    }
}
