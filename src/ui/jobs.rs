//! Background work for the window: connection tests, Connect and Disconnect
//! run on named threads and report over a channel, waking the window with
//! `request_repaint`. The window never waits on the network; every job can be
//! cancelled. The work itself is the core's (probe, oauth) — this module only
//! starts it and carries the results back.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use crate::model::{Config, MailSetting};
use crate::oauth::{self, ConnectFlow, Connected};
use crate::probe::{self, CancelToken, Diagnosis, ProbeOptions, Report};
use crate::store::Secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Outgoing,
    Incoming,
    RoundTrip,
    Detect,
    Connect,
    Disconnect,
    /// The leftover-mail audit of a migration's old setting.
    Audit,
}

impl JobKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Outgoing => "Test Outgoing",
            Self::Incoming => "Test Incoming",
            Self::RoundTrip => "Round trip",
            Self::Detect => "Detect",
            Self::Connect => "Connect",
            Self::Disconnect => "Disconnect",
            Self::Audit => "Leftover audit",
        }
    }

    fn thread_name(self) -> &'static str {
        match self {
            Self::Outgoing => "test-outgoing",
            Self::Incoming => "test-incoming",
            Self::RoundTrip => "test-roundtrip",
            Self::Detect => "detect",
            Self::Connect => "oauth-connect",
            Self::Disconnect => "oauth-disconnect",
            Self::Audit => "leftover-audit",
        }
    }
}

/// A failed Connect, ready to show.
#[derive(Debug, Clone)]
pub struct ConnectFailure {
    pub message: String,
    pub diagnosis: Option<Diagnosis>,
}

/// What a job reports back.
#[derive(Debug)]
pub enum JobEvent {
    Report {
        setting_id: String,
        kind: JobKind,
        report: Box<Report>,
    },
    /// The leftover audit of an old setting (its report and counts).
    Audit {
        setting_id: String,
        leftover: Box<probe::imap::Leftover>,
    },
    ConnectWaiting {
        setting_id: String,
        url: String,
    },
    Connected {
        setting_id: String,
        result: Result<Connected, ConnectFailure>,
    },
    Disconnected {
        setting_id: String,
        message: String,
    },
    /// The job could not start (trust store, secret store, provider set-up).
    Failed {
        setting_id: String,
        kind: JobKind,
        message: String,
    },
    /// The connection state of every OAuth setting (read from the secret store).
    Connections(std::collections::HashMap<String, oauth::ConnectionState>),
    /// The job's thread ended (always sent last).
    Finished {
        job: u64,
    },
}

#[derive(Debug)]
pub struct RunningJob {
    pub id: u64,
    pub setting_id: String,
    pub kind: JobKind,
    pub cancel: CancelToken,
    pub started: Instant,
    /// For Connect: the sign-in link once it is known.
    pub connect_url: Option<String>,
}

#[derive(Debug)]
pub struct Jobs {
    next_id: u64,
    sender: Sender<JobEvent>,
    receiver: Receiver<JobEvent>,
    pub running: Vec<RunningJob>,
    /// A connection scan is on its way.
    pub scanning: bool,
}

impl Default for Jobs {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Self { next_id: 1, sender, receiver, running: Vec::new(), scanning: false }
    }
}

/// Everything a job needs, cloned so the thread owns it.
#[derive(Debug, Clone)]
pub struct JobInput {
    pub setting: MailSetting,
    pub config: Config,
    pub secrets: Secrets,
    /// Test Outgoing's recipient.
    pub recipient: String,
}

impl Jobs {
    pub fn is_running(&self, setting_id: &str, kind: JobKind) -> bool {
        self.running.iter().any(|j| j.setting_id == setting_id && j.kind == kind)
    }

    pub fn any_running_for(&self, setting_id: &str) -> bool {
        self.running.iter().any(|j| j.setting_id == setting_id)
    }

    pub fn job(&self, setting_id: &str, kind: JobKind) -> Option<&RunningJob> {
        self.running.iter().find(|j| j.setting_id == setting_id && j.kind == kind)
    }

    pub fn cancel(&self, setting_id: &str, kind: JobKind) {
        if let Some(job) = self.job(setting_id, kind) {
            job.cancel.cancel();
        }
    }

    /// Starts a job on a named thread. A second job of the same kind for the
    /// same setting is refused (returns false).
    pub fn start(&mut self, ctx: &egui::Context, kind: JobKind, input: JobInput) -> bool {
        if self.is_running(&input.setting.id, kind) {
            return false;
        }
        let id = self.next_id;
        self.next_id += 1;
        let cancel = CancelToken::new();
        let sender = self.sender.clone();
        let (thread_cancel, thread_ctx) = (cancel.clone(), ctx.clone());
        let setting_id = input.setting.id.clone();
        let spawned = std::thread::Builder::new().name(kind.thread_name().to_owned()).spawn(move || {
            let notify = |event: JobEvent| {
                let _ = sender.send(event);
                thread_ctx.request_repaint();
            };
            run(kind, &input, &thread_cancel, &notify);
            notify(JobEvent::Finished { job: id });
        });
        match spawned {
            Ok(_) => {
                self.running.push(RunningJob {
                    id,
                    setting_id,
                    kind,
                    cancel,
                    started: Instant::now(),
                    connect_url: None,
                });
                true
            }
            Err(err) => {
                let _ =
                    self.sender.send(JobEvent::Failed { setting_id, kind, message: format!("could not start: {err}") });
                false
            }
        }
    }

    /// Reads the connection state of the OAuth settings on a background thread
    /// (the OS secret store can be slow, and there may be thousands of settings).
    pub fn scan_connections(&mut self, ctx: &egui::Context, config: &Config, secrets: &Secrets) {
        let ids: Vec<String> =
            config.mail_settings.iter().filter(|s| s.credential.uses_oauth()).map(|s| s.id.clone()).collect();
        if ids.is_empty() {
            return;
        }
        let (sender, ctx, secrets) = (self.sender.clone(), ctx.clone(), secrets.clone());
        self.scanning = true;
        let _ = std::thread::Builder::new().name("connection-scan".to_owned()).spawn(move || {
            let states = ids
                .into_iter()
                .map(|id| {
                    let state = oauth::tokens::status(&secrets, &id, true).map_or_else(
                        |err| oauth::ConnectionState::NeedsReconnect { reason: err.to_string() },
                        |s| s.state,
                    );
                    (id, state)
                })
                .collect();
            let _ = sender.send(JobEvent::Connections(states));
            ctx.request_repaint();
        });
    }

    /// The events that arrived since the last frame.
    pub fn poll(&mut self) -> Vec<JobEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            match &event {
                JobEvent::Finished { job } => self.running.retain(|j| j.id != *job),
                JobEvent::Connections(_) => self.scanning = false,
                JobEvent::ConnectWaiting { setting_id, url } => {
                    if let Some(job) =
                        self.running.iter_mut().find(|j| j.setting_id == *setting_id && j.kind == JobKind::Connect)
                    {
                        job.connect_url = Some(url.clone());
                    }
                }
                _ => {}
            }
            events.push(event);
        }
        events
    }
}

fn run(kind: JobKind, input: &JobInput, cancel: &CancelToken, notify: &dyn Fn(JobEvent)) {
    let setting_id = input.setting.id.clone();
    let fail = |message: String| notify(JobEvent::Failed { setting_id: setting_id.clone(), kind, message });
    let options = match ProbeOptions::from_config(&input.config) {
        Ok(options) => options,
        Err(err) => return fail(err.to_string()),
    };
    match kind {
        JobKind::Audit => {
            let bearer = oauth::bearer_for_probe(&input.setting, &input.config, &input.secrets, &options);
            let (_, incoming) = match probe::inputs_for(&input.setting, &input.secrets, bearer.as_ref()) {
                Ok(inputs) => inputs,
                Err(err) => return fail(err.to_string()),
            };
            let folders: Vec<String> = probe::imap::DEFAULT_LEFTOVER_FOLDERS.iter().map(|f| (*f).to_owned()).collect();
            let leftover = probe::imap::leftover(&incoming, &folders, &options, cancel);
            notify(JobEvent::Audit { setting_id: setting_id.clone(), leftover: Box::new(leftover) });
        }
        JobKind::Detect => {
            // Only the servers' addresses: no credential is read or refreshed.
            let (smtp, imap) = probe::inputs::endpoints(&input.setting);
            let report = probe::detect::detect(&setting_id, &smtp, &imap, &options, cancel);
            notify(JobEvent::Report { setting_id: setting_id.clone(), kind, report: Box::new(report) });
        }
        JobKind::Outgoing | JobKind::Incoming | JobKind::RoundTrip => {
            let bearer = oauth::bearer_for_probe(&input.setting, &input.config, &input.secrets, &options);
            let (outgoing, incoming) = match probe::inputs_for(&input.setting, &input.secrets, bearer.as_ref()) {
                Ok(inputs) => inputs,
                Err(err) => return fail(err.to_string()),
            };
            let report = match kind {
                JobKind::Outgoing => probe::smtp::test_outgoing(&outgoing, &input.recipient, &options, cancel),
                JobKind::Incoming => probe::imap::test_incoming(&incoming, &options, cancel),
                _ => probe::imap::roundtrip(&outgoing, &incoming, &options, cancel),
            };
            notify(JobEvent::Report { setting_id: setting_id.clone(), kind, report: Box::new(report) });
        }
        JobKind::Connect => {
            let flow = match ConnectFlow::start(&input.setting, &input.config) {
                Ok(flow) => flow,
                Err(err) => {
                    let failure = ConnectFailure { message: err.to_string(), diagnosis: err.diagnosis() };
                    return notify(JobEvent::Connected { setting_id: setting_id.clone(), result: Err(failure) });
                }
            };
            notify(JobEvent::ConnectWaiting { setting_id: setting_id.clone(), url: flow.url().to_owned() });
            if let Err(reason) = flow.open_browser() {
                tracing::warn!("{reason}");
            }
            let result = flow
                .finish(&input.secrets, options.tls.clone(), oauth::flow::DEFAULT_TIMEOUT, cancel)
                .map_err(|err| ConnectFailure { message: err.to_string(), diagnosis: err.diagnosis() });
            notify(JobEvent::Connected { setting_id: setting_id.clone(), result });
        }
        JobKind::Disconnect => {
            let provider = oauth::provider::resolve(&input.setting, &input.config).ok();
            let message = match oauth::tokens::disconnect(
                &input.secrets,
                &setting_id,
                provider.as_ref(),
                options.tls.clone(),
                options.connect_timeout,
            ) {
                Ok(oauth::tokens::Revocation::Revoked) => {
                    "Disconnected: the sign-in was revoked and its tokens deleted".to_owned()
                }
                Ok(oauth::tokens::Revocation::NotSupported) => "Disconnected: the tokens were deleted".to_owned(),
                Ok(oauth::tokens::Revocation::Failed(reason)) => {
                    format!("Disconnected: tokens deleted, but the provider could not revoke them ({reason})")
                }
                Err(err) => format!("Disconnect failed: {err}"),
            };
            notify(JobEvent::Disconnected { setting_id: setting_id.clone(), message });
        }
    }
}
