//! What an IMAP server says back, as a report keeps it: a refusal with its status,
//! response code and words, the untagged lines before it (an unlock link, a limit),
//! and XOAUTH2's error challenge — for the IMAP probe.

use std::cell::RefCell;

use super::error::ProbeError;
use super::net::GuardedStream;

/// SASL XOAUTH2 for the imap crate. A second challenge is the server's error
/// report; it is kept and answered with an empty response, as the mechanism requires.
pub(super) struct XOAuth2<'a> {
    pub(super) user: &'a str,
    pub(super) token: &'a str,
    pub(super) challenge: RefCell<Option<String>>,
}

impl imap::Authenticator for XOAuth2<'_> {
    type Response = zeroize::Zeroizing<String>;

    fn process(&self, challenge: &[u8]) -> Self::Response {
        if challenge.is_empty() {
            super::imap_dialogue::xoauth2_response(self.user, self.token)
        } else {
            *self.challenge.borrow_mut() = Some(String::from_utf8_lossy(challenge).into_owned());
            zeroize::Zeroizing::new(String::new())
        }
    }
}

/// A refused sign-in with everything the server said about it: the XOAUTH2 challenge
/// (its JSON error), and the untagged lines it sent before the tagged refusal —
/// `* NO [WEBALERT https://…]` (the unlock link), `* NO [ALERT] Too many simultaneous
/// connections` — which the IMAP library reads past: taken from what the stream heard.
pub(super) fn with_server_notes(
    err: &imap::Error,
    client: imap::Client<GuardedStream>,
    challenge: Option<String>,
) -> (ProbeError, Option<String>) {
    let notes = client.into_inner().map(|stream| untagged_notes(stream.heard())).unwrap_or_default();
    let base = imap_error(err);
    let rejected_token = challenge.is_some();
    let said: Vec<String> = notes.iter().cloned().chain(challenge).collect();
    if said.is_empty() {
        return (base, None);
    }
    let text = format!("{}\n{base}", said.join("\n"));
    let error = match base {
        _ if rejected_token => ProbeError::Refused { reply: format!("xoauth2 rejected: {text}") },
        ProbeError::Refused { reply } => {
            ProbeError::Refused { reply: format!("{reply} — the server also said: {}", notes.join(" | ")) }
        }
        other => other,
    };
    (error, Some(text))
}

/// The untagged lines of a refusal worth keeping: `* NO`, `* BAD`, `* BYE`, and any with
/// an `[ALERT]` or `[WEBALERT …]` (the last few, printable and bounded).
fn untagged_notes(heard: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(heard);
    let notes: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with("* "))
        .filter(|line| {
            let upper = line.to_ascii_uppercase();
            ["* NO", "* BAD", "* BYE"].iter().any(|status| upper.starts_with(status))
                || upper.contains("[ALERT]")
                || upper.contains("[WEBALERT")
        })
        .map(crate::printable::server_line)
        .collect();
    notes[notes.len().saturating_sub(5)..].to_vec()
}

/// imap errors as probe errors, keeping the server's words.
pub(super) fn imap_error(err: &imap::Error) -> ProbeError {
    match err {
        imap::Error::No(no) => refusal("NO", no.code.as_ref(), &no.information),
        imap::Error::Bad(bad) => refusal("BAD", bad.code.as_ref(), &bad.information),
        imap::Error::Bye(bye) => refusal("BYE", bye.code.as_ref(), &bye.information),
        imap::Error::Io(io) => match ProbeError::from_io(io) {
            ProbeError::Io(text) if io.kind() == std::io::ErrorKind::InvalidData => {
                ProbeError::Garbage { protocol: "IMAP", text }
            }
            other => other,
        },
        imap::Error::ConnectionLost => ProbeError::Io("the server closed the connection".to_owned()),
        imap::Error::Parse(parse) => {
            ProbeError::Garbage { protocol: "IMAP", text: crate::printable::server_line(&parse.to_string()) }
        }
        other => ProbeError::Protocol(other.to_string()),
    }
}

/// A tagged NO/BAD/BYE as the server said it: status, response code, the server's words.
pub(crate) fn refusal(status: &str, code: Option<&imap_proto::ResponseCode<'_>>, information: &str) -> ProbeError {
    let code = code.map(|c| format!("[{}] ", wire_code(c))).unwrap_or_default();
    ProbeError::Refused { reply: format!("{status} {code}{information}") }
}

/// A response code as IMAP writes it ("ALERT", "UIDVALIDITY 3") — the parser keeps only
/// its meaning, and a report shows the server's words, not a Rust name for them.
pub(super) fn wire_code(code: &imap_proto::ResponseCode<'_>) -> String {
    use imap_proto::ResponseCode as Code;
    let uids = |set: &[imap_proto::UidSetMember]| {
        set.iter()
            .map(|member| match member {
                imap_proto::UidSetMember::Uid(uid) => uid.to_string(),
                imap_proto::UidSetMember::UidRange(range) => format!("{}:{}", range.start(), range.end()),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    match code {
        Code::Alert => "ALERT".to_owned(),
        Code::BadCharset(None) => "BADCHARSET".to_owned(),
        Code::BadCharset(Some(sets)) => format!("BADCHARSET ({})", sets.join(" ")),
        Code::Capabilities(capabilities) => {
            let names = capabilities.iter().map(|capability| match capability {
                imap_proto::Capability::Imap4rev1 => "IMAP4rev1".to_owned(),
                imap_proto::Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
                imap_proto::Capability::Atom(atom) => atom.to_string(),
            });
            std::iter::once("CAPABILITY".to_owned()).chain(names).collect::<Vec<_>>().join(" ")
        }
        Code::HighestModSeq(value) => format!("HIGHESTMODSEQ {value}"),
        Code::Parse => "PARSE".to_owned(),
        Code::PermanentFlags(flags) => format!("PERMANENTFLAGS ({})", flags.join(" ")),
        Code::ReadOnly => "READ-ONLY".to_owned(),
        Code::ReadWrite => "READ-WRITE".to_owned(),
        Code::TryCreate => "TRYCREATE".to_owned(),
        Code::UidNext(value) => format!("UIDNEXT {value}"),
        Code::UidValidity(value) => format!("UIDVALIDITY {value}"),
        Code::Unseen(value) => format!("UNSEEN {value}"),
        Code::AppendUid(validity, set) => format!("APPENDUID {validity} {}", uids(set)),
        Code::CopyUid(validity, from, to) => format!("COPYUID {validity} {} {}", uids(from), uids(to)),
        Code::UidNotSticky => "UIDNOTSTICKY".to_owned(),
        Code::MetadataLongEntries(value) => format!("METADATA LONGENTRIES {value}"),
        Code::MetadataMaxSize(value) => format!("METADATA MAXSIZE {value}"),
        Code::MetadataTooMany => "METADATA TOOMANY".to_owned(),
        Code::MetadataNoPrivate => "METADATA NOPRIVATE".to_owned(),
        // A code a newer parser knows: its name, as near to the wire as can be said.
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}
