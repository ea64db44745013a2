//! mailsettings: set up, test and migrate the mailboxes an accounts-receivable
//! automation sends and receives mail through.
//!
//! Parts, lowest first (ARCHITECTURE.md): `model` (data, validation, the
//! provider catalogue, the field vocabulary) · `store` (config file, secrets, the
//! workspace, audit) · `probe` (SMTP/IMAP sessions, reports, diagnosis) · `oauth`
//! (sign-in flows, tokens) · `mailapi` (Microsoft Graph and the Gmail API as a side's
//! road) · `checks` (the one way from a setting to a working
//! connection) · `readiness`, `health` (with `alerts` and `schedule`), `migration`, `send`, `bridge` · front ends `cli` and `ui`, picked
//! by `start`. No part imports one above it (tests/it/structure.rs); the core
//! knows nothing of egui and `ui` opens no socket.

pub mod alerts;
pub mod bridge;
pub mod cancel;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod diagnosis;
pub mod folders;
#[cfg(test)]
mod fuzz;
pub mod health;
pub mod logging;
pub mod mailapi;
pub mod migration;
pub mod model;
pub mod oauth;
pub mod printable;
pub mod readiness;
pub mod schedule;
pub mod secret;
pub mod send;
pub mod start;
pub mod store;
pub mod sysexits;
pub mod tls;
pub mod ui;

pub use secret::Secret;
pub mod probe;
