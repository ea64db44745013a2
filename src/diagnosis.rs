//! What a failure means to the admin — what went wrong, who can fix it, the
//! next step — shared by the connection tests (`probe::diagnose`) and the
//! sign-in (`oauth::errors`), which each hold their own signatures.

use serde::Serialize;

/// Who has to act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The admin using Mail Settings.
    You,
    /// Whoever runs the mail service (Microsoft 365 / Google Workspace admin, mail server admin).
    MailAdmin,
    /// Whoever runs the network (firewall, proxy).
    NetworkAdmin,
    /// Mail Settings support.
    Vendor,
}

impl Actor {
    pub fn label(self) -> &'static str {
        match self {
            Self::You => "you, in this mail setting",
            Self::MailAdmin => "your mail administrator (Microsoft 365 / Google Workspace / mail server admin)",
            Self::NetworkAdmin => "your IT or network team",
            Self::Vendor => "Mail Settings support",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The signature's stable id (for support and tests).
    pub signature: &'static str,
    pub cause: String,
    pub who: Actor,
    pub next_step: String,
}

impl Diagnosis {
    /// Names who support is ("send it to support" becomes "send it to
    /// help@vendor.example"): the config's contact, a vendor build's, or "your
    /// support contact" — never a dead end.
    /// Fills the mailbox into the next step's commands ("Set-CASMailbox <mailbox> …"),
    /// so the IT admin can run them as they stand.
    #[must_use]
    pub fn for_mailbox(mut self, mailbox: &str) -> Self {
        if !mailbox.trim().is_empty() {
            self.next_step = self.next_step.replace("<mailbox>", mailbox.trim());
        }
        self
    }

    #[must_use]
    pub fn naming_support(mut self, contact: &str) -> Self {
        self.next_step = self.next_step.replace("send it to support", &format!("send it to {contact}"));
        self
    }
}

/// Three lines, as shown under a failed Connect and in the CLI's messages.
impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "What went wrong: {}\nWho can fix it: {}\nNext step: {}",
            self.cause,
            self.who.label(),
            self.next_step
        )
    }
}
