//! The token set of a connected setting: kept as one JSON value in the OS
//! secret store (never in the config file), refreshed before use, marked
//! "needs reconnect" when the server refuses the refresh token.

use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, ExtraTokenFields,
    RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::clock::Timestamp;

use super::http::{ProxyRoute, TokenHttp};
use super::provider::ResolvedProvider;
use crate::diagnosis::Diagnosis;
use crate::secret::Secret;
use crate::store::{SecretKind, SecretStoreError, Secrets};

/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// OpenID's `id_token` beside the OAuth fields, to learn who signed in.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct OidcFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for OidcFields {}

pub type Tokens = StandardTokenResponse<OidcFields, BasicTokenType>;

pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointSet,
>;

#[derive(Debug, Error)]
pub enum TokenError {
    #[error("{0}")]
    Store(#[from] SecretStoreError),
    #[error("this setting is not connected: press Connect to sign in")]
    NotConnected,
    #[error("this setting needs to be connected again: {0}")]
    NeedsReconnect(String),
    #[error("the authorization server refused: {0}")]
    Refused(String),
    #[error("the authorization server could not be reached: {0}")]
    Unreachable(String),
    /// The token endpoint answered 429 or 5xx: busy or failing for now, the sign-in kept.
    #[error("the authorization server is busy or failing (HTTP {status}); the sign-in is kept, try again{}: {reason}", retry_words(*.retry_after))]
    Busy { status: u16, reason: String, retry_after: Option<Duration> },
    #[error("the provider's address is not valid: {0}")]
    BadUrl(String),
    /// App-only access is set up incompletely (no client secret, or a provider without it).
    #[error("{0}")]
    AppAccess(String),
}

impl From<super::refresh_lock::LockError> for TokenError {
    fn from(err: super::refresh_lock::LockError) -> Self {
        Self::Unreachable(err.to_string())
    }
}

impl TokenError {
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        match self {
            Self::NeedsReconnect(text) | Self::Refused(text) => Some(super::diagnose::diagnose(text)),
            Self::Unreachable(text) => Some(super::diagnose::diagnose(&format!("unreachable: {text}"))),
            Self::Busy { status, reason, .. } => {
                Some(super::diagnose::diagnose(&format!("busy: HTTP {status} {reason}")))
            }
            _ => None,
        }
    }

    /// Whether trying again later can help — the provider out of reach, busy or
    /// failing — so the tokens are kept and nobody reconnects; only a refusal of the
    /// refresh token itself (invalid_grant) ends a sign-in.
    pub(crate) fn is_temporary(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Busy { .. })
    }
}

fn retry_words(after: Option<Duration>) -> String {
    after.map_or_else(String::new, |after| format!(" in {} s", after.as_secs().max(1)))
}

/// The client for a provider and redirect address.
pub fn client(provider: &ResolvedProvider, redirect_uri: Option<&str>) -> Result<OAuthClient, TokenError> {
    // Checked again before any request, whatever path the provider came by.
    let endpoints = [
        ("authorize_url", Some(&provider.authorize_url)),
        ("token_url", Some(&provider.token_url)),
        ("revoke_url", provider.revoke_url.as_ref()),
        ("userinfo_url", provider.userinfo_url.as_ref()),
    ];
    for (field, address) in endpoints {
        if let Some(problem) = address.and_then(|a| crate::model::endpoints::endpoint_problem(field, a)) {
            return Err(TokenError::BadUrl(problem));
        }
    }
    let bad = |e: oauth2::url::ParseError| TokenError::BadUrl(e.to_string());
    let revocation =
        provider.revoke_url.as_deref().map(|u| RevocationUrl::new(u.to_owned())).transpose().map_err(bad)?;
    let mut client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_auth_uri(AuthUrl::new(provider.authorize_url.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(provider.token_url.clone()).map_err(bad)?)
        .set_revocation_url_option(revocation)
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &provider.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    if let Some(uri) = redirect_uri {
        client = client.set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(bad)?);
    }
    Ok(client)
}

/// What the secret store keeps for a connected setting.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<OffsetDateTime>,
    pub connected_at: OffsetDateTime,
    pub last_refresh: Option<OffsetDateTime>,
    /// Who signed in (e-mail or user name), when the provider said.
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub provider: String,
    /// Set when a refresh was refused; the reason.
    pub needs_reconnect: Option<String>,
    /// When the refresh token in use was issued (at Connect, or when a refresh rotated
    /// it): Google ends a Testing app's refresh tokens 7 days after this.
    pub refresh_issued_at: Option<OffsetDateTime>,
    /// The API (resource) `access_token` is for, where the provider issues a token per
    /// resource (Microsoft: `https://outlook.office.com`); `None` for one token for all.
    pub resource: Option<String>,
    /// Access tokens for the other APIs a setting uses (Graph beside Outlook's IMAP),
    /// each had by refreshing with that API's scopes.
    pub other_resources: std::collections::BTreeMap<String, ResourceToken>,
}

/// An access token for another API than the one Connect's token is for.
#[derive(Debug, Clone)]
pub struct ResourceToken {
    pub access_token: Secret,
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct StoredResourceToken {
    access_token: String,
    expires_at: Option<i64>,
}

/// The JSON shape in the secret store; exists only inside load/save.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    connected_at: i64,
    last_refresh: Option<i64>,
    account: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    provider: String,
    needs_reconnect: Option<String>,
    #[serde(default)]
    refresh_issued_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    other_resources: std::collections::BTreeMap<String, StoredResourceToken>,
}

fn from_unix(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl TokenSet {
    pub fn load(secrets: &Secrets, setting_id: &str) -> Result<Option<Self>, SecretStoreError> {
        let Some(json) = secrets.get(setting_id, SecretKind::OAuthTokens)? else { return Ok(None) };
        // A value that does not parse is treated as "not connected", never shown.
        let Ok(stored) = serde_json::from_str::<Stored>(json.expose()) else { return Ok(None) };
        Ok(Some(Self {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            expires_at: stored.expires_at.map(from_unix),
            connected_at: from_unix(stored.connected_at),
            last_refresh: stored.last_refresh.map(from_unix),
            account: stored.account,
            scopes: stored.scopes,
            provider: stored.provider,
            needs_reconnect: stored.needs_reconnect,
            refresh_issued_at: stored.refresh_issued_at.map(from_unix),
            resource: stored.resource,
            other_resources: stored
                .other_resources
                .into_iter()
                .map(|(resource, token)| {
                    let token = ResourceToken {
                        access_token: Secret::new(token.access_token),
                        expires_at: token.expires_at.map(from_unix),
                    };
                    (resource, token)
                })
                .collect(),
        }))
    }

    pub fn save(&self, secrets: &Secrets, setting_id: &str) -> Result<(), SecretStoreError> {
        let stored = Stored {
            access_token: self.access_token.expose().to_owned(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            expires_at: self.expires_at.map(OffsetDateTime::unix_timestamp),
            connected_at: self.connected_at.unix_timestamp(),
            last_refresh: self.last_refresh.map(OffsetDateTime::unix_timestamp),
            account: self.account.clone(),
            scopes: self.scopes.clone(),
            provider: self.provider.clone(),
            needs_reconnect: self.needs_reconnect.clone(),
            refresh_issued_at: self.refresh_issued_at.map(OffsetDateTime::unix_timestamp),
            resource: self.resource.clone(),
            other_resources: self
                .other_resources
                .iter()
                .map(|(resource, token)| {
                    let token = StoredResourceToken {
                        access_token: token.access_token.expose().to_owned(),
                        expires_at: token.expires_at.map(OffsetDateTime::unix_timestamp),
                    };
                    (resource.clone(), token)
                })
                .collect(),
        };
        let json = zeroize::Zeroizing::new(serde_json::to_string(&stored).unwrap_or_default());
        secrets.set(setting_id, SecretKind::OAuthTokens, &Secret::new(json.as_str()))
    }

    /// Builds a token set from a token response (connect or refresh).
    pub(crate) fn from_response(response: &Tokens, provider: &str, previous: Option<&TokenSet>) -> Self {
        let now = OffsetDateTime::now_utc();
        let scopes = response
            .scopes()
            .map(|s| s.iter().map(|scope| scope.to_string()).collect())
            .or_else(|| previous.map(|p| p.scopes.clone()))
            .unwrap_or_default();
        let rotated = response.refresh_token().is_some_and(|new| {
            previous.and_then(|p| p.refresh_token.as_ref()).is_none_or(|old| old.expose() != new.secret())
        });
        let refresh_issued_at = if rotated || previous.is_none() {
            Some(now)
        } else {
            previous.and_then(|p| p.refresh_issued_at.or(Some(p.connected_at)))
        };
        Self {
            access_token: Secret::new(response.access_token().secret().clone()),
            // Providers that do not rotate keep the old refresh token valid.
            refresh_token: response
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone()))
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            // A lifetime past the calendar's end (a broken or hostile server) is "no expiry known".
            expires_at: response
                .expires_in()
                .and_then(|d| time::Duration::try_from(d).ok())
                .and_then(|d| now.checked_add(d)),
            connected_at: previous.map_or(now, |p| p.connected_at),
            last_refresh: previous.map(|_| now),
            account: previous.and_then(|p| p.account.clone()),
            scopes,
            provider: provider.to_owned(),
            needs_reconnect: None,
            refresh_issued_at,
            resource: previous.and_then(|p| p.resource.clone()),
            other_resources: previous.map(|p| p.other_resources.clone()).unwrap_or_default(),
        }
    }

    /// When the refresh token was issued (older token sets: when they connected).
    pub(crate) fn refresh_issued(&self) -> OffsetDateTime {
        self.refresh_issued_at.unwrap_or(self.connected_at)
    }

    /// When the refresh token was last used (a refresh), else issued.
    pub(crate) fn refresh_last_used(&self) -> OffsetDateTime {
        self.last_refresh.unwrap_or_else(|| self.refresh_issued())
    }

    fn expires_soon(&self) -> bool {
        expires_soon(self.expires_at)
    }

    /// The access token for `resource` (`None`: the one Connect's token is for), while
    /// it has more than [`REFRESH_MARGIN`] left and the sign-in holds.
    fn usable(&self, resource: Option<&str>) -> Option<Secret> {
        if self.needs_reconnect.is_some() {
            return None;
        }
        match resource {
            None => (!self.expires_soon()).then(|| self.access_token.clone()),
            Some(resource) => self
                .other_resources
                .get(resource)
                .filter(|token| !expires_soon(token.expires_at))
                .map(|token| token.access_token.clone()),
        }
    }

    /// The other API `scopes` are for, when the provider issues a token per API and
    /// it is not the one Connect's token is for; `None`: Connect's token serves.
    fn other_resource(&self, provider: &ResolvedProvider, scopes: &[String]) -> Option<String> {
        if !provider.token_per_resource {
            return None;
        }
        let wanted = scopes.iter().find_map(|s| crate::model::providers::resource_of(s))?;
        let own = self
            .resource
            .as_deref()
            .or_else(|| self.scopes.iter().find_map(|s| crate::model::providers::resource_of(s)))?;
        (!wanted.eq_ignore_ascii_case(own)).then(|| wanted.to_owned())
    }
}

fn expires_soon(expires_at: Option<OffsetDateTime>) -> bool {
    match expires_at {
        Some(expires) => {
            expires - OffsetDateTime::now_utc() < time::Duration::try_from(REFRESH_MARGIN).unwrap_or_default()
        }
        None => false,
    }
}

/// The connection state shown in the table and by `token-status` (no token in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Basic,
    NotConnected,
    Connected {
        account: Option<String>,
    },
    NeedsReconnect {
        reason: String,
    },
    /// The secret store could not be read, so the state is unknown.
    Unknown {
        reason: String,
    },
}

impl ConnectionState {
    pub fn label(&self) -> String {
        match self {
            Self::Basic => "Basic".to_owned(),
            Self::NotConnected => "Not connected".to_owned(),
            Self::Connected { account: Some(account) } => format!("Connected as {account}"),
            Self::Connected { account: None } => "Connected".to_owned(),
            Self::NeedsReconnect { .. } => "Needs reconnect".to_owned(),
            Self::Unknown { .. } => "Sign-in state unknown".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenStatus {
    #[serde(flatten)]
    pub state: ConnectionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<Timestamp>,
    /// When the refresh token in use was issued (Google's Testing apps end it 7 days later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_issued_at: Option<Timestamp>,
    pub has_refresh_token: bool,
    pub scopes: Vec<String>,
}

/// For a Google app that is (or may be) in Testing: the day a sign-in whose refresh
/// token was issued at `issued` ends (7 days later), counting down, with the fix.
pub(crate) fn testing_clock(issued: OffsetDateTime, provider: &ResolvedProvider, today: time::Date) -> Option<String> {
    if !provider.may_be_testing {
        return None;
    }
    let ends = (issued + time::Duration::days(7)).date();
    let days = (ends - today).whole_days();
    let when = match days {
        2.. => format!("in {days} days"),
        1 => "tomorrow".to_owned(),
        0 => "today".to_owned(),
        _ => "it has ended".to_owned(),
    };
    Some(format!(
        "If your Google app is in Testing, this sign-in ends on {ends} ({when}): publish the app (OAuth consent \
         screen > In production) or make it Internal, then say so: mailsettings oauth-app set gmail --client-id … \
         --publishing-status production"
    ))
}

/// Token health for a setting, read from the secret store.
pub fn status(secrets: &Secrets, setting_id: &str, uses_oauth: bool) -> Result<TokenStatus, SecretStoreError> {
    let empty = |state| TokenStatus {
        state,
        provider: None,
        connected_at: None,
        access_token_expires_at: None,
        last_refresh: None,
        refresh_token_issued_at: None,
        has_refresh_token: false,
        scopes: Vec::new(),
    };
    if !uses_oauth {
        return Ok(empty(ConnectionState::Basic));
    }
    let Some(tokens) = TokenSet::load(secrets, setting_id)? else { return Ok(empty(ConnectionState::NotConnected)) };
    let state = match &tokens.needs_reconnect {
        Some(reason) => ConnectionState::NeedsReconnect { reason: reason.clone() },
        None => ConnectionState::Connected { account: tokens.account.clone() },
    };
    Ok(TokenStatus {
        state,
        provider: Some(tokens.provider.clone()),
        connected_at: Some(Timestamp::at(tokens.connected_at)),
        access_token_expires_at: tokens.expires_at.map(Timestamp::at),
        last_refresh: tokens.last_refresh.map(Timestamp::at),
        refresh_token_issued_at: tokens.refresh_token.is_some().then(|| Timestamp::at(tokens.refresh_issued())),
        has_refresh_token: tokens.refresh_token.is_some(),
        scopes: tokens.scopes.clone(),
    })
}

/// An access token good for at least [`REFRESH_MARGIN`], refreshing (and
/// saving the rotated refresh token) when needed; a refused refresh marks the
/// setting "needs reconnect" with the server's reason. `scopes` name a side's
/// token (SMTP's, or Graph's; empty: Connect's). Where the provider issues a token
/// per API and `scopes` are another API's than Connect's token, that API's token is
/// had by refreshing with its scopes and kept beside the first; the rotated refresh
/// token serves both.
pub(crate) fn fresh_access_token_for(
    secrets: &Secrets,
    setting_id: &str,
    provider: &ResolvedProvider,
    scopes: &[String],
    (tls, route): (&Arc<rustls::ClientConfig>, &ProxyRoute),
    timeout: Duration,
) -> Result<Secret, TokenError> {
    let tokens = TokenSet::load(secrets, setting_id)?.ok_or(TokenError::NotConnected)?;
    let resource = tokens.other_resource(provider, scopes);
    if let Some(token) = tokens.usable(resource.as_deref()) {
        return Ok(token);
    }
    // One refresh at a time per setting, across threads and processes: a rotated
    // refresh token must never be used twice, nor a newer token set overwritten by an older one.
    let _lock = super::refresh_lock::acquire(secrets, setting_id, timeout)?;
    // Whoever held the lock may have refreshed already: read again.
    let mut tokens = TokenSet::load(secrets, setting_id)?.ok_or(TokenError::NotConnected)?;
    if let Some(reason) = &tokens.needs_reconnect {
        return Err(TokenError::NeedsReconnect(reason.clone()));
    }
    if let Some(token) = tokens.usable(resource.as_deref()) {
        return Ok(token);
    }
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        return Err(TokenError::NeedsReconnect("the access token expired and there is no refresh token".to_owned()));
    };
    let for_resource = resource.as_ref().map(|_| scopes);
    let deadline = std::time::Instant::now() + timeout;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match refresh_once(&tokens, &refresh_token, provider, for_resource, (tls, route), timeout) {
            Ok(mut refreshed) => {
                let access_token = refreshed.access_token.clone();
                if let Some(resource) = &resource {
                    // Connect's token stays as it was; this API's goes beside it.
                    let expires_at = refreshed.expires_at;
                    refreshed.access_token = tokens.access_token.clone();
                    refreshed.expires_at = tokens.expires_at;
                    refreshed.scopes = tokens.scopes.clone();
                    refreshed
                        .other_resources
                        .insert(resource.clone(), ResourceToken { access_token: access_token.clone(), expires_at });
                }
                refreshed.save(secrets, setting_id)?;
                tracing::info!(setting = setting_id, resource = ?resource, "access token refreshed");
                return Ok(access_token);
            }
            Err(TokenError::NeedsReconnect(reason)) => {
                tokens.needs_reconnect = Some(reason.clone());
                tokens.save(secrets, setting_id)?;
                return Err(TokenError::NeedsReconnect(reason));
            }
            Err(err) if err.is_temporary() && attempt < REFRESH_ATTEMPTS => {
                // Wait as the provider asks (Retry-After, Microsoft's "Suggested Backoff Time"),
                // else a little longer each time — but never past the caller's deadline.
                let asked = match &err {
                    TokenError::Busy { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = asked.unwrap_or(Duration::from_millis(500 * (1 << attempt)));
                if std::time::Instant::now() + wait >= deadline {
                    return Err(err);
                }
                tracing::warn!(setting = setting_id, attempt, "token refresh failed for now, trying again: {err}");
                std::thread::sleep(wait);
            }
            Err(err) => return Err(err),
        }
    }
}

/// How many times a refresh is tried when the provider is busy or out of reach.
const REFRESH_ATTEMPTS: u32 = 3;

/// One refresh request: the new token set, or why not — `NeedsReconnect` only when the
/// provider refuses the refresh token itself (invalid_grant, invalid_client).
fn refresh_once(
    tokens: &TokenSet,
    refresh_token: &Secret,
    provider: &ResolvedProvider,
    scopes: Option<&[String]>,
    (tls, route): (&Arc<rustls::ClientConfig>, &ProxyRoute),
    timeout: Duration,
) -> Result<TokenSet, TokenError> {
    let http = TokenHttp::new(tls.clone(), timeout, route);
    let client = client(provider, None)?;
    let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
    let mut request = client.exchange_refresh_token(&refresh_token);
    // Another API's token: that API's scopes only (Microsoft refuses two APIs in one request).
    if let Some(scopes) = scopes {
        request = request.add_scopes(scopes.iter().map(|s| oauth2::Scope::new(s.clone())));
    }
    let result = request.request(&http);
    let busy = |reason: String| {
        http.last_status().filter(|seen| seen.status == 429 || seen.status >= 500).map(|seen| TokenError::Busy {
            status: seen.status,
            reason: reason.clone(),
            retry_after: seen.retry_after,
        })
    };
    match result {
        Ok(response) => Ok(TokenSet::from_response(&response, &provider.id, Some(tokens))),
        Err(RequestTokenError::ServerResponse(response)) => {
            let reason = describe_error(response.error(), response.error_description().map(String::as_str));
            if matches!(response.error(), BasicErrorResponseType::InvalidGrant | BasicErrorResponseType::InvalidClient)
            {
                let reason = if provider.google_lifetimes {
                    let now = OffsetDateTime::now_utc();
                    let cause = super::diagnose::google_invalid_grant_cause(
                        tokens.refresh_issued(),
                        tokens.refresh_last_used(),
                        now,
                        provider.may_be_testing,
                    );
                    format!("{reason} ({cause})")
                } else {
                    reason
                };
                Err(TokenError::NeedsReconnect(reason))
            } else {
                let suggested = super::http::suggested_backoff(&reason);
                Err(busy(reason.clone())
                    .map(|err| match err {
                        TokenError::Busy { status, reason, retry_after } => {
                            TokenError::Busy { status, reason, retry_after: retry_after.or(suggested) }
                        }
                        other => other,
                    })
                    .unwrap_or(TokenError::Refused(reason)))
            }
        }
        Err(other) => {
            let reason = error_chain(&other);
            Err(busy(reason.clone()).unwrap_or(TokenError::Unreachable(reason)))
        }
    }
}

/// An app-only access token (OAuth client credentials): the organisation's app
/// signs in as itself with its certificate (a signed client assertion) or its
/// client secret — no person's refresh token, so nothing to reconnect. Asked
/// for on demand; nothing is stored.
pub(crate) fn app_access_token(
    provider: &ResolvedProvider,
    (tls, route): (Arc<rustls::ClientConfig>, &ProxyRoute),
    timeout: Duration,
) -> Result<Secret, TokenError> {
    if provider.app_scopes.is_empty() {
        return Err(TokenError::AppAccess(format!(
            "{} offers no app-only access to mailboxes; use a person's sign-in (Connect)",
            provider.label
        )));
    }
    let http = TokenHttp::new(tls, timeout, route);
    let request = if let Some(certificate) = &provider.client_certificate {
        // The certificate proves the app; a client secret, if one is stored too, is not sent.
        let assertion = certificate
            .assertion(&provider.client_id, &provider.token_url)
            .map_err(|err| TokenError::AppAccess(err.to_string()))?;
        let without_secret = ResolvedProvider { client_secret: None, ..provider.clone() };
        let client = client(&without_secret, None)?;
        client
            .exchange_client_credentials()
            .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .add_extra_param("client_assertion", assertion.expose().to_owned())
            .add_scopes(provider.app_scopes.iter().map(|s| oauth2::Scope::new(s.clone())))
            .request(&http)
    } else if provider.client_secret.is_some() {
        client(provider, None)?
            .exchange_client_credentials()
            .add_scopes(provider.app_scopes.iter().map(|s| oauth2::Scope::new(s.clone())))
            .request(&http)
    } else {
        return Err(TokenError::AppAccess(format!(
            "app-only access signs in with the app's certificate or client secret, and neither is stored: \
             mailsettings oauth-app set {} --client-id <id> --certificate CERT.pem --private-key KEY.pem \
             (or --client-secret-stdin)",
            provider.id
        )));
    };
    let response = request.map_err(|err| match err {
        RequestTokenError::ServerResponse(response) => {
            TokenError::Refused(describe_error(response.error(), response.error_description().map(String::as_str)))
        }
        other => TokenError::Unreachable(error_chain(&other)),
    })?;
    Ok(Secret::new(response.access_token().secret().clone()))
}

/// What happened to the token at the provider on Disconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    NotSupported,
    /// The provider could not be asked or refused; the reason. The local tokens are deleted anyway.
    Failed(String),
}

impl Revocation {
    /// What happened, for the window and the CLI alike.
    pub(crate) fn summary(&self) -> String {
        match self {
            Self::Revoked => "the sign-in was revoked at the provider and its tokens deleted".to_owned(),
            Self::NotSupported => "the tokens were deleted (the provider offers no revocation)".to_owned(),
            Self::Failed(reason) => format!("the tokens were deleted, but not revoked at the provider: {reason}"),
        }
    }
}

/// Revokes the refresh token where the provider supports it, then deletes the tokens.
pub fn disconnect(
    secrets: &Secrets,
    setting_id: &str,
    provider: Option<&ResolvedProvider>,
    (tls, route): (Arc<rustls::ClientConfig>, &ProxyRoute),
    timeout: Duration,
) -> Result<Revocation, TokenError> {
    let tokens = TokenSet::load(secrets, setting_id)?;
    let mut revocation = Revocation::NotSupported;
    if let (Some(tokens), Some(provider)) = (&tokens, provider)
        && provider.revoke_url.is_some()
    {
        let http = TokenHttp::new(tls, timeout, route);
        let token = match &tokens.refresh_token {
            Some(refresh) => StandardRevocableToken::RefreshToken(RefreshToken::new(refresh.expose().to_owned())),
            None => {
                StandardRevocableToken::AccessToken(oauth2::AccessToken::new(tokens.access_token.expose().to_owned()))
            }
        };
        match client(provider, None)?.revoke_token(token).map(|request| request.request(&http)) {
            Ok(Ok(())) => revocation = Revocation::Revoked,
            Ok(Err(err)) => revocation = Revocation::Failed(error_chain(&err)),
            Err(err) => revocation = Revocation::Failed(err.to_string()),
        }
    }
    if let Revocation::Failed(reason) = &revocation {
        tracing::warn!("revocation failed, deleting the tokens anyway: {reason}");
    }
    // Under the refresh lock: a refresh running elsewhere cannot write the tokens back after this.
    let _lock = super::refresh_lock::acquire(secrets, setting_id, Duration::from_secs(30))?;
    secrets.delete(setting_id, SecretKind::OAuthTokens)?;
    Ok(revocation)
}

pub(crate) fn describe_error<T: std::fmt::Display>(error: &T, description: Option<&str>) -> String {
    // Both come from the authorization server: shown, never run by a terminal.
    let text = match description {
        Some(description) if !description.is_empty() => format!("{error}: {description}"),
        _ => error.to_string(),
    };
    crate::printable::printable(&text)
}

/// An error with its causes, for a message a person can act on.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, CredentialKind, MailSetting, OAuthProvider};

    fn microsoft() -> ResolvedProvider {
        let setting = MailSetting { credential: CredentialKind::Microsoft365, ..MailSetting::default() };
        let entry = OAuthProvider { id: "microsoft365".into(), client_id: "c".into(), ..Default::default() };
        let config = Config { oauth_providers: vec![entry], ..Config::default() };
        super::super::provider::resolve(&setting, &config).unwrap()
    }

    fn connected(resource: Option<&str>, scopes: &[&str]) -> TokenSet {
        let now = OffsetDateTime::now_utc();
        TokenSet {
            access_token: Secret::new("outlook-token"),
            refresh_token: Some(Secret::new("refresh")),
            expires_at: Some(now + time::Duration::hours(1)),
            connected_at: now,
            last_refresh: None,
            account: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            provider: "microsoft365".into(),
            needs_reconnect: None,
            refresh_issued_at: None,
            resource: resource.map(str::to_owned),
            other_resources: std::collections::BTreeMap::new(),
        }
    }

    /// Microsoft's token is per API: Connect's serves its own API's scopes; another
    /// API's is kept beside it and used while it lasts; Google's one token serves all.
    #[test]
    fn another_apis_token_is_kept_beside_connects_and_used_while_it_lasts() {
        let provider = microsoft();
        let graph = ["https://graph.microsoft.com/Mail.Send".to_owned()];
        let outlook = ["https://outlook.office.com/SMTP.Send".to_owned()];
        let mut tokens = connected(Some("https://outlook.office.com"), &[]);
        assert_eq!(tokens.other_resource(&provider, &outlook), None, "Connect's own API");
        assert_eq!(tokens.other_resource(&provider, &[]), None);
        let resource = tokens.other_resource(&provider, &graph).expect("Graph is another API");
        assert_eq!(resource, "https://graph.microsoft.com");
        assert!(tokens.usable(Some(&resource)).is_none(), "none yet: a refresh is due");
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        tokens.other_resources.insert(
            resource.clone(),
            ResourceToken { access_token: Secret::new("graph-token"), expires_at: Some(later) },
        );
        assert_eq!(tokens.usable(Some(&resource)).unwrap().expose(), "graph-token");
        assert_eq!(tokens.usable(None).unwrap().expose(), "outlook-token");
        // Older token sets name no resource: their granted scopes say which it is.
        let older = connected(None, &["openid", "https://outlook.office.com/IMAP.AccessAsUser.All"]);
        assert_eq!(older.other_resource(&provider, &outlook), None);
        assert!(older.other_resource(&provider, &graph).is_some());
        // A sign-in that ended serves nothing; Google issues one token for everything.
        tokens.needs_reconnect = Some("gone".into());
        assert!(tokens.usable(Some(&resource)).is_none() && tokens.usable(None).is_none());
        let google = ResolvedProvider { token_per_resource: false, ..provider };
        assert_eq!(connected(None, &[]).other_resource(&google, &graph), None);
        // Kept through the store's JSON.
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("s.json"));
        let mut kept = connected(Some("https://outlook.office.com"), &[]);
        kept.other_resources.insert(
            resource.clone(),
            ResourceToken { access_token: Secret::new("graph-token"), expires_at: Some(later) },
        );
        kept.save(&secrets, "s").unwrap();
        let loaded = TokenSet::load(&secrets, "s").unwrap().unwrap();
        assert_eq!(loaded.resource.as_deref(), Some("https://outlook.office.com"));
        assert_eq!(loaded.other_resources[&resource].access_token.expose(), "graph-token");
    }
}
