//! Sign-in on another device (RFC 8628, the device authorization grant): for a
//! machine without a browser (a server over SSH, a locked-down terminal). The
//! provider hands out a short code; the admin enters it at the provider's
//! address on any device and signs in there, while this side polls the token
//! endpoint at the interval the provider asks for (`slow_down` adds 5 s, as the
//! RFC says). Tokens then go to the OS secret store exactly as after Connect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2::{
    DeviceAuthorizationUrl, DeviceCodeErrorResponseType, RequestTokenError, Scope, StandardDeviceAuthorizationResponse,
    TokenResponse,
};

use super::flow::{ConnectError, Connected, LONGEST_DEVICE_INTERVAL, exchange_error, identity, warnings};
use super::http::TokenHttp;
use super::provider::ResolvedProvider;
use super::tokens::{self, TokenError, TokenSet, error_chain};
use crate::cancel::CancelToken;
use crate::model::{Config, MailSetting};
use crate::store::Secrets;

/// What the admin needs on the other device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The short code to type there.
    pub user_code: String,
    /// Where to type it.
    pub verification_uri: String,
    /// The same address with the code filled in, where the provider gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the code is good for.
    pub expires_in: Duration,
}

/// A device sign-in waiting for the admin.
pub struct DeviceSignIn {
    provider: ResolvedProvider,
    details: StandardDeviceAuthorizationResponse,
    started: Instant,
    setting_id: String,
    expected: super::flow::Expected,
}

impl std::fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSignIn").field("setting", &self.setting_id).finish_non_exhaustive()
    }
}

impl DeviceSignIn {
    /// Asks the provider for a code.
    pub fn start(
        setting: &MailSetting,
        config: &Config,
        secrets: &Secrets,
        (tls, route): (Arc<rustls::ClientConfig>, &super::http::ProxyRoute),
    ) -> Result<Self, ConnectError> {
        let provider = super::provider::with_stored_client_secret(super::provider::resolve(setting, config)?, secrets);
        let http = TokenHttp::new(tls, Duration::from_secs(20), route);
        let details = device_client(&provider)?
            .exchange_device_code()
            .add_scopes(provider.scopes.iter().map(|s| Scope::new(s.clone())))
            .request(&http)
            .map_err(exchange_error)?;
        // The oauth2 crate adds 5 s to the interval on each `slow_down`, unchecked: an
        // interval near u64::MAX panics there. No real provider asks for minutes.
        if details.interval() > LONGEST_DEVICE_INTERVAL {
            return Err(ConnectError::DeviceIntervalTooLong(details.interval().as_secs()));
        }
        Ok(Self {
            provider,
            details,
            started: Instant::now(),
            setting_id: setting.id.clone().into(),
            expected: super::flow::Expected::of(setting),
        })
    }

    /// The code and where to enter it (shown as text from the provider: printable only).
    pub fn code(&self) -> DeviceCode {
        DeviceCode {
            user_code: crate::printable::printable(self.details.user_code().secret()),
            verification_uri: crate::printable::printable(self.details.verification_uri()),
            verification_uri_complete: self
                .details
                .verification_uri_complete()
                .map(|uri| crate::printable::printable(uri.secret())),
            expires_in: code_life(self.details.expires_in()),
        }
    }

    /// When the code runs out.
    pub fn expires_at(&self) -> Instant {
        self.started + code_life(self.details.expires_in())
    }

    /// Polls until the admin signed in on the other device, declined, the code
    /// expired, or `cancel`; then stores the tokens.
    pub fn finish(
        self,
        secrets: &Secrets,
        (tls, route): (Arc<rustls::ClientConfig>, &super::http::ProxyRoute),
        cancel: &CancelToken,
    ) -> Result<Connected, ConnectError> {
        let http = TokenHttp::new(tls, Duration::from_secs(20), route).cancelled_by(cancel);
        let left = self.expires_at().saturating_duration_since(Instant::now());
        let response = device_client(&self.provider)?
            .exchange_device_access_token(&self.details)
            .request(&http, |wait| sleep_unless_cancelled(wait, cancel), Some(left))
            .map_err(|err| {
                if cancel.is_cancelled() {
                    return ConnectError::Cancelled;
                }
                match err {
                    RequestTokenError::ServerResponse(response) => match response.error() {
                        DeviceCodeErrorResponseType::AccessDenied => ConnectError::DeviceDeclined,
                        DeviceCodeErrorResponseType::ExpiredToken => ConnectError::DeviceCodeExpired,
                        other => ConnectError::Exchange(
                            format!("{other}: {}", response.error_description().map(String::as_str).unwrap_or(""))
                                .trim_end_matches([':', ' '])
                                .to_owned(),
                        ),
                    },
                    // The crate gives up at the code's expiry with "timed out".
                    RequestTokenError::Other(text) if text.contains("timed out") => ConnectError::DeviceCodeExpired,
                    other => ConnectError::Unreachable(error_chain(&other)),
                }
            })?;
        let mut token_set = TokenSet::from_response(&response, &self.provider.id, None);
        token_set.resource = self.provider.first_resource();
        token_set.account = identity(&response, &self.provider, &http);
        let warnings = warnings(&token_set, &self.provider, &self.expected, response.refresh_token().is_some());
        {
            let _lock = super::refresh_lock::acquire(secrets, &self.setting_id, Duration::from_secs(30))
                .map_err(TokenError::from)?;
            token_set.save(secrets, &self.setting_id)?;
        }
        tracing::info!(setting = %self.setting_id, account = ?token_set.account, "connected on another device");
        let status = tokens::status(secrets, &self.setting_id, true).map_err(TokenError::from)?;
        Ok(Connected { account: token_set.account, warnings, status })
    }
}

/// The token client with a device authorization endpoint set.
type DeviceClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    tokens::Tokens,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointMaybeSet,
    oauth2::EndpointSet,
>;

/// The token client with the provider's device authorization endpoint (https, or
/// this computer for test servers — checked as every endpoint is).
fn device_client(provider: &ResolvedProvider) -> Result<DeviceClient, ConnectError> {
    let url = provider
        .device_authorization_url
        .clone()
        .ok_or_else(|| ConnectError::NoDeviceSignIn(provider.label.clone()))?;
    if let Some(problem) = crate::model::endpoints::endpoint_problem("device_authorization_url", &url) {
        return Err(TokenError::BadUrl(problem).into());
    }
    let url = DeviceAuthorizationUrl::new(url).map_err(|e| TokenError::BadUrl(e.to_string()))?;
    Ok(tokens::client(provider, None)?.set_device_authorization_url(url))
}

/// The longest a device code is believed to live: providers give 15 minutes
/// (Microsoft) to 30 (RFC 8628's example); a server's `expires_in` of centuries
/// would otherwise overflow the clock's arithmetic (and a sign-in would wait forever).
const LONGEST_CODE_LIFE: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest wait between two polls, whatever `interval` the server asks for.
const LONGEST_POLL_WAIT: Duration = Duration::from_secs(60);

fn code_life(expires_in: Duration) -> Duration {
    expires_in.min(LONGEST_CODE_LIFE)
}

/// Waits `wait` (at most [`LONGEST_POLL_WAIT`]), waking early when cancelled (the
/// next request then fails at once).
fn sleep_unless_cancelled(wait: Duration, cancel: &CancelToken) {
    let until = Instant::now() + wait.min(LONGEST_POLL_WAIT);
    while !cancel.is_cancelled() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device endpoint that says its code lives for centuries, or to wait as long
    /// between polls, gets bounded times — not an overflow panic (the CLI's) or a
    /// sign-in that waits forever.
    #[test]
    fn a_servers_huge_times_are_bounded_not_overflowed() {
        assert_eq!(code_life(Duration::MAX), LONGEST_CODE_LIFE);
        assert_eq!(code_life(Duration::from_secs(900)), Duration::from_secs(900));
        assert!(Instant::now().checked_add(code_life(Duration::from_secs(u64::MAX))).is_some());
        let details: oauth2::StandardDeviceAuthorizationResponse = serde_json::from_str(
            r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://example.com/device",
                "expires_in":18446744073709551615,"interval":18446744073709551615}"#,
        )
        .unwrap();
        let started = Instant::now();
        assert!(started + code_life(details.expires_in()) > started);
        let cancel = CancelToken::new();
        cancel.cancel();
        sleep_unless_cancelled(details.interval(), &cancel);
        assert!(started.elapsed() < Duration::from_secs(1), "a cancelled wait ends at once");
    }
}
