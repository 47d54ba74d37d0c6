//! SIGTERM/SIGINT end the app the normal way (`RunEvent::Exit`), so the sidecar is stopped
//! rather than left to notice on its own.
use tauri::{AppHandle, Runtime};

#[cfg(unix)]
pub fn exit_on_termination<R: Runtime>(app: AppHandle<R>) {
    use tokio::signal::unix::{signal, SignalKind};
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            log::warn!("could not install signal handlers; the sidecar's parent watch still applies");
            return;
        };
        tokio::select! {
            _ = term.recv() => log::info!("SIGTERM: exiting"),
            _ = int.recv() => log::info!("SIGINT: exiting"),
        }
        app.exit(0);
    });
}

#[cfg(not(unix))]
pub fn exit_on_termination<R: Runtime>(_app: AppHandle<R>) {}
