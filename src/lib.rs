//! mailsettings: set up, test and migrate the mailboxes an accounts-receivable
//! automation sends and receives mail through.
//!
//! The core (`model`, `store`) knows nothing of egui; `ui` knows nothing of
//! sockets or files beyond what the core hands it. The CLI (`cli`) and the
//! window (`ui`) call the same core functions.

pub mod bridge;
pub mod cancel;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod diagnosis;
pub mod folders;
#[cfg(test)]
mod fuzz;
pub mod logging;
pub mod migration;
pub mod model;
pub mod oauth;
pub mod printable;
pub mod secret;
pub mod send;
pub mod start;
pub mod store;
pub mod tls;
pub mod ui;

pub use secret::Secret;
pub mod probe;
