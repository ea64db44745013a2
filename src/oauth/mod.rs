//! OAuth2 sign-in for the catalogue's providers (Microsoft 365, Gmail) and
//! custom ones, in three ways: a person in the system browser (authorization
//! code + PKCE, caught on a loopback redirect: `flow`, `listener`), a person on
//! another device (RFC 8628: `device`), or the organisation's app itself
//! (client credentials with a secret or a certificate assertion: `tokens`,
//! `assertion`). Tokens live in the OS secret store and are refreshed one at a
//! time (`refresh_lock`). Knows nothing of egui or of the probes; the one way
//! from a setting to its token is `checks::access_token`.

pub mod assertion;
pub mod device;
pub mod diagnose;
pub mod flow;
pub mod http;
pub mod listener;
pub mod provider;
pub mod refresh_lock;
pub mod tokens;

pub use flow::{ConnectError, ConnectFlow, Connected};
pub use tokens::{ConnectionState, TokenError, TokenStatus};
