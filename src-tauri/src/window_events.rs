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
        (MAIN_WINDOW, WindowEvent::CloseRequested { api, .. }) if main_hides_on_close(window.app_handle()) => {
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

fn main_hides_on_close<R: Runtime>(app: &AppHandle<R>) -> bool {
    let close_to_tray = app.try_state::<SettingsStore>().is_some_and(|store| store.get().close_to_tray);
    let connection = app.try_state::<SidecarState>().map(|state| state.connection());
    hides_on_close(close_to_tray, tray::exists(app), connection.as_ref())
}

/// Close to tray keeps Sage answering in the background; with no engine running (it could not
/// start, or kept crashing) there is nothing to keep, and hiding would leave an invisible app
/// that only the tray can end.
fn hides_on_close(close_to_tray: bool, has_tray: bool, connection: Option<&Connection>) -> bool {
    close_to_tray && has_tray && !matches!(connection, Some(Connection::Failed(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sidecar::{SageConfig, StartupError};

    #[test]
    fn closing_hides_to_the_tray_only_with_the_setting_a_tray_and_an_engine() {
        let ready = Connection::Ready(SageConfig {
            api_base: "http://127.0.0.1:1".into(),
            ws_base: "ws://127.0.0.1:1".into(),
            api_key: "k".into(),
            version: "0".into(),
        });
        let failed = Connection::Failed(StartupError::new("exited".into(), "/l".into()));
        assert!(hides_on_close(true, true, Some(&ready)));
        assert!(hides_on_close(true, true, Some(&Connection::Starting)));
        assert!(!hides_on_close(false, true, Some(&ready)), "the setting is off");
        assert!(!hides_on_close(true, false, Some(&ready)), "no tray to come back from");
        assert!(!hides_on_close(true, true, Some(&failed)), "no engine to keep running");
    }
}
