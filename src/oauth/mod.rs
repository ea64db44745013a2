//! OAuth2 sign-in for Microsoft 365, Gmail and custom providers: the PKCE
//! flow in the system browser with a loopback redirect, tokens in the OS
//! secret store, refresh and revocation. Knows nothing of egui.

use crate::model::MailSetting;
use crate::secret::Secret;
use crate::store::Workspace;

/// Why no token could be produced for a probe.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Store(#[from] crate::store::SecretStoreError),
}

/// A fresh access token for an OAuth setting, or `None` for Basic settings
/// and settings that are not connected (the probe then says "press Connect").
pub fn access_token_for_probe(
    _workspace: &Workspace,
    setting: &MailSetting,
) -> Result<Option<Secret>, TokenError> {
    if !setting.credential.uses_oauth() {
        return Ok(None);
    }
    Ok(None)
}
