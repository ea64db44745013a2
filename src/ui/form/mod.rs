//! The edit form: one mail setting, grouped like the customer's setup guide
//! (Outgoing SMTP settings, Incoming IMAP settings), validated as the admin
//! types. The form edits a copy; nothing changes until Save.
//!
//! The form's state and its frame live here; its parts are one file each:
//! `sections` (General, Outgoing SMTP, Incoming IMAP), `connection` (Connect and
//! the tests), `compare` (the setting being replaced, side by side).

mod compare;
mod connection;
pub use connection::consent_request_ui;
mod sections;

use crate::secret::SecretText;
use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, FormCommand, MigrationAction, View};
use super::jobs::JobKind;
use crate::model::validate::{Rule, Severity, has_errors};
use crate::model::{Config, CredentialKind, Finding, MailSetting, Preset, StoredPasswords};
use crate::oauth::ConnectionState;
use crate::secret::Secret;
use crate::store::PasswordChanges;
use crate::ui::commands::{MigrationCommand, SettingCommand, WindowCommand};

/// The form's state: a draft of the setting plus what the admin typed that is
/// not part of the setting itself (port text, passwords).
#[derive(Debug)]
pub struct EditForm {
    /// `None` for a new record.
    original: Option<MailSetting>,
    draft: MailSetting,
    smtp_port_text: String,
    imap_port_text: String,
    smtp_password: SecretText,
    imap_password: SecretText,
    /// Which passwords the OS store holds; `None` while a job thread asks it.
    stored: Option<StoredPasswords>,
    /// Set when the OS store could not say which passwords exist.
    secret_store_problem: Option<String>,
    /// Set after a Save attempt: from then on every finding is shown.
    save_attempted: bool,
    /// The "discard changes?" question is open.
    pub confirming_discard: bool,
    /// A new record's starting point (its type's preset), for `is_dirty`.
    original_blank: Option<MailSetting>,
    /// The last Connect's messages shown whole ("more"), not just their first line.
    connect_messages_open: bool,
    /// Why this form is open, said under its title (the welcome's migrate path).
    pub note: Option<String>,
}

/// What the form shows besides the setting: read from app state each frame.
#[derive(Debug)]
pub struct FormContext<'a> {
    pub config: &'a Config,
    pub read_only: bool,
    pub compare_with: Option<&'a str>,
    pub connection: &'a ConnectionState,
    /// The sign-in link while Connect waits for the browser.
    pub connect_waiting: Option<&'a str>,
    /// A device sign-in is running: its code once the provider gave one.
    pub device_waiting: Option<Option<&'a (crate::oauth::device::DeviceCode, std::time::Instant)>>,
    /// The outcome of the last Connect / Disconnect (account, warnings, diagnosis).
    pub connect_messages: &'a [String],
    /// After a sign-in that needs the tenant administrator's approval: the request to forward.
    pub consent_request: Option<&'a str>,
    /// A Google app that may be in Testing: when this sign-in ends, in words.
    pub testing_clock: Option<String>,
    /// Jobs running for this setting.
    pub running: Vec<JobKind>,
    pub busy: bool,
    /// Test Outgoing's recipient, remembered between tests.
    pub recipient: &'a mut String,
    /// Test Outgoing was pressed with no address: focus the field and say so.
    pub ask_recipient: &'a mut bool,
    /// Save is waiting for the secret store.
    pub saving: bool,
}

/// Width of the label column, shared by the three grids so they line up.
const LABEL_WIDTH: f32 = 150.0;

/// What Save needs from the form.
#[derive(Debug)]
pub struct FormOutput {
    pub setting: MailSetting,
    pub passwords: PasswordChanges,
}

impl EditForm {
    /// An empty form of this credential type, its provider's servers filled in.
    pub(crate) fn new_record(credential: CredentialKind) -> Self {
        let mut draft = MailSetting { credential, ..MailSetting::default() };
        if let Some(preset) = Preset::for_credential(credential) {
            preset.apply(&mut draft);
        }
        let mut form = Self::from_setting(None, draft, Some(StoredPasswords::default()));
        // A new record's baseline is the empty setting of its type, so "unsaved changes" means typed ones.
        form.original_blank = Some(form.draft.clone());
        form
    }

    /// The form on a saved setting. `stored_known`: no need to ask the secret
    /// store (an OAuth setting keeps no password); else [`Self::set_stored`] follows.
    pub fn edit(setting: &MailSetting, stored_known: bool) -> Self {
        Self::from_setting(Some(setting.clone()), setting.clone(), stored_known.then(StoredPasswords::default))
    }

    /// What the secret store said (from a job thread).
    pub(crate) fn set_stored(&mut self, stored: Result<StoredPasswords, crate::store::SecretStoreError>) {
        match stored {
            Ok(stored) => self.stored = Some(stored),
            Err(problem) => {
                self.stored = Some(StoredPasswords::default());
                self.secret_store_problem = Some(problem.to_string());
            }
        }
    }

    fn from_setting(original: Option<MailSetting>, draft: MailSetting, stored: Option<StoredPasswords>) -> Self {
        Self {
            smtp_port_text: draft.smtp.port.to_string(),
            imap_port_text: draft.imap.port.to_string(),
            original,
            draft,
            smtp_password: SecretText::default(),
            imap_password: SecretText::default(),
            stored,
            secret_store_problem: None,
            save_attempted: false,
            confirming_discard: false,
            original_blank: None,
            connect_messages_open: false,
            note: None,
        }
    }

    /// The server's folder, saved elsewhere already: in the draft and its baseline alike.
    pub(crate) fn take_server_folder(&mut self, fix: &crate::probe::folders::FolderFix) {
        use crate::probe::folders::FolderRole;
        let settings = std::iter::once(&mut self.draft).chain(self.original.as_mut());
        for setting in settings {
            let field = match fix.role {
                FolderRole::Inbox => &mut setting.imap.inbox_folder,
                FolderRole::Sent => &mut setting.imap.sent_folder,
            };
            fix.server_folder.clone_into(field);
        }
    }

    pub(crate) fn is_new(&self) -> bool {
        self.original.is_none()
    }

    /// A new record that stands for the old system's setting, typed as it shows it: kept
    /// Inactive (a record to migrate from, which never connects), so neither its
    /// passwords nor a host the guide itself misprints ("office365.com") stop its Save.
    pub(crate) fn as_old_system_record(&mut self) {
        self.draft.active = false;
    }

    /// The id of the setting being edited (`None` for a new record).
    pub(crate) fn editing_id(&self) -> Option<&str> {
        self.original.as_ref().map(|s| s.id.as_str())
    }

    pub(crate) fn is_dirty(&self) -> bool {
        let baseline = self.original.clone().or_else(|| self.original_blank.clone()).unwrap_or_default();
        self.draft != baseline
            || !self.smtp_password.is_empty()
            || !self.imap_password.is_empty()
            || self.smtp_port_text != baseline.smtp.port.to_string()
            || self.imap_port_text != baseline.imap.port.to_string()
    }

    /// Which passwords the setting will have after Save.
    /// While the store has not answered, stored passwords are assumed (Save
    /// then keeps whatever is there rather than asking for it again).
    fn passwords_after_save(&self) -> StoredPasswords {
        let stored = self.stored.unwrap_or(StoredPasswords { smtp: true, imap: true });
        StoredPasswords {
            smtp: stored.smtp || !self.smtp_password.is_empty(),
            imap: stored.imap || !self.imap_password.is_empty(),
        }
    }

    /// The setting as it would be saved (a new record gets an id from its description).
    fn candidate(&self, config: &Config) -> MailSetting {
        let mut setting = self.draft.clone();
        if self.is_new() {
            setting.id = config.unused_id(&setting.description);
        }
        setting
    }

    pub(crate) fn findings(&self, config: &Config) -> Vec<Finding> {
        crate::model::validate_setting(&self.candidate(config), config, self.passwords_after_save())
    }

    /// Checks the form; on success, what to save. On failure every finding becomes visible.
    pub(crate) fn prepare_save(&mut self, config: &Config) -> Result<FormOutput, usize> {
        self.save_attempted = true;
        let findings = self.findings(config);
        if has_errors(&findings) {
            return Err(findings.iter().filter(|f| f.severity == Severity::Error).count());
        }
        let take = |typed: &SecretText| (!typed.is_empty()).then(|| Secret::new(typed.as_str()));
        Ok(FormOutput {
            setting: self.candidate(config),
            passwords: PasswordChanges { smtp: take(&self.smtp_password), imap: take(&self.imap_password) },
        })
    }

    /// Before the first Save attempt on a new record, "required" findings for
    /// fields not filled in yet would only be noise.
    fn visible_findings(&self, config: &Config) -> Vec<Finding> {
        let mut findings = self.findings(config);
        if self.is_new() && !self.save_attempted {
            findings.retain(|f| !matches!(f.rule, Rule::Required | Rule::PasswordMissing));
        }
        findings
    }

    pub fn ui(&mut self, ui: &mut Ui, context: &mut FormContext<'_>, commands: &mut CommandQueue) {
        let config = context.config;
        let findings = self.visible_findings(config);
        ui.horizontal(|ui| {
            let title = if self.is_new() {
                "Add new record".to_owned() // the guide's words, as the toolbar button says them
            } else {
                format!("Edit \"{}\"", self.draft.description)
            };
            ui.heading(title);
        });
        if let Some(note) = &self.note {
            ui.add(egui::Label::new(RichText::new(note).strong()).wrap());
        }
        if let Some(problem) = &self.secret_store_problem {
            ui.add(egui::Label::new(RichText::new(problem).color(ui.visuals().warn_fg_color)).wrap());
        }
        self.compare_picker_ui(ui, config, commands, context.compare_with);
        self.copy_from_ui(ui, config);
        if let Some(id) = self.editing_id() {
            replaces_ui(ui, config, id, commands);
            basic_ending_ui(ui, self.original.as_ref(), commands);
        }
        ui.separator();
        // The actions (sign-in, tests) come first, so they are always in view.
        if let Some(id) = self.editing_id().map(str::to_owned) {
            self.connection_ui(ui, &id, context, commands);
            self.tests_ui(ui, &id, context, commands);
            ui.separator();
        }
        // Save and Cancel stay in view below the fields, whatever the window height: a
        // bottom panel of the form's own, laid out first, and the fields scroll in what
        // is left (all of it: at 1024×640 every line counts).
        egui::Panel::bottom("form_buttons")
            .frame(egui::Frame::NONE.inner_margin(egui::Margin::symmetric(0, 6)))
            .show(ui, |ui| self.buttons_ui(ui, context, &findings, commands));
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.add_enabled_ui(!context.read_only, |ui| {
                self.general_ui(ui, config, &findings);
                ui.add_space(10.0);
                self.smtp_ui(ui, &findings);
                ui.add_space(10.0);
                self.imap_ui(ui, &findings);
            });
        });
    }

    fn buttons_ui(&self, ui: &mut Ui, context: &FormContext<'_>, findings: &[Finding], commands: &mut CommandQueue) {
        ui.horizontal(|ui| {
            let save = ui
                .add_enabled(!context.read_only && !context.saving, egui::Button::new("Save").shortcut_text("Ctrl+S"));
            if save.clicked() {
                commands.send(Command::Form(FormCommand::Save));
            }
            if ui.add(egui::Button::new("Cancel").shortcut_text("Esc")).clicked() {
                commands.send(Command::Form(FormCommand::Cancel));
            }
            if context.saving {
                ui.spinner();
                ui.label("Saving the passwords…");
            }
            if let Some(id) = self.editing_id() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.add_enabled(!context.read_only, egui::Button::new("Delete")).clicked() {
                        commands.send(Command::Setting(SettingCommand::AskDelete(id.into())));
                    }
                });
            }
        });
        let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
        if self.save_attempted && errors > 0 {
            ui.colored_label(
                crate::ui::theme::error_color(ui.visuals()),
                format!("Fix the {errors} problem(s) marked above, then Save again"),
            );
        }
    }
}

/// The guide's literal path ("+ Add new record" beside the Basic setting): this
/// OAuth setting was made for the Basic one's mailbox, so the form says which it
/// replaces and opens the migration checklist with both — no second new setting.
fn replaces_ui(ui: &mut Ui, config: &Config, id: &str, commands: &mut CommandQueue) {
    let Some(old) = crate::migration::replaces(config, id) else { return };
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Replaces \"{}\" (the same mailbox).", old.description));
        let open = ui
            .button("Open the checklist")
            .on_hover_text("The migration checklist with both settings: test, Active, defaults, old folders");
        if open.clicked() {
            commands
                .send(Command::Migration(MigrationCommand::Step(old.id.clone(), MigrationAction::Adopt(id.into()))));
            commands.send(Command::Window(WindowCommand::Show(View::Migration)));
        }
    });
}

/// A saved setting that sends with a password through Microsoft: the day that stops,
/// counting down, and the migration one click away.
fn basic_ending_ui(ui: &mut Ui, saved: Option<&MailSetting>, commands: &mut CommandQueue) {
    let Some(saved) = saved else { return };
    let today = time::OffsetDateTime::now_utc().date();
    let Some((_, words)) = crate::model::providers::basic_smtp_ending(saved, today) else { return };
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Label::new(RichText::new(words).color(crate::ui::theme::warning_color(ui.visuals()))).wrap());
        if ui.button("Migrate this setting").clicked() {
            commands.send(Command::Migration(MigrationCommand::Replace(saved.id.clone())));
        }
    });
}

/// A one-line summary of the form's problems, for the status bar.
pub(crate) fn summarize(count: usize) -> String {
    format!("Not saved: {count} problem(s) to fix (marked in red)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The form's state can be `{:?}`-printed (a log line, a panic) without what was typed.
    #[test]
    fn the_forms_debug_output_has_no_typed_password() {
        let mut form = EditForm::new_record(CredentialKind::Basic);
        form.smtp_password.push_str("canary-smtp-typed");
        form.imap_password.push_str("canary-imap-typed");
        let shown = format!("{form:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
