//! One mail setting: who sends (SMTP), who receives (IMAP), and how they sign in.
//!
//! Field names here are the config file's field names; the file format is a
//! contract (docs/config.md), so fields are added, never renamed.

use serde::{Deserialize, Serialize};

use super::ids::SettingId;

/// How the setting signs in to its servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// User name and password, kept in the OS credential store.
    #[default]
    Basic,
    /// Microsoft 365 (Exchange Online) OAuth2.
    Microsoft365,
    /// Gmail / Google Workspace OAuth2.
    Gmail,
    /// A custom OAuth2 provider from an `[[oauth_provider]]` table.
    Oauth2,
}

impl CredentialKind {
    pub const ALL: [Self; 4] = [Self::Basic, Self::Microsoft365, Self::Gmail, Self::Oauth2];

    // `config_name` and `label` are in the provider catalogue (providers.rs).

    pub(crate) fn uses_oauth(self) -> bool {
        self != Self::Basic
    }
}

/// Whose access an OAuth setting signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OAuthFlow {
    /// A person signs in once (Connect); the refresh token keeps it going.
    #[default]
    Delegated,
    /// The organisation's app itself (client credentials): no person's token, for
    /// an automation that runs unattended.
    App,
}

impl OAuthFlow {
    pub(crate) fn is_delegated(&self) -> bool {
        *self == Self::Delegated
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Delegated => "signed in by a person (delegated)",
            Self::App => "app-only access (client credentials)",
        }
    }
}

/// How a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connect, then upgrade with STARTTLS before anything secret is sent.
    #[default]
    Starttls,
    /// TLS from the first byte ("SSL", implicit TLS).
    Tls,
    /// No encryption. Only allowed for settings that send no credentials.
    None,
}

impl Security {
    pub const ALL: [Self; 3] = [Self::Starttls, Self::Tls, Self::None];

    pub fn label(self) -> &'static str {
        match self {
            Self::Starttls => "Start TLS",
            Self::Tls => "TLS on connect (SSL)",
            Self::None => "None (unencrypted)",
        }
    }
}

/// The road mail takes on one side: the mail protocol (SMTP to send, IMAP to read), or
/// the provider's own HTTP API — for tenants that switched SMTP AUTH (or IMAP) off,
/// where the same sign-in sends and reads through Microsoft Graph or the Gmail API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// SMTP on the outgoing side, IMAP on the incoming side (the config file may say either).
    #[default]
    #[serde(rename = "protocol", alias = "smtp", alias = "imap")]
    Protocol,
    /// Microsoft Graph (`sendMail`, `mailFolders`): Microsoft 365 only.
    Graph,
    /// The Gmail API (`users.messages.send`, labels): Gmail only.
    GmailApi,
}

impl Transport {
    pub(crate) fn is_protocol(&self) -> bool {
        *self == Self::Protocol
    }

    /// Its name in the form and in reports ("SMTP", "Microsoft Graph").
    pub fn label(self, side: Protocol) -> &'static str {
        match (self, side) {
            (Self::Protocol, Protocol::Smtp) => "SMTP",
            (Self::Protocol, Protocol::Imap) => "IMAP",
            (Self::Graph, _) => "Microsoft Graph",
            (Self::GmailApi, _) => "Gmail API",
        }
    }

    /// Its word in the config file and on the command line (`smtp`/`imap`, `graph`, `gmail-api`).
    pub(crate) fn config_name(self, side: Protocol) -> &'static str {
        match (self, side) {
            (Self::Protocol, Protocol::Smtp) => "smtp",
            (Self::Protocol, Protocol::Imap) => "imap",
            (Self::Graph, _) => "graph",
            (Self::GmailApi, _) => "gmail-api",
        }
    }

    /// The credential type whose API this is; `None` for the mail protocols.
    pub(crate) fn provider_credential(self) -> Option<CredentialKind> {
        match self {
            Self::Protocol => None,
            Self::Graph => Some(CredentialKind::Microsoft365),
            Self::GmailApi => Some(CredentialKind::Gmail),
        }
    }
}

/// The two mail protocols: SMTP to send, IMAP to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Smtp,
    Imap,
}

impl Protocol {
    /// The standard port for this protocol with this security (465/587, 993/143).
    pub(crate) fn port_for(self, security: Security) -> u16 {
        match (self, security) {
            (Self::Smtp, Security::Tls) => 465,
            (Self::Smtp, _) => 587,
            (Self::Imap, Security::Tls) => 993,
            (Self::Imap, _) => 143,
        }
    }

    /// The security a standard port speaks, if `port` is one.
    pub(crate) fn security_of_port(self, port: u16) -> Option<Security> {
        match (self, port) {
            (Self::Imap, 993) | (Self::Smtp, 465) => Some(Security::Tls),
            (Self::Imap, 143) | (Self::Smtp, 587) => Some(Security::Starttls),
            _ => None,
        }
    }
}

/// Outgoing mail: the SMTP submission server the automation sends through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub server: String,
    pub port: u16,
    pub security: Security,
    /// The address recipients see mail come from.
    pub send_as: String,
    /// The display name shown instead of the address.
    pub from_name: String,
    pub user_name: String,
    /// Must equal the domain of `send_as`.
    pub user_domain: String,
    /// How this side signs in, when not as the setting's `credential` (a relay such as
    /// SendGrid with a password, while replies arrive in an OAuth mailbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialKind>,
    /// SMTP (the default, not written) or the provider's API (`graph`, `gmail-api`);
    /// with an API, server, port and security are not used.
    #[serde(skip_serializing_if = "Transport::is_protocol")]
    pub sends_with: Transport,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            server: String::new(),
            port: 587,
            security: Security::Starttls,
            send_as: String::new(),
            from_name: String::new(),
            user_name: String::new(),
            user_domain: String::new(),
            credential: None,
            sends_with: Transport::Protocol,
        }
    }
}

/// Incoming mail: the IMAP mailbox replies are delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImapSettings {
    pub server: String,
    pub port: u16,
    pub security: Security,
    pub inbox_folder: String,
    pub sent_folder: String,
    /// The mailbox that receives replies (the reply-to address).
    pub user_name: String,
    /// Must equal the domain of `user_name`.
    pub user_domain: String,
    /// How this side signs in, when not as the setting's `credential`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialKind>,
    /// IMAP (the default, not written) or the provider's API (`graph`, `gmail-api`);
    /// with an API, server, port and security are not used.
    #[serde(skip_serializing_if = "Transport::is_protocol")]
    pub reads_with: Transport,
}

pub const DEFAULT_INBOX_FOLDER: &str = "Inbox";
pub const DEFAULT_SENT_FOLDER: &str = "Sent";

impl Default for ImapSettings {
    fn default() -> Self {
        Self {
            server: String::new(),
            port: 993,
            security: Security::Tls,
            inbox_folder: DEFAULT_INBOX_FOLDER.to_owned(),
            sent_folder: DEFAULT_SENT_FOLDER.to_owned(),
            user_name: String::new(),
            user_domain: String::new(),
            credential: None,
            reads_with: Transport::Protocol,
        }
    }
}

/// One `[[mail_setting]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSetting {
    /// Stable slug; secrets in the OS store are keyed by it.
    pub id: SettingId,
    pub description: String,
    /// Put at the start of every subject the automation sends.
    pub subject_tag: String,
    pub credential: CredentialKind,
    /// For `credential = "oauth2"`: the id of an `[[oauth_provider]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_provider: Option<String>,
    /// For Microsoft 365: tenant id or verified domain (`organizations` when empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `delegated` (default, written only when not) or `app`: app-only access.
    #[serde(skip_serializing_if = "OAuthFlow::is_delegated")]
    pub oauth_flow: OAuthFlow,
    /// For a shared mailbox: the person with Full Access who signs in (Connect) for it.
    /// Incoming signs in as the mailbox (`imap.user_name`) with this person's token;
    /// outgoing signs in as `smtp.user_name` — this person (with Send As on the
    /// mailbox) or the mailbox itself (a licensed mailbox with SMTP AUTH).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegate: Option<String>,
    pub active: bool,
    pub smtp: SmtpSettings,
    pub imap: ImapSettings,
}

impl Default for MailSetting {
    fn default() -> Self {
        Self {
            id: String::new().into(),
            description: String::new(),
            subject_tag: String::new(),
            credential: CredentialKind::Basic,
            oauth_provider: None,
            tenant: None,
            oauth_flow: OAuthFlow::Delegated,
            delegate: None,
            active: true,
            smtp: SmtpSettings::default(),
            imap: ImapSettings::default(),
        }
    }
}

impl MailSetting {
    /// How the outgoing side signs in: its own `credential`, else the setting's.
    pub fn smtp_credential(&self) -> CredentialKind {
        self.smtp.credential.unwrap_or(self.credential)
    }

    /// How the incoming side signs in: its own `credential`, else the setting's.
    pub fn imap_credential(&self) -> CredentialKind {
        self.imap.credential.unwrap_or(self.credential)
    }

    /// The OAuth sign-in the setting connects with (Connect, its tokens): the
    /// incoming side's when it uses OAuth, else the outgoing side's. A setting has
    /// one connection, so both OAuth sides must be the same kind (validation says so).
    pub(crate) fn oauth_credential(&self) -> Option<CredentialKind> {
        [self.imap_credential(), self.smtp_credential()].into_iter().find(|kind| kind.uses_oauth())
    }

    /// The person who signs in for a shared mailbox, when one is named and a person
    /// signs in (not with app-only access).
    pub(crate) fn shared_mailbox_delegate(&self) -> Option<&str> {
        let delegate = self.delegate.as_deref().map(str::trim).filter(|d| !d.is_empty())?;
        (self.uses_oauth() && self.oauth_flow.is_delegated()).then_some(delegate)
    }

    /// The account Connect expects to sign in: the shared mailbox's delegate, else
    /// the mailbox (the incoming user name).
    pub(crate) fn expected_account(&self) -> &str {
        self.shared_mailbox_delegate().unwrap_or_else(|| self.imap.user_name.trim())
    }

    /// The sign-in app the setting's OAuth connection uses: the built-in provider's id
    /// (`microsoft365`, `gmail`, which an `[[oauth_provider]]` of that id adjusts) or the
    /// `[[oauth_provider]]` it names; `None` for Basic.
    pub(crate) fn sign_in_app(&self) -> Option<&str> {
        match self.oauth_credential()? {
            CredentialKind::Oauth2 => self.oauth_provider.as_deref().map(str::trim).filter(|p| !p.is_empty()),
            builtin => Some(builtin.config_name()),
        }
    }

    /// Whether `new` is an OAuth setting made for this one's mailbox (the guide's literal
    /// path: "+ Add new record" beside the Basic one): this signs in with a password,
    /// `new` with OAuth, and they share the IMAP user name or the send-as address.
    pub(crate) fn could_be_replaced_by(&self, new: &MailSetting) -> bool {
        let same = |a: &str, b: &str| !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim());
        self.id != new.id
            && !self.uses_oauth()
            && new.imap_credential().uses_oauth()
            && (same(&self.imap.user_name, &new.imap.user_name) || same(&self.smtp.send_as, &new.smtp.send_as))
    }

    /// Whether either side goes through a provider's API instead of SMTP/IMAP.
    pub(crate) fn uses_mail_api(&self) -> bool {
        !self.smtp.sends_with.is_protocol() || !self.imap.reads_with.is_protocol()
    }

    /// Whether any side signs in with OAuth (Connect is offered).
    pub(crate) fn uses_oauth(&self) -> bool {
        self.oauth_credential().is_some()
    }

    /// The sides sign in differently.
    pub(crate) fn mixed_credentials(&self) -> bool {
        self.smtp_credential() != self.imap_credential()
    }

    /// A complete Basic setting on example.com that passes every check (unit tests
    /// across the crate build on it: every write path validates).
    #[cfg(test)]
    pub(crate) fn example(id: &str) -> Self {
        let mut setting =
            Self { id: id.into(), description: id.to_owned(), subject_tag: "[AR]".to_owned(), ..Self::default() };
        setting.smtp.server = "smtp.example.com".to_owned();
        setting.smtp.send_as = "ar@example.com".to_owned();
        setting.smtp.from_name = "AR Team".to_owned();
        setting.smtp.user_name = "ar@example.com".to_owned();
        setting.smtp.user_domain = "example.com".to_owned();
        setting.imap.server = "imap.example.com".to_owned();
        setting.imap.user_name = "replies@example.com".to_owned();
        setting.imap.user_domain = "example.com".to_owned();
        setting
    }
}

/// The part of an e-mail address after the last `@`, lower-cased.
pub(crate) fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Turns a description into an id: lower-case ASCII letters, digits and `-`.
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() { "setting".to_owned() } else { slug }
}

/// Whether `id` is a valid slug (what [`slugify`] produces).
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !id.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_signs_in_as_the_setting_unless_it_names_its_own() {
        let mut setting = MailSetting { credential: CredentialKind::Microsoft365, ..MailSetting::example("mixed") };
        assert_eq!(
            (setting.smtp_credential(), setting.imap_credential()),
            (CredentialKind::Microsoft365, CredentialKind::Microsoft365)
        );
        assert!(!setting.mixed_credentials());
        assert_eq!(setting.credential_label(), "Microsoft 365 (MSO365)");
        setting.smtp.server = "smtp.sendgrid.net".into();
        setting.smtp.credential = Some(CredentialKind::Basic);
        assert_eq!(setting.smtp_credential(), CredentialKind::Basic);
        assert_eq!(setting.oauth_credential(), Some(CredentialKind::Microsoft365), "Connect is for the mailbox");
        assert!(setting.uses_oauth() && setting.mixed_credentials());
        assert_eq!(setting.credential_label(), "Microsoft 365 (MSO365) in / SendGrid out");
        setting.smtp.server = "mail.example.com".into();
        assert_eq!(setting.credential_label(), "Microsoft 365 (MSO365) in / Basic (password) out");
        // Only the outgoing side with OAuth: Connect is still offered, for it.
        let basic_in = MailSetting {
            smtp: SmtpSettings { credential: Some(CredentialKind::Gmail), ..SmtpSettings::default() },
            ..MailSetting::example("gmail-out")
        };
        assert_eq!(basic_in.oauth_credential(), Some(CredentialKind::Gmail));
    }

    #[test]
    fn a_side_credential_round_trips_and_its_absence_writes_nothing() {
        let plain = crate::model::Config { mail_settings: vec![MailSetting::example("plain")], ..Default::default() };
        let text = crate::store::file::to_toml(&plain).unwrap();
        assert!(
            !text.contains("credential = \"basic\"\n\n[mail_setting.imap]") && text.matches("credential").count() == 1,
            "{text}"
        );
        let mut mixed = MailSetting { credential: CredentialKind::Microsoft365, ..MailSetting::example("mixed") };
        mixed.smtp.credential = Some(CredentialKind::Basic);
        let config = crate::model::Config { mail_settings: vec![mixed], ..Default::default() };
        let text = crate::store::file::to_toml(&config).unwrap();
        assert!(text.contains("[mail_setting.smtp]") && text.contains("credential = \"basic\""), "{text}");
        let again = crate::store::file::parse_config(text.as_bytes(), std::path::Path::new("c.toml")).unwrap();
        assert_eq!(again, config);
        assert_eq!(crate::store::file::to_toml(&again).unwrap(), text, "byte-stable");
    }

    #[test]
    fn the_roads_are_written_only_when_not_smtp_and_imap_and_read_either_way() {
        let mut through = MailSetting { credential: CredentialKind::Microsoft365, ..MailSetting::example("graph") };
        let plain = crate::model::Config { mail_settings: vec![through.clone()], ..Default::default() };
        let text = crate::store::file::to_toml(&plain).unwrap();
        assert!(!text.contains("sends_with") && !text.contains("reads_with"), "{text}");
        through.smtp.sends_with = Transport::Graph;
        through.imap.reads_with = Transport::GmailApi;
        let config = crate::model::Config { mail_settings: vec![through], ..Default::default() };
        let text = crate::store::file::to_toml(&config).unwrap();
        assert!(text.contains("sends_with = \"graph\"") && text.contains("reads_with = \"gmail-api\""), "{text}");
        let again = crate::store::file::parse_config(text.as_bytes(), std::path::Path::new("c.toml")).unwrap();
        assert_eq!(again, config);
        // A hand-written "smtp" / "imap" is the default.
        let typed = text.replace("\"graph\"", "\"smtp\"").replace("\"gmail-api\"", "\"imap\"");
        let read = crate::store::file::parse_config(typed.as_bytes(), std::path::Path::new("c.toml")).unwrap();
        assert_eq!(
            (read.mail_settings[0].smtp.sends_with, read.mail_settings[0].imap.reads_with),
            (Transport::Protocol, Transport::Protocol)
        );
        assert_eq!(Transport::Graph.label(Protocol::Smtp), "Microsoft Graph");
        assert_eq!(Transport::Protocol.config_name(Protocol::Imap), "imap");
    }

    #[test]
    fn domain_of_takes_the_part_after_the_last_at() {
        assert_eq!(domain_of("AR@Example.COM"), Some("example.com".into()));
        assert_eq!(domain_of("\"a@b\"@example.org"), Some("example.org".into()));
        assert_eq!(domain_of("nobody"), None);
        assert_eq!(domain_of("trailing@"), None);
    }

    #[test]
    fn slugify_makes_stable_ids() {
        assert_eq!(slugify("Collections (Basic) 2022"), "collections-basic-2022");
        assert_eq!(slugify("  --  "), "setting");
        assert_eq!(slugify("Ünïcode AR"), "n-code-ar");
        assert!(is_valid_id(&slugify("Anything at all!")));
    }

    #[test]
    fn ids_are_checked() {
        assert!(is_valid_id("m365-collections"));
        assert!(is_valid_id("old_basic"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("Has Space"));
        assert!(!is_valid_id("-leading"));
        assert!(!is_valid_id(&"x".repeat(65)));
    }

    #[test]
    fn defaults_follow_the_setup_guide() {
        let setting = MailSetting::default();
        assert_eq!(setting.imap.inbox_folder, "Inbox");
        assert_eq!(setting.imap.sent_folder, "Sent");
        assert!(setting.active);
        assert_eq!(setting.smtp.port, 587);
        assert_eq!(setting.imap.port, 993);
    }
}
