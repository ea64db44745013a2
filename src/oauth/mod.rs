//! OAuth2 sign-in for Microsoft 365, Gmail and custom providers: the PKCE
//! flow in the system browser with a loopback redirect, tokens in the OS
//! secret store, refresh and revocation. Knows nothing of egui.

pub mod assertion;
pub mod device;
pub mod diagnose;
pub mod flow;
pub mod http;
pub mod listener;
pub mod provider;
pub mod refresh_lock;
pub mod tokens;

use std::time::Duration;

pub use flow::{ConnectError, ConnectFlow, Connected};
pub use tokens::{ConnectionState, TokenError, TokenStatus};

use crate::model::{Config, MailSetting};
use crate::probe::ProbeOptions;
use crate::secret::Secret;
use crate::store::Secrets;

/// The bearer token a probe of `setting` signs in with: `None` for Basic
/// settings; for OAuth settings a fresh token, or the reason there is none
/// (which the probe reports as its sign-in failure).
pub fn bearer_for_probe(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    options: &ProbeOptions,
) -> Option<Result<Secret, String>> {
    if !setting.uses_oauth() {
        return None;
    }
    let provider = match provider::resolve(setting, config) {
        Ok(provider) => provider::with_stored_client_secret(provider, secrets),
        Err(err) => return Some(Err(err.to_string())),
    };
    let timeout = options.connect_timeout.max(Duration::from_secs(10));
    if setting.oauth_flow == crate::model::OAuthFlow::App {
        let provider = provider::with_stored_app_certificate(provider, secrets);
        return Some(tokens::app_access_token(&provider, options.tls.clone(), timeout).map_err(|err| err.to_string()));
    }
    Some(
        tokens::fresh_access_token(secrets, &setting.id, &provider, options.tls.clone(), timeout)
            .map_err(|err| err.to_string()),
    )
}
