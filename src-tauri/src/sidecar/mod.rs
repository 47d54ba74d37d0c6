//! The sidecar: the frozen FastAPI process that is Sage's agent platform.
//!
//! `contract` is the wire-level agreement (env names, READY line, injected config), `key` the
//! per-launch secret, `launch` how the process is started (frozen or dev venv), `process` the
//! spawn/handshake/kill lifecycle, `state` the app-managed handle the rest of the shell uses, and
//! `supervisor` the restart policy and health watch.
pub mod contract;
pub mod key;
pub mod launch;
pub mod process;
pub mod state;
pub mod supervisor;

pub use contract::{ReadyInfo, SageConfig};
pub use key::ApiKey;
pub use launch::Launch;
pub use process::{SidecarError, SidecarProcess};
pub use state::SidecarState;
