//! Which authorization server a setting signs in with: Microsoft 365 (v2.0
//! endpoints, the setting's tenant), Gmail, or a custom `[[oauth_provider]]`.
//! An `[[oauth_provider]]` with id `microsoft365` or `gmail` supplies that
//! provider's client id and may override its endpoints (national clouds, tests).

use thiserror::Error;

use crate::model::providers::{self, Provider};
use crate::model::{Config, CredentialKind, MailSetting, OAuthProvider};
use crate::secret::Secret;

/// Everything the flow needs to talk to one authorization server.
#[derive(Debug, Clone)]
pub struct ResolvedProvider {
    /// The `[[oauth_provider]]` id or built-in name (where tokens came from).
    pub id: String,
    pub label: String,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
    /// RFC 8628: sign-in on another device (`connect --device`); `None` where the provider has none for mail.
    pub device_authorization_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// App-only access: the app's certificate, which signs in instead of a client secret.
    pub client_certificate: Option<super::assertion::ClientCertificate>,
    pub scopes: Vec<String>,
    /// Scopes of an app-only token; empty where the provider has no app-only access for mail.
    pub app_scopes: Vec<String>,
    /// `localhost` (Microsoft) or `127.0.0.1` (Google).
    pub redirect_host: String,
    pub authorize_params: Vec<(String, String)>,
    /// Scopes the mail servers need; missing ones are warned about after Connect.
    pub mail_scopes: Vec<String>,
    /// What each side's token needs: SMTP's or IMAP's scopes, or the mail API's.
    pub sending_scopes: Vec<String>,
    pub reading_scopes: Vec<String>,
    /// Microsoft issues one access token per API (resource); see [`providers::SignIn`].
    pub token_per_resource: bool,
    /// The mail API's address (Graph, the Gmail API), for a provider that has one.
    pub api_url: Option<String>,
    /// Where the tenant's administrator approves the app for everyone, filled in.
    pub admin_consent_url: Option<String>,
    /// A Google app that is (or may be) in Testing: its refresh tokens end 7 days after sign-in.
    pub may_be_testing: bool,
    /// Google's refresh-token lifetimes apply (six months unused, 100 per account and app),
    /// so a dead one is explained by its recorded dates.
    pub google_lifetimes: bool,
}

#[derive(Debug, Error)]
pub enum ProviderError {
    #[error(
        "no sign-in app is set up for {provider} yet: enter your organisation's app (client id) in the window's \
         Sign-in apps, or run: mailsettings oauth-app set {id} --client-id <the application (client) id>"
    )]
    MissingClientId { provider: &'static str, id: &'static str },
    #[error(transparent)]
    ClientIdNotGuid(#[from] providers::ClientIdNotGuid),
    #[error(
        "the setting uses OAuth2 provider \"{0}\", which is not in the config file; add an [[oauth_provider]] with that id"
    )]
    UnknownProvider(String),
    #[error("the setting does not choose an OAuth2 provider")]
    NoProvider,
    #[error("OAuth2 provider \"{id}\" has no {field}")]
    Incomplete { id: String, field: &'static str },
    #[error("\"{0}\" signs in with a password, not OAuth")]
    NotOAuth(String),
    #[error("{0}")]
    BadTenant(String),
}

/// The provider a setting connects with.
pub fn resolve(setting: &MailSetting, config: &Config) -> Result<ResolvedProvider, ProviderError> {
    match setting.oauth_credential().unwrap_or(CredentialKind::Basic) {
        CredentialKind::Basic => Err(ProviderError::NotOAuth(setting.id.clone().into())),
        builtin @ (CredentialKind::Microsoft365 | CredentialKind::Gmail) => {
            let provider = providers::for_credential(builtin).ok_or(ProviderError::NoProvider)?;
            from_catalogue(provider, setting, config)
        }
        CredentialKind::Oauth2 => {
            let id = setting
                .oauth_provider
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or(ProviderError::NoProvider)?;
            let entry = config.oauth_provider(id).ok_or_else(|| ProviderError::UnknownProvider(id.to_owned()))?;
            let require = |value: &str, field: &'static str| {
                if value.trim().is_empty() {
                    Err(ProviderError::Incomplete { id: id.to_owned(), field })
                } else {
                    Ok(value.trim().to_owned())
                }
            };
            Ok(ResolvedProvider {
                id: id.to_owned(),
                label: id.to_owned(),
                authorize_url: require(&entry.authorize_url, "authorize_url")?,
                token_url: require(&entry.token_url, "token_url")?,
                revoke_url: entry.revoke_url.clone().filter(|u| !u.trim().is_empty()),
                userinfo_url: entry.userinfo_url.clone().filter(|u| !u.trim().is_empty()),
                device_authorization_url: entry.device_authorization_url.clone().filter(|u| !u.trim().is_empty()),
                client_id: require(&entry.client_id, "client_id")?,
                client_secret: entry.client_secret.as_deref().filter(|s| !s.is_empty()).map(Secret::new),
                client_certificate: None,
                scopes: entry.scopes.clone(),
                app_scopes: entry.app_scopes.clone(),
                redirect_host: entry.redirect_host.clone().unwrap_or_else(|| "127.0.0.1".to_owned()),
                authorize_params: entry.authorize_params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                mail_scopes: Vec::new(),
                sending_scopes: Vec::new(),
                reading_scopes: Vec::new(),
                token_per_resource: false,
                api_url: None,
                admin_consent_url: None,
                may_be_testing: false,
                google_lifetimes: false,
            })
        }
    }
}

/// A built-in provider's sign-in, from its catalogue entry, with the organisation's
/// app (client id, tenant, endpoint overrides) from its `[[oauth_provider]]` entry.
fn from_catalogue(
    provider: &'static Provider,
    setting: &MailSetting,
    config: &Config,
) -> Result<ResolvedProvider, ProviderError> {
    let sign_in = provider.sign_in.ok_or_else(|| ProviderError::NotOAuth(setting.id.clone().into()))?;
    let entry = config.oauth_provider(provider.id);
    let app_tenant = entry.and_then(|p| p.tenant.as_deref());
    let tenant = [setting.tenant.as_deref(), app_tenant]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|t| !t.is_empty())
        .unwrap_or("organizations");
    // Also checked on every write; a hand-edited file reaches here too.
    if let Some(problem) = crate::model::endpoints::tenant_problem("Tenant", tenant) {
        return Err(ProviderError::BadTenant(problem));
    }
    let address = |template: &str| template.replace("{tenant}", tenant);
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let scopes = SettingScopes::of(provider, &sign_in, setting);
    let defaults = ResolvedProvider {
        id: provider.id.to_owned(),
        label: provider.label.to_owned(),
        authorize_url: address(sign_in.authorize_url),
        token_url: address(sign_in.token_url),
        revoke_url: sign_in.revoke_url.map(address),
        userinfo_url: sign_in.userinfo_url.map(address),
        device_authorization_url: sign_in.device_authorization_url.map(address),
        client_id: String::new(),
        client_secret: None,
        client_certificate: None,
        scopes: scopes.connect,
        app_scopes: owned(scopes.app),
        redirect_host: sign_in.redirect_host.to_owned(),
        authorize_params: sign_in.authorize_params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        mail_scopes: scopes.granted_at_connect,
        sending_scopes: scopes.sending,
        reading_scopes: scopes.reading,
        token_per_resource: sign_in.token_per_resource,
        api_url: provider.api.map(|api| api.base_url.to_owned()),
        admin_consent_url: sign_in.admin_consent_url.map(str::to_owned),
        may_be_testing: false,
        google_lifetimes: provider.credential == CredentialKind::Gmail,
    };
    let mut resolved = builtin(defaults, entry, provider.label, provider.id)?;
    // Google's apps start in Testing; only the admin knows whether theirs was published.
    let status = entry.and_then(|e| e.publishing_status.as_deref()).map(|s| s.trim().to_ascii_lowercase());
    resolved.may_be_testing =
        provider.credential == CredentialKind::Gmail && !matches!(status.as_deref(), Some("production" | "internal"));
    // An administrator approves for a named tenant: the setting's, the app's, else the mailbox's domain.
    let consent_tenant = Some(tenant)
        .filter(|t| !matches!(*t, "organizations" | "common"))
        .map(str::to_owned)
        .or_else(|| crate::model::setting::domain_of(&setting.imap.user_name))
        .filter(|t| crate::model::endpoints::tenant_problem("", t).is_none())
        .unwrap_or_else(|| "organizations".to_owned());
    // The client id goes into the link's query: encoded, whatever an app's id holds.
    let client_id: String = url::form_urlencoded::byte_serialize(resolved.client_id.as_bytes()).collect();
    let override_url = entry.and_then(|e| e.admin_consent_url.as_deref()).filter(|u| !u.trim().is_empty());
    resolved.admin_consent_url = override_url
        .map(str::to_owned)
        .or(resolved.admin_consent_url)
        .map(|template| template.replace("{tenant}", &consent_tenant).replace("{client_id}", &client_id));
    Ok(resolved)
}

impl ResolvedProvider {
    /// The API (resource) Connect's token is for, where the provider issues one per API.
    pub(crate) fn first_resource(&self) -> Option<String> {
        if !self.token_per_resource {
            return None;
        }
        self.scopes.iter().find_map(|s| providers::resource_of(s)).map(str::to_owned)
    }
}

/// The scopes a setting of a built-in provider asks for, from how each side goes:
/// SMTP's and IMAP's, or the provider's API's where a side goes through it.
struct SettingScopes {
    /// Asked for at Connect: reading's, sending's, then the sign-in's own.
    connect: Vec<String>,
    /// Of those, the mail scopes the first token is granted: with a token per
    /// resource, only the first resource's (the others come by refresh).
    granted_at_connect: Vec<String>,
    sending: Vec<String>,
    reading: Vec<String>,
    /// App-only: the API's `.default` where a side goes through it.
    app: &'static [&'static str],
}

impl SettingScopes {
    fn of(provider: &providers::Provider, sign_in: &providers::SignIn, setting: &MailSetting) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let api = provider.api.as_ref();
        let through_api = |transport: crate::model::setting::Transport| {
            api.filter(|api| !transport.is_protocol() && api.transport == transport)
        };
        let sending = match through_api(setting.smtp.sends_with) {
            Some(api) => owned(api.send_scopes),
            None => owned(sign_in.smtp_scopes),
        };
        let reading = match through_api(setting.imap.reads_with) {
            Some(api) if setting.shared_mailbox_delegate().is_some() => owned(api.shared_read_scopes),
            Some(api) => owned(api.read_scopes),
            None => owned(sign_in.imap_scopes),
        };
        let mut connect: Vec<String> = Vec::new();
        for scope in reading.iter().chain(&sending).chain(&owned(sign_in.identity_scopes)) {
            if !connect.contains(scope) {
                connect.push(scope.clone());
            }
        }
        let first_resource = connect.first().and_then(|s| providers::resource_of(s)).map(str::to_owned);
        let granted_at_connect = reading
            .iter()
            .chain(&sending)
            .filter(|s| !sign_in.token_per_resource || providers::resource_of(s) == first_resource.as_deref())
            .fold(Vec::new(), |mut all: Vec<String>, s| {
                if !all.contains(s) {
                    all.push(s.clone());
                }
                all
            });
        let app = match api {
            Some(api) if setting.uses_mail_api() && !api.app_scopes.is_empty() => api.app_scopes,
            _ => sign_in.app_scopes,
        };
        Self { connect, granted_at_connect, sending, reading, app }
    }
}

/// The request an admin forwards to the tenant's administrator when users may not
/// consent to the app's mail permissions: the approval link, and what to do there.
pub(crate) fn admin_consent_request(provider: &ResolvedProvider) -> Option<String> {
    let link = provider.admin_consent_url.as_deref()?;
    Some(format!(
        "Please approve our mail app for the organisation: open {link} signed in as an administrator of our \
         Microsoft 365 (Global, Cloud Application or Application Administrator) and accept the mail permissions \
         it asks for (IMAP.AccessAsUser.All and SMTP.Send). After that I can connect the mailbox; nothing else \
         needs to change."
    ))
}

/// The message an admin sends the organisation's IT administrator before the first
/// Connect, when no sign-in app is registered yet: the registration steps for
/// `provider`, written out, and what to send back — so a support call can send it
/// and go on instead of stopping. `None` for providers that sign in without an app.
pub(crate) fn registration_request(provider: &providers::Provider) -> Option<String> {
    let sign_in = provider.sign_in?;
    let mut text = format!(
        "Hello,\n\nTo connect our accounts-receivable mailbox to {} with OAuth (Basic passwords are being switched \
         off), Mail Settings needs a sign-in app registered once for our organisation. Could you please:\n\n",
        provider.label
    );
    for (number, step) in sign_in.registration_steps.iter().enumerate() {
        let step = step.replace("into the field below", "and send it to me");
        text.push_str(&format!("{}. {step}\n", number + 1));
    }
    if sign_in.admin_consent_url.is_some() {
        text.push_str(
            "\nIf you prefer to approve it by link afterwards: https://login.microsoftonline.com/<our tenant>/adminconsent?\
             client_id=<the Application (client) ID>, signed in as a Global, Cloud Application or Application \
             Administrator.\n",
        );
    }
    text.push_str(&format!(
        "\nPlease send me the {} when it is done; nothing else needs to change on our side.\n",
        sign_in.client_id_label
    ));
    Some(text)
}

/// When the client secret of the app `setting` signs in with expires, as the admin
/// entered it (or the last day of its certificate).
pub(crate) fn app_secret_expires(setting: &MailSetting, config: &Config) -> Option<String> {
    app_entry(setting, config)?.client_secret_expires.clone()
}

fn app_entry<'c>(setting: &MailSetting, config: &'c Config) -> Option<&'c OAuthProvider> {
    let id = match setting.oauth_credential()? {
        CredentialKind::Oauth2 => setting.oauth_provider.as_deref()?.trim(),
        CredentialKind::Basic => return None,
        builtin => providers::for_credential(builtin)?.id,
    };
    config.oauth_provider(id)
}

/// The app credential's expiry in a sentence ("The app's certificate expires on
/// 2027-06-30 (in 212 days)."), and whether it is near (30 days or less) — for
/// token-status and the form alike. `None` when no date is known.
pub(crate) fn app_credential_expiry(
    setting: &MailSetting,
    config: &Config,
    today: time::Date,
) -> Option<(String, bool)> {
    let entry = app_entry(setting, config)?;
    let expires = entry.client_secret_expires.as_deref()?;
    let date = crate::model::validate::parse_date(expires)?;
    let credential = if entry.client_certificate.is_some() { "certificate" } else { "client secret" };
    let days = (date - today).whole_days();
    let sentence = if days < 0 {
        format!("The app's {credential} expired on {expires}: make a new one and store it with oauth-app set.")
    } else {
        format!("The app's {credential} expires on {expires} (in {days} days).")
    };
    Some((sentence, days <= 30))
}

/// Fills in the client secret kept in the OS store (`oauth-app set … --client-secret-stdin`)
/// when the config names none. A store that cannot be read leaves it out: the
/// provider then says what is missing.
pub(crate) fn with_stored_client_secret(
    mut provider: ResolvedProvider,
    secrets: &crate::store::Secrets,
) -> ResolvedProvider {
    if provider.client_secret.is_none() {
        let owner = crate::store::SecretOwner::SignInApp(provider.id.clone());
        match secrets.get(&owner, crate::store::SecretKind::ClientSecret) {
            Ok(secret) => provider.client_secret = secret.filter(|s| !s.is_empty()),
            Err(err) => tracing::warn!("the client secret of {} could not be read: {err}", provider.id),
        }
    }
    provider
}

/// Fills in the app's certificate kept in the OS store (`oauth-app set …
/// --certificate … --private-key …`), for app-only access. One that cannot be
/// read is left out (and logged): the token request then says what is missing.
pub(crate) fn with_stored_app_certificate(
    mut provider: ResolvedProvider,
    secrets: &crate::store::Secrets,
) -> ResolvedProvider {
    let owner = crate::store::SecretOwner::SignInApp(provider.id.clone());
    match secrets.get(&owner, crate::store::SecretKind::ClientCertificate) {
        Ok(Some(stored)) => match super::assertion::ClientCertificate::from_stored(&stored) {
            Ok(certificate) => provider.client_certificate = Some(certificate),
            Err(err) => tracing::warn!("the app certificate of {} cannot be used: {err}", provider.id),
        },
        Ok(None) => {}
        Err(err) => tracing::warn!("the app certificate of {} could not be read: {err}", provider.id),
    }
    provider
}

/// The client ids built into this copy (label, client id), for the About box.
pub(crate) fn embedded_client_ids() -> Vec<(&'static str, &'static str)> {
    providers::signing_in()
        .filter_map(|p| providers::embedded_client_id(p.id).map(|client| (p.label, client)))
        .collect()
}

fn builtin(
    mut resolved: ResolvedProvider,
    entry: Option<&OAuthProvider>,
    provider: &'static str,
    id: &'static str,
) -> Result<ResolvedProvider, ProviderError> {
    let configured = entry.map(|e| e.client_id.trim()).filter(|c| !c.is_empty());
    let client_id = configured
        .or_else(|| providers::embedded_client_id(id))
        .ok_or(ProviderError::MissingClientId { provider, id })?;
    resolved.client_id = client_id.to_owned();
    let Some(entry) = entry else { return Ok(resolved) };
    let set = |target: &mut String, value: &str| {
        if !value.trim().is_empty() {
            *target = value.trim().to_owned();
        }
    };
    set(&mut resolved.authorize_url, &entry.authorize_url);
    set(&mut resolved.token_url, &entry.token_url);
    if let Some(url) = entry.revoke_url.as_deref().filter(|u| !u.trim().is_empty()) {
        resolved.revoke_url = Some(url.trim().to_owned());
    }
    if let Some(url) = entry.userinfo_url.as_deref().filter(|u| !u.trim().is_empty()) {
        resolved.userinfo_url = Some(url.trim().to_owned());
    }
    if let Some(url) = entry.device_authorization_url.as_deref().filter(|u| !u.trim().is_empty()) {
        resolved.device_authorization_url = Some(url.trim().to_owned());
    }
    if let Some(url) = entry.api_url.as_deref().filter(|u| !u.trim().is_empty()) {
        resolved.api_url = Some(url.trim().trim_end_matches('/').to_owned());
    }
    if !entry.app_scopes.is_empty() {
        resolved.app_scopes = entry.app_scopes.clone();
    }
    if !entry.scopes.is_empty() {
        resolved.scopes = entry.scopes.clone();
    }
    if let Some(host) = &entry.redirect_host {
        resolved.redirect_host = host.clone();
    }
    resolved.client_secret = entry.client_secret.as_deref().filter(|s| !s.is_empty()).map(Secret::new);
    for (key, value) in &entry.authorize_params {
        resolved.authorize_params.retain(|(k, _)| k != key);
        resolved.authorize_params.push((key.clone(), value.clone()));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::providers::{check_client_id, is_guid};

    fn setting(credential: CredentialKind) -> MailSetting {
        MailSetting { id: "s".into(), credential, ..MailSetting::default() }
    }

    fn config_with(provider: OAuthProvider) -> Config {
        Config { oauth_providers: vec![provider], ..Config::default() }
    }

    #[test]
    fn the_app_credentials_expiry_is_said_for_what_it_is_and_warned_of_from_30_days() {
        let mut entry = OAuthProvider {
            id: "microsoft365".into(),
            client_id: "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".into(),
            ..OAuthProvider::default()
        };
        let today = time::macros::date!(2027 - 01 - 01);
        let said = |entry: &OAuthProvider| {
            app_credential_expiry(&setting(CredentialKind::Microsoft365), &config_with(entry.clone()), today)
        };
        assert_eq!(said(&entry), None, "no date known");
        entry.client_secret_expires = Some("2027-06-30".into());
        assert_eq!(said(&entry), Some(("The app's client secret expires on 2027-06-30 (in 180 days).".into(), false)));
        entry.client_certificate = Some("AB12".into());
        entry.client_secret_expires = Some("2027-01-31".into());
        assert_eq!(said(&entry), Some(("The app's certificate expires on 2027-01-31 (in 30 days).".into(), true)));
        entry.client_secret_expires = Some("2026-12-31".into());
        let (text, near) = said(&entry).unwrap();
        assert!(text.starts_with("The app's certificate expired on 2026-12-31") && near, "{text}");
        assert_eq!(app_credential_expiry(&setting(CredentialKind::Basic), &config_with(entry), today), None);
    }

    #[test]
    fn microsoft_client_ids_are_guids() {
        assert!(is_guid("0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab"));
        assert!(is_guid(" 0B7C3F6E-1A2B-4C5D-8E9F-0123456789AB "));
        for bad in [
            "",
            "abc",
            "0b7c3f6e1a2b4c5d8e9f0123456789ab",
            "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ag",
            "{0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab}",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
        assert!(check_client_id("microsoft365", "nope").is_err());
        assert!(check_client_id("gmail", "123-abc.apps.googleusercontent.com").is_ok());
    }

    #[test]
    fn microsoft_uses_the_tenant_and_the_outlook_scopes() {
        let mut s = setting(CredentialKind::Microsoft365);
        s.tenant = Some("contoso.com".into());
        let config = config_with(OAuthProvider {
            id: "microsoft365".into(),
            client_id: "abc".into(),
            ..OAuthProvider::default()
        });
        let p = resolve(&s, &config).unwrap();
        assert_eq!(p.authorize_url, "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize");
        assert_eq!(p.token_url, "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token");
        assert!(p.scopes.contains(&"https://outlook.office.com/IMAP.AccessAsUser.All".to_owned()));
        assert!(p.scopes.contains(&"offline_access".to_owned()));
        assert_eq!(p.redirect_host, "localhost");
        s.tenant = None;
        assert!(resolve(&s, &config).unwrap().authorize_url.contains("/organizations/"));
        // A hand-edited tenant cannot re-point the token request to another path or host.
        s.tenant = Some("evil.example/../../x?".into());
        let refused = resolve(&s, &config).unwrap_err();
        assert!(matches!(refused, ProviderError::BadTenant(_)), "{refused}");
    }

    /// Each road asks for its own scopes: the protocols' as before, an API's instead of
    /// them, reading's first (Connect's token is for its API); with a token per API only
    /// the first API's scopes are expected in Connect's grant.
    #[test]
    fn the_scopes_follow_the_roads_each_side_takes() {
        use crate::model::setting::Transport;
        let config = config_with(OAuthProvider {
            id: "microsoft365".into(),
            client_id: "abc".into(),
            api_url: Some("https://127.0.0.1:9/v1.0/".into()),
            ..OAuthProvider::default()
        });
        let mut s = setting(CredentialKind::Microsoft365);
        let protocols = resolve(&s, &config).unwrap();
        let classic = providers::MICROSOFT_365.sign_in.unwrap().protocol_scopes();
        assert_eq!(protocols.scopes, classic, "SMTP and IMAP ask exactly as before");
        assert_eq!(protocols.first_resource().as_deref(), Some("https://outlook.office.com"));
        assert_eq!(protocols.api_url.as_deref(), Some("https://127.0.0.1:9/v1.0"), "the app's api_url, trimmed");

        s.smtp.sends_with = Transport::Graph;
        s.imap.reads_with = Transport::Graph;
        let graph = resolve(&s, &config).unwrap();
        assert_eq!(
            graph.scopes[..3],
            [
                "https://graph.microsoft.com/Mail.ReadWrite".to_owned(),
                "https://graph.microsoft.com/Mail.Send".to_owned(),
                "offline_access".to_owned()
            ]
        );
        assert!(!graph.scopes.iter().any(|scope| scope.contains("outlook")), "{:?}", graph.scopes);

        // Reading by IMAP, sending through Graph: Connect's token is Outlook's; Graph's comes by refresh.
        s.imap.reads_with = Transport::Protocol;
        let mixed = resolve(&s, &config).unwrap();
        assert_eq!(mixed.scopes[0], "https://outlook.office.com/IMAP.AccessAsUser.All");
        assert_eq!(mixed.mail_scopes, ["https://outlook.office.com/IMAP.AccessAsUser.All"]);
        assert_eq!(mixed.sending_scopes, ["https://graph.microsoft.com/Mail.Send"]);

        // A shared mailbox read through Graph by its delegate.
        s.imap.reads_with = Transport::Graph;
        s.imap.user_name = "collections@contoso.com".into();
        s.delegate = Some("pat@contoso.com".into());
        assert_eq!(resolve(&s, &config).unwrap().reading_scopes, ["https://graph.microsoft.com/Mail.ReadWrite.Shared"]);

        // Google: one token for every scope; the API's narrow scopes where both sides use it.
        let mut g = setting(CredentialKind::Gmail);
        g.smtp.sends_with = Transport::GmailApi;
        g.imap.reads_with = Transport::GmailApi;
        let google =
            config_with(OAuthProvider { id: "gmail".into(), client_id: "1-a.apps".into(), ..Default::default() });
        let gmail = resolve(&g, &google).unwrap();
        assert_eq!(
            gmail.scopes[..2],
            [
                "https://www.googleapis.com/auth/gmail.readonly".to_owned(),
                "https://www.googleapis.com/auth/gmail.send".to_owned()
            ]
        );
        assert!(!gmail.token_per_resource && gmail.first_resource().is_none());
        assert_eq!(gmail.api_url.as_deref(), Some("https://gmail.googleapis.com/gmail/v1"));
    }

    #[test]
    fn the_admin_consent_link_names_the_app_and_a_real_tenant() {
        let mut s = setting(CredentialKind::Microsoft365);
        s.imap.user_name = "ar@contoso.com".into();
        let config = config_with(OAuthProvider {
            id: "microsoft365".into(),
            client_id: "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".into(),
            ..OAuthProvider::default()
        });
        let link = |s: &MailSetting| resolve(s, &config).unwrap().admin_consent_url.unwrap();
        assert_eq!(
            link(&s),
            "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab",
            "\"organizations\" cannot approve: the mailbox's domain stands in"
        );
        s.tenant = Some("2f1d4c1e-0000-4000-8000-000000000001".into());
        assert!(link(&s).contains("/2f1d4c1e-0000-4000-8000-000000000001/adminconsent"));
        let request = admin_consent_request(&resolve(&s, &config).unwrap()).unwrap();
        assert!(request.contains(&link(&s)) && request.contains("IMAP.AccessAsUser.All"), "{request}");
        let gmail = config_with(OAuthProvider {
            id: "gmail".into(),
            client_id: "x.apps.googleusercontent.com".into(),
            ..OAuthProvider::default()
        });
        assert_eq!(resolve(&setting(CredentialKind::Gmail), &gmail).unwrap().admin_consent_url, None);
    }

    #[test]
    fn a_missing_client_id_says_where_to_enter_it() {
        let err = resolve(&setting(CredentialKind::Microsoft365), &Config::default()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Sign-in apps"), "{text}");
        assert!(text.contains("mailsettings oauth-app set microsoft365 --client-id"), "{text}");
        // The tenant default entered in Sign-in apps applies to settings that name none.
        let config = config_with(OAuthProvider {
            id: "microsoft365".into(),
            client_id: "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".into(),
            tenant: Some("contoso.com".into()),
            ..OAuthProvider::default()
        });
        let p = resolve(&setting(CredentialKind::Microsoft365), &config).unwrap();
        assert!(p.authorize_url.contains("/contoso.com/"), "{}", p.authorize_url);
        assert!(matches!(
            resolve(&setting(CredentialKind::Gmail), &Config::default()),
            Err(ProviderError::MissingClientId { .. })
        ));
    }

    #[test]
    fn gmail_asks_for_offline_access_and_overrides_apply() {
        let config = config_with(OAuthProvider {
            id: "gmail".into(),
            client_id: "g".into(),
            token_url: "http://127.0.0.1:1/token".into(),
            ..OAuthProvider::default()
        });
        let p = resolve(&setting(CredentialKind::Gmail), &config).unwrap();
        assert_eq!(p.token_url, "http://127.0.0.1:1/token");
        assert_eq!(p.authorize_url, "https://accounts.google.com/o/oauth2/v2/auth");
        assert!(p.authorize_params.contains(&("access_type".to_owned(), "offline".to_owned())));
        assert_eq!(p.redirect_host, "127.0.0.1");
    }

    #[test]
    fn custom_providers_come_from_the_config() {
        let mut s = setting(CredentialKind::Oauth2);
        assert!(matches!(resolve(&s, &Config::default()), Err(ProviderError::NoProvider)));
        s.oauth_provider = Some("corp".into());
        assert!(matches!(resolve(&s, &Config::default()), Err(ProviderError::UnknownProvider(_))));
        let mut entry = OAuthProvider { id: "corp".into(), client_id: "c".into(), ..OAuthProvider::default() };
        assert!(matches!(
            resolve(&s, &config_with(entry.clone())),
            Err(ProviderError::Incomplete { field: "authorize_url", .. })
        ));
        entry.authorize_url = "https://idp/authorize".into();
        entry.token_url = "https://idp/token".into();
        entry.authorize_params.insert("prompt".into(), "consent".into());
        let p = resolve(&s, &config_with(entry)).unwrap();
        assert_eq!(p.authorize_params, vec![("prompt".to_owned(), "consent".to_owned())]);
        assert!(matches!(
            resolve(&setting(CredentialKind::Basic), &Config::default()),
            Err(ProviderError::NotOAuth(_))
        ));
    }
}
