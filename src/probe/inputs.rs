//! What a probe needs from a mail setting: where to connect, who signs in and
//! with what. Built from the setting and the sign-ins the caller read from the
//! secret store; a probe never reads the store itself.

use serde::Serialize;

use super::report::Redactor;
use crate::model::{MailSetting, Security};
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

/// How to sign in.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// AUTH PLAIN/LOGIN (SMTP), LOGIN (IMAP).
    Password(Secret),
    /// SASL XOAUTH2 with an OAuth access token.
    Bearer(Secret),
    /// Nothing usable is stored; the reason says what to do.
    Missing(String),
    /// The sign-in is kept, but no fresh token could be had just now (the provider
    /// busy or out of reach): worth trying again, no reconnect needed.
    TokenUnavailable(String),
    /// The provider refused a token for this side (a permission not granted, the
    /// sign-in ended): why, and what it means.
    Refused(TokenFailure),
}

/// Why no access token could be had: the words, and whether trying again later
/// can help (the provider busy or out of reach) rather than a reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFailure {
    pub reason: String,
    pub temporary: bool,
    /// What the refusal means, where the sign-in's own diagnoses know it.
    pub diagnosis: Option<crate::diagnosis::Diagnosis>,
}

impl std::fmt::Display for TokenFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Why no credentials were sent — what SMTP's and IMAP's sign-in plans share.
#[derive(Debug)]
pub(crate) enum NotSent {
    /// The connection is plain text: credentials are never written to it.
    NotEncrypted,
    /// There is nothing usable to sign in with (no password, no token, a refused one).
    Unusable(super::ProbeError, Option<Box<crate::diagnosis::Diagnosis>>),
    /// The server takes no sign-in this one can use (no shared mechanism, LOGINDISABLED).
    NotOffered(super::ProbeError),
}

impl NotSent {
    /// The error the report shows, and the sign-in's own diagnosis where it has one.
    pub(crate) fn into_failure(self) -> (super::ProbeError, Option<crate::diagnosis::Diagnosis>) {
        match self {
            Self::NotEncrypted => (
                super::ProbeError::Protocol(
                    "the connection is not encrypted, so the credentials were not sent (choose Start TLS or TLS \
                     on connect)"
                        .to_owned(),
                ),
                None,
            ),
            Self::Unusable(err, diagnosis) => (err, diagnosis.map(|d| *d)),
            Self::NotOffered(err) => (err, None),
        }
    }
}

impl SignIn {
    /// What stops any credential being sent, before a mechanism is chosen: a plain
    /// connection, or nothing usable to send.
    pub(crate) fn withheld(&self, encrypted: bool) -> Option<NotSent> {
        if !encrypted {
            return Some(NotSent::NotEncrypted);
        }
        self.unusable().map(|(err, diagnosis)| NotSent::Unusable(err, diagnosis.map(Box::new)))
    }

    /// Why this side cannot sign in at all, as the probe's error, with the refusal's
    /// own diagnosis where there is one; `None` for a password or a token.
    pub(crate) fn unusable(&self) -> Option<(super::ProbeError, Option<crate::diagnosis::Diagnosis>)> {
        match self {
            Self::Password(_) | Self::Bearer(_) => None,
            Self::Missing(reason) => Some((super::ProbeError::MissingCredentials(reason.clone()), None)),
            Self::TokenUnavailable(reason) => Some((super::ProbeError::TokenUnavailable(reason.clone()), None)),
            Self::Refused(failure) => {
                Some((super::ProbeError::MissingCredentials(failure.reason.clone()), failure.diagnosis.clone()))
            }
        }
    }

    /// A redactor that removes this sign-in's secret (in all its wire forms) from report text.
    pub(crate) fn redactor(&self, user: &str) -> Redactor {
        let mut redactor = Redactor::new();
        if let Self::Password(secret) | Self::Bearer(secret) = self {
            redactor.add(user, secret);
        }
        redactor
    }
}

#[derive(Debug, Clone)]
pub struct OutgoingInput {
    pub setting_id: crate::model::SettingId,
    pub endpoint: Endpoint,
    pub user: String,
    pub sign_in: SignIn,
    pub send_as: String,
    pub from_name: String,
    /// Reply-To of the automation-shaped message: the incoming mailbox.
    pub reply_to: String,
    pub subject_tag: String,
}

impl OutgoingInput {
    pub(crate) fn redactor(&self) -> Redactor {
        self.sign_in.redactor(&self.user)
    }
}

#[derive(Debug, Clone)]
pub struct IncomingInput {
    pub setting_id: crate::model::SettingId,
    pub endpoint: Endpoint,
    pub user: String,
    pub sign_in: SignIn,
    pub inbox_folder: String,
    pub sent_folder: String,
}

impl IncomingInput {
    pub(crate) fn redactor(&self) -> Redactor {
        self.sign_in.redactor(&self.user)
    }
}

/// The probe inputs of a setting, each side signing in as given: the caller
/// (`checks::connection_inputs`) reads the passwords and fetches the token — a probe
/// never touches the secret store.
pub fn inputs_for(setting: &MailSetting, smtp_sign_in: SignIn, imap_sign_in: SignIn) -> (OutgoingInput, IncomingInput) {
    let (smtp, imap) = endpoints(setting);
    let outgoing = OutgoingInput {
        setting_id: setting.id.clone(),
        endpoint: smtp,
        user: setting.smtp.user_name.trim().to_owned(),
        sign_in: smtp_sign_in,
        send_as: setting.smtp.send_as.trim().to_owned(),
        from_name: setting.smtp.from_name.trim().to_owned(),
        reply_to: setting.imap.user_name.trim().to_owned(),
        subject_tag: setting.subject_tag.trim().to_owned(),
    };
    let incoming = IncomingInput {
        setting_id: setting.id.clone(),
        endpoint: imap,
        user: setting.imap.user_name.trim().to_owned(),
        sign_in: imap_sign_in,
        inbox_folder: setting.imap.inbox_folder.trim().to_owned(),
        sent_folder: setting.imap.sent_folder.trim().to_owned(),
    };
    (outgoing, incoming)
}

/// Where a setting's servers are (outgoing, incoming) — all that Detect needs,
/// without reading or refreshing any credential.
pub fn endpoints(setting: &MailSetting) -> (Endpoint, Endpoint) {
    let smtp = Endpoint {
        host: setting.smtp.server.trim().to_owned(),
        port: setting.smtp.port,
        security: setting.smtp.security,
    };
    let imap = Endpoint {
        host: setting.imap.server.trim().to_owned(),
        port: setting.imap.port,
        security: setting.imap.security,
    };
    (smtp, imap)
}
