//! What panels ask the app to do. Panels never change app state while they
//! draw; they push a [`Command`], and the app runs the queue once per frame,
//! after everything is drawn.

use super::jobs::JobKind;

/// Which top-level view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    MailSettings,
    Companies,
    Migration,
    Log,
}

/// A step of the migration assistant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationAction {
    /// Start, to this target (`microsoft365`, `gmail`, a provider id).
    Start(String),
    ActivateNew,
    SwitchDefaults,
    DeactivateOld,
    Acknowledge(String),
    Finish,
    Rollback,
}

/// A request from a panel, run by [`super::app::MailSettingsApp`] at the end of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Show another top-level view.
    ShowView(View),
    /// Start a background job (test, Connect, Disconnect) for a setting.
    StartJob(String, JobKind),
    /// Cancel a running job.
    CancelJob(String, JobKind),
    /// Put text on the clipboard (never a secret).
    CopyText(String),
    /// Copy the shown report (redacted) to the clipboard.
    CopyReport,
    /// Close the report panel.
    CloseReport,
    /// Show (or stop showing) another setting beside the form.
    CompareWith(Option<String>),
    /// Make a setting a company's default.
    SetDefault { company: String, setting: String },
    /// Add a company.
    AddCompany { id: String, name: String },
    /// File → Import…
    Import,
    /// File → Export…
    Export,
    /// File → Add trusted CA certificate…
    AddCaFile,
    /// Show the migration of this old setting.
    SelectMigration(String),
    /// A migration step for the old setting.
    Migration(String, MigrationAction),
    /// Re-read the audit log.
    RefreshLog,
    /// Remove a trusted CA certificate file from the config.
    RemoveCaFile(std::path::PathBuf),
    /// Open an empty form ("+ Add new record").
    NewRecord,
    /// Open the form on an existing setting.
    Edit(String),
    /// Save the open form.
    SaveForm,
    /// Close the form; asks first when there are unsaved changes.
    CancelForm,
    /// Close the form and drop its changes (after the admin confirmed).
    DiscardForm,
    /// Keep editing (the admin backed out of discarding).
    KeepEditing,
    /// Move a setting to the trash.
    Delete(String),
    /// Bring back the setting deleted last.
    UndoDelete(String),
    /// Re-read the config file from disk.
    Reload,
    /// Close the message in the status bar.
    DismissNotice,
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
