//! The one way from a setting to a working connection. [`access_token`] gives a
//! setting's token (a person's, refreshed when needed, or the app's own);
//! [`connection_inputs`] both sides' servers and sign-ins — for the checks,
//! `send`, `token` and the bridge alike. [`run`] is the one way to run a check,
//! for the CLI and the window's job threads: it resolves the trust store, gets
//! the sign-ins (never for Detect, which only needs the servers' addresses), runs
//! the probe and hands back its result; [`record`] then notes a test of a
//! migration's new setting. Sits above `probe` and `oauth`, which know nothing of
//! each other.

mod for_setting;

pub use for_setting::diagnosis as setting_diagnosis;
use thiserror::Error;

use crate::cancel::CancelToken;
use crate::model::{Config, MailSetting};
use crate::probe::{self, ProbeOptions, Report};
use crate::secret::Secret;
use crate::store::{SecretKind, SecretStoreError, Secrets, Workspace};
use std::io::Read as _;

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Test Outgoing Settings: two test emails to this address.
    Outgoing { to: String },
    /// Test Incoming Settings: sign in, check the folders.
    Incoming,
    /// Sign in for sending and quit, no message (every scheduled check).
    SendingSignIn,
    /// A message to the incoming mailbox, waited for.
    RoundTrip,
    /// Which security mode each standard port speaks.
    Detect,
    /// The mail left in these folders.
    Leftover { folders: Vec<String> },
}

/// What a check found.
#[derive(Debug)]
pub enum CheckResult {
    Report(Box<Report>),
    Leftover(Box<probe::imap::Leftover>),
}

impl CheckResult {
    pub fn report(&self) -> &Report {
        match self {
            Self::Report(report) => report,
            Self::Leftover(leftover) => &leftover.report,
        }
    }
}

/// Why a check could not start (it ran and failed: that is a failed [`Report`]).
#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Trust(#[from] crate::tls::TrustError),
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
}

/// The one way to a setting's access token, for every caller (the checks, `send`,
/// `token`, the bridge): `None` for Basic settings; for OAuth settings a fresh
/// token — the app's own (app-only) or the signed-in person's, refreshed when
/// needed — or the reason there is none (which a probe reports as its sign-in failure).
pub fn access_token(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    options: &ProbeOptions,
) -> Option<Result<Secret, probe::TokenFailure>> {
    side_access_token(setting, config, secrets, options, TokenFor::Connect)
}

/// Which scopes an access token must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFor {
    /// Connect's own token, as the sign-in gave it (`mailsettings token`).
    Connect,
    /// One side's: SMTP's or IMAP's scopes, or its API's.
    Side(crate::model::Protocol),
    /// One token for both sides (they go to the same API).
    BothSides,
}

/// A side's access token: the one Connect's token is for (`None`), or one that carries
/// what sending or reading needs — at Microsoft, whose tokens are per API, Graph's
/// beside Outlook's when one side goes through Graph and the other by SMTP or IMAP.
pub(crate) fn side_access_token(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    options: &ProbeOptions,
    wanted: TokenFor,
) -> Option<Result<Secret, probe::TokenFailure>> {
    if !setting.uses_oauth() {
        return None;
    }
    let failure = |err: crate::oauth::tokens::TokenError| {
        // A sign-in that ended says why and what to do (Google's Testing apps, a revocation…).
        let next = matches!(err, crate::oauth::tokens::TokenError::NeedsReconnect(_))
            .then(|| err.diagnosis())
            .flatten()
            .filter(|d| d.signature != "oauth-unrecognised")
            .map(|d| format!(" Next: {}", d.next_step))
            .unwrap_or_default();
        // A refusal (not an ended sign-in, which says "Next:" above) is told by its own diagnosis.
        let diagnosis = matches!(err, crate::oauth::tokens::TokenError::Refused(_))
            .then(|| err.diagnosis())
            .flatten()
            .filter(|d| d.signature != "oauth-unrecognised");
        probe::TokenFailure { temporary: err.is_temporary(), reason: format!("{err}{next}"), diagnosis }
    };
    let provider = match crate::oauth::provider::resolve(setting, config) {
        Ok(provider) => crate::oauth::provider::with_stored_client_secret(provider, secrets),
        Err(err) => {
            return Some(Err(probe::TokenFailure { reason: err.to_string(), temporary: false, diagnosis: None }));
        }
    };
    let timeout = options.connect_timeout.max(std::time::Duration::from_secs(10));
    let route = crate::oauth::http::route_for(&config.network, secrets);
    let transport = match wanted {
        TokenFor::Side(crate::model::Protocol::Smtp) => setting.smtp.sends_with,
        TokenFor::Side(crate::model::Protocol::Imap) | TokenFor::BothSides => setting.imap.reads_with,
        TokenFor::Connect => crate::model::setting::Transport::Protocol,
    };
    if setting.oauth_flow == crate::model::OAuthFlow::App {
        let mut provider = crate::oauth::provider::with_stored_app_certificate(provider, secrets);
        // The API's own app-only scope (`https://graph.microsoft.com/.default`) for a side through it.
        if let Some(api) = crate::model::providers::api_for(transport).filter(|api| !api.app_scopes.is_empty()) {
            provider.app_scopes = api.app_scopes.iter().map(|s| (*s).to_owned()).collect();
        }
        return Some(
            crate::oauth::tokens::app_access_token(&provider, (options.tls.clone(), &route), timeout).map_err(failure),
        );
    }
    let scopes = match wanted {
        TokenFor::Side(crate::model::Protocol::Smtp) => provider.sending_scopes.clone(),
        TokenFor::Side(crate::model::Protocol::Imap) => provider.reading_scopes.clone(),
        TokenFor::BothSides => {
            let mut both = provider.reading_scopes.clone();
            both.extend(provider.sending_scopes.iter().filter(|s| !provider.reading_scopes.contains(s)).cloned());
            both
        }
        TokenFor::Connect => Vec::new(),
    };
    Some(
        crate::oauth::tokens::fresh_access_token_for(
            secrets,
            &setting.id,
            &provider,
            &scopes,
            (&options.tls, &route),
            timeout,
        )
        .map_err(failure),
    )
}

/// Both sides of a setting, ready to connect: servers, user names, and the
/// password or a fresh token each side signs in with (the one way, for the checks,
/// `send` and the bridge).
pub(crate) fn connection_inputs(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    options: &ProbeOptions,
) -> Result<(probe::OutgoingInput, probe::IncomingInput), SecretStoreError> {
    // One token for both sides, unless the provider issues one per API and the sides need two.
    let separate = crate::oauth::provider::resolve(setting, config).is_ok_and(|p| {
        p.token_per_resource
            && setting.smtp.sends_with != setting.imap.reads_with
            && setting.smtp_credential().uses_oauth()
            && setting.imap_credential().uses_oauth()
    });
    let shared = if setting.smtp_credential().uses_oauth() && setting.imap_credential().uses_oauth() {
        TokenFor::BothSides
    } else {
        TokenFor::Side(side_of_token(setting))
    };
    let bearer = if separate { None } else { side_access_token(setting, config, secrets, options, shared) };
    // Each side as it signs in: a relay's password beside an OAuth mailbox, or one credential for both.
    let sign_in = |kind: SecretKind, what: &str| -> Result<probe::SignIn, SecretStoreError> {
        let credential =
            if kind == SecretKind::SmtpPassword { setting.smtp_credential() } else { setting.imap_credential() };
        if credential.uses_oauth() {
            let own;
            let bearer = if separate {
                let side = if kind == SecretKind::SmtpPassword {
                    crate::model::Protocol::Smtp
                } else {
                    crate::model::Protocol::Imap
                };
                own = side_access_token(setting, config, secrets, options, TokenFor::Side(side));
                &own
            } else {
                &bearer
            };
            return Ok(match bearer {
                Some(Ok(token)) => probe::SignIn::Bearer(token.clone()),
                Some(Err(failure)) if failure.temporary => probe::SignIn::TokenUnavailable(failure.reason.clone()),
                Some(Err(failure)) if failure.diagnosis.is_some() => probe::SignIn::Refused(failure.clone()),
                Some(Err(failure)) => probe::SignIn::Missing(failure.reason.clone()),
                None => probe::SignIn::Missing("this setting is not connected: press Connect to sign in".to_owned()),
            });
        }
        Ok(match secrets.get(&setting.id, kind)? {
            Some(password) if !password.is_empty() => probe::SignIn::Password(password),
            _ => probe::SignIn::Missing(format!("no {what} password is stored for this setting")),
        })
    };
    let smtp = sign_in(SecretKind::SmtpPassword, "outgoing")?;
    let imap = sign_in(SecretKind::ImapPassword, "incoming")?;
    Ok(probe::inputs_for(setting, smtp, imap))
}

/// The side whose scopes one shared token is asked with: reading's when it signs in
/// with OAuth (Connect's first), else sending's.
fn side_of_token(setting: &MailSetting) -> crate::model::Protocol {
    if setting.imap_credential().uses_oauth() { crate::model::Protocol::Imap } else { crate::model::Protocol::Smtp }
}

/// Runs `check` with `setting`'s servers and sign-in. `subject_id` is the
/// setting the result is reported under (a migration's old setting whose
/// folders are read through the new one's sign-in); usually `setting.id`.
pub fn run(
    check: &Check,
    setting: &MailSetting,
    subject_id: &str,
    config: &Config,
    secrets: &Secrets,
    cancel: &CancelToken,
) -> Result<CheckResult, CheckError> {
    let options = ProbeOptions::from_config(config)?;
    // Only what signs in needs a token refresh or a password: Detect never reads a credential.
    let inputs = || -> Result<(probe::OutgoingInput, probe::IncomingInput), CheckError> {
        let (mut outgoing, mut incoming) = connection_inputs(setting, config, secrets, &options)?;
        outgoing.setting_id = subject_id.into();
        incoming.setting_id = subject_id.into();
        Ok((outgoing, incoming))
    };
    let sending_api = api_road(setting, config, crate::model::Protocol::Smtp);
    let reading_api = api_road(setting, config, crate::model::Protocol::Imap);
    let route = || crate::oauth::http::route_for(&config.network, secrets);
    let report = match check {
        Check::Detect => {
            let (smtp, imap) = probe::inputs::endpoints(setting);
            probe::detect::detect(subject_id, &smtp, &imap, &options, cancel)
        }
        Check::Outgoing { to } => match &sending_api {
            Some(road) => crate::mailapi::test_outgoing(road, &inputs()?.0, to, &options, &route(), cancel),
            None => probe::smtp::test_outgoing(&inputs()?.0, to, &options, cancel),
        },
        Check::Incoming => match &reading_api {
            Some(road) => crate::mailapi::test_incoming(road, &inputs()?.1, &options, &route(), cancel),
            None => probe::imap::test_incoming(&inputs()?.1, &options, cancel),
        },
        Check::SendingSignIn => match &sending_api {
            Some(road) => crate::mailapi::test_sign_in(road, &inputs()?.0),
            None => probe::smtp::test_sign_in(&inputs()?.0, &options, cancel),
        },
        Check::RoundTrip => {
            let (outgoing, incoming) = inputs()?;
            match (&sending_api, &reading_api) {
                (_, Some(road)) => {
                    crate::mailapi::roundtrip(road, (&outgoing, &incoming), true, &options, &route(), cancel)
                }
                (Some(road), None) => {
                    crate::mailapi::roundtrip(road, (&outgoing, &incoming), false, &options, &route(), cancel)
                }
                (None, None) => probe::imap::roundtrip(&outgoing, &incoming, &options, cancel),
            }
        }
        Check::Leftover { folders } => {
            let incoming = inputs()?.1;
            let mut leftover = match &reading_api {
                Some(road) => crate::mailapi::leftover(road, &incoming, folders, &options, &route(), cancel),
                None => probe::imap::leftover(&incoming, folders, &options, cancel),
            };
            leftover.report.name_support(&config.support_contact());
            return Ok(CheckResult::Leftover(Box::new(leftover)));
        }
    };
    let mut report = for_setting::diagnosis(report, setting);
    report.name_support(&config.support_contact());
    Ok(CheckResult::Report(Box::new(report)))
}

/// The largest message sent through a mail API (read whole, as the API takes it in one
/// request): the size the providers' own limits allow at most (Gmail 35 MB; Graph less).
pub const MAX_API_MESSAGE: u64 = 35 * 1024 * 1024;

/// Sends one message through `setting` as it sends — SMTP (streamed) or its provider's
/// API — for `mailsettings send`, alert emails and anything else that delivers: the one
/// way, so a setting whose tenant switched SMTP AUTH off still delivers everywhere.
pub(crate) fn deliver(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    (envelope_from, recipients): (&str, &[String]),
    message: &mut dyn std::io::Read,
    cancel: &CancelToken,
) -> Result<Report, CheckError> {
    let options = ProbeOptions::from_config(config)?;
    let (outgoing, _) = connection_inputs(setting, config, secrets, &options)?;
    let Some(road) = api_road(setting, config, crate::model::Protocol::Smtp) else {
        return Ok(probe::smtp::relay_message(&outgoing, envelope_from, recipients, message, &options, cancel));
    };
    let mut mime = Vec::new();
    let read = std::io::Read::take(message, MAX_API_MESSAGE + 1).read_to_end(&mut mime);
    let route = crate::oauth::http::route_for(&config.network, secrets);
    Ok(match read {
        Ok(_) if mime.len() as u64 > MAX_API_MESSAGE => crate::mailapi::message_refused(
            &road,
            &outgoing,
            &format!("the message is larger than {} MB, more than the API takes", MAX_API_MESSAGE / 1024 / 1024),
        ),
        Ok(_) => {
            let mime = crate::mailapi::with_envelope(&mime, recipients);
            crate::mailapi::send_message(&road, &outgoing, &mime, &options, &route, cancel)
        }
        Err(err) => crate::mailapi::message_refused(&road, &outgoing, &format!("the message could not be read: {err}")),
    })
}

/// Where a side goes through a provider's API, which API, at what address and for
/// which mailbox; `None` for a side by SMTP or IMAP. At Microsoft a person's own
/// mailbox is `/me`; a shared mailbox (read by its delegate) and app-only access name it.
pub(crate) fn api_road(
    setting: &MailSetting,
    config: &Config,
    side: crate::model::Protocol,
) -> Option<crate::mailapi::ApiRoad> {
    use crate::model::Protocol;
    use crate::model::setting::Transport;
    let transport = match side {
        Protocol::Smtp => setting.smtp.sends_with,
        Protocol::Imap => setting.imap.reads_with,
    };
    let api = crate::model::providers::api_for(transport)?;
    let base_url = crate::oauth::provider::resolve(setting, config)
        .ok()
        .and_then(|provider| provider.api_url)
        .unwrap_or_else(|| api.base_url.to_owned());
    let app_only = setting.oauth_flow == crate::model::OAuthFlow::App;
    let mailbox = match (transport, side) {
        (Transport::Graph, Protocol::Smtp) if app_only => Some(setting.smtp.user_name.trim().to_owned()),
        (Transport::Graph, Protocol::Imap) if app_only || setting.shared_mailbox_delegate().is_some() => {
            Some(setting.imap.user_name.trim().to_owned())
        }
        _ => None,
    };
    Some(crate::mailapi::ApiRoad { transport, base_url, mailbox })
}

/// Takes the server's own folder in place of a configured one it does not have
/// (Test Incoming's [`probe::folders::FolderFix`]: "Sent" → "Sent Items"), saved
/// through the workspace so the audit log records it.
pub(crate) fn use_server_folder(
    workspace: &mut Workspace,
    setting_id: &str,
    fix: &probe::folders::FolderFix,
) -> Result<(), crate::store::WorkspaceError> {
    workspace.apply("use-server-folder", |config| {
        let setting = config
            .setting_mut(setting_id)
            .ok_or_else(|| crate::model::GuardError::UnknownSetting(setting_id.to_owned()))?;
        let field = match fix.role {
            probe::folders::FolderRole::Inbox => &mut setting.imap.inbox_folder,
            probe::folders::FolderRole::Sent => &mut setting.imap.sent_folder,
        };
        fix.server_folder.clone_into(field);
        Ok(())
    })
}
