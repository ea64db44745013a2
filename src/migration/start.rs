//! Starting a migration: where the new setting signs in (a provider of the
//! catalogue, or a custom one), the new setting made from the old, and the old
//! relay's password carried across when sending stays with the relay.

use super::error::MigrationError;
use crate::model::providers::{self, Provider};
use crate::model::{Config, CredentialKind, MailSetting, Migration, Preset};
use crate::store::{Secrets, Workspace};

/// Where the new setting signs in: a provider of the catalogue (a person's sign-in,
/// or the app's own where the provider has app-only access for mail), or a custom
/// `[[oauth_provider]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Builtin { provider: &'static Provider, app_only: bool },
    Provider(String),
}

impl Target {
    pub const MICROSOFT_365: Self = Self::Builtin { provider: &providers::MICROSOFT_365, app_only: false };
    /// Microsoft 365 with app-only access (client credentials): for the unattended automation.
    pub const MICROSOFT_365_APP: Self = Self::Builtin { provider: &providers::MICROSOFT_365, app_only: true };
    pub const GMAIL: Self = Self::Builtin { provider: &providers::GMAIL, app_only: false };

    /// `microsoft365`, `m365-app`, `gmail`, or a custom provider's id.
    pub fn parse(text: &str, config: &Config) -> Result<Self, MigrationError> {
        let text = text.trim();
        let (base, app_only) = text.strip_suffix("-app").map_or((text, false), |base| (base, true));
        let builtin = providers::by_id_or_alias(base)
            .filter(|p| p.sign_in.is_some_and(|s| !app_only || !s.app_scopes.is_empty()));
        match builtin {
            Some(provider) => Ok(Self::Builtin { provider, app_only }),
            None if config.oauth_provider(text).is_some() && providers::by_id(text).is_none() => {
                Ok(Self::Provider(text.to_owned()))
            }
            None => Err(MigrationError::UnknownTarget { target: text.to_owned() }),
        }
    }

    /// Every target there is, as (id, words for a choice): the catalogue's sign-ins
    /// (and their app-only access), then the config's custom providers.
    pub fn choices(config: &Config) -> Vec<(String, String)> {
        let mut choices = Vec::new();
        for provider in providers::signing_in() {
            choices.push((provider.id.to_owned(), provider.label.to_owned()));
            if provider.sign_in.is_some_and(|s| !s.app_scopes.is_empty()) {
                let words = format!("{}, app-only access (no person signs in)", provider.name);
                choices.push((format!("{}-app", provider.id), words));
            }
        }
        let custom = config.oauth_providers.iter().filter(|p| providers::by_id(&p.id).is_none());
        choices.extend(custom.map(|p| (p.id.clone(), p.id.clone())));
        choices
    }

    pub fn id(&self) -> String {
        match self {
            Self::Builtin { provider, app_only: false } => provider.id.to_owned(),
            Self::Builtin { provider, app_only: true } => format!("{}-app", provider.id),
            Self::Provider(id) => id.clone(),
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Builtin { provider, app_only: false } => format!("{} OAuth", provider.name),
            Self::Builtin { provider, app_only: true } => format!("{} app-only", provider.name),
            Self::Provider(id) => format!("{id} OAuth"),
        }
    }
}

/// The new setting, made from the old one: descriptions, subject tag,
/// addresses and folders carried over; hosts, ports and security from the
/// provider's preset (custom providers keep the old servers). An old setting
/// that sends through a relay (SendGrid, Postmark) keeps it: only the mailbox
/// side moves to OAuth, the relay goes on signing in with its password.
pub fn new_setting_from(old: &MailSetting, target: &Target, config: &Config) -> MailSetting {
    let relay =
        old.smtp_credential() == CredentialKind::Basic && crate::model::presets::relay_name(&old.smtp.server).is_some();
    let mut new = old.clone();
    new.smtp.credential = None;
    new.imap.credential = None;
    new.description = format!("{} ({})", without_basic_suffix(&old.description), target.label());
    new.id = config.unused_id(&new.description);
    new.active = false;
    new.tenant = None;
    new.oauth_provider = None;
    match target {
        Target::Builtin { provider, app_only } => {
            new.credential = provider.credential;
            if provider.sign_in.is_some_and(|s| s.has_tenant) {
                // The tenant a mailbox lives in is usually its own domain.
                new.tenant = crate::model::setting::domain_of(&old.imap.user_name);
            }
            if *app_only {
                new.oauth_flow = crate::model::OAuthFlow::App;
            }
        }
        Target::Provider(id) => {
            new.credential = CredentialKind::Oauth2;
            new.oauth_provider = Some(id.clone());
        }
    }
    if let Some(preset) = Preset::for_credential(new.credential) {
        if relay {
            preset.apply_incoming(&mut new);
        } else {
            preset.apply(&mut new);
        }
    }
    if relay {
        new.smtp.credential = Some(CredentialKind::Basic);
    }
    new
}

/// Whether `setting` sends through a relay of its own beside an OAuth mailbox.
fn keeps_relay(setting: &MailSetting) -> bool {
    setting.uses_oauth() && setting.smtp_credential() == CredentialKind::Basic
}

/// A new setting that keeps the old one's relay needs its password too: copies
/// the old outgoing password over. Returns whether there was one to copy.
fn copy_relay_password(
    secrets: &Secrets,
    old_id: &str,
    new: &MailSetting,
) -> Result<bool, crate::store::SecretStoreError> {
    use crate::store::SecretKind;
    if !keeps_relay(new) {
        return Ok(false);
    }
    match secrets.get(old_id, SecretKind::SmtpPassword)? {
        Some(password) if !password.is_empty() => {
            secrets.set(&new.id, SecretKind::SmtpPassword, &password)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// "Collections (Basic)" or "(BasicAuth)", as the guide calls it, without that suffix.
fn without_basic_suffix(description: &str) -> &str {
    let trimmed = description.trim_end();
    for suffix in [" (basic)", " (basicauth)", " (basic auth)"] {
        if trimmed.len() > suffix.len()
            && trimmed.is_char_boundary(trimmed.len() - suffix.len())
            && trimmed[trimmed.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        {
            return &trimmed[..trimmed.len() - suffix.len()];
        }
    }
    trimmed
}

/// Starts a migration of `old_id`; returns the new setting's id.
pub fn start(workspace: &mut Workspace, old_id: &str, target: &Target) -> Result<Started, MigrationError> {
    let config = workspace.config();
    let old = config.setting(old_id).ok_or_else(|| MigrationError::UnknownSetting(old_id.to_owned()))?;
    if old.uses_oauth() {
        return Err(MigrationError::NotBasic(old_id.to_owned()));
    }
    if let Some(existing) = config.migration(old_id) {
        return Err(MigrationError::AlreadyStarted(old_id.to_owned(), existing.new.clone()));
    }
    let new = new_setting_from(old, target, config);
    let new_id = new.id.clone();
    let migration = Migration {
        old: old_id.to_owned(),
        new: new_id.clone(),
        target: target.id(),
        started_at: crate::clock::now_rfc3339(),
        ..Migration::default()
    };
    let relay = keeps_relay(&new).then(|| RelayCopy { old_id: old_id.to_owned(), new: new.clone() });
    workspace.apply("migrate-start", |config| {
        config.add_setting(new)?;
        config.migrations.push(migration);
        Ok(())
    })?;
    Ok(Started { new: new_id, relay })
}

/// A started migration: the new setting's id, and the relay password still to copy
/// when sending stays with the old setting's relay.
#[derive(Debug)]
pub struct Started {
    pub new: String,
    pub relay: Option<RelayCopy>,
}

/// The old setting's relay password (or API key), to be copied to the new setting.
/// The caller picks the thread: the secret store can take seconds (the window copies
/// on a job thread, the CLI at once).
#[derive(Debug, Clone)]
pub struct RelayCopy {
    old_id: String,
    new: MailSetting,
}

impl RelayCopy {
    /// The relay's server, which sending stays with.
    pub fn server(&self) -> &str {
        &self.new.smtp.server
    }

    /// How replies are read now, e.g. "Microsoft 365 (MSO365)".
    pub fn replies_via(&self) -> &'static str {
        self.new.imap_credential().label()
    }

    /// The new setting's id.
    pub fn new_id(&self) -> &str {
        &self.new.id
    }

    /// Copies the password; whether there was one to copy.
    pub fn copy(&self, secrets: &Secrets) -> Result<bool, crate::store::SecretStoreError> {
        copy_relay_password(secrets, &self.old_id, &self.new)
    }
}

#[cfg(test)]
/// A complete Basic setting on contoso.com (the tenant is taken from the mailbox's domain).
pub(super) fn example_basic() -> MailSetting {
    let mut s = MailSetting { description: "Collections (Basic)".into(), ..MailSetting::example("old-basic") };
    s.smtp.server = "mail.contoso.com".into();
    s.smtp.send_as = "ar@contoso.com".into();
    s.smtp.from_name = "AR".into();
    s.smtp.user_name = "ar@contoso.com".into();
    s.smtp.user_domain = "contoso.com".into();
    s.imap.server = "mail.contoso.com".into();
    s.imap.user_name = "replies@contoso.com".into();
    s.imap.user_domain = "contoso.com".into();
    s.imap.inbox_folder = "INBOX".into();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic() -> MailSetting {
        example_basic()
    }

    #[test]
    fn a_relay_stays_for_sending_while_the_mailbox_moves_to_oauth() {
        let mut old = basic();
        crate::model::presets::SENDGRID.apply(&mut old);
        let config = Config { mail_settings: vec![old.clone()], ..Config::default() };
        let new = new_setting_from(&old, &Target::MICROSOFT_365, &config);
        assert_eq!(new.credential, CredentialKind::Microsoft365);
        assert_eq!((new.smtp.server.as_str(), new.smtp.user_name.as_str()), ("smtp.sendgrid.net", "apikey"));
        assert_eq!(new.smtp.credential, Some(CredentialKind::Basic));
        assert_eq!(new.imap.server, "outlook.office365.com");
        assert!(keeps_relay(&new));
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("s.json"));
        use crate::store::SecretKind;
        secrets.set(&old.id, SecretKind::SmtpPassword, &crate::Secret::new("SG.canary-api-key")).unwrap();
        assert!(copy_relay_password(&secrets, &old.id, &new).unwrap());
        assert_eq!(secrets.get(&new.id, SecretKind::SmtpPassword).unwrap().unwrap().expose(), "SG.canary-api-key");
        // Without a relay nothing is kept or copied.
        let plain = new_setting_from(&basic(), &Target::MICROSOFT_365, &config);
        assert_eq!((plain.smtp.server.as_str(), plain.smtp.credential), ("smtp.office365.com", None));
        assert!(!copy_relay_password(&secrets, &old.id, &plain).unwrap());
    }

    #[test]
    fn the_new_setting_carries_the_old_ones_fields_and_the_presets_servers() {
        let config = Config { mail_settings: vec![basic()], ..Config::default() };
        let new = new_setting_from(&basic(), &Target::MICROSOFT_365, &config);
        assert_eq!(new.description, "Collections (Microsoft 365 OAuth)");
        for old in ["Guide (BasicAuth)", "Guide (Basic Auth) ", "Guide (basic)", "Guide"] {
            assert_eq!(without_basic_suffix(old), "Guide", "{old}");
        }
        assert_eq!(without_basic_suffix("(Basic)"), "(Basic)", "nothing left: kept whole");
        assert_eq!(new.id, "collections-microsoft-365-oauth");
        assert_eq!(new.credential, CredentialKind::Microsoft365);
        assert_eq!(new.tenant.as_deref(), Some("contoso.com"));
        assert_eq!(new.subject_tag, "[AR]");
        assert_eq!(new.smtp.send_as, "ar@contoso.com");
        assert_eq!(new.imap.inbox_folder, "INBOX");
        assert_eq!(new.smtp.server, "smtp.office365.com");
        assert_eq!(new.imap.server, "outlook.office365.com");
        assert!(!new.active);
        let custom = new_setting_from(&basic(), &Target::Provider("corp".into()), &config);
        assert_eq!(custom.oauth_provider.as_deref(), Some("corp"));
        assert_eq!(custom.smtp.server, "mail.contoso.com", "custom providers keep the servers");
    }
}
