//! The main window, created only once the sidecar answered (or failed), so `window.__SAGE__`
//! is set by an initialization script before any page script runs.
use serde_json::json;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder, Window, WindowEvent};

use crate::quick::{self, QUICK_WINDOW};
use crate::settings::SettingsStore;
use crate::sidecar::contract::{SageConfig, StartupError};
use crate::tray::TRAY_ID;

pub const MAIN_WINDOW: &str = "main";

/// The script that defines `window.__SAGE__`: the connection on success, or `startupError`
/// (message and log path) so the UI can explain what went wrong.
pub fn init_script(startup: &Result<SageConfig, StartupError>, app_version: &str) -> String {
    let value = match startup {
        Ok(config) => json!(config),
        Err(error) => json!({ "startupError": error, "version": app_version }),
    };
    format!("Object.defineProperty(window, '__SAGE__', {{ value: Object.freeze({value}), configurable: true }});")
}

/// Bring the main window to the front (a second launch, the tray, quick ask, a notification).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The tray's Show/Hide: hide the main window when it is on screen, otherwise bring it up.
pub fn toggle_main<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else { return };
    let on_screen = window.is_visible().unwrap_or(false) && !window.is_minimized().unwrap_or(false);
    if on_screen {
        let _ = window.hide();
    } else {
        show_main(app);
    }
}

/// Window events the shell handles: closing the main window hides it to the tray (if the setting
/// is on and there is a tray to come back from); closing it for real quits, quick ask included.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    match window.label() {
        MAIN_WINDOW => match event {
            WindowEvent::CloseRequested { api, .. } if hides_on_close(window.app_handle()) => {
                api.prevent_close();
                if let Err(error) = window.hide() {
                    log::warn!("could not hide the main window: {error}");
                }
            }
            WindowEvent::Destroyed => {
                // The app ends when its last window is gone: quick ask must not keep it alive.
                if let Some(quick) = window.app_handle().get_webview_window(QUICK_WINDOW) {
                    let _ = quick.destroy();
                }
            }
            _ => {}
        },
        QUICK_WINDOW => quick::on_window_event(window, event),
        _ => {}
    }
}

fn hides_on_close<R: Runtime>(app: &AppHandle<R>) -> bool {
    let enabled = app.try_state::<SettingsStore>().is_some_and(|store| store.get().close_to_tray);
    enabled && app.tray_by_id(TRAY_ID).is_some()
}

/// Whether the user is looking at Sage: one of its windows is shown and has the focus. The UI
/// sends notifications only when not.
#[tauri::command]
pub fn app_has_focus<R: Runtime>(app: AppHandle<R>) -> bool {
    app.webview_windows()
        .values()
        .any(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
}

pub fn open_main<R: Runtime>(app: &AppHandle<R>, init_script: &str) -> tauri::Result<WebviewWindow<R>> {
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App("index.html".into()))
        .title("Sage")
        .inner_size(1120.0, 760.0)
        .min_inner_size(420.0, 520.0)
        .initialization_script(init_script)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_defines_config_on_success() {
        let config = SageConfig {
            api_base: "http://127.0.0.1:1".into(),
            ws_base: "ws://127.0.0.1:1".into(),
            api_key: "abc".into(),
            version: "0.1.0".into(),
        };
        let script = init_script(&Ok(config), "0.1.0");
        assert!(script.contains(r#""apiBase":"http://127.0.0.1:1""#), "{script}");
        assert!(script.starts_with("Object.defineProperty(window, '__SAGE__'"));
    }

    #[test]
    fn script_carries_startup_error_and_log_path() {
        let error = StartupError { message: "boom \"quoted\"".into(), log_path: "/d/logs/sidecar.log".into() };
        let script = init_script(&Err(error), "0.1.0");
        assert!(script.contains(r#""startupError":{"logPath":"/d/logs/sidecar.log","message":"boom \"quoted\""}"#), "{script}");
    }
}
