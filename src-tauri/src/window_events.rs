//! What closing a window does. Closing the main window hides it to the tray when the setting is
//! on, there is a tray to come back from and the sidecar is not in a startup error; otherwise the
//! window closes and the app quits, quick ask with it. Closing quick ask only hides it.
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

use crate::main_window::MAIN_WINDOW;
use crate::quick::{self, QUICK_WINDOW};
use crate::settings::SettingsStore;
use crate::sidecar::{Connection, SidecarState};
use crate::tray;

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    match (window.label(), event) {
        (MAIN_WINDOW, WindowEvent::CloseRequested { api, .. }) if hides_on_close(window.app_handle()) => {
            api.prevent_close();
            if let Err(error) = window.hide() {
                log::warn!("could not hide the main window: {error}");
            }
        }
        (MAIN_WINDOW, WindowEvent::Destroyed) => quick::destroy(window.app_handle()),
        // The next use is instant and keeps the last answer.
        (QUICK_WINDOW, WindowEvent::CloseRequested { api, .. }) => {
            api.prevent_close();
            let _ = window.hide();
        }
        _ => {}
    }
}

/// Close to tray keeps Sage answering in the background; with no engine running (it could not
/// start) there is nothing to keep, and hiding would leave an invisible app that only the tray
/// can end.
fn hides_on_close<R: Runtime>(app: &AppHandle<R>) -> bool {
    let enabled = app.try_state::<SettingsStore>().is_some_and(|store| store.get().close_to_tray);
    let failed =
        app.try_state::<SidecarState>().is_some_and(|state| matches!(state.connection(), Connection::Failed(_)));
    enabled && !failed && tray::exists(app)
}
