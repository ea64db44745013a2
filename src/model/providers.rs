//! The provider catalogue: every built-in provider as one entry — its id, its
//! one label, how its mailboxes sign in, its servers, its sign-in endpoints and
//! scopes, how its app is registered, and whether a Basic setting can migrate to
//! it. Presets, sign-in, the Sign-in apps view, `oauth-app show`, the migration's
//! targets and the credential type's words all read it; adding a provider is
//! adding an entry to [`CATALOGUE`] (see the test at the end).
//!
//! Facts from the providers' documentation (see `../shared/reference`).

use super::setting::{CredentialKind, MailSetting, Security, Transport};

/// A host, port and security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub server: &'static str,
    pub port: u16,
    pub security: Security,
}

/// One built-in provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// The id in the config file (`credential = "microsoft365"`, `[[oauth_provider]] id`) and on the CLI.
    pub id: &'static str,
    /// The one name people see for it as a choice (the credential type, a preset).
    pub label: &'static str,
    /// The product's name in running text: "Sign in to …", "Collections (… OAuth)".
    pub name: &'static str,
    /// Other ids the CLI accepts for it (`migrate start --to m365`).
    pub aliases: &'static [&'static str],
    /// How its mailboxes sign in: its own credential type, or Basic for relays.
    pub credential: CredentialKind,
    pub smtp: Endpoint,
    /// `None` for send-only relays.
    pub imap: Option<Endpoint>,
    /// A fixed SMTP user name the provider requires (SendGrid: `apikey`).
    pub smtp_user_name: Option<&'static str>,
    /// The provider's own name for the sent folder ("Sent Items" at Microsoft 365), where it is
    /// not the guide's general default "Sent"; `None` for relays.
    pub sent_folder: Option<&'static str>,
    /// OAuth2 sign-in; `None` for providers that take a password (or API key).
    pub sign_in: Option<SignIn>,
    /// Its own HTTP API for mail (Microsoft Graph, the Gmail API), with the sign-in above.
    pub api: Option<MailApi>,
}

/// A provider's own HTTP API for sending and reading mail, for tenants where SMTP AUTH
/// or IMAP is switched off. The same sign-in (Connect, or the app's own) asks for these
/// scopes instead of the mail servers' when a side goes through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailApi {
    pub transport: Transport,
    /// Its address (an `[[oauth_provider]]`'s `api_url` points it elsewhere, as the test rig does).
    pub base_url: &'static str,
    /// To send as the person who signs in (and as mailboxes they have Send As on).
    pub send_scopes: &'static [&'static str],
    /// To read the person's own mailbox's folders.
    pub read_scopes: &'static [&'static str],
    /// To read a mailbox the person was granted Full Access to (a shared mailbox's delegate).
    pub shared_read_scopes: &'static [&'static str],
    /// Scopes of an app-only token for the API; empty where there is none.
    pub app_scopes: &'static [&'static str],
    /// The app registration's permissions for the API, in the console's words.
    pub permissions_step: &'static str,
}

/// How a provider's OAuth2 sign-in works. `{tenant}` in an address is replaced by
/// the setting's tenant (or the sign-in app's, else `organizations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignIn {
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub revoke_url: Option<&'static str>,
    pub userinfo_url: Option<&'static str>,
    /// RFC 8628 sign-in on another device; `None` where the provider has none for mail.
    pub device_authorization_url: Option<&'static str>,
    /// What sending by SMTP and reading by IMAP need (a side through the provider's
    /// API asks for [`MailApi`]'s scopes instead).
    pub smtp_scopes: &'static [&'static str],
    pub imap_scopes: &'static [&'static str],
    /// Asked for beside the mail scopes: who signed in, and a refresh token.
    pub identity_scopes: &'static [&'static str],
    /// Microsoft issues one access token per API (resource): a setting sending through
    /// Graph and reading by IMAP holds a token for each, from one refresh token.
    pub token_per_resource: bool,
    /// Scopes of an app-only token; empty where the provider has no app-only access for mail.
    pub app_scopes: &'static [&'static str],
    /// `localhost` (Microsoft) or `127.0.0.1` (Google).
    pub redirect_host: &'static str,
    pub authorize_params: &'static [(&'static str, &'static str)],
    /// Whether settings name a tenant (Microsoft Entra).
    pub has_tenant: bool,
    /// Whether a client id must be a GUID (Microsoft's "Application (client) ID").
    pub client_id_is_guid: bool,
    /// The client id field's label, in the provider's console's words.
    pub client_id_label: &'static str,
    /// What a client id looks like, shown in the empty field.
    pub client_id_hint: &'static str,
    /// A client id built into this copy by a vendor build (see [`embedded_client_id`]).
    pub embedded_client_id: Option<&'static str>,
    /// Registering the organisation's app, step by step (the Sign-in apps view).
    pub registration_steps: &'static [&'static str],
    /// The sign-in app needs a client secret too (Google desktop apps).
    pub needs_client_secret: bool,
    /// Where a tenant's administrator approves the app for everyone (`{tenant}`,
    /// `{client_id}` filled in), for tenants where users may not consent themselves.
    pub admin_consent_url: Option<&'static str>,
}

pub const MICROSOFT_365: Provider = Provider {
    id: "microsoft365",
    label: "Microsoft 365 (MSO365)",
    name: "Microsoft 365",
    aliases: &["m365"],
    credential: CredentialKind::Microsoft365,
    smtp: Endpoint { server: "smtp.office365.com", port: 587, security: Security::Starttls },
    imap: Some(Endpoint { server: "outlook.office365.com", port: 993, security: Security::Tls }),
    smtp_user_name: None,
    sent_folder: Some("Sent Items"),
    sign_in: Some(SignIn {
        authorize_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        revoke_url: None,
        userinfo_url: Some("https://graph.microsoft.com/oidc/userinfo"),
        device_authorization_url: Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"),
        smtp_scopes: &["https://outlook.office.com/SMTP.Send"],
        imap_scopes: &["https://outlook.office.com/IMAP.AccessAsUser.All"],
        identity_scopes: &["offline_access", "openid", "email", "profile"],
        token_per_resource: true,
        app_scopes: &["https://outlook.office365.com/.default"],
        redirect_host: "localhost",
        authorize_params: &[],
        has_tenant: true,
        client_id_is_guid: true,
        client_id_label: "Application (client) ID",
        client_id_hint: "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab",
        embedded_client_id: option_env!("MAILSETTINGS_MICROSOFT365_CLIENT_ID"),
        registration_steps: &[
            "In the Microsoft Entra admin center, open App registrations > New registration.",
            "Name it (e.g. \"Mail Settings\"); supported account types: accounts in this organizational directory only.",
            "Redirect URI: platform \"Public client/native (mobile & desktop)\", URI http://localhost",
            "API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Delegated: \
             IMAP.AccessAsUser.All and SMTP.Send; plus Microsoft Graph offline_access, openid, email, profile. Grant \
             admin consent.",
            "Authentication > Allow public client flows: Yes (no client secret is needed).",
            "Copy the \"Application (client) ID\" from the Overview page into the field below.",
        ],
        needs_client_secret: false,
        admin_consent_url: Some("https://login.microsoftonline.com/{tenant}/adminconsent?client_id={client_id}"),
    }),
    api: Some(MailApi {
        transport: Transport::Graph,
        base_url: "https://graph.microsoft.com/v1.0",
        send_scopes: &["https://graph.microsoft.com/Mail.Send"],
        // The automation files what it reads (moves replies to its folders): read and write.
        read_scopes: &["https://graph.microsoft.com/Mail.ReadWrite"],
        shared_read_scopes: &["https://graph.microsoft.com/Mail.ReadWrite.Shared"],
        app_scopes: &["https://graph.microsoft.com/.default"],
        permissions_step: "API permissions > Add a permission > Microsoft Graph > Delegated: Mail.Send and \
                           Mail.ReadWrite (Mail.Send.Shared and Mail.ReadWrite.Shared for a shared mailbox); for \
                           app-only access Application: Mail.Send and Mail.ReadWrite, limited to the mailbox with \
                           RBAC for Applications. Grant admin consent.",
    }),
};

pub const GMAIL: Provider = Provider {
    id: "gmail",
    label: "Gmail",
    name: "Gmail",
    aliases: &[],
    credential: CredentialKind::Gmail,
    smtp: Endpoint { server: "smtp.gmail.com", port: 587, security: Security::Starttls },
    imap: Some(Endpoint { server: "imap.gmail.com", port: 993, security: Security::Tls }),
    smtp_user_name: None,
    sent_folder: Some("[Gmail]/Sent Mail"),
    sign_in: Some(SignIn {
        authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        revoke_url: Some("https://oauth2.googleapis.com/revoke"),
        userinfo_url: Some("https://openidconnect.googleapis.com/v1/userinfo"),
        // Google's device flow does not allow the mail scope.
        device_authorization_url: None,
        smtp_scopes: &["https://mail.google.com/"],
        imap_scopes: &["https://mail.google.com/"],
        identity_scopes: &["openid", "email"],
        // One token carries every Google scope (https://mail.google.com/ covers the Gmail API too).
        token_per_resource: false,
        app_scopes: &[],
        redirect_host: "127.0.0.1",
        // Google issues a refresh token only for offline access with consent.
        authorize_params: &[("access_type", "offline"), ("prompt", "consent")],
        has_tenant: false,
        client_id_is_guid: false,
        client_id_label: "Client ID",
        client_id_hint: "1234-abc.apps.googleusercontent.com",
        embedded_client_id: option_env!("MAILSETTINGS_GMAIL_CLIENT_ID"),
        registration_steps: &[
            "In Google Cloud console, APIs & Services > OAuth consent screen: set it up (internal for Workspace) with \
             the scope https://mail.google.com/",
            "Credentials > Create credentials > OAuth client ID > Application type \"Desktop app\".",
            "Copy the client ID (it ends in .apps.googleusercontent.com) into the field below.",
            "Google also issues a \"client secret\" for desktop apps: enter it below too. It is kept in the OS \
             credential store, never in the config file (or from a terminal: mailsettings oauth-app set gmail \
             --client-id … --client-secret-stdin).",
        ],
        needs_client_secret: true,
        // A Workspace administrator trusts the app in the Admin console instead (no link).
        admin_consent_url: None,
    }),
    api: Some(MailApi {
        transport: Transport::GmailApi,
        base_url: "https://gmail.googleapis.com/gmail/v1",
        send_scopes: &["https://www.googleapis.com/auth/gmail.send"],
        read_scopes: &["https://www.googleapis.com/auth/gmail.readonly"],
        shared_read_scopes: &[],
        app_scopes: &[],
        permissions_step: "Enable the Gmail API for the project (APIs & Services > Library > Gmail API) and add the \
                           scopes gmail.send and gmail.readonly to the consent screen (gmail.readonly is a restricted \
                           scope: an Internal app needs no verification, a public one needs Google's verification \
                           and a yearly security assessment).",
    }),
};

pub const SENDGRID: Provider = Provider {
    id: "sendgrid",
    label: "SendGrid",
    name: "SendGrid",
    aliases: &[],
    credential: CredentialKind::Basic,
    smtp: Endpoint { server: "smtp.sendgrid.net", port: 587, security: Security::Starttls },
    imap: None,
    smtp_user_name: Some("apikey"),
    sent_folder: None,
    sign_in: None,
    api: None,
};

pub const POSTMARK: Provider = Provider {
    id: "postmark",
    label: "Postmark",
    name: "Postmark",
    aliases: &[],
    credential: CredentialKind::Basic,
    smtp: Endpoint { server: "smtp.postmarkapp.com", port: 587, security: Security::Starttls },
    imap: None,
    smtp_user_name: None,
    sent_folder: None,
    sign_in: None,
    api: None,
};

/// Microsoft switches Basic (password) authentication for SMTP AUTH off by default in
/// every tenant at the end of December 2026 (existing tenants may switch it back on for a
/// while; new tenants start without it; the final removal is to be announced).
pub const MICROSOFT_BASIC_SMTP_OFF: time::Date = time::macros::date!(2026 - 12 - 31);

/// The API (resource) a scope belongs to — `https://graph.microsoft.com` for
/// `https://graph.microsoft.com/Mail.Send` — or `None` for the sign-in's own
/// (`openid`, `offline_access`).
pub(crate) fn resource_of(scope: &str) -> Option<&str> {
    let rest = scope.strip_prefix("https://")?;
    let host_end = rest.find('/').map_or(scope.len(), |at| at + "https://".len());
    Some(&scope[..host_end])
}

/// Whether a host is one of Microsoft's mail servers (Exchange Online, Outlook.com).
pub(crate) fn is_microsoft_host(host: &str) -> bool {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    ["office365.com", "outlook.com"].iter().any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// For a setting that sends with a password through Microsoft's servers: the days
/// until Basic SMTP AUTH goes off by default (negative after), and that in words.
pub(crate) fn basic_smtp_ending(setting: &MailSetting, today: time::Date) -> Option<(i64, String)> {
    if setting.smtp_credential() != CredentialKind::Basic || !is_microsoft_host(&setting.smtp.server) {
        return None;
    }
    let days = (MICROSOFT_BASIC_SMTP_OFF - today).whole_days();
    let when = match days {
        2.. => format!("in {days} days"),
        1 => "tomorrow".to_owned(),
        0 => "today".to_owned(),
        _ => {
            return Some((
                days,
                "Microsoft switched Basic (password) sign-in for sending off by default on 31 December 2026: this \
                 setting's mail is refused unless the tenant switched it back on for a while. Migrate it to \
                 Microsoft 365 OAuth."
                    .to_owned(),
            ));
        }
    };
    Some((
        days,
        format!(
            "Microsoft switches Basic (password) sign-in for sending off by default on 31 December 2026 — {when}. \
             Migrate this setting to Microsoft 365 OAuth before then."
        ),
    ))
}

/// For a setting that receives with a password from Microsoft's servers: why that cannot
/// work. Exchange Online switched Basic authentication for IMAP off in October 2022 and
/// answers every password, right or wrong, with "LOGIN failed.".
pub(crate) fn basic_imap_refused(setting: &MailSetting) -> Option<&'static str> {
    (setting.imap_credential() == CredentialKind::Basic && is_microsoft_host(&setting.imap.server)).then_some(
        "Microsoft has refused every password (Basic authentication) for IMAP since October 2022, so this \
         setting cannot receive mail whatever the password. Migrate it to Microsoft 365 OAuth.",
    )
}

/// Every built-in provider, mailbox providers first.
pub const CATALOGUE: [Provider; 4] = [MICROSOFT_365, GMAIL, SENDGRID, POSTMARK];

/// The built-in provider with this id.
pub(crate) fn by_id(id: &str) -> Option<&'static Provider> {
    CATALOGUE.iter().find(|p| p.id == id.trim())
}

/// The built-in provider with this id or one of its aliases.
pub(crate) fn by_id_or_alias(id: &str) -> Option<&'static Provider> {
    by_id(id).or_else(|| CATALOGUE.iter().find(|p| p.aliases.contains(&id.trim())))
}

/// The built-in provider whose own credential type this is (none for Basic and custom OAuth2).
pub(crate) fn for_credential(credential: CredentialKind) -> Option<&'static Provider> {
    CATALOGUE.iter().find(|p| p.credential == credential && p.sign_in.is_some())
}

impl SignIn {
    /// What a setting sending by SMTP and reading by IMAP asks for at Connect.
    pub fn protocol_scopes(&self) -> Vec<&'static str> {
        let mut scopes: Vec<&'static str> = Vec::new();
        for scope in self.imap_scopes.iter().chain(self.smtp_scopes).chain(self.identity_scopes) {
            if !scopes.contains(scope) {
                scopes.push(scope);
            }
        }
        scopes
    }
}

/// The built-in API a transport goes through (none for SMTP/IMAP).
pub(crate) fn api_for(transport: Transport) -> Option<&'static MailApi> {
    CATALOGUE.iter().filter_map(|p| p.api.as_ref()).find(|api| api.transport == transport)
}

/// The providers people sign in to with OAuth2 (Sign-in apps, migration targets).
pub(crate) fn signing_in() -> impl Iterator<Item = &'static Provider> {
    CATALOGUE.iter().filter(|p| p.sign_in.is_some())
}

/// A client id built into this copy at compile time for a built-in provider; an
/// `[[oauth_provider]]` in the config overrides it.
pub(crate) fn embedded_client_id(id: &str) -> Option<&'static str> {
    by_id(id)?.sign_in?.embedded_client_id.map(str::trim).filter(|c| !c.is_empty())
}

impl Provider {
    /// Whether this provider only sends (a relay: no mailbox to read).
    #[cfg(test)]
    pub(crate) fn is_relay(&self) -> bool {
        self.imap.is_none()
    }
}

/// Why a client id typed for a built-in provider cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {label} client id \"{client_id}\" is not a GUID: copy the \"Application (client) ID\" from the app's \
     Overview page in Microsoft Entra (it looks like 0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab)"
)]
pub struct ClientIdNotGuid {
    pub label: &'static str,
    pub client_id: String,
}

/// Checks a client id typed for a provider (Sign-in apps, `oauth-app set`); custom providers pass.
pub(crate) fn check_client_id(provider: &str, client_id: &str) -> Result<(), ClientIdNotGuid> {
    match by_id(provider).and_then(|p| Some((p.label, p.sign_in?))) {
        Some((label, sign_in)) if sign_in.client_id_is_guid && !is_guid(client_id) => {
            Err(ClientIdNotGuid { label, client_id: client_id.trim().to_owned() })
        }
        _ => Ok(()),
    }
}

/// Whether `text` is a GUID (8-4-4-4-12 hex digits), the form of every Microsoft client id.
pub(crate) fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.trim().split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

// The credential type's words live here: a provider's credential type is named as its provider.
impl CredentialKind {
    /// The word the config file uses.
    pub(crate) fn config_name(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Oauth2 => "oauth2",
            provider => for_credential(provider).map_or("oauth2", |p| p.id),
        }
    }

    /// The words an admin sees.
    pub fn label(self) -> &'static str {
        match self {
            Self::Basic => "Basic (password)",
            Self::Oauth2 => "Custom OAuth2 provider",
            provider => for_credential(provider).map_or("OAuth2", |p| p.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_whole_and_ids_and_labels_are_unique() {
        for (i, provider) in CATALOGUE.iter().enumerate() {
            assert!(CATALOGUE[..i].iter().all(|p| p.id != provider.id && p.label != provider.label));
            assert_eq!(provider.is_relay(), provider.sign_in.is_none(), "{}: relays take a password", provider.id);
            if let Some(sign_in) = provider.sign_in {
                assert_eq!(for_credential(provider.credential), Some(provider));
                assert_eq!(provider.credential.config_name(), provider.id, "the config's word is the id");
                assert_eq!(provider.credential.label(), provider.label, "one label");
                assert!(!sign_in.smtp_scopes.is_empty() && !sign_in.imap_scopes.is_empty());
                if let Some(api) = provider.api {
                    assert_eq!(api.transport.provider_credential(), Some(provider.credential), "its own API");
                    assert!(!api.send_scopes.is_empty() && !api.read_scopes.is_empty());
                    assert_eq!(api_for(api.transport), Some(&api));
                }
                assert!(!sign_in.registration_steps.is_empty());
            }
        }
    }

    /// Adding a provider is adding an entry: the presets (and so the form's "Fill
    /// servers from…" and the relay names) are made from the catalogue, whatever it holds.
    #[test]
    fn the_presets_are_the_catalogue() {
        let presets = super::super::presets::ALL;
        assert_eq!(presets.len(), CATALOGUE.len());
        for (preset, provider) in presets.iter().zip(CATALOGUE.iter()) {
            assert_eq!(*preset, super::super::presets::Preset::of(provider));
            assert_eq!(super::super::presets::relay_name(provider.smtp.server).is_some(), provider.is_relay());
        }
        // Client ids of built-in providers follow their entry's rule.
        assert!(check_client_id("microsoft365", "not-a-guid").is_err());
        assert!(check_client_id("microsoft365", "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab").is_ok());
        assert!(check_client_id("gmail", "123.apps.googleusercontent.com").is_ok());
        assert!(check_client_id("custom-idp", "anything").is_ok());
    }
}
