//! What panels ask the app to do. Panels never change app state while they
//! draw; they push a [`Command`], and the app runs the queue once per frame,
//! after everything is drawn.

use serde::{Deserialize, Serialize};

use super::jobs::JobKind;
use super::theme::ThemeChoice;
use crate::model::{CredentialKind, SettingId};
use crate::store::SignInAppChange;

/// Which top-level view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum View {
    #[default]
    MailSettings,
    Companies,
    Migration,
    SignInApps,
    Bridge,
    Health,
    Log,
}

/// A step of the migration assistant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationAction {
    /// Start, to this target (`microsoft365`, `gmail`, a provider id).
    Start(String),
    /// Start, with this OAuth setting made already as the new one (nothing created).
    Adopt(SettingId),
    ActivateNew,
    /// Set the new setting Active before its tests passed (the admin confirmed; audited).
    ActivateNewUntested,
    SwitchDefaults,
    /// The old setting Inactive, its companies moved to the new one.
    DeactivateOld,
    /// Accept that the old folders cannot be checked, with a reason.
    Acknowledge(String),
    /// The folders the leftover check counts from now on.
    SetLeftoverFolders(Vec<String>),
    /// Check the old folders once more, then delete the old setting.
    Finish,
    /// Check the old folders once more, then finish keeping the old setting Inactive.
    FinishKeepingOld,
    Rollback,
}

/// The client id (and tenant) of an organisation's sign-in app, as typed in Sign-in apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInApp {
    pub provider: String,
    pub client_id: String,
    pub tenant: Option<String>,
    /// Typed in the window (Google desktop apps): goes to the OS credential store
    /// on a job thread before the app is saved, never to the config.
    pub client_secret: Option<crate::secret::Secret>,
}

impl SignInApp {
    pub(crate) fn into_change(self) -> SignInAppChange {
        SignInAppChange {
            publishing_status: None,
            provider: self.provider,
            client_id: self.client_id,
            tenant: self.tenant,
            client_secret_expires: None,
            client_secret_stored: false,
        }
    }
}

/// A request from a panel, run by the app at the end of the frame: one variant per
/// part of the window, each matched whole where it is run (no catch-all arm), so a
/// new command the app does not handle does not compile.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The window itself: views, zoom, theme, notices, the clipboard, re-reading files.
    Window(WindowCommand),
    /// Background work: tests, Connect, the leftover check, the bridge, checking all.
    Job(JobCommand),
    /// The report panel.
    Report(ReportCommand),
    /// A row of the Mail Settings table: deleting and bringing back.
    Setting(SettingCommand),
    /// Companies and their default settings.
    Company(CompanyCommand),
    /// The migration assistant.
    Migration(MigrationCommand),
    /// The edit form's own commands.
    Form(FormCommand),
    /// Files: import, export, trusted CA certificates.
    File(FileCommand),
    /// Watching the mailboxes and where the app reaches out: alerts, the proxy, support.
    Watch(WatchCommand),
    /// Save the client id of a sign-in app (Sign-in apps).
    SaveSignInApp(SignInApp),
}

/// What the window's frame does.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowCommand {
    /// Show another top-level view.
    Show(View),
    /// View → zoom (1.0 = 100 %).
    Zoom(f32),
    /// View → theme.
    Theme(ThemeChoice),
    /// Close the message in the status bar.
    DismissNotice,
    /// Close the open question.
    CloseDialog,
    /// Put text on the clipboard (never a secret).
    CopyText(String),
    /// Re-read the config file from disk.
    Reload,
    /// Re-read the audit log.
    RefreshLog,
}

/// Work started on (or stopped on) a background thread.
#[derive(Debug, Clone, PartialEq)]
pub enum JobCommand {
    /// Start a job (test, Connect, Disconnect, leftover check) for a setting.
    Start(String, JobKind),
    /// Cancel a running job.
    Cancel(String, JobKind),
    /// Check a migration's old folders for leftover mail along the given sign-in.
    CheckLeftoverVia(String, crate::model::LeftoverRoute),
    /// Start the loopback bridge for these settings (Stop is `Cancel(jobs::BRIDGE, Bridge)`).
    StartBridge { ids: Vec<crate::model::SettingId>, ports: crate::bridge::Ports, local_tls: bool },
    /// Check every Active setting now (sign-in health and Test Incoming).
    CheckAll,
}

/// The report panel's buttons.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportCommand {
    /// Copy the shown report (redacted) to the clipboard.
    Copy,
    /// Close the report panel.
    Close,
    /// Take the server's own folder in place of a missing one (saved), then test again.
    UseServerFolder(SettingId, crate::probe::folders::FolderFix),
}

/// What is done to one setting from the table or the form.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingCommand {
    /// Ask before deleting a setting.
    AskDelete(SettingId),
    /// Move a setting to the trash (after the admin confirmed).
    Delete(SettingId),
    /// Bring back the setting deleted last.
    UndoDelete(SettingId),
}

/// Companies and their defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum CompanyCommand {
    /// Make a setting a company's default.
    SetDefault { company: String, setting: SettingId },
    /// Add a company.
    Add { id: String, name: String },
}

/// The migration assistant.
#[derive(Debug, Clone, PartialEq)]
pub enum MigrationCommand {
    /// Show the migration of this old setting.
    Select(SettingId),
    /// Open Migration with this (Basic) setting chosen to replace.
    Replace(SettingId),
    /// A migration step for the old setting.
    Step(SettingId, MigrationAction),
}

/// What the edit form asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum FormCommand {
    /// Open an empty form ("+ Add new record"), of this credential type (default Microsoft 365).
    NewRecord(Option<CredentialKind>),
    /// A new Basic record for the old setting, typed as the old system shows it; the
    /// migration assistant opens with it after Save (the welcome's migrate path).
    NewOldSetting,
    /// Open the form on an existing setting.
    Edit(SettingId),
    /// Save the open form.
    Save,
    /// Save the open form, then run this test on it.
    SaveAndTest(JobKind),
    /// Save the form after moving the companies that use the setting to this one (the setting goes Inactive).
    SaveMovingDefaults(SettingId),
    /// Save the form that sets a migration's new setting Active untested (confirmed; audited).
    SaveUntested,
    /// Close the form; asks first when there are unsaved changes.
    Cancel,
    /// Show (or stop showing) another setting beside the form.
    CompareWith(Option<SettingId>),
    /// Close the form and drop its changes (after the admin confirmed).
    Discard,
    /// Keep editing (the admin backed out of discarding).
    KeepEditing,
}

/// File menu work.
#[derive(Debug, Clone, PartialEq)]
pub enum FileCommand {
    /// File → Import…
    Import,
    /// Apply an import whose changes of trust the admin has seen.
    ImportConfirmed(std::path::PathBuf),
    /// File → Export…
    Export,
    /// File → Add trusted CA certificate…
    AddCaFile,
    /// Remove a trusted CA certificate file from the config.
    RemoveCaFile(std::path::PathBuf),
}

/// Alerts, the proxy and the support contact.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchCommand {
    /// The alert channels, and what happens to the webhook's address (kept in the OS store).
    SaveAlerts(crate::model::AlertsConfig, crate::alerts::WebhookChange),
    /// A test alert to every saved channel, on a job thread.
    SendTestAlert,
    CancelTestAlert,
    /// The proxy for sign-in and token requests, and its password when one was typed
    /// (for the OS credential store, never the config).
    SaveNetwork(crate::model::NetworkConfig, Option<crate::secret::Secret>),
    /// The support contact typed in the About box (one line; empty clears it).
    SaveSupportContact(String),
}

/// The queue panels push to during a frame.
#[derive(Debug, Default)]
pub struct CommandQueue {
    pending: Vec<Command>,
}

impl CommandQueue {
    pub fn send(&mut self, command: Command) {
        self.pending.push(command);
    }

    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.pending)
    }
}
