//! Everything the config file holds, and the guards that keep it consistent.
//!
//! The guards live here, not in the UI or CLI, so both refuse the same things
//! with the same words: one default per company, only an active setting can
//! be a default, and a company's default can be neither deactivated nor
//! deleted. Deleting moves a setting to the trash, from which it can be
//! restored.

use crate::clock::Timestamp;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use super::options::{AlertsConfig, NetworkConfig, SupportConfig};
use thiserror::Error;

use super::ids::SettingId;
use super::setting::{MailSetting, is_valid_id};

/// How many deleted settings the trash keeps; older ones are purged.
pub const TRASH_CAPACITY: usize = 50;

/// A company and the mail setting its automation uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Company {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_mail_setting: Option<SettingId>,
}

/// An `[[oauth_provider]]` table: a custom OAuth2 provider, or (with id
/// `microsoft365` / `gmail`) the client id and endpoint overrides of a built-in one.
/// Its `Debug` never shows the client secret (a `{:?}` of the config reaches logs).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OAuthProvider {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authorize_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_url: Option<String>,
    /// RFC 8628 device authorization endpoint (sign-in on another device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_authorization_url: Option<String>,
    /// The mail API's address (Microsoft Graph, the Gmail API) for settings that send or
    /// read through it; built in for the providers that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    pub client_id: String,
    /// `microsoft365` only: the tenant (id or domain) of settings that name none
    /// (else "organizations").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Desktop "client secrets" (Google) are not confidential, but are still
    /// never shown on screen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the app's client secret stops working (`YYYY-MM-DD`), as the admin entered it,
    /// or its certificate's last day: app-only access warns before the automation's mail stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires: Option<String>,
    /// App-only access with a certificate: its SHA-1 thumbprint (as Entra lists it). The
    /// certificate and its private key are in the OS store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Scopes of an app-only token (client credentials), e.g.
    /// `https://outlook.office365.com/.default` for Microsoft 365 (built in).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_scopes: Vec<String>,
    /// Host in the loopback redirect URI: `localhost` or `127.0.0.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_host: Option<String>,
    /// Where the tenant's administrator approves the app (`{tenant}` and `{client_id}`
    /// filled in); Microsoft's is built in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent_url: Option<String>,
    /// Google: the app's publishing status on its OAuth consent screen — `testing`,
    /// `production` or `internal`. Unset, the app may be in Testing, whose refresh
    /// tokens end 7 days after sign-in, so the clock is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishing_status: Option<String>,
    /// Extra parameters for the authorization request (e.g. `prompt = "consent"`,
    /// which some providers require before they issue a refresh token).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub authorize_params: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("id", &self.id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("revoke_url", &self.revoke_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("device_authorization_url", &self.device_authorization_url)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field("tenant", &self.tenant)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "(redacted)"))
            .field("client_secret_expires", &self.client_secret_expires)
            .field("client_certificate", &self.client_certificate)
            .field("scopes", &self.scopes)
            .field("app_scopes", &self.app_scopes)
            .field("redirect_host", &self.redirect_host)
            .field("admin_consent_url", &self.admin_consent_url)
            .field("publishing_status", &self.publishing_status)
            .field("authorize_params", &self.authorize_params)
            .finish()
    }
}

/// `[tls]`: trust beyond the built-in roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TlsConfig {
    /// PEM files with CA certificates to trust in addition to the system's
    /// (on-premises servers, test rigs).
    pub extra_ca_files: Vec<PathBuf>,
}

impl Config {
    /// Who to send a failure to: the config's contact, else the one a vendor build
    /// embedded (`MAILSETTINGS_SUPPORT_CONTACT` at compile time), else the words
    /// "your support contact".
    pub(crate) fn support_contact(&self) -> String {
        let configured = self.support.contact.as_deref().map(str::trim).filter(|c| !c.is_empty());
        configured
            .or_else(|| option_env!("MAILSETTINGS_SUPPORT_CONTACT").map(str::trim).filter(|c| !c.is_empty()))
            .unwrap_or("your support contact")
            .to_owned()
    }
}

/// `[probe]`: how long connection tests wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeConfig {
    /// Time allowed to open a connection (seconds).
    pub connect_timeout_secs: u64,
    /// Time allowed for each step after that (seconds).
    pub step_timeout_secs: u64,
    /// How long the round trip waits for its message to arrive (seconds).
    pub delivery_timeout_secs: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self { connect_timeout_secs: 10, step_timeout_secs: 20, delivery_timeout_secs: 60 }
    }
}

/// A migration from an old (Basic) setting to a new OAuth one, kept in the
/// config so the assistant resumes where it stopped. What can be derived from
/// the data (settings, defaults, the connection) is not stored here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Migration {
    pub old: SettingId,
    pub new: SettingId,
    /// `microsoft365`, `gmail` or an `[[oauth_provider]]` id.
    pub target: String,
    pub started_at: Timestamp,
    /// Company defaults before they were switched, for rollback.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previous_defaults: Vec<PreviousDefault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outgoing_passed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoming_passed_at: Option<Timestamp>,
    /// The last check of the old folders for mail not yet retrieved. (`audit`
    /// in the file: the format never renames a field.)
    #[serde(rename = "audit", skip_serializing_if = "Option::is_none")]
    pub leftover: Option<LeftoverCheck>,
    /// The folders the leftover check counts, when the admin named others than the
    /// guide's "Mail Not Read" and "Mail Not Filed" (empty: those two).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftover_folders: Vec<String>,
    /// Why the admin accepted a leftover check that could not run.
    #[serde(rename = "audit_acknowledged", skip_serializing_if = "Option::is_none")]
    pub leftover_acknowledged: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Finished by keeping the old setting Inactive instead of deleting it (the
    /// guide allows both; the kept one's folders are worth checking now and then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kept_old_inactive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PreviousDefault {
    pub company: String,
    pub setting: SettingId,
}

/// The result of the last leftover check of the old setting (its folders checked for mail not yet retrieved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LeftoverCheck {
    pub checked_at: Timestamp,
    /// Messages still in the checked folders.
    pub total: u32,
    pub unseen: u32,
    pub folders: Vec<String>,
    /// Folders the server does not have: not checked, so the check is not clean.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingFolder>,
    /// The sign-in that read the folders; the delete's re-check signs in the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in_with: Option<LeftoverRoute>,
}

/// A folder the leftover check looked for and the server does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MissingFolder {
    pub folder: String,
    /// The server's folders closest to it, best first (a few).
    pub closest: Vec<String>,
}

impl MissingFolder {
    /// `"Mail Not Read" (the server has "Mail not read", "Archive")`.
    pub(crate) fn describe(&self) -> String {
        let closest: Vec<String> = self.closest.iter().map(|f| format!("\"{f}\"")).collect();
        if closest.is_empty() {
            format!("\"{}\"", self.folder)
        } else {
            format!("\"{}\" (the server has {})", self.folder, closest.join(", "))
        }
    }
}

/// Which sign-in opens a migration's old folders for the leftover check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftoverRoute {
    /// The old setting's own sign-in (usually its Basic password).
    OldSignIn,
    /// The new setting's OAuth sign-in, opening the old mailbox on the same server.
    NewSignIn,
}

impl LeftoverRoute {
    /// The value the CLI's `--via` takes and the config file holds.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OldSignIn => "old-sign-in",
            Self::NewSignIn => "new-sign-in",
        }
    }
}

impl std::str::FromStr for LeftoverRoute {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "old-sign-in" => Ok(Self::OldSignIn),
            "new-sign-in" => Ok(Self::NewSignIn),
            other => Err(format!("\"{other}\" is not a sign-in: use old-sign-in or new-sign-in")),
        }
    }
}

/// A deleted setting kept so it can be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedSetting {
    pub deleted_at: Timestamp,
    pub setting: MailSetting,
}

/// The whole config file, minus its `format` line (the store owns that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    pub tls: TlsConfig,
    pub probe: ProbeConfig,
    #[serde(skip_serializing_if = "SupportConfig::is_empty")]
    pub support: SupportConfig,
    #[serde(skip_serializing_if = "AlertsConfig::is_empty")]
    pub alerts: AlertsConfig,
    #[serde(skip_serializing_if = "NetworkConfig::is_empty")]
    pub network: NetworkConfig,
    #[serde(rename = "mail_setting")]
    pub mail_settings: Vec<MailSetting>,
    #[serde(rename = "company")]
    pub companies: Vec<Company>,
    #[serde(rename = "oauth_provider")]
    pub oauth_providers: Vec<OAuthProvider>,
    #[serde(rename = "migration")]
    pub migrations: Vec<Migration>,
    #[serde(rename = "deleted_mail_setting")]
    pub trash: Vec<DeletedSetting>,
}

/// Why a change to the config was refused. Every message names what the
/// admin has to change first.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GuardError {
    #[error("there is no mail setting with id \"{0}\"")]
    UnknownSetting(String),
    #[error("there is no company with id \"{0}\"")]
    UnknownCompany(String),
    #[error("there is no deleted mail setting with id \"{0}\" in the trash")]
    NotInTrash(String),
    #[error("\"{0}\" is not a valid id: use lower-case letters, digits, '-' and '_' (at most 64)")]
    InvalidId(String),
    #[error("a mail setting with id \"{0}\" already exists")]
    DuplicateId(String),
    /// A sign-in endpoint that is not https (or a redirect host that is not this computer).
    #[error("{0}")]
    InsecureEndpoint(String),
    /// `company` and `setting` are display names (see [`Config::company_name`], [`Config::setting_name`]).
    #[error("\"{setting}\" is inactive, so it cannot be the default for {company}; activate it first")]
    DefaultMustBeActive { company: String, setting: String },
    /// `setting` and `companies` are display names; `setting_id` is for code that acts on it.
    #[error(
        "\"{setting}\" is the default mail setting for {companies}; choose another default for {them} first",
        companies = describe_companies(.companies),
        them = if .companies.len() == 1 { "it" } else { "them" }
    )]
    InUseAsDefault { setting_id: String, setting: String, action: GuardedAction, companies: Vec<String> },
    /// `old` and `new` are display names. The old setting of a mailbox another setting
    /// replaces goes only through its migration, which checks its folders first.
    #[error(
        "\"{old}\" is replaced by \"{new}\" (the same mailbox), so it is deleted through its migration, which \
         first checks its folders for mail not yet retrieved: the Migration view's Delete, or {how}",
        how = if *.migrating {
            format!("mailsettings migrate finish {old_id}")
        } else {
            format!("mailsettings migrate start {old_id} --to-existing {new_id}, then migrate finish {old_id}")
        }
    )]
    ReplacedMailbox { old_id: String, old: String, new_id: String, new: String, migrating: bool },
}

/// What was attempted when [`GuardError::InUseAsDefault`] refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardedAction {
    Deactivate,
    Delete,
}

fn describe_companies(companies: &[String]) -> String {
    match companies {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => "no company".to_owned(),
    }
}

impl Config {
    pub fn setting(&self, id: &str) -> Option<&MailSetting> {
        self.mail_settings.iter().find(|s| s.id == id)
    }

    pub fn setting_mut(&mut self, id: &str) -> Option<&mut MailSetting> {
        self.mail_settings.iter_mut().find(|s| s.id == id)
    }

    pub fn company(&self, id: &str) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

    pub fn oauth_provider(&self, id: &str) -> Option<&OAuthProvider> {
        self.oauth_providers.iter().find(|p| p.id == id)
    }

    /// How a setting is named to people: its description, or its id when it has none.
    pub fn setting_name(&self, id: &str) -> String {
        let deleted = || self.trash.iter().rev().find(|d| d.setting.id == id).map(|d| &d.setting);
        match self.setting(id).or_else(deleted) {
            Some(s) if !s.description.trim().is_empty() => s.description.clone(),
            _ => id.to_owned(),
        }
    }

    /// How a company is named to people: its name, or its id when it has none.
    pub(crate) fn company_name(&self, id: &str) -> String {
        match self.company(id) {
            Some(c) if !c.name.trim().is_empty() => c.name.clone(),
            _ => id.to_owned(),
        }
    }

    /// The names of the companies whose default is `setting_id`.
    pub(crate) fn company_names_defaulting_to(&self, setting_id: &str) -> Vec<String> {
        self.companies_defaulting_to(setting_id).iter().map(|c| self.company_name(c)).collect()
    }

    /// Makes `id` inactive after moving every company that uses it as its
    /// default to `new_default` (the guide's order: step 10 before step 11),
    /// in one change. Returns the companies moved.
    pub(crate) fn deactivate_moving_defaults(
        &mut self,
        id: &str,
        new_default: &SettingId,
    ) -> Result<Vec<String>, GuardError> {
        if self.setting(id).is_none() {
            return Err(GuardError::UnknownSetting(id.to_owned()));
        }
        let companies = self.companies_defaulting_to(id);
        for company in &companies {
            self.set_default(company, new_default)?;
        }
        self.deactivate(id)?;
        Ok(companies)
    }

    /// The names of the companies with no default, or an inactive or missing one
    /// (the guide: "recheck in case a Company still doesn't have a default").
    pub(crate) fn companies_without_active_default(&self) -> Vec<String> {
        self.companies
            .iter()
            .filter(|c| c.default_mail_setting.as_deref().and_then(|id| self.setting(id)).is_none_or(|s| !s.active))
            .map(|c| self.company_name(&c.id))
            .collect()
    }

    /// Ids of the companies whose default is `setting_id`, in file order.
    pub fn companies_defaulting_to(&self, setting_id: &str) -> Vec<String> {
        self.companies
            .iter()
            .filter(|c| c.default_mail_setting.as_deref() == Some(setting_id))
            .map(|c| c.id.clone())
            .collect()
    }

    /// An id based on `description` that no setting (live or in the trash) uses yet.
    pub(crate) fn unused_id(&self, description: &str) -> SettingId {
        let base = super::setting::slugify(description);
        let taken = |id: &str| self.setting(id).is_some() || self.trash.iter().any(|d| d.setting.id == id);
        if !taken(&base) {
            return base.into();
        }
        (2..).map(|n| format!("{base}-{n}")).find(|candidate| !taken(candidate)).unwrap_or(base).into()
    }

    /// Adds a new setting, refusing an invalid or taken id.
    pub(crate) fn add_setting(&mut self, setting: MailSetting) -> Result<(), GuardError> {
        if !is_valid_id(&setting.id) {
            return Err(GuardError::InvalidId(setting.id.into()));
        }
        if self.setting(&setting.id).is_some() {
            return Err(GuardError::DuplicateId(setting.id.into()));
        }
        self.mail_settings.push(setting);
        Ok(())
    }

    /// Replaces the setting with the same id, keeping the guards: a company
    /// default cannot be made inactive this way either.
    pub(crate) fn update_setting(&mut self, setting: MailSetting) -> Result<(), GuardError> {
        let current = self.setting(&setting.id).ok_or_else(|| GuardError::UnknownSetting(setting.id.clone().into()))?;
        if current.active && !setting.active {
            self.check_not_default(&setting.id, GuardedAction::Deactivate)?;
        }
        if let Some(slot) = self.setting_mut(&setting.id) {
            *slot = setting;
        }
        Ok(())
    }

    pub fn activate(&mut self, id: &str) -> Result<(), GuardError> {
        let setting = self.setting_mut(id).ok_or_else(|| GuardError::UnknownSetting(id.to_owned()))?;
        setting.active = true;
        Ok(())
    }

    pub fn deactivate(&mut self, id: &str) -> Result<(), GuardError> {
        if self.setting(id).is_none() {
            return Err(GuardError::UnknownSetting(id.to_owned()));
        }
        self.check_not_default(id, GuardedAction::Deactivate)?;
        if let Some(setting) = self.setting_mut(id) {
            setting.active = false;
        }
        Ok(())
    }

    /// Makes `setting_id` the one default of `company_id`.
    pub(crate) fn set_default(&mut self, company_id: &str, setting_id: &SettingId) -> Result<(), GuardError> {
        let setting = self.setting(setting_id).ok_or_else(|| GuardError::UnknownSetting(setting_id.to_string()))?;
        if !setting.active {
            return Err(GuardError::DefaultMustBeActive {
                company: self.company_name(company_id),
                setting: self.setting_name(setting_id),
            });
        }
        let company = self
            .companies
            .iter_mut()
            .find(|c| c.id == company_id)
            .ok_or_else(|| GuardError::UnknownCompany(company_id.to_owned()))?;
        company.default_mail_setting = Some(setting_id.to_owned());
        Ok(())
    }

    /// The OAuth setting that replaces `old_id`'s mailbox: the new side of its migration
    /// (not rolled back), else one made for the same mailbox — whatever the old
    /// setting's state, so doing a step of the guide by hand loses no guard.
    pub(crate) fn replaced_by(&self, old_id: &str) -> Option<(&MailSetting, bool)> {
        let old = self.setting(old_id)?;
        if let Some(migration) = self.migration(old_id) {
            return self.setting(&migration.new).map(|new| (new, true));
        }
        self.mail_settings.iter().find(|new| old.could_be_replaced_by(new)).map(|new| (new, false))
    }

    /// Moves a setting to the trash. Returns the trash entry (for undo). The old setting
    /// of a replaced mailbox is refused ([`GuardError::ReplacedMailbox`]): its migration
    /// deletes it after checking its folders ([`Self::delete_after_recheck`]).
    pub(crate) fn delete_setting(&mut self, id: &str, deleted_at: Timestamp) -> Result<DeletedSetting, GuardError> {
        if let Some((new, migrating)) = self.replaced_by(id) {
            return Err(GuardError::ReplacedMailbox {
                old_id: id.to_owned(),
                old: self.setting_name(id),
                new_id: new.id.clone().into(),
                new: self.setting_name(&new.id),
                migrating,
            });
        }
        self.delete_after_recheck(id, deleted_at)
    }

    /// [`Self::delete_setting`] for a migration's finish, which has just checked the
    /// old folders: every other guard still holds.
    pub(crate) fn delete_after_recheck(
        &mut self,
        id: &str,
        deleted_at: Timestamp,
    ) -> Result<DeletedSetting, GuardError> {
        let index = self
            .mail_settings
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| GuardError::UnknownSetting(id.to_owned()))?;
        self.check_not_default(id, GuardedAction::Delete)?;
        let setting = self.mail_settings.remove(index);
        let entry = DeletedSetting { deleted_at, setting };
        self.trash.push(entry.clone());
        Ok(entry)
    }

    /// Trash entries beyond [`TRASH_CAPACITY`], oldest first, removed from the
    /// trash. The caller deletes their secrets.
    pub(crate) fn purge_old_trash(&mut self) -> Vec<DeletedSetting> {
        let excess = self.trash.len().saturating_sub(TRASH_CAPACITY);
        self.trash.drain(..excess).collect()
    }

    /// Brings the most recently deleted setting with this id back.
    pub(crate) fn restore_setting(&mut self, id: &str) -> Result<(), GuardError> {
        if self.setting(id).is_some() {
            return Err(GuardError::DuplicateId(id.to_owned()));
        }
        let index =
            self.trash.iter().rposition(|d| d.setting.id == id).ok_or_else(|| GuardError::NotInTrash(id.to_owned()))?;
        let entry = self.trash.remove(index);
        self.mail_settings.push(entry.setting);
        Ok(())
    }

    /// The migration of `old` that is still going on (not rolled back).
    pub fn migration(&self, old: &str) -> Option<&Migration> {
        self.migrations.iter().rev().find(|m| m.old == old && m.rolled_back_at.is_none())
    }

    pub(crate) fn migration_mut(&mut self, old: &str) -> Option<&mut Migration> {
        self.migrations.iter_mut().rev().find(|m| m.old == old && m.rolled_back_at.is_none())
    }

    /// Problems a hand-edited file can have that the guards otherwise prevent:
    /// duplicate ids, and company defaults that are missing or inactive.
    pub(crate) fn consistency_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for setting in &self.mail_settings {
            if !seen.insert(setting.id.as_str()) {
                problems.push(format!("two mail settings have the id \"{}\"; ids must be unique", setting.id));
            }
        }
        for provider in &self.oauth_providers {
            problems.extend(provider.problems());
        }
        let mut seen = std::collections::BTreeSet::new();
        for company in &self.companies {
            if !seen.insert(company.id.as_str()) {
                problems.push(format!("two companies have the id \"{}\"; ids must be unique", company.id));
            }
            let Some(default) = company.default_mail_setting.as_deref() else {
                continue;
            };
            match self.setting(default) {
                None => problems.push(format!(
                    "company \"{}\" uses mail setting \"{default}\", which does not exist",
                    company.id
                )),
                Some(s) if !s.active => problems.push(format!(
                    "company \"{}\" uses mail setting \"{default}\", which is inactive; activate it or choose another default",
                    company.id
                )),
                Some(_) => {}
            }
        }
        problems
    }

    fn check_not_default(&self, id: &str, action: GuardedAction) -> Result<(), GuardError> {
        let companies = self.companies_defaulting_to(id);
        if companies.is_empty() {
            Ok(())
        } else {
            Err(GuardError::InUseAsDefault {
                setting_id: id.to_owned(),
                setting: self.setting_name(id),
                action,
                companies: companies.iter().map(|c| self.company_name(c)).collect(),
            })
        }
    }
}

impl OAuthProvider {
    /// Everything wrong with a sign-in app's endpoints and redirect host.
    pub fn problems(&self) -> Vec<String> {
        let provider = self;
        let id = &provider.id;
        let mut problems: Vec<String> = [
            ("authorize_url", Some(provider.authorize_url.as_str())),
            ("token_url", Some(provider.token_url.as_str())),
            ("revoke_url", provider.revoke_url.as_deref()),
            ("userinfo_url", provider.userinfo_url.as_deref()),
            ("device_authorization_url", provider.device_authorization_url.as_deref()),
            ("api_url", provider.api_url.as_deref()),
            ("admin_consent_url", provider.admin_consent_url.as_deref()),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.filter(|v| !v.trim().is_empty()).map(|v| (field, v)))
        .filter_map(|(field, value)| {
            super::endpoints::endpoint_problem(&format!("OAuth2 provider \"{id}\": {field}"), value)
        })
        .collect();
        if let Some(problem) = provider
            .tenant
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| super::endpoints::tenant_problem(&format!("OAuth2 provider \"{id}\": tenant"), t))
        {
            problems.push(problem);
        }
        if let Some(host) = &provider.redirect_host
            && !["localhost", "127.0.0.1", "::1", "[::1]"].contains(&host.trim())
        {
            problems.push(format!(
                "OAuth2 provider \"{id}\": redirect_host \"{host}\" must be this computer (localhost or 127.0.0.1)"
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_support_contact_is_the_configs_else_a_plain_phrase() {
        let mut config = Config::default();
        if option_env!("MAILSETTINGS_SUPPORT_CONTACT").is_none() {
            assert_eq!(config.support_contact(), "your support contact");
        }
        config.support.contact = Some(" help@vendor.example ".into());
        assert_eq!(config.support_contact(), "help@vendor.example");
        let text = toml::to_string(&config).unwrap();
        assert!(text.contains("[support]") && text.contains("contact = \" help@vendor.example \""), "{text}");
        assert!(!toml::to_string(&Config::default()).unwrap().contains("[support]"), "absent when unset");
    }

    #[test]
    fn a_client_secret_never_shows_in_debug_output() {
        let provider = OAuthProvider {
            id: "corp".into(),
            client_secret: Some("canary-client-secret".into()),
            ..OAuthProvider::default()
        };
        let config = Config { oauth_providers: vec![provider], ..Config::default() };
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("canary-client-secret") && shown.contains("(redacted)"), "{shown}");
    }

    fn setting(id: &str, active: bool) -> MailSetting {
        MailSetting { id: id.into(), description: id.into(), active, ..MailSetting::default() }
    }

    fn sample() -> Config {
        Config {
            mail_settings: vec![
                MailSetting { description: "Old Basic".into(), ..setting("old-basic", true) },
                setting("new-m365", true),
                setting("spare", false),
            ],
            companies: vec![
                Company { id: "acme".into(), name: "Acme".into(), default_mail_setting: Some("old-basic".into()) },
                Company { id: "globex".into(), name: "Globex".into(), default_mail_setting: Some("old-basic".into()) },
                Company { id: "initech".into(), name: "Initech".into(), default_mail_setting: None },
            ],
            ..Config::default()
        }
    }

    #[test]
    fn a_default_cannot_be_deactivated_and_the_error_names_the_companies() {
        let mut config = sample();
        let err = config.deactivate("old-basic").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"Old Basic\" is the default mail setting for Acme and Globex; choose another default for them first"
        );
        assert!(config.setting("old-basic").unwrap().active, "nothing changed");
    }

    #[test]
    fn deactivating_a_default_can_move_its_companies_first_in_one_change() {
        let mut config = sample();
        let before = config.clone();
        let err = config.deactivate_moving_defaults("old-basic", &"spare".into()).unwrap_err();
        assert!(matches!(err, GuardError::DefaultMustBeActive { .. }), "an inactive target is refused");
        assert_eq!(err.to_string(), "\"spare\" is inactive, so it cannot be the default for Acme; activate it first");
        let moved = config.deactivate_moving_defaults("old-basic", &"new-m365".into()).unwrap();
        assert_eq!(moved, vec!["acme".to_owned(), "globex".to_owned()]);
        assert!(!config.setting("old-basic").unwrap().active);
        assert_eq!(config.companies_defaulting_to("new-m365"), vec!["acme".to_owned(), "globex".to_owned()]);
        assert_eq!(config.company("initech"), before.company("initech"), "other companies untouched");
        assert!(matches!(
            config.deactivate_moving_defaults("nope", &"new-m365".into()),
            Err(GuardError::UnknownSetting(_))
        ));
    }

    #[test]
    fn a_default_cannot_be_deactivated_through_an_edit_either() {
        let mut config = sample();
        let mut edited = config.setting("old-basic").unwrap().clone();
        edited.active = false;
        assert!(matches!(config.update_setting(edited), Err(GuardError::InUseAsDefault { .. })));
    }

    #[test]
    fn the_old_setting_of_a_replaced_mailbox_is_deleted_only_after_its_recheck() {
        let mut config = sample();
        let mut new = MailSetting::example("new-oauth");
        new.credential = crate::model::CredentialKind::Microsoft365;
        let mut old = MailSetting::example("spare");
        old.active = false; // step 10 done by hand
        config.mail_settings.retain(|s| s.id != "spare");
        config.mail_settings.extend([old, new]);
        let refused = config.delete_setting("spare", Timestamp::now()).unwrap_err();
        assert!(
            matches!(&refused, GuardError::ReplacedMailbox { new_id, migrating: false, .. } if new_id == "new-oauth"),
            "{refused}"
        );
        assert!(config.delete_after_recheck("spare", Timestamp::now()).is_ok(), "the migration's finish may");
    }

    #[test]
    fn a_default_cannot_be_deleted() {
        let mut config = sample();
        config.set_default("globex", &"new-m365".into()).unwrap();
        let err = config.delete_setting("old-basic", Timestamp::now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"Old Basic\" is the default mail setting for Acme; choose another default for it first"
        );
        assert_eq!(config.mail_settings.len(), 3);
    }

    #[test]
    fn only_an_active_setting_can_be_a_default() {
        let mut config = sample();
        let err = config.set_default("initech", &"spare".into()).unwrap_err();
        assert!(matches!(err, GuardError::DefaultMustBeActive { .. }));
        assert!(err.to_string().contains("activate it first"));
        assert_eq!(config.company("initech").unwrap().default_mail_setting, None);
    }

    #[test]
    fn set_default_replaces_the_one_default() {
        let mut config = sample();
        config.set_default("acme", &"new-m365".into()).unwrap();
        assert_eq!(config.company("acme").unwrap().default_mail_setting.as_deref(), Some("new-m365"));
        assert_eq!(config.companies_defaulting_to("old-basic"), vec!["globex".to_owned()]);
        assert!(matches!(config.set_default("nope", &"new-m365".into()), Err(GuardError::UnknownCompany(_))));
        assert!(matches!(config.set_default("acme", &"nope".into()), Err(GuardError::UnknownSetting(_))));
    }

    #[test]
    fn deactivate_then_delete_then_restore() {
        let mut config = sample();
        config.set_default("acme", &"new-m365".into()).unwrap();
        config.set_default("globex", &"new-m365".into()).unwrap();
        config.deactivate("old-basic").unwrap();
        let entry = config.delete_setting("old-basic", "2026-11-26T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(entry.setting.id, "old-basic");
        assert!(config.setting("old-basic").is_none());
        assert_eq!(config.trash.len(), 1);
        config.restore_setting("old-basic").unwrap();
        assert!(config.setting("old-basic").is_some());
        assert!(config.trash.is_empty());
        assert!(matches!(config.restore_setting("old-basic"), Err(GuardError::DuplicateId(_))));
        assert!(matches!(config.restore_setting("never"), Err(GuardError::NotInTrash(_))));
    }

    #[test]
    fn the_trash_keeps_a_bounded_history() {
        let mut config = Config::default();
        for n in 0..(TRASH_CAPACITY + 3) {
            config.add_setting(setting(&format!("s{n}"), true)).unwrap();
            config.delete_setting(&format!("s{n}"), Timestamp::now()).unwrap();
        }
        let purged = config.purge_old_trash();
        assert_eq!(purged.len(), 3);
        assert_eq!(purged[0].setting.id, "s0");
        assert_eq!(config.trash.len(), TRASH_CAPACITY);
    }

    #[test]
    fn add_refuses_bad_or_taken_ids() {
        let mut config = sample();
        assert!(matches!(config.add_setting(setting("old-basic", true)), Err(GuardError::DuplicateId(_))));
        assert!(matches!(config.add_setting(setting("Bad Id", true)), Err(GuardError::InvalidId(_))));
    }

    #[test]
    fn unused_id_avoids_live_and_deleted_ids() {
        let mut config = sample();
        assert_eq!(config.unused_id("Old Basic"), "old-basic-2");
        config.set_default("acme", &"new-m365".into()).unwrap();
        config.set_default("globex", &"new-m365".into()).unwrap();
        config.delete_setting("old-basic", Timestamp::now()).unwrap();
        assert_eq!(config.unused_id("Old Basic"), "old-basic-2");
        assert_eq!(config.unused_id("Fresh"), "fresh");
    }

    #[test]
    fn import_adds_and_replaces_by_id() {
        let mut config = sample();
        let mut changed = setting("new-m365", true);
        changed.description = "Changed".into();
        let incoming = Config {
            mail_settings: vec![changed, setting("brand-new", true)],
            companies: vec![Company {
                id: "hooli".into(),
                name: "Hooli".into(),
                default_mail_setting: Some("brand-new".into()),
            }],
            ..Config::default()
        };
        let summary = config.import(incoming).unwrap();
        assert_eq!(summary.added, vec!["brand-new".to_owned()]);
        assert_eq!(summary.replaced, vec!["new-m365".to_owned()]);
        assert_eq!(summary.companies_added, vec!["hooli".to_owned()]);
        assert_eq!(config.setting("new-m365").unwrap().description, "Changed");
        assert_eq!(config.mail_settings.len(), 4);
    }

    #[test]
    fn import_that_would_break_a_guard_changes_nothing() {
        let mut config = sample();
        let before = config.clone();
        let incoming = Config {
            mail_settings: vec![setting("brand-new", true), setting("old-basic", false)],
            ..Config::default()
        };
        assert!(matches!(config.import(incoming), Err(GuardError::InUseAsDefault { .. })));
        assert_eq!(config, before);
        let incoming = Config {
            companies: vec![Company { id: "x".into(), name: "X".into(), default_mail_setting: Some("spare".into()) }],
            ..Config::default()
        };
        assert!(matches!(config.import(incoming), Err(GuardError::DefaultMustBeActive { .. })));
        assert_eq!(config, before);
    }

    #[test]
    fn consistency_problems_of_a_hand_edited_file() {
        let mut config = sample();
        assert!(config.consistency_problems().is_empty());
        config.mail_settings.push(setting("spare", true));
        config.companies[2].default_mail_setting = Some("ghost".into());
        config.setting_mut("old-basic").unwrap().active = false;
        let problems = config.consistency_problems();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("two mail settings have the id \"spare\""));
        assert!(problems.iter().any(|p| p.contains("\"ghost\", which does not exist")));
        assert!(problems.iter().filter(|p| p.contains("which is inactive")).count() == 2);
    }

    #[test]
    fn export_leaves_the_trash_out() {
        let mut config = sample();
        config.add_setting(setting("gone", true)).unwrap();
        config.delete_setting("gone", Timestamp::now()).unwrap();
        assert!(config.for_export().trash.is_empty());
        assert_eq!(config.for_export().mail_settings, config.mail_settings);
    }
}
