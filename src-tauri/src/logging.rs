//! Shell logging: stdout plus a rotating `shell.log` in the data dir's `logs/`, beside the
//! sidecar's own `sidecar.log`. The sidecar's stderr is forwarded here under target `sidecar`.
use tauri::plugin::TauriPlugin;
use tauri::Runtime;
use tauri_plugin_log::{RotationStrategy, Target, TargetKind};

use crate::paths::DataLayout;

const MAX_LOG_BYTES: u128 = 2_000_000;

pub fn plugin<R: Runtime>(layout: &DataLayout) -> TauriPlugin<R> {
    tauri_plugin_log::Builder::new()
        .clear_targets()
        .target(Target::new(TargetKind::Stdout))
        .target(Target::new(TargetKind::Folder { path: layout.logs_dir(), file_name: Some("shell".into()) }))
        .max_file_size(MAX_LOG_BYTES)
        .rotation_strategy(RotationStrategy::KeepSome(3))
        .level(log::LevelFilter::Info)
        .build()
}
