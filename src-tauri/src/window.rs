//! The main window, created only once the sidecar answered (or failed), so `window.__SAGE__`
//! is set by an initialization script before any page script runs.
use serde_json::json;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use crate::sidecar::contract::{SageConfig, StartupError};

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

/// Bring the main window to the front (a second launch, later the tray).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
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
