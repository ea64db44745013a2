//! Starting a migration: where the new setting signs in (a provider of the
//! catalogue, or a custom one), the new setting made from the old, and the old
//! relay's password carried across when sending stays with the relay.

use super::error::MigrationError;
use crate::clock::Timestamp;
use crate::model::providers::{self, Provider};
use crate::model::{Config, CredentialKind, MailSetting, Migration, Preset, SettingId};
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
    pub(crate) fn choices(config: &Config) -> Vec<(String, String)> {
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
    new.description = replacement_description(old, &target.label());
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

/// The old setting's mailbox copied into `new` (a record being typed for the same
/// mailbox): subject tag, send-as, from name, user names and domains, folders — never
/// servers, ports, security, the credential or its secrets (the new sign-in's own).
pub fn copy_mailbox_fields(new: &mut MailSetting, old: &MailSetting) {
    new.subject_tag.clone_from(&old.subject_tag);
    new.smtp.send_as.clone_from(&old.smtp.send_as);
    new.smtp.from_name.clone_from(&old.smtp.from_name);
    new.smtp.user_name.clone_from(&old.smtp.user_name);
    new.smtp.user_domain.clone_from(&old.smtp.user_domain);
    new.imap.user_name.clone_from(&old.imap.user_name);
    new.imap.user_domain.clone_from(&old.imap.user_domain);
    new.imap.inbox_folder.clone_from(&old.imap.inbox_folder);
    new.imap.sent_folder.clone_from(&old.imap.sent_folder);
}

/// The description of a new record made for `old`'s mailbox: its own, with the new
/// sign-in's name where "(Basic)" was ("Collections (Basic)" → "Collections (OAuth)").
pub fn replacement_description(old: &MailSetting, sign_in: &str) -> String {
    format!("{} ({sign_in})", without_basic_suffix(&old.description))
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
        return Err(MigrationError::AlreadyStarted(old_id.to_owned(), existing.new.clone().into()));
    }
    let new = new_setting_from(old, target, config);
    let new_id = new.id.clone();
    let migration = Migration {
        old: old_id.into(),
        new: new_id.clone(),
        target: target.id(),
        started_at: crate::clock::Timestamp::now(),
        ..Migration::default()
    };
    let relay = keeps_relay(&new).then(|| RelayCopy { old_id: old_id.to_owned(), new: new.clone() });
    workspace.apply("migrate-start", |config| {
        config.add_setting(new)?;
        config.migrations.push(migration);
        Ok(())
    })?;
    Ok(Started { new: new_id.into(), relay })
}

/// Whether `new` is an OAuth setting made for `old`'s mailbox (see
/// [`MailSetting::could_be_replaced_by`]).
pub fn could_replace(old: &MailSetting, new: &MailSetting) -> bool {
    old.could_be_replaced_by(new)
}

/// Whether `id` takes part in a migration that is still going on (old or new side).
fn in_running_migration(config: &Config, id: &str) -> bool {
    config
        .migrations
        .iter()
        .any(|m| (m.old == id || m.new == id) && m.rolled_back_at.is_none() && m.finished_at.is_none())
}

/// The OAuth settings the admin already made for `old_id`'s mailbox, that a
/// migration of it can adopt instead of creating another.
pub fn adoptable_for<'c>(config: &'c Config, old_id: &str) -> Vec<&'c MailSetting> {
    let Some(old) = config.setting(old_id) else { return Vec::new() };
    config
        .mail_settings
        .iter()
        .filter(|new| could_replace(old, new) && !in_running_migration(config, &new.id))
        .collect()
}

/// The Basic setting `new_id` was made to replace, when no migration joins them yet:
/// the form and the table say so and offer the checklist — whatever the old setting's
/// state (the guide's step 10 done by hand, Edit → Inactive → Save, keeps the link);
/// an Active one first.
pub fn replaces<'c>(config: &'c Config, new_id: &str) -> Option<&'c MailSetting> {
    let new = config.setting(new_id)?;
    if in_running_migration(config, new_id) || config.migrations.iter().any(|m| m.new == new_id) {
        return None;
    }
    let candidates =
        || config.mail_settings.iter().filter(|old| could_replace(old, new) && config.migration(&old.id).is_none());
    candidates().find(|old| old.active).or_else(|| candidates().next())
}

/// Every OAuth setting made to replace a Basic one (Active or not) and not joined to it by a
/// migration yet, as new id → old id ([`replaces`] for the whole table at once, in
/// one pass: the table has thousands of rows).
pub fn replacements(config: &Config) -> std::collections::HashMap<SettingId, SettingId> {
    let key = |text: &str| text.trim().to_lowercase();
    let mut basic_by_address: std::collections::HashMap<String, &MailSetting> = std::collections::HashMap::new();
    // Active ones first: an address both an Active and an Inactive Basic setting use is the Active one's.
    let basic = config.mail_settings.iter().filter(|s| !s.uses_oauth() && config.migration(&s.id).is_none());
    let waiting = basic.clone().filter(|s| s.active).chain(basic.filter(|s| !s.active));
    for old in waiting {
        for address in [&old.imap.user_name, &old.smtp.send_as] {
            if !address.trim().is_empty() {
                basic_by_address.entry(key(address)).or_insert(old);
            }
        }
    }
    if basic_by_address.is_empty() {
        return std::collections::HashMap::new();
    }
    let joined: std::collections::HashSet<&str> = config.migrations.iter().map(|m| m.new.as_str()).collect();
    config
        .mail_settings
        .iter()
        .filter(|new| new.imap_credential().uses_oauth() && !joined.contains(new.id.as_str()))
        .filter_map(|new| {
            [&new.imap.user_name, &new.smtp.send_as]
                .into_iter()
                .find_map(|address| basic_by_address.get(&key(address)))
                .filter(|old| could_replace(old, new))
                .map(|old| (new.id.clone(), old.id.clone()))
        })
        .collect()
}

/// Tests of the adopted setting that already passed (the window remembers them
/// from this session), carried into the checklist so they are not run twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlreadyPassed {
    pub outgoing_at: Option<Timestamp>,
    pub incoming_at: Option<Timestamp>,
}

/// Starts a migration of `old_id` to the OAuth setting `new_id` the admin made
/// already (nothing is created): the checklist picks up where they are.
pub fn start_with_existing(
    workspace: &mut Workspace,
    old_id: &str,
    new_id: &str,
    passed: AlreadyPassed,
) -> Result<Started, MigrationError> {
    let config = workspace.config();
    let old = config.setting(old_id).ok_or_else(|| MigrationError::UnknownSetting(old_id.to_owned()))?;
    let new = config.setting(new_id).ok_or_else(|| MigrationError::UnknownSetting(new_id.to_owned()))?;
    if old.uses_oauth() {
        return Err(MigrationError::NotBasic(old_id.to_owned()));
    }
    if let Some(existing) = config.migration(old_id) {
        return Err(MigrationError::AlreadyStarted(old_id.to_owned(), existing.new.clone().into()));
    }
    if !new.imap_credential().uses_oauth() || in_running_migration(config, new_id) {
        return Err(MigrationError::NotAdoptable(new_id.to_owned()));
    }
    let target = match (new.credential, &new.oauth_provider) {
        (CredentialKind::Oauth2, Some(provider)) => provider.clone(),
        (credential, _) => {
            let id = providers::for_credential(credential).map_or("oauth2", |p| p.id);
            if new.oauth_flow == crate::model::OAuthFlow::App { format!("{id}-app") } else { id.to_owned() }
        }
    };
    let migration = Migration {
        old: old_id.into(),
        new: new_id.into(),
        target,
        started_at: crate::clock::Timestamp::now(),
        outgoing_passed_at: passed.outgoing_at,
        incoming_passed_at: passed.incoming_at,
        ..Migration::default()
    };
    workspace.apply("migrate-start-existing", |config| {
        config.migrations.push(migration);
        Ok(())
    })?;
    Ok(Started { new: new_id.to_owned(), relay: None })
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
    pub(crate) fn replies_via(&self) -> &'static str {
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

    #[test]
    fn a_setting_made_for_the_same_mailbox_is_recognised_once_and_adopted_without_a_copy() {
        let old = basic();
        let mut made = MailSetting { id: "made-m365".into(), credential: CredentialKind::Microsoft365, ..old.clone() };
        made.imap.user_name = "someone-else@contoso.com".into();
        let mut unrelated = MailSetting { id: "other".into(), credential: CredentialKind::Gmail, ..old.clone() };
        unrelated.smtp.send_as = "billing@contoso.com".into();
        unrelated.imap.user_name = "billing@contoso.com".into();
        assert!(could_replace(&old, &made), "the same send-as address");
        assert!(!could_replace(&old, &unrelated));
        assert!(!could_replace(&made, &old), "a Basic setting replaces nothing");
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("c.toml"), Secrets::file(dir.path().join("s.json"))).unwrap();
        for setting in [old, made, unrelated] {
            ws.save_setting(setting, &Default::default()).unwrap();
        }
        let config = ws.config();
        assert_eq!(replaces(config, "made-m365").map(|s| s.id.as_str()), Some("old-basic"));
        assert_eq!(replaces(config, "other"), None);
        let all = replacements(config);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(
            all.get("made-m365").map(SettingId::as_str),
            Some("old-basic"),
            "the table's pass agrees with the form's"
        );
        assert_eq!(adoptable_for(config, "old-basic").iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["made-m365"]);

        let passed = AlreadyPassed { outgoing_at: Some("2026-12-03T10:00:00Z".parse().unwrap()), incoming_at: None };
        let started = start_with_existing(&mut ws, "old-basic", "made-m365", passed).unwrap();
        assert_eq!(started.new, "made-m365");
        assert_eq!(ws.config().mail_settings.len(), 3, "nothing created");
        let migration = ws.config().migration("old-basic").unwrap();
        assert_eq!((migration.target.as_str(), migration.outgoing_passed_at.is_some()), ("microsoft365", true));
        assert!(replaces(ws.config(), "made-m365").is_none() && replacements(ws.config()).is_empty(), "joined now");
        assert!(adoptable_for(ws.config(), "old-basic").is_empty());
        let err = start_with_existing(&mut ws, "old-basic", "other", AlreadyPassed::default()).unwrap_err();
        assert!(matches!(err, MigrationError::AlreadyStarted(..)), "{err}");
    }
}
