//! The sidecar: the frozen FastAPI process that is Sage's agent platform.
//!
//! `contract` is the wire-level agreement (env names, READY line, the connection the UI gets),
//! `key` the per-launch secret, `launch` how the process is started (frozen or dev venv),
//! `process` the spawn/handshake/stop lifecycle of one process, `ownership` how the shell owns
//! the sidecar's whole process tree on each OS, `policy` when to restart,
//! `health` how to tell a hung one, `state` the app-managed handle (current process, generation,
//! connection) and `supervisor` the one that starts, watches and restarts.
pub mod contract;
pub mod health;
pub mod key;
pub mod launch;
pub mod ownership;
pub mod policy;
pub mod process;
pub mod state;
pub mod supervisor;

pub use contract::{ReadyInfo, SageConfig, StartupError};
pub use key::ApiKey;
pub use launch::Launch;
pub use process::{SidecarError, SidecarProcess};
pub use state::{Connection, SidecarState};
