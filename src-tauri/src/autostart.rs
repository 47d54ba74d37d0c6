//! "Start Sage at login" (Settings → Desktop), through `tauri-plugin-autostart`. The entry the
//! plugin writes is the setting itself, so there is nothing to keep in `shell-settings.json`
//! and nothing to get out of step: on Linux `~/.config/autostart/Sage.desktop` (XDG autostart;
//! it runs this binary), on macOS a LaunchAgent, on Windows a `Run` value in the registry.
//!
//! The UI uses the shell's two commands, not the plugin's own, so errors reach it as the one
//! `CommandError` and no window needs a plugin permission.
use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

use crate::error::CommandError;

/// The plugin for `lib.rs`.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new().build()
}

fn failed(action: &str, error: impl std::fmt::Display) -> CommandError {
    CommandError::Settings { message: format!("could not {action} starting Sage at login: {error}") }
}

/// Whether Sage starts when the user logs in.
pub fn is_enabled<R: Runtime>(app: &AppHandle<R>) -> Result<bool, CommandError> {
    app.autolaunch().is_enabled().map_err(|error| failed("check", error))
}

/// Turn it on or off; the answer is what the system has now.
pub fn set<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<bool, CommandError> {
    let manager = app.autolaunch();
    let result = if enabled { manager.enable() } else { manager.disable() };
    result.map_err(|error| failed(if enabled { "turn on" } else { "turn off" }, error))?;
    log::info!("start at login: {}", if enabled { "on" } else { "off" });
    is_enabled(app)
}
