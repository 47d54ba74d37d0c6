//! Tauri commands the UI may invoke (each needs a permission in capabilities/default.json).
use tauri::{AppHandle, Runtime, State};

use crate::sidecar::contract::{SageConfig, StartupError};
use crate::sidecar::{supervisor, SidecarState};
use crate::updater::{self, UpdateStatus, UpdaterState};

/// Start a fresh sidecar (the UI's Retry/Restart after a failure) and tell every window.
#[tauri::command]
pub async fn restart_sidecar<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, SidecarState>,
) -> Result<SageConfig, StartupError> {
    let config = state.restart(&app).await?;
    supervisor::announce(&app, &config);
    Ok(config)
}

/// The updater's last known status (the UI may load after the launch check finished).
#[tauri::command]
pub fn update_status(state: State<'_, UpdaterState>) -> UpdateStatus {
    state.status()
}

/// Check the release feed now.
#[tauri::command]
pub async fn check_for_updates<R: Runtime>(app: AppHandle<R>) -> UpdateStatus {
    updater::check(&app).await
}

/// Download, verify and install the update the last check found.
#[tauri::command]
pub async fn install_update<R: Runtime>(app: AppHandle<R>) -> Result<UpdateStatus, String> {
    updater::install(&app).await
}

/// Start the freshly installed version: quits (ending the sidecar) and relaunches.
#[tauri::command]
pub fn restart_app<R: Runtime>(app: AppHandle<R>) {
    app.restart();
}
