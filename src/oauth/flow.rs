//! Connect: authorization code + PKCE (S256) + a random `state`, in the system
//! browser, caught on a loopback redirect; then the code is exchanged for
//! tokens, the signed-in account is learned, and the tokens go to the OS
//! secret store.

use std::sync::Arc;
use std::time::Duration;

use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope, TokenResponse,
};
use serde::Serialize;
use thiserror::Error;

use super::http::TokenHttp;
use super::listener::{ListenError, Listener};
use super::provider::{ProviderError, ResolvedProvider};
use super::tokens::{self, TokenError, TokenSet, TokenStatus, error_chain};
use crate::cancel::CancelToken;
use crate::diagnosis::Diagnosis;
use crate::model::{Config, MailSetting};
use crate::store::{SecretStoreError, Secrets};

/// How long Connect waits for the browser by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The longest `interval` a device endpoint may ask for between polls (Microsoft and
/// Google say 5 s); past it the sign-in on another device is refused before polling.
pub const LONGEST_DEVICE_INTERVAL: Duration = Duration::from_secs(300);

/// The system browser could not be opened: the link is there to copy.
#[derive(Debug, Error)]
#[error("the browser could not be opened ({0}); copy the link instead")]
pub struct NoBrowser(#[source] std::io::Error);

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    Listen(#[from] ListenError),
    #[error("the sign-in code was not accepted: {0}")]
    Exchange(String),
    #[error("the authorization server could not be reached: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("{0}")]
    Store(#[from] SecretStoreError),
    #[error("{0} offers no sign-in on another device for mail; use Connect on a computer with a browser")]
    NoDeviceSignIn(String),
    #[error("the sign-in was declined on the other device")]
    DeviceDeclined,
    #[error("the code expired before anyone signed in with it; start the sign-in on another device again")]
    DeviceCodeExpired,
    #[error(
        "the authorization server asks to wait {0} s between checks for the sign-in (more than {max} s would outlast \
         the code); it is not polled — ask its administrator, or use Connect",
        max = LONGEST_DEVICE_INTERVAL.as_secs()
    )]
    DeviceIntervalTooLong(u64),
    #[error("the sign-in was cancelled")]
    Cancelled,
}

impl ConnectError {
    /// What went wrong in plain words, who acts, the next step.
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        let text = match self {
            Self::Listen(ListenError::Denied { error, description }) => {
                format!("{error}: {}", description.as_deref().unwrap_or(""))
            }
            Self::Exchange(text) => text.clone(),
            Self::DeviceDeclined | Self::DeviceCodeExpired => self.to_string(),
            Self::Unreachable(text) => format!("unreachable: {text}"),
            Self::Token(err) => return err.diagnosis(),
            _ => return None,
        };
        Some(super::diagnose::diagnose(&text))
    }
}

/// A sign-in in progress: the listener is bound and the URL is ready.
pub struct ConnectFlow {
    provider: ResolvedProvider,
    listener: Listener,
    url: String,
    redirect_uri: String,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    setting_id: String,
    expected: Expected,
}

impl std::fmt::Debug for ConnectFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectFlow")
            .field("setting", &self.setting_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The result of a completed Connect.
#[derive(Debug, Clone, Serialize)]
pub struct Connected {
    pub account: Option<String>,
    /// Things to tell the admin: another account than the mailbox, missing mail permissions.
    pub warnings: Vec<String>,
    pub status: TokenStatus,
}

impl ConnectFlow {
    /// Binds the loopback listener and builds the authorization URL.
    pub fn start(setting: &MailSetting, config: &Config) -> Result<Self, ConnectError> {
        let provider = super::provider::resolve(setting, config)?;
        let listener = Listener::bind()?;
        let redirect_uri = format!("http://{}:{}/", provider.redirect_host, listener.port());
        let client = tokens::client(&provider, Some(&redirect_uri))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let expected = Expected::of(setting);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .add_scopes(provider.scopes.iter().map(|s| Scope::new(s.clone())));
        if !expected.account.is_empty() {
            request = request.add_extra_param("login_hint", expected.account.clone());
        }
        for (key, value) in &provider.authorize_params {
            request = request.add_extra_param(key.clone(), value.clone());
        }
        let (url, state) = request.url();
        Ok(Self {
            provider,
            listener,
            url: url.to_string(),
            redirect_uri,
            state,
            verifier,
            setting_id: setting.id.clone().into(),
            expected,
        })
    }

    /// The address to open in a browser (also shown with a Copy button).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub(crate) fn provider_label(&self) -> &str {
        &self.provider.label
    }

    /// Opens the system browser (which honours `$BROWSER` on Linux).
    pub(crate) fn open_browser(&self) -> Result<(), NoBrowser> {
        webbrowser::open(&self.url).map_err(NoBrowser)
    }

    /// Waits for the redirect, exchanges the code and stores the tokens.
    pub fn finish(
        mut self,
        secrets: &Secrets,
        (tls, route): (Arc<rustls::ClientConfig>, &super::http::ProxyRoute),
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Connected, ConnectError> {
        let redirect = self.listener.wait(self.state.secret(), timeout, cancel)?;
        drop(self.listener); // the port closes as soon as the redirect is caught
        let http = TokenHttp::new(tls, Duration::from_secs(20), route);
        let provider = super::provider::with_stored_client_secret(self.provider.clone(), secrets);
        let client = tokens::client(&provider, Some(&self.redirect_uri))?;
        let response = client
            .exchange_code(AuthorizationCode::new(redirect.code))
            .set_pkce_verifier(self.verifier)
            .request(&http)
            .map_err(exchange_error)?;
        let mut token_set = TokenSet::from_response(&response, &self.provider.id, None);
        token_set.resource = self.provider.first_resource();
        token_set.account = identity(&response, &self.provider, &http);
        let warnings = warnings(&token_set, &self.provider, &self.expected, response.refresh_token().is_some());
        {
            // Under the refresh lock: a refresh running elsewhere never overwrites the new sign-in.
            let _lock = super::refresh_lock::acquire(secrets, &self.setting_id, Duration::from_secs(30))
                .map_err(TokenError::from)?;
            token_set.save(secrets, &self.setting_id)?;
        }
        tracing::info!(setting = %self.setting_id, account = ?token_set.account, "connected");
        let status = tokens::status(secrets, &self.setting_id, true)?;
        Ok(Connected { account: token_set.account, warnings, status })
    }
}

/// A refused or failed request to the token endpoint, as Connect reports it.
pub(super) fn exchange_error<RE: std::error::Error + 'static>(
    err: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> ConnectError {
    match err {
        RequestTokenError::ServerResponse(response) => ConnectError::Exchange(tokens::describe_error(
            response.error(),
            response.error_description().map(String::as_str),
        )),
        other => ConnectError::Unreachable(error_chain(&other)),
    }
}

/// Who signed in: the id token's e-mail claims, else the userinfo endpoint.
pub(super) fn identity(response: &tokens::Tokens, provider: &ResolvedProvider, http: &TokenHttp) -> Option<String> {
    if let Some(claims) = response.extra_fields().id_token.as_deref().and_then(id_token_claims)
        && let Some(account) = account_from_claims(&claims)
    {
        return Some(account);
    }
    let url = provider.userinfo_url.as_deref()?;
    match http.get_bearer(url, response.access_token().secret()) {
        Ok((200, body)) => account_from_userinfo(&body),
        Ok((status, _)) => {
            tracing::warn!(status, "userinfo refused");
            None
        }
        Err(err) => {
            tracing::warn!("userinfo unreachable: {err}");
            None
        }
    }
}

/// The account a userinfo answer names, if it is JSON naming one.
pub(crate) fn account_from_userinfo(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body).ok().as_ref().and_then(account_from_claims)
}

fn account_from_claims(claims: &serde_json::Value) -> Option<String> {
    ["email", "preferred_username", "upn", "unique_name"]
        .iter()
        // The authorization server names the account: shown and printed, never run.
        .find_map(|key| claims.get(key).and_then(serde_json::Value::as_str).map(crate::printable::printable))
}

/// The claims of an id token received straight from the token endpoint over
/// TLS (OpenID Connect Core 3.1.3.7: TLS validation stands in for the signature).
pub(crate) fn id_token_claims(id_token: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Who a Connect expects: the account that signs in (a shared mailbox's delegate,
/// else the mailbox), the mailbox it opens, and who the outgoing side signs in as.
#[derive(Debug, Clone, Default)]
pub(super) struct Expected {
    pub account: String,
    pub mailbox: String,
    /// The outgoing user name when the outgoing side signs in with this token.
    pub outgoing_user: Option<String>,
    pub shared: bool,
}

impl Expected {
    pub fn of(setting: &MailSetting) -> Self {
        Self {
            account: setting.expected_account().to_owned(),
            mailbox: setting.imap.user_name.trim().to_owned(),
            outgoing_user: setting
                .smtp_credential()
                .uses_oauth()
                .then(|| setting.smtp.user_name.trim().to_owned())
                .filter(|user| !user.is_empty()),
            shared: setting.shared_mailbox_delegate().is_some(),
        }
    }
}

pub(super) fn warnings(
    tokens: &TokenSet,
    provider: &ResolvedProvider,
    expected: &Expected,
    got_refresh_token: bool,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(account) = &tokens.account {
        warnings.extend(account_warnings(account.trim(), expected));
    }
    if !tokens.scopes.is_empty() {
        let missing: Vec<&String> = provider
            .mail_scopes
            .iter()
            .filter(|needed| !tokens.scopes.iter().any(|s| s.eq_ignore_ascii_case(needed)))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            warnings.push(format!(
                "The sign-in did not grant {}; mail tests will fail until an administrator allows it.",
                names.join(" and ")
            ));
        }
    }
    if !got_refresh_token {
        warnings.push(
            "The provider issued no refresh token, so you will have to Connect again when the access token expires."
                .to_owned(),
        );
    }
    warnings
}

/// What to say when the account that signed in is not the one the setting
/// expects, and when sending signs in as someone else than that account.
fn account_warnings(account: &str, expected: &Expected) -> Vec<String> {
    let mut warnings = Vec::new();
    let Expected { account: wanted, mailbox, outgoing_user, shared } = expected;
    if !wanted.is_empty() && !account.eq_ignore_ascii_case(wanted) {
        warnings.push(if *shared {
            format!(
                "You signed in as {account}, but this setting is signed in by {wanted} for the shared mailbox \
                 {mailbox}. Press Disconnect and sign in as {wanted}, or enter {account} under Signed in by if \
                 {account} has Full Access to {mailbox}."
            )
        } else {
            format!(
                "You signed in as {account}, but the incoming user name is {mailbox}. That works only if {account} has \
                 full access to {mailbox} (a shared mailbox: enter {account} under Signed in by); otherwise press \
                 Disconnect and sign in as {mailbox}."
            )
        });
    }
    if let Some(outgoing) = outgoing_user.as_deref().filter(|user| !user.eq_ignore_ascii_case(account)) {
        warnings.push(if *shared && outgoing.eq_ignore_ascii_case(mailbox) {
            format!(
                "Sending signs in as the shared mailbox {mailbox} itself, which Microsoft 365 refuses unless it has a \
                 licence and SMTP AUTH; to send as {account} with Send As on {mailbox}, enter {account} as the outgoing \
                 user name"
            )
        } else {
            format!(
                "You signed in as {account}, but the outgoing user name is {outgoing}: the server may refuse to send \
                 as another mailbox unless {account} has Send As rights"
            )
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_claims_are_read_from_the_payload() {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token =
            format!("{}.{}.sig", engine.encode("{\"alg\":\"RS256\"}"), engine.encode("{\"email\":\"ar@contoso.com\"}"));
        assert_eq!(id_token_claims(&token).unwrap()["email"], "ar@contoso.com");
        assert!(id_token_claims("garbage").is_none());
    }

    fn token_set(account: Option<&str>, scopes: &[&str]) -> TokenSet {
        TokenSet {
            access_token: crate::Secret::new("a"),
            refresh_token: None,
            expires_at: None,
            connected_at: time::OffsetDateTime::now_utc(),
            last_refresh: None,
            account: account.map(str::to_owned),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            provider: "microsoft365".into(),
            needs_reconnect: None,
            refresh_issued_at: None,
            resource: None,
            other_resources: std::collections::BTreeMap::new(),
        }
    }

    fn microsoft() -> ResolvedProvider {
        let setting = MailSetting { credential: crate::model::CredentialKind::Microsoft365, ..MailSetting::default() };
        let config = Config {
            oauth_providers: vec![crate::model::OAuthProvider {
                id: "microsoft365".into(),
                client_id: "c".into(),
                ..Default::default()
            }],
            ..Config::default()
        };
        super::super::provider::resolve(&setting, &config).unwrap()
    }

    #[test]
    fn another_account_and_missing_scopes_are_warned_about() {
        let scopes = ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"];
        let ar = Expected { account: "ar@contoso.com".into(), mailbox: "ar@contoso.com".into(), ..Expected::default() };
        assert!(warnings(&token_set(Some("AR@contoso.com"), &scopes), &microsoft(), &ar, true).is_empty());
        let w = warnings(&token_set(Some("admin@contoso.com"), &scopes), &microsoft(), &ar, true);
        assert!(w[0].contains("shared mailbox") && w[0].contains("Signed in by"), "{w:?}");
        let w =
            warnings(&token_set(None, &["https://outlook.office.com/IMAP.AccessAsUser.All"]), &microsoft(), &ar, true);
        assert!(w[0].contains("SMTP.Send"), "{w:?}");
        let w = warnings(&token_set(None, &[]), &microsoft(), &Expected::default(), false);
        assert!(w[0].contains("no refresh token"));
    }

    #[test]
    fn a_shared_mailbox_expects_its_delegate_and_knows_how_sending_signs_in() {
        let mut setting = MailSetting::example("shared");
        setting.credential = crate::model::CredentialKind::Microsoft365;
        setting.imap.user_name = "collections@contoso.com".into();
        setting.delegate = Some("pat@contoso.com".into());
        setting.smtp.user_name = "pat@contoso.com".into();
        let expected = Expected::of(&setting);
        assert_eq!(expected.account, "pat@contoso.com", "the login hint and the account expected");
        assert!(account_warnings("Pat@contoso.com", &expected).is_empty(), "the delegate with Send As: nothing to say");
        let w = account_warnings("sam@contoso.com", &expected);
        assert!(w[0].contains("signed in by pat@contoso.com for the shared mailbox collections@contoso.com"), "{w:?}");
        setting.smtp.user_name = "collections@contoso.com".into();
        let w = account_warnings("pat@contoso.com", &Expected::of(&setting));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("refuses unless it has a licence") && w[0].contains("enter pat@contoso.com"), "{w:?}");
        setting.delegate = None;
        setting.smtp.user_name = "other@contoso.com".into();
        setting.imap.user_name = "pat@contoso.com".into();
        let w = account_warnings("pat@contoso.com", &Expected::of(&setting));
        assert!(w[0].contains("outgoing user name is other@contoso.com") && w[0].contains("Send As"), "{w:?}");
    }
}
