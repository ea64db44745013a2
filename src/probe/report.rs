//! A probe's result as data: stages (name, duration, outcome, detail, the
//! server's words), facts (folder counts, delivery time) and a diagnosis.
//! One structure, three views: the CLI prints it, the window draws it, and
//! [`Report::to_text`] makes the redacted report support staff receive.
//!
//! Redaction happens when text enters the report, not when it leaves: the
//! report never holds a password, a token or an AUTH payload, even if a
//! server echoes one back.

use crate::clock::Timestamp;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::diagnosis::Diagnosis;
use crate::secret::{REDACTED, Secret};

/// The steps of a probe, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Dns,
    Connect,
    Tls,
    Greeting,
    Capabilities,
    Starttls,
    Authentication,
    Folders,
    Send,
    Delivery,
    Counts,
    Logout,
    PortCheck,
    /// Readiness: does sending sign in.
    SendingSignIn,
    /// Readiness: does receiving (IMAP) sign in.
    ReceivingSignIn,
    /// Readiness: the mail permissions the sign-in was granted.
    Permissions,
    /// Readiness: would the provider's API send (Microsoft Graph).
    ApiSending,
    /// Readiness: does the provider's API open the mailbox.
    ApiReading,
}

impl StageName {
    pub fn label(self) -> &'static str {
        match self {
            Self::Dns => "Look up server name",
            Self::Connect => "Connect",
            Self::Tls => "TLS",
            Self::Greeting => "Server greeting",
            Self::Capabilities => "Capabilities",
            Self::Starttls => "Upgrade with Start TLS",
            Self::Authentication => "Sign in",
            Self::Folders => "Folders",
            Self::Send => "Send test messages",
            Self::Delivery => "Delivery to the inbox",
            Self::Counts => "Count messages",
            Self::Logout => "Log out",
            Self::PortCheck => "Port check",
            Self::SendingSignIn => "Sending",
            Self::ReceivingSignIn => "Receiving",
            Self::Permissions => "Permissions",
            Self::ApiSending => "Sending (API)",
            Self::ApiReading => "Receiving (API)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageOutcome {
    Passed,
    Warning,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub name: StageName,
    pub duration_ms: f64,
    pub outcome: StageOutcome,
    /// What happened, in plain words (TLS version and certificate, counts…).
    pub detail: String,
    /// The server's exact words, when it said something that matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_reply: Option<String>,
}

/// What was tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    Outgoing,
    Incoming,
    RoundTrip,
    Detect,
    Leftover,
    /// `mailsettings send`: a real message, not a test.
    Send,
    /// The bridge signing in upstream for a program's session.
    Bridge,
    /// Whether the mailbox is ready for the end of Basic SMTP AUTH (sign-ins, permissions).
    Readiness,
    /// Signing in for sending, no message (every scheduled check).
    SendingSignIn,
}

impl ProbeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Outgoing => "Test Outgoing",
            Self::Incoming => "Test Incoming",
            Self::RoundTrip => "Round trip",
            Self::Detect => "Detect security mode",
            Self::Leftover => "Leftover mail",
            Self::Send => "Send",
            Self::Bridge => "Bridge sign-in",
            Self::Readiness => "Readiness",
            Self::SendingSignIn => "Sending sign-in",
        }
    }
}

/// What kind of failure ended a probe, typed (not read from its words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The message or its addresses, as the caller gave them.
    BadMessage,
    /// No password or token to sign in with.
    Credentials,
    /// The server said no (its reply code tells how firmly).
    Refused,
    /// Silence, a timeout, a dropped connection: worth trying again.
    Temporary,
    /// The server cannot be reached or spoken to as set up.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub kind: ProbeKind,
    pub setting_id: crate::model::SettingId,
    /// e.g. `smtp.office365.com:587 (STARTTLS) as collections@contoso.com`.
    pub target: String,
    pub started_at: Timestamp,
    pub stages: Vec<Stage>,
    /// Named results (folder counts, run id, delivery time), in order.
    pub facts: Vec<(String, String)>,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// The kind of the first failure, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureKind>,
    /// A configured folder the server does not have, and the server's own one in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_fix: Option<super::folders::FolderFix>,
    #[serde(skip)]
    redactor: Redactor,
}

impl Report {
    pub fn new(kind: ProbeKind, setting_id: &str, target: &str, redactor: Redactor) -> Self {
        Self {
            kind,
            setting_id: setting_id.into(),
            target: redactor.redact(target),
            started_at: crate::clock::Timestamp::now(),
            stages: Vec::new(),
            facts: Vec::new(),
            passed: true,
            diagnosis: None,
            failure: None,
            folder_fix: None,
            redactor,
        }
    }

    pub fn stage(
        &mut self,
        name: StageName,
        elapsed: Duration,
        outcome: StageOutcome,
        detail: &str,
        reply: Option<&str>,
    ) {
        if outcome == StageOutcome::Failed {
            self.passed = false;
        }
        self.stages.push(Stage {
            name,
            duration_ms: (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            outcome,
            detail: self.clean(detail),
            // Redacted before it is cut: a secret across the cut must not leave its first half.
            server_reply: reply.map(|r| truncate(&self.clean(r), 2000)),
        });
    }

    pub fn fact(&mut self, name: &str, value: impl Into<String>) {
        let value = self.clean(&value.into());
        self.facts.push((name.to_owned(), value));
    }

    /// A failed report names who support is, in its diagnosis and as a fact, so a
    /// copied report says where it goes.
    pub(crate) fn name_support(&mut self, contact: &str) {
        if self.passed {
            return;
        }
        if let Some(diagnosis) = self.diagnosis.take() {
            self.diagnosis = Some(diagnosis.naming_support(contact));
        }
        self.fact("Support", contact);
    }

    pub(crate) fn set_diagnosis(&mut self, diagnosis: Diagnosis) {
        self.passed = false;
        let mut diagnosis = diagnosis;
        diagnosis.cause = self.clean(&diagnosis.cause);
        diagnosis.next_step = self.clean(&diagnosis.next_step);
        self.diagnosis = Some(diagnosis);
    }

    /// Text from the server or the network, as the report keeps it: secrets
    /// redacted (also in their escaped form), then made printable.
    fn clean(&self, text: &str) -> String {
        self.redactor.redact(&crate::printable::printable(&self.redactor.redact(text)))
    }

    /// The server refused the sign-in (as opposed to never being reached).
    pub(crate) fn sign_in_refused(&self) -> bool {
        self.stages.iter().any(|s| s.name == StageName::Authentication && s.outcome == StageOutcome::Failed)
    }

    /// Why the probe failed, in one line: the diagnosis' cause, else the failed stage.
    pub(crate) fn failure_summary(&self) -> String {
        if let Some(diagnosis) = &self.diagnosis {
            return diagnosis.cause.clone();
        }
        self.stages
            .iter()
            .rev()
            .find(|s| s.outcome == StageOutcome::Failed)
            .map_or_else(|| "no reason was given".to_owned(), |s| format!("{}: {}", s.name.label(), s.detail))
    }

    /// The report for the clipboard and for support: every stage, the server's
    /// words, the diagnosis — and no secret.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        // The guide's word for a passed test, as the window shows it.
        let verdict = if self.passed { "OK" } else { "FAILED" };
        let _ = writeln!(out, "Mail Settings — {} — {verdict}", self.kind.label());
        let _ = writeln!(out, "Setting: {}", self.setting_id);
        let _ = writeln!(out, "Server:  {}", self.target);
        let _ = writeln!(out, "Started: {}", self.started_at);
        let _ = writeln!(out);
        for stage in &self.stages {
            let mark = match stage.outcome {
                StageOutcome::Passed => "ok  ",
                StageOutcome::Warning => "warn",
                StageOutcome::Failed => "FAIL",
            };
            let _ =
                writeln!(out, "[{mark}] {:<24} {:>8.1} ms  {}", stage.name.label(), stage.duration_ms, stage.detail);
            if let Some(reply) = &stage.server_reply {
                for line in reply.lines() {
                    let _ = writeln!(out, "       server: {line}");
                }
            }
        }
        if !self.facts.is_empty() {
            let _ = writeln!(out);
            for (name, value) in &self.facts {
                let _ = writeln!(out, "{name}: {value}");
            }
        }
        if let Some(diagnosis) = &self.diagnosis {
            let _ = writeln!(out);
            let _ = writeln!(out, "What went wrong: {}", diagnosis.cause);
            let _ = writeln!(out, "Who can fix it:  {}", diagnosis.who.label());
            let _ = writeln!(out, "Next step:       {}", diagnosis.next_step);
            let _ = writeln!(out, "(signature: {})", diagnosis.signature);
        }
        out
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max_chars).collect();
        cut.push_str(" …(truncated)");
        cut
    }
}

/// Removes known secrets, their base64 forms and AUTH payloads from any text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Each secret in every form it may appear in on the wire.
    needles: Vec<Secret>,
    /// Secrets too short to remove wherever their letters occur (a two-letter
    /// password would blank out every word holding those letters): removed where
    /// they stand as a word of their own.
    short_needles: Vec<Secret>,
}

/// Secrets shorter than this (in characters) are removed as whole words only.
const SHORT_SECRET: usize = 4;

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret, plus every form a client sends it in and a server may echo:
    /// IMAP's quoted string, form encoding, base64 of it and of the SASL payloads
    /// built from it.
    pub fn add(&mut self, user: &str, secret: &Secret) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let value = secret.expose();
        if value.is_empty() {
            return;
        }
        if value.chars().count() < SHORT_SECRET {
            self.short_needles.push(secret.clone());
        }
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        let forms = [
            value.to_owned(),
            // As a report shows it once made printable (a secret with a control character).
            crate::printable::printable(value),
            quoted,
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            engine.encode(value),
            engine.encode(format!("\0{user}\0{value}")),
            engine.encode(format!("user={user}\x01auth=Bearer {value}\x01\x01")),
        ];
        for form in forms {
            if form.chars().count() < SHORT_SECRET {
                continue; // the short forms are the word-bounded needles above
            }
            if !self.needles.iter().any(|known| known.expose() == form) {
                self.needles.push(Secret::new(form));
            }
        }
        // Longest first: a form that contains the bare value must go whole.
        self.needles.sort_by_key(|needle| std::cmp::Reverse(needle.expose().len()));
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if !needle.is_empty() && out.contains(needle.expose()) {
                out = out.replace(needle.expose(), REDACTED);
            }
        }
        for needle in &self.short_needles {
            out = replace_whole_words(&out, needle.expose());
        }
        redact_auth_arguments(&out)
    }
}

/// Replaces `word` where neither neighbour is a letter or digit.
fn replace_whole_words(text: &str, word: &str) -> String {
    let is_word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if is_word_char(before) || is_word_char(after) {
            out.push_str(word);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// `AUTH PLAIN xxx`, `AUTHENTICATE XOAUTH2 xxx`, `Bearer xxx`: keep the
/// keyword, drop what follows — whatever secret it was.
fn redact_auth_arguments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str(&redact_line(line));
    }
    out
}

fn redact_line(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        out.push(word);
        index += 1;
        let upper = word.trim_start_matches(['2', '5', '0', '-']).to_ascii_uppercase();
        if matches!(upper.as_str(), "AUTH" | "AUTHENTICATE") {
            // Mechanism names stay (capability lists); a payload after them goes.
            while index < words.len() && is_mechanism_name(words[index]) {
                out.push(words[index]);
                index += 1;
            }
            if index < words.len() && looks_like_payload(words[index]) {
                out.push(REDACTED);
                index += 1;
            }
        } else if (upper == "BEARER" || upper.ends_with("AUTH=BEARER")) && index < words.len() {
            out.push(REDACTED);
            index += 1;
        }
    }
    out.join(" ")
}

/// Base64 (or `=` for an empty initial response) that is not a mechanism name.
fn looks_like_payload(word: &str) -> bool {
    let word = word.trim_end_matches(['\r', ',']);
    word == "="
        || (word.len() >= 4
            && !is_mechanism_name(word)
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
}

/// SASL mechanism names: upper-case letters, digits, `-` and `_` (RFC 4422).
fn is_mechanism_name(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 20
        && word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        let mut redactor = Redactor::new();
        redactor.add("ar@example.com", &Secret::new("canary-pw-123"));
        redactor
    }

    /// An unrecognised failure says where to send the report, and the copied
    /// report names it too; a passed report is left alone.
    #[test]
    fn a_failed_report_names_the_support_contact() {
        let mut report = Report::new(ProbeKind::Outgoing, "s", "host:587", Redactor::new());
        report.set_diagnosis(crate::probe::diagnose::diagnose(&crate::probe::diagnose::Symptom {
            stage: StageName::Greeting,
            protocol: crate::model::Protocol::Smtp,
            text: "421 4.3.2 weird thing".to_owned(),
            host: "host".to_owned(),
            port: 587,
            security: crate::model::Security::Starttls,
        }));
        report.name_support("help@vendor.example");
        let next = &report.diagnosis.as_ref().unwrap().next_step;
        assert!(next.contains("send it to help@vendor.example"), "{next}");
        assert!(report.to_text().contains("help@vendor.example"), "{}", report.to_text());
        let mut passed = Report::new(ProbeKind::Outgoing, "s", "host:587", Redactor::new());
        passed.name_support("help@vendor.example");
        assert!(!passed.to_text().contains("help@vendor.example"));
    }

    #[test]
    fn secrets_and_their_wire_forms_are_removed() {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let redactor = redactor();
        let plain = engine.encode("\0ar@example.com\0canary-pw-123");
        let bearer = engine.encode("user=ar@example.com\x01auth=Bearer canary-pw-123\x01\x01");
        for text in [
            "535 wrong password canary-pw-123".to_owned(),
            format!("500 5.5.2 Error: command not recognized: {plain}"),
            format!("a1 BAD {bearer}"),
            engine.encode("canary-pw-123"),
        ] {
            let cleaned = redactor.redact(&text);
            assert!(!cleaned.contains("canary-pw-123"), "{cleaned}");
            assert!(!cleaned.contains(&plain) && !cleaned.contains(&bearer), "{cleaned}");
            assert!(cleaned.contains(REDACTED), "{cleaned}");
        }
    }

    #[test]
    fn a_secret_is_removed_in_the_quoting_a_server_echoes() {
        let mut redactor = Redactor::new();
        redactor.add("ar@example.com", &Secret::new(r#"pa"ss\w0rd&x=1 y"#));
        for echoed in [
            r#"a1 NO login "ar@example.com" "pa\"ss\\w0rd&x=1 y" refused"#,
            "body: password=pa%22ss%5Cw0rd%26x%3D1+y&grant_type=password",
            r#"raw pa"ss\w0rd&x=1 y"#,
        ] {
            let redacted = redactor.redact(echoed);
            assert!(!redacted.contains("w0rd"), "{redacted}");
            assert!(redacted.contains(REDACTED), "{redacted}");
        }
        let quoted = redactor.redact(r#"x "pa\"ss\\w0rd&x=1 y" z"#);
        assert_eq!(quoted, format!("x \"{REDACTED}\" z"), "the quoted form goes whole, not around the bare value");
    }

    #[test]
    fn short_secrets_go_where_they_stand_alone_and_words_keep_their_letters() {
        let mut redactor = Redactor::new();
        redactor.add("ar@example.com", &Secret::new("ab"));
        redactor.add("ar@example.com", &Secret::new("x"));
        assert_eq!(
            redactor.redact("a1 NO password ab refused (about tabs) x=1 \"x\""),
            format!("a1 NO password {REDACTED} refused (about tabs) {REDACTED}=1 \"{REDACTED}\"")
        );
    }

    #[test]
    fn a_secret_with_a_control_character_is_removed_once_made_printable() {
        let mut redactor = Redactor::new();
        redactor.add("ar@example.com", &Secret::new("pa\u{1b}ss-w0rd"));
        let shown = crate::printable::printable("echo pa\u{1b}ss-w0rd");
        assert!(!redactor.redact(&shown).contains("w0rd"), "{shown}");
    }

    #[test]
    fn auth_payloads_go_but_mechanism_lists_stay() {
        let redactor = Redactor::new();
        assert_eq!(redactor.redact("250-AUTH PLAIN LOGIN XOAUTH2"), "250-AUTH PLAIN LOGIN XOAUTH2");
        assert_eq!(
            redactor.redact("offers SIZE 10, AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER, 8BITMIME"),
            "offers SIZE 10, AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER, 8BITMIME"
        );
        assert_eq!(redactor.redact("AUTH PLAIN AGZvbwBiYXI="), format!("AUTH PLAIN {REDACTED}"));
        assert_eq!(redactor.redact("a2 AUTHENTICATE XOAUTH2 dXNlcj1h"), format!("a2 AUTHENTICATE XOAUTH2 {REDACTED}"));
        assert_eq!(
            redactor.redact("Authorization: Bearer eyJhbGciOi.x.y"),
            format!("Authorization: Bearer {REDACTED}")
        );
        assert_eq!(redactor.redact("first\nAUTH LOGIN dXNlcg=="), format!("first\nAUTH LOGIN {REDACTED}"));
    }

    #[test]
    fn a_report_redacts_what_enters_it() {
        let mut report = Report::new(ProbeKind::Outgoing, "s", "host:587", redactor());
        report.stage(
            StageName::Authentication,
            Duration::from_millis(3),
            StageOutcome::Failed,
            "sent canary-pw-123",
            Some("535 canary-pw-123"),
        );
        report.fact("echo", "canary-pw-123");
        let text = report.to_text();
        assert!(!text.contains("canary-pw-123"), "{text}");
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("canary-pw-123"));
        assert!(!report.passed);
        assert!(text.contains("FAILED") && text.contains("[FAIL] Sign in"));
    }
}
