//! "Start Sage at login" on Linux: the autostart plugin writes an XDG autostart entry under
//! `$HOME/.config/autostart` and removes it again. HOME points at a temporary directory (this
//! file is its own test process, and this is its only test, so changing it is safe).
#![cfg(target_os = "linux")]

use tauri::test::{mock_builder, mock_context, noop_assets};

#[test]
fn the_setting_writes_and_removes_the_xdg_autostart_entry() {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    let app = mock_builder().plugin(sage_desktop_lib::autostart::plugin()).build(mock_context(noop_assets())).unwrap();
    let handle = app.handle();
    let autostart_dir = home.path().join(".config/autostart");
    let entries = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&autostart_dir).map(|dir| dir.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    };

    assert!(!sage_desktop_lib::autostart::is_enabled(handle).unwrap());
    assert!(entries().is_empty());

    assert!(sage_desktop_lib::autostart::set(handle, true).unwrap());
    let written = entries();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].extension().and_then(|e| e.to_str()), Some("desktop"));
    let entry = std::fs::read_to_string(&written[0]).unwrap();
    let exe = std::env::current_exe().unwrap();
    assert!(entry.contains("[Desktop Entry]"), "{entry}");
    assert!(entry.contains(&format!("Exec={}", exe.display())), "runs this binary: {entry}");
    assert!(sage_desktop_lib::autostart::is_enabled(handle).unwrap());

    // Turning it on twice is harmless; off removes the entry, and off again is no error.
    assert!(sage_desktop_lib::autostart::set(handle, true).unwrap());
    assert!(!sage_desktop_lib::autostart::set(handle, false).unwrap());
    assert!(entries().is_empty());
    assert!(!sage_desktop_lib::autostart::set(handle, false).unwrap());
}
