//! The IMAP conversation the probe speaks itself, without a socket: the greeting,
//! CAPABILITY and STARTTLS before TLS, the choice of sign-in (never before TLS),
//! and XOAUTH2 for the bridge — lines in, commands and verdicts out. The imap crate
//! speaks the rest once the connection is encrypted; the driver is [`super::imap`].

use std::io::Read;

use super::error::ProbeError;
use super::inputs::{NotSent, SignIn};
use super::net;
use crate::secret::Secret;

/// A line longer than this is not IMAP a probe needs to read.
const MAX_LINE: usize = 16 * 1024;
/// Untagged lines before a tagged answer counts as endless.
const MAX_UNTAGGED: usize = 1000;
/// Lines read after AUTHENTICATE before the exchange counts as going nowhere.
const MAX_SASL_LINES: u8 = 3;

/// A refusal: what went wrong, and the server's words when it said any.
pub(crate) type Refusal = (ProbeError, Option<String>);

/// One line, without its line end, from anything readable: a socket, or a buffer.
pub(crate) fn read_text_line(stream: &mut impl Read) -> Result<String, ProbeError> {
    let line = net::read_line(stream, MAX_LINE).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            ProbeError::Garbage { protocol: "IMAP", text: e.to_string() }
        } else {
            ProbeError::from_io(&e)
        }
    })?;
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// The `* OK …` greeting, as text.
pub(crate) fn read_untagged_greeting(stream: &mut impl Read) -> Result<String, ProbeError> {
    let line = read_text_line(stream)?;
    if line.starts_with("* ") {
        Ok(line)
    } else {
        Err(ProbeError::Garbage { protocol: "IMAP", text: crate::printable::server_line(&line) })
    }
}

/// A greeting that turns the client away (`* BYE`, `* NO`).
pub(crate) fn greeting_refusal(text: &str) -> Option<ProbeError> {
    let upper = text.to_ascii_uppercase();
    (upper.starts_with("* BYE") || upper.starts_with("* NO")).then(|| ProbeError::Refused { reply: text.to_owned() })
}

/// `* OK [CAPABILITY IMAP4rev1 …] ready` → the capability words.
pub(crate) fn capabilities_in_greeting(text: &str) -> Option<Vec<String>> {
    let start = text.to_ascii_uppercase().find("[CAPABILITY ")? + "[CAPABILITY ".len();
    let rest = text.get(start..)?;
    let end = rest.find(']')?;
    Some(rest[..end].split_whitespace().map(str::to_owned).collect())
}

/// imap-proto's Debug names for capabilities, back to the words servers use.
pub(crate) fn capability_name(debug: &str) -> String {
    if let Some(inner) = debug.strip_prefix("Atom(\"").and_then(|s| s.strip_suffix("\")")) {
        inner.to_owned()
    } else if let Some(inner) = debug.strip_prefix("Auth(\"").and_then(|s| s.strip_suffix("\")")) {
        format!("AUTH={inner}")
    } else if debug == "Imap4rev1" {
        "IMAP4rev1".to_owned()
    } else {
        debug.to_owned()
    }
}

/// A tagged command as written.
pub(crate) fn tagged(tag: &str, command: &str) -> String {
    format!("{tag} {command}\r\n")
}

/// The untagged lines up to the tagged answer, and that answer's status and words.
pub(crate) fn read_tagged_answer(stream: &mut impl Read, tag: &str) -> Result<(Vec<String>, String), ProbeError> {
    let mut untagged = Vec::new();
    let prefix = format!("{tag} ");
    for _ in 0..MAX_UNTAGGED {
        let line = read_text_line(stream)?;
        if let Some(rest) = line.strip_prefix(&prefix) {
            return Ok((untagged, rest.to_owned()));
        }
        if !line.starts_with("* ") && !line.starts_with("+ ") {
            return Err(ProbeError::Garbage { protocol: "IMAP", text: crate::printable::server_line(&line) });
        }
        untagged.push(line);
    }
    Err(ProbeError::Garbage { protocol: "IMAP", text: format!("an answer of more than {MAX_UNTAGGED} lines") })
}

fn is_ok(status: &str) -> bool {
    status.get(..2).is_some_and(|ok| ok.eq_ignore_ascii_case("OK"))
}

/// CAPABILITY's answer → the capability words, or the refusal.
pub(crate) fn judge_capabilities(untagged: &[String], status: String) -> Result<Vec<String>, ProbeError> {
    if !is_ok(&status) {
        return Err(ProbeError::Refused { reply: status });
    }
    Ok(untagged
        .iter()
        .filter_map(|line| line.strip_prefix("* CAPABILITY "))
        .flat_map(|caps| caps.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect())
}

fn offers(capabilities: &[String], name: &str) -> bool {
    capabilities.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// Whether STARTTLS may be asked for.
pub(crate) fn starttls_offered(capabilities: &[String]) -> Result<(), ProbeError> {
    if offers(capabilities, "STARTTLS") { Ok(()) } else { Err(ProbeError::StarttlsNotOffered) }
}

/// STARTTLS's answer: go ahead (its words), or the refusal.
pub(crate) fn judge_starttls(status: String) -> Result<String, ProbeError> {
    if is_ok(&status) { Ok(status) } else { Err(ProbeError::Refused { reply: status }) }
}

/// How to sign in.
#[derive(Debug)]
pub(crate) enum SignInPlan<'a> {
    Login(&'a Secret),
    Xoauth2(&'a Secret),
}

/// LOGIN with a password or AUTHENTICATE XOAUTH2 with a token — only on an encrypted
/// connection, only what the server offers.
pub(crate) fn plan_sign_in<'a>(
    capabilities: &[String],
    sign_in: &'a SignIn,
    encrypted: bool,
) -> Result<SignInPlan<'a>, NotSent> {
    if let Some(withheld) = sign_in.withheld(encrypted) {
        return Err(withheld);
    }
    match sign_in {
        SignIn::Password(_) if offers(capabilities, "LOGINDISABLED") => Err(NotSent::NotOffered(ProbeError::Refused {
            reply: "LOGINDISABLED: the server does not accept passwords here".to_owned(),
        })),
        SignIn::Password(password) => Ok(SignInPlan::Login(password)),
        SignIn::Bearer(_) if !offers(capabilities, "AUTH=XOAUTH2") => {
            let offered: Vec<&str> =
                capabilities.iter().filter(|c| c.starts_with("AUTH=")).map(String::as_str).collect();
            Err(NotSent::NotOffered(ProbeError::NoUsableMechanism { offered: offered.join(", ") }))
        }
        SignIn::Bearer(token) => Ok(SignInPlan::Xoauth2(token)),
        SignIn::Missing(_) | SignIn::TokenUnavailable(_) | SignIn::Refused(_) => {
            Err(NotSent::Unusable(ProbeError::MissingCredentials("nothing to sign in with".to_owned()), None))
        }
    }
}

/// XOAUTH2's initial response: `user=…^Aauth=Bearer …^A^A` (base64 on the wire).
pub(crate) fn xoauth2_response(user: &str, token: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// AUTHENTICATE XOAUTH2 written by the probe (the bridge keeps the connection, which
/// the imap crate's session would not hand back), one line at a time.
pub(crate) struct Xoauth2Exchange {
    tag: &'static str,
    lines: u8,
    /// The server's error report (a `+` challenge), decoded.
    challenge: Option<String>,
}

/// What to do after a line of the exchange.
#[derive(Debug)]
pub(crate) enum SaslStep {
    /// Write this and hand over the next line.
    Say(String),
    /// An untagged line: read on.
    ReadOn,
    SignedIn,
    Refused(Refusal),
}

impl Xoauth2Exchange {
    /// The exchange and its command, the initial response in it (SASL-IR).
    pub(crate) fn start(user: &str, token: &Secret) -> (Self, zeroize::Zeroizing<String>) {
        use base64::Engine as _;
        let tag = "a1";
        let encoded = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(xoauth2_response(user, token.expose()).as_bytes()),
        );
        let command = zeroize::Zeroizing::new(tagged(tag, &format!("AUTHENTICATE XOAUTH2 {}", encoded.as_str())));
        (Self { tag, lines: 0, challenge: None }, command)
    }

    pub(crate) fn hear(&mut self, line: &str) -> SaslStep {
        self.lines += 1;
        if self.lines > MAX_SASL_LINES {
            return SaslStep::Refused((
                ProbeError::Garbage { protocol: "IMAP", text: "no answer to AUTHENTICATE".to_owned() },
                None,
            ));
        }
        if let Some(rest) = line.strip_prefix('+') {
            // A challenge after the initial response is the error report (JSON); the
            // client answers it with an empty line to receive the tagged refusal.
            self.challenge = Some(super::decode_base64(rest));
            return SaslStep::Say("\r\n".to_owned());
        }
        if let Some(status) = line.strip_prefix(self.tag).and_then(|rest| rest.strip_prefix(' ')) {
            if is_ok(status) {
                return SaslStep::SignedIn;
            }
            let base = ProbeError::Refused { reply: status.to_owned() };
            return SaslStep::Refused(match self.challenge.take() {
                Some(challenge) => {
                    let text = format!("{challenge}\n{base}");
                    (ProbeError::Refused { reply: format!("xoauth2 rejected: {text}") }, Some(text))
                }
                None => (base, Some(status.to_owned())),
            });
        }
        SaslStep::ReadOn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlooks_plain_greeting_capabilities_and_starttls_read_from_a_buffer() {
        let mut wire: &[u8] = b"* OK The Microsoft Exchange IMAP4 service is ready. [QgBOADkAUABSADAAMwBDAEEAMAAxADIAMwA=]\r\n\
            * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+ STARTTLS\r\n\
            c0 OK CAPABILITY completed.\r\n\
            c1 OK Begin TLS negotiation now.\r\n";
        let greeting = read_untagged_greeting(&mut wire).unwrap();
        assert!(greeting_refusal(&greeting).is_none() && capabilities_in_greeting(&greeting).is_none());
        assert_eq!(tagged("c0", "CAPABILITY"), "c0 CAPABILITY\r\n");
        let (untagged, status) = read_tagged_answer(&mut wire, "c0").unwrap();
        let capabilities = judge_capabilities(&untagged, status).unwrap();
        assert!(capabilities.contains(&"AUTH=XOAUTH2".to_owned()) && starttls_offered(&capabilities).is_ok());
        let (_, status) = read_tagged_answer(&mut wire, "c1").unwrap();
        assert_eq!(judge_starttls(status).unwrap(), "OK Begin TLS negotiation now.");
        // Before TLS, nothing is sent, whatever is offered.
        let token = SignIn::Bearer(Secret::new("eyJ0eXAi.token"));
        assert!(matches!(plan_sign_in(&capabilities, &token, false), Err(NotSent::NotEncrypted)));
        assert!(matches!(plan_sign_in(&capabilities, &token, true), Ok(SignInPlan::Xoauth2(_))));
    }

    #[test]
    fn gmails_greeting_carries_the_capabilities_and_a_refusal_is_told_apart() {
        let greeting = "* OK [CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY \
                        SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER] Gimap ready for \
                        requests from 203.0.113.7 a1mb123456";
        let capabilities = capabilities_in_greeting(greeting).unwrap();
        assert_eq!(capabilities.first().map(String::as_str), Some("IMAP4rev1"));
        assert!(capabilities.iter().any(|c| c == "AUTH=OAUTHBEARER"));
        let refused = "* BYE Too many simultaneous connections. (Failure)";
        assert!(matches!(greeting_refusal(refused), Some(ProbeError::Refused { .. })));
        assert!(greeting_refusal("* no later").is_some(), "a status is read without regard to case");
        // What is not IMAP is garbage, never a hang or a panic.
        for wire in ["220 smtp.example.com ESMTP\r\n", "HTTP/1.1 400 Bad Request\r\n"] {
            assert!(matches!(read_untagged_greeting(&mut wire.as_bytes()), Err(ProbeError::Garbage { .. })));
        }
        let endless = "* OK still here\r\n".repeat(MAX_UNTAGGED + 1);
        assert!(matches!(read_tagged_answer(&mut endless.as_bytes(), "c0"), Err(ProbeError::Garbage { .. })));
        assert!(matches!(
            judge_capabilities(&[], "NO [UNAVAILABLE] try later".to_owned()),
            Err(ProbeError::Refused { .. })
        ));
        assert!(matches!(starttls_offered(&capabilities), Err(ProbeError::StarttlsNotOffered)));
    }

    #[test]
    fn a_password_is_not_sent_where_the_server_disables_login_nor_a_token_where_xoauth2_is_missing() {
        let disabled = vec!["IMAP4rev1".to_owned(), "LOGINDISABLED".to_owned(), "AUTH=XOAUTH2".to_owned()];
        let password = SignIn::Password(Secret::new("hunter2"));
        let Err(NotSent::NotOffered(err)) = plan_sign_in(&disabled, &password, true) else { panic!("LOGINDISABLED") };
        assert!(err.to_string().contains("LOGINDISABLED"), "{err}");
        let plain_only = vec!["IMAP4rev1".to_owned(), "AUTH=PLAIN".to_owned()];
        assert!(matches!(plan_sign_in(&plain_only, &password, true), Ok(SignInPlan::Login(_))));
        let token = SignIn::Bearer(Secret::new("t"));
        let Err(NotSent::NotOffered(ProbeError::NoUsableMechanism { offered })) =
            plan_sign_in(&plain_only, &token, true)
        else {
            panic!("no XOAUTH2");
        };
        assert_eq!(offered, "AUTH=PLAIN");
        let missing = SignIn::Missing("no password is stored".to_owned());
        assert!(matches!(plan_sign_in(&plain_only, &missing, true), Err(NotSent::Unusable(..))));
    }

    #[test]
    fn the_bridges_xoauth2_exchange_keeps_the_servers_error_report() {
        let (mut exchange, command) = Xoauth2Exchange::start("ar@example.com", &Secret::new("ya29.token"));
        let encoded = command.strip_prefix("a1 AUTHENTICATE XOAUTH2 ").unwrap().trim_end();
        assert_eq!(super::super::decode_base64(encoded), "user=ar@example.com\u{1}auth=Bearer ya29.token\u{1}\u{1}");
        let challenge =
            "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
        assert!(matches!(exchange.hear(challenge), SaslStep::Say(answer) if answer == "\r\n"));
        let SaslStep::Refused((err, Some(words))) =
            exchange.hear("a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
        else {
            panic!("refused");
        };
        assert!(words.starts_with("{\"status\":\"400\"") && words.contains("Invalid credentials"), "{words}");
        assert!(err.to_string().contains("xoauth2 rejected"), "{err}");

        let (mut exchange, _) = Xoauth2Exchange::start("ar@example.com", &Secret::new("t"));
        assert!(matches!(exchange.hear("* CAPABILITY IMAP4rev1 IDLE"), SaslStep::ReadOn));
        assert!(matches!(exchange.hear("a1 OK AUTHENTICATE completed."), SaslStep::SignedIn));
        // A server that never answers the command does not keep the bridge reading.
        let (mut exchange, _) = Xoauth2Exchange::start("ar@example.com", &Secret::new("t"));
        for _ in 0..MAX_SASL_LINES {
            assert!(matches!(exchange.hear("* OK still thinking"), SaslStep::ReadOn));
        }
        assert!(matches!(exchange.hear("* OK still thinking"), SaslStep::Refused((ProbeError::Garbage { .. }, _))));
    }
}
