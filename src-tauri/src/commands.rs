//! Tauri commands the UI may invoke (each needs a permission in capabilities/default.json).
use tauri::{AppHandle, Runtime, State};

use crate::sidecar::contract::{SageConfig, StartupError};
use crate::sidecar::{supervisor, SidecarState};

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
