//! The global shortcut that opens quick ask from anywhere (default Ctrl+Shift+Space, Cmd+Shift+Space
//! on macOS), through `tauri-plugin-global-shortcut`. The accelerator is a shell setting
//! (`quickAskShortcut` in `shell-settings.json`, empty for none); Settings → Desktop records a new
//! one and the tray shows it beside "Quick ask…".
//!
//! Registration can fail for reasons only the desktop knows: another app holds the combination
//! (X11 refuses the grab), or the session has no global shortcuts at all (a Wayland session
//! without XWayland: the plugin then reports success but never hears a key). A refused
//! registration is kept as the status the UI shows, never a failed start.
use std::str::FromStr;

use parking_lot::Mutex;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_global_shortcut::{Code, GlobalShortcutExt, Modifiers, Shortcut, ShortcutState};
use ts_rs::TS;

use crate::error::CommandError;
use crate::settings::SettingsStore;
use crate::{quick, tray};

/// Ctrl+Shift+Space, or Cmd+Shift+Space on macOS.
pub const DEFAULT_SHORTCUT: &str = "CommandOrControl+Shift+Space";

/// Why a shortcut cannot be used; the UI words each in its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ShortcutProblem {
    /// Not an accelerator, or one that would eat ordinary typing (no Ctrl, Alt or Super).
    Invalid,
    /// Another application holds it.
    InUse,
    /// The desktop refused it for another reason.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShortcutError {
    pub problem: ShortcutProblem,
    pub shortcut: String,
    pub message: String,
}

impl ShortcutError {
    fn new(problem: ShortcutProblem, shortcut: &str, message: impl Into<String>) -> Self {
        Self { problem, shortcut: shortcut.to_owned(), message: message.into() }
    }
}

impl From<ShortcutError> for CommandError {
    fn from(error: ShortcutError) -> Self {
        Self::Shortcut { problem: error.problem, shortcut: error.shortcut, message: error.message }
    }
}

/// The shortcut as the UI shows it: the saved accelerator, whether it is registered now, and
/// why not when it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShortcutStatus {
    pub shortcut: String,
    pub registered: bool,
    pub problem: Option<ShortcutProblem>,
    pub message: Option<String>,
}

/// Read an accelerator ("Ctrl+Shift+Space", "CommandOrControl+Alt+KeyK", "F9"); `None` for an
/// empty one (no shortcut). Function keys may stand alone; any other key needs Ctrl, Alt or
/// Super, so the shortcut cannot swallow ordinary typing.
pub fn parse(accelerator: &str) -> Result<Option<Shortcut>, ShortcutError> {
    let accelerator = accelerator.trim();
    if accelerator.is_empty() {
        return Ok(None);
    }
    let shortcut = Shortcut::from_str(accelerator)
        .map_err(|error| ShortcutError::new(ShortcutProblem::Invalid, accelerator, error.to_string()))?;
    let function_key = matches!(
        shortcut.key,
        Code::F1
            | Code::F2
            | Code::F3
            | Code::F4
            | Code::F5
            | Code::F6
            | Code::F7
            | Code::F8
            | Code::F9
            | Code::F10
            | Code::F11
            | Code::F12
    );
    let held = Modifiers::CONTROL | Modifiers::ALT | Modifiers::SUPER;
    if !function_key && !shortcut.mods.intersects(held) {
        return Err(ShortcutError::new(
            ShortcutProblem::Invalid,
            accelerator,
            format!("{accelerator} needs Ctrl, Alt or Super (Cmd), or a function key"),
        ));
    }
    Ok(Some(shortcut))
}

/// An accelerator as people write it on Linux and Windows: "CommandOrControl+Shift+Space" →
/// "Ctrl+Shift+Space", "Ctrl+Alt+KeyK" → "Ctrl+Alt+K" (the tray's label on Linux).
pub fn display(accelerator: &str) -> String {
    let words: Vec<String> = accelerator
        .split('+')
        .map(|part| {
            let part = part.trim();
            match part.to_ascii_lowercase().as_str() {
                "commandorcontrol" | "cmdorctrl" | "commandorctrl" | "cmdorcontrol" | "control" => "Ctrl".into(),
                "cmd" | "command" => "Super".into(),
                "option" => "Alt".into(),
                _ => part
                    .strip_prefix("Key")
                    .or_else(|| part.strip_prefix("Digit"))
                    .filter(|rest| rest.len() == 1)
                    .unwrap_or(part)
                    .to_owned(),
            }
        })
        .collect();
    words.join("+")
}

/// The plugin for `lib.rs`: a press of the registered shortcut shows or hides quick ask.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state == ShortcutState::Pressed {
                log::info!("quick-ask shortcut pressed");
                quick::toggle(app);
            }
        })
        .build()
}

/// What is registered now, and the last refusal. `applying` keeps two changes (start-up and
/// Settings) from interleaving; neither lock is ever taken on the main thread while a
/// registration, which runs there, is awaited.
#[derive(Default)]
pub struct HotkeyState {
    inner: Mutex<Registered>,
    applying: Mutex<()>,
}

#[derive(Default)]
struct Registered {
    accelerator: String,
    shortcut: Option<Shortcut>,
    error: Option<ShortcutError>,
}

fn classify(accelerator: &str, error: tauri_plugin_global_shortcut::Error) -> ShortcutError {
    let message = error.to_string();
    // global-hotkey's words for an X11 BadAccess / a combination it already holds.
    let problem = if message.contains("already registered") { ShortcutProblem::InUse } else { ShortcutProblem::Failed };
    ShortcutError::new(problem, accelerator, message)
}

/// Make `accelerator` quick ask's shortcut in place of the current one. On failure the previous
/// one stays registered and the error is returned (and kept for the status). Blocking, and
/// never on the main thread (registration runs there): call it from async commands.
pub fn apply<R: Runtime>(app: &AppHandle<R>, accelerator: &str) -> Result<(), ShortcutError> {
    let accelerator = accelerator.trim();
    let state = app.state::<HotkeyState>();
    let _one_at_a_time = state.applying.lock();
    let wanted = match parse(accelerator) {
        Ok(wanted) => wanted,
        Err(error) => {
            state.inner.lock().error = Some(error.clone());
            return Err(error);
        }
    };
    let (previous, previous_accelerator) = {
        let inner = state.inner.lock();
        (inner.shortcut, inner.accelerator.clone())
    };
    if previous.is_some() && previous == wanted {
        return Ok(());
    }
    let shortcuts = app.global_shortcut();
    if let Some(previous) = previous {
        if let Err(error) = shortcuts.unregister(previous) {
            log::warn!("could not release the old quick-ask shortcut: {error}");
        }
    }
    let registered = match wanted {
        Some(shortcut) => shortcuts.register(shortcut).map_err(|error| classify(accelerator, error)),
        None => Ok(()),
    };
    let (now, now_accelerator, result) = match registered {
        Ok(()) => {
            log::info!("quick-ask shortcut: {}", if wanted.is_some() { accelerator } else { "none" });
            (wanted, accelerator.to_owned(), Ok(()))
        }
        Err(error) => {
            log::warn!("could not register the quick-ask shortcut {accelerator}: {error}");
            // Back to the one that worked (it was released above).
            let restored = previous.filter(|previous| shortcuts.register(*previous).is_ok());
            (restored, previous_accelerator, Err(error))
        }
    };
    {
        let mut inner = state.inner.lock();
        inner.shortcut = now;
        inner.accelerator = now_accelerator.clone();
        inner.error = result.clone().err();
    }
    tray::set_quick_ask_shortcut(app, now.map(|_| now_accelerator));
    result
}

/// At start: register the saved shortcut, off the main thread (registering waits for the
/// desktop). A refusal is logged and kept for Settings to show.
pub fn register_saved<R: Runtime>(app: &AppHandle<R>) {
    let accelerator = app.state::<SettingsStore>().get().quick_ask_shortcut;
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let _ = apply(&app, &accelerator); // logged, and kept for the status
    });
}

/// The registered accelerator, for the tray.
pub fn current<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    let state = app.try_state::<HotkeyState>()?;
    let inner = state.inner.lock();
    inner.shortcut.map(|_| inner.accelerator.clone())
}

/// For Settings → Desktop.
pub fn status<R: Runtime>(app: &AppHandle<R>) -> ShortcutStatus {
    let saved = app.state::<SettingsStore>().get().quick_ask_shortcut;
    let state = app.state::<HotkeyState>();
    let inner = state.inner.lock();
    let registered = inner.shortcut.is_some() && inner.accelerator == saved.trim();
    let error = inner.error.as_ref().filter(|error| error.shortcut == saved.trim());
    ShortcutStatus {
        shortcut: saved,
        registered,
        problem: error.map(|e| e.problem),
        message: error.map(|e| e.message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_ctrl_or_cmd_shift_space() {
        let shortcut = parse(DEFAULT_SHORTCUT).unwrap().unwrap();
        assert_eq!(shortcut.key, Code::Space);
        let primary = if cfg!(target_os = "macos") { Modifiers::SUPER } else { Modifiers::CONTROL };
        assert_eq!(shortcut.mods, primary | Modifiers::SHIFT);
    }

    #[test]
    fn what_the_recorder_sends_is_read() {
        let shortcut = parse("Ctrl+Alt+KeyK").unwrap().unwrap();
        assert_eq!((shortcut.key, shortcut.mods), (Code::KeyK, Modifiers::CONTROL | Modifiers::ALT));
        assert_eq!(parse("Super+Digit1").unwrap().unwrap().key, Code::Digit1);
        assert_eq!(parse("F9").unwrap().unwrap().key, Code::F9);
    }

    #[test]
    fn shown_the_way_people_write_it() {
        assert_eq!(display(DEFAULT_SHORTCUT), "Ctrl+Shift+Space");
        assert_eq!(display("Ctrl+Alt+KeyK"), "Ctrl+Alt+K");
        assert_eq!(display("Super+Digit1"), "Super+1");
        assert_eq!(display("F9"), "F9");
    }

    #[test]
    fn empty_means_no_shortcut() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("  ").unwrap(), None);
    }

    #[test]
    fn nonsense_and_typing_keys_are_refused_as_invalid() {
        for accelerator in ["Ctrl+Shift", "Ctrl+NoSuchKey", "Ctrl+K+J", "K", "Shift+K", "Shift+Space"] {
            let error = parse(accelerator).unwrap_err();
            assert_eq!(error.problem, ShortcutProblem::Invalid, "{accelerator}: {error}");
            assert_eq!(error.shortcut, accelerator);
        }
    }

    #[test]
    fn a_refusal_reaches_the_ui_with_its_problem() {
        let error = parse("Shift+K").unwrap_err();
        let shown = serde_json::to_value(CommandError::from(error)).unwrap();
        assert_eq!(shown["kind"], "shortcut");
        assert_eq!(shown["problem"], "invalid");
        assert_eq!(shown["shortcut"], "Shift+K");
    }
}
