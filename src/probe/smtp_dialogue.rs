//! The SMTP conversation without a socket: what the client says next and what
//! each reply means — replies in, commands and verdicts out. The driver in
//! [`super::smtp`] owns the socket, the deadlines, TLS and the report's clock;
//! everything here runs on a buffer, and its tests replay the providers' own
//! replies verbatim.
//!
//! lettre supplies the pieces (command formatting, the SASL encoders, the reply
//! and EHLO parsers); the order of the conversation and the judgement of each
//! reply are here.

use std::io::Read;
use std::str::FromStr;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::commands::{Auth, Data, Ehlo, Mail, Quit, Rcpt, Starttls};
use lettre::transport::smtp::extension::{ClientId, Extension, ServerInfo};
use lettre::transport::smtp::response::Response;

use super::decode_base64;
use super::error::ProbeError;
use super::inputs::{NotSent, SignIn};
use super::net;
use crate::secret::Secret;

/// Longest reply line SMTP allows is 512 bytes; servers exceed it a little.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 200;
/// Challenges answered before a SASL exchange counts as going nowhere.
const MAX_SASL_ROUNDS: u8 = 3;

/// A refusal: what went wrong, and the server's words when it said any.
pub(crate) type Refusal = (ProbeError, Option<String>);

/// Reads one (possibly multi-line) reply from anything readable: a socket, or a buffer.
pub(crate) fn read_reply(stream: &mut impl Read) -> Result<Response, ProbeError> {
    let mut text = String::new();
    for _ in 0..MAX_LINES {
        let line = net::read_line(stream, MAX_LINE).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                ProbeError::Garbage { protocol: "SMTP", text: e.to_string() }
            } else {
                ProbeError::from_io(&e)
            }
        })?;
        let line = String::from_utf8_lossy(&line).into_owned();
        let bytes = line.as_bytes();
        let well_formed = bytes.len() >= 4
            && bytes[..3].iter().all(u8::is_ascii_digit)
            && matches!(bytes[3], b' ' | b'-' | b'\r' | b'\n');
        if !well_formed {
            return Err(ProbeError::Garbage { protocol: "SMTP", text: crate::printable::server_line(&line) });
        }
        let last = bytes[3] != b'-';
        text.push_str(&line);
        if last {
            return Response::from_str(&text).map_err(|e| ProbeError::Garbage {
                protocol: "SMTP",
                text: format!("{e}: {}", crate::printable::server_line(&text)),
            });
        }
    }
    Err(ProbeError::Garbage { protocol: "SMTP", text: format!("a reply of more than {MAX_LINES} lines") })
}

/// The reply as the server wrote it: `code text` per line.
pub(crate) fn reply_text(reply: &Response) -> String {
    let code = reply.code().to_string();
    let lines: Vec<String> = reply.message().map(|line| format!("{code} {line}")).collect();
    if lines.is_empty() { code } else { lines.join("\n") }
}

/// A reply's code as the number it is (250), compared as a number — never as text.
pub(crate) fn reply_code(reply: &Response) -> u16 {
    u16::from(reply.code())
}

/// `reply` when its code is `code`, else the refusal in the server's words.
pub(crate) fn expect(reply: Response, code: u16) -> Result<Response, Refusal> {
    if reply_code(&reply) == code { Ok(reply) } else { Err(refused(&reply)) }
}

fn refused(reply: &Response) -> Refusal {
    let text = reply_text(reply);
    (ProbeError::Refused { reply: text.clone() }, Some(text))
}

/// The greeting: 220 is "ready" (its words returned); anything else is a refusal.
pub(crate) fn judge_greeting(reply: &Response) -> Result<String, Refusal> {
    if reply_code(reply) == 220 { Ok(reply_text(reply)) } else { Err(refused(reply)) }
}

/// EHLO with the name the client gives itself.
pub(crate) fn ehlo(client_name: &str) -> String {
    Ehlo::new(ClientId::Domain(client_name.to_owned())).to_string()
}

pub(crate) fn starttls() -> String {
    Starttls.to_string()
}

/// The server's go-ahead for TLS (220), its words returned.
pub(crate) fn judge_starttls(reply: &Response) -> Result<String, Refusal> {
    judge_greeting(reply)
}

/// QUIT: sent without waiting for the goodbye, which says nothing a report needs.
pub(crate) fn quit() -> String {
    Quit.to_string()
}

/// What the server offers after EHLO.
#[derive(Debug, Clone)]
pub(crate) struct Capabilities {
    info: ServerInfo,
    /// The server takes MAIL, RCPT and DATA in one write (RFC 2920).
    pub(crate) pipelining: bool,
    /// The extensions as the server listed them, for the report.
    pub(crate) described: String,
}

impl Capabilities {
    pub(crate) fn from_ehlo(reply: &Response) -> Result<Self, ProbeError> {
        let text = reply_text(reply);
        if !reply.is_positive() {
            return Err(ProbeError::Refused { reply: text });
        }
        let info = ServerInfo::from_response(reply)
            .map_err(|e| ProbeError::Garbage { protocol: "SMTP", text: e.to_string() })?;
        let features: Vec<&str> =
            text.lines().skip(1).map(|l| l.get(4..).unwrap_or("").trim()).filter(|f| !f.is_empty()).collect();
        Ok(Self {
            info,
            pipelining: features.iter().any(|f| f.eq_ignore_ascii_case("PIPELINING")),
            described: if features.is_empty() { "no extensions".to_owned() } else { features.join(", ") },
        })
    }

    pub(crate) fn offers_starttls(&self) -> bool {
        self.info.supports_feature(Extension::StartTls)
    }

    fn offers(&self, mechanism: Mechanism) -> bool {
        self.info.supports_auth_mechanism(mechanism)
    }
}

/// The mechanism and secret to sign in with: only on an encrypted connection, only
/// a mechanism the server offers (PLAIN before LOGIN for a password, XOAUTH2 for a token).
pub(crate) fn plan_sign_in<'a>(
    offered: &Capabilities,
    sign_in: &'a SignIn,
    encrypted: bool,
) -> Result<(Mechanism, &'a Secret), NotSent> {
    if let Some(withheld) = sign_in.withheld(encrypted) {
        return Err(withheld);
    }
    let (mechanism, secret) = match sign_in {
        SignIn::Bearer(token) => (Mechanism::Xoauth2, token),
        SignIn::Password(password) => {
            (if offered.offers(Mechanism::Plain) { Mechanism::Plain } else { Mechanism::Login }, password)
        }
        SignIn::Missing(_) | SignIn::TokenUnavailable(_) | SignIn::Refused(_) => {
            return Err(NotSent::Unusable(ProbeError::MissingCredentials("nothing to sign in with".to_owned()), None));
        }
    };
    if !offered.offers(mechanism) {
        let names: Vec<String> = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
            .into_iter()
            .filter(|m| offered.offers(*m))
            .map(|m| m.to_string())
            .collect();
        let offered = if names.is_empty() { "no sign-in at all".to_owned() } else { names.join(", ") };
        return Err(NotSent::NotOffered(ProbeError::NoUsableMechanism { offered }));
    }
    Ok((mechanism, secret))
}

/// The SASL exchange after AUTH, one reply at a time.
pub(crate) struct Sasl {
    mechanism: Mechanism,
    credentials: Credentials,
    rounds: u8,
    /// XOAUTH2's error report, decoded, while the empty answer that ends it is out.
    xoauth2_error: Option<String>,
}

/// What to do after a reply in the SASL exchange.
#[derive(Debug)]
pub(crate) enum SaslStep {
    /// Write this and hand over the next reply.
    Say(String),
    /// Signed in; the server's words.
    SignedIn(String),
    Refused(Refusal),
}

impl Sasl {
    /// The exchange and its first command (AUTH with the initial response).
    pub(crate) fn start(mechanism: Mechanism, user: &str, secret: &Secret) -> Result<(Self, String), Refusal> {
        let credentials = Credentials::new(user.to_owned(), secret.expose().to_owned());
        let first =
            Auth::new(mechanism, credentials.clone(), None).map_err(|e| (ProbeError::Protocol(e.to_string()), None))?;
        Ok((Self { mechanism, credentials, rounds: 0, xoauth2_error: None }, first.to_string()))
    }

    pub(crate) fn hear(&mut self, reply: &Response) -> SaslStep {
        if let Some(report) = self.xoauth2_error.take() {
            let text = format!("{report}\n{}", reply_text(reply));
            return SaslStep::Refused((ProbeError::Refused { reply: format!("xoauth2 rejected: {text}") }, Some(text)));
        }
        if reply.has_code(334) && self.rounds < MAX_SASL_ROUNDS {
            self.rounds += 1;
            if self.mechanism == Mechanism::Xoauth2 {
                // A challenge after XOAUTH2 is the error report (JSON); the client must
                // answer with an empty line to receive the final reply.
                self.xoauth2_error = Some(reply.first_word().map(decode_base64).unwrap_or_default());
                return SaslStep::Say("\r\n".to_owned());
            }
            return match Auth::new_from_response(self.mechanism, self.credentials.clone(), reply) {
                Ok(next) => SaslStep::Say(next.to_string()),
                Err(e) => SaslStep::Refused((ProbeError::Protocol(e.to_string()), Some(reply_text(reply)))),
            };
        }
        if reply_code(reply) == 235 { SaslStep::SignedIn(reply_text(reply)) } else { SaslStep::Refused(refused(reply)) }
    }
}

/// MAIL, one RCPT per recipient and DATA, each with the code that accepts it.
pub(crate) fn envelope(from: Option<lettre::Address>, to: &[lettre::Address]) -> Vec<(String, u16)> {
    let mut commands = vec![(Mail::new(from, vec![]).to_string(), 250)];
    commands.extend(to.iter().map(|to| (Rcpt::new(to.clone(), vec![]).to_string(), 250)));
    commands.push((Data.to_string(), 354));
    commands
}

/// A refused envelope, and whether DATA was accepted all the same (pipelined, a
/// refused RCPT does not stop the server taking DATA: the data must then be ended
/// empty, or the server waits for it).
#[derive(Debug)]
pub(crate) struct EnvelopeRefused {
    pub(crate) refusal: Refusal,
    pub(crate) data_open: bool,
}

/// The replies to a pipelined envelope, in order: accepted, or its first refusal.
pub(crate) fn judge_pipelined(commands: &[(String, u16)], replies: Vec<Response>) -> Result<(), EnvelopeRefused> {
    let mut first = None;
    let mut data_open = false;
    for ((_, code), reply) in commands.iter().zip(replies) {
        if *code == 354 {
            data_open = reply_code(&reply) == 354;
        }
        if let Err(refusal) = expect(reply, *code) {
            first.get_or_insert(refusal);
        }
    }
    first.map_or(Ok(()), |refusal| Err(EnvelopeRefused { refusal, data_open }))
}

/// What ends an empty DATA (after a refused, pipelined envelope).
pub(crate) const END_OF_DATA: &str = ".\r\n";

/// A whole message as DATA sends it: dot-stuffed, ended by the end-of-data line.
pub(crate) fn data_of(formatted: &[u8]) -> Vec<u8> {
    let mut body = dot_stuff(formatted);
    if !body.ends_with(b"\r\n") {
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(END_OF_DATA.as_bytes());
    body
}

/// RFC 5321 transparency: a line starting with '.' gets another '.'.
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &byte in message {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    out
}

/// A message made fit for DATA as it streams: every line end CRLF — a bare LF and a
/// bare CR alike (some servers end a line at a bare CR, so a "\r." left alone could end
/// the data early: SMTP smuggling) — and a line starting with "." doubled.
#[derive(Debug)]
pub(crate) struct WireEncoder {
    at_line_start: bool,
    pending_cr: bool,
}

impl Default for WireEncoder {
    fn default() -> Self {
        Self { at_line_start: true, pending_cr: false }
    }
}

impl WireEncoder {
    pub(crate) fn encode(&mut self, input: &[u8], wire: &mut Vec<u8>) {
        for &byte in input {
            if std::mem::take(&mut self.pending_cr) {
                wire.extend_from_slice(b"\r\n");
                self.at_line_start = true;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\r' => self.pending_cr = true,
                b'\n' => {
                    wire.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                }
                _ => {
                    if self.at_line_start && byte == b'.' {
                        wire.push(b'.');
                    }
                    wire.push(byte);
                    self.at_line_start = false;
                }
            }
        }
    }

    /// The rest of a line, then the end-of-data marker.
    pub(crate) fn finish(&mut self, wire: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            wire.extend_from_slice(b"\r\n");
            self.at_line_start = true;
        }
        wire.extend_from_slice(if self.at_line_start { b".\r\n" } else { b"\r\n.\r\n" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reply in `wire`, read as the driver reads them from a socket.
    fn replies(wire: &str) -> Vec<Response> {
        let mut buffer = wire.as_bytes();
        let mut found = Vec::new();
        while !buffer.is_empty() {
            found.push(read_reply(&mut buffer).expect("a well-formed reply"));
        }
        found
    }

    fn one(wire: &str) -> Response {
        replies(wire).remove(0)
    }

    const OUTLOOK_BEFORE_TLS: &str = "250-BN9PR03CA0123.outlook.office365.com Hello [203.0.113.7]\r\n\
        250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n\
        250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n";
    const OUTLOOK_AFTER_TLS: &str = "250-BN9PR03CA0123.outlook.office365.com Hello [203.0.113.7]\r\n\
        250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH LOGIN XOAUTH2\r\n\
        250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n";

    #[test]
    fn outlooks_conversation_up_to_a_sign_in_refused_for_the_tenant() {
        let greeting = one("220 BN9PR03CA0123.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sat, 5 Dec \
                            2026 18:40:00 +0000\r\n");
        assert!(judge_greeting(&greeting).unwrap().contains("Microsoft ESMTP MAIL Service ready"));
        assert_eq!(ehlo("mailsettings.localhost"), "EHLO mailsettings.localhost\r\n");

        let before = Capabilities::from_ehlo(&one(OUTLOOK_BEFORE_TLS)).unwrap();
        assert!(before.offers_starttls() && before.pipelining);
        let password = SignIn::Password(Secret::new("hunter2"));
        // Before TLS, nothing is sent — whatever the server offers.
        assert!(matches!(plan_sign_in(&before, &password, false), Err(NotSent::NotEncrypted)));
        assert_eq!(starttls(), "STARTTLS\r\n");
        assert!(judge_starttls(&one("220 2.0.0 SMTP server ready\r\n")).is_ok());

        let after = Capabilities::from_ehlo(&one(OUTLOOK_AFTER_TLS)).unwrap();
        assert!(!after.offers_starttls());
        assert!(after.described.contains("AUTH LOGIN XOAUTH2"), "{}", after.described);
        // Outlook offers no PLAIN: a password goes by LOGIN, a token by XOAUTH2.
        let (mechanism, _) = plan_sign_in(&after, &password, true).unwrap();
        assert_eq!(mechanism, Mechanism::Login);
        let token = SignIn::Bearer(Secret::new("eyJ0eXAi.token"));
        let (mechanism, secret) = plan_sign_in(&after, &token, true).unwrap();
        assert_eq!(mechanism, Mechanism::Xoauth2);

        let (mut exchange, first) = Sasl::start(mechanism, "ar@contoso.com", secret).unwrap();
        let encoded = first.strip_prefix("AUTH XOAUTH2 ").expect("the initial response in the first line");
        assert_eq!(decode_base64(encoded), "user=ar@contoso.com\u{1}auth=Bearer eyJ0eXAi.token\u{1}\u{1}");
        let refused = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. \
                       Visit https://aka.ms/smtp_auth_disabled for more information.\r\n";
        let SaslStep::Refused((ProbeError::Refused { reply }, Some(words))) = exchange.hear(&one(refused)) else {
            panic!("a 535 is a refusal");
        };
        assert!(reply.contains("SmtpClientAuthentication is disabled for the Tenant") && words == reply, "{reply}");
    }

    #[test]
    fn a_password_by_login_answers_each_challenge_and_stops_after_three() {
        let offered = Capabilities::from_ehlo(&one("250-mx.example.com\r\n250 AUTH LOGIN\r\n")).unwrap();
        let password = SignIn::Password(Secret::new("hunter2"));
        let (mechanism, secret) = plan_sign_in(&offered, &password, true).unwrap();
        let (mut exchange, first) = Sasl::start(mechanism, "ar@example.com", secret).unwrap();
        assert_eq!(first, "AUTH LOGIN\r\n");
        let SaslStep::Say(user) = exchange.hear(&one("334 VXNlcm5hbWU6\r\n")) else { panic!("asked for the user") };
        assert_eq!(decode_base64(&user), "ar@example.com");
        let SaslStep::Say(pass) = exchange.hear(&one("334 UGFzc3dvcmQ6\r\n")) else { panic!("asked for the password") };
        assert_eq!(decode_base64(&pass), "hunter2");
        let SaslStep::SignedIn(words) = exchange.hear(&one("235 2.7.0 Authentication successful\r\n")) else {
            panic!("235 signs in");
        };
        assert_eq!(words, "235 2.7.0 Authentication successful");

        // A server that keeps asking does not keep the client answering.
        let (mut exchange, _) = Sasl::start(Mechanism::Login, "ar@example.com", secret).unwrap();
        for _ in 0..MAX_SASL_ROUNDS {
            assert!(matches!(exchange.hear(&one("334 VXNlcm5hbWU6\r\n")), SaslStep::Say(_)));
        }
        assert!(matches!(exchange.hear(&one("334 VXNlcm5hbWU6\r\n")), SaslStep::Refused(_)));
    }

    #[test]
    fn gmails_xoauth2_error_report_is_answered_empty_and_kept_with_the_refusal() {
        let (mut exchange, _) = Sasl::start(Mechanism::Xoauth2, "ar@example.com", &Secret::new("ya29.token")).unwrap();
        let challenge =
            "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n";
        let SaslStep::Say(answer) = exchange.hear(&one(challenge)) else { panic!("the report is answered") };
        assert_eq!(answer, "\r\n");
        let last = "535-5.7.8 Username and Password not accepted. For more information, go to\r\n\
                    535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-20020a170902\r\n";
        let SaslStep::Refused((err, Some(words))) = exchange.hear(&one(last)) else { panic!("refused") };
        assert!(words.starts_with("{\"status\":\"400\",\"schemes\":\"Bearer\""), "{words}");
        assert!(words.contains("535 5.7.8 Username and Password not accepted"), "{words}");
        assert!(err.to_string().contains("xoauth2 rejected"), "{err}");
    }

    #[test]
    fn a_pipelined_envelope_is_judged_in_order_and_an_open_data_is_known() {
        let from: lettre::Address = "ar@example.com".parse().unwrap();
        let to: Vec<lettre::Address> =
            vec!["nobody@example.org".parse().unwrap(), "admin@example.org".parse().unwrap()];
        let commands = envelope(Some(from), &to);
        let said: Vec<&str> = commands.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            said,
            [
                "MAIL FROM:<ar@example.com>\r\n",
                "RCPT TO:<nobody@example.org>\r\n",
                "RCPT TO:<admin@example.org>\r\n",
                "DATA\r\n"
            ]
        );
        let accepted = replies(
            "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n",
        );
        assert!(judge_pipelined(&commands, accepted).is_ok());
        // Outlook refuses one recipient and still opens DATA: the data must be ended.
        let outlook = replies(
            "250 2.1.0 Sender OK\r\n550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@example.org not found \
             by SMTP address lookup\r\n250 2.1.5 Recipient OK\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n",
        );
        let refused = judge_pipelined(&commands, outlook).unwrap_err();
        assert!(refused.data_open);
        assert!(refused.refusal.1.unwrap().starts_with("550 5.1.10 RESOLVER.ADR.RecipientNotFound"));
        // Postfix refuses DATA too: nothing to end.
        let postfix = replies(
            "250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown\r\n\
             550 5.1.1 <admin@example.org>: Recipient address rejected: User unknown\r\n554 5.5.1 Error: no valid recipients\r\n",
        );
        let refused = judge_pipelined(&commands, postfix).unwrap_err();
        assert!(!refused.data_open && refused.refusal.1.unwrap().contains("nobody@example.org"));
    }

    #[test]
    fn what_is_not_smtp_is_garbage_and_a_reply_cannot_grow_without_bound() {
        for wire in ["HTTP/1.1 400 Bad Request\r\n", "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", "25\r\n"] {
            let err = read_reply(&mut wire.as_bytes()).unwrap_err();
            assert!(matches!(err, ProbeError::Garbage { protocol: "SMTP", .. }), "{wire}: {err:?}");
        }
        let endless = "250-more\r\n".repeat(MAX_LINES + 1);
        assert!(matches!(read_reply(&mut endless.as_bytes()), Err(ProbeError::Garbage { .. })));
        // A reply cut off is an I/O end, not a hang.
        assert!(read_reply(&mut "250-first line\r\n".as_bytes()).is_err());
        // A refused greeting and a refused EHLO keep the server's words.
        let (err, words) = judge_greeting(&one("554 5.7.1 Service unavailable; client host blocked\r\n")).unwrap_err();
        assert!(matches!(err, ProbeError::Refused { .. }) && words.unwrap().contains("client host blocked"));
        assert!(Capabilities::from_ehlo(&one("502 5.5.2 Error: command not recognized\r\n")).is_err());
    }

    #[test]
    fn a_sign_in_with_nothing_to_send_or_no_shared_mechanism_sends_nothing() {
        let plain_only = Capabilities::from_ehlo(&one("250-mx.example.com\r\n250 AUTH PLAIN\r\n")).unwrap();
        let token = SignIn::Bearer(Secret::new("t"));
        let Err(NotSent::NotOffered(ProbeError::NoUsableMechanism { offered })) =
            plan_sign_in(&plain_only, &token, true)
        else {
            panic!("XOAUTH2 is not offered");
        };
        assert_eq!(offered, "PLAIN");
        let missing = SignIn::Missing("no password is stored".to_owned());
        assert!(matches!(plan_sign_in(&plain_only, &missing, true), Err(NotSent::Unusable(..))));
        let none = Capabilities::from_ehlo(&one("250 mx.example.com\r\n")).unwrap();
        let Err(NotSent::NotOffered(err)) = plan_sign_in(&none, &SignIn::Password(Secret::new("p")), true) else {
            panic!("no AUTH at all");
        };
        assert!(err.to_string().contains("no sign-in at all"), "{err}");
    }

    #[test]
    fn a_whole_message_is_dot_stuffed_and_ended_once() {
        assert_eq!(data_of(b"Subject: x\r\n\r\n.hidden\r\nend"), b"Subject: x\r\n\r\n..hidden\r\nend\r\n.\r\n");
        assert_eq!(data_of(b"line\r\n"), b"line\r\n.\r\n");
    }

    fn on_the_wire(chunks: &[&[u8]]) -> Vec<u8> {
        let (mut encoder, mut wire) = (WireEncoder::default(), Vec::new());
        for chunk in chunks {
            encoder.encode(chunk, &mut wire);
        }
        encoder.finish(&mut wire);
        wire
    }

    #[test]
    fn every_line_end_is_crlf_and_a_bare_cr_cannot_smuggle_an_end_of_data() {
        assert_eq!(on_the_wire(&[b"a\nb\r\n"]), b"a\r\nb\r\n.\r\n");
        // A bare CR before "." is a line end too: the dot is doubled, the data goes on.
        assert_eq!(
            on_the_wire(&[b"x\r.\r\nMAIL FROM:<evil@example.com>"]),
            b"x\r\n..\r\nMAIL FROM:<evil@example.com>\r\n.\r\n"
        );
        // Split across reads: CR at the end of one, LF at the start of the next.
        assert_eq!(on_the_wire(&[b"one\r", b"\n.two"]), b"one\r\n..two\r\n.\r\n");
        assert_eq!(on_the_wire(&[b"end\r"]), b"end\r\n.\r\n");
        assert_eq!(on_the_wire(&[b""]), b".\r\n");
    }
    #[test]
    fn dot_stuffing_protects_lines_starting_with_a_dot() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n..c\r\n"), b"a\r\n..b\r\n...c\r\n".to_vec());
        assert_eq!(dot_stuff(b".x"), b"..x".to_vec());
    }
}
