//! The one error type every command returns to the UI. It serializes as `{kind, message, …}`
//! (see `web/src/api/shell-types.ts`), so the UI shows `message` whatever went wrong and branches
//! on `kind` only where it must (a startup error carries the log to read).
use serde::Serialize;
use ts_rs::TS;

use crate::hotkey::ShortcutProblem;
use crate::settings::SettingsError;
use crate::sidecar::contract::StartupError;

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case", rename_all_fields = "camelCase")]
pub enum CommandError {
    /// The sidecar could not be started; the log names the reason.
    #[error("{message} (log: {log_path})")]
    Startup {
        message: String,
        log_path: String,
        // A coded refusal's code and params, for the UI's translation (see `StartupError`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(type = "Record<string, unknown>")]
        params: Option<serde_json::Value>,
    },
    /// Shell settings could not be saved.
    #[error("{message}")]
    Settings { message: String },
    /// An update could not be found, downloaded or installed.
    #[error("{message}")]
    Update { message: String },
    /// A global shortcut could not be used: `problem` says why (the UI words it), `shortcut`
    /// which one.
    #[error("{message}")]
    Shortcut { problem: ShortcutProblem, shortcut: String, message: String },
    /// Anything else the shell could not do (a window, the tray menu).
    #[error("{message}")]
    Shell { message: String },
}

impl From<StartupError> for CommandError {
    fn from(error: StartupError) -> Self {
        Self::Startup { message: error.message, log_path: error.log_path, code: error.code, params: error.params }
    }
}

impl From<SettingsError> for CommandError {
    fn from(error: SettingsError) -> Self {
        Self::Settings { message: error.to_string() }
    }
}

impl From<tauri::Error> for CommandError {
    fn from(error: tauri::Error) -> Self {
        Self::Shell { message: error.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_startup_error_keeps_its_log_path() {
        let error = CommandError::from(StartupError::new("exited".into(), "/d/logs/shell.log".into()));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"kind": "startup", "message": "exited", "logPath": "/d/logs/shell.log"})
        );
    }

    #[test]
    fn every_kind_has_a_message() {
        let error = CommandError::Update { message: "no signature".into() };
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"kind": "update", "message": "no signature"})
        );
        assert_eq!(error.to_string(), "no signature");
    }
}
