//! Test Incoming, the leftover-mail count and the IMAP half of the round
//! trip. The imap crate speaks the protocol once the connection is encrypted;
//! the plain part before STARTTLS (greeting, CAPABILITY, STARTTLS) is spoken
//! here so that nothing secret can be sent before TLS is up.

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

use super::diagnose::Protocol;
use super::error::ProbeError;
use super::folders::{self, FolderRole, Listed};
use super::imap_dialogue::{
    self, Refusal, SaslStep, SignInPlan, Xoauth2Exchange, capabilities_in_greeting, capability_name, greeting_refusal,
};
use super::imap_replies::{XOAuth2, imap_error, with_server_notes};
use super::inputs::{IncomingInput, OutgoingInput, SignIn};
use super::net::{GuardedStream, StepClock};
use super::report::{ProbeKind, Report, StageName};
use super::{ProbeOptions, Run, new_run_id, open, start_tls};
use crate::cancel::CancelToken;
use crate::model::Security;

type Session = imap::Session<GuardedStream>;

/// Test Incoming: sign in, check the inbox and sent folders exist, count their messages.
pub fn test_incoming(input: &IncomingInput, options: &ProbeOptions, cancel: &CancelToken) -> Report {
    let mut run = Run::new(
        ProbeKind::Incoming,
        &input.setting_id,
        Protocol::Imap,
        &input.endpoint,
        &input.user,
        input.redactor(),
    );
    if let Some((mut session, clock)) = sign_in(&mut run, input, options, cancel) {
        check_folders(&mut run, &mut session, &clock, input, options);
        logout(session, &clock);
    }
    run.finish()
}

/// Message counts of one folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FolderCount {
    pub folder: String,
    pub exists: bool,
    pub total: u32,
    pub unseen: u32,
    /// For a folder the server does not have: the folders it has, closest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closest: Vec<String>,
}

/// The leftover check: total and unseen messages in the named folders.
#[derive(Debug, Clone)]
pub struct Leftover {
    pub report: Report,
    /// `None` when the mailbox could not be opened.
    pub counts: Option<Vec<FolderCount>>,
}

impl Leftover {
    /// Messages still in the folders that exist (see [`Self::missing`] for the others).
    /// Saturating: a server that claims billions cannot overflow the sum.
    pub fn total(&self) -> Option<u32> {
        self.counts.as_ref().map(|counts| saturating_sum(counts.iter().map(|c| c.total)))
    }

    /// The folders the server does not have: not checked, so never counted as empty.
    pub fn missing(&self) -> Vec<&FolderCount> {
        self.counts.iter().flatten().filter(|c| !c.exists).collect()
    }
}

/// A sum of message counts that stops at `u32::MAX` instead of overflowing.
pub(crate) fn saturating_sum(counts: impl Iterator<Item = u32>) -> u32 {
    counts.fold(0, u32::saturating_add)
}

/// The folders the leftover check looks in by default: the setup guide's "Mail
/// Not Read" and "Mail Not Filed", where the automation leaves what it has not processed.
pub const DEFAULT_LEFTOVER_FOLDERS: [&str; 2] = ["Mail Not Read", "Mail Not Filed"];

pub(crate) fn default_leftover_folders() -> Vec<String> {
    DEFAULT_LEFTOVER_FOLDERS.iter().map(|f| (*f).to_owned()).collect()
}

/// Counts the messages in exactly `folders` (the caller decides whether the
/// inbox is one of them). A folder the server does not have is reported as not
/// found, with the server's folders closest to it first.
pub fn leftover(input: &IncomingInput, folders: &[String], options: &ProbeOptions, cancel: &CancelToken) -> Leftover {
    let mut run = Run::new(
        ProbeKind::Leftover,
        &input.setting_id,
        Protocol::Imap,
        &input.endpoint,
        &input.user,
        input.redactor(),
    );
    let Some((mut session, clock)) = sign_in(&mut run, input, options, cancel) else {
        return Leftover { report: run.finish(), counts: None };
    };
    let started = Instant::now();
    clock.begin(options.step_timeout);
    let listed = match session.list(None, Some("*")) {
        Ok(names) => names.iter().map(Listed::from_name).collect::<Vec<_>>(),
        Err(err) => {
            run.failed(StageName::Counts, started, &imap_error(&err), None);
            logout(session, &clock);
            return Leftover { report: run.finish(), counts: None };
        }
    };
    let mut counts = Vec::new();
    for name in folders.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        let Some(actual) = folders::find(&listed, name) else {
            let closest = folders::closest_first(&listed, name);
            counts.push(FolderCount { folder: name.to_owned(), exists: false, total: 0, unseen: 0, closest });
            continue;
        };
        clock.begin(options.step_timeout);
        match session.status(&actual, "(MESSAGES UNSEEN)") {
            Ok(status) => counts.push(FolderCount {
                folder: actual,
                exists: true,
                total: status.exists,
                unseen: status.unseen.unwrap_or(0),
                closest: Vec::new(),
            }),
            Err(err) => {
                run.failed(StageName::Counts, started, &imap_error(&err), None);
                logout(session, &clock);
                return Leftover { report: run.finish(), counts: None };
            }
        }
    }
    let summary: Vec<String> = counts.iter().map(count_words).collect();
    run.passed(StageName::Counts, started, &summary.join("; "), None);
    for count in &counts {
        run.report.fact(&count.folder, count_words(count));
    }
    logout(session, &clock);
    Leftover { report: run.finish(), counts: Some(counts) }
}

fn count_words(count: &FolderCount) -> String {
    if count.exists {
        format!("{}: {} messages, {} unseen", count.folder, count.total, count.unseen)
    } else {
        let nearest: Vec<String> = count.closest.iter().take(5).map(|f| format!("\"{f}\"")).collect();
        format!("{}: not found on the server (it has {})", count.folder, nearest.join(", "))
    }
}

/// Round trip: send a tagged message to the incoming mailbox over SMTP and
/// wait until it shows up in the inbox over IMAP. Reports the delivery time,
/// and removes the test message again.
pub fn roundtrip(
    outgoing: &OutgoingInput,
    incoming: &IncomingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Report {
    roundtrip_sending_with(outgoing, incoming, options, cancel, |run, message| {
        super::smtp::send_in_one_session(run, outgoing, std::slice::from_ref(message), options, cancel)
    })
}

/// The round trip with the message sent by `send` (SMTP, or a mail API), which records
/// its stages in the run and says whether the message was accepted; the wait is by IMAP.
pub(crate) fn roundtrip_sending_with(
    outgoing: &OutgoingInput,
    incoming: &IncomingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
    send: impl FnOnce(&mut Run, &super::smtp::Outgoing) -> bool,
) -> Report {
    let run_id = new_run_id();
    let mut redactor = outgoing.redactor();
    if let SignIn::Password(secret) | SignIn::Bearer(secret) = &incoming.sign_in {
        redactor.add(&incoming.user, secret);
    }
    let mut run = Run::new(
        ProbeKind::RoundTrip,
        &outgoing.setting_id,
        Protocol::Smtp,
        &outgoing.endpoint,
        &outgoing.user,
        redactor,
    );
    run.report.fact("Test run", run_id.clone());
    let message = match super::smtp::roundtrip_message(outgoing, &incoming.user, &run_id) {
        Ok(message) => message,
        Err(reason) => {
            run.failed(StageName::Send, Instant::now(), &ProbeError::Protocol(reason), None);
            return run.finish();
        }
    };
    if !send(&mut run, &message) {
        return run.finish();
    }
    let sent_at = Instant::now();
    run.protocol = Protocol::Imap;
    run.endpoint = incoming.endpoint.clone();
    let Some((mut session, clock)) = sign_in(&mut run, incoming, options, cancel) else {
        return run.finish();
    };
    let started = Instant::now();
    clock.begin(options.step_timeout);
    if let Err(err) = session.select(folders::imap_name(&incoming.inbox_folder)) {
        run.failed(StageName::Delivery, started, &imap_error(&err), None);
        logout(session, &clock);
        return run.finish();
    }
    let query = format!("HEADER {} {run_id}", super::smtp::RUN_HEADER);
    let mut pause = Duration::from_millis(20);
    loop {
        if cancel.is_cancelled() {
            run.failed(StageName::Delivery, started, &ProbeError::Cancelled, None);
            break;
        }
        clock.begin(options.step_timeout);
        let found = session.noop().and_then(|()| session.uid_search(&query));
        match found {
            Ok(uids) if !uids.is_empty() => {
                let delivery = sent_at.elapsed();
                let detail = format!("arrived in {} after {} ms", incoming.inbox_folder, delivery.as_millis());
                run.passed(StageName::Delivery, started, &detail, None);
                run.report.fact("Delivery time", format!("{} ms", delivery.as_millis()));
                let uid_set: Vec<String> = uids.iter().map(ToString::to_string).collect();
                clock.begin(options.step_timeout);
                let removed = session
                    .uid_store(uid_set.join(","), "+FLAGS.SILENT (\\Seen \\Deleted)")
                    .and_then(|_| session.uid_expunge(uid_set.join(",")));
                run.report.fact(
                    "Test message",
                    if removed.is_ok() { "removed from the inbox again" } else { "left in the inbox" },
                );
                break;
            }
            Ok(_) if sent_at.elapsed() < options.delivery_timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Ok(_) => {
                run.failed(
                    StageName::Delivery,
                    started,
                    &ProbeError::NotDelivered { secs: options.delivery_timeout.as_secs() },
                    None,
                );
                break;
            }
            Err(err) => {
                run.failed(StageName::Delivery, started, &imap_error(&err), None);
                break;
            }
        }
    }
    logout(session, &clock);
    run.finish()
}

/// Connects and signs in as Test Incoming does — the same stages, deadlines and
/// diagnosis — and hands the signed-in connection over for a program's session
/// to be passed through (the bridge). The sign-in is XOAUTH2 written here rather
/// than by the imap crate, whose session keeps its connection. On failure, the
/// staged report.
pub(crate) fn sign_in_to_pass_through(
    input: &IncomingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<super::SignedIn, Box<Report>> {
    let mut run =
        Run::new(ProbeKind::Bridge, &input.setting_id, Protocol::Imap, &input.endpoint, &input.user, input.redactor());
    let Some(stream) = open(&mut run, options, cancel) else { return Err(Box::new(run.finish())) };
    let clock = stream.clock();
    let Some((mut client, greeting_capabilities)) = greet(&mut run, stream, options, cancel) else {
        return Err(Box::new(run.finish()));
    };
    clock.begin(options.step_timeout);
    let Some(capabilities) = capabilities_step(&mut run, &mut client, greeting_capabilities) else {
        return Err(Box::new(run.finish()));
    };
    let started = Instant::now();
    let mut stream = match client.into_inner() {
        Ok(stream) => stream,
        Err(err) => {
            run.failed(StageName::Authentication, started, &imap_error(&err), None);
            return Err(Box::new(run.finish()));
        }
    };
    clock.begin(options.step_timeout);
    match xoauth2_on(&mut stream, input, &capabilities) {
        Ok(()) => {
            run.passed(StageName::Authentication, started, &format!("signed in as {} with XOAUTH2", input.user), None);
            super::SignedIn::from_stream(stream, run)
        }
        Err((err, reply)) => {
            run.failed(StageName::Authentication, started, &err, reply.as_deref());
            Err(Box::new(run.finish()))
        }
    }
}

/// AUTHENTICATE XOAUTH2 on the connection itself, as [`Xoauth2Exchange`] leads
/// it — never before TLS is up.
fn xoauth2_on(stream: &mut GuardedStream, input: &IncomingInput, capabilities: &[String]) -> Result<(), Refusal> {
    let token = match imap_dialogue::plan_sign_in(capabilities, &input.sign_in, stream.is_tls()) {
        Ok(SignInPlan::Xoauth2(token)) => token,
        Ok(SignInPlan::Login(_)) => {
            return Err((ProbeError::Protocol("only an OAuth sign-in is passed through".to_owned()), None));
        }
        Err(not_sent) => return Err((not_sent.into_failure().0, None)),
    };
    let (mut exchange, command) = Xoauth2Exchange::start(&input.user, token);
    let io = |e: std::io::Error| (ProbeError::from_io(&e), None);
    stream.write_all(command.as_bytes()).and_then(|()| stream.flush()).map_err(io)?;
    loop {
        let line = imap_dialogue::read_text_line(stream).map_err(|e| (e, None))?;
        match exchange.hear(&line) {
            SaslStep::Say(answer) => stream.write_all(answer.as_bytes()).and_then(|()| stream.flush()).map_err(io)?,
            SaslStep::ReadOn => {}
            SaslStep::SignedIn => return Ok(()),
            SaslStep::Refused(refusal) => return Err(refusal),
        }
    }
}

/// Connect, greeting, capabilities, STARTTLS when asked, sign-in — each a stage.
type Client = imap::Client<GuardedStream>;

/// Greeting, security upgrade, capabilities, then the sign-in (password or
/// XOAUTH2, never before TLS is up): each a stage of the report.
fn sign_in(
    run: &mut Run,
    input: &IncomingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Option<(Session, StepClock)> {
    let stream = open(run, options, cancel)?;
    let clock = stream.clock();
    let (mut client, greeting_capabilities) = greet(run, stream, options, cancel)?;
    clock.begin(options.step_timeout);
    let capabilities = capabilities_step(run, &mut client, greeting_capabilities)?;
    let started = Instant::now();
    // Encrypted from the start, or upgraded by STARTTLS (greet ends the run where that failed).
    let encrypted = run.endpoint.security != Security::None;
    clock.begin(options.step_timeout);
    let session = authenticate(run, client, input, &capabilities, encrypted, started)?;
    Some((session, clock))
}

/// The greeting (and STARTTLS where configured). With TLS on connect the
/// greeting usually lists the capabilities, which saves a round trip; after
/// STARTTLS they must be asked for again (RFC 3501).
fn greet(
    run: &mut Run,
    mut stream: GuardedStream,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Option<(Client, Option<Vec<String>>)> {
    let started = Instant::now();
    if stream.is_tls() {
        stream.begin_step(options.step_timeout);
        let mut client = imap::Client::new(stream);
        let text = match client.read_greeting() {
            Ok(greeting) => String::from_utf8_lossy(&greeting).trim_end().to_owned(),
            Err(err) => {
                run.failed(StageName::Greeting, started, &imap_error(&err), None);
                return None;
            }
        };
        if let Some(err) = greeting_refusal(&text) {
            run.failed(StageName::Greeting, started, &err, Some(&text));
            return None;
        }
        run.passed(StageName::Greeting, started, "the server is ready", Some(&text));
        return Some((client, capabilities_in_greeting(&text)));
    }
    match plain_greeting(&mut stream, run, options, cancel) {
        Ok(text) => run.passed(StageName::Greeting, started, "the server is ready", Some(&text)),
        Err((err, text)) => {
            run.failed(StageName::Greeting, started, &err, text.as_deref());
            return None;
        }
    }
    if run.endpoint.security == Security::Starttls && !upgrade(run, &mut stream, options) {
        return None;
    }
    Some((imap::Client::new(stream), None))
}

/// The capabilities: from the greeting when it had them, else asked for.
fn capabilities_step(run: &mut Run, client: &mut Client, from_greeting: Option<Vec<String>>) -> Option<Vec<String>> {
    let started = Instant::now();
    let asked = || {
        client.capabilities().map(|caps| caps.iter().map(|c| capability_name(&format!("{c:?}"))).collect::<Vec<_>>())
    };
    let mut names = match from_greeting.map_or_else(asked, Ok) {
        Ok(names) => names,
        Err(err) => {
            run.failed(StageName::Capabilities, started, &imap_error(&err), None);
            return None;
        }
    };
    names.sort_unstable();
    run.passed(StageName::Capabilities, started, &format!("offers {}", names.join(" ")), None);
    Some(names)
}

/// LOGIN with a password, or AUTHENTICATE XOAUTH2 with a token — what the setting has and the server offers.
fn authenticate(
    run: &mut Run,
    client: Client,
    input: &IncomingInput,
    capabilities: &[String],
    encrypted: bool,
    started: Instant,
) -> Option<Session> {
    let plan = match imap_dialogue::plan_sign_in(capabilities, &input.sign_in, encrypted) {
        Ok(plan) => plan,
        Err(not_sent) => {
            let (err, diagnosis) = not_sent.into_failure();
            run.sign_in_unusable(started, &err, diagnosis);
            return None;
        }
    };
    let (method, result) = match plan {
        SignInPlan::Login(password) => (
            "LOGIN",
            client.login(&input.user, password.expose()).map_err(|(err, client)| with_server_notes(&err, client, None)),
        ),
        SignInPlan::Xoauth2(token) => {
            let authenticator = XOAuth2 { user: &input.user, token: token.expose(), challenge: RefCell::new(None) };
            let result = client
                .authenticate("XOAUTH2", &authenticator)
                .map_err(|(err, client)| with_server_notes(&err, client, authenticator.challenge.borrow().clone()));
            ("XOAUTH2", result)
        }
    };
    match result {
        Ok(session) => {
            run.passed(StageName::Authentication, started, &format!("signed in as {} with {method}", input.user), None);
            Some(session)
        }
        Err((err, reply)) => {
            run.failed(StageName::Authentication, started, &err, reply.as_deref());
            None
        }
    }
}

/// Reads the greeting on a plain connection (see [`super::read_plain_greeting`]).
fn plain_greeting(
    stream: &mut GuardedStream,
    run: &Run,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<String, (ProbeError, Option<String>)> {
    let text = super::read_plain_greeting(stream, run, options, cancel, imap_dialogue::read_untagged_greeting)
        .map_err(|e| (e, None))?;
    match greeting_refusal(&text) {
        Some(err) => Err((err, Some(text))),
        None => Ok(text),
    }
}

/// Sends a tagged command on the plain connection and reads up to its tagged answer.
fn raw_command(stream: &mut GuardedStream, tag: &str, command: &str) -> Result<(Vec<String>, String), ProbeError> {
    stream.write_all(imap_dialogue::tagged(tag, command).as_bytes()).map_err(|e| ProbeError::from_io(&e))?;
    stream.flush().map_err(|e| ProbeError::from_io(&e))?;
    imap_dialogue::read_tagged_answer(stream, tag)
}

/// CAPABILITY on the plain connection.
pub(crate) fn raw_capabilities(stream: &mut GuardedStream) -> Result<Vec<String>, ProbeError> {
    let (untagged, status) = raw_command(stream, "c0", "CAPABILITY")?;
    imap_dialogue::judge_capabilities(&untagged, status)
}

/// CAPABILITY, STARTTLS, TLS handshake — before anything secret is sent.
fn upgrade(run: &mut Run, stream: &mut GuardedStream, options: &ProbeOptions) -> bool {
    let started = Instant::now();
    stream.begin_step(options.step_timeout);
    let result = raw_capabilities(stream).and_then(|caps| {
        imap_dialogue::starttls_offered(&caps)?;
        let (_, status) = raw_command(stream, "c1", "STARTTLS")?;
        imap_dialogue::judge_starttls(status)
    });
    match result {
        Ok(status) => {
            run.passed(StageName::Starttls, started, "the server agreed to encrypt", Some(&format!("c1 {status}")));
        }
        Err(err) => {
            run.failed(StageName::Starttls, started, &err, None);
            return false;
        }
    }
    start_tls(run, stream, options)
}

fn check_folders(
    run: &mut Run,
    session: &mut Session,
    clock: &StepClock,
    input: &IncomingInput,
    options: &ProbeOptions,
) {
    let started = Instant::now();
    let mut details = Vec::new();
    // STATUS straight away (one round trip per folder); the folder list is
    // fetched only to explain a folder that is missing.
    for (role, wanted) in [(FolderRole::Inbox, &input.inbox_folder), (FolderRole::Sent, &input.sent_folder)] {
        clock.begin(options.step_timeout);
        match session.status(folders::imap_name(wanted), "(MESSAGES UNSEEN)") {
            Ok(status) => {
                let unseen = status.unseen.unwrap_or(0);
                details.push(format!("{wanted}: {} messages ({unseen} unseen)", status.exists));
                run.report.fact(
                    &format!("{} folder \"{wanted}\"", role.as_str()),
                    format!("{} messages, {unseen} unseen", status.exists),
                );
            }
            Err(imap::Error::No(_)) => {
                explain_missing_folder(run, session, clock, options, started, role, wanted);
                return;
            }
            Err(err) => {
                run.failed(StageName::Folders, started, &imap_error(&err), None);
                return;
            }
        }
    }
    run.passed(StageName::Folders, started, &details.join("; "), None);
}

/// Lists the server's folders to name the one that was meant: its own folder
/// for the role (recorded as the report's fix), the rest closest first.
fn explain_missing_folder(
    run: &mut Run,
    session: &mut Session,
    clock: &StepClock,
    options: &ProbeOptions,
    started: Instant,
    role: FolderRole,
    wanted: &str,
) {
    clock.begin(options.step_timeout);
    let listed = match session.list(None, Some("*")) {
        Ok(names) => names.iter().map(Listed::from_name).collect::<Vec<_>>(),
        Err(err) => {
            run.failed(StageName::Folders, started, &imap_error(&err), None);
            return;
        }
    };
    let (err, reply, fix) = folders::missing(&listed, role, wanted, ("server", "on the server"));
    run.failed(StageName::Folders, started, &err, Some(&reply));
    run.report.folder_fix = fix;
}

/// Sends LOGOUT without waiting for the goodbye: nothing in it matters, and
/// the wait would cost a round trip on every test.
fn logout(mut session: Session, clock: &StepClock) {
    clock.begin(Duration::from_secs(5));
    let _ = session.run_command("LOGOUT");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::imap_replies::{refusal, wire_code};

    /// Gmail's refusal of an account password is shown as Gmail wrote it (it read
    /// "NO [Alert] …", the parser's name for the code).
    #[test]
    fn a_refusal_keeps_the_servers_words_and_its_response_code_as_written() {
        let wire = "a2 NO [ALERT] Application-specific password required: \
                    https://support.google.com/accounts/answer/185833 (Failure)\r\n";
        let Ok((_, imap_proto::Response::Done { code, information, .. })) =
            imap_proto::parser::parse_response(wire.as_bytes())
        else {
            panic!("not a tagged reply");
        };
        let refused = refusal("NO", code.as_ref(), information.as_deref().unwrap_or_default());
        assert_eq!(
            refused.to_string(),
            "the server refused: NO [ALERT] Application-specific password required: \
             https://support.google.com/accounts/answer/185833 (Failure)"
        );
        let other = "a3 NO [TRYCREATE] No such mailbox\r\n";
        let Ok((_, imap_proto::Response::Done { code, .. })) = imap_proto::parser::parse_response(other.as_bytes())
        else {
            panic!("not a tagged reply");
        };
        assert_eq!(code.as_ref().map(wire_code).as_deref(), Some("TRYCREATE"));
    }

    #[test]
    fn counts_a_server_inflates_saturate_instead_of_overflowing() {
        assert_eq!(saturating_sum([u32::MAX, u32::MAX, 3].into_iter()), u32::MAX);
        assert_eq!(saturating_sum([1, 2].into_iter()), 3);
    }
}
