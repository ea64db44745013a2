//! The top-level app: owns the workspace (config + secrets) and the views,
//! draws them, then runs the commands they sent, once per frame.

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use super::commands::{Command, CommandQueue};
use super::form::{EditForm, summarize};
use super::table::SettingsTable;
use super::theme;
use crate::store::Workspace;

/// A message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// The id a "Undo" button would restore.
    pub undo_delete: Option<String>,
}

impl Notice {
    fn info(text: impl Into<String>) -> Self {
        Self { text: text.into(), is_error: false, undo_delete: None }
    }

    fn error(text: impl Into<String>) -> Self {
        Self { text: text.into(), is_error: true, undo_delete: None }
    }
}

#[derive(Debug)]
pub struct MailSettingsApp {
    workspace: Workspace,
    table: SettingsTable,
    form: Option<EditForm>,
    notice: Option<Notice>,
    commands: CommandQueue,
}

const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);

impl MailSettingsApp {
    pub fn new(workspace: Workspace) -> Self {
        Self { workspace, table: SettingsTable::new(), form: None, notice: None, commands: CommandQueue::default() }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    fn read_only(&self) -> bool {
        self.workspace.read_only_reason().is_some()
    }

    fn shortcuts(&mut self, ui: &Ui) {
        let (save, new, find, escape) = ui.input_mut(|input| {
            (
                input.consume_shortcut(&SAVE),
                input.consume_shortcut(&NEW),
                input.consume_shortcut(&FIND),
                input.consume_key(Modifiers::NONE, Key::Escape),
            )
        });
        if save && self.form.is_some() {
            self.commands.send(Command::SaveForm);
        }
        if new {
            self.commands.send(Command::NewRecord);
        }
        if find {
            self.table.focus_filter = true;
        }
        if escape && self.form.is_some() {
            self.commands.send(Command::CancelForm);
        }
    }

    fn toolbar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading("Mail Settings");
            ui.add_space(16.0);
            let add = egui::Button::new("+ Add new record").shortcut_text("Ctrl+N");
            if ui.add_enabled(!self.read_only(), add).clicked() {
                self.commands.send(Command::NewRecord);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(self.workspace.path().display().to_string()).small().weak())
                    .on_hover_text("The config file these settings are saved in");
            });
        });
        if let Some(reason) = self.workspace.read_only_reason() {
            egui::Frame::new().fill(theme::banner_fill(ui.visuals())).inner_margin(8.0).show(ui, |ui| {
                ui.label(
                    RichText::new("Read-only: the config file could not be read, so nothing will be saved.").strong(),
                );
                ui.label(reason);
                if ui.button("Reload the file").clicked() {
                    self.commands.send(Command::Reload);
                }
            });
        }
    }

    fn status_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let total = self.workspace.config().mail_settings.len();
            let shown = self.table.visible_count();
            if shown == total {
                ui.label(format!("{total} mail setting(s)"));
            } else {
                ui.label(format!("{shown} of {total} mail setting(s) shown"));
            }
            if let Some(notice) = &self.notice {
                ui.separator();
                let color = if notice.is_error { theme::error_color(ui.visuals()) } else { ui.visuals().text_color() };
                ui.label(RichText::new(&notice.text).color(color));
                if let Some(id) = &notice.undo_delete
                    && ui.button("Undo").clicked()
                {
                    self.commands.send(Command::UndoDelete(id.clone()));
                }
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    self.commands.send(Command::DismissNotice);
                }
            }
        });
    }

    fn discard_question_ui(&mut self, ui: &Ui) {
        let Some(form) = &self.form else { return };
        if !form.confirming_discard {
            return;
        }
        egui::Modal::new(egui::Id::unique("discard_changes")).show(ui.ctx(), |ui| {
            ui.heading("Discard your changes?");
            ui.label("This mail setting has changes that are not saved.");
            ui.horizontal(|ui| {
                if ui.button("Discard changes").clicked() {
                    self.commands.send(Command::DiscardForm);
                }
                if ui.button("Keep editing").clicked() {
                    self.commands.send(Command::KeepEditing);
                }
            });
        });
    }

    /// Runs what the panels asked for during this frame.
    fn run_commands(&mut self) {
        for command in self.commands.take() {
            self.run_command(command);
        }
    }

    fn run_command(&mut self, command: Command) {
        match command {
            Command::NewRecord => {
                if self.form.as_ref().is_some_and(EditForm::is_dirty) {
                    self.notice = Some(Notice::error("Save or cancel the open form first"));
                } else if !self.read_only() {
                    self.form = Some(EditForm::new_record());
                    self.table.selected = None;
                }
            }
            Command::Edit(id) => {
                if self.form.as_ref().and_then(EditForm::editing_id) == Some(id.as_str()) {
                    return;
                }
                if self.form.as_ref().is_some_and(EditForm::is_dirty) {
                    self.notice = Some(Notice::error("Save or cancel the open form first"));
                    return;
                }
                if let Some(setting) = self.workspace.config().setting(&id) {
                    let stored = self.workspace.secrets().stored_passwords(&id).map_err(|e| e.to_string());
                    self.form = Some(EditForm::edit(setting, stored));
                    self.table.selected = Some(id);
                }
            }
            Command::SaveForm => self.save_form(),
            Command::CancelForm => match &mut self.form {
                Some(form) if form.is_dirty() => form.confirming_discard = true,
                _ => self.form = None,
            },
            Command::DiscardForm => self.form = None,
            Command::KeepEditing => {
                if let Some(form) = &mut self.form {
                    form.confirming_discard = false;
                }
            }
            Command::Delete(id) => match self.workspace.delete(&id) {
                Ok(_) => {
                    self.form = None;
                    self.table.selected = None;
                    self.table.invalidate();
                    self.notice =
                        Some(Notice { text: format!("Deleted \"{id}\""), is_error: false, undo_delete: Some(id) });
                }
                Err(err) => self.notice = Some(Notice::error(format!("Not deleted: {err}"))),
            },
            Command::UndoDelete(id) => match self.workspace.restore(&id) {
                Ok(()) => {
                    self.table.invalidate();
                    self.notice = Some(Notice::info(format!("Restored \"{id}\"")));
                }
                Err(err) => self.notice = Some(Notice::error(format!("Could not restore: {err}"))),
            },
            Command::Reload => match self.workspace.reload() {
                Ok(()) => {
                    self.table.invalidate();
                    self.notice = Some(Notice::info("Reloaded the config file"));
                }
                Err(err) => self.notice = Some(Notice::error(err.to_string())),
            },
            Command::DismissNotice => self.notice = None,
        }
    }

    fn save_form(&mut self) {
        let Some(form) = &mut self.form else { return };
        let output = match form.prepare_save(self.workspace.config()) {
            Ok(output) => output,
            Err(count) => {
                self.notice = Some(Notice::error(summarize(count)));
                return;
            }
        };
        let id = output.setting.id.clone();
        let description = output.setting.description.clone();
        match self.workspace.save_setting(output.setting, &output.passwords) {
            Ok(()) => {
                self.form = None;
                self.table.selected = Some(id);
                self.table.invalidate();
                self.notice = Some(Notice::info(format!("Saved \"{description}\"")));
            }
            Err(err) => self.notice = Some(Notice::error(format!("Not saved: {err}"))),
        }
    }
}

impl eframe::App for MailSettingsApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.shortcuts(ui);
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if let Some(form) = &mut self.form {
            let read_only = self.workspace.read_only_reason().is_some();
            let config = self.workspace.config();
            egui::Panel::right("edit_form")
                .resizable(true)
                .default_size(theme::FORM_WIDTH)
                .min_size(380.0)
                .show(ui, |ui| form.ui(ui, config, read_only, &mut self.commands));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.table.ui(ui, self.workspace.config(), &mut self.commands);
        });
        self.discard_question_ui(ui);
        self.run_commands();
    }
}
