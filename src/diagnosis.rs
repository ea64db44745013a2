//! What a failure means to the admin — what went wrong, who can fix it, the
//! next step — shared by the connection tests (`probe::diagnose`) and the
//! sign-in (`oauth::errors`), which each hold their own signatures.

use serde::Serialize;

/// Whether `needle` (lower case) is in `text` (lower case). A needle that begins or
/// ends with a digit — a reply code, an enhanced status code, an error number — counts
/// only as a whole number: "535" is not in the timestamp 1796358535 nor in a hex id,
/// "5.7.3" is not in "5.7.30", AADSTS50011 is not in AADSTS500113.
pub(crate) fn mentions(text: &str, needle: &str) -> bool {
    let bytes = text.as_bytes();
    let (first, last) = (needle.bytes().next(), needle.bytes().last());
    let is = |index: Option<usize>, what: fn(&u8) -> bool| index.and_then(|i| bytes.get(i)).is_some_and(what);
    text.match_indices(needle).any(|(at, found)| {
        let end = at + found.len();
        // A number goes on through a letter or digit (a timestamp, a hex id), or a dot
        // with a digit beyond it.
        let number_before = is(at.checked_sub(1), u8::is_ascii_alphanumeric)
            || (is(at.checked_sub(1), |b| *b == b'.') && is(at.checked_sub(2), u8::is_ascii_digit));
        let number_after = is(Some(end), u8::is_ascii_alphanumeric)
            || (is(Some(end), |b| *b == b'.') && is(Some(end + 1), u8::is_ascii_digit));
        let runs_on_before = first.is_some_and(|b| b.is_ascii_digit()) && number_before;
        let runs_on_after = last.is_some_and(|b| b.is_ascii_digit()) && number_after;
        !runs_on_before && !runs_on_after
    })
}

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
    pub(crate) fn for_mailbox(mut self, mailbox: &str) -> Self {
        if !mailbox.trim().is_empty() {
            self.next_step = self.next_step.replace("<mailbox>", mailbox.trim());
        }
        self
    }

    #[must_use]
    pub(crate) fn naming_support(mut self, contact: &str) -> Self {
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

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn a_code_is_found_only_as_a_whole_number() {
        assert!(mentions("535 5.7.8 error: authentication failed", "535"));
        assert!(mentions("535-5.7.8 username and password not accepted", "535"));
        assert!(!mentions("verification time 1796358535 (unix)", "535"), "not inside a timestamp");
        assert!(!mentions("550 5.7.30 basic authentication", "5.7.3"), "5.7.3 is not 5.7.30");
        assert!(mentions("rejected: 5.7.30.", "5.7.30"), "a full stop after it ends the number");
        assert!(!mentions("error 15.7.30 x", "5.7.30"));
        assert!(!mentions("aadsts500113: no reply address", "aadsts50011"));
        assert!(mentions("aadsts50011: the redirect uri", "aadsts50011"));
        assert!(mentions("the user credentials were incorrect", "credentials were"), "words as before");
        assert!(!mentions("id d2e1a535f0 - gsmtp", "535"), "not inside a hex id");
        assert!(mentions("id v535", "v535"), "a needle that begins with a letter is found after a space");
    }
}
