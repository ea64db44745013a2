//! Everything kept between runs: the config file (TOML, atomic writes, a
//! backup, a format version, a parse cache for large ones) and the secrets that
//! must never be in it (the OS credential store). Knows nothing of the UI or the
//! network. The check history (`history`) and what alerts last told (`told`) are kept
//! beside the audit log.

pub mod audit;
pub mod file;
pub mod history;
pub mod parse_cache;
pub mod secrets;
pub mod told;
pub mod workspace;

pub use file::{ConfigFile, FORMAT, StoreError, resolve_config_path};
pub use secrets::{SecretKind, SecretOwner, SecretStoreError, Secrets};
pub use workspace::{AppCertificate, PasswordChanges, SignInAppChange, Workspace, WorkspaceError};
