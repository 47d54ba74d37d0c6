//! The shell <-> sidecar contract, defined once on the Rust side. The Python twin is
//! `src-python/sage_sidecar/core/contract.py`; `docs/architecture.md` documents both.
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub const ENV_API_KEY: &str = "SAGE_API_KEY";
pub const ENV_DATA_DIR: &str = "SAGE_DATA_DIR";
pub const ENV_PARENT_PID: &str = "SAGE_PARENT_PID";
/// Where the launcher finds the frozen onedir sidecar (see `launcher/sidecar_launcher.rs`).
pub const ENV_SIDECAR_HOME: &str = "SAGE_SIDECAR_HOME";
/// Dev override: run `<python> -m sage_sidecar` from the project venv instead of the frozen build.
pub const ENV_SIDECAR_PYTHON: &str = "SAGE_SIDECAR_PYTHON";

pub const READY_PREFIX: &str = "SAGE_SIDECAR_READY";
/// The line a sidecar prints instead of READY when it refuses to start for a reason the user must
/// read (its database was written by a newer Sage, an upgrade failed); it then exits.
pub const FAILED_PREFIX: &str = "SAGE_SIDECAR_FAILED";

/// What the sidecar announces once it accepts connections.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ReadyInfo {
    pub port: u16,
    pub pid: u32,
    pub version: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HandshakeError {
    #[error("malformed READY line: {0}")]
    Malformed(String),
    #[error("READY line announced port 0")]
    PortZero,
}

/// `Ok(None)` for any line that is not a READY line (ordinary output to forward to the log);
/// an error for a line that claims to be READY but cannot be trusted.
pub fn parse_ready_line(line: &str) -> Result<Option<ReadyInfo>, HandshakeError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let Some(rest) = line.strip_prefix(READY_PREFIX) else {
        return Ok(None);
    };
    let Some(json) = rest.strip_prefix(' ') else {
        return Err(HandshakeError::Malformed(line.chars().take(200).collect()));
    };
    let info: ReadyInfo = serde_json::from_str(json)
        .map_err(|error| HandshakeError::Malformed(format!("{error}: {}", truncate(json))))?;
    if info.port == 0 {
        return Err(HandshakeError::PortZero);
    }
    Ok(Some(info))
}

/// A coded refusal to start: `code` and `params` for the UI's translation (`errors.<code>`),
/// `detail` in English.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub detail: String,
    #[serde(default)]
    pub params: serde_json::Value,
}

/// The refusal on a FAILED line; `None` for any other line (a FAILED line that cannot be read is
/// only logged, and the exit is reported as any other).
pub fn parse_failed_line(line: &str) -> Option<Refusal> {
    let json = line.trim_end_matches(['\r', '\n']).strip_prefix(FAILED_PREFIX)?.strip_prefix(' ')?;
    serde_json::from_str(json).ok()
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

/// What the UI needs to reach the sidecar: the `get_connection` command's answer and the
/// `sage://sidecar-changed` event's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SageConfig {
    pub api_base: String,
    pub ws_base: String,
    pub api_key: String,
    pub version: String,
}

impl SageConfig {
    pub fn new(ready: &ReadyInfo, api_key: &str) -> Self {
        Self {
            api_base: format!("http://127.0.0.1:{}", ready.port),
            ws_base: format!("ws://127.0.0.1:{}", ready.port),
            api_key: api_key.to_owned(),
            version: ready.version.clone(),
        }
    }
}

/// Why the sidecar could not be started, so the UI shows a readable error naming the log file
/// rather than a blank window (`get_connection` fails with it; `sage://sidecar-failed` carries it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartupError {
    pub message: String,
    pub log_path: String,
    // Set when the sidecar refused with a coded reason (its FAILED line): the UI shows the
    // translation of `errors.<code>` with `params`, and `message` when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "Record<string, unknown>")]
    pub params: Option<serde_json::Value>,
}

impl StartupError {
    pub fn new(message: String, log_path: String) -> Self {
        Self { message, log_path, code: None, params: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_good_ready_line() {
        let line = r#"SAGE_SIDECAR_READY {"port":53127,"pid":4242,"version":"0.1.0"}"#;
        let info = parse_ready_line(line).unwrap().unwrap();
        assert_eq!(info, ReadyInfo { port: 53127, pid: 4242, version: "0.1.0".into() });
    }

    #[test]
    fn tolerates_crlf_and_extra_fields() {
        let line = "SAGE_SIDECAR_READY {\"port\":1,\"pid\":2,\"version\":\"x\",\"extra\":true}\r\n";
        assert_eq!(parse_ready_line(line).unwrap().unwrap().port, 1);
    }

    #[test]
    fn other_output_is_not_a_handshake() {
        assert_eq!(parse_ready_line("INFO: Started server process").unwrap(), None);
        assert_eq!(parse_ready_line("").unwrap(), None);
    }

    #[test]
    fn garbage_after_the_prefix_is_an_error() {
        for line in [
            "SAGE_SIDECAR_READY not-json",
            "SAGE_SIDECAR_READY {\"port\":\"x\",\"pid\":1,\"version\":\"v\"}",
            "SAGE_SIDECAR_READY {\"port\":70000,\"pid\":1,\"version\":\"v\"}",
            "SAGE_SIDECAR_READY {\"pid\":1,\"version\":\"v\"}",
            "SAGE_SIDECAR_READY{\"port\":1,\"pid\":1,\"version\":\"v\"}",
        ] {
            assert!(matches!(parse_ready_line(line), Err(HandshakeError::Malformed(_))), "{line}");
        }
    }

    #[test]
    fn port_zero_is_refused() {
        let line = r#"SAGE_SIDECAR_READY {"port":0,"pid":1,"version":"v"}"#;
        assert_eq!(parse_ready_line(line), Err(HandshakeError::PortZero));
    }

    #[test]
    fn a_failed_line_carries_a_coded_refusal() {
        let line =
            r#"SAGE_SIDECAR_FAILED {"code":"storage.newer_database","detail":"newer","params":{"revision":"0012"}}"#;
        let refusal = parse_failed_line(line).unwrap();
        assert_eq!(refusal.code, "storage.newer_database");
        assert_eq!(refusal.detail, "newer");
        assert_eq!(refusal.params, serde_json::json!({"revision": "0012"}));
        assert_eq!(parse_failed_line("SAGE_SIDECAR_FAILED not-json"), None);
        assert_eq!(parse_failed_line(r#"SAGE_SIDECAR_READY {"port":1,"pid":1,"version":"v"}"#), None);
    }

    #[test]
    fn a_startup_error_sends_its_code_only_when_it_has_one() {
        let plain = StartupError::new("exited".into(), "/l".into());
        assert_eq!(serde_json::to_value(&plain).unwrap(), serde_json::json!({"message": "exited", "logPath": "/l"}));
        let coded = StartupError {
            code: Some("storage.newer_database".into()),
            params: Some(serde_json::json!({"revision": "0012"})),
            ..plain
        };
        assert_eq!(
            serde_json::to_value(&coded).unwrap(),
            serde_json::json!({"message": "exited", "logPath": "/l", "code": "storage.newer_database",
                               "params": {"revision": "0012"}})
        );
    }

    #[test]
    fn the_connection_uses_loopback_and_camel_case() {
        let ready = ReadyInfo { port: 4000, pid: 1, version: "0.1.0".into() };
        let json = serde_json::to_value(SageConfig::new(&ready, "k")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"apiBase": "http://127.0.0.1:4000", "wsBase": "ws://127.0.0.1:4000",
                               "apiKey": "k", "version": "0.1.0"})
        );
    }
}
