//! Sage Desktop's shell. This file is the table of contents: plugins, managed state, start-up,
//! commands and the exit hook. Each concern lives in its own module.
pub mod autostart;
pub mod commands;
pub mod data_lock;
pub mod error;
pub mod hotkey;
pub mod logging;
pub mod main_window;
pub mod paths;
pub mod quick;
pub mod scheduler;
pub mod settings;
#[cfg(test)]
mod shell_types;
pub mod sidecar;
pub mod signals;
pub mod tray;
pub mod updater;
pub mod window_events;

use tauri::{AppHandle, Manager, RunEvent, Runtime};

use data_lock::DataDirLock;
use paths::DataLayout;
use settings::SettingsStore;
use sidecar::{supervisor, SidecarState};

pub fn run() {
    let layout = match DataLayout::from_env() {
        Ok(layout) => layout,
        Err(error) => {
            eprintln!("Sage cannot start: {error}");
            std::process::exit(78);
        }
    };

    let context = tauri::generate_context!();
    let sidecar = SidecarState::new(layout.clone());
    // The first sidecar is spawned before the app is built, so GTK's and WebKit's start-up
    // (~0.3 s) overlaps the sidecar's — but only by the process that owns the data dir: a second
    // launch, which is about to hand over to the running app, must not start one on its data.
    let data_lock = DataDirLock::try_acquire(&layout);
    let early_start = data_lock.as_ref().map(|_| supervisor::begin(&sidecar, context.package_info()));

    tauri::Builder::default()
        // First, so a second launch hands over before anything else starts (needs a D-Bus
        // session bus on Linux; without one a second instance starts normally).
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| main_window::show(app)))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(logging::plugin(&layout))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(autostart::plugin())
        .plugin(hotkey::plugin())
        .manage(hotkey::HotkeyState::default())
        .manage(sidecar)
        .invoke_handler(tauri::generate_handler![
            commands::get_connection,
            commands::restart_sidecar,
            commands::start_fresh,
            commands::update_status,
            commands::check_for_updates,
            commands::install_update,
            commands::restart_app,
            commands::get_shell_settings,
            commands::set_shell_settings,
            commands::set_tray_labels,
            commands::hide_quick_ask,
            commands::open_in_main,
            commands::app_has_focus,
            commands::scheduler_changed,
            commands::get_start_at_login,
            commands::set_start_at_login,
            commands::quick_ask_shortcut_status,
        ])
        .on_window_event(window_events::on_window_event)
        .setup(move |app| {
            if let Some(lock) = data_lock {
                app.manage(lock); // held until the app exits
            }
            let first_start = match early_start {
                Some(start) => {
                    if let Some(pid) = start.pid() {
                        log::info!("sidecar spawned (pid {pid}) before the app was built");
                    }
                    start
                }
                // Another process holds the data dir and no hand-over happened (no D-Bus
                // session): start as before, now that the app is built.
                None => supervisor::begin(&app.state::<SidecarState>(), app.package_info()),
            };
            signals::exit_on_termination(app.handle().clone());
            app.manage(SettingsStore::for_app(app.handle()));
            hotkey::register_saved(app.handle());
            updater::init(app.handle());
            tauri::async_runtime::spawn(start_sidecar(app.handle().clone(), first_start));
            main_window::open(app.handle())?;
            if let Err(error) = tray::create(app.handle()) {
                // Without a tray, closing the window quits (see window_events).
                log::error!("no tray icon: {error}");
            }
            scheduler::follow(app.handle().clone());
            Ok(())
        })
        .build(context)
        .expect("error while building the Sage application")
        .run(|app, event| {
            if let RunEvent::Exit = event {
                app.state::<SidecarState>().stop();
            }
        });
}

/// Finish the sidecar's first start (every window hears the outcome), then look for an update.
async fn start_sidecar<R: Runtime>(app: AppHandle<R>, start: supervisor::Start) {
    // A failure is already logged, kept for `get_connection` and announced to the windows.
    let _ = supervisor::finish(&app, start).await;
    updater::check_after_launch(&app);
}
