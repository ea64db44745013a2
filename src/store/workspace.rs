//! The open config file plus the secret store, and every change an admin can
//! make to them. The CLI and the window both call these functions, so a
//! guard that holds in one holds in the other.
//!
//! Each change is tried on a copy of the config and saved before it replaces
//! the copy in memory: when the save fails, nothing changed anywhere.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::audit;
use super::file::{self, ConfigFile, StoreError};
use super::secrets::{SecretKind, SecretStoreError, Secrets};
use crate::model::{Company, Config, DeletedSetting, GuardError, ImportSummary, MailSetting};
use crate::secret::Secret;

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
    #[error("the config file could not be read, so it is open read-only: {0}")]
    ReadOnly(String),
    /// A value typed by the admin that no guard of the config covers (a client id).
    #[error("{0}")]
    Invalid(String),
    /// The change would bring in settings or sign-in apps that cannot work; nothing was written.
    #[error("nothing was saved, because:{}", .0.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Refused(Vec<String>),
}

/// The client id (and, for Microsoft 365, the tenant default) of an
/// organisation's registered sign-in app, entered in Sign-in apps or with `oauth-app set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInAppChange {
    /// `microsoft365`, `gmail`, or an `[[oauth_provider]]` id.
    pub provider: String,
    pub client_id: String,
    /// Microsoft 365 only: the tenant used by settings that name none.
    pub tenant: Option<String>,
    /// When the client secret expires (`YYYY-MM-DD`); `None` leaves it as it is.
    pub client_secret_expires: Option<String>,
    /// The client secret was just put in the OS store (by a job): any in the config goes.
    pub client_secret_stored: bool,
    /// Google: the app's publishing status (`testing`, `production`, `internal`); `None` leaves it.
    pub publishing_status: Option<String>,
}

/// An app's certificate and key for app-only access, as the credential store keeps
/// them (one value), with the facts the config records: its thumbprint and last day.
/// Read and checked by the sign-in part (`oauth::assertion`) before it gets here.
#[derive(Debug, Clone)]
pub struct AppCertificate {
    pub stored: Secret,
    pub thumbprint: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

/// Passwords typed in the form alongside a setting; `None` leaves the stored one.
#[derive(Debug, Default, Clone)]
pub struct PasswordChanges {
    pub smtp: Option<Secret>,
    pub imap: Option<Secret>,
}

#[derive(Debug)]
pub struct Workspace {
    file: ConfigFile,
    config: Config,
    secrets: Secrets,
    /// Set when the file could not be read: everything stays viewable, nothing is written.
    read_only_reason: Option<String>,
    /// Goes up with every change to the config in memory, so views derived
    /// from it (the table's sort) know when to recompute.
    generation: u64,
}

impl Workspace {
    /// Opens the config at `path`. Fails when the file cannot be read; see
    /// [`Self::open_or_read_only`] for the window's behaviour.
    pub fn open(path: &Path, secrets: Secrets) -> Result<Self, StoreError> {
        let mut file = ConfigFile::new(path.to_owned());
        let config = file.load()?;
        Ok(Self { file, config, secrets, read_only_reason: None, generation: 0 })
    }

    /// Like [`Self::open`], but a file that cannot be read opens empty and
    /// read-only, with the reason, so the window can still explain it.
    pub fn open_or_read_only(path: &Path, secrets: Secrets) -> Self {
        match Self::open(path, secrets.clone()) {
            Ok(workspace) => workspace,
            Err(err) => Self {
                file: ConfigFile::new(path.to_owned()),
                config: Config::default(),
                secrets,
                read_only_reason: Some(err.to_string()),
                generation: 0,
            },
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub(crate) fn read_only_reason(&self) -> Option<&str> {
        self.read_only_reason.as_deref()
    }

    /// Changes every time the config in memory changes (never goes back).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// After a slow read of a large config: the work that keeps it in the parse
    /// cache, so the next start reads it faster (see [`ConfigFile::parse_cache_writer`]).
    pub(crate) fn parse_cache_writer(&mut self) -> Option<impl FnOnce() + Send + 'static> {
        self.file.parse_cache_writer(&self.config)
    }

    /// Re-reads the file (after another program changed it).
    pub(crate) fn reload(&mut self) -> Result<(), StoreError> {
        self.config = self.file.load()?;
        self.read_only_reason = None;
        self.generation += 1;
        Ok(())
    }

    /// Runs `change` on a copy, saves it, then keeps it. What changed goes to
    /// the audit log under `action`.
    fn change<T>(
        &mut self,
        action: &str,
        change: impl FnOnce(&mut Config) -> Result<T, GuardError>,
    ) -> Result<T, WorkspaceError> {
        if let Some(reason) = &self.read_only_reason {
            return Err(WorkspaceError::ReadOnly(reason.clone()));
        }
        let mut next = self.config.clone();
        let result = change(&mut next)?;
        let problems = new_errors(&self.config, &next);
        if !problems.is_empty() {
            return Err(WorkspaceError::Refused(problems));
        }
        self.file.save(&next)?;
        audit::append(&self.audit_path(), &audit::diff(action, &self.config, &next));
        self.config = next;
        self.generation += 1;
        Ok(result)
    }

    /// The audit log beside the config file.
    pub fn audit_path(&self) -> PathBuf {
        audit::audit_path_for(self.file.path())
    }

    /// Records an event that is not a config change (a password set, a Connect).
    pub(crate) fn log_event(&self, action: &str, setting_id: &str) {
        audit::append(&self.audit_path(), &[audit::event(action, setting_id)]);
    }

    /// A change to the config made by another core module (the migration assistant).
    pub fn apply<T>(
        &mut self,
        action: &str,
        change: impl FnOnce(&mut Config) -> Result<T, GuardError>,
    ) -> Result<T, WorkspaceError> {
        self.change(action, change)
    }

    /// Adds a new setting or replaces the one with the same id, then stores
    /// any typed passwords. Passwords go to the OS store first: if that fails,
    /// the config is not changed either.
    pub(crate) fn save_setting(
        &mut self,
        setting: MailSetting,
        passwords: &PasswordChanges,
    ) -> Result<(), WorkspaceError> {
        if let Some(reason) = &self.read_only_reason {
            return Err(WorkspaceError::ReadOnly(reason.clone()));
        }
        let id = setting.id.clone();
        if let Some(password) = &passwords.smtp {
            self.secrets.set(&id, SecretKind::SmtpPassword, password)?;
        }
        if let Some(password) = &passwords.imap {
            self.secrets.set(&id, SecretKind::ImapPassword, password)?;
        }
        let changed_passwords = passwords.smtp.is_some() || passwords.imap.is_some();
        self.save_setting_moving_defaults(setting, None, changed_passwords)
    }

    /// Saves a setting whose passwords are already stored (the window writes
    /// them on a job thread first). With `move_defaults_to`, the companies that
    /// use the setting move there first, in the same change (a setting being
    /// made Inactive). `passwords_changed` records the password change in the audit log.
    pub(crate) fn save_setting_moving_defaults(
        &mut self,
        setting: MailSetting,
        move_defaults_to: Option<&crate::model::SettingId>,
        passwords_changed: bool,
    ) -> Result<(), WorkspaceError> {
        let id = setting.id.clone();
        self.change("save", |config| {
            if let Some(to) = move_defaults_to {
                for company in config.companies_defaulting_to(&setting.id) {
                    config.set_default(&company, to)?;
                }
            }
            if config.setting(&setting.id).is_some() {
                config.update_setting(setting)
            } else {
                config.add_setting(setting)
            }
        })?;
        if passwords_changed {
            self.log_event("set-password", &id);
        }
        Ok(())
    }

    /// Sets the client id of a sign-in app (creating its `[[oauth_provider]]`
    /// entry for a built-in provider); checked first, audited like every change.
    /// A `client_secret` goes to the OS store first (and out of the config).
    pub(crate) fn set_sign_in_app(
        &mut self,
        app: SignInAppChange,
        client_secret: Option<&Secret>,
        certificate: Option<&AppCertificate>,
    ) -> Result<(), WorkspaceError> {
        let client_id = app.client_id.trim().to_owned();
        if client_id.is_empty() {
            return Err(WorkspaceError::Invalid("the client id is empty".to_owned()));
        }
        crate::model::providers::check_client_id(&app.provider, &client_id)
            .map_err(|e| WorkspaceError::Invalid(e.to_string()))?;
        let builtin = crate::model::providers::by_id(&app.provider);
        if builtin.is_none() && self.config.oauth_provider(&app.provider).is_none() {
            return Err(WorkspaceError::Invalid(format!("there is no OAuth2 provider \"{}\"", app.provider)));
        }
        if let Some(expires) = &app.client_secret_expires
            && crate::model::validate::parse_date(expires).is_none()
        {
            return Err(WorkspaceError::Invalid(format!("\"{expires}\" is not a date like 2027-06-30")));
        }
        let tenant = app.tenant.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let owner = super::SecretOwner::SignInApp(app.provider.clone());
        if let Some(secret) = client_secret {
            self.secrets.set(&owner, SecretKind::ClientSecret, secret)?;
        }
        if let Some(certificate) = certificate {
            self.secrets.set(&owner, SecretKind::ClientCertificate, &certificate.stored)?;
        }
        let certificate_facts = certificate;
        let secret_stored = client_secret.is_some() || app.client_secret_stored;
        self.change("set-sign-in-app", |config| {
            if config.oauth_provider(&app.provider).is_none() {
                config.oauth_providers.push(crate::model::OAuthProvider {
                    id: app.provider.clone(),
                    ..crate::model::OAuthProvider::default()
                });
            }
            if let Some(entry) = config.oauth_providers.iter_mut().find(|p| p.id == app.provider) {
                entry.client_id = client_id;
                if builtin.and_then(|p| p.sign_in).is_some_and(|s| s.has_tenant) {
                    entry.tenant = tenant;
                }
                if secret_stored {
                    entry.client_secret = None;
                }
                if let Some(expires) = &app.client_secret_expires {
                    entry.client_secret_expires = Some(expires.clone());
                }
                if let Some(status) = &app.publishing_status {
                    entry.publishing_status = Some(status.clone());
                }
                if let Some(facts) = &certificate_facts {
                    entry.client_certificate = Some(facts.thumbprint.clone());
                    if app.client_secret_expires.is_none() {
                        entry.client_secret_expires = Some(facts.expires.clone());
                    }
                }
            }
            Ok(())
        })?;
        if secret_stored {
            self.log_event("set-client-secret", &owner.to_string());
        }
        Ok(())
    }

    pub fn set_password(&self, setting_id: &str, kind: SecretKind, password: &Secret) -> Result<(), WorkspaceError> {
        if self.config.setting(setting_id).is_none() {
            return Err(GuardError::UnknownSetting(setting_id.to_owned()).into());
        }
        self.secrets.set(setting_id, kind, password)?;
        self.log_event("set-password", setting_id);
        Ok(())
    }

    pub fn activate(&mut self, id: &str) -> Result<(), WorkspaceError> {
        self.change("activate", |config| config.activate(id))
    }

    pub fn deactivate(&mut self, id: &str) -> Result<(), WorkspaceError> {
        self.change("deactivate", |config| config.deactivate(id))
    }

    /// Deactivates `id` after moving the companies that use it to `new_default`, in one change.
    pub(crate) fn deactivate_moving_defaults(
        &mut self,
        id: &str,
        new_default: &crate::model::SettingId,
    ) -> Result<Vec<String>, WorkspaceError> {
        self.change("deactivate", |config| config.deactivate_moving_defaults(id, new_default))
    }

    pub(crate) fn set_default(
        &mut self,
        company_id: &str,
        setting_id: &crate::model::SettingId,
    ) -> Result<(), WorkspaceError> {
        self.change("set-default", |config| config.set_default(company_id, setting_id))
    }

    pub(crate) fn add_company(&mut self, company: Company) -> Result<(), WorkspaceError> {
        self.change("add-company", |config| {
            if config.company(&company.id).is_some() {
                return Err(GuardError::DuplicateId(company.id));
            }
            if !crate::model::setting::is_valid_id(&company.id) {
                return Err(GuardError::InvalidId(company.id));
            }
            config.companies.push(company);
            Ok(())
        })
    }

    /// Trusts the CA certificates in `path` (PEM) for every connection.
    pub(crate) fn add_ca_file(&mut self, path: PathBuf) -> Result<(), WorkspaceError> {
        self.change("trust-ca", |config| {
            if !config.tls.extra_ca_files.contains(&path) {
                config.tls.extra_ca_files.push(path);
            }
            Ok(())
        })
    }

    pub(crate) fn remove_ca_file(&mut self, path: &Path) -> Result<(), WorkspaceError> {
        self.change("untrust-ca", |config| {
            config.tls.extra_ca_files.retain(|p| p != path);
            Ok(())
        })
    }

    /// Moves a setting to the trash. Its secrets stay until it is purged from
    /// the trash, so a restore brings the passwords back too.
    pub fn delete(&mut self, id: &str) -> Result<DeletedSetting, WorkspaceError> {
        let (entry, purged) = self.delete_leaving_secrets(id)?;
        purge_secrets(&self.secrets, &purged);
        Ok(entry)
    }

    /// Like [`Self::delete`], but the secrets of settings pushed out of the trash
    /// are left for the caller to remove ([`purge_secrets`]) — the window does it
    /// on a job thread, as every secret-store call.
    pub(crate) fn delete_leaving_secrets(
        &mut self,
        id: &str,
    ) -> Result<(DeletedSetting, Vec<crate::model::SettingId>), WorkspaceError> {
        let now = crate::clock::Timestamp::now();
        self.change("delete", |config| {
            let entry = config.delete_setting(id, now)?;
            let purged = config.purge_old_trash().into_iter().map(|old| old.setting.id).collect();
            Ok((entry, purged))
        })
    }

    pub fn restore(&mut self, id: &str) -> Result<(), WorkspaceError> {
        self.change("restore", |config| config.restore_setting(id))
    }

    /// What importing `path` would change (nothing is written): the window asks
    /// before applying changes of trust.
    pub(crate) fn preview_import(&self, path: &Path) -> Result<ImportSummary, WorkspaceError> {
        let incoming = read_config(path)?;
        let mut copy = self.config.clone();
        let summary = copy.import(incoming)?;
        let problems = new_errors(&self.config, &copy);
        if !problems.is_empty() {
            return Err(WorkspaceError::Refused(problems));
        }
        Ok(summary)
    }

    /// Adds or replaces settings, companies and providers from another config file.
    pub fn import(&mut self, path: &Path) -> Result<ImportSummary, WorkspaceError> {
        let incoming = read_config(path)?;
        self.change("import", |config| config.import(incoming))
    }

    /// Writes the settings, companies and providers (never a secret, never the trash).
    pub fn export(&self, path: &Path) -> Result<(), WorkspaceError> {
        let text = file::to_toml(&self.config.for_export())?;
        file::write_atomically(path, text.as_bytes())?;
        Ok(())
    }
}

/// Removes the secrets of settings no longer in the config or its trash. A
/// leftover secret is harmless but untidy, so a failure is only logged.
/// The errors `after` has that `before` did not: every write path (the form, the
/// CLI, import, the migration assistant, Sign-in apps) runs the same rules here.
/// Only changed settings and sign-in apps are checked, and only new errors count,
/// so a hand-edited file with old problems can still be worked on (made Inactive,
/// fixed one field at a time). Whether a password is stored is not asked here —
/// that is the secret store's business, checked by the form and `validate`.
fn new_errors(before: &Config, after: &Config) -> Vec<String> {
    use crate::model::validate::Severity;
    use crate::model::{StoredPasswords, validate_setting};
    let assume_stored = StoredPasswords { smtp: true, imap: true };
    let errors = |setting: &MailSetting, config: &Config| -> Vec<(crate::model::Rule, crate::model::Field, String)> {
        validate_setting(setting, config, assume_stored)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.rule, f.field, f.message))
            .collect()
    };
    let mut problems = Vec::new();
    for setting in &after.mail_settings {
        let previous = before.setting(&setting.id);
        if previous == Some(setting) {
            continue;
        }
        let known = previous.map(|old| errors(old, before)).unwrap_or_default();
        for (rule, field, message) in errors(setting, after) {
            if !known.iter().any(|(r, f, _)| *r == rule && *f == field) {
                problems.push(format!("\"{}\": {field}: {message}", after.setting_name(&setting.id)));
            }
        }
    }
    for provider in &after.oauth_providers {
        let previous = before.oauth_providers.iter().find(|p| p.id == provider.id);
        if previous == Some(provider) {
            continue;
        }
        let known = previous.map(crate::model::OAuthProvider::problems).unwrap_or_default();
        problems.extend(provider.problems().into_iter().filter(|p| !known.contains(p)));
    }
    if after.network.proxy != before.network.proxy
        && let Some(problem) = after.network.proxy.as_deref().and_then(crate::model::endpoints::proxy_problem)
    {
        problems.push(problem);
    }
    problems
}

/// Drops what an import must not carry over (see [`ImportSummary`]): every secret of
/// settings whose servers or sign-in moved, the tokens of settings whose sign-in app
/// now points elsewhere, and those apps' client secrets. A failure is only logged
/// (and the secret is unusable anyway: the host or app it was for is gone).
pub(crate) fn drop_after_import(secrets: &Secrets, summary: &crate::model::ImportSummary) {
    purge_secrets(secrets, &summary.secrets_dropped);
    let owners = summary
        .tokens_dropped
        .iter()
        .map(|id| (super::SecretOwner::Setting(id.clone()), SecretKind::OAuthTokens))
        .chain(
            summary
                .app_secrets_dropped
                .iter()
                .map(|app| (super::SecretOwner::SignInApp(app.to_owned()), SecretKind::ClientSecret)),
        );
    for (owner, kind) in owners {
        if let Err(err) = secrets.delete(&owner, kind) {
            tracing::warn!("could not remove the {kind:?} of {owner} after an import: {err}");
        }
    }
}

pub(crate) fn purge_secrets(secrets: &Secrets, setting_ids: &[crate::model::SettingId]) {
    for id in setting_ids {
        if let Err(err) = secrets.delete_all(id) {
            tracing::warn!("could not remove the secrets of purged setting {id}: {err}");
        }
    }
}

/// A config file to import (its relative CA file paths resolved against its own folder).
fn read_config(path: &Path) -> Result<Config, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::Io { action: "read", path: path.to_owned(), source: e })?;
    file::parse_config(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(dir: &Path) -> Workspace {
        let secrets = Secrets::file(dir.join("secrets.json"));
        Workspace::open(&dir.join("config.toml"), secrets).unwrap()
    }

    fn setting(id: &str) -> MailSetting {
        MailSetting::example(id)
    }

    #[test]
    fn an_imported_relative_ca_file_is_the_import_files_neighbour() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = workspace(dir.path());
        let shared = dir.path().join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        let file = shared.join("import.toml");
        std::fs::write(&file, "format = \"mailsettings/1\"\n[tls]\nextra_ca_files = [\"corp-ca.pem\"]\n").unwrap();
        ws.import(&file).unwrap();
        assert_eq!(ws.config().tls.extra_ca_files, [shared.join("corp-ca.pem")]);
    }

    #[test]
    fn every_write_path_runs_the_same_rules_and_a_refused_import_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = workspace(dir.path());
        ws.save_setting(setting("a"), &PasswordChanges::default()).unwrap();
        let on_disk = std::fs::read(ws.path()).unwrap();

        // Import: one good setting and one sending its password unencrypted — refused whole.
        let mut plain = setting("plain");
        plain.smtp.security = crate::model::Security::None;
        let incoming = Config { mail_settings: vec![setting("good"), plain], ..Config::default() };
        let import = dir.path().join("import.toml");
        std::fs::write(&import, super::file::to_toml(&incoming).unwrap()).unwrap();
        assert!(matches!(ws.preview_import(&import), Err(WorkspaceError::Refused(_))), "the preview says so first");
        let err = ws.import(&import).unwrap_err();
        assert!(matches!(&err, WorkspaceError::Refused(p) if p.len() == 1), "{err:?}");
        assert!(err.to_string().contains("\"plain\": smtp.security: Passwords and tokens are never sent unencrypted"));
        assert!(ws.config().setting("good").is_none(), "nothing of it was applied");
        assert_eq!(std::fs::read(ws.path()).unwrap(), on_disk);

        // Save (form and CLI) and the migration's apply: the same rules.
        let mut no_server = setting("a");
        no_server.imap.server.clear();
        assert!(matches!(ws.save_setting(no_server, &PasswordChanges::default()), Err(WorkspaceError::Refused(_))));
        let err = ws
            .apply("migrate-start", |config| {
                let mut bad = setting("new");
                bad.smtp.send_as = "not an address".into();
                config.add_setting(bad)
            })
            .unwrap_err();
        assert!(err.to_string().contains("smtp.send_as"), "{err}");
        assert_eq!(std::fs::read(ws.path()).unwrap(), on_disk);
    }

    #[test]
    fn a_hand_edited_setting_with_old_problems_can_still_be_worked_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut broken = setting("old");
        broken.smtp.server.clear();
        let config = Config { mail_settings: vec![broken], ..Config::default() };
        std::fs::write(dir.path().join("config.toml"), super::file::to_toml(&config).unwrap()).unwrap();
        let mut ws = workspace(dir.path());
        ws.deactivate("old").expect("making it Inactive is not held up by a problem it already had");
        let mut fixed_one = ws.config().setting("old").unwrap().clone();
        fixed_one.description = "Old, being fixed".into();
        ws.save_setting(fixed_one.clone(), &PasswordChanges::default()).expect("an unrelated field");
        fixed_one.subject_tag.clear();
        let err = ws.save_setting(fixed_one, &PasswordChanges::default()).unwrap_err();
        assert!(err.to_string().contains("subject_tag"), "a new problem is refused: {err}");
    }

    /// Every way into the config (window, CLI, import, the migration) meets one rule:
    /// a proxy address keeps at most a user name.
    #[test]
    fn a_proxy_password_never_reaches_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = workspace(dir.path());
        for proxy in ["http://arteam:Winter2026@proxy:3128", "socks5://proxy:1080", "arteam:Winter2026@proxy:3128"] {
            let err = ws
                .apply("set-network", |config| {
                    config.network.proxy = Some(proxy.to_owned());
                    Ok(())
                })
                .unwrap_err();
            let said = err.to_string();
            assert!(said.contains("the proxy") && !said.contains("Winter2026"), "{said}");
        }
        ws.apply("set-network", |config| {
            config.network.proxy = Some("http://arteam@proxy.corp.example:3128".to_owned());
            Ok(())
        })
        .expect("a user name is no secret");
        assert!(!std::fs::read_to_string(ws.path()).unwrap().contains("Winter2026"));
    }

    #[test]
    fn a_refused_change_leaves_memory_and_disk_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = workspace(dir.path());
        ws.save_setting(setting("a"), &PasswordChanges::default()).unwrap();
        ws.add_company(Company { id: "acme".into(), name: "Acme".into(), default_mail_setting: None }).unwrap();
        ws.set_default("acme", &"a".into()).unwrap();
        let on_disk = std::fs::read(ws.path()).unwrap();
        let in_memory = ws.config().clone();
        assert!(matches!(ws.deactivate("a"), Err(WorkspaceError::Guard(_))));
        assert!(matches!(ws.delete("a"), Err(WorkspaceError::Guard(_))));
        assert_eq!(ws.config(), &in_memory);
        assert_eq!(std::fs::read(ws.path()).unwrap(), on_disk);
    }

    #[test]
    fn delete_and_restore_keep_the_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = workspace(dir.path());
        let passwords = PasswordChanges { smtp: Some(Secret::new("canary-smtp")), imap: None };
        ws.save_setting(setting("a"), &passwords).unwrap();
        ws.delete("a").unwrap();
        assert!(ws.config().setting("a").is_none());
        ws.restore("a").unwrap();
        assert!(ws.config().setting("a").is_some());
        let stored = ws.secrets().get("a", SecretKind::SmtpPassword).unwrap().unwrap();
        assert_eq!(stored.expose(), "canary-smtp");
        let text = std::fs::read_to_string(ws.path()).unwrap();
        assert!(!text.contains("canary-smtp"));
    }

    #[test]
    fn a_read_only_workspace_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "format = \"mailsettings/9\"\n").unwrap();
        let mut ws = Workspace::open_or_read_only(&path, Secrets::file(dir.path().join("s.json")));
        assert!(ws.read_only_reason().unwrap().contains("newer version"));
        let err = ws.save_setting(setting("a"), &PasswordChanges::default()).unwrap_err();
        assert!(matches!(err, WorkspaceError::ReadOnly(_)));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "format = \"mailsettings/9\"\n");
    }
}
