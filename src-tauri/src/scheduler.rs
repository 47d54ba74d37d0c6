//! The tray's "Pause/Resume scheduled tasks". The shell asks the sidecar itself (it holds the
//! port and key), so the item works with every window hidden:
//!
//! - `GET /api/tasks/scheduler` → `{"paused": bool}` whenever a sidecar becomes ready (the label
//!   then says what a click will do);
//! - `PUT /api/tasks/scheduler` `{"paused": bool}` on a click; the answer relabels the item;
//! - a change made elsewhere (the Tasks screen) reaches the main window as `task.scheduler_changed`
//!   on `/ws/events`; the UI passes it on with `scheduler_changed`, which only relabels.
//!
//! Until the state is known (the sidecar is starting, or it answered with an error) the item is
//! shown disabled.
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};

use crate::sidecar::{Connection, SageConfig, SidecarState};
use crate::tray;

const PATH: &str = "/api/tasks/scheduler";
const TIMEOUT: Duration = Duration::from_secs(5);

/// The body of both requests and of both answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerState {
    pub paused: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("the sidecar is not running")]
    NotRunning,
    #[error("the scheduler request failed: {0}")]
    Request(String),
    #[error("the sidecar answered the scheduler request with HTTP {0}")]
    Status(u16),
    #[error("the sidecar's scheduler answer is not {{\"paused\": bool}}: {0}")]
    Body(String),
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(TIMEOUT)).build().into()
}

fn read_answer(mut response: ureq::http::Response<ureq::Body>) -> Result<SchedulerState, SchedulerError> {
    let status = response.status().as_u16();
    if status != 200 {
        return Err(SchedulerError::Status(status));
    }
    let text = response.body_mut().read_to_string().map_err(|e| SchedulerError::Request(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| SchedulerError::Body(e.to_string()))
}

/// Whether scheduled tasks are paused now (blocking; call off the event loop).
pub fn fetch(config: &SageConfig) -> Result<SchedulerState, SchedulerError> {
    let response = agent()
        .get(format!("{}{PATH}", config.api_base))
        .header("Authorization", format!("Bearer {}", config.api_key))
        .call()
        .map_err(|e| SchedulerError::Request(e.to_string()))?;
    read_answer(response)
}

/// Pause or resume scheduled tasks; the answer is the state the sidecar now has (blocking).
pub fn put(config: &SageConfig, wanted: SchedulerState) -> Result<SchedulerState, SchedulerError> {
    let body = serde_json::to_string(&wanted).map_err(|e| SchedulerError::Body(e.to_string()))?;
    let response = agent()
        .put(format!("{}{PATH}", config.api_base))
        .header("Authorization", format!("Bearer {}", config.api_key))
        .header("Content-Type", "application/json")
        .send(body)
        .map_err(|e| SchedulerError::Request(e.to_string()))?;
    read_answer(response)
}

fn running_config<R: Runtime>(app: &AppHandle<R>) -> Result<SageConfig, SchedulerError> {
    match app.state::<SidecarState>().connection() {
        Connection::Ready(config) => Ok(config),
        Connection::Starting | Connection::Failed(_) => Err(SchedulerError::NotRunning),
    }
}

/// Ask the running sidecar and relabel the tray (unknown, so disabled, if it cannot say).
pub async fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let state = match running_config(app) {
        Ok(config) => tauri::async_runtime::spawn_blocking(move || fetch(&config))
            .await
            .unwrap_or_else(|e| Err(SchedulerError::Request(e.to_string()))),
        Err(error) => Err(error),
    };
    let paused = match state {
        Ok(state) => Some(state.paused),
        Err(error) => {
            log::info!("scheduled tasks: state unknown ({error})");
            None
        }
    };
    tray::set_tasks_paused(app, paused);
}

/// The tray's click: flip the state the tray shows, then show what the sidecar answered.
pub async fn toggle<R: Runtime>(app: &AppHandle<R>) {
    let Some(paused) = tray::tasks_paused(app) else {
        refresh(app).await; // unknown: the item is disabled, but look again
        return;
    };
    let result = match running_config(app) {
        Ok(config) => tauri::async_runtime::spawn_blocking(move || put(&config, SchedulerState { paused: !paused }))
            .await
            .unwrap_or_else(|e| Err(SchedulerError::Request(e.to_string()))),
        Err(error) => Err(error),
    };
    match result {
        Ok(state) => {
            log::info!("scheduled tasks {}", if state.paused { "paused" } else { "resumed" });
            tray::set_tasks_paused(app, Some(state.paused));
        }
        Err(error) => {
            log::warn!("could not {} scheduled tasks: {error}", if paused { "resume" } else { "pause" });
            refresh(app).await;
        }
    }
}

/// Follow the sidecar: every time one becomes ready (first start, restart, recovery), read its
/// state; while none runs, the item is disabled.
pub fn follow<R: Runtime>(app: AppHandle<R>) {
    let mut connection = app.state::<SidecarState>().watch_connection();
    tauri::async_runtime::spawn(async move {
        loop {
            let ready = matches!(*connection.borrow_and_update(), Connection::Ready(_));
            if ready {
                refresh(&app).await;
            } else {
                tray::set_tasks_paused(&app, None);
            }
            if connection.changed().await.is_err() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use super::*;

    /// One request seen by the fake sidecar.
    #[derive(Debug)]
    struct Seen {
        request_line: String,
        authorization: Option<String>,
        body: String,
    }

    /// A loopback server that answers `answers` in turn (status, body) and reports each request.
    fn fake_sidecar(answers: Vec<(u16, &'static str)>) -> (SageConfig, mpsc::Receiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for (status, answer) in answers {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let (mut authorization, mut length) = (None, 0usize);
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => authorization = Some(value.trim().to_owned()),
                        "content-length" => length = value.trim().parse().unwrap(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body = String::from_utf8(body).unwrap();
                sender.send(Seen { request_line: request_line.trim_end().to_owned(), authorization, body }).unwrap();
                let mut stream = stream;
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .unwrap();
            }
        });
        let config = SageConfig {
            api_base: format!("http://127.0.0.1:{port}"),
            ws_base: format!("ws://127.0.0.1:{port}"),
            api_key: "test-key".into(),
            version: "0".into(),
        };
        (config, seen)
    }

    #[test]
    fn reads_the_state_with_the_key() {
        let (config, seen) = fake_sidecar(vec![(200, r#"{"paused": true}"#)]);
        assert_eq!(fetch(&config).unwrap(), SchedulerState { paused: true });
        let request = seen.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(request.request_line, "GET /api/tasks/scheduler HTTP/1.1");
        assert_eq!(request.authorization.as_deref(), Some("Bearer test-key"));
    }

    #[test]
    fn pausing_sends_the_wanted_state_and_adopts_the_answer() {
        let (config, seen) = fake_sidecar(vec![(200, r#"{"paused": false}"#)]);
        // The sidecar has the last word: its answer, not the request, is the state.
        assert_eq!(put(&config, SchedulerState { paused: true }).unwrap(), SchedulerState { paused: false });
        let request = seen.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(request.request_line, "PUT /api/tasks/scheduler HTTP/1.1");
        assert_eq!(request.authorization.as_deref(), Some("Bearer test-key"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&request.body).unwrap(),
            serde_json::json!({"paused": true})
        );
    }

    #[test]
    fn a_sidecar_without_the_route_or_with_another_body_is_an_error() {
        let (config, _seen) = fake_sidecar(vec![(404, r#"{"detail": "Not Found"}"#), (200, r#"{"state": 1}"#)]);
        assert!(matches!(fetch(&config), Err(SchedulerError::Status(404))));
        assert!(matches!(fetch(&config), Err(SchedulerError::Body(_))));
    }

    #[test]
    fn no_sidecar_is_a_request_error_not_a_hang() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener); // nothing listens there now
        let config = SageConfig {
            api_base: format!("http://127.0.0.1:{port}"),
            ws_base: String::new(),
            api_key: "k".into(),
            version: "0".into(),
        };
        assert!(matches!(fetch(&config), Err(SchedulerError::Request(_))));
    }
}
