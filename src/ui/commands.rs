//! What panels ask the app to do. Panels never change app state while they
//! draw; they push a [`Command`], and the app runs the queue once per frame,
//! after everything is drawn.

/// A request from a panel, run by [`super::app::MailSettingsApp`] at the end of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
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
