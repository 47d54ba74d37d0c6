//! Quick ask: a small always-on-top window with a one-line composer, opened from the tray. It
//! loads the same UI at `#/quick`, created on first use and kept, hidden, between uses; like the
//! main window it asks for the connection (`get_connection`) and follows restarts through
//! `sage://sidecar-changed`.
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const QUICK_WINDOW: &str = "quick";
/// The UI's route for this window (hash history).
const QUICK_PAGE: &str = "index.html#/quick";

/// Show quick ask, or hide it when it is showing.
pub fn toggle<R: Runtime>(app: &AppHandle<R>) {
    if let Some(quick) = app.get_webview_window(QUICK_WINDOW) {
        if quick.is_visible().unwrap_or(false) {
            let _ = quick.hide();
        } else {
            let _ = quick.show();
            let _ = quick.set_focus();
        }
        return;
    }
    // Off the event loop's thread: a window built inside a menu handler can deadlock (Windows).
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = open(&app) {
            log::error!("could not open quick ask: {error}");
        }
    });
}

fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, QUICK_WINDOW, WebviewUrl::App(QUICK_PAGE.into()))
        .title("Sage — Quick ask")
        .inner_size(560.0, 380.0)
        .min_inner_size(360.0, 200.0)
        .always_on_top(true)
        .skip_taskbar(true)
        .center()
        .build()?;
    Ok(())
}

/// Quick ask's Esc, and its "Open in Sage" on the way to the main window.
pub fn hide<R: Runtime>(app: &AppHandle<R>) {
    if let Some(quick) = app.get_webview_window(QUICK_WINDOW) {
        let _ = quick.hide();
    }
}

/// The app ends when its main window is gone: quick ask must not keep it alive.
pub fn destroy<R: Runtime>(app: &AppHandle<R>) {
    if let Some(quick) = app.get_webview_window(QUICK_WINDOW) {
        let _ = quick.destroy();
    }
}
