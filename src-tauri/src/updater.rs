//! Auto-update through tauri-plugin-updater. The shell checks the release feed on launch (in the
//! background: start-up never waits for the network) and whenever asked (UI, tray); a newer,
//! correctly signed version is downloaded with progress, installed, and a restart is offered.
//! The plugin verifies the minisign signature against the public key compiled in from
//! `tauri.conf.json` and refuses anything else. The UI follows [`STATUS_EVENT`].
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Listener, Manager, Runtime, Url};
use tauri_plugin_updater::{Error as PluginError, Update, UpdaterExt};
use ts_rs::TS;

use crate::sidecar::SidecarState;

/// Every status change, payload [`UpdateStatus`].
pub const STATUS_EVENT: &str = "sage://update-status";
/// Emitted by the tray's "Check for updates" item.
pub const CHECK_REQUEST_EVENT: &str = "sage://check-updates";
/// Replaces the configured endpoint (tests serve a feed on loopback). Safe to honour: whatever
/// the feed offers must still carry a signature made with our private key, and release builds
/// refuse plain-HTTP feeds unless the build itself allows them.
pub const ENV_ENDPOINT: &str = "SAGE_UPDATE_ENDPOINT";
/// `off` skips the check on launch (tests that must not touch the network).
pub const ENV_CHECK_ON_LAUNCH: &str = "SAGE_UPDATE_CHECK";
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "state", rename_all = "kebab-case", rename_all_fields = "camelCase")]
pub enum UpdateStatus {
    Idle,
    Checking,
    UpToDate {
        current: String,
    },
    Available {
        current: String,
        version: String,
        notes: Option<String>,
    },
    /// Byte counts are far below 2^53: plain numbers in TypeScript.
    Downloading {
        version: String,
        #[ts(type = "number")]
        downloaded: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// Installed on disk; the running process is still the old version until it restarts.
    Installed {
        version: String,
    },
    Failed {
        message: String,
    },
}

/// The last status (so a UI that loads late still sees it) and the update waiting to install.
pub struct UpdaterState {
    status: Mutex<UpdateStatus>,
    pending: Mutex<Option<Update>>,
}

impl Default for UpdaterState {
    fn default() -> Self {
        Self { status: Mutex::new(UpdateStatus::Idle), pending: Mutex::new(None) }
    }
}

impl UpdaterState {
    pub fn status(&self) -> UpdateStatus {
        self.status.lock().clone()
    }

    fn is_busy(&self) -> bool {
        matches!(self.status(), UpdateStatus::Checking | UpdateStatus::Downloading { .. })
    }
}

/// Wire the updater: its state, and checks asked for by the tray.
pub fn init<R: Runtime>(app: &AppHandle<R>) {
    app.manage(UpdaterState::default());
    let handle = app.clone();
    app.listen_any(CHECK_REQUEST_EVENT, move |_| {
        let handle = handle.clone();
        tauri::async_runtime::spawn(async move { check(&handle).await });
    });
}

/// The launch check, started once the sidecar's first start has finished so it never competes
/// with start-up; `SAGE_UPDATE_CHECK=off` skips it.
pub fn check_after_launch<R: Runtime>(app: &AppHandle<R>) {
    if std::env::var(ENV_CHECK_ON_LAUNCH).is_ok_and(|value| value == "off") {
        log::info!("update check on launch is off ({ENV_CHECK_ON_LAUNCH}=off)");
        return;
    }
    let handle = app.clone();
    tauri::async_runtime::spawn(async move { check(&handle).await });
}

fn set_status<R: Runtime>(app: &AppHandle<R>, status: UpdateStatus) {
    *app.state::<UpdaterState>().status.lock() = status.clone();
    if let Err(error) = app.emit(STATUS_EVENT, &status) {
        log::warn!("could not emit the update status: {error}");
    }
}

/// Ask the feed for a newer version; the outcome is the new status.
pub async fn check<R: Runtime>(app: &AppHandle<R>) -> UpdateStatus {
    let state = app.state::<UpdaterState>();
    if state.is_busy() {
        return state.status();
    }
    set_status(app, UpdateStatus::Checking);
    let current = app.package_info().version.to_string();
    let status = match find_update(app).await {
        Ok(Some(update)) => {
            log::info!("update {} is available (running {current})", update.version);
            let status =
                UpdateStatus::Available { current, version: update.version.clone(), notes: update.body.clone() };
            *state.pending.lock() = Some(update);
            status
        }
        Ok(None) => UpdateStatus::UpToDate { current },
        Err(error) => {
            log::warn!("update check failed: {error}");
            UpdateStatus::Failed { message: describe(&error) }
        }
    };
    set_status(app, status.clone());
    status
}

async fn find_update<R: Runtime>(app: &AppHandle<R>) -> Result<Option<Update>, PluginError> {
    // Windows only (the plugin ignores it elsewhere): the installer starts as the app exits, so
    // stop the sidecar first. Killing the launcher ends the whole sidecar tree through its Job
    // object (launcher/sidecar_launcher.rs), so no file the installer replaces is still in use.
    let handle = app.clone();
    let mut builder =
        app.updater_builder().timeout(CHECK_TIMEOUT).on_before_exit(move || handle.state::<SidecarState>().stop());
    if let Some(endpoint) = std::env::var(ENV_ENDPOINT).ok().filter(|value| !value.is_empty()) {
        builder = builder.endpoints(vec![Url::parse(&endpoint)?])?;
    }
    builder.build()?.check().await
}

/// Download, verify and install the update found by the last check.
pub async fn install<R: Runtime>(app: &AppHandle<R>) -> Result<UpdateStatus, String> {
    let state = app.state::<UpdaterState>();
    let Some(update) = state.pending.lock().clone() else {
        return Err("There is no update to install: check for updates first.".into());
    };
    if state.is_busy() {
        return Err("An update check or download is already running.".into());
    }
    let version = update.version.clone();
    let mut downloaded = 0u64;
    let mut last_emit = Instant::now() - PROGRESS_INTERVAL;
    set_status(app, UpdateStatus::Downloading { version: version.clone(), downloaded, total: None });
    let result = update
        .download_and_install(
            |chunk, total| {
                downloaded += chunk as u64;
                // Chunks arrive every few KB: tell the UI at most ten times a second.
                if last_emit.elapsed() >= PROGRESS_INTERVAL || total == Some(downloaded) {
                    last_emit = Instant::now();
                    set_status(app, UpdateStatus::Downloading { version: version.clone(), downloaded, total });
                }
            },
            || log::info!("update {version} downloaded; installing"),
        )
        .await;
    let status = match result {
        Ok(()) => {
            log::info!("update {version} installed");
            state.pending.lock().take();
            UpdateStatus::Installed { version }
        }
        Err(error) => {
            log::warn!("update {version} was not installed: {error}");
            UpdateStatus::Failed { message: describe(&error) }
        }
    };
    set_status(app, status.clone());
    match status {
        UpdateStatus::Failed { message } => Err(message),
        status => Ok(status),
    }
}

/// A sentence for the UI; the log keeps the full error.
fn describe(error: &PluginError) -> String {
    match error {
        PluginError::Minisign(_) | PluginError::SignatureUtf8(_) | PluginError::Base64(_) => {
            "The update's signature is not valid, so it was not installed.".into()
        }
        PluginError::Reqwest(_) | PluginError::Network(_) => {
            format!("Could not reach the update server: {error}")
        }
        PluginError::TargetsNotFound(targets) => {
            format!("The update server has no build for this system ({}).", targets.join(", "))
        }
        PluginError::EmptyEndpoints => {
            "This build has no update feed: only release builds are configured with one.".into()
        }
        PluginError::InvalidUpdaterFormat => "The downloaded update is not a package this system can install.".into(),
        PluginError::PackageInstallFailed | PluginError::DebInstallFailed => {
            "The package manager could not install the update.".into()
        }
        other => format!("The update failed: {other}"),
    }
}
