fn main() {
    // Declaring the app's commands makes each one need an explicit permission in capabilities/.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "get_connection",
        "restart_sidecar",
        "start_fresh",
        "update_status",
        "check_for_updates",
        "install_update",
        "restart_app",
        "get_shell_settings",
        "set_shell_settings",
        "set_tray_labels",
        "hide_quick_ask",
        "open_in_main",
        "app_has_focus",
        "scheduler_changed",
        "get_start_at_login",
        "set_start_at_login",
        "quick_ask_shortcut_status",
    ])))
    .expect("failed to run tauri-build");
}
