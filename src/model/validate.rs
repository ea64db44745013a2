//! Checks on a mail setting, each a named rule with a message an admin can act on.
//!
//! A finding is an error (the setting cannot work; Save is refused) or a
//! warning (probably wrong; Save is allowed). Each finding names the field it
//! belongs to, so the form can show it beside that field and the CLI can print
//! `smtp.port: ...`.

use std::fmt;

use serde::Serialize;

use super::config::Config;
pub use super::fields::Field;
use super::presets::corrected_host;
use super::setting::{CredentialKind, MailSetting, Protocol, Security, Transport, domain_of, is_valid_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Every check the model makes. The name is stable (CLI `--json`, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    InvalidId,
    Required,
    PortOutOfRange,
    MalformedAddress,
    MalformedHost,
    UserDomainMismatch,
    PortSecurityMismatch,
    KnownWrongHost,
    CredentialsWithoutEncryption,
    PasswordMissing,
    HeaderInjection,
    UnknownOauthProvider,
    TenantNotUsed,
    MalformedTenant,
    TwoOauthSignIns,
    AppAccessNotAvailable,
    BasicSmtpRetiring,
    BasicImapRefused,
    DelegateNotUsed,
    SharedMailboxSendsItself,
    ApiNotOffered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub field: Field,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.field, self.message)
    }
}

/// Which passwords the OS credential store holds for a setting. Validation
/// needs to know whether one exists, never what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoredPasswords {
    pub smtp: bool,
    pub imap: bool,
}

/// The findings for one setting, errors first.
pub fn validate_setting(setting: &MailSetting, config: &Config, passwords: StoredPasswords) -> Vec<Finding> {
    let mut checks = Checks::default();
    checks.identity(setting, config);
    checks.smtp(setting, passwords);
    checks.imap(setting, passwords);
    if !setting.active {
        // An Inactive setting never connects: it may be kept as the old system holds it
        // (the guide's "office365.com", no password typed), a record to migrate from. It
        // is validated again, with these as errors, the moment it is made Active.
        for finding in &mut checks.findings {
            if matches!(finding.rule, Rule::KnownWrongHost | Rule::PasswordMissing) {
                finding.severity = Severity::Warning;
                finding.message.push_str(" (only needed when it is made Active: an Inactive setting does not connect)");
            }
        }
    }
    checks.findings.sort_by_key(|f| f.severity);
    checks.findings
}

pub(crate) fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// A typed port that is not one, said as the model says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", port_message())]
pub struct NotAPort;

/// Parses a port the admin typed.
pub(crate) fn parse_port(text: &str) -> Result<u16, NotAPort> {
    match text.trim().parse::<u32>() {
        Ok(port @ 1..=65535) => u16::try_from(port).map_err(|_| NotAPort),
        _ => Err(NotAPort),
    }
}

fn port_message() -> String {
    "Enter a port number between 1 and 65535 (usually 587 or 465 for outgoing, 993 or 143 for incoming)".to_owned()
}

/// Checks an e-mail address the way the sending code will parse it.
pub(crate) fn is_well_formed_address(address: &str) -> bool {
    let trimmed = address.trim();
    trimmed == address && address.parse::<lettre::Address>().is_ok()
}

#[derive(Default)]
struct Checks {
    findings: Vec<Finding>,
}

impl Checks {
    fn push(&mut self, rule: Rule, severity: Severity, field: Field, message: impl Into<String>) {
        self.findings.push(Finding { rule, severity, field, message: message.into() });
    }

    fn error(&mut self, rule: Rule, field: Field, message: impl Into<String>) {
        self.push(rule, Severity::Error, field, message);
    }

    fn warning(&mut self, rule: Rule, field: Field, message: impl Into<String>) {
        self.push(rule, Severity::Warning, field, message);
    }

    fn required(&mut self, value: &str, field: Field) -> bool {
        if value.trim().is_empty() {
            self.error(Rule::Required, field, format!("{} is required", field.name()));
            false
        } else {
            true
        }
    }

    fn identity(&mut self, setting: &MailSetting, config: &Config) {
        if !is_valid_id(&setting.id) {
            self.error(
                Rule::InvalidId,
                Field::Id,
                "Id may use only lower-case letters, digits, '-' and '_' (at most 64 characters)",
            );
        }
        self.required(&setting.description, Field::Description);
        if self.required(&setting.subject_tag, Field::SubjectTag) {
            self.no_line_breaks(&setting.subject_tag, Field::SubjectTag);
        }
        if setting.smtp_credential().uses_oauth()
            && setting.imap_credential().uses_oauth()
            && setting.smtp_credential() != setting.imap_credential()
        {
            self.error(
                Rule::TwoOauthSignIns,
                Field::SmtpCredential,
                format!(
                    "A setting connects to one OAuth sign-in: set {} and {} to the same one, or send with a password",
                    Field::SmtpCredential.name(),
                    Field::ImapCredential.name()
                ),
            );
        }
        if setting.oauth_flow == super::setting::OAuthFlow::App {
            match setting.oauth_credential() {
                None => self.error(
                    Rule::AppAccessNotAvailable,
                    Field::OauthProvider,
                    "App-only access is an OAuth sign-in: choose Microsoft 365 or a custom OAuth2 provider",
                ),
                Some(CredentialKind::Gmail) => self.error(
                    Rule::AppAccessNotAvailable,
                    Field::OauthProvider,
                    "Google offers no app-only access to Gmail mailboxes: use a person's sign-in (Connect), not an \
                     OAuth2 provider's app",
                ),
                Some(_) => {}
            }
        }
        match setting.oauth_credential().unwrap_or(setting.credential) {
            CredentialKind::Oauth2 => match setting.oauth_provider.as_deref().map(str::trim) {
                None | Some("") => self.error(
                    Rule::Required,
                    Field::OauthProvider,
                    "Choose which OAuth2 provider this setting signs in with",
                ),
                Some(id) if config.oauth_provider(id).is_none() => self.error(
                    Rule::UnknownOauthProvider,
                    Field::OauthProvider,
                    format!("There is no OAuth2 provider \"{id}\" in the config file; add an [[oauth_provider]] with that id"),
                ),
                Some(_) => {}
            },
            CredentialKind::Basic | CredentialKind::Microsoft365 | CredentialKind::Gmail => {}
        }
        self.delegate(setting);
        let has_tenant = setting.tenant.as_deref().is_some_and(|t| !t.trim().is_empty());
        if let Some(problem) = setting
            .tenant
            .as_deref()
            .filter(|_| has_tenant)
            .and_then(|tenant| super::endpoints::tenant_problem(&Field::Tenant.name(), tenant))
        {
            self.error(Rule::MalformedTenant, Field::Tenant, problem);
        }
        if has_tenant && setting.oauth_credential() != Some(CredentialKind::Microsoft365) {
            self.warning(
                Rule::TenantNotUsed,
                Field::Tenant,
                "Tenant is only used with Microsoft 365 OAuth; it is ignored for this Credential Type",
            );
        }
    }

    /// A shared mailbox's delegate: an address, used only when a person signs in
    /// with OAuth, and not the mailbox itself; the outgoing side signing in as an
    /// (often unlicensed) shared mailbox is warned about with the way round it.
    fn delegate(&mut self, setting: &MailSetting) {
        let Some(delegate) = setting.delegate.as_deref().map(str::trim).filter(|d| !d.is_empty()) else {
            return;
        };
        self.address(delegate, Field::Delegate);
        let mailbox = setting.imap.user_name.trim();
        if setting.shared_mailbox_delegate().is_none() {
            self.warning(
                Rule::DelegateNotUsed,
                Field::Delegate,
                "Signed in by is only used when a person signs in with OAuth (Connect); it is ignored here",
            );
        } else if delegate.eq_ignore_ascii_case(mailbox) {
            self.warning(
                Rule::DelegateNotUsed,
                Field::Delegate,
                "Signed in by is the mailbox itself; leave it empty unless the mailbox is a shared mailbox",
            );
        } else if setting.smtp_credential().uses_oauth() && setting.smtp.user_name.trim().eq_ignore_ascii_case(mailbox)
        {
            self.warning(
                Rule::SharedMailboxSendsItself,
                Field::SmtpUserName,
                format!(
                    "Sending signs in as the shared mailbox {mailbox} itself, which Microsoft 365 refuses unless the \
                     mailbox has a licence and SMTP AUTH; to send as {delegate} with Send As on {mailbox}, enter \
                     {delegate} as the {}",
                    Field::SmtpUserName.label()
                ),
            );
        }
    }

    /// A side through a provider's API needs that provider's sign-in on that side.
    fn transport(&mut self, transport: Transport, signs_in_with: CredentialKind, field: Field, side: Protocol) {
        let Some(needed) = transport.provider_credential() else { return };
        if signs_in_with != needed {
            self.error(
                Rule::ApiNotOffered,
                field,
                format!(
                    "{} needs {} as the Credential Type (this side signs in with {}); or choose {} for {}",
                    transport.label(side),
                    needed.label(),
                    signs_in_with.label(),
                    Transport::Protocol.label(side),
                    field.label(),
                ),
            );
        }
    }

    fn smtp(&mut self, setting: &MailSetting, passwords: StoredPasswords) {
        let smtp = &setting.smtp;
        self.transport(smtp.sends_with, setting.smtp_credential(), Field::SmtpSendsWith, Protocol::Smtp);
        // Through the provider's API, the server fields are not used.
        if smtp.sends_with.is_protocol() {
            self.host(&smtp.server, Field::SmtpServer, false);
            let today = time::OffsetDateTime::now_utc().date();
            let ending = super::providers::basic_smtp_ending(setting, today);
            // A host the admin must correct first says so alone (one message per field).
            if let Some((_, words)) = ending.filter(|_| corrected_host(&smtp.server, false).is_none()) {
                let at = format!("(it sends with a password through Microsoft's {})", Field::SmtpServer.name());
                self.warning(Rule::BasicSmtpRetiring, Field::SmtpServer, format!("{words} {at}"));
            }
            self.port_and_security(smtp.port, smtp.security, Field::SmtpPort, Field::SmtpSecurity, Protocol::Smtp);
        }
        if self.required(&smtp.send_as, Field::SmtpSendAs) {
            self.address(&smtp.send_as, Field::SmtpSendAs);
        }
        self.no_line_breaks(&smtp.from_name, Field::SmtpFromName);
        self.required(&smtp.user_name, Field::SmtpUserName);
        self.user_domain(&smtp.user_domain, &smtp.send_as, Field::SmtpUserDomain, Field::SmtpSendAs);
        if setting.smtp_credential() == CredentialKind::Basic && !smtp.user_name.trim().is_empty() && !passwords.smtp {
            self.error(
                Rule::PasswordMissing,
                Field::SmtpPassword,
                format!(
                    "{}: enter the password (or API key) of the {}; this side signs in with a password",
                    Field::SmtpPassword.name(),
                    Field::SmtpUserName.name()
                ),
            );
        }
    }

    fn imap(&mut self, setting: &MailSetting, passwords: StoredPasswords) {
        let imap = &setting.imap;
        self.transport(imap.reads_with, setting.imap_credential(), Field::ImapReadsWith, Protocol::Imap);
        if imap.reads_with.is_protocol() {
            self.host(&imap.server, Field::ImapServer, true);
            if let Some(words) = super::providers::basic_imap_refused(setting)
                && corrected_host(&imap.server, true).is_none()
            {
                let at = format!("(it receives with a password from Microsoft's {})", Field::ImapServer.name());
                self.warning(Rule::BasicImapRefused, Field::ImapServer, format!("{words} {at}"));
            }
            self.port_and_security(imap.port, imap.security, Field::ImapPort, Field::ImapSecurity, Protocol::Imap);
        }
        self.required(&imap.inbox_folder, Field::ImapInboxFolder);
        self.required(&imap.sent_folder, Field::ImapSentFolder);
        if self.required(&imap.user_name, Field::ImapUserName) {
            self.address(&imap.user_name, Field::ImapUserName);
        }
        self.user_domain(&imap.user_domain, &imap.user_name, Field::ImapUserDomain, Field::ImapUserName);
        if setting.imap_credential() == CredentialKind::Basic && !passwords.imap {
            self.error(
                Rule::PasswordMissing,
                Field::ImapPassword,
                format!(
                    "{}: enter the password of the {}; this side signs in with a password",
                    Field::ImapPassword.name(),
                    Field::ImapUserName.name()
                ),
            );
        }
    }

    fn host(&mut self, host: &str, field: Field, for_imap: bool) {
        if !self.required(host, field) {
            return;
        }
        let host = host.trim();
        let looks_like_url = host.contains("://");
        let bad_char = host.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if looks_like_url || bad_char || host.starts_with('.') || host.starts_with('-') || host.contains("..") {
            self.error(
                Rule::MalformedHost,
                field,
                format!(
                    "\"{host}\" is not a server name: enter only the host in {}, like mail.example.com \
                     (no https://, no port, no spaces)",
                    field.name()
                ),
            );
            return;
        }
        if let Some(right) = corrected_host(host, for_imap) {
            // The customer's setup guide itself writes "office365.com": say so, and why it differs.
            let message = if host.eq_ignore_ascii_case("office365.com") {
                format!(
                    "The setup guide writes \"office365.com\", but that is not a mail server: Microsoft 365 \
                     receives mail at \"outlook.office365.com\" and sends at \"smtp.office365.com\"; use \"{right}\" \
                     in {}",
                    field.name()
                )
            } else {
                format!("\"{host}\" is not a mail server; use \"{right}\" in {}", field.name())
            };
            self.error(Rule::KnownWrongHost, field, message);
        }
    }

    fn port_and_security(
        &mut self,
        port: u16,
        security: Security,
        port_field: Field,
        security_field: Field,
        protocol: Protocol,
    ) {
        if port == 0 {
            self.error(Rule::PortOutOfRange, port_field, format!("{}: {}", port_field.name(), port_message()));
            return;
        }
        if security == Security::None {
            self.error(
                Rule::CredentialsWithoutEncryption,
                security_field,
                format!(
                    "Passwords and tokens are never sent unencrypted: set {} to Start TLS or TLS on connect (SSL)",
                    security_field.name()
                ),
            );
            return;
        }
        let expected = protocol.security_of_port(port);
        if let Some(expected) = expected.filter(|e| *e != security) {
            let mut message = format!(
                "Port {port} uses {}, not {}; set {} to {} (or use port {} for {})",
                expected.label(),
                security.label(),
                security_field.name(),
                expected.label(),
                protocol.port_for(security),
                security.label(),
            );
            // The setup guide says "993 works with Start TLS and 143 works with SSL": the other way round.
            if protocol == Protocol::Imap && matches!(port, 993 | 143) {
                message.push_str(
                    ". The setup guide says \"993 works with Start TLS and 143 works with SSL\"; it is the other \
                     way round",
                );
            }
            self.warning(Rule::PortSecurityMismatch, security_field, message);
        }
    }

    fn address(&mut self, address: &str, field: Field) {
        if !is_well_formed_address(address) {
            self.error(
                Rule::MalformedAddress,
                field,
                format!("{} \"{}\" is not an e-mail address like name@example.com", field.name(), address.trim()),
            );
        }
    }

    fn user_domain(&mut self, user_domain: &str, address: &str, field: Field, address_field: Field) {
        if !self.required(user_domain, field) {
            return;
        }
        let Some(expected) = domain_of(address) else {
            return;
        };
        if !user_domain.trim().eq_ignore_ascii_case(&expected) {
            self.error(
                Rule::UserDomainMismatch,
                field,
                format!(
                    "{} \"{}\" must match the domain of the {}, \"{expected}\"",
                    field.name(),
                    user_domain.trim(),
                    address_field.name()
                ),
            );
        }
    }

    fn no_line_breaks(&mut self, value: &str, field: Field) {
        if value.contains(['\r', '\n']) {
            self.error(Rule::HeaderInjection, field, format!("{} cannot contain line breaks", field.name()));
        }
    }
}

/// A calendar date written `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<time::Date> {
    time::Date::parse(text.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::config::OAuthProvider;
    use crate::model::presets::MICROSOFT_365;

    const BOTH: StoredPasswords = StoredPasswords { smtp: true, imap: true };

    fn good() -> MailSetting {
        let mut s = MailSetting {
            id: "collections".into(),
            description: "Collections".into(),
            subject_tag: "[AR]".into(),
            ..MailSetting::default()
        };
        MICROSOFT_365.apply(&mut s);
        // Basic sign-in at servers of the organisation's own: Microsoft's would be warned of (see
        // `basic_sign_in_at_microsoft_is_counted_down`, `a_password_for_microsofts_imap_is_flagged_as_refused`).
        s.smtp.server = "smtp.example.com".into();
        s.imap.server = "imap.example.com".into();
        s.smtp.send_as = "collections@example.com".into();
        s.smtp.from_name = "Example AR Team".into();
        s.smtp.user_name = "collections@example.com".into();
        s.smtp.user_domain = "example.com".into();
        s.imap.user_name = "replies@example.com".into();
        s.imap.user_domain = "example.com".into();
        s
    }

    fn findings(setting: &MailSetting) -> Vec<Finding> {
        validate_setting(setting, &Config::default(), BOTH)
    }

    #[test]
    fn basic_sign_in_at_microsoft_is_counted_down() {
        use crate::model::providers::basic_smtp_ending;
        let mut s = good();
        s.smtp.server = "SMTP.Office365.com.".into();
        let day = |d: u8| time::Date::from_calendar_date(2026, time::Month::December, d).unwrap();
        let (days, words) = basic_smtp_ending(&s, day(3)).unwrap();
        assert_eq!(days, 28);
        assert!(words.contains("31 December 2026 — in 28 days"), "{words}");
        assert!(basic_smtp_ending(&s, day(30)).unwrap().1.contains("tomorrow"));
        let after = time::Date::from_calendar_date(2027, time::Month::January, 5).unwrap();
        let (days, words) = basic_smtp_ending(&s, after).unwrap();
        assert!(days < 0 && words.contains("switched"), "{words}");
        assert!(findings(&s).iter().any(|f| f.rule == Rule::BasicSmtpRetiring && f.severity == Severity::Warning));
        s.credential = CredentialKind::Microsoft365;
        assert_eq!(basic_smtp_ending(&s, day(3)), None, "OAuth is not affected");
        s.credential = CredentialKind::Basic;
        s.smtp.server = "smtp.gmail.com".into();
        assert_eq!(basic_smtp_ending(&s, day(3)), None, "only Microsoft's servers");
    }

    #[test]
    fn a_password_for_microsofts_imap_is_flagged_as_refused() {
        let refused = |s: &MailSetting| findings(s).into_iter().find(|f| f.rule == Rule::BasicImapRefused);
        let mut s = good();
        s.imap.server = "Outlook.Office365.com".into();
        let finding = refused(&s).expect("a password for Microsoft's IMAP");
        assert_eq!((finding.severity, finding.field), (Severity::Warning, Field::ImapServer));
        assert!(finding.message.contains("since October 2022") && finding.message.contains("OAuth"), "{finding}");
        s.imap.credential = Some(CredentialKind::Microsoft365);
        assert_eq!(refused(&s), None, "receiving over OAuth, sending with a password: the 2026 shape");
        let mut elsewhere = good();
        elsewhere.imap.server = "imap.gmail.com".into();
        assert_eq!(refused(&elsewhere), None, "only Microsoft's servers");
    }

    #[test]
    fn a_password_is_asked_for_on_the_sides_that_sign_in_with_one() {
        let mut relay_out = MailSetting { credential: CredentialKind::Microsoft365, ..good() };
        relay_out.smtp.credential = Some(CredentialKind::Basic);
        let found = validate_setting(&relay_out, &Config::default(), StoredPasswords::default());
        let fields: Vec<Field> = found.iter().filter(|f| f.rule == Rule::PasswordMissing).map(|f| f.field).collect();
        assert_eq!(fields, [Field::SmtpPassword], "{found:#?}");
        let stored = StoredPasswords { smtp: true, imap: false };
        assert!(
            validate_setting(&relay_out, &Config::default(), stored).iter().all(|f| f.rule != Rule::PasswordMissing)
        );

        let mut two = MailSetting { credential: CredentialKind::Microsoft365, ..good() };
        two.smtp.credential = Some(CredentialKind::Gmail);
        let found = validate_setting(&two, &Config::default(), StoredPasswords::default());
        assert!(found.iter().any(|f| f.rule == Rule::TwoOauthSignIns && f.severity == Severity::Error), "{found:#?}");
    }

    /// A side through an API needs that API's provider on that side, and no server:
    /// the server rows are not used (an empty one is no error).
    #[test]
    fn a_side_through_an_api_needs_its_provider_and_no_server() {
        use super::super::setting::Transport;
        let mut graph = MailSetting { credential: CredentialKind::Microsoft365, ..good() };
        graph.smtp.sends_with = Transport::Graph;
        graph.imap.reads_with = Transport::Graph;
        graph.smtp.server.clear();
        graph.imap.server = "office365.com".into(); // a known wrong host, unused through Graph
        graph.imap.port = 0;
        assert!(findings(&graph).is_empty(), "{:#?}", findings(&graph));

        let mut wrong = good(); // Basic
        wrong.smtp.sends_with = Transport::Graph;
        let (rule, severity, field) = only(&wrong);
        assert_eq!((rule, severity, field), (Rule::ApiNotOffered, Severity::Error, Field::SmtpSendsWith));
        let message = &findings(&wrong)[0].message;
        assert!(
            message.contains("Microsoft Graph needs Microsoft 365 (MSO365) as the Credential Type")
                && message.contains("or choose SMTP for Sends with"),
            "{message}"
        );
        let mut gmail_graph = MailSetting { credential: CredentialKind::Gmail, ..good() };
        gmail_graph.imap.reads_with = Transport::Graph;
        assert!(
            findings(&gmail_graph).iter().any(|f| f.rule == Rule::ApiNotOffered && f.field == Field::ImapReadsWith)
        );
        // A relay's password beside Microsoft 365: its side cannot go through Graph.
        let mut relay = MailSetting { credential: CredentialKind::Microsoft365, ..good() };
        relay.smtp.credential = Some(CredentialKind::Basic);
        relay.smtp.sends_with = Transport::Graph;
        assert!(findings(&relay).iter().any(|f| f.rule == Rule::ApiNotOffered));
    }

    #[test]
    fn app_only_access_needs_a_provider_that_offers_it() {
        for (credential, refused) in
            [(CredentialKind::Basic, true), (CredentialKind::Gmail, true), (CredentialKind::Microsoft365, false)]
        {
            let setting = MailSetting { credential, oauth_flow: super::super::setting::OAuthFlow::App, ..good() };
            let found = validate_setting(&setting, &Config::default(), BOTH);
            assert_eq!(
                found.iter().any(|f| f.rule == Rule::AppAccessNotAvailable),
                refused,
                "{credential:?}: {found:#?}"
            );
        }
    }

    fn only(setting: &MailSetting) -> (Rule, Severity, Field) {
        let found = findings(setting);
        assert_eq!(found.len(), 1, "expected exactly one finding, got {found:#?}");
        (found[0].rule, found[0].severity, found[0].field)
    }

    /// One field vocabulary: every message names its field as the form labels it,
    /// for every rule the model checks (the list below reaches each one).
    #[test]
    fn every_message_names_its_field_by_the_forms_label() {
        let mut broken: Vec<(MailSetting, StoredPasswords)> = Vec::new();
        let mut push = |change: &dyn Fn(&mut MailSetting), passwords: StoredPasswords| {
            let mut s = good();
            change(&mut s);
            broken.push((s, passwords));
        };
        push(&|s| *s = MailSetting { id: "Bad Id".into(), ..MailSetting::default() }, BOTH);
        push(&|s| s.smtp.port = 0, BOTH);
        push(&|s| s.smtp.send_as = "not an address".into(), BOTH);
        push(&|s| s.imap.user_name = "nope".into(), BOTH);
        push(&|s| s.smtp.server = "https://smtp.example.com".into(), BOTH);
        push(&|s| s.imap.server = "office365.com".into(), BOTH);
        push(&|s| s.smtp.server = "outlook.com".into(), BOTH);
        push(&|s| s.smtp.user_domain = "other.com".into(), BOTH);
        push(&|s| s.imap.security = Security::Starttls, BOTH);
        push(&|s| s.smtp.security = Security::None, BOTH);
        push(&|s| s.credential = CredentialKind::Basic, StoredPasswords::default());
        push(&|s| s.smtp.from_name = "A\r\nBcc: x@example.com".into(), BOTH);
        push(&|s| s.subject_tag = "[AR]\n".into(), BOTH);
        push(
            &|s| {
                s.credential = CredentialKind::Oauth2;
                s.oauth_provider = Some("nowhere".into());
            },
            BOTH,
        );
        push(&|s| s.credential = CredentialKind::Oauth2, BOTH);
        push(&|s| s.tenant = Some("contoso.com".into()), BOTH);
        push(&|s| s.credential = CredentialKind::Gmail, BOTH);
        push(&|s| (s.credential, s.tenant) = (CredentialKind::Microsoft365, Some("x.com/a?".into())), BOTH);
        push(
            &|s| {
                s.credential = CredentialKind::Microsoft365;
                s.smtp.credential = Some(CredentialKind::Gmail);
            },
            BOTH,
        );
        push(&|s| s.oauth_flow = crate::model::OAuthFlow::App, BOTH);
        push(&|s| s.delegate = Some("person@example.com".into()), BOTH);
        push(
            &|s| {
                s.credential = CredentialKind::Microsoft365;
                s.delegate = Some("person@example.com".into());
                s.smtp.user_name = s.imap.user_name.clone();
            },
            BOTH,
        );
        push(
            &|s| {
                s.credential = CredentialKind::Gmail;
                s.oauth_flow = crate::model::OAuthFlow::App;
            },
            BOTH,
        );
        push(&|s| s.credential = CredentialKind::Basic, BOTH);
        push(
            &|s| {
                s.credential = CredentialKind::Basic;
                (s.smtp.server, s.imap.server) = ("smtp.office365.com".into(), "outlook.office365.com".into());
            },
            BOTH,
        );
        let mut rules = std::collections::BTreeSet::new();
        for (setting, passwords) in &broken {
            for finding in validate_setting(setting, &Config::default(), *passwords) {
                assert!(
                    finding.message.contains(&finding.field.name()),
                    "{:?} does not name \"{}\": {}",
                    finding.rule,
                    finding.field.name(),
                    finding.message
                );
                rules.insert(format!("{:?}", finding.rule));
            }
        }
        let every = [
            Rule::InvalidId,
            Rule::Required,
            Rule::PortOutOfRange,
            Rule::MalformedAddress,
            Rule::MalformedHost,
            Rule::UserDomainMismatch,
            Rule::PortSecurityMismatch,
            Rule::KnownWrongHost,
            Rule::CredentialsWithoutEncryption,
            Rule::PasswordMissing,
            Rule::HeaderInjection,
            Rule::UnknownOauthProvider,
            Rule::TenantNotUsed,
            Rule::MalformedTenant,
            Rule::TwoOauthSignIns,
            Rule::AppAccessNotAvailable,
            Rule::BasicSmtpRetiring,
            Rule::BasicImapRefused,
            Rule::DelegateNotUsed,
            Rule::SharedMailboxSendsItself,
        ];
        let missed: Vec<String> = every.iter().map(|r| format!("{r:?}")).filter(|r| !rules.contains(r)).collect();
        assert!(missed.is_empty(), "rules no broken setting above reached: {missed:?}");
    }

    #[test]
    fn a_complete_setting_has_no_findings() {
        assert_eq!(findings(&good()), vec![]);
    }

    #[test]
    fn required_fields_each_have_their_own_finding() {
        type Clear = fn(&mut MailSetting);
        let cases: [(Clear, Field); 11] = [
            (|s| s.description.clear(), Field::Description),
            (|s| s.subject_tag = "  ".into(), Field::SubjectTag),
            (|s| s.smtp.server.clear(), Field::SmtpServer),
            (|s| s.smtp.send_as.clear(), Field::SmtpSendAs),
            (|s| s.smtp.user_name.clear(), Field::SmtpUserName),
            (|s| s.imap.server.clear(), Field::ImapServer),
            (|s| s.imap.inbox_folder.clear(), Field::ImapInboxFolder),
            (|s| s.imap.sent_folder.clear(), Field::ImapSentFolder),
            (|s| s.smtp.user_domain.clear(), Field::SmtpUserDomain),
            (|s| s.imap.user_domain.clear(), Field::ImapUserDomain),
            (
                |s| {
                    s.imap.user_name.clear();
                    s.imap.user_domain.clear();
                },
                Field::ImapUserName,
            ),
        ];
        for (clear, field) in cases {
            let mut s = good();
            clear(&mut s);
            let found = findings(&s);
            assert!(
                found.iter().any(|f| f.rule == Rule::Required && f.field == field && f.severity == Severity::Error),
                "{field}: {found:#?}"
            );
        }
    }

    #[test]
    fn required_message_names_the_field_in_plain_words() {
        let mut s = good();
        s.subject_tag.clear();
        assert_eq!(findings(&s)[0].message, "Subject Tag is required");
    }

    #[test]
    fn port_zero_is_out_of_range() {
        let mut s = good();
        s.smtp.port = 0;
        assert_eq!(only(&s), (Rule::PortOutOfRange, Severity::Error, Field::SmtpPort));
    }

    #[test]
    fn typed_ports_are_parsed_with_a_clear_message() {
        assert_eq!(parse_port(" 587 "), Ok(587));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in ["0", "65536", "99999999999", "-1", "smtp", ""] {
            let err = parse_port(bad).unwrap_err().to_string();
            assert!(err.contains("between 1 and 65535"), "{bad}: {err}");
        }
    }

    #[test]
    fn malformed_addresses_are_errors() {
        let mut s = good();
        s.smtp.send_as = "collections at example.com".into();
        s.smtp.user_domain = "example.com".into();
        assert_eq!(only(&s), (Rule::MalformedAddress, Severity::Error, Field::SmtpSendAs));
        let mut s = good();
        s.imap.user_name = "replies@".into();
        assert_eq!(only(&s), (Rule::MalformedAddress, Severity::Error, Field::ImapUserName));
        assert!(!is_well_formed_address(" a@example.com"));
        assert!(is_well_formed_address("a.b+tag@sub.example.co.uk"));
    }

    #[test]
    fn smtp_user_name_need_not_be_an_address() {
        // SendGrid's user name is literally "apikey".
        let mut s = good();
        s.smtp.user_name = "apikey".into();
        assert_eq!(findings(&s), vec![]);
    }

    #[test]
    fn user_domain_must_match_the_address_it_belongs_to() {
        let mut s = good();
        s.smtp.user_domain = "other.com".into();
        assert_eq!(only(&s), (Rule::UserDomainMismatch, Severity::Error, Field::SmtpUserDomain));
        assert_eq!(
            findings(&s)[0].message,
            "(From) User Domain \"other.com\" must match the domain of the Default Send as Email, \"example.com\""
        );
        let mut s = good();
        s.imap.user_domain = "Example.COM".into();
        assert_eq!(findings(&s), vec![], "case does not matter");
        s.imap.user_name = "replies@sub.example.com".into();
        assert_eq!(only(&s), (Rule::UserDomainMismatch, Severity::Error, Field::ImapUserDomain));
    }

    #[test]
    fn port_security_mismatch_says_which_is_right() {
        let mut s = good();
        s.imap.security = Security::Starttls; // 993 with STARTTLS: the setup guide's own mistake
        assert_eq!(only(&s), (Rule::PortSecurityMismatch, Severity::Warning, Field::ImapSecurity));
        let message = &findings(&s)[0].message;
        assert_eq!(
            message,
            "Port 993 uses TLS on connect (SSL), not Start TLS; set Security (Incoming IMAP Settings) to TLS on connect \
             (SSL) (or use port 143 for Start TLS). The setup guide says \"993 works with Start TLS and 143 works with SSL\"; it is the other way round"
        );
        let mut s = good();
        s.imap.port = 143;
        s.imap.security = Security::Tls;
        assert_eq!(only(&s), (Rule::PortSecurityMismatch, Severity::Warning, Field::ImapSecurity));
        for (port, security) in [(587, Security::Tls), (465, Security::Starttls)] {
            let mut s = good();
            s.smtp.port = port;
            s.smtp.security = security;
            assert_eq!(only(&s), (Rule::PortSecurityMismatch, Severity::Warning, Field::SmtpSecurity));
        }
        let mut s = good();
        s.smtp.port = 2525; // Postmark's alternative port: no opinion
        assert_eq!(findings(&s), vec![]);
    }

    #[test]
    fn known_wrong_hosts_are_errors_with_the_right_host() {
        let mut s = good();
        s.smtp.server = "office365.com".into();
        assert_eq!(only(&s), (Rule::KnownWrongHost, Severity::Error, Field::SmtpServer));
        assert!(findings(&s)[0].message.contains("smtp.office365.com"));
        assert!(
            findings(&s)[0].message.starts_with("The setup guide writes \"office365.com\""),
            "says where it came from"
        );
        let mut s = good();
        s.imap.server = "office365.com".into();
        assert!(findings(&s)[0].message.contains("\"outlook.office365.com\""));
    }

    #[test]
    fn hosts_with_schemes_ports_or_spaces_are_malformed() {
        for bad in ["https://mail.example.com", "mail.example.com:993", "mail example.com", "mail..example.com"] {
            let mut s = good();
            s.imap.server = bad.into();
            assert_eq!(only(&s), (Rule::MalformedHost, Severity::Error, Field::ImapServer), "{bad}");
        }
    }

    #[test]
    fn credentials_over_no_encryption_are_refused() {
        let mut s = good();
        s.smtp.security = Security::None;
        assert_eq!(only(&s), (Rule::CredentialsWithoutEncryption, Severity::Error, Field::SmtpSecurity));
        let mut s = good();
        s.imap.security = Security::None;
        assert_eq!(only(&s), (Rule::CredentialsWithoutEncryption, Severity::Error, Field::ImapSecurity));
    }

    #[test]
    fn basic_needs_both_passwords_oauth_needs_none() {
        let mut s = good();
        s.credential = CredentialKind::Basic;
        let found = validate_setting(&s, &Config::default(), StoredPasswords::default());
        let fields: Vec<Field> = found.iter().map(|f| f.field).collect();
        assert_eq!(fields, vec![Field::SmtpPassword, Field::ImapPassword]);
        assert!(found.iter().all(|f| f.rule == Rule::PasswordMissing));
        assert_eq!(validate_setting(&s, &Config::default(), BOTH), vec![]);
        let mut s = good();
        s.credential = CredentialKind::Microsoft365;
        assert_eq!(validate_setting(&s, &Config::default(), StoredPasswords::default()), vec![]);
    }

    #[test]
    fn line_breaks_in_headers_are_refused() {
        let mut s = good();
        s.smtp.from_name = "AR Team\r\nBcc: victim@example.com".into();
        assert_eq!(only(&s), (Rule::HeaderInjection, Severity::Error, Field::SmtpFromName));
        let mut s = good();
        s.subject_tag = "[AR]\n".into();
        assert_eq!(only(&s), (Rule::HeaderInjection, Severity::Error, Field::SubjectTag));
    }

    #[test]
    fn custom_oauth2_needs_a_known_provider() {
        let mut s = good();
        s.credential = CredentialKind::Oauth2;
        assert_eq!(only(&s), (Rule::Required, Severity::Error, Field::OauthProvider));
        s.oauth_provider = Some("corp-idp".into());
        assert_eq!(only(&s), (Rule::UnknownOauthProvider, Severity::Error, Field::OauthProvider));
        let config = Config {
            oauth_providers: vec![OAuthProvider { id: "corp-idp".into(), ..OAuthProvider::default() }],
            ..Config::default()
        };
        assert_eq!(validate_setting(&s, &config, BOTH), vec![]);
    }

    #[test]
    fn tenant_outside_microsoft_is_a_warning() {
        let mut s = good();
        s.credential = CredentialKind::Microsoft365;
        s.tenant = Some("contoso.com".into());
        assert_eq!(findings(&s), vec![]);
        s.credential = CredentialKind::Gmail;
        assert_eq!(only(&s), (Rule::TenantNotUsed, Severity::Warning, Field::Tenant));
    }

    #[test]
    fn a_shared_mailbox_delegate_is_checked_where_it_is_used() {
        let mut s = good();
        s.credential = CredentialKind::Microsoft365;
        s.delegate = Some("person@example.com".into());
        s.smtp.user_name = "person@example.com".into();
        assert_eq!(findings(&s), vec![], "the delegate sends with Send As");
        s.smtp.user_name = s.imap.user_name.clone();
        assert_eq!(only(&s), (Rule::SharedMailboxSendsItself, Severity::Warning, Field::SmtpUserName));
        s.delegate = Some(s.imap.user_name.to_uppercase());
        assert_eq!(only(&s), (Rule::DelegateNotUsed, Severity::Warning, Field::Delegate));
        s.delegate = Some("not an address".into());
        assert!(findings(&s).iter().any(|f| f.rule == Rule::MalformedAddress && f.field == Field::Delegate));
        s.delegate = Some("person@example.com".into());
        s.oauth_flow = crate::model::OAuthFlow::App;
        assert!(findings(&s).iter().any(|f| f.rule == Rule::DelegateNotUsed), "app-only access has no person");
        s.credential = CredentialKind::Basic;
        s.oauth_flow = crate::model::OAuthFlow::Delegated;
        assert!(findings(&s).iter().any(|f| f.rule == Rule::DelegateNotUsed));
    }

    #[test]
    fn invalid_ids_are_errors() {
        let mut s = good();
        s.id = "Not A Slug".into();
        assert_eq!(only(&s), (Rule::InvalidId, Severity::Error, Field::Id));
    }

    #[test]
    fn errors_come_before_warnings_and_display_names_the_field() {
        let mut s = good();
        s.imap.security = Security::Starttls;
        s.description.clear();
        let found = findings(&s);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[1].severity, Severity::Warning);
        assert_eq!(found[0].to_string(), "error: description: Description is required");
        assert!(has_errors(&found));
    }
}
