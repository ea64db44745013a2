//! Filling a setting's servers from a provider of the catalogue
//! ([`super::providers`]), so admins do not type them; and the host names admins
//! type that look right but are not. SendGrid and Postmark are outgoing-only
//! relays, so their presets leave IMAP as it is.

use super::providers::{self, Endpoint, Provider};
use super::setting::{CredentialKind, DEFAULT_SENT_FOLDER, MailSetting};

/// A provider's servers, to be filled into a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The provider's label.
    pub name: &'static str,
    pub smtp: Endpoint,
    /// `None` for send-only relays.
    pub imap: Option<Endpoint>,
    /// The credential type this provider is normally used with.
    pub credential: CredentialKind,
    /// A fixed SMTP user name the provider requires (SendGrid: `apikey`).
    pub smtp_user_name: Option<&'static str>,
    /// The provider's name for the sent folder, where it is not "Sent".
    pub sent_folder: Option<&'static str>,
}

impl Preset {
    /// The servers of a catalogue entry.
    pub const fn of(provider: &Provider) -> Self {
        Self {
            name: provider.label,
            smtp: provider.smtp,
            imap: provider.imap,
            credential: provider.credential,
            smtp_user_name: provider.smtp_user_name,
            sent_folder: provider.sent_folder,
        }
    }
}

impl From<&Provider> for Preset {
    fn from(provider: &Provider) -> Self {
        Self::of(provider)
    }
}

pub const MICROSOFT_365: Preset = Preset::of(&providers::MICROSOFT_365);
pub const GMAIL: Preset = Preset::of(&providers::GMAIL);
pub const SENDGRID: Preset = Preset::of(&providers::SENDGRID);
pub const POSTMARK: Preset = Preset::of(&providers::POSTMARK);

/// Every provider's servers, in the catalogue's order.
pub const ALL: [Preset; providers::CATALOGUE.len()] = {
    let mut all = [MICROSOFT_365; providers::CATALOGUE.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = Preset::of(&providers::CATALOGUE[i]);
        i += 1;
    }
    all
};

impl Preset {
    /// The preset that belongs to an OAuth credential type, if any.
    pub(crate) fn for_credential(credential: CredentialKind) -> Option<Self> {
        providers::for_credential(credential).map(Self::of)
    }

    /// Fills hosts, ports and security of both sides it knows; leaves addresses and names alone.
    pub fn apply(&self, setting: &mut MailSetting) {
        self.apply_outgoing(setting);
        self.apply_incoming(setting);
    }

    /// Fills the outgoing side. A relay takes a password (or API key) only, so on an
    /// OAuth setting the outgoing side gets its own Basic sign-in; any other provider
    /// signs in as the setting does.
    pub(crate) fn apply_outgoing(&self, setting: &mut MailSetting) {
        setting.smtp.server = self.smtp.server.to_owned();
        setting.smtp.port = self.smtp.port;
        setting.smtp.security = self.smtp.security;
        if let Some(user) = self.smtp_user_name {
            setting.smtp.user_name = user.to_owned();
        }
        let relay = self.imap.is_none();
        setting.smtp.credential = (relay && setting.credential.uses_oauth()).then_some(CredentialKind::Basic);
    }

    /// Fills the incoming side, for providers that have one (relays do not), and the
    /// provider's sent folder in place of a general default ("Sent", or another
    /// provider's) — never in place of a name the admin chose.
    pub fn apply_incoming(&self, setting: &mut MailSetting) {
        if let Some(imap) = self.imap {
            setting.imap.server = imap.server.to_owned();
            setting.imap.port = imap.port;
            setting.imap.security = imap.security;
            setting.imap.credential = None;
            if is_default_sent_folder(&setting.imap.sent_folder) {
                self.sent_folder.unwrap_or(DEFAULT_SENT_FOLDER).clone_into(&mut setting.imap.sent_folder);
            }
        }
    }
}

// Here rather than in setting.rs: naming a relay needs the presets, which build on the setting's types.
impl MailSetting {
    /// The credential in a few words: "Microsoft 365 (MSO365)", or for mixed sides
    /// "Microsoft 365 (MSO365) in / SendGrid out" (a relay named by its preset).
    pub(crate) fn credential_label(&self) -> String {
        if !self.mixed_credentials() {
            return self.credential.label().to_owned();
        }
        let outgoing =
            relay_name(&self.smtp.server).map_or_else(|| self.smtp_credential().label().to_owned(), str::to_owned);
        format!("{} in / {outgoing} out", self.imap_credential().label())
    }
}

/// Whether a sent folder name is a default rather than the admin's choice: empty,
/// the guide's "Sent", or a provider's own name from the catalogue.
pub(crate) fn is_default_sent_folder(folder: &str) -> bool {
    let folder = folder.trim();
    folder.is_empty() || folder == DEFAULT_SENT_FOLDER || ALL.iter().any(|p| p.sent_folder == Some(folder))
}

/// The name of the send-only relay (SendGrid, Postmark) whose server this is.
pub(crate) fn relay_name(server: &str) -> Option<&'static str> {
    let server = server.trim().trim_end_matches('.');
    ALL.iter().find(|p| p.imap.is_none() && p.smtp.server.eq_ignore_ascii_case(server)).map(|p| p.name)
}

/// Host names admins type that look right but are not (the setup guide itself
/// says `office365.com`), with the host that was meant.
pub(crate) fn corrected_host(host: &str, for_imap: bool) -> Option<&'static str> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let (smtp, imap) = match host.as_str() {
        "office365.com"
        | "outlook.office.com"
        | "office.com"
        | "outlook.com"
        | "hotmail.com"
        | "smtp.outlook.com"
        | "imap.outlook.com"
        | "outlook.office365.com.com" => ("smtp.office365.com", "outlook.office365.com"),
        "gmail.com" | "google.com" | "googlemail.com" | "mail.google.com" | "smtp.googlemail.com" => {
            ("smtp.gmail.com", "imap.gmail.com")
        }
        // The right host on the wrong side.
        "smtp.office365.com" if for_imap => return Some("outlook.office365.com"),
        "outlook.office365.com" if !for_imap => return Some("smtp.office365.com"),
        "smtp.gmail.com" if for_imap => return Some("imap.gmail.com"),
        "imap.gmail.com" if !for_imap => return Some("smtp.gmail.com"),
        _ => return None,
    };
    Some(if for_imap { imap } else { smtp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Security;

    #[test]
    fn a_relay_fills_only_the_outgoing_side_and_signs_it_in_with_a_password() {
        let mut setting = MailSetting { credential: CredentialKind::Microsoft365, ..MailSetting::default() };
        MICROSOFT_365.apply(&mut setting);
        SENDGRID.apply(&mut setting);
        assert_eq!(setting.smtp.server, "smtp.sendgrid.net");
        assert_eq!(setting.smtp.user_name, "apikey", "SendGrid's fixed user name");
        assert_eq!(setting.smtp.credential, Some(CredentialKind::Basic));
        assert_eq!(setting.imap.server, "outlook.office365.com", "the mailbox side is left alone");
        assert_eq!(setting.imap.credential, None);
        // Back to Microsoft 365 for sending: the side follows the setting again.
        MICROSOFT_365.apply_outgoing(&mut setting);
        assert_eq!((setting.smtp.server.as_str(), setting.smtp.credential), ("smtp.office365.com", None));
        // A relay on a Basic setting needs no side credential.
        let mut basic = MailSetting::default();
        POSTMARK.apply(&mut basic);
        assert_eq!(basic.smtp.credential, None);
        assert_eq!(relay_name("SMTP.postmarkapp.com."), Some("Postmark"));
        assert_eq!(relay_name("smtp.office365.com"), None);
    }

    #[test]
    fn microsoft_preset_fills_both_servers() {
        let mut setting = MailSetting::default();
        MICROSOFT_365.apply(&mut setting);
        assert_eq!(setting.smtp.server, "smtp.office365.com");
        assert_eq!((setting.smtp.port, setting.smtp.security), (587, Security::Starttls));
        assert_eq!(setting.imap.server, "outlook.office365.com");
        assert_eq!((setting.imap.port, setting.imap.security), (993, Security::Tls));
    }

    #[test]
    fn presets_name_the_providers_sent_folder_but_keep_the_admins_own() {
        let mut setting = MailSetting::default();
        assert_eq!(setting.imap.sent_folder, "Sent", "the guide's general default");
        MICROSOFT_365.apply(&mut setting);
        assert_eq!(setting.imap.sent_folder, "Sent Items");
        GMAIL.apply(&mut setting);
        assert_eq!(setting.imap.sent_folder, "[Gmail]/Sent Mail", "another provider's name is a default too");
        setting.imap.sent_folder = "AR/Sent invoices".into();
        MICROSOFT_365.apply(&mut setting);
        assert_eq!(setting.imap.sent_folder, "AR/Sent invoices", "a name the admin chose stays");
        SENDGRID.apply(&mut setting);
        assert_eq!(setting.imap.sent_folder, "AR/Sent invoices", "a relay has no sent folder");
    }

    #[test]
    fn relay_presets_leave_imap_alone() {
        let mut setting = MailSetting::default();
        setting.imap.server = "imap.example.com".into();
        SENDGRID.apply(&mut setting);
        assert_eq!(setting.smtp.server, "smtp.sendgrid.net");
        assert_eq!(setting.smtp.user_name, "apikey");
        assert_eq!(setting.imap.server, "imap.example.com");
        POSTMARK.apply(&mut setting);
        assert_eq!(setting.smtp.server, "smtp.postmarkapp.com");
    }

    #[test]
    fn gmail_preset_and_credential_lookup() {
        assert_eq!(Preset::for_credential(CredentialKind::Gmail), Some(GMAIL));
        assert_eq!(Preset::for_credential(CredentialKind::Microsoft365), Some(MICROSOFT_365));
        assert_eq!(Preset::for_credential(CredentialKind::Basic), None);
        let mut setting = MailSetting::default();
        GMAIL.apply(&mut setting);
        assert_eq!(setting.imap.server, "imap.gmail.com");
    }

    #[test]
    fn known_wrong_hosts_are_corrected() {
        assert_eq!(corrected_host("office365.com", false), Some("smtp.office365.com"));
        assert_eq!(corrected_host("Office365.com.", true), Some("outlook.office365.com"));
        assert_eq!(corrected_host("smtp.office365.com", true), Some("outlook.office365.com"));
        assert_eq!(corrected_host("smtp.office365.com", false), None);
        assert_eq!(corrected_host("gmail.com", true), Some("imap.gmail.com"));
        assert_eq!(corrected_host("mail.example.com", true), None);
    }
}
