//! Test Outgoing, and sending a message for `mailsettings send`: one SMTP
//! session, every step a stage — the messages built here, and the driver that
//! holds the socket, its deadlines and the report's clock. What is said and what
//! each reply means is [`super::smtp_dialogue`], which runs without a socket.
//!
//! The session is driven here rather than by lettre's transport because lettre's
//! `SmtpConnection::connect` performs TCP, TLS, greeting and EHLO in one call and
//! cannot be cancelled from another thread, which would make a staged diagnosis
//! and the Cancel button impossible.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::response::Response;

use super::diagnose::Protocol;
use super::error::ProbeError;
use super::inputs::OutgoingInput;
use super::net::GuardedStream;
use super::report::{ProbeKind, Report, StageName};
use super::smtp_dialogue::{self, Capabilities, Refusal, Sasl, SaslStep, WireEncoder, expect, read_reply, reply_text};
use super::{ProbeOptions, Run, new_run_id, open, start_tls};
use crate::cancel::CancelToken;
use crate::model::Security;
use crate::secret::Secret;

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

/// The driver: one SMTP connection, its deadlines and the report's stages, saying
/// what [`smtp_dialogue`] says and handing it what the server replies.
struct Session {
    stream: GuardedStream,
    offered: Capabilities,
}

impl Session {
    fn establish(run: &mut Run, options: &ProbeOptions, cancel: &CancelToken) -> Option<Self> {
        let mut stream = open(run, options, cancel)?;
        let started = Instant::now();
        let greeting = read_greeting(&mut stream, run, options, cancel).map_err(|err| (err, None));
        match greeting.and_then(|reply| smtp_dialogue::judge_greeting(&reply)) {
            Ok(words) => run.passed(StageName::Greeting, started, "the server is ready", Some(&words)),
            Err((err, words)) => {
                run.failed(StageName::Greeting, started, &err, words.as_deref());
                return None;
            }
        }
        let offered = Self::ehlo(&mut stream, run, options)?;
        let mut session = Self { stream, offered };
        if run.endpoint.security == Security::Starttls {
            let started = Instant::now();
            if !session.offered.offers_starttls() {
                run.failed(StageName::Starttls, started, &ProbeError::StarttlsNotOffered, None);
                return None;
            }
            let reply = session.command(&smtp_dialogue::starttls(), options).map_err(|err| (err, None));
            match reply.and_then(|reply| smtp_dialogue::judge_starttls(&reply)) {
                Ok(words) => run.passed(StageName::Starttls, started, "the server agreed to encrypt", Some(&words)),
                Err((err, words)) => {
                    run.failed(StageName::Starttls, started, &err, words.as_deref());
                    return None;
                }
            }
            if !start_tls(run, &mut session.stream, options) {
                return None;
            }
            // What the server offered before TLS is forgotten (RFC 3207): ask again.
            session.offered = Self::ehlo(&mut session.stream, run, options)?;
        }
        Some(session)
    }

    fn ehlo(stream: &mut GuardedStream, run: &mut Run, options: &ProbeOptions) -> Option<Capabilities> {
        let started = Instant::now();
        let offered = command(stream, &smtp_dialogue::ehlo(&options.client_name), options)
            .and_then(|reply| Capabilities::from_ehlo(&reply));
        match offered {
            Ok(offered) => {
                run.passed(StageName::Capabilities, started, &format!("offers {}", offered.described), None);
                Some(offered)
            }
            Err(err) => {
                run.failed(StageName::Capabilities, started, &err, None);
                None
            }
        }
    }

    fn authenticate(&mut self, run: &mut Run, input: &OutgoingInput, options: &ProbeOptions) -> bool {
        let started = Instant::now();
        let (mechanism, secret) = match smtp_dialogue::plan_sign_in(&self.offered, &input.sign_in, self.stream.is_tls())
        {
            Ok(plan) => plan,
            Err(not_sent) => {
                let (err, diagnosis) = not_sent.into_failure();
                run.sign_in_unusable(started, &err, diagnosis);
                return false;
            }
        };
        match self.sasl(mechanism, &input.user, secret, options) {
            Ok(words) => {
                let detail = format!("signed in as {} with {mechanism}", input.user);
                run.passed(StageName::Authentication, started, &detail, Some(&words));
                true
            }
            Err((err, words)) => {
                run.failed(StageName::Authentication, started, &err, words.as_deref());
                false
            }
        }
    }

    /// The SASL exchange, as the dialogue leads it. On failure, the error and the server's words.
    fn sasl(
        &mut self,
        mechanism: Mechanism,
        user: &str,
        secret: &Secret,
        options: &ProbeOptions,
    ) -> Result<String, Refusal> {
        let (mut exchange, mut say) = Sasl::start(mechanism, user, secret)?;
        loop {
            let reply = self.command(&say, options).map_err(|e| (e, None))?;
            match exchange.hear(&reply) {
                SaslStep::Say(next) => say = next,
                SaslStep::SignedIn(words) => return Ok(words),
                SaslStep::Refused(refusal) => return Err(refusal),
            }
        }
    }

    fn send(&mut self, run: &mut Run, messages: &[Outgoing], options: &ProbeOptions) -> bool {
        let started = Instant::now();
        let mut replies = Vec::new();
        for (index, outgoing) in messages.iter().enumerate() {
            match self.send_one(outgoing, options) {
                Ok(reply) => replies.push(reply),
                Err((err, reply)) => {
                    replies.extend(reply);
                    let all = replies.join("\n");
                    run.failed(StageName::Send, started, &err, (!all.is_empty()).then_some(all.as_str()));
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

    fn send_one(&mut self, outgoing: &Outgoing, options: &ProbeOptions) -> Result<String, Refusal> {
        let envelope = outgoing.message.envelope();
        self.open_data(envelope.from().cloned(), envelope.to(), options)?;
        self.write(&smtp_dialogue::data_of(&outgoing.message.formatted()), options).map_err(|e| (e, None))?;
        let reply = read_reply(&mut self.stream).map_err(|e| (e, None))?;
        Ok(reply_text(&expect(reply, 250)?))
    }

    /// Streams the message after DATA was accepted: CRLF line ends, dot-stuffed,
    /// a chunk at a time (each write its own step), then the end marker. Returns
    /// the server's acceptance and how many bytes went out.
    fn stream_body(&mut self, message: &mut dyn Read, options: &ProbeOptions) -> Result<(String, u64), Refusal> {
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
        self.write(&wire, options).map_err(|e| (e, None))?;
        let reply = read_reply(&mut self.stream).map_err(|e| (e, None))?;
        Ok((reply_text(&expect(reply, 250)?), sent))
    }

    /// MAIL, RCPT for each recipient and DATA (pipelined where the server allows),
    /// up to the server's go-ahead for the message.
    fn open_data(
        &mut self,
        from: Option<lettre::Address>,
        to: &[lettre::Address],
        options: &ProbeOptions,
    ) -> Result<(), Refusal> {
        let commands = smtp_dialogue::envelope(from, to);
        if !self.offered.pipelining {
            for (command, code) in &commands {
                expect(self.command(command, options).map_err(|e| (e, None))?, *code)?;
            }
            return Ok(());
        }
        // One write, one round trip; then every reply in order.
        let batch: String = commands.iter().map(|(command, _)| command.as_str()).collect();
        self.write(batch.as_bytes(), options).map_err(|e| (e, None))?;
        let replies = commands
            .iter()
            .map(|_| read_reply(&mut self.stream))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (e, None))?;
        smtp_dialogue::judge_pipelined(&commands, replies).map_err(|refused| {
            if refused.data_open {
                // DATA went through although an earlier command failed: end it empty.
                let _ = self.command(smtp_dialogue::END_OF_DATA, options);
            }
            refused.refusal
        })
    }

    /// Sends QUIT without waiting for the goodbye: waiting would cost a round trip on every test.
    fn quit(&mut self, options: &ProbeOptions) {
        self.stream.begin_step(options.step_timeout.min(Duration::from_secs(5)));
        let _ = self.stream.write_all(smtp_dialogue::quit().as_bytes());
        let _ = self.stream.flush();
    }

    fn write(&mut self, bytes: &[u8], options: &ProbeOptions) -> Result<(), ProbeError> {
        self.stream.begin_step(options.step_timeout);
        self.stream.write_all(bytes).map_err(|e| ProbeError::from_io(&e))?;
        self.stream.flush().map_err(|e| ProbeError::from_io(&e))
    }

    fn command(&mut self, command: &str, options: &ProbeOptions) -> Result<Response, ProbeError> {
        self::command(&mut self.stream, command, options)
    }
}

/// Writes a command and reads the reply (positive or not) within the step timeout.
fn command(stream: &mut GuardedStream, command: &str, options: &ProbeOptions) -> Result<Response, ProbeError> {
    stream.begin_step(options.step_timeout);
    stream.write_all(command.as_bytes()).map_err(|e| ProbeError::from_io(&e))?;
    stream.flush().map_err(|e| ProbeError::from_io(&e))?;
    read_reply(stream)
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::inputs::{Endpoint, SignIn};
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
    fn printable_escapes_control_bytes() {
        assert_eq!(crate::printable::server_line("220 ok\u{1b}[31m\r\n"), "220 ok\\u{1b}[31m");
        assert!(crate::printable::server_line(&"x".repeat(1000)).ends_with('…'));
    }
}
