//! `mailsettings send`: a sendmail-compatible sender through a mail setting.
//!
//! The message's head (up to the blank line) is read and completed here — the
//! recipients taken from To/Cc/Bcc with `-t`, Bcc removed, Date, Message-ID and
//! From added when missing — while the body is streamed from standard input by
//! the same SMTP code as Test Outgoing. Exit codes follow sysexits.h, as
//! sendmail's callers (cron, scripts, git send-email) expect.

use std::io::BufRead;

use lettre::message::{Mailbox, Mailboxes};
use thiserror::Error;

use crate::probe::report::{FailureKind, Report, StageName, StageOutcome};
use crate::sysexits::{EX_DATAERR, EX_NOPERM, EX_OK, EX_TEMPFAIL, EX_UNAVAILABLE};

/// The longest head read (headers of real mail are a few KB).
pub const MAX_HEAD: usize = 1024 * 1024;

#[derive(Debug, Error)]
pub enum SendError {
    #[error("could not read the message: {0}")]
    Read(#[from] std::io::Error),
    #[error("the message's header is longer than {} KB; is this a message?", MAX_HEAD / 1024)]
    HeadTooLong,
    #[error("the message has no recipients: name them after the setting, or use -t to take them from To, Cc and Bcc")]
    NoRecipients,
    #[error("the {header} header holds an address that is not valid: {reason}")]
    BadAddress { header: String, reason: String },
}

/// The message's head, completed, and who it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Header lines ending with CRLF, then the blank line.
    pub head: Vec<u8>,
    /// From the command line, then (with `-t`) To, Cc and Bcc.
    pub recipients: Vec<String>,
}

/// Reads the head: every line up to and including the first empty one (or the
/// whole input when there is none).
pub(crate) fn read_head(input: &mut dyn BufRead) -> Result<Vec<u8>, SendError> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = std::io::Read::take(&mut *input, (MAX_HEAD + 1 - before) as u64).read_until(b'\n', &mut head)?;
        if head.len() > MAX_HEAD {
            return Err(SendError::HeadTooLong);
        }
        let line = &head[before..];
        if read == 0 || line == b"\n" || line == b"\r\n" {
            return Ok(head);
        }
    }
}

/// Completes the head for sending. `from` is the setting's sender; `now` the
/// Date to add; `extract` is sendmail's `-t`.
pub(crate) fn prepare(
    head: &[u8],
    extra_recipients: &[String],
    extract: bool,
    from: &Mailbox,
    now: time::OffsetDateTime,
) -> Result<Prepared, SendError> {
    let text = String::from_utf8_lossy(head);
    // Header fields with their folded continuation lines, the blank line left out.
    let mut fields: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.is_empty() {
            break;
        }
        match fields.last_mut() {
            Some(field) if bare.starts_with([' ', '\t']) => {
                field.push_str("\r\n");
                field.push_str(bare);
            }
            _ => fields.push(bare.to_owned()),
        }
    }
    let name_of = |field: &str| field.split_once(':').map(|(name, _)| name.trim().to_ascii_lowercase());
    let value_of = |field: &str| field.split_once(':').map(|(_, value)| value.replace("\r\n", "")).unwrap_or_default();
    let mut recipients: Vec<String> =
        extra_recipients.iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
    if extract {
        for field in &fields {
            let Some(name) = name_of(field).filter(|n| matches!(n.as_str(), "to" | "cc" | "bcc")) else { continue };
            let value = value_of(field);
            if value.trim().is_empty() {
                continue;
            }
            let mailboxes: Mailboxes = value
                .parse()
                .map_err(|e| SendError::BadAddress { header: header_label(&name), reason: format!("{e}") })?;
            recipients.extend(mailboxes.into_iter().map(|mailbox| mailbox.email.to_string()));
        }
    }
    recipients.dedup();
    if recipients.is_empty() {
        return Err(SendError::NoRecipients);
    }
    let has = |wanted: &str| fields.iter().any(|field| name_of(field).as_deref() == Some(wanted));
    let mut out: Vec<String> = Vec::with_capacity(fields.len() + 3);
    if !has("from") {
        out.push(from_field(from));
    }
    if !has("date") {
        let date = now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
        out.push(format!("Date: {date}"));
    }
    if !has("message-id") {
        let domain = from.email.domain();
        out.push(format!("Message-ID: <{}@{domain}>", crate::probe::new_run_id()));
    }
    // Bcc is for the envelope only: the recipients must not see each other.
    out.extend(fields.into_iter().filter(|field| name_of(field).as_deref() != Some("bcc")));
    let mut head = String::with_capacity(out.iter().map(|f| f.len() + 2).sum::<usize>() + 2);
    for field in out {
        head.push_str(&field);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    Ok(Prepared { head: head.into_bytes(), recipients })
}

/// `From: …` as lettre encodes it (RFC 2047 for a name that is not ASCII).
fn from_field(from: &Mailbox) -> String {
    let formatted = lettre::Message::builder()
        .from(from.clone())
        .to(from.clone())
        .body(String::new())
        .map(|message| String::from_utf8_lossy(&message.formatted()).into_owned())
        .unwrap_or_default();
    let mut field = String::new();
    for line in formatted.split("\r\n") {
        if field.is_empty() {
            if line.starts_with("From: ") {
                field.push_str(line);
            }
        } else if line.starts_with([' ', '\t']) {
            field.push_str("\r\n");
            field.push_str(line);
        } else {
            break;
        }
    }
    if field.is_empty() { format!("From: <{}>", from.email) } else { field }
}

fn header_label(name: &str) -> String {
    match name {
        "to" => "To".to_owned(),
        "cc" => "Cc".to_owned(),
        _ => "Bcc".to_owned(),
    }
}

/// The sysexits code for a finished send.
pub(crate) fn exit_code(report: &Report) -> u8 {
    if report.passed {
        return EX_OK;
    }
    let Some(stage) = report.stages.iter().rev().find(|s| s.outcome == StageOutcome::Failed) else {
        return EX_UNAVAILABLE;
    };
    let reply = stage.server_reply.as_deref().unwrap_or_default();
    let failure = report.failure.unwrap_or(FailureKind::Unavailable);
    if failure == FailureKind::BadMessage {
        return EX_DATAERR;
    }
    if reply.starts_with('4') || reply.lines().any(|line| line.starts_with('4')) {
        return EX_TEMPFAIL;
    }
    if stage.name == StageName::Authentication || failure == FailureKind::Credentials {
        return EX_NOPERM;
    }
    if reply.starts_with('5') {
        return if reply.contains(" 5.7.") || reply.contains("-5.7.") {
            EX_NOPERM
        } else if reply.contains(" 5.1.") {
            EX_DATAERR
        } else {
            EX_UNAVAILABLE
        };
    }
    match failure {
        FailureKind::Temporary => EX_TEMPFAIL,
        _ => EX_UNAVAILABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Mailbox {
        "Acme AR Team <ar@example.com>".parse().unwrap()
    }

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-11-27 10:00 UTC)
    }

    #[test]
    fn the_head_stops_at_the_blank_line_and_the_body_stays_unread() {
        let mut input: &[u8] = b"Subject: hi\nTo: a@example.org\n\nbody line\n.\n";
        let head = read_head(&mut input).unwrap();
        assert_eq!(head, b"Subject: hi\nTo: a@example.org\n\n");
        assert_eq!(input, b"body line\n.\n");
        let mut no_body: &[u8] = b"Subject: only a head";
        assert_eq!(read_head(&mut no_body).unwrap(), b"Subject: only a head");
        let long = vec![b'x'; MAX_HEAD + 10];
        assert!(matches!(read_head(&mut long.as_slice()), Err(SendError::HeadTooLong)));
    }

    #[test]
    fn with_t_the_recipients_come_from_to_cc_and_bcc_and_bcc_is_removed() {
        let head = b"To: One <one@example.org>, two@example.org\r\nCc: three@example.org\r\nBcc: hidden@example.org,\r\n  also-hidden@example.org\r\nSubject: s\r\n\r\n";
        let prepared = prepare(head, &[], true, &sender(), now()).unwrap();
        assert_eq!(
            prepared.recipients,
            [
                "one@example.org",
                "two@example.org",
                "three@example.org",
                "hidden@example.org",
                "also-hidden@example.org"
            ]
        );
        let text = String::from_utf8(prepared.head).unwrap();
        // No Bcc header line (a random Message-ID may hold the letters "bcc": only headers count).
        assert!(!text.lines().any(|line| line.to_lowercase().starts_with("bcc")) && !text.contains("hidden"), "{text}");
        assert!(text.contains("To: One <one@example.org>, two@example.org\r\n"), "{text}");
        assert!(text.ends_with("Subject: s\r\n\r\n"), "{text}");
    }

    #[test]
    fn date_message_id_and_from_are_added_only_when_missing() {
        let prepared = prepare(b"Subject: s\n\n", &["x@example.org".into()], false, &sender(), now()).unwrap();
        let text = String::from_utf8(prepared.head).unwrap();
        assert!(
            text.starts_with("From: \"Acme AR Team\" <ar@example.com>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("Message-ID: <") && text.contains("@example.com>\r\n"), "{text}");
        let given = b"From: me@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <given@example.org>\n\n";
        let text = String::from_utf8(prepare(given, &["x@example.org".into()], false, &sender(), now()).unwrap().head)
            .unwrap();
        assert_eq!(
            text,
            "From: me@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <given@example.org>\r\n\r\n"
        );
    }

    #[test]
    fn a_name_that_is_not_ascii_is_encoded() {
        let from: Mailbox = "Société Générale AR <ar@example.com>".parse().unwrap();
        let text =
            String::from_utf8(prepare(b"\n", &["x@example.org".into()], false, &from, now()).unwrap().head).unwrap();
        assert!(text.starts_with("From: =?utf-8?"), "{text}");
        assert!(text.is_ascii());
    }

    #[test]
    fn no_recipients_or_a_bad_address_is_a_data_error() {
        assert!(matches!(prepare(b"Subject: s\n\n", &[], true, &sender(), now()), Err(SendError::NoRecipients)));
        let err = prepare(b"To: not an address\n\n", &[], true, &sender(), now()).unwrap_err();
        assert!(matches!(err, SendError::BadAddress { .. }), "{err:?}");
        assert!(err.to_string().starts_with("the To header"), "{err}");
    }
}
