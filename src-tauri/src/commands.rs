//! Every command the UI may invoke, thin: each calls its module and maps errors to the one
//! `CommandError`. Each needs a permission (`build.rs` declares them; `capabilities/` grants
//! them per window).
use tauri::{AppHandle, Manager, Runtime, State, Window};

use crate::error::CommandError;
use crate::hotkey::{self, ShortcutStatus};
use crate::settings::{SettingsStore, ShellSettings};
use crate::sidecar::{supervisor, SageConfig, SidecarState};
use crate::tray::{self, TrayLabels};
use crate::updater::{self, UpdateStatus, UpdaterState};
use crate::{autostart, main_window, quick};

/// The connection to use now: waits while the sidecar is starting, fails with the startup error
/// if it could not start. The UI asks on every (re)load, so it never uses a stale one.
#[tauri::command]
pub async fn get_connection(state: State<'_, SidecarState>) -> Result<SageConfig, CommandError> {
    Ok(state.settled_connection().await?)
}

/// Start a fresh sidecar (the UI's Retry/Restart after a failure); every window hears of it.
#[tauri::command]
pub async fn restart_sidecar<R: Runtime>(app: AppHandle<R>) -> Result<SageConfig, CommandError> {
    Ok(supervisor::restart(&app).await?)
}

/// "Start fresh, keeping the old database aside": leave the marker the sidecar acts on at start,
/// then start a fresh sidecar. The old database is moved, never deleted.
#[tauri::command]
pub async fn start_fresh<R: Runtime>(app: AppHandle<R>) -> Result<SageConfig, CommandError> {
    let marker = app.state::<SidecarState>().layout.start_fresh_marker();
    std::fs::write(&marker, b"")
        .map_err(|error| CommandError::Shell { message: format!("{}: {error}", marker.display()) })?;
    Ok(supervisor::restart(&app).await?)
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
pub async fn install_update<R: Runtime>(app: AppHandle<R>) -> Result<UpdateStatus, CommandError> {
    updater::install(&app).await.map_err(|message| CommandError::Update { message })
}

/// Start the freshly installed version: quits (ending the sidecar) and relaunches.
#[tauri::command]
pub fn restart_app<R: Runtime>(app: AppHandle<R>) {
    app.restart();
}

#[tauri::command]
pub fn get_shell_settings(store: State<'_, SettingsStore>) -> ShellSettings {
    store.get()
}

/// Save the shell settings. A new quick-ask shortcut is registered first: if the desktop
/// refuses it nothing is saved (the old one stays). Async: registering waits for the main
/// thread, so it must not run on it.
#[tauri::command]
pub async fn set_shell_settings<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, SettingsStore>,
    settings: ShellSettings,
) -> Result<ShellSettings, CommandError> {
    let before = store.get();
    let new_shortcut = before.quick_ask_shortcut.trim() != settings.quick_ask_shortcut.trim();
    if new_shortcut {
        hotkey::apply(&app, &settings.quick_ask_shortcut)?;
    }
    store.set(settings).map_err(|error| {
        if new_shortcut {
            let _ = hotkey::apply(&app, &before.quick_ask_shortcut); // as the file still says
        }
        error.into()
    })
}

/// The quick-ask shortcut: saved, registered, or why not (Settings → Desktop). Async for the
/// same reason as `set_shell_settings`.
#[tauri::command]
pub async fn quick_ask_shortcut_status<R: Runtime>(app: AppHandle<R>) -> Result<ShortcutStatus, CommandError> {
    Ok(hotkey::status(&app))
}

/// The UI's language changed: relabel the tray menu.
#[tauri::command]
pub fn set_tray_labels<R: Runtime>(app: AppHandle<R>, labels: TrayLabels) {
    tray::set_labels(&app, labels);
}

/// Quick ask's Esc.
#[tauri::command]
pub fn hide_quick_ask<R: Runtime>(app: AppHandle<R>) {
    quick::hide(&app);
}

/// "Open in Sage" (quick ask) and a click on a notification: bring the main window up on that
/// conversation. Quick ask hides itself on the way.
#[tauri::command]
pub fn open_in_main<R: Runtime>(app: AppHandle<R>, window: Window<R>, conversation_id: Option<String>) {
    if window.label() == quick::QUICK_WINDOW {
        quick::hide(&app);
    }
    main_window::open_conversation(&app, conversation_id.as_deref());
}

/// Whether the user is looking at Sage; the UI sends notifications only when not.
#[tauri::command]
pub fn app_has_focus<R: Runtime>(app: AppHandle<R>) -> bool {
    main_window::app_has_focus(&app)
}

/// The main window heard `task.scheduler_changed` (the Tasks screen paused or resumed scheduled
/// tasks): the tray's item follows.
#[tauri::command]
pub fn scheduler_changed<R: Runtime>(app: AppHandle<R>, paused: bool) {
    tray::set_tasks_paused(&app, Some(paused));
}

/// Settings → Desktop's "Start Sage at login": whether the system starts it.
#[tauri::command]
pub fn get_start_at_login<R: Runtime>(app: AppHandle<R>) -> Result<bool, CommandError> {
    autostart::is_enabled(&app)
}

/// Turn "Start Sage at login" on or off; answers what the system has now.
#[tauri::command]
pub fn set_start_at_login<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Result<bool, CommandError> {
    autostart::set(&app, enabled)
}
