//! Test Outgoing, and sending a message for `mailsettings send`: one SMTP
//! session, every step a stage.
//!
//! lettre builds the messages and supplies the SMTP pieces (command
//! formatting, the SASL encoders, the reply parser, the EHLO capability
//! parser). The dialogue itself is driven here, because lettre's
//! `SmtpConnection::connect` performs TCP, TLS, greeting and EHLO in one call
//! and cannot be cancelled from another thread, which would make a staged
//! diagnosis and the Cancel button impossible.

use std::io::{Read, Write};
use std::str::FromStr;
use std::time::{Duration, Instant};

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::commands::{Auth, Data, Ehlo, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, ServerInfo};
use lettre::transport::smtp::response::Response;

use super::diagnose::Protocol;
use super::error::ProbeError;
use super::inputs::{OutgoingInput, SignIn};
use super::net::{self, GuardedStream};
use super::report::{ProbeKind, Report, StageName};
use super::{ProbeOptions, Run, new_run_id, open, start_tls};
use crate::cancel::CancelToken;
use crate::model::Security;

/// The header that carries a test run's id, so the round trip can find its message.
#[derive(Debug, Clone)]
pub struct RunHeader(pub String);

pub const RUN_HEADER: &str = "X-Mailsettings-Run";

impl Header for RunHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(RUN_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// A message ready for the wire.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message: Message,
}

/// The two messages of Test Outgoing: a plain one from the send-as address,
/// and one shaped like the automation's own mail (Subject Tag first,
/// Reply-To the incoming mailbox, text and HTML parts).
pub(crate) fn test_messages(input: &OutgoingInput, recipient: &str, run_id: &str) -> Result<Vec<Outgoing>, String> {
    let from = sender(input)?;
    let to: Mailbox = recipient.trim().parse().map_err(|e| format!("\"{recipient}\" is not an e-mail address: {e}"))?;
    let plain = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(format!("Mail Settings test 1 of 2 ({})", short(run_id)))
        .header(RunHeader(run_id.to_owned()))
        .body(format!(
            "This is a test message from Mail Settings.\r\n\r\nIt was sent through {}:{} as {} for the mail setting \
             \"{}\".\r\nTest run: {run_id}\r\n",
            input.endpoint.host, input.endpoint.port, input.user, input.setting_id
        ))
        .map_err(|e| e.to_string())?;
    let mut automation = Message::builder()
        .from(from)
        .to(to)
        .subject(format!("{} Test message 2 of 2 ({})", input.subject_tag, short(run_id)))
        .header(RunHeader(run_id.to_owned()));
    if let Ok(reply_to) = input.reply_to.parse::<Mailbox>() {
        automation = automation.reply_to(reply_to);
    }
    let text = format!(
        "This message is shaped like the mail your receivables automation sends: the subject starts with the \
         Subject Tag and replies go to {}.\r\n\r\nTest run: {run_id}\r\n",
        input.reply_to
    );
    let html = format!(
        "<html><body><p>This message is shaped like the mail your receivables automation sends: the subject starts \
         with the Subject Tag and replies go to <b>{}</b>.</p><p>Test run: {run_id}</p></body></html>",
        html_escape(&input.reply_to)
    );
    let automation = automation.multipart(MultiPart::alternative_plain_html(text, html)).map_err(|e| e.to_string())?;
    Ok(vec![Outgoing { message: plain }, Outgoing { message: automation }])
}

/// The round trip's message: to the incoming mailbox, tagged with the run id.
pub(crate) fn roundtrip_message(input: &OutgoingInput, recipient: &str, run_id: &str) -> Result<Outgoing, String> {
    let to: Mailbox = recipient.parse().map_err(|e| format!("\"{recipient}\" is not an e-mail address: {e}"))?;
    let message = Message::builder()
        .from(sender(input)?)
        .to(to)
        .subject(format!("{} Mail Settings round trip ({})", input.subject_tag, short(run_id)))
        .header(RunHeader(run_id.to_owned()))
        .body(format!("Round-trip test from Mail Settings. Test run: {run_id}\r\n"))
        .map_err(|e| e.to_string())?;
    Ok(Outgoing { message })
}

fn sender(input: &OutgoingInput) -> Result<Mailbox, String> {
    let address =
        input.send_as.parse().map_err(|e| format!("the send-as address \"{}\" is not valid: {e}", input.send_as))?;
    let name = (!input.from_name.is_empty()).then(|| input.from_name.clone());
    Ok(Mailbox::new(name, address))
}

fn short(run_id: &str) -> &str {
    run_id.get(..8).unwrap_or(run_id)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Test Outgoing: both test messages to `recipient`, in one session.
pub fn test_outgoing(input: &OutgoingInput, recipient: &str, options: &ProbeOptions, cancel: &CancelToken) -> Report {
    let run_id = new_run_id();
    let mut run = Run::new(
        ProbeKind::Outgoing,
        &input.setting_id,
        Protocol::Smtp,
        &input.endpoint,
        &input.user,
        input.redactor(),
    );
    run.report.fact("Test run", run_id.clone());
    run.report.fact("Recipient", recipient.trim().to_owned());
    let messages = match test_messages(input, recipient, &run_id) {
        Ok(messages) => messages,
        Err(reason) => {
            run.failed(StageName::Send, Instant::now(), &ProbeError::Protocol(reason), None);
            return run.finish();
        }
    };
    send_in_one_session(&mut run, input, &messages, options, cancel);
    run.finish()
}

/// Opens a session, signs in, sends `messages`, quits. Returns whether all were accepted.
pub(crate) fn send_in_one_session(
    run: &mut Run,
    input: &OutgoingInput,
    messages: &[Outgoing],
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> bool {
    let Some(mut session) = Session::establish(run, options, cancel) else {
        return false;
    };
    if !session.authenticate(run, input, options) {
        session.quit(options);
        return false;
    }
    let sent = session.send(run, messages, options);
    session.quit(options);
    sent
}

/// Sends one message read from `message` (RFC 5322; LF or CRLF line ends) from
/// `envelope_from` to `recipients`, signing in as Test Outgoing does. The message
/// is streamed — line ends made CRLF and lines starting with '.' escaped on the
/// way — so a large one is never held whole.
pub(crate) fn relay_message(
    input: &OutgoingInput,
    envelope_from: &str,
    recipients: &[String],
    message: &mut dyn Read,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Report {
    let mut run =
        Run::new(ProbeKind::Send, &input.setting_id, Protocol::Smtp, &input.endpoint, &input.user, input.redactor());
    let started = Instant::now();
    let addresses = std::iter::once(envelope_from)
        .chain(recipients.iter().map(String::as_str))
        .map(|address| {
            address
                .trim()
                .parse::<lettre::Address>()
                .map_err(|e| format!("\"{}\" is not an e-mail address: {e}", address.trim()))
        })
        .collect::<Result<Vec<_>, _>>();
    let (from, to) = match addresses {
        Ok(mut addresses) if addresses.len() > 1 => {
            let from = addresses.remove(0);
            (from, addresses)
        }
        Ok(_) => {
            run.failed(StageName::Send, started, &ProbeError::BadMessage("no recipients".to_owned()), None);
            return run.finish();
        }
        Err(reason) => {
            run.failed(StageName::Send, started, &ProbeError::BadMessage(reason), None);
            return run.finish();
        }
    };
    run.report.fact("Recipients", recipients.join(", "));
    let Some(mut session) = Session::establish(&mut run, options, cancel) else {
        return run.finish();
    };
    if !session.authenticate(&mut run, input, options) {
        session.quit(options);
        return run.finish();
    }
    let started = Instant::now();
    let sent = session.open_data(Some(from), &to, options).and_then(|()| session.stream_body(message, options));
    match sent {
        Ok((reply, bytes)) => {
            let detail = format!("accepted for {} ({bytes} bytes)", recipients.join(", "));
            run.passed(StageName::Send, started, &detail, Some(&reply));
        }
        Err((err, reply)) => run.failed(StageName::Send, started, &err, reply.as_deref()),
    }
    session.quit(options);
    run.finish()
}

/// Signs in for sending and quits — no message. What a scheduled check asks of every
/// mailbox: the commonest way a working mailbox stops sending is a sign-in refused
/// (SMTP AUTH switched off for it, Basic authentication retired), which a check of
/// the incoming side alone never sees.
pub(crate) fn test_sign_in(input: &OutgoingInput, options: &ProbeOptions, cancel: &CancelToken) -> Report {
    let mut run = Run::new(
        ProbeKind::SendingSignIn,
        &input.setting_id,
        Protocol::Smtp,
        &input.endpoint,
        &input.user,
        input.redactor(),
    );
    if let Some(mut session) = Session::establish(&mut run, options, cancel) {
        session.authenticate(&mut run, input, options);
        session.quit(options);
    }
    run.finish()
}

/// Connects and signs in as Test Outgoing does — the same stages, deadlines and
/// diagnosis — and hands the signed-in connection over for a program's session
/// to be passed through (the bridge). On failure, the staged report.
pub(crate) fn sign_in_to_pass_through(
    input: &OutgoingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<super::SignedIn, Box<Report>> {
    let mut run =
        Run::new(ProbeKind::Bridge, &input.setting_id, Protocol::Smtp, &input.endpoint, &input.user, input.redactor());
    let Some(mut session) = Session::establish(&mut run, options, cancel) else {
        return Err(Box::new(run.finish()));
    };
    if !session.authenticate(&mut run, input, options) {
        session.quit(options);
        return Err(Box::new(run.finish()));
    }
    super::SignedIn::from_stream(session.stream, run)
}

/// A message made fit for DATA as it streams: every line end CRLF — a bare LF and a
/// bare CR alike (some servers end a line at a bare CR, so a "\r." left alone could end
/// the data early: SMTP smuggling) — and a line starting with "." doubled.
#[derive(Debug)]
struct WireEncoder {
    at_line_start: bool,
    pending_cr: bool,
}

impl Default for WireEncoder {
    fn default() -> Self {
        Self { at_line_start: true, pending_cr: false }
    }
}

impl WireEncoder {
    fn encode(&mut self, input: &[u8], wire: &mut Vec<u8>) {
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
    fn finish(&mut self, wire: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            wire.extend_from_slice(b"\r\n");
            self.at_line_start = true;
        }
        wire.extend_from_slice(if self.at_line_start { b".\r\n" } else { b"\r\n.\r\n" });
    }
}

struct Session {
    stream: GuardedStream,
    info: ServerInfo,
    /// The server takes MAIL, RCPT and DATA in one write (RFC 2920).
    pipelining: bool,
}

impl Session {
    fn establish(run: &mut Run, options: &ProbeOptions, cancel: &CancelToken) -> Option<Self> {
        let mut stream = open(run, options, cancel)?;
        let started = Instant::now();
        let greeting = match read_greeting(&mut stream, run, options, cancel) {
            Ok(reply) => reply,
            Err(err) => {
                run.failed(StageName::Greeting, started, &err, None);
                return None;
            }
        };
        let greeting_text = reply_text(&greeting);
        if reply_code(&greeting) != 220 {
            run.failed(
                StageName::Greeting,
                started,
                &ProbeError::Refused { reply: greeting_text.clone() },
                Some(&greeting_text),
            );
            return None;
        }
        run.passed(StageName::Greeting, started, "the server is ready", Some(&greeting_text));
        let mut session = Self { stream, info: ServerInfo::default(), pipelining: false };
        if !session.ehlo(run, options) {
            return None;
        }
        if run.endpoint.security == Security::Starttls {
            let started = Instant::now();
            if !session.info.supports_feature(Extension::StartTls) {
                run.failed(StageName::Starttls, started, &ProbeError::StarttlsNotOffered, None);
                return None;
            }
            match session.command(&lettre::transport::smtp::commands::Starttls.to_string(), options) {
                Ok(reply) if reply_code(&reply) == 220 => {
                    run.passed(StageName::Starttls, started, "the server agreed to encrypt", Some(&reply_text(&reply)));
                }
                Ok(reply) => {
                    let text = reply_text(&reply);
                    run.failed(StageName::Starttls, started, &ProbeError::Refused { reply: text.clone() }, Some(&text));
                    return None;
                }
                Err(err) => {
                    run.failed(StageName::Starttls, started, &err, None);
                    return None;
                }
            }
            if !start_tls(run, &mut session.stream, options) || !session.ehlo(run, options) {
                return None;
            }
        }
        Some(session)
    }

    fn ehlo(&mut self, run: &mut Run, options: &ProbeOptions) -> bool {
        let started = Instant::now();
        let command = Ehlo::new(ClientId::Domain(options.client_name.clone())).to_string();
        let result = self.command(&command, options).and_then(|reply| {
            if reply.is_positive() {
                ServerInfo::from_response(&reply)
                    .map(|info| (info, reply_text(&reply)))
                    .map_err(|e| ProbeError::Garbage { protocol: "SMTP", text: e.to_string() })
            } else {
                Err(ProbeError::Refused { reply: reply_text(&reply) })
            }
        });
        match result {
            Ok((info, text)) => {
                let detail = format!("offers {}", describe_features(&text));
                run.passed(StageName::Capabilities, started, &detail, None);
                self.info = info;
                self.pipelining = text
                    .lines()
                    .skip(1)
                    .any(|line| line.get(4..).is_some_and(|f| f.trim().eq_ignore_ascii_case("PIPELINING")));
                true
            }
            Err(err) => {
                run.failed(StageName::Capabilities, started, &err, None);
                false
            }
        }
    }

    fn authenticate(&mut self, run: &mut Run, input: &OutgoingInput, options: &ProbeOptions) -> bool {
        let started = Instant::now();
        if !self.stream.is_tls() {
            let err = ProbeError::Protocol(
                "the connection is not encrypted, so the credentials were not sent (choose Start TLS or TLS on connect)"
                    .to_owned(),
            );
            run.failed(StageName::Authentication, started, &err, None);
            return false;
        }
        if let Some((err, diagnosis)) = input.sign_in.unusable() {
            run.sign_in_unusable(started, &err, diagnosis);
            return false;
        }
        let (mechanism, secret) = match &input.sign_in {
            SignIn::Missing(_) | SignIn::TokenUnavailable(_) | SignIn::Refused(_) => return false,
            SignIn::Bearer(token) => (Mechanism::Xoauth2, token),
            SignIn::Password(password) => {
                let mechanism = if self.info.supports_auth_mechanism(Mechanism::Plain) {
                    Mechanism::Plain
                } else {
                    Mechanism::Login
                };
                (mechanism, password)
            }
        };
        if !self.info.supports_auth_mechanism(mechanism) {
            let offered = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
                .into_iter()
                .filter(|m| self.info.supports_auth_mechanism(*m))
                .map(|m| m.to_string())
                .collect::<Vec<_>>();
            let offered = if offered.is_empty() { "no sign-in at all".to_owned() } else { offered.join(", ") };
            run.failed(StageName::Authentication, started, &ProbeError::NoUsableMechanism { offered }, None);
            return false;
        }
        let credentials = Credentials::new(input.user.clone(), secret.expose().to_owned());
        match self.sasl(mechanism, &credentials, options) {
            Ok(reply) => {
                run.passed(
                    StageName::Authentication,
                    started,
                    &format!("signed in as {} with {mechanism}", input.user),
                    Some(&reply),
                );
                true
            }
            Err((err, reply)) => {
                run.failed(StageName::Authentication, started, &err, reply.as_deref());
                false
            }
        }
    }

    /// The SASL exchange. On failure, the error and the server's words.
    fn sasl(
        &mut self,
        mechanism: Mechanism,
        credentials: &Credentials,
        options: &ProbeOptions,
    ) -> Result<String, (ProbeError, Option<String>)> {
        let first =
            Auth::new(mechanism, credentials.clone(), None).map_err(|e| (ProbeError::Protocol(e.to_string()), None))?;
        let mut reply = self.command(&first.to_string(), options).map_err(|e| (e, None))?;
        for _ in 0..3 {
            if !reply.has_code(334) {
                break;
            }
            if mechanism == Mechanism::Xoauth2 {
                // A challenge after XOAUTH2 is the error report (JSON); the client must
                // answer with an empty line to receive the final reply.
                let challenge = reply.first_word().map(decode_base64).unwrap_or_default();
                let last = self.command("\r\n", options).map_err(|e| (e, None))?;
                let text = format!("{challenge}\n{}", reply_text(&last));
                return Err((ProbeError::Refused { reply: format!("xoauth2 rejected: {text}") }, Some(text)));
            }
            let next = Auth::new_from_response(mechanism, credentials.clone(), &reply)
                .map_err(|e| (ProbeError::Protocol(e.to_string()), Some(reply_text(&reply))))?;
            reply = self.command(&next.to_string(), options).map_err(|e| (e, None))?;
        }
        let text = reply_text(&reply);
        if reply_code(&reply) == 235 {
            Ok(text)
        } else {
            Err((ProbeError::Refused { reply: text.clone() }, Some(text)))
        }
    }

    fn send(&mut self, run: &mut Run, messages: &[Outgoing], options: &ProbeOptions) -> bool {
        let started = Instant::now();
        let mut replies = Vec::new();
        for (index, outgoing) in messages.iter().enumerate() {
            match self.send_one(outgoing, options) {
                Ok(reply) => replies.push(reply),
                Err((err, reply)) => {
                    let mut all = replies.join("\n");
                    if let Some(reply) = reply {
                        if !all.is_empty() {
                            all.push('\n');
                        }
                        all.push_str(&reply);
                    }
                    let reply = (!all.is_empty()).then_some(all);
                    run.failed(StageName::Send, started, &err, reply.as_deref());
                    run.report.fact("Messages accepted", format!("{index} of {}", messages.len()));
                    return false;
                }
            }
        }
        let recipients: Vec<String> = messages
            .first()
            .map(|m| m.message.envelope().to().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let detail = format!("{} message(s) accepted for {}", messages.len(), recipients.join(", "));
        run.passed(StageName::Send, started, &detail, Some(&replies.join("\n")));
        true
    }

    fn send_one(
        &mut self,
        outgoing: &Outgoing,
        options: &ProbeOptions,
    ) -> Result<String, (ProbeError, Option<String>)> {
        let envelope = outgoing.message.envelope();
        self.open_data(envelope.from().cloned(), envelope.to(), options)?;
        let mut body = dot_stuff(&outgoing.message.formatted());
        if !body.ends_with(b"\r\n") {
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b".\r\n");
        self.stream.begin_step(options.step_timeout);
        self.stream.write_all(&body).map_err(|e| (ProbeError::from_io(&e), None))?;
        self.stream.flush().map_err(|e| (ProbeError::from_io(&e), None))?;
        let reply = read_reply(&mut self.stream).map_err(|e| (e, None))?;
        let reply = expect(reply, 250)?;
        Ok(reply_text(&reply))
    }

    /// Streams the message after DATA was accepted: CRLF line ends, dot-stuffed,
    /// a chunk at a time (each write its own step), then the end marker. Returns
    /// the server's acceptance and how many bytes went out.
    fn stream_body(
        &mut self,
        message: &mut dyn Read,
        options: &ProbeOptions,
    ) -> Result<(String, u64), (ProbeError, Option<String>)> {
        let mut chunk = vec![0u8; 64 * 1024];
        let mut wire = Vec::with_capacity(chunk.len() * 2 + 8);
        let (mut encoder, mut sent) = (WireEncoder::default(), 0u64);
        loop {
            let read = match message.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                // The server drops a DATA that never ends with its marker: nothing is sent.
                Err(err) => {
                    return Err((ProbeError::BadMessage(format!("could not read the message: {err}")), None));
                }
            };
            wire.clear();
            encoder.encode(&chunk[..read], &mut wire);
            self.stream.begin_step(options.step_timeout);
            self.stream.write_all(&wire).map_err(|e| (ProbeError::from_io(&e), None))?;
            sent += wire.len() as u64;
        }
        wire.clear();
        encoder.finish(&mut wire);
        self.stream.begin_step(options.step_timeout);
        self.stream.write_all(&wire).map_err(|e| (ProbeError::from_io(&e), None))?;
        self.stream.flush().map_err(|e| (ProbeError::from_io(&e), None))?;
        let reply = read_reply(&mut self.stream).map_err(|e| (e, None))?;
        let reply = expect(reply, 250)?;
        Ok((reply_text(&reply), sent))
    }

    /// MAIL, RCPT for each recipient and DATA (pipelined where the server allows),
    /// up to the server's go-ahead for the message.
    fn open_data(
        &mut self,
        from: Option<lettre::Address>,
        to: &[lettre::Address],
        options: &ProbeOptions,
    ) -> Result<(), (ProbeError, Option<String>)> {
        let mut commands = vec![(Mail::new(from, vec![]).to_string(), 250)];
        commands.extend(to.iter().map(|to| (Rcpt::new(to.clone(), vec![]).to_string(), 250)));
        commands.push((Data.to_string(), 354));
        if self.pipelining {
            // One write, one round trip; then every reply in order.
            let batch: String = commands.iter().map(|(command, _)| command.as_str()).collect();
            self.stream.begin_step(options.step_timeout);
            self.stream.write_all(batch.as_bytes()).map_err(|e| (ProbeError::from_io(&e), None))?;
            self.stream.flush().map_err(|e| (ProbeError::from_io(&e), None))?;
            let mut first_error = None;
            let mut data_accepted = false;
            for (_, code) in &commands {
                let reply = read_reply(&mut self.stream).map_err(|e| (e, None))?;
                if *code == 354 {
                    data_accepted = reply_code(&reply) == 354;
                }
                if let Err(err) = expect(reply, *code) {
                    first_error.get_or_insert(err);
                }
            }
            if let Some(err) = first_error {
                if data_accepted {
                    // DATA went through although an earlier command failed: end it empty.
                    let _ = self.command(".\r\n", options);
                }
                return Err(err);
            }
        } else {
            for (command, code) in &commands {
                expect(self.command(command, options).map_err(|e| (e, None))?, *code)?;
            }
        }
        Ok(())
    }

    /// Sends QUIT without waiting for the goodbye: it says nothing the report
    /// needs, and waiting would cost a round trip on every test.
    fn quit(&mut self, options: &ProbeOptions) {
        self.stream.begin_step(options.step_timeout.min(Duration::from_secs(5)));
        let _ = self.stream.write_all(Quit.to_string().as_bytes());
        let _ = self.stream.flush();
    }

    /// Writes a command and reads the reply (positive or not) within the step timeout.
    fn command(&mut self, command: &str, options: &ProbeOptions) -> Result<Response, ProbeError> {
        self.stream.begin_step(options.step_timeout);
        self.stream.write_all(command.as_bytes()).map_err(|e| ProbeError::from_io(&e))?;
        self.stream.flush().map_err(|e| ProbeError::from_io(&e))?;
        read_reply(&mut self.stream)
    }
}

/// Reads the greeting (see [`super::read_plain_greeting`] for plain connections).
fn read_greeting(
    stream: &mut GuardedStream,
    run: &Run,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<Response, ProbeError> {
    if stream.is_tls() {
        stream.begin_step(options.step_timeout);
        return read_reply(stream);
    }
    super::read_plain_greeting(stream, run, options, cancel, read_reply)
}

/// Longest reply line SMTP allows is 512 bytes; servers exceed it a little.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 200;

/// Reads one (possibly multi-line) reply.
pub(crate) fn read_reply(stream: &mut GuardedStream) -> Result<Response, ProbeError> {
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
    Err(ProbeError::Garbage { protocol: "SMTP", text: "a reply of more than 200 lines".to_owned() })
}

/// The reply as the server wrote it: `code text` per line.
pub(crate) fn reply_text(reply: &Response) -> String {
    let code = reply.code().to_string();
    let lines: Vec<String> = reply.message().map(|line| format!("{code} {line}")).collect();
    if lines.is_empty() { code } else { lines.join("\n") }
}

fn describe_features(ehlo_text: &str) -> String {
    let features: Vec<&str> =
        ehlo_text.lines().skip(1).map(|l| l.get(4..).unwrap_or("").trim()).filter(|f| !f.is_empty()).collect();
    if features.is_empty() { "no extensions".to_owned() } else { features.join(", ") }
}

pub(crate) fn decode_base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|_| text.to_owned())
}

/// The reply, or the server's words as an error when its code is not `code`.
/// `reply` when its code is `code`, else the refusal in the server's words.
fn expect(reply: Response, code: u16) -> Result<Response, (ProbeError, Option<String>)> {
    if reply_code(&reply) == code {
        Ok(reply)
    } else {
        let text = reply_text(&reply);
        Err((ProbeError::Refused { reply: text.clone() }, Some(text)))
    }
}

/// A reply's code as the number it is (250), compared as a number — never as text.
fn reply_code(reply: &Response) -> u16 {
    u16::from(reply.code())
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

#[cfg(test)]
mod tests {
    use super::*;

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
    use crate::probe::inputs::Endpoint;
    use crate::secret::Secret;

    fn input() -> OutgoingInput {
        OutgoingInput {
            setting_id: "ar".into(),
            endpoint: Endpoint { host: "smtp.example.com".into(), port: 587, security: Security::Starttls },
            user: "ar@example.com".into(),
            sign_in: SignIn::Password(Secret::new("pw")),
            send_as: "collections@example.com".into(),
            from_name: "Example AR Team".into(),
            reply_to: "replies@example.com".into(),
            subject_tag: "[EX-AR]".into(),
        }
    }

    #[test]
    fn the_two_test_messages_have_the_promised_shape() {
        let messages = test_messages(&input(), "admin@example.org", "0123456789abcdef").unwrap();
        assert_eq!(messages.len(), 2);
        let first = String::from_utf8(messages[0].message.formatted()).unwrap();
        assert!(first.contains("From: \"Example AR Team\" <collections@example.com>"), "{first}");
        assert!(first.contains("X-Mailsettings-Run: 0123456789abcdef"));
        let second = String::from_utf8(messages[1].message.formatted()).unwrap();
        assert!(second.contains("Subject: [EX-AR] Test message 2 of 2"), "{second}");
        assert!(second.contains("Reply-To: replies@example.com"));
        assert!(second.contains("multipart/alternative") && second.contains("text/html"));
        assert!(test_messages(&input(), "not an address", "x").is_err());
    }

    #[test]
    fn dot_stuffing_protects_lines_starting_with_a_dot() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n..c\r\n"), b"a\r\n..b\r\n...c\r\n".to_vec());
        assert_eq!(dot_stuff(b".x"), b"..x".to_vec());
    }

    #[test]
    fn printable_escapes_control_bytes() {
        assert_eq!(crate::printable::server_line("220 ok\u{1b}[31m\r\n"), "220 ok\\u{1b}[31m");
        assert!(crate::printable::server_line(&"x".repeat(1000)).ends_with('…'));
    }
}
