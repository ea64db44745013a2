//! Mail through the providers' own HTTP APIs — Microsoft Graph and the Gmail API —
//! for tenants where SMTP AUTH (or IMAP) is switched off. Test Outgoing's two
//! messages, Test Incoming's folders, one message for `send` and the bridge, and the
//! leftover count, each as the same staged [`Report`] the SMTP and IMAP probes give,
//! with the API's refusals diagnosed by meaning (`diagnose`). Same sign-in, same
//! test mails, same "OK": only the road differs.
//!
//! Messages go as MIME (lettre builds them, as for SMTP), so the second test mail
//! keeps its Reply-To and the Subject Tag. Requests go through the app's HTTP client
//! (the organisation's proxy, the same trust store, a deadline on each).

mod diagnose;
mod gmail;
mod graph;

use std::time::Instant;

use crate::cancel::CancelToken;
use crate::model::setting::Transport;
use crate::model::{Protocol, Security};
use crate::oauth::http::{ProxyRoute, TokenHttp};
use crate::probe::error::ProbeError;
use crate::probe::folders::{self, FolderRole, Listed};
use crate::probe::imap::{FolderCount, Leftover};
use crate::probe::{Endpoint, IncomingInput, OutgoingInput, ProbeKind, ProbeOptions, Report, Run, SignIn, StageName};
use crate::secret::Secret;

pub use diagnose::ApiError;

/// Which API a side goes through, where, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRoad {
    pub transport: Transport,
    /// The API's address (`https://graph.microsoft.com/v1.0`).
    pub base_url: String,
    /// The mailbox by name (`/users/{mailbox}`: a shared mailbox, app-only access);
    /// `None`: the person who signed in (`/me`).
    pub mailbox: Option<String>,
}

impl ApiRoad {
    fn host(&self) -> String {
        url::Url::parse(&self.base_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
    }

    fn endpoint(&self) -> Endpoint {
        let port = url::Url::parse(&self.base_url).ok().and_then(|u| u.port_or_known_default()).unwrap_or(443);
        Endpoint { host: self.host(), port, security: Security::Tls }
    }
}

/// One API's requests: sending a MIME message, the mailbox's folders, a folder's counts.
trait Api {
    fn send(&self, client: &Client, mime: &[u8]) -> Result<u16, ApiError>;
    /// Every folder that holds mail, in the names the IMAP server would give them.
    fn folders(&self, client: &Client) -> Result<Vec<Listed>, ApiError>;
    /// Total and unread messages of `folder`; `None` when the mailbox has no such folder.
    fn counts(&self, client: &Client, folder: &str) -> Result<Option<(u32, u32)>, ApiError>;
}

fn api_for(road: &ApiRoad) -> &'static dyn Api {
    match road.transport {
        Transport::GmailApi => &gmail::GmailApi,
        Transport::Graph | Transport::Protocol => &graph::Graph,
    }
}

/// The HTTP client, token and address one run uses.
struct Client<'a> {
    http: TokenHttp,
    token: &'a Secret,
    road: &'a ApiRoad,
    cancel: &'a CancelToken,
}

impl Client<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.road.base_url.trim_end_matches('/'), path.trim_start_matches('/'))
    }

    /// `me/…` or `users/{mailbox}/…` (Graph); the Gmail API names the user `me`.
    fn mailbox_path(&self) -> String {
        match &self.road.mailbox {
            Some(mailbox) => format!("users/{}", urlencoding_path(mailbox)),
            None => "me".to_owned(),
        }
    }

    fn call(&self, path: &str, body: Option<(&str, &[u8])>) -> Result<(u16, Vec<u8>), ApiError> {
        if self.cancel.is_cancelled() {
            return Err(ApiError::Cancelled);
        }
        let answer = self.http.call_api(&self.url(path), self.token.expose(), body).map_err(ApiError::Transport)?;
        if (200..300).contains(&answer.status) {
            Ok((answer.status, answer.body))
        } else {
            Err(ApiError::from_answer(answer.status, answer.retry_after, &answer.body))
        }
    }

    fn get_json(&self, path: &str) -> Result<serde_json::Value, ApiError> {
        let (_, body) = self.call(path, None)?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Garbled(e.to_string()))
    }
}

/// A path segment or query value, percent-encoded (an address's `@` kept, as the APIs
/// accept it; a space as `%20`).
fn urlencoding_path(segment: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'@').remove(b'.').remove(b'-').remove(b'_').remove(b'+');
    percent_encoding::utf8_percent_encode(segment.trim(), SEGMENT).to_string()
}

/// One run's report and what its stages share.
fn start(
    kind: ProbeKind,
    side: Protocol,
    setting_id: &str,
    road: &ApiRoad,
    who: &str,
    redactor: crate::probe::report::Redactor,
) -> Run {
    let mut run = Run::new(kind, setting_id, side, &road.endpoint(), who, redactor);
    run.report.target = format!("{} ({}) as {}", road.host(), road.transport.label(side), who.trim());
    run
}

/// The "Sign in" stage: the token the caller fetched, or why there is none.
fn signed_in<'a>(run: &mut Run, sign_in: &'a SignIn, road: &ApiRoad, side: Protocol) -> Option<&'a Secret> {
    let started = Instant::now();
    if let Some((err, diagnosis)) = sign_in.unusable() {
        run.sign_in_unusable(started, &err, diagnosis);
        return None;
    }
    match sign_in {
        SignIn::Bearer(token) => {
            let detail = format!("access token ready for {}", road.transport.label(side));
            run.passed(StageName::Authentication, started, &detail, None);
            Some(token)
        }
        _ => {
            let err = ProbeError::Protocol(format!(
                "{} signs in with OAuth only: choose the provider's credential type",
                road.transport.label(side)
            ));
            run.failed(StageName::Authentication, started, &err, None);
            None
        }
    }
}

/// Records an API refusal as a failed stage with its diagnosis (the API's own words as the reply).
fn refused(run: &mut Run, stage: StageName, started: Instant, err: &ApiError, road: &ApiRoad, side: Protocol) {
    let diagnosis = diagnose::diagnose(err, road.transport, side, &run.who);
    if let Some(diagnosis) = diagnosis {
        run.report.failure = Some(if diagnose::is_temporary(err) {
            crate::probe::report::FailureKind::Temporary
        } else {
            err.failure_kind()
        });
        run.report.set_diagnosis(diagnosis);
    }
    run.failed(stage, started, &err.as_probe_error(), err.server_words().as_deref());
}

/// A run begun: its report, the "Sign in" stage recorded and the client to make its
/// requests with — or, when there is no token, the finished report that says why.
fn begin<'a>(
    (kind, side): (ProbeKind, Protocol),
    (road, setting_id, user): (&'a ApiRoad, &str, &str),
    (sign_in, redactor): (&'a SignIn, crate::probe::report::Redactor),
    (options, route, cancel): (&ProbeOptions, &ProxyRoute, &'a CancelToken),
) -> Result<(Run, Client<'a>), Box<Report>> {
    let mut run = start(kind, side, setting_id, road, user, redactor);
    match signed_in(&mut run, sign_in, road, side) {
        Some(token) => Ok((run, client(road, token, options, route, cancel))),
        None => Err(Box::new(run.finish())),
    }
}

fn client<'a>(
    road: &'a ApiRoad,
    token: &'a Secret,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &'a CancelToken,
) -> Client<'a> {
    let http = TokenHttp::new(options.tls.clone(), options.step_timeout, route).cancelled_by(cancel);
    Client { http, token, road, cancel }
}

/// Test Outgoing through the API: the guide's two test messages, as MIME.
pub fn test_outgoing(
    road: &ApiRoad,
    input: &OutgoingInput,
    recipient: &str,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    let mut run = start(ProbeKind::Outgoing, Protocol::Smtp, &input.setting_id, road, &input.user, input.redactor());
    let run_id = crate::probe::new_run_id();
    run.report.fact("Test run", run_id.clone());
    run.report.fact("Recipient", recipient.trim().to_owned());
    let messages = match crate::probe::smtp::test_messages(input, recipient, &run_id) {
        Ok(messages) => messages,
        Err(reason) => {
            run.failed(StageName::Send, Instant::now(), &ProbeError::BadMessage(reason), None);
            return run.finish();
        }
    };
    let Some(token) = signed_in(&mut run, &input.sign_in, road, Protocol::Smtp) else { return run.finish() };
    let client = client(road, token, options, route, cancel);
    let started = Instant::now();
    let mut statuses = Vec::new();
    for message in &messages {
        match api_for(road).send(&client, &message.message.formatted()) {
            Ok(status) => statuses.push(status),
            Err(err) => {
                refused(&mut run, StageName::Send, started, &err, road, Protocol::Smtp);
                return run.finish();
            }
        }
    }
    let detail = format!(
        "{} messages accepted by {} for {}",
        messages.len(),
        road.transport.label(Protocol::Smtp),
        recipient.trim()
    );
    let reply = statuses.iter().map(|s| format!("HTTP {s}")).collect::<Vec<_>>().join(", ");
    run.passed(StageName::Send, started, &detail, Some(&reply));
    run.finish()
}

/// One message (`mailsettings send`, the bridge) through the API: `mime` as the
/// program wrote it; the API takes its recipients from the headers.
pub(crate) fn send_message(
    road: &ApiRoad,
    input: &OutgoingInput,
    mime: &[u8],
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    let (mut run, client) = match begin(
        (ProbeKind::Send, Protocol::Smtp),
        (road, &input.setting_id, &input.user),
        (&input.sign_in, input.redactor()),
        (options, route, cancel),
    ) {
        Ok(begun) => begun,
        Err(report) => return *report,
    };
    let started = Instant::now();
    match api_for(road).send(&client, mime) {
        Ok(status) => {
            let detail = format!("accepted by {}", road.transport.label(Protocol::Smtp));
            run.passed(StageName::Send, started, &detail, Some(&format!("HTTP {status}")));
        }
        Err(err) => refused(&mut run, StageName::Send, started, &err, road, Protocol::Smtp),
    }
    run.finish()
}

/// The round trip with the message sent through the API and awaited by IMAP (a
/// tenant with SMTP AUTH off and IMAP on); a setting that also reads through the API
/// is told the round trip waits by IMAP only — Test Outgoing to its own address, then
/// Test Incoming, shows the same.
pub fn roundtrip(
    road: &ApiRoad,
    (outgoing, incoming): (&OutgoingInput, &IncomingInput),
    reads_through_api: bool,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    if reads_through_api {
        let mut run = start(
            ProbeKind::RoundTrip,
            Protocol::Imap,
            &incoming.setting_id,
            road,
            &incoming.user,
            incoming.redactor(),
        );
        let err = ProbeError::Protocol(format!(
            "the round trip waits for its message by IMAP, and this setting reads through {}: send Test Outgoing \
             to its own address, then Test Incoming",
            road.transport.label(Protocol::Imap)
        ));
        run.failed(StageName::Delivery, Instant::now(), &err, None);
        return run.finish();
    }
    crate::probe::imap::roundtrip_sending_with(outgoing, incoming, options, cancel, |run, message| {
        run.report.target = format!("{} ({}) as {}", road.host(), road.transport.label(Protocol::Smtp), outgoing.user);
        let Some(token) = signed_in(run, &outgoing.sign_in, road, Protocol::Smtp) else { return false };
        let client = client(road, token, options, route, cancel);
        let started = Instant::now();
        match api_for(road).send(&client, &message.message.formatted()) {
            Ok(status) => {
                let detail = format!("accepted by {}", road.transport.label(Protocol::Smtp));
                run.passed(StageName::Send, started, &detail, Some(&format!("HTTP {status}")));
                true
            }
            Err(err) => {
                refused(run, StageName::Send, started, &err, road, Protocol::Smtp);
                false
            }
        }
    })
}

/// A message that cannot go (too large, unreadable): a report that says so, nothing sent.
pub(crate) fn message_refused(road: &ApiRoad, input: &OutgoingInput, reason: &str) -> Report {
    let mut run = start(ProbeKind::Send, Protocol::Smtp, &input.setting_id, road, &input.user, input.redactor());
    run.failed(StageName::Send, Instant::now(), &ProbeError::BadMessage(reason.to_owned()), None);
    run.finish()
}

/// The message as an API sends it: the APIs take the recipients from the header, so
/// envelope recipients it does not name (sendmail's arguments, a Bcc the caller took
/// out) go in a `Bcc:` line, which the API delivers to and takes out of every copy.
pub(crate) fn with_envelope(mime: &[u8], recipients: &[String]) -> Vec<u8> {
    let head_end = mime
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 2)
        .or_else(|| mime.windows(2).position(|w| w == b"\n\n").map(|at| at + 1))
        .unwrap_or(mime.len());
    let head = String::from_utf8_lossy(&mime[..head_end]).replace("\r\n", "\n");
    // Header fields unfolded; the addresses of To, Cc and Bcc.
    let mut named: Vec<String> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for line in head.lines() {
        match fields.last_mut() {
            Some(field) if line.starts_with([' ', '\t']) => field.push_str(line),
            _ => fields.push(line.to_owned()),
        }
    }
    for field in &fields {
        let Some((name, value)) = field.split_once(':') else { continue };
        if ["to", "cc", "bcc"].contains(&name.trim().to_ascii_lowercase().as_str())
            && let Ok(mailboxes) = value.trim().parse::<lettre::message::Mailboxes>()
        {
            named.extend(mailboxes.into_iter().map(|m| m.email.to_string().to_ascii_lowercase()));
        }
    }
    let extra: Vec<&str> = recipients
        .iter()
        .map(|r| r.trim())
        // Only whole addresses: a recipient is never a way to write header lines.
        .filter(|r| r.parse::<lettre::Address>().is_ok() && !named.contains(&r.to_ascii_lowercase()))
        .collect();
    if extra.is_empty() {
        return mime.to_vec();
    }
    let mut out = format!("Bcc: {}\r\n", extra.join(", ")).into_bytes();
    out.extend_from_slice(mime);
    out
}

/// Test Incoming through the API: the inbox and sent folders by name, with their counts.
pub fn test_incoming(
    road: &ApiRoad,
    input: &IncomingInput,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    let (mut run, client) = match begin(
        (ProbeKind::Incoming, Protocol::Imap),
        (road, &input.setting_id, &input.user),
        (&input.sign_in, input.redactor()),
        (options, route, cancel),
    ) {
        Ok(begun) => begun,
        Err(report) => return *report,
    };
    let api = api_for(road);
    let started = Instant::now();
    let mut details = Vec::new();
    for (role, wanted) in [(FolderRole::Inbox, &input.inbox_folder), (FolderRole::Sent, &input.sent_folder)] {
        match api.counts(&client, wanted) {
            Ok(Some((total, unseen))) => {
                details.push(format!("{wanted}: {total} messages ({unseen} unseen)"));
                run.report.fact(
                    &format!("{} folder \"{wanted}\"", role.as_str()),
                    format!("{total} messages, {unseen} unseen"),
                );
            }
            Ok(None) => {
                explain_missing_folder(&mut run, &client, api, started, role, wanted);
                return run.finish();
            }
            Err(err) => {
                refused(&mut run, StageName::Folders, started, &err, road, Protocol::Imap);
                return run.finish();
            }
        }
    }
    run.passed(StageName::Folders, started, &details.join("; "), None);
    run.finish()
}

fn explain_missing_folder(
    run: &mut Run,
    client: &Client,
    api: &dyn Api,
    started: Instant,
    role: FolderRole,
    wanted: &str,
) {
    let listed = match api.folders(client) {
        Ok(listed) => listed,
        Err(err) => {
            let road = client.road.clone();
            refused(run, StageName::Folders, started, &err, &road, Protocol::Imap);
            return;
        }
    };
    let (err, reply, fix) = folders::missing(&listed, role, wanted, ("mailbox", "in the mailbox"));
    run.failed(StageName::Folders, started, &err, Some(&reply));
    run.report.folder_fix = fix;
}

/// The leftover check through the API: total and unread messages in `wanted`.
pub fn leftover(
    road: &ApiRoad,
    input: &IncomingInput,
    wanted: &[String],
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Leftover {
    let (mut run, client) = match begin(
        (ProbeKind::Leftover, Protocol::Imap),
        (road, &input.setting_id, &input.user),
        (&input.sign_in, input.redactor()),
        (options, route, cancel),
    ) {
        Ok(begun) => begun,
        Err(report) => return Leftover { report: *report, counts: None },
    };
    let api = api_for(road);
    let started = Instant::now();
    let mut counts = Vec::new();
    let mut listed: Option<Vec<Listed>> = None;
    for name in wanted.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        match api.counts(&client, name) {
            Ok(Some((total, unseen))) => {
                counts.push(FolderCount { folder: name.to_owned(), exists: true, total, unseen, closest: Vec::new() });
            }
            Ok(None) => {
                if listed.is_none() {
                    listed = Some(api.folders(&client).unwrap_or_default());
                }
                let closest = folders::closest_first(listed.as_deref().unwrap_or_default(), name);
                counts.push(FolderCount { folder: name.to_owned(), exists: false, total: 0, unseen: 0, closest });
            }
            Err(err) => {
                refused(&mut run, StageName::Counts, started, &err, road, Protocol::Imap);
                return Leftover { report: run.finish(), counts: None };
            }
        }
    }
    let detail = counts
        .iter()
        .map(|c| {
            if c.exists {
                format!("{}: {} ({} unseen)", c.folder, c.total, c.unseen)
            } else {
                format!("{}: not in this mailbox", c.folder)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    run.passed(StageName::Counts, started, &detail, None);
    Leftover { report: run.finish(), counts: Some(counts) }
}

/// A count from an API's JSON (a number, or absent as 0), kept within `u32`.
fn count(value: &serde_json::Value) -> u32 {
    value.as_u64().map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Whether the API would send for this sign-in, without sending anything: a message
/// with no recipient, which the API refuses only after the token, its permission and
/// Send As were accepted ("ErrorInvalidRecipients" is the yes). Readiness asks it.
pub(crate) fn would_send(
    road: &ApiRoad,
    input: &OutgoingInput,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    let (mut run, client) = match begin(
        (ProbeKind::Readiness, Protocol::Smtp),
        (road, &input.setting_id, &input.user),
        (&input.sign_in, input.redactor()),
        (options, route, cancel),
    ) {
        Ok(begun) => begun,
        Err(report) => return *report,
    };
    let started = Instant::now();
    let from = if input.send_as.is_empty() { input.user.clone() } else { input.send_as.clone() };
    let mime = format!("From: <{from}>\r\nSubject: Mail Settings readiness (not sent)\r\n\r\nnot sent\r\n");
    match api_for(road).send(&client, mime.as_bytes()) {
        Err(ApiError::Answered { status: 400, code, .. })
            if code == "ErrorInvalidRecipients" || code == "invalidArgument" =>
        {
            let detail = format!("{} would send (nothing was sent)", road.transport.label(Protocol::Smtp));
            run.passed(StageName::Send, started, &detail, None);
        }
        Ok(status) => {
            let detail = format!(
                "{} accepted a message without recipients (HTTP {status})",
                road.transport.label(Protocol::Smtp)
            );
            run.passed(StageName::Send, started, &detail, None);
        }
        Err(err) => refused(&mut run, StageName::Send, started, &err, road, Protocol::Smtp),
    }
    run.finish()
}

/// Whether the API opens the mailbox's inbox for this sign-in. Readiness asks it.
pub(crate) fn would_read(
    road: &ApiRoad,
    input: &IncomingInput,
    options: &ProbeOptions,
    route: &ProxyRoute,
    cancel: &CancelToken,
) -> Report {
    let (mut run, client) = match begin(
        (ProbeKind::Readiness, Protocol::Imap),
        (road, &input.setting_id, &input.user),
        (&input.sign_in, input.redactor()),
        (options, route, cancel),
    ) {
        Ok(begun) => begun,
        Err(report) => return *report,
    };
    let started = Instant::now();
    match api_for(road).counts(&client, "INBOX") {
        Ok(Some((total, _))) => {
            let detail = format!("{} opens the inbox ({total} messages)", road.transport.label(Protocol::Imap));
            run.passed(StageName::Folders, started, &detail, None);
        }
        Ok(None) => {
            let err = ProbeError::FolderMissing { folder: "Inbox".to_owned(), suggestion: String::new() };
            run.failed(StageName::Folders, started, &err, None);
        }
        Err(err) => refused(&mut run, StageName::Folders, started, &err, road, Protocol::Imap),
    }
    run.finish()
}

/// The scheduled check's sign-in for sending through the API: the token is had (no
/// message is sent, and Graph offers nothing cheaper that `Mail.Send` alone may call).
pub(crate) fn test_sign_in(road: &ApiRoad, input: &OutgoingInput) -> Report {
    let mut run =
        start(ProbeKind::SendingSignIn, Protocol::Smtp, &input.setting_id, road, &input.user, input.redactor());
    signed_in(&mut run, &input.sign_in, road, Protocol::Smtp);
    run.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn envelope_recipients_the_header_does_not_name_go_in_bcc() {
        let mime = b"From: ar@example.com\r\nTo: One <one@example.org>,\r\n two@example.org\r\nSubject: s\r\n\r\nTo: body@example.org\r\n";
        let same = super::with_envelope(mime, &["ONE@example.org".into(), "two@example.org".into()]);
        assert_eq!(same, mime.to_vec(), "the header names them all");
        let more = super::with_envelope(
            mime,
            &["one@example.org".into(), "hidden@example.org".into(), "body@example.org".into()],
        );
        let text = String::from_utf8(more).unwrap();
        assert!(text.starts_with("Bcc: hidden@example.org, body@example.org\r\nFrom:"), "{text}");
        let smuggled = super::with_envelope(mime, &["x@example.org\rX-Injected: yes".into()]);
        assert_eq!(smuggled, mime.to_vec(), "not an address: no header line written");
    }
}
