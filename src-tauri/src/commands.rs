//! Tauri commands the UI may invoke (each needs a permission in capabilities/default.json).
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::sidecar::contract::{SageConfig, StartupError};
use crate::sidecar::SidecarState;

/// Event the UI listens to: the sidecar moved (new port and key) and it should reconnect.
pub const SIDECAR_CHANGED_EVENT: &str = "sage://sidecar-changed";

/// Start a fresh sidecar (used by the UI's Retry on a startup error) and tell every window.
#[tauri::command]
pub async fn restart_sidecar<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, SidecarState>,
) -> Result<SageConfig, StartupError> {
    let config = state.restart(&app).await?;
    if let Err(error) = app.emit(SIDECAR_CHANGED_EVENT, &config) {
        log::warn!("could not announce the restarted sidecar: {error}");
    }
    Ok(config)
}
