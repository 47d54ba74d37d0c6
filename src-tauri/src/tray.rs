//! The system tray: an icon whose menu shows or hides the window, starts a chat, opens quick ask,
//! pauses or resumes scheduled tasks, asks for an update check, opens the data folder and quits. On Linux it is a
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
use crate::{main_window, quick, scheduler};

pub const TRAY_ID: &str = "sage";

/// What a tray menu item does. Its `id` is the menu item's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    ToggleWindow,
    NewChat,
    QuickAsk,
    /// "Pause scheduled tasks" or "Resume scheduled tasks", after the sidecar's state.
    ToggleTasks,
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

/// The menu, top to bottom.
pub const MENU: [Entry; 10] = [
    Entry::Item(TrayAction::ToggleWindow),
    Entry::Item(TrayAction::NewChat),
    Entry::Item(TrayAction::QuickAsk),
    Entry::Separator,
    Entry::Item(TrayAction::ToggleTasks),
    Entry::Separator,
    Entry::Item(TrayAction::CheckUpdates),
    Entry::Item(TrayAction::OpenDataFolder),
    Entry::Separator,
    Entry::Item(TrayAction::Quit),
];

impl TrayAction {
    pub const ALL: [TrayAction; 7] = [
        Self::ToggleWindow,
        Self::NewChat,
        Self::QuickAsk,
        Self::ToggleTasks,
        Self::CheckUpdates,
        Self::OpenDataFolder,
        Self::Quit,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::ToggleWindow => "toggle-window",
            Self::NewChat => "new-chat",
            Self::QuickAsk => "quick-ask",
            Self::ToggleTasks => "toggle-tasks",
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
    pub pause_tasks: String,
    pub resume_tasks: String,
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
            pause_tasks: "Pause scheduled tasks".into(),
            resume_tasks: "Resume scheduled tasks".into(),
            check_updates: "Check for updates…".into(),
            open_data_folder: "Open data folder".into(),
            quit: "Quit Sage".into(),
        }
    }
}

impl TrayLabels {
    /// An item's words; scheduled tasks say what a click will do (`paused`: resume).
    pub fn label(&self, action: TrayAction, tasks_paused: bool) -> &str {
        match action {
            TrayAction::ToggleWindow => &self.toggle_window,
            TrayAction::NewChat => &self.new_chat,
            TrayAction::QuickAsk => &self.quick_ask,
            TrayAction::ToggleTasks if tasks_paused => &self.resume_tasks,
            TrayAction::ToggleTasks => &self.pause_tasks,
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
            (&mut self.pause_tasks, english.pause_tasks),
            (&mut self.resume_tasks, english.resume_tasks),
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

/// Whether the platform's tray menu shows an item's accelerator (macOS and Windows do; the
/// StatusNotifierItem menus of Linux panels do not).
const SHOWS_ACCELERATORS: bool = !cfg!(target_os = "linux");

/// Everything the menu shows: its words, whether scheduled tasks are paused (`None`: not known,
/// the item is disabled) and quick ask's global shortcut (shown as the item's accelerator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayView {
    pub labels: TrayLabels,
    pub tasks_paused: Option<bool>,
    pub quick_ask_shortcut: Option<String>,
}

impl TrayView {
    /// An item's text. Linux trays (dbusmenu) do not show accelerators, so there quick ask's
    /// shortcut is written after its label instead.
    pub fn label(&self, action: TrayAction) -> String {
        let label = self.labels.label(action, self.tasks_paused == Some(true));
        match (action, &self.quick_ask_shortcut) {
            (TrayAction::QuickAsk, Some(shortcut)) if !SHOWS_ACCELERATORS => {
                format!("{label}  ({})", crate::hotkey::display(shortcut))
            }
            _ => label.to_owned(),
        }
    }

    pub fn enabled(&self, action: TrayAction) -> bool {
        action != TrayAction::ToggleTasks || self.tasks_paused.is_some()
    }

    pub fn accelerator(&self, action: TrayAction) -> Option<&str> {
        match action {
            TrayAction::QuickAsk if SHOWS_ACCELERATORS => self.quick_ask_shortcut.as_deref(),
            _ => None,
        }
    }
}

/// What the tray shows now, so an unchanged view does not rebuild the menu.
#[derive(Default)]
pub struct TrayState {
    view: Mutex<TrayView>,
}

fn build_menu<R: Runtime>(app: &AppHandle<R>, view: &TrayView) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for entry in MENU {
        match entry {
            Entry::Item(action) => {
                let (id, label, enabled) = (action.id(), view.label(action), view.enabled(action));
                let label = label.as_str();
                // An accelerator the menu cannot show must not cost the whole tray.
                let item = MenuItem::with_id(app, id, label, enabled, view.accelerator(action))
                    .or_else(|_| MenuItem::with_id(app, id, label, enabled, None::<&str>))?;
                menu.append(&item)?
            }
            Entry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

/// Put the icon in the tray. On Linux it appears once a StatusNotifierWatcher (the desktop's
/// panel) is on the session bus; libayatana-appindicator registers whenever one shows up.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let view = TrayView { quick_ask_shortcut: crate::hotkey::current(app), ..TrayView::default() };
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Sage")
        .menu(&build_menu(app, &view)?)
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
    app.manage(TrayState { view: Mutex::new(view) });
    Ok(())
}

pub fn perform<R: Runtime>(app: &AppHandle<R>, action: TrayAction) {
    log::info!("tray: {}", action.id());
    match action {
        TrayAction::ToggleWindow => main_window::toggle(app),
        TrayAction::NewChat => main_window::new_chat(app),
        TrayAction::QuickAsk => quick::toggle(app),
        TrayAction::ToggleTasks => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { scheduler::toggle(&app).await });
        }
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

/// Rebuild the menu after `change`, unless it left the view as it was. Done on the main
/// thread, one change after another: there the menu calls run at once, so the lock is never
/// held while waiting for the main thread (a command on it could be waiting for the lock).
fn update<R: Runtime>(app: &AppHandle<R>, what: &'static str, change: impl FnOnce(&mut TrayView) + Send + 'static) {
    let handle = app.clone();
    let apply = move || {
        let Some(state) = handle.try_state::<TrayState>() else {
            return; // no tray: nothing to show
        };
        let mut current = state.view.lock();
        let mut next = current.clone();
        change(&mut next);
        if *current == next {
            return;
        }
        let rebuilt = match handle.tray_by_id(TRAY_ID) {
            Some(tray) => build_menu(&handle, &next).and_then(|menu| tray.set_menu(Some(menu))),
            None => Ok(()),
        };
        match rebuilt {
            Ok(()) => *current = next,
            Err(error) => log::warn!("could not update the tray menu ({what}): {error}"),
        }
    };
    if let Err(error) = app.run_on_main_thread(apply) {
        log::warn!("could not update the tray menu ({what}): {error}");
    }
}

/// The UI's language changed: relabel the menu (blank labels stay English).
pub fn set_labels<R: Runtime>(app: &AppHandle<R>, labels: TrayLabels) {
    let labels = labels.or_defaults();
    update(app, "labels", |view| view.labels = labels);
}

/// Whether the sidecar's scheduled tasks are paused (`None`: not known; the item is disabled).
pub fn set_tasks_paused<R: Runtime>(app: &AppHandle<R>, paused: Option<bool>) {
    update(app, "scheduled tasks", move |view| view.tasks_paused = paused);
}

/// What the tray believes about scheduled tasks now.
pub fn tasks_paused<R: Runtime>(app: &AppHandle<R>) -> Option<bool> {
    app.try_state::<TrayState>().and_then(|state| state.view.lock().tasks_paused)
}

/// Quick ask's global shortcut changed (`None`: none registered).
pub fn set_quick_ask_shortcut<R: Runtime>(app: &AppHandle<R>, shortcut: Option<String>) {
    update(app, "quick-ask shortcut", move |view| view.quick_ask_shortcut = shortcut);
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
        let view = TrayView::default();
        let shown: Vec<_> = TrayAction::ALL.iter().map(|a| view.label(*a)).collect();
        assert_eq!(
            shown,
            [
                "Show/Hide window",
                "New chat",
                "Quick ask…",
                "Pause scheduled tasks",
                "Check for updates…",
                "Open data folder",
                "Quit Sage"
            ]
        );
    }

    #[test]
    fn labels_from_the_ui_fall_back_to_english_when_blank() {
        let labels: TrayLabels = serde_json::from_str(r#"{"newChat": "新对话", "quit": "  "}"#).unwrap();
        let labels = labels.or_defaults();
        assert_eq!(labels.label(TrayAction::NewChat, false), "新对话");
        assert_eq!(labels.label(TrayAction::Quit, false), "Quit Sage");
        assert_eq!(labels.label(TrayAction::ToggleWindow, false), "Show/Hide window");
        assert_eq!(labels.label(TrayAction::ToggleTasks, true), "Resume scheduled tasks");
    }

    #[test]
    fn the_tasks_item_says_what_a_click_does_and_is_disabled_while_unknown() {
        let mut view = TrayView::default();
        assert!(!view.enabled(TrayAction::ToggleTasks));
        assert_eq!(view.label(TrayAction::ToggleTasks), "Pause scheduled tasks");
        view.tasks_paused = Some(false);
        assert!(view.enabled(TrayAction::ToggleTasks));
        assert_eq!(view.label(TrayAction::ToggleTasks), "Pause scheduled tasks");
        view.tasks_paused = Some(true);
        assert_eq!(view.label(TrayAction::ToggleTasks), "Resume scheduled tasks");
        assert!(TrayAction::ALL.iter().filter(|a| **a != TrayAction::ToggleTasks).all(|a| view.enabled(*a)));
    }

    #[test]
    fn quick_ask_shows_its_shortcut_and_nothing_else_has_one() {
        let view = TrayView { quick_ask_shortcut: Some("CommandOrControl+Shift+Space".into()), ..TrayView::default() };
        if SHOWS_ACCELERATORS {
            assert_eq!(view.accelerator(TrayAction::QuickAsk), Some("CommandOrControl+Shift+Space"));
            assert_eq!(view.label(TrayAction::QuickAsk), "Quick ask…");
        } else {
            assert_eq!(view.accelerator(TrayAction::QuickAsk), None);
            assert_eq!(view.label(TrayAction::QuickAsk), "Quick ask…  (Ctrl+Shift+Space)");
        }
        assert!(TrayAction::ALL.iter().filter(|a| **a != TrayAction::QuickAsk).all(|a| view.accelerator(*a).is_none()));
        assert_eq!(view.label(TrayAction::NewChat), "New chat");
        assert_eq!(TrayView::default().label(TrayAction::QuickAsk), "Quick ask…");
    }
}
