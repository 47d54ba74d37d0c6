fn main() {
    // Declaring the app's commands makes each one need an explicit permission in capabilities/.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&[
                "restart_sidecar",
                "update_status",
                "check_for_updates",
                "install_update",
                "restart_app",
            ])),
    )
    .expect("failed to run tauri-build");
}
