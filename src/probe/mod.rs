//! Connection tests against real mail servers: Test Outgoing (SMTP, two
//! messages in one session), Test Incoming (IMAP sign-in and folders), the
//! round trip (SMTP → IMAP), security-mode detection and the leftover-mail
//! count — and the bridge's upstream sign-in (`sign_in_to_pass_through`), so
//! there is one SMTP and one IMAP client in the program. `net` holds sockets,
//! deadlines, TLS and cancel. Every probe returns a staged [`Report`] whose
//! failure has a typed kind; none of this knows egui.
//!
//! Rules every probe keeps: each network step has a deadline and can be
//! cancelled from another thread; credentials are only ever written to a TLS
//! stream; nothing a server sends can panic the probe or make it buffer
//! without bound; every text that enters a report is redacted.

pub mod detect;
pub mod diagnose;
pub mod error;
pub mod folders;
pub mod imap;
pub(crate) mod imap_dialogue;
mod imap_replies;
pub mod inputs;
pub mod net;
pub mod report;
mod signatures;
pub mod smtp;
pub(crate) mod smtp_dialogue;

use crate::cancel::CancelToken;
use crate::tls;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use diagnose::Protocol;
pub use error::ProbeError;
pub use inputs::{Endpoint, IncomingInput, OutgoingInput, SignIn, TokenFailure, inputs_for};
pub use report::{ProbeKind, Report, Stage, StageName, StageOutcome};

use crate::model::Security;
use diagnose::{Symptom, diagnose};
use net::GuardedStream;

/// Timeouts and trust for a probe run.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub connect_timeout: Duration,
    pub step_timeout: Duration,
    /// How long a silent server may wait before a wrong security mode is suspected.
    pub wrong_mode_after: Duration,
    /// How long the round trip waits for the message to arrive.
    pub delivery_timeout: Duration,
    pub tls: Arc<rustls::ClientConfig>,
    /// The name sent in EHLO.
    pub client_name: String,
}

impl ProbeOptions {
    pub const DEFAULT_CONNECT_SECS: u64 = 10;
    /// The longest any wait from the config lasts: one day.
    pub const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;
    pub const DEFAULT_STEP_SECS: u64 = 20;

    pub fn new(tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            connect_timeout: Duration::from_secs(Self::DEFAULT_CONNECT_SECS),
            step_timeout: Duration::from_secs(Self::DEFAULT_STEP_SECS),
            wrong_mode_after: Duration::from_millis(1500),
            delivery_timeout: Duration::from_secs(60),
            tls,
            client_name: "mailsettings.localhost".to_owned(),
        }
    }
}

impl ProbeOptions {
    /// Options from the config file: its timeouts and its extra CA files.
    pub fn from_config(config: &crate::model::Config) -> Result<Self, tls::TrustError> {
        let mut options = Self::new(tls::client_config(&config.tls.extra_ca_files)?);
        // 0 means the default; anything past a day is a day (a number typed by hand never panics).
        let seconds = |value: u64, default: u64| {
            Duration::from_secs(if value == 0 { default } else { value.min(Self::MAX_TIMEOUT_SECS) })
        };
        options.connect_timeout = seconds(config.probe.connect_timeout_secs, Self::DEFAULT_CONNECT_SECS);
        options.step_timeout = seconds(config.probe.step_timeout_secs, Self::DEFAULT_STEP_SECS);
        options.delivery_timeout = seconds(config.probe.delivery_timeout_secs, 60);
        Ok(options)
    }
}

/// One probe in progress: its report, and what a diagnosis needs to know.
pub(crate) struct Run {
    pub report: Report,
    pub protocol: Protocol,
    pub endpoint: Endpoint,
    /// Who signs in: fills the diagnoses' commands ("Set-CASMailbox <mailbox> …").
    pub who: String,
}

impl Run {
    pub fn new(
        kind: ProbeKind,
        setting_id: &str,
        protocol: Protocol,
        endpoint: &Endpoint,
        who: &str,
        redactor: report::Redactor,
    ) -> Self {
        let target = format!("{}:{} ({}) as {who}", endpoint.host, endpoint.port, endpoint.security.label());
        Self {
            report: Report::new(kind, setting_id, &target, redactor),
            protocol,
            endpoint: endpoint.clone(),
            who: who.trim().to_owned(),
        }
    }

    pub fn passed(&mut self, name: StageName, started: Instant, detail: &str, reply: Option<&str>) {
        self.report.stage(name, started.elapsed(), StageOutcome::Passed, detail, reply);
    }

    pub(crate) fn warned(&mut self, name: StageName, started: Instant, detail: &str, reply: Option<&str>) {
        self.report.stage(name, started.elapsed(), StageOutcome::Warning, detail, reply);
    }

    /// Records a failed stage and its diagnosis. Only the first failure diagnoses.
    pub fn failed(&mut self, name: StageName, started: Instant, error: &ProbeError, reply: Option<&str>) {
        self.report.failure.get_or_insert(error.failure_kind());
        let detail = error.to_string();
        self.report.stage(name, started.elapsed(), StageOutcome::Failed, &detail, reply);
        if self.report.diagnosis.is_none() {
            let mut symptom = Symptom::of(
                error,
                name,
                self.protocol,
                &self.endpoint.host,
                self.endpoint.port,
                self.endpoint.security,
            );
            if let Some(reply) = reply {
                symptom.text = format!("{} {reply}", symptom.text);
            }
            let diagnosis = diagnose(&symptom).for_mailbox(&self.who);
            // A limit reached or a passing server problem is worth trying again later,
            // whatever the protocol called it (IMAP says NO to all of them).
            if diagnose::is_temporary(diagnosis.signature) {
                self.report.failure = Some(report::FailureKind::Temporary);
            }
            self.report.set_diagnosis(diagnosis);
        }
    }

    /// The sign-in stage failed before anything was sent: no credential, no token just
    /// now, or a token refused — with the refusal's own diagnosis when it has one.
    pub(crate) fn sign_in_unusable(
        &mut self,
        started: Instant,
        err: &ProbeError,
        diagnosis: Option<crate::diagnosis::Diagnosis>,
    ) {
        if let Some(diagnosis) = diagnosis {
            self.report.failure = Some(err.failure_kind());
            self.report.set_diagnosis(diagnosis);
        }
        self.failed(StageName::Authentication, started, err, None);
    }

    pub fn finish(self) -> Report {
        self.report
    }
}

/// A session signed in over TLS with nothing sent after the sign-in: what the
/// bridge passes a program's session through. Dropping it closes the connection.
#[derive(Debug)]
pub struct SignedIn {
    pub socket: std::net::TcpStream,
    pub tls: rustls::ClientConnection,
}

impl SignedIn {
    fn from_stream(stream: GuardedStream, mut run: Run) -> Result<Self, Box<Report>> {
        let started = Instant::now();
        match stream.into_tls() {
            Some((socket, tls)) => Ok(Self { socket, tls }),
            None => {
                let err = ProbeError::Protocol("the connection is not encrypted".to_owned());
                run.failed(StageName::Authentication, started, &err, None);
                Err(Box::new(run.finish()))
            }
        }
    }
}

/// Name lookup, TCP connect and (for TLS on connect) the handshake, each a stage.
pub(crate) fn open(run: &mut Run, options: &ProbeOptions, cancel: &CancelToken) -> Option<GuardedStream> {
    let endpoint = run.endpoint.clone();
    let started = Instant::now();
    let addrs = match net::resolve(&endpoint.host, endpoint.port, options.connect_timeout, cancel) {
        Ok(addrs) => addrs,
        Err(err) => {
            run.failed(StageName::Dns, started, &err, None);
            return None;
        }
    };
    let listed: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    run.passed(StageName::Dns, started, &listed.join(", "), None);

    let started = Instant::now();
    let socket = match net::connect(&addrs, options.connect_timeout, cancel) {
        Ok(socket) => socket,
        Err(err) => {
            run.failed(StageName::Connect, started, &err, None);
            return None;
        }
    };
    let peer = socket.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    run.passed(StageName::Connect, started, &format!("connected to {peer}"), None);
    let mut stream = GuardedStream::new(socket, cancel.clone());
    if endpoint.security == Security::Tls && !start_tls(run, &mut stream, options) {
        return None;
    }
    Some(stream)
}

/// Runs the TLS handshake as its own stage.
pub(crate) fn start_tls(run: &mut Run, stream: &mut GuardedStream, options: &ProbeOptions) -> bool {
    let started = Instant::now();
    let name = match tls::server_name(&run.endpoint.host) {
        Ok(name) => name,
        Err(reason) => {
            run.failed(StageName::Tls, started, &ProbeError::Tls(reason.into()), None);
            return false;
        }
    };
    stream.begin_step(options.step_timeout);
    let result = stream.start_tls(options.tls.clone(), name).and_then(|()| {
        stream.handshake().map_err(|e| match ProbeError::from_io(&e) {
            ProbeError::Io(_) => ProbeError::Tls(error::TlsFailure::from_io(&e)),
            other => other,
        })
    });
    match result {
        Ok(()) => {
            let summary = stream.tls_connection().map(tls::summarize);
            let detail = summary.as_ref().map_or_else(|| "encrypted".to_owned(), tls::TlsSummary::describe);
            match summary {
                Some(s) if s.days_left < 14 => {
                    run.warned(StageName::Tls, started, &format!("{detail} — renew soon"), None);
                }
                _ => run.passed(StageName::Tls, started, &detail, None),
            }
            true
        }
        Err(err) => {
            run.failed(StageName::Tls, started, &err, None);
            false
        }
    }
}

/// Reads a plain-text greeting with `read`. A server silent for
/// `wrong_mode_after` is checked for TLS on a second connection, so a
/// TLS-on-connect port is explained in about two seconds instead of a timeout;
/// otherwise the wait goes on to the step timeout.
pub(crate) fn read_plain_greeting<T>(
    stream: &mut GuardedStream,
    run: &Run,
    options: &ProbeOptions,
    cancel: &CancelToken,
    mut read: impl FnMut(&mut GuardedStream) -> Result<T, ProbeError>,
) -> Result<T, ProbeError> {
    stream.begin_step(options.wrong_mode_after);
    match read(stream) {
        Err(ProbeError::TimedOut(_)) => {
            // A server that began a plain-text greeting is not waiting for TLS: it is slow.
            if !stream.heard_anything() && detect::answers_tls(&run.endpoint, options, cancel) {
                return Err(ProbeError::WrongSecurityMode(format!(
                    "port {} sent no greeting for {:.1} s but answered a TLS handshake: it expects TLS on connect",
                    run.endpoint.port,
                    options.wrong_mode_after.as_secs_f32()
                )));
            }
            stream.begin_step(options.step_timeout.saturating_sub(options.wrong_mode_after));
            read(stream).map_err(|err| match err {
                ProbeError::TimedOut(_) if !stream.heard_anything() => {
                    ProbeError::Silent { secs: options.step_timeout.as_secs() }
                }
                other => other,
            })
        }
        other => other,
    }
}

/// A SASL challenge or response as text (base64 decoded); what is not base64 as it came.
pub(crate) fn decode_base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|_| text.to_owned())
}

/// A unique id for a test run, carried in every test message.
pub(crate) fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
