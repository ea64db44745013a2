//! The field vocabulary: each field of a mail setting with its one label, the
//! customer's setup guide's word where the guide names it. The form, the
//! compare panel, validation messages and the CLI's `show` all say it this way,
//! so a support engineer reading an error aloud finds the field it names.

use std::fmt;

use serde::Serialize;

/// A field of a mail setting; `Display` gives the config file's dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Field {
    Id,
    CredentialType,
    Description,
    SubjectTag,
    Active,
    OauthProvider,
    Tenant,
    Delegate,
    SmtpServer,
    SmtpPort,
    SmtpSecurity,
    SmtpSendAs,
    SmtpFromName,
    SmtpUserName,
    SmtpUserDomain,
    SmtpPassword,
    SmtpCredential,
    SmtpSendsWith,
    ImapServer,
    ImapPort,
    ImapSecurity,
    ImapInboxFolder,
    ImapSentFolder,
    ImapUserName,
    ImapUserDomain,
    ImapPassword,
    ImapCredential,
    ImapReadsWith,
}

/// The form's two sections, in the guide's words.
pub const OUTGOING: &str = "Outgoing SMTP Settings";
pub const INCOMING: &str = "Incoming IMAP Settings";

impl Field {
    /// Every field, in the form's order.
    pub const ALL: [Self; 28] = [
        Self::CredentialType,
        Self::Description,
        Self::SubjectTag,
        Self::Active,
        Self::OauthProvider,
        Self::Tenant,
        Self::Delegate,
        Self::Id,
        Self::SmtpCredential,
        Self::SmtpSendsWith,
        Self::SmtpServer,
        Self::SmtpPort,
        Self::SmtpSecurity,
        Self::SmtpSendAs,
        Self::SmtpFromName,
        Self::SmtpUserName,
        Self::SmtpUserDomain,
        Self::SmtpPassword,
        Self::ImapCredential,
        Self::ImapReadsWith,
        Self::ImapServer,
        Self::ImapPort,
        Self::ImapSecurity,
        Self::ImapInboxFolder,
        Self::ImapSentFolder,
        Self::ImapUserName,
        Self::ImapUserDomain,
        Self::ImapPassword,
    ];

    /// The row's label in the form (within its section).
    pub fn label(self) -> &'static str {
        match self {
            Self::Id => "Id",
            Self::CredentialType => "Credential Type",
            Self::Description => "Description",
            Self::SubjectTag => "Subject Tag",
            Self::Active => "Active",
            Self::OauthProvider => "OAuth2 provider",
            Self::Tenant => "Tenant",
            Self::Delegate => "Signed in by",
            Self::SmtpServer | Self::ImapServer => "Server Name",
            Self::SmtpPort | Self::ImapPort => "Port",
            Self::SmtpSecurity | Self::ImapSecurity => "Security",
            Self::SmtpSendAs => "Default Send as Email",
            Self::SmtpFromName => "From Name",
            Self::SmtpUserName => "(From) User Name",
            Self::SmtpUserDomain => "(From) User Domain",
            Self::SmtpPassword | Self::ImapPassword => "Password",
            Self::SmtpCredential | Self::ImapCredential => "Signs in with",
            Self::SmtpSendsWith => "Sends with",
            Self::ImapReadsWith => "Reads with",
            Self::ImapInboxFolder => "Inbox Folder Name",
            Self::ImapSentFolder => "Sent Items Folder",
            Self::ImapUserName => "User Name",
            Self::ImapUserDomain => "User Domain",
        }
    }

    /// The form section the field is in, if any.
    pub fn section(self) -> Option<&'static str> {
        let name = self.config_name();
        if name.starts_with("smtp.") {
            Some(OUTGOING)
        } else if name.starts_with("imap.") {
            Some(INCOMING)
        } else {
            None
        }
    }

    /// The label, with its section where the same label is in both sections:
    /// "Server Name (Outgoing SMTP Settings)", "Default Send as Email".
    pub fn name(self) -> String {
        let shared = Self::ALL.iter().any(|other| *other != self && other.label() == self.label());
        match self.section() {
            Some(section) if shared => format!("{} ({section})", self.label()),
            _ => self.label().to_owned(),
        }
    }

    /// The config file's dotted name.
    pub(crate) fn config_name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::CredentialType => "credential",
            Self::Description => "description",
            Self::SubjectTag => "subject_tag",
            Self::Active => "active",
            Self::OauthProvider => "oauth_provider",
            Self::Tenant => "tenant",
            Self::Delegate => "delegate",
            Self::SmtpServer => "smtp.server",
            Self::SmtpPort => "smtp.port",
            Self::SmtpSecurity => "smtp.security",
            Self::SmtpSendAs => "smtp.send_as",
            Self::SmtpFromName => "smtp.from_name",
            Self::SmtpUserName => "smtp.user_name",
            Self::SmtpUserDomain => "smtp.user_domain",
            Self::SmtpPassword => "smtp.password",
            Self::SmtpCredential => "smtp.credential",
            Self::SmtpSendsWith => "smtp.sends_with",
            Self::ImapServer => "imap.server",
            Self::ImapPort => "imap.port",
            Self::ImapSecurity => "imap.security",
            Self::ImapInboxFolder => "imap.inbox_folder",
            Self::ImapSentFolder => "imap.sent_folder",
            Self::ImapUserName => "imap.user_name",
            Self::ImapUserDomain => "imap.user_domain",
            Self::ImapPassword => "imap.password",
            Self::ImapCredential => "imap.credential",
            Self::ImapReadsWith => "imap.reads_with",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_say_the_section_only_where_labels_repeat() {
        let names: Vec<String> = Field::ALL.iter().map(|f| f.name()).collect();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} twice");
        }
        assert_eq!(Field::SmtpServer.name(), "Server Name (Outgoing SMTP Settings)");
        assert_eq!(Field::ImapPort.name(), "Port (Incoming IMAP Settings)");
        assert_eq!(Field::SmtpSendAs.name(), "Default Send as Email");
        assert_eq!(Field::ImapInboxFolder.name(), "Inbox Folder Name");
    }
}
