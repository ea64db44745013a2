//! The edit form's commands: open a record, Save (passwords to the OS store first,
//! then the config, through the workspace's guards; companies moved when the setting
//! goes Inactive), Cancel and Discard, and what follows a Save.

use super::{AfterSave, Dialog, MailSettingsApp, Notice, PendingSave};
use crate::migration;
use crate::model::{CredentialKind, MailSetting};
use crate::ui::commands::{FormCommand, View};
use crate::ui::form::{EditForm, FormOutput, summarize};
use crate::ui::jobs::{Job, JobInput};

impl MailSettingsApp {
    pub(super) fn run_form_command(&mut self, ctx: &egui::Context, command: FormCommand) {
        match command {
            FormCommand::NewRecord(credential) => {
                self.prefs.view = View::MailSettings;
                if self.editing.form.as_ref().is_some_and(EditForm::is_dirty) {
                    self.notice = Some(Notice::error("Save or cancel the open form first"));
                } else if !self.read_only() {
                    self.editing.form = Some(EditForm::new_record(credential.unwrap_or(CredentialKind::Microsoft365)));
                    self.editing.after_save = AfterSave::OpenForm;
                    self.table.selected = None;
                }
            }
            FormCommand::NewOldSetting => {
                self.run_form_command(ctx, FormCommand::NewRecord(Some(CredentialKind::Basic)));
                if let Some(form) = &mut self.editing.form
                    && form.is_new()
                {
                    form.as_old_system_record();
                    form.note = Some(
                        "Type the old Basic setting as the old system shows it (a screenshot of it will do): its \
                         passwords are not needed, and a server such as \"office365.com\" stays as written — it \
                         is kept Inactive, as the record to migrate from; the new setting gets the right servers. \
                         After Save, the migration assistant opens with it."
                            .to_owned(),
                    );
                    self.editing.after_save = AfterSave::Migrate;
                }
            }
            FormCommand::Edit(id) => {
                self.prefs.view = View::MailSettings;
                if self.editing.form.as_ref().and_then(EditForm::editing_id) == Some(id.as_str()) {
                    return;
                }
                if self.editing.form.as_ref().is_some_and(EditForm::is_dirty) {
                    self.notice = Some(Notice::error("Save or cancel the open form first"));
                    return;
                }
                self.open_form(ctx, &id);
            }
            FormCommand::Save => self.save_form(ctx),
            FormCommand::CompareWith(id) => self.editing.compare_with = id.map(Into::into),
            FormCommand::SaveAndTest(kind) => {
                self.editing.after_save = AfterSave::Test(kind);
                self.save_form(ctx);
            }
            FormCommand::SaveMovingDefaults(to) => {
                if let Some(Dialog::MoveDefaults { output, .. }) = self.dialog.take() {
                    self.commit_save(ctx, *output, Some(to));
                }
            }
            FormCommand::SaveUntested => {
                if let Some(Dialog::ActivateUntested { output, .. }) = self.dialog.take() {
                    self.workspace.log_event("activate-untested", &output.setting.id);
                    self.commit_save(ctx, *output, None);
                }
            }
            FormCommand::Cancel => match &mut self.editing.form {
                Some(form) if form.is_dirty() => form.confirming_discard = true,
                _ => {
                    self.editing.form = None;
                    self.editing.after_save = AfterSave::OpenForm;
                }
            },
            FormCommand::Discard => {
                self.editing.form = None;
                self.editing.after_save = AfterSave::OpenForm;
            }
            FormCommand::KeepEditing => {
                if let Some(form) = &mut self.editing.form {
                    form.confirming_discard = false;
                }
            }
        }
    }

    /// Opens the form on a saved setting; which passwords are stored is read on a job thread.
    pub(super) fn open_form(&mut self, ctx: &egui::Context, id: &str) {
        let Some(setting) = self.workspace.config().setting(id).cloned() else { return };
        let needs_store =
            setting.smtp_credential() == CredentialKind::Basic || setting.imap_credential() == CredentialKind::Basic;
        self.editing.form = Some(EditForm::edit(&setting, !needs_store));
        self.table.selected = Some(id.to_owned());
        if needs_store {
            let input = JobInput::new(setting, self.workspace.config().clone(), self.workspace.secrets().clone());
            self.jobs.start(ctx, Job::ReadStoredPasswords, input);
        }
    }

    /// Save: checks the form; a change that would leave companies with an
    /// inactive default asks where they move first.
    pub(super) fn save_form(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.editing.form else { return };
        let config = self.workspace.config();
        let output = match form.prepare_save(config) {
            Ok(output) => output,
            Err(count) => {
                self.editing.after_save = self.editing.after_save.after_failed_save();
                self.notice = Some(Notice::error(summarize(count)));
                return;
            }
        };
        let companies = config.company_names_defaulting_to(&output.setting.id);
        let deactivates = !output.setting.active && config.setting(&output.setting.id).is_some_and(|s| s.active);
        if deactivates && !companies.is_empty() {
            let proposal = config
                .migrations
                .iter()
                .rev()
                .find(|m| m.old == output.setting.id && m.rolled_back_at.is_none())
                .map(|m| m.new.clone())
                .filter(|new| config.setting(new).is_some_and(|s| s.active))
                .or_else(|| {
                    // With one other Active setting there is nothing to choose.
                    let mut others = config.mail_settings.iter().filter(|s| s.active && s.id != output.setting.id);
                    match (others.next(), others.next()) {
                        (Some(only), None) => Some(only.id.clone()),
                        _ => None,
                    }
                });
            self.dialog =
                Some(Dialog::MoveDefaults { output: Box::new(output), companies, to: proposal.map(Into::into) });
            return;
        }
        // The guide tests before Active: a migration's new setting goes Active untested only when confirmed.
        let activates = output.setting.active && config.setting(&output.setting.id).is_some_and(|s| !s.active);
        let connection = self.extras.get(&output.setting.id).and_then(|e| e.connection.clone());
        let connection = connection.unwrap_or(crate::oauth::ConnectionState::NotConnected);
        if activates && let Some(reason) = migration::untested_with(config, &output.setting.id, &connection) {
            self.dialog = Some(Dialog::ActivateUntested { output: Box::new(output), reason });
            return;
        }
        self.commit_save(ctx, output, None);
    }

    /// Passwords first (on a job thread), then the config: the config never
    /// names a password the store does not have.
    pub(super) fn commit_save(
        &mut self,
        ctx: &egui::Context,
        output: FormOutput,
        move_defaults_to: Option<crate::model::SettingId>,
    ) {
        let FormOutput { setting, passwords } = output;
        if passwords.smtp.is_none() && passwords.imap.is_none() {
            self.save_config(setting, move_defaults_to.as_ref(), false, ctx);
            return;
        }
        let input = JobInput::new(setting.clone(), self.workspace.config().clone(), self.workspace.secrets().clone());
        if self.jobs.start(ctx, Job::SavePasswords(passwords), input) {
            self.editing.pending_save = Some(PendingSave { setting, move_defaults_to });
        }
    }

    pub(super) fn save_config(
        &mut self,
        setting: MailSetting,
        move_defaults_to: Option<&crate::model::SettingId>,
        passwords_changed: bool,
        ctx: &egui::Context,
    ) {
        let id = setting.id.clone();
        let description = setting.description.clone();
        match self.workspace.save_setting_moving_defaults(setting, move_defaults_to, passwords_changed) {
            Ok(()) => {
                self.notice = Some(Notice::info(format!("Saved \"{description}\"")));
                match std::mem::take(&mut self.editing.after_save) {
                    AfterSave::Migrate => {
                        // The welcome's migrate path: the old setting typed in, on to the assistant.
                        self.editing.form = None;
                        self.migration.choose_to_replace(&id);
                        self.prefs.view = View::Migration;
                        self.notice = Some(Notice::info(format!(
                            "Saved \"{description}\"; choose what it moves to, then Start migration"
                        )));
                    }
                    then => {
                        // Stay on the saved setting, so Connect and the tests are one click away.
                        self.editing.form = None;
                        self.open_form(ctx, &id);
                        if let AfterSave::Test(kind) = then {
                            self.start_job(ctx, &id, kind);
                        }
                    }
                }
            }
            Err(err) => {
                self.editing.after_save = self.editing.after_save.after_failed_save();
                self.notice = Some(Notice::error(format!("Not saved: {err}")));
            }
        }
    }
}
