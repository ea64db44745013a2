//! Background work for the window: connection tests, Connect and Disconnect
//! run on named threads and report over a channel, waking the window with
//! `request_repaint`. The window never waits on the network; every job can be
//! cancelled. The work itself is the core's (probe, oauth) — this module only
//! starts it and carries the results back.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::cancel::CancelToken;
use crate::checks::{self, Check, CheckResult};
use crate::diagnosis::Diagnosis;
use crate::model::{Config, MailSetting, StoredPasswords};
use crate::oauth::{self, ConnectFlow, Connected};
use crate::probe::{self, ProbeOptions, Report};
use crate::store::{PasswordChanges, SecretKind, SecretStoreError, Secrets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Outgoing,
    Incoming,
    RoundTrip,
    Detect,
    Connect,
    /// Connect by a code entered on another device (RFC 8628).
    DeviceConnect,
    Disconnect,
    /// Counts the mail left in a setting's folders ("Check leftover mail").
    Leftover,
    /// A migration's guarded delete: checks the old folders once more and
    /// reads the new setting's connection, then the app deletes.
    FinishMigration,
    /// Which passwords the OS store holds for the setting opened in the form.
    ReadStoredPasswords,
    /// Writes the passwords typed in the form; the app saves the setting after.
    SavePasswords,
    /// The loopback bridge, serving until cancelled (the Bridge view's Stop).
    Bridge,
    /// Makes (or replaces) a setting's local bridge password.
    LocalPassword,
    /// Asks the servers whether the mailbox is ready for the end of Basic SMTP AUTH.
    Readiness,
    /// Checks every Active setting ("Check all now").
    CheckAll,
}

impl JobKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Outgoing => "Test Outgoing Settings",
            Self::Incoming => "Test Incoming Settings",
            Self::RoundTrip => "Round trip",
            Self::Detect => "Detect",
            Self::Connect => "Connect",
            Self::DeviceConnect => "Sign in on another device",
            Self::Disconnect => "Disconnect",
            Self::Leftover => "Check leftover mail",
            Self::FinishMigration => "Delete old setting",
            Self::ReadStoredPasswords => "Reading the secret store",
            Self::SavePasswords => "Saving passwords",
            Self::Bridge => "Bridge",
            Self::LocalPassword => "New local password",
            Self::Readiness => "Check readiness",
            Self::CheckAll => "Check all",
        }
    }

    fn thread_name(self) -> &'static str {
        match self {
            Self::Outgoing => "test-outgoing",
            Self::Incoming => "test-incoming",
            Self::RoundTrip => "test-roundtrip",
            Self::Detect => "detect",
            Self::Connect => "oauth-connect",
            Self::DeviceConnect => "oauth-device",
            Self::Disconnect => "oauth-disconnect",
            Self::Leftover => "leftover-check",
            Self::FinishMigration => "migration-finish",
            Self::ReadStoredPasswords => "secret-store-read",
            Self::SavePasswords | Self::LocalPassword => "secret-store-write",
            Self::Bridge => "bridge",
            Self::Readiness => "readiness",
            Self::CheckAll => "check-all",
        }
    }
}

/// A failed Connect as the window shows it: the error, and its diagnosis naming support.
fn connect_failure(err: &oauth::ConnectError, input: &JobInput) -> ConnectFailure {
    let diagnosis = err.diagnosis().map(|d| d.naming_support(&input.config.support_contact()));
    let consent_request = diagnosis
        .as_ref()
        .filter(|d| oauth::diagnose::needs_admin_consent(d))
        .and_then(|_| oauth::provider::resolve(&input.setting, &input.config).ok())
        .and_then(|provider| oauth::provider::admin_consent_request(&provider));
    ConnectFailure { message: err.to_string(), diagnosis, consent_request }
}

/// A failed Connect, ready to show.
#[derive(Debug, Clone)]
pub struct ConnectFailure {
    pub message: String,
    pub diagnosis: Option<Diagnosis>,
    /// Where users may not consent: the request (with the approval link) to forward to the tenant's administrator.
    pub consent_request: Option<String>,
}

/// What a job reports back.
/// What a view saves once the secret typed with it is stored.
#[derive(Debug, Clone)]
pub enum AfterSecret {
    /// The proxy, its password just stored.
    Network(crate::model::NetworkConfig),
    /// The alert channels, the webhook's address just stored (or removed).
    Alerts(crate::model::AlertsConfig),
    /// A sign-in app, its client secret just stored.
    SignInApp(crate::store::SignInAppChange),
}

#[derive(Debug)]
pub enum JobEvent {
    Report {
        setting_id: String,
        kind: JobKind,
        report: Box<Report>,
    },
    /// The leftover check of a setting (its report and counts).
    Leftover {
        setting_id: String,
        leftover: Box<probe::imap::Leftover>,
        /// The sign-in that opened (or failed to open) a migration's old folders.
        route: Option<crate::model::LeftoverRoute>,
    },
    /// What a migration's delete needs, read off the UI thread.
    ReadyToFinish {
        old: String,
        connection: oauth::ConnectionState,
        recheck: Box<probe::imap::Leftover>,
        /// The sign-in the re-check used.
        route: crate::model::LeftoverRoute,
        /// Keep the old setting Inactive instead of deleting it.
        keep_old: bool,
    },
    StoredPasswords {
        setting_id: String,
        result: Result<StoredPasswords, SecretStoreError>,
    },
    /// The typed passwords are in the OS store (or could not be stored).
    PasswordsSaved {
        setting_id: String,
        result: Result<(), SecretStoreError>,
    },
    ConnectWaiting {
        setting_id: String,
        url: String,
    },
    /// A device sign-in has its code: show it until the sign-in ends.
    DeviceCode {
        setting_id: String,
        code: oauth::device::DeviceCode,
        expires_at: std::time::Instant,
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
    /// The bridge listens (with local TLS: the certificate's file and SHA-256 fingerprint).
    BridgeListening {
        ports: crate::bridge::Ports,
        certificate: Option<crate::bridge::local_tls::Pins>,
    },
    /// The bridge stopped (or could not start).
    BridgeEnded {
        result: Result<(), crate::bridge::BridgeError>,
    },
    /// What each alert channel said to the test alert.
    TestAlertSent {
        told: Vec<crate::alerts::Told>,
    },
    /// A secret typed in a view is in the OS store (or could not be stored); what to save after it.
    SecretStored {
        then: AfterSecret,
        result: Result<(), SecretStoreError>,
    },
    /// A new local bridge password, to be shown once (or why it could not be made).
    LocalPassword {
        setting_id: String,
        result: Result<crate::secret::SecretText, SecretStoreError>,
    },
    /// The connection state of every OAuth setting (read from the secret store).
    /// "Check all now" finished: each Active setting's health, worst first.
    CheckedAll(Vec<crate::health::SettingHealth>),
    /// Each OAuth setting's connection, and when its refresh token was issued.
    Connections(
        std::collections::HashMap<crate::model::SettingId, (oauth::ConnectionState, Option<time::OffsetDateTime>)>,
    ),
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
    /// For Connect: the sign-in link once it is known.
    pub connect_url: Option<String>,
    /// For a device sign-in: the code to show, and when it runs out.
    pub device_code: Option<(oauth::device::DeviceCode, std::time::Instant)>,
    /// For the bridge: the sessions open now (counted by the bridge, read by the view).
    pub sessions: Option<Arc<AtomicUsize>>,
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

/// What every job works with, cloned so the thread owns it.
#[derive(Debug, Clone)]
pub struct JobInput {
    /// The setting whose servers and sign-in the job uses.
    pub setting: MailSetting,
    /// The setting the result belongs to: usually `setting`; for a migration's
    /// leftover check, the old setting read through the new one's sign-in.
    pub subject_id: String,
    pub config: Config,
    pub secrets: Secrets,
}

/// A background job and exactly what it needs beyond its [`JobInput`]: a job that
/// needs something cannot be started without it (a bridge without what to serve,
/// Test Outgoing without its recipient).
#[derive(Debug, Clone)]
pub enum Job {
    Outgoing {
        recipient: String,
    },
    Incoming,
    RoundTrip,
    Detect,
    Connect,
    DeviceConnect,
    Disconnect,
    /// A leftover check, along this sign-in (else the one that works).
    Leftover {
        route: Option<crate::model::LeftoverRoute>,
    },
    /// A migration's guarded finish: the old folders along `route`, then delete or keep the old setting.
    FinishMigration {
        route: Option<crate::model::LeftoverRoute>,
        keep_old: bool,
    },
    ReadStoredPasswords,
    SavePasswords(PasswordChanges),
    Bridge(BridgeRequest),
    LocalPassword,
    Readiness,
    /// "Check all now", its outcomes appended to this check history.
    CheckAll {
        history_file: std::path::PathBuf,
    },
}

impl Job {
    /// Which kind of job this is (what the window shows running, and refuses twice).
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Outgoing { .. } => JobKind::Outgoing,
            Self::Incoming => JobKind::Incoming,
            Self::RoundTrip => JobKind::RoundTrip,
            Self::Detect => JobKind::Detect,
            Self::Connect => JobKind::Connect,
            Self::DeviceConnect => JobKind::DeviceConnect,
            Self::Disconnect => JobKind::Disconnect,
            Self::Leftover { .. } => JobKind::Leftover,
            Self::FinishMigration { .. } => JobKind::FinishMigration,
            Self::ReadStoredPasswords => JobKind::ReadStoredPasswords,
            Self::SavePasswords(_) => JobKind::SavePasswords,
            Self::Bridge(_) => JobKind::Bridge,
            Self::LocalPassword => JobKind::LocalPassword,
            Self::Readiness => JobKind::Readiness,
            Self::CheckAll { .. } => JobKind::CheckAll,
        }
    }
}

/// What the Bridge view asked the bridge to serve.
#[derive(Debug, Clone)]
pub struct BridgeRequest {
    pub ids: Vec<crate::model::SettingId>,
    pub ports: crate::bridge::Ports,
    /// STARTTLS for the programs, with the bridge's own certificate (written beside `config_file`).
    pub local_tls: bool,
    pub config_file: std::path::PathBuf,
    pub sessions: Arc<AtomicUsize>,
}

/// The subject the bridge job runs under (it serves several settings).
pub const BRIDGE: &str = "bridge";

/// The subject of "Check all now": every Active setting.
pub const ALL: &str = "all settings";

impl JobInput {
    pub fn new(setting: MailSetting, config: Config, secrets: Secrets) -> Self {
        Self { subject_id: setting.id.clone().into(), setting, config, secrets }
    }

    /// The same, its result reported under `subject_id`.
    #[must_use]
    pub(crate) fn for_subject(mut self, subject_id: &str) -> Self {
        subject_id.clone_into(&mut self.subject_id);
        self
    }
}

impl Jobs {
    pub(crate) fn is_running(&self, setting_id: &str, kind: JobKind) -> bool {
        self.running.iter().any(|j| j.setting_id == setting_id && j.kind == kind)
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
    pub fn start(&mut self, ctx: &egui::Context, job: Job, input: JobInput) -> bool {
        let kind = job.kind();
        if self.is_running(&input.subject_id, kind) {
            return false;
        }
        let id = self.next_id;
        self.next_id += 1;
        let cancel = CancelToken::new();
        let sender = self.sender.clone();
        let (thread_cancel, thread_ctx) = (cancel.clone(), ctx.clone());
        let setting_id = input.subject_id.clone();
        let sessions = match &job {
            Job::Bridge(request) => Some(request.sessions.clone()),
            _ => None,
        };
        let spawned = std::thread::Builder::new().name(kind.thread_name().to_owned()).spawn(move || {
            let notify = |event: JobEvent| {
                let _ = sender.send(event);
                thread_ctx.request_repaint();
            };
            // A job that panics still reports, and still finishes: the window never waits on it.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(job, &input, &thread_cancel, &notify);
            }));
            if ran.is_err() {
                let message = "it stopped on an internal error (see the log)".to_owned();
                notify(JobEvent::Failed { setting_id: input.subject_id.clone(), kind, message });
            }
            notify(JobEvent::Finished { job: id });
        });
        match spawned {
            Ok(_) => {
                self.running.push(RunningJob {
                    id,
                    setting_id,
                    kind,
                    cancel,
                    connect_url: None,
                    device_code: None,
                    sessions,
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

    /// Runs `work` on a named background thread — every thread the window starts besides
    /// a [`Self::start`]ed job goes through here: a panic in it is caught and logged (the
    /// window never waits on it), and what it reports arrives over the channel with a
    /// repaint of `ctx`.
    fn background(
        &self,
        ctx: Option<&egui::Context>,
        name: &'static str,
        work: impl FnOnce() -> Option<JobEvent> + Send + 'static,
    ) {
        let (sender, ctx) = (self.sender.clone(), ctx.cloned());
        let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
                Ok(Some(event)) => {
                    let _ = sender.send(event);
                    if let Some(ctx) = ctx {
                        ctx.request_repaint();
                    }
                }
                Ok(None) => {}
                Err(_) => tracing::error!("the background work {name} stopped on an internal error"),
            }
        });
        if let Err(err) = spawned {
            tracing::warn!("could not start {name}: {err}");
        }
    }

    /// Reads the connection state of the OAuth settings on a background thread
    /// (the OS secret store can be slow, and there may be thousands of settings).
    pub(crate) fn scan_connections(&mut self, ctx: &egui::Context, config: &Config, secrets: &Secrets) {
        let ids: Vec<crate::model::SettingId> =
            config.mail_settings.iter().filter(|s| s.uses_oauth()).map(|s| s.id.clone()).collect();
        if ids.is_empty() {
            return;
        }
        let secrets = secrets.clone();
        self.scanning = true;
        self.background(Some(ctx), "connection-scan", move || {
            let states = ids
                .into_iter()
                .map(|id| {
                    let state = oauth::tokens::status(&secrets, &id, true).map_or_else(
                        |err| (oauth::ConnectionState::NeedsReconnect { reason: err.to_string() }, None),
                        |s| (s.state, s.refresh_token_issued_at.map(crate::clock::Timestamp::moment)),
                    );
                    (id, state)
                })
                .collect();
            Some(JobEvent::Connections(states))
        });
    }

    /// Removes secrets off the UI thread (an OS store can be slow, or ask): those of
    /// settings pushed out of the trash, those an import must not carry over.
    pub(crate) fn remove_secrets(&self, secrets: &Secrets, remove: impl FnOnce(&Secrets) + Send + 'static) {
        let secrets = secrets.clone();
        self.background(None, "secret-store-purge", move || {
            remove(&secrets);
            None
        });
    }

    /// Sends the test alert to every channel `config` saves, off the UI thread (a webhook
    /// or an email may take seconds); what each said comes back in [`JobEvent::TestAlertSent`].
    pub(crate) fn send_test_alert(&self, ctx: &egui::Context, config: Config, secrets: &Secrets, cancel: CancelToken) {
        let secrets = secrets.clone();
        self.background(Some(ctx), "test-alert", move || {
            let told = crate::alerts::tell(&crate::alerts::test_change(), &config, &secrets, &cancel);
            Some(JobEvent::TestAlertSent { told })
        });
    }

    /// Stores (or, with `None`, removes) a secret typed in a view in the OS store, off
    /// the UI thread; what to save after it comes back in [`JobEvent::SecretStored`].
    pub(crate) fn store_secret_then(
        &self,
        ctx: &egui::Context,
        secrets: &Secrets,
        (owner, kind): (crate::store::SecretOwner, SecretKind),
        secret: Option<crate::secret::Secret>,
        then: AfterSecret,
    ) {
        let secrets = secrets.clone();
        self.background(Some(ctx), "secret-store-write", move || {
            let result = match &secret {
                Some(secret) => secrets.set(&owner, kind, secret),
                None => secrets.delete(&owner, kind),
            };
            Some(JobEvent::SecretStored { then, result })
        });
    }

    /// Copies the old setting's relay password to a migration's new setting, off the UI thread.
    pub(crate) fn copy_relay_password(&self, secrets: &Secrets, relay: crate::migration::RelayCopy) {
        let secrets = secrets.clone();
        self.background(None, "secret-store-copy", move || {
            if let Err(err) = relay.copy(&secrets) {
                tracing::warn!("could not copy the relay password to {}: {err}", relay.new_id());
            }
            None
        });
    }

    /// The events that arrived since the last frame.
    pub fn poll(&mut self) -> Vec<JobEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            match &event {
                JobEvent::Finished { job } => self.running.retain(|j| j.id != *job),
                JobEvent::Connections(_) => self.scanning = false,
                JobEvent::DeviceCode { setting_id, code, expires_at } => {
                    if let Some(job) = self
                        .running
                        .iter_mut()
                        .find(|j| j.setting_id == *setting_id && j.kind == JobKind::DeviceConnect)
                    {
                        job.device_code = Some((code.clone(), *expires_at));
                    }
                }
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

/// Serves the bridge until cancelled; the local TLS key is read from (or made
/// into) the secret store here, off the UI thread.
fn run_bridge(request: &BridgeRequest, input: &JobInput, cancel: &CancelToken, notify: &dyn Fn(JobEvent)) {
    let local_tls =
        request.local_tls.then(|| crate::bridge::local_tls::load_or_create(&input.secrets, &request.config_file));
    let local_tls = match local_tls.transpose() {
        Ok(local_tls) => local_tls,
        Err(err) => return notify(JobEvent::BridgeEnded { result: Err(err) }),
    };
    let certificate = local_tls.as_ref().map(crate::bridge::LocalTls::pins);
    let listen = crate::bridge::Listen { ports: request.ports, local_tls };
    let on_listening = |ports| notify(JobEvent::BridgeListening { ports, certificate: certificate.clone() });
    let result = crate::bridge::run_counting(
        &input.config,
        &input.secrets,
        &request.ids,
        &listen,
        cancel,
        on_listening,
        &request.sessions,
    );
    notify(JobEvent::BridgeEnded { result });
}

fn run(job: Job, input: &JobInput, cancel: &CancelToken, notify: &dyn Fn(JobEvent)) {
    let kind = job.kind();
    let setting_id = input.subject_id.clone();
    // Secret-store jobs need no trust store; checks resolve their own (crate::checks).
    match job {
        Job::ReadStoredPasswords => {
            let result = input.secrets.stored_passwords(&input.setting.id);
            notify(JobEvent::StoredPasswords { setting_id: setting_id.clone(), result });
        }
        Job::SavePasswords(passwords) => {
            let result = save_passwords(&input.secrets, &input.setting.id, &passwords);
            notify(JobEvent::PasswordsSaved { setting_id: setting_id.clone(), result });
        }
        Job::LocalPassword => {
            let result = crate::bridge::new_local_password(&input.secrets, &input.setting.id)
                .map(|p| crate::secret::SecretText::new(p.expose()));
            notify(JobEvent::LocalPassword { setting_id: setting_id.clone(), result });
        }
        Job::Bridge(request) => run_bridge(&request, input, cancel, notify),
        Job::CheckAll { history_file } => {
            let options = crate::health::CheckAll { outgoing_to: None, at_once: 8 };
            let results = crate::health::check_all(&input.config, &input.secrets, &options, cancel);
            crate::store::history::append(&history_file, &crate::health::history_entries(&results));
            notify(JobEvent::CheckedAll(results));
        }
        Job::Readiness => {
            let event = match crate::readiness::check(&input.setting, &input.config, &input.secrets, cancel) {
                Ok(report) => JobEvent::Report { setting_id: setting_id.clone(), kind, report: Box::new(report) },
                Err(err) => JobEvent::Failed { setting_id: setting_id.clone(), kind, message: err.to_string() },
            };
            notify(event);
        }
        Job::Leftover { .. }
        | Job::FinishMigration { .. }
        | Job::Detect
        | Job::Outgoing { .. }
        | Job::Incoming
        | Job::RoundTrip => run_check(&job, input, cancel, notify),
        Job::Connect | Job::DeviceConnect | Job::Disconnect => run_sign_in(&job, input, cancel, notify),
    }
}

/// Connect (in the browser or on another device) and Disconnect: they talk to the
/// authorization server.
fn run_sign_in(job: &Job, input: &JobInput, cancel: &CancelToken, notify: &dyn Fn(JobEvent)) {
    let kind = job.kind();
    let setting_id = input.subject_id.clone();
    let fail = |message: String| notify(JobEvent::Failed { setting_id: setting_id.clone(), kind, message });
    let options = match ProbeOptions::from_config(&input.config) {
        Ok(options) => options,
        Err(err) => return fail(err.to_string()),
    };
    // The proxy the config names (its password read here, off the UI thread: the store may wait).
    let route = oauth::http::route_for(&input.config.network, &input.secrets);
    if matches!(job, Job::Disconnect) {
        let provider = oauth::provider::resolve(&input.setting, &input.config).ok();
        let revoked = oauth::tokens::disconnect(
            &input.secrets,
            &setting_id,
            provider.as_ref(),
            (options.tls, &route),
            options.connect_timeout,
        );
        let message = match revoked {
            Ok(revocation) => format!("Disconnected: {}", revocation.summary()),
            Err(err) => format!("Disconnect failed: {err}"),
        };
        return notify(JobEvent::Disconnected { setting_id, message });
    }
    if matches!(job, Job::DeviceConnect) {
        let sign_in = match oauth::device::DeviceSignIn::start(
            &input.setting,
            &input.config,
            &input.secrets,
            (options.tls.clone(), &route),
        ) {
            Ok(sign_in) => sign_in,
            Err(err) => {
                let failure = connect_failure(&err, input);
                return notify(JobEvent::Connected { setting_id, result: Err(failure) });
            }
        };
        notify(JobEvent::DeviceCode {
            setting_id: setting_id.clone(),
            code: sign_in.code(),
            expires_at: sign_in.expires_at(),
        });
        let result =
            sign_in.finish(&input.secrets, (options.tls, &route), cancel).map_err(|err| connect_failure(&err, input));
        return notify(JobEvent::Connected { setting_id, result });
    }
    let flow = match ConnectFlow::start(&input.setting, &input.config) {
        Ok(flow) => flow,
        Err(err) => {
            let failure = connect_failure(&err, input);
            return notify(JobEvent::Connected { setting_id, result: Err(failure) });
        }
    };
    notify(JobEvent::ConnectWaiting { setting_id: setting_id.clone(), url: flow.url().to_owned() });
    if let Err(reason) = flow.open_browser() {
        tracing::warn!("{reason}");
    }
    let result = flow
        .finish(&input.secrets, (options.tls, &route), oauth::flow::DEFAULT_TIMEOUT, cancel)
        .map_err(|err| connect_failure(&err, input));
    notify(JobEvent::Connected { setting_id, result });
}

/// A connection check, run the one way the CLI runs it too ([`crate::checks`]).
fn run_check(job: &Job, input: &JobInput, cancel: &CancelToken, notify: &dyn Fn(JobEvent)) {
    let kind = job.kind();
    let setting_id = input.subject_id.clone();
    let check = match job {
        Job::Outgoing { recipient } => Check::Outgoing { to: recipient.clone() },
        Job::Incoming => Check::Incoming,
        Job::RoundTrip => Check::RoundTrip,
        Job::Leftover { .. } | Job::FinishMigration { .. } => {
            Check::Leftover { folders: crate::migration::leftover_folders(&input.config, &setting_id) }
        }
        _ => Check::Detect,
    };
    let outcome = match checks::run(&check, &input.setting, &setting_id, &input.config, &input.secrets, cancel) {
        Ok(outcome) => outcome,
        Err(err) => return notify(JobEvent::Failed { setting_id, kind, message: err.to_string() }),
    };
    let event = match (job, outcome) {
        (Job::FinishMigration { route, keep_old }, CheckResult::Leftover(recheck)) => {
            let connection = crate::migration::connection_of(&input.config, &input.secrets, &setting_id);
            let route = route.unwrap_or(crate::model::LeftoverRoute::OldSignIn);
            JobEvent::ReadyToFinish { old: setting_id, connection, recheck, route, keep_old: *keep_old }
        }
        (Job::Leftover { route }, CheckResult::Leftover(leftover)) => {
            JobEvent::Leftover { setting_id, leftover, route: *route }
        }
        (_, CheckResult::Leftover(leftover)) => JobEvent::Leftover { setting_id, leftover, route: None },
        (_, CheckResult::Report(report)) => JobEvent::Report { setting_id, kind, report },
    };
    notify(event);
}

/// Stores the typed passwords; the first failure is reported (the config is
/// saved only after this succeeds, so it never names a password that is not there).
fn save_passwords(secrets: &Secrets, setting_id: &str, passwords: &PasswordChanges) -> Result<(), SecretStoreError> {
    for (kind, password) in [(SecretKind::SmtpPassword, &passwords.smtp), (SecretKind::ImapPassword, &passwords.imap)] {
        if let Some(password) = password {
            secrets.set(setting_id, kind, password)?;
        }
    }
    Ok(())
}
