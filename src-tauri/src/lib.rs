//! Sage Desktop's shell. This file is the table of contents: plugins, managed state, start-up,
//! commands and the exit hook. Each concern lives in its own module.
pub mod commands;
pub mod logging;
pub mod paths;
pub mod quick;
pub mod settings;
pub mod sidecar;
pub mod signals;
pub mod tray;
pub mod updater;
pub mod window;

use tauri::{AppHandle, Manager, RunEvent, Runtime};

use paths::DataLayout;
use settings::SettingsStore;
use sidecar::SidecarState;

pub fn run() {
    let layout = match DataLayout::from_env() {
        Ok(layout) => layout,
        Err(error) => {
            eprintln!("Sage cannot start: {error}");
            std::process::exit(78);
        }
    };

    tauri::Builder::default()
        // First, so a second launch hands over before anything else starts (needs a D-Bus
        // session bus on Linux; without one a second instance starts normally).
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::show_main(app);
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(logging::plugin(&layout))
        .plugin(tauri_plugin_shell::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .manage(SidecarState::new(layout))
        .invoke_handler(tauri::generate_handler![
            commands::restart_sidecar,
            commands::update_status,
            commands::check_for_updates,
            commands::install_update,
            commands::restart_app,
            // Desktop integration: each command lives with its concern.
            settings::get_shell_settings,
            settings::set_shell_settings,
            tray::set_tray_labels,
            quick::hide_quick_ask,
            quick::open_in_main,
            window::app_has_focus,
        ])
        .on_window_event(window::on_window_event)
        .setup(|app| {
            signals::exit_on_termination(app.handle().clone());
            app.manage(SettingsStore::for_app(app.handle()));
            if let Err(error) = tray::create(app.handle()) {
                // Without a tray, closing the window quits (see window::on_window_event).
                log::error!("no tray icon: {error}");
            }
            updater::init(app.handle());
            tauri::async_runtime::spawn(start(app.handle().clone()));
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while building the Sage application")
        .run(|app, event| {
            if let RunEvent::Exit = event {
                app.state::<SidecarState>().stop();
            }
        });
}

/// Start the sidecar, open the window with its connection (or the startup error) injected, then
/// look for an update.
async fn start<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<SidecarState>();
    let startup = state.restart(&app).await;
    let script = window::init_script(&startup, &app.package_info().version.to_string());
    if let Err(error) = window::open_main(&app, &script) {
        log::error!("could not open the main window: {error}");
        app.exit(1);
        return;
    }
    updater::check_after_launch(&app);
}
