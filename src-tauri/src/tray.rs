//! The system tray: an icon whose menu shows or hides the window, starts a chat, opens quick ask,
//! asks for an update check, opens the data folder and quits. On Linux it is a
//! StatusNotifierItem (libayatana-appindicator) with its menu exported over D-Bus.
//!
//! Events: `sage://new-chat` (to the main window: start a new conversation) and
//! `sage://check-updates` (the updater checks; the UI shows the result).
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::sidecar::SidecarState;
use crate::updater::CHECK_REQUEST_EVENT;
use crate::{main_window, quick};

pub const TRAY_ID: &str = "sage";

/// What a tray menu item does. Its `id` is the menu item's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    ToggleWindow,
    NewChat,
    QuickAsk,
    CheckUpdates,
    OpenDataFolder,
    Quit,
}

/// A row of the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Item(TrayAction),
    Separator,
}

/// The menu, top to bottom. "Pause/resume scheduled tasks" joins it once the sidecar has
/// scheduled tasks (it has none yet).
pub const MENU: [Entry; 8] = [
    Entry::Item(TrayAction::ToggleWindow),
    Entry::Item(TrayAction::NewChat),
    Entry::Item(TrayAction::QuickAsk),
    Entry::Separator,
    Entry::Item(TrayAction::CheckUpdates),
    Entry::Item(TrayAction::OpenDataFolder),
    Entry::Separator,
    Entry::Item(TrayAction::Quit),
];

impl TrayAction {
    pub const ALL: [TrayAction; 6] =
        [Self::ToggleWindow, Self::NewChat, Self::QuickAsk, Self::CheckUpdates, Self::OpenDataFolder, Self::Quit];

    pub fn id(self) -> &'static str {
        match self {
            Self::ToggleWindow => "toggle-window",
            Self::NewChat => "new-chat",
            Self::QuickAsk => "quick-ask",
            Self::CheckUpdates => "check-updates",
            Self::OpenDataFolder => "open-data-folder",
            Self::Quit => "quit",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.id() == id)
    }
}

/// The menu's words. English until the UI sends its language's (`set_tray_labels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct TrayLabels {
    pub toggle_window: String,
    pub new_chat: String,
    pub quick_ask: String,
    pub check_updates: String,
    pub open_data_folder: String,
    pub quit: String,
}

impl Default for TrayLabels {
    fn default() -> Self {
        Self {
            toggle_window: "Show/Hide window".into(),
            new_chat: "New chat".into(),
            quick_ask: "Quick ask…".into(),
            check_updates: "Check for updates…".into(),
            open_data_folder: "Open data folder".into(),
            quit: "Quit Sage".into(),
        }
    }
}

impl TrayLabels {
    pub fn label(&self, action: TrayAction) -> &str {
        match action {
            TrayAction::ToggleWindow => &self.toggle_window,
            TrayAction::NewChat => &self.new_chat,
            TrayAction::QuickAsk => &self.quick_ask,
            TrayAction::CheckUpdates => &self.check_updates,
            TrayAction::OpenDataFolder => &self.open_data_folder,
            TrayAction::Quit => &self.quit,
        }
    }

    /// Blank labels (a missing translation) fall back to English rather than showing nothing.
    pub fn or_defaults(mut self) -> Self {
        let english = Self::default();
        for (mine, fallback) in [
            (&mut self.toggle_window, english.toggle_window),
            (&mut self.new_chat, english.new_chat),
            (&mut self.quick_ask, english.quick_ask),
            (&mut self.check_updates, english.check_updates),
            (&mut self.open_data_folder, english.open_data_folder),
            (&mut self.quit, english.quit),
        ] {
            if mine.trim().is_empty() {
                *mine = fallback;
            }
        }
        self
    }
}

/// The labels the tray shows now, so an unchanged language does not rebuild the menu.
#[derive(Default)]
pub struct TrayState {
    labels: Mutex<TrayLabels>,
}

fn build_menu<R: Runtime>(app: &AppHandle<R>, labels: &TrayLabels) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for entry in MENU {
        match entry {
            Entry::Item(action) => {
                menu.append(&MenuItem::with_id(app, action.id(), labels.label(action), true, None::<&str>)?)?
            }
            Entry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

/// Put the icon in the tray. On Linux it appears once a StatusNotifierWatcher (the desktop's
/// panel) is on the session bus; libayatana-appindicator registers whenever one shows up.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let labels = TrayLabels::default();
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Sage")
        .menu(&build_menu(app, &labels)?)
        // Left click toggles the window (Windows, macOS); Linux trays always open the menu.
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match TrayAction::from_id(event.id().as_ref()) {
            Some(action) => perform(app, action),
            None => log::debug!("menu event {:?} is not the tray's", event.id()),
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                main_window::toggle(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(TrayState { labels: Mutex::new(labels) });
    Ok(())
}

pub fn perform<R: Runtime>(app: &AppHandle<R>, action: TrayAction) {
    log::info!("tray: {}", action.id());
    match action {
        TrayAction::ToggleWindow => main_window::toggle(app),
        TrayAction::NewChat => main_window::new_chat(app),
        TrayAction::QuickAsk => quick::toggle(app),
        TrayAction::CheckUpdates => {
            if let Err(error) = app.emit(CHECK_REQUEST_EVENT, ()) {
                log::warn!("could not ask for an update check: {error}");
            }
        }
        TrayAction::OpenDataFolder => open_data_folder(app),
        TrayAction::Quit => app.exit(0), // RunEvent::Exit stops the sidecar
    }
}

fn open_data_folder<R: Runtime>(app: &AppHandle<R>) {
    let root = app.state::<SidecarState>().layout.root().to_path_buf();
    if let Err(error) = std::fs::create_dir_all(&root) {
        log::warn!("could not create {}: {error}", root.display());
    }
    if let Err(error) = app.opener().open_path(root.to_string_lossy(), None::<&str>) {
        log::warn!("could not open {}: {error}", root.display());
    }
}

/// Whether there is a tray icon to come back from (closing the main window may hide it then).
pub fn exists<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.tray_by_id(TRAY_ID).is_some()
}

/// The UI's language changed: relabel the menu (blank labels stay English).
pub fn set_labels<R: Runtime>(app: &AppHandle<R>, labels: TrayLabels) -> tauri::Result<()> {
    let labels = labels.or_defaults();
    let Some(state) = app.try_state::<TrayState>() else {
        return Ok(()); // no tray: nothing to relabel
    };
    let mut current = state.labels.lock();
    if *current == labels {
        return Ok(());
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        tray.set_menu(Some(build_menu(app, &labels)?))?;
    }
    *current = labels;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_unique_id_that_maps_back() {
        for action in TrayAction::ALL {
            assert_eq!(TrayAction::from_id(action.id()), Some(action));
        }
        let mut ids: Vec<_> = TrayAction::ALL.iter().map(|a| a.id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), TrayAction::ALL.len());
        assert_eq!(TrayAction::from_id("something-else"), None);
    }

    #[test]
    fn the_menu_has_every_action_once_and_ends_with_quit() {
        let items: Vec<_> = MENU
            .iter()
            .filter_map(|e| match e {
                Entry::Item(a) => Some(*a),
                _ => None,
            })
            .collect();
        assert_eq!(items, TrayAction::ALL.to_vec());
        assert_eq!(MENU.last(), Some(&Entry::Item(TrayAction::Quit)));
        assert_ne!(MENU.first(), Some(&Entry::Separator));
        assert!(MENU.windows(2).all(|pair| pair != [Entry::Separator, Entry::Separator]));
    }

    #[test]
    fn english_labels_by_default() {
        let labels = TrayLabels::default();
        let shown: Vec<_> = TrayAction::ALL.iter().map(|a| labels.label(*a)).collect();
        assert_eq!(
            shown,
            ["Show/Hide window", "New chat", "Quick ask…", "Check for updates…", "Open data folder", "Quit Sage"]
        );
    }

    #[test]
    fn labels_from_the_ui_fall_back_to_english_when_blank() {
        let labels: TrayLabels = serde_json::from_str(r#"{"newChat": "新对话", "quit": "  "}"#).unwrap();
        let labels = labels.or_defaults();
        assert_eq!(labels.label(TrayAction::NewChat), "新对话");
        assert_eq!(labels.label(TrayAction::Quit), "Quit Sage");
        assert_eq!(labels.label(TrayAction::ToggleWindow), "Show/Hide window");
    }
}
