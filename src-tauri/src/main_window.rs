//! The main window: created at launch, while the sidecar is still starting (the UI asks for the
//! connection with `get_connection` and shows a spinner until it has one), and brought to the
//! front by a second launch, the tray, quick ask or a notification.
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

pub const MAIN_WINDOW: &str = "main";
/// Sent to the main window: show this conversation (`null`: a new chat).
pub const OPEN_CONVERSATION_EVENT: &str = "sage://open-conversation";
/// Sent to the main window: start a new conversation.
pub const NEW_CHAT_EVENT: &str = "sage://new-chat";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenConversation<'a> {
    conversation_id: Option<&'a str>,
}

pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App("index.html".into()))
        .title("Sage")
        .inner_size(1120.0, 760.0)
        .min_inner_size(420.0, 520.0)
        .build()
}

/// Bring the main window to the front.
pub fn show<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The tray's Show/Hide: hide the main window when it is on screen, otherwise bring it up.
pub fn toggle<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else { return };
    let on_screen = window.is_visible().unwrap_or(false) && !window.is_minimized().unwrap_or(false);
    if on_screen {
        let _ = window.hide();
    } else {
        show(app);
    }
}

/// Show the main window on a conversation (`None`: a new chat).
pub fn open_conversation<R: Runtime>(app: &AppHandle<R>, conversation_id: Option<&str>) {
    show(app);
    if let Err(error) = app.emit_to(MAIN_WINDOW, OPEN_CONVERSATION_EVENT, OpenConversation { conversation_id }) {
        log::warn!("could not open the conversation in the main window: {error}");
    }
}

/// Show the main window and start a new conversation there.
pub fn new_chat<R: Runtime>(app: &AppHandle<R>) {
    show(app);
    if let Err(error) = app.emit_to(MAIN_WINDOW, NEW_CHAT_EVENT, ()) {
        log::warn!("could not ask for a new chat: {error}");
    }
}

/// Whether the user is looking at Sage: one of its windows is shown and has the focus.
pub fn app_has_focus<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.webview_windows().values().any(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
}
