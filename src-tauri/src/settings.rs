//! Settings the shell itself applies, kept in `shell-settings.json` in the app config dir (beside
//! the window state). The UI's own preferences (theme, language, notification kinds) live in its
//! localStorage; these are here because the shell needs them when no page is listening, e.g. when
//! the main window is being closed.
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use ts_rs::TS;

pub const FILE_NAME: &str = "shell-settings.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct ShellSettings {
    /// Closing the main window hides it to the tray instead of quitting.
    pub close_to_tray: bool,
    /// The global shortcut that opens quick ask (an accelerator such as
    /// "CommandOrControl+Shift+Space"; empty for none). See `hotkey.rs`.
    pub quick_ask_shortcut: String,
}

impl Default for ShellSettings {
    fn default() -> Self {
        Self { close_to_tray: true, quick_ask_shortcut: crate::hotkey::DEFAULT_SHORTCUT.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the app has no config directory, so settings cannot be saved")]
    NoConfigDir,
    #[error("could not save the settings to {path}: {source}")]
    Save { path: PathBuf, source: std::io::Error },
}

/// The settings in memory and the file they persist to (`None` when the platform gave no config
/// dir: the defaults apply and saving is an error).
pub struct SettingsStore {
    path: Option<PathBuf>,
    current: Mutex<ShellSettings>,
}

impl SettingsStore {
    /// Read the file; a missing file means defaults, and so does an unreadable one (logged): a
    /// broken settings file must not stop the app from starting.
    pub fn load(path: Option<PathBuf>) -> Self {
        let current = path.as_deref().map(read).unwrap_or_default();
        Self { path, current: Mutex::new(current) }
    }

    /// From the app's config dir (`$XDG_CONFIG_HOME/app.sage.desktop` on Linux).
    pub fn for_app<R: Runtime>(app: &AppHandle<R>) -> Self {
        let dir = app.path().app_config_dir();
        if let Err(error) = &dir {
            log::warn!("no app config dir ({error}); shell settings stay at their defaults");
        }
        Self::load(dir.ok().map(|dir| dir.join(FILE_NAME)))
    }

    pub fn get(&self) -> ShellSettings {
        self.current.lock().clone()
    }

    /// Save first, then adopt: what the app does always matches what the next launch reads.
    pub fn set(&self, next: ShellSettings) -> Result<ShellSettings, SettingsError> {
        let path = self.path.as_deref().ok_or(SettingsError::NoConfigDir)?;
        write(path, &next).map_err(|source| SettingsError::Save { path: path.to_owned(), source })?;
        *self.current.lock() = next.clone();
        Ok(next)
    }
}

fn read(path: &Path) -> ShellSettings {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            log::warn!("ignoring unreadable {}: {error}", path.display());
            ShellSettings::default()
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => ShellSettings::default(),
        Err(error) => {
            log::warn!("could not read {}: {error}", path.display());
            ShellSettings::default()
        }
    }
}

/// Written to a temporary file and renamed over the old one, so a crash mid-write cannot leave
/// half a file behind.
fn write(path: &Path, settings: &ShellSettings) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, json)?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_there_is_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::load(Some(dir.path().join(FILE_NAME)));
        assert_eq!(
            store.get(),
            ShellSettings { close_to_tray: true, quick_ask_shortcut: "CommandOrControl+Shift+Space".into() }
        );
    }

    #[test]
    fn saved_settings_are_read_back_by_the_next_launch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/config").join(FILE_NAME);
        let store = SettingsStore::load(Some(path.clone()));
        let wanted = ShellSettings { close_to_tray: false, quick_ask_shortcut: "Ctrl+Alt+KeyK".into() };
        store.set(wanted.clone()).unwrap();
        assert_eq!(store.get(), wanted);
        assert_eq!(SettingsStore::load(Some(path.clone())).get(), wanted);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            "{\n  \"closeToTray\": false,\n  \"quickAskShortcut\": \"Ctrl+Alt+KeyK\"\n}"
        );
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn a_corrupt_file_means_defaults_not_a_failed_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(SettingsStore::load(Some(path)).get(), ShellSettings::default());
    }

    #[test]
    fn unknown_and_missing_fields_are_tolerated() {
        // Files from newer or older versions: keep what we know, default the rest.
        let parsed: ShellSettings = serde_json::from_str(r#"{"somethingNew": 1}"#).unwrap();
        assert_eq!(parsed, ShellSettings::default());
    }

    #[test]
    fn a_failed_save_keeps_the_old_settings() {
        let dir = tempfile::tempdir().unwrap();
        // The "directory" is a file: creating the settings file inside it fails.
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"").unwrap();
        let store = SettingsStore::load(Some(blocker.join(FILE_NAME)));
        let error = store.set(ShellSettings { close_to_tray: false, ..ShellSettings::default() }).unwrap_err();
        assert!(matches!(error, SettingsError::Save { .. }), "{error}");
        assert!(store.get().close_to_tray);
        let shown = serde_json::to_value(crate::error::CommandError::from(error)).unwrap();
        assert_eq!(shown["kind"], "settings");
        assert!(shown["message"].as_str().unwrap().starts_with("could not save"), "{shown}");
    }

    #[test]
    fn a_file_from_before_the_shortcut_gets_the_default_shortcut() {
        let parsed: ShellSettings = serde_json::from_str(r#"{"closeToTray": false}"#).unwrap();
        assert!(!parsed.close_to_tray);
        assert_eq!(parsed.quick_ask_shortcut, crate::hotkey::DEFAULT_SHORTCUT);
    }

    #[test]
    fn without_a_config_dir_saving_is_an_error() {
        let store = SettingsStore::load(None);
        assert!(matches!(store.set(ShellSettings::default()), Err(SettingsError::NoConfigDir)));
    }
}
