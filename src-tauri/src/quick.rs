//! Quick ask: a small always-on-top window with a one-line composer, opened from the tray. It
//! loads the same UI at `#/quick`, created on first use with the sidecar connection of that moment
//! (after a restart too) and kept, hidden, between uses; it follows later restarts through
//! `sage://sidecar-changed` like the main window.
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};

use crate::sidecar::SidecarState;
use crate::window::{self, MAIN_WINDOW};

pub const QUICK_WINDOW: &str = "quick";
/// The UI's route for this window (hash history).
const QUICK_PAGE: &str = "index.html#/quick";
/// Sent to the main window: show this conversation (`null`: a new chat).
pub const OPEN_CONVERSATION_EVENT: &str = "sage://open-conversation";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenConversation<'a> {
    conversation_id: Option<&'a str>,
}

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
    let Some(startup) = app.state::<SidecarState>().latest() else {
        // The first start has not finished: there is nothing to connect to yet.
        log::info!("quick ask asked for while Sage is still starting");
        return Ok(());
    };
    let script = window::init_script(&startup, &app.package_info().version.to_string());
    WebviewWindowBuilder::new(app, QUICK_WINDOW, WebviewUrl::App(QUICK_PAGE.into()))
        .title("Sage — Quick ask")
        .inner_size(560.0, 380.0)
        .min_inner_size(360.0, 200.0)
        .always_on_top(true)
        .skip_taskbar(true)
        .center()
        .initialization_script(&script)
        .build()?;
    Ok(())
}

/// Closing quick ask only hides it: the next use is instant and keeps the last answer.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        api.prevent_close();
        let _ = window.hide();
    }
}

/// Quick ask's Esc.
#[tauri::command]
pub fn hide_quick_ask<R: Runtime>(app: AppHandle<R>) {
    if let Some(quick) = app.get_webview_window(QUICK_WINDOW) {
        let _ = quick.hide();
    }
}

/// "Open in Sage" (quick ask) and a click on a notification: bring the main window up on that
/// conversation. Quick ask hides itself on the way.
#[tauri::command]
pub fn open_in_main<R: Runtime>(app: AppHandle<R>, window: Window<R>, conversation_id: Option<String>) {
    if window.label() == QUICK_WINDOW {
        let _ = window.hide();
    }
    window::show_main(&app);
    let payload = OpenConversation { conversation_id: conversation_id.as_deref() };
    if let Err(error) = app.emit_to(MAIN_WINDOW, OPEN_CONVERSATION_EVENT, payload) {
        log::warn!("could not open the conversation in the main window: {error}");
    }
}
