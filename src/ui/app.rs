//! The top-level app: owns the workspace (config + secrets), the views and
//! the background jobs; draws the views, then runs the commands they sent,
//! once per frame.

use std::collections::HashMap;

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use super::commands::{Command, CommandQueue, MigrationAction, View};
use super::companies::CompaniesView;
use super::form::{EditForm, FormContext, summarize};
use super::jobs::{JobEvent, JobInput, JobKind, Jobs};
use super::migration_view::MigrationView;
use super::report_view::report_ui;
use super::table::{RowExtras, SettingsTable};
use super::theme;
use crate::oauth::ConnectionState;
use crate::probe::Report;
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
    view: View,
    table: SettingsTable,
    form: Option<EditForm>,
    companies: CompaniesView,
    notice: Option<Notice>,
    commands: CommandQueue,
    jobs: Jobs,
    /// The report shown in the result panel.
    report: Option<Report>,
    /// Per setting: connection state, last test results (for the table).
    extras: HashMap<String, RowExtras>,
    /// Per setting: what the last Connect / Disconnect said.
    connect_messages: HashMap<String, Vec<String>>,
    compare_with: Option<String>,
    recipient: String,
    show_trust: bool,
    connections_scanned: bool,
    /// When the process started; logged once with the first frame (start-up benchmark).
    launched: Option<std::time::Instant>,
    migration: MigrationView,
    log_entries: Vec<crate::store::audit::AuditEntry>,
}

const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);

impl MailSettingsApp {
    pub fn new(workspace: Workspace) -> Self {
        Self {
            workspace,
            view: View::default(),
            table: SettingsTable::new(),
            form: None,
            companies: CompaniesView::default(),
            notice: None,
            commands: CommandQueue::default(),
            jobs: Jobs::default(),
            report: None,
            extras: HashMap::new(),
            connect_messages: HashMap::new(),
            compare_with: None,
            recipient: String::new(),
            show_trust: false,
            connections_scanned: false,
            launched: None,
            migration: MigrationView::default(),
            log_entries: Vec::new(),
        }
    }

    /// Recomputes the shown migration's checklist (it reads the secret store,
    /// so it is done after changes, not every frame).
    fn refresh_migration(&mut self) {
        if self.migration.selected.is_none() {
            self.migration.selected = self
                .workspace
                .config()
                .migrations
                .iter()
                .rev()
                .find(|m| m.rolled_back_at.is_none())
                .map(|m| m.old.clone());
        }
        self.migration.checklist =
            self.migration.selected.as_deref().and_then(|old| {
                crate::migration::checklist(self.workspace.config(), self.workspace.secrets(), old).ok()
            });
    }

    fn run_migration(&mut self, old: &str, action: MigrationAction) {
        use crate::migration;
        let result: Result<String, String> = match action {
            MigrationAction::Start(target) => migration::Target::parse(&target, self.workspace.config())
                .and_then(|target| migration::start(&mut self.workspace, old, &target))
                .map(|new| {
                    self.migration.selected = Some(old.to_owned());
                    format!("Created \"{new}\" from \"{old}\"; next: Connect")
                })
                .map_err(|e| e.to_string()),
            MigrationAction::ActivateNew => {
                let new = self.workspace.config().migration(old).map(|m| m.new.clone()).unwrap_or_default();
                self.workspace.activate(&new).map(|()| format!("\"{new}\" is active")).map_err(|e| e.to_string())
            }
            MigrationAction::SwitchDefaults => migration::switch_defaults(&mut self.workspace, old, None)
                .map(|companies| format!("Switched {} to the new setting", companies.join(", ")))
                .map_err(|e| e.to_string()),
            MigrationAction::DeactivateOld => {
                self.workspace.deactivate(old).map(|()| format!("\"{old}\" is inactive")).map_err(|e| e.to_string())
            }
            MigrationAction::Acknowledge(reason) => migration::acknowledge_audit(&mut self.workspace, old, &reason)
                .map(|()| "Audit accepted".to_owned())
                .map_err(|e| e.to_string()),
            MigrationAction::Finish => migration::finish(&mut self.workspace, old)
                .map(|()| format!("Deleted \"{old}\" (restorable from the trash)"))
                .map_err(|e| e.to_string()),
            MigrationAction::Rollback => migration::rollback(&mut self.workspace, old)
                .map(|companies| {
                    format!("Rolled back: \"{old}\" active again, defaults restored for {}", companies.join(", "))
                })
                .map_err(|e| e.to_string()),
        };
        self.table.invalidate();
        self.notice = Some(match result {
            Ok(text) => Notice::info(text),
            Err(text) => Notice::error(text),
        });
        self.refresh_migration();
    }

    pub fn with_launch_time(mut self, launched: std::time::Instant) -> Self {
        self.launched = Some(launched);
        self
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The report in the result panel (tests read it).
    pub fn shown_report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Whether any background job is running (tests wait on it).
    pub fn is_busy(&self) -> bool {
        !self.jobs.running.is_empty()
    }

    fn read_only(&self) -> bool {
        self.workspace.read_only_reason().is_some()
    }

    fn connection(&self, id: &str) -> ConnectionState {
        match self.workspace.config().setting(id) {
            Some(s) if !s.credential.uses_oauth() => ConnectionState::Basic,
            _ => self.extras.get(id).and_then(|e| e.connection.clone()).unwrap_or(ConnectionState::NotConnected),
        }
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
            self.view = View::MailSettings;
            self.table.focus_filter = true;
        }
        if escape && self.form.is_some() {
            self.commands.send(Command::CancelForm);
        }
    }

    /// Takes what the background jobs reported.
    fn poll_jobs(&mut self) {
        let events = self.jobs.poll();
        let changed = !events.is_empty();
        for event in events {
            match event {
                JobEvent::Report { setting_id, kind, report } => {
                    let extras = self.extras.entry(setting_id.clone()).or_default();
                    let outcome = (report.passed, time_of_day(&report.started_at));
                    match kind {
                        JobKind::Outgoing => extras.last_outgoing = Some(outcome),
                        JobKind::Incoming => extras.last_incoming = Some(outcome),
                        _ => {}
                    }
                    if matches!(kind, JobKind::Outgoing | JobKind::Incoming) {
                        crate::migration::record_test(
                            &mut self.workspace,
                            &setting_id,
                            kind == JobKind::Outgoing,
                            report.passed,
                        );
                    }
                    self.report = Some(*report);
                }
                JobEvent::ConnectWaiting { .. } | JobEvent::Finished { .. } => {}
                JobEvent::Audit { setting_id, leftover } => {
                    let message = match crate::migration::record_audit(&mut self.workspace, &setting_id, &leftover) {
                        Ok(Some(true)) => Notice::info("Audit clean: no mail left in the old folders"),
                        Ok(Some(false)) => Notice::error(format!(
                            "{} message(s) are still in the old folders",
                            leftover.total().unwrap_or(0)
                        )),
                        Ok(None) => Notice::error(
                            "The old mailbox could not be opened; accept the audit with a reason if its sign-in is off",
                        ),
                        Err(err) => Notice::error(err.to_string()),
                    };
                    self.notice = Some(message);
                    self.report = Some(leftover.report);
                }
                JobEvent::Connected { setting_id, result } => {
                    let messages = match result {
                        Ok(connected) => {
                            self.extras.entry(setting_id.clone()).or_default().connection =
                                Some(connected.status.state.clone());
                            self.notice = Some(Notice::info(connected.status.state.label()));
                            connected.warnings
                        }
                        Err(failure) => {
                            let mut lines = vec![format!("Connect failed: {}", failure.message)];
                            if let Some(d) = failure.diagnosis {
                                lines.push(format!("What went wrong: {}", d.cause));
                                lines.push(format!("Who can fix it: {}", d.who.label()));
                                lines.push(format!("Next step: {}", d.next_step));
                            }
                            self.notice = Some(Notice::error("Connect failed; see the form"));
                            lines
                        }
                    };
                    self.connect_messages.insert(setting_id, messages);
                }
                JobEvent::Disconnected { setting_id, message } => {
                    self.extras.entry(setting_id.clone()).or_default().connection = Some(ConnectionState::NotConnected);
                    self.connect_messages.insert(setting_id, vec![message.clone()]);
                    self.notice = Some(Notice::info(message));
                }
                JobEvent::Failed { kind, message, .. } => {
                    self.notice = Some(Notice::error(format!("{} could not run: {message}", kind.label())));
                }
                JobEvent::Connections(states) => {
                    for (id, state) in states {
                        self.extras.entry(id).or_default().connection = Some(state);
                    }
                    self.table.invalidate();
                }
            }
        }
        if changed && self.view == View::Migration {
            self.refresh_migration();
        }
    }

    fn menu_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                let writable = !self.read_only();
                if ui.add_enabled(writable, egui::Button::new("Import…")).clicked() {
                    self.commands.send(Command::Import);
                    ui.close();
                }
                if ui.button("Export…").clicked() {
                    self.commands.send(Command::Export);
                    ui.close();
                }
                if ui.button("Trusted CA certificates…").clicked() {
                    self.show_trust = true;
                    ui.close();
                }
                if ui.button("Reload the config file").clicked() {
                    self.commands.send(Command::Reload);
                    ui.close();
                }
            });
            ui.separator();
            for (view, label) in [
                (View::MailSettings, "Mail Settings"),
                (View::Companies, "Companies"),
                (View::Migration, "Migration"),
                (View::Log, "Audit log"),
            ] {
                if ui.selectable_label(self.view == view, label).clicked() {
                    self.commands.send(Command::ShowView(view));
                }
            }
        });
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
            if !self.jobs.running.is_empty() {
                ui.separator();
                ui.spinner();
                let names: Vec<String> =
                    self.jobs.running.iter().map(|j| format!("{} ({})", j.kind.label(), j.setting_id)).collect();
                ui.label(names.join(", "));
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

    fn trust_window_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.show_trust;
        egui::Window::new("Trusted CA certificates").open(&mut open).collapsible(false).show(ctx, |ui| {
            ui.label("Certificates (PEM files) trusted in addition to the system's, for on-premises mail servers.");
            ui.separator();
            let files = self.workspace.config().tls.extra_ca_files.clone();
            if files.is_empty() {
                ui.label(RichText::new("None").weak());
            }
            for file in files {
                ui.horizontal(|ui| {
                    ui.label(file.display().to_string());
                    if ui.add_enabled(!self.read_only(), egui::Button::new("Remove").small()).clicked() {
                        self.commands.send(Command::RemoveCaFile(file.clone()));
                    }
                });
            }
            if ui.add_enabled(!self.read_only(), egui::Button::new("Add certificate file…")).clicked() {
                self.commands.send(Command::AddCaFile);
            }
        });
        self.show_trust = open;
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

    fn settings_view_ui(&mut self, ui: &mut Ui) {
        let editing = self.form.as_ref().and_then(EditForm::editing_id).map(str::to_owned);
        let connection = editing.as_deref().map_or(ConnectionState::NotConnected, |id| self.connection(id));
        if let Some(form) = &mut self.form {
            let connect_waiting = editing
                .as_deref()
                .and_then(|id| self.jobs.job(id, JobKind::Connect))
                .map(|job| job.connect_url.as_deref().unwrap_or(""));
            let running: Vec<JobKind> = editing
                .as_deref()
                .map(|id| self.jobs.running.iter().filter(|j| j.setting_id == id).map(|j| j.kind).collect())
                .unwrap_or_default();
            let no_messages = Vec::new();
            let mut context = FormContext {
                config: self.workspace.config(),
                read_only: self.workspace.read_only_reason().is_some(),
                compare_with: self.compare_with.as_deref(),
                connection: &connection,
                connect_waiting,
                connect_messages: editing
                    .as_deref()
                    .and_then(|id| self.connect_messages.get(id))
                    .unwrap_or(&no_messages),
                busy: !running.is_empty(),
                running,
                recipient: &mut self.recipient,
            };
            egui::Panel::right("edit_form")
                .resizable(true)
                .default_size(theme::FORM_WIDTH)
                .min_size(380.0)
                .show(ui, |ui| form.ui(ui, &mut context, &mut self.commands));
            if let Some(old) = self.compare_with.as_deref().and_then(|id| self.workspace.config().setting(id)) {
                let old = old.clone();
                egui::Panel::right("compare").resizable(true).default_size(360.0).min_size(280.0).show(ui, |ui| {
                    form.compare_ui(ui, &old);
                });
            }
        }
        if let Some(report) = &self.report {
            egui::Panel::bottom("report").resizable(true).default_size(280.0).min_size(120.0).show(ui, |ui| {
                report_ui(ui, report, &mut self.commands);
            });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.table.ui(ui, self.workspace.config(), &self.extras, &mut self.commands);
        });
    }

    /// Runs what the panels asked for during this frame.
    fn run_commands(&mut self, ctx: &egui::Context) {
        for command in self.commands.take() {
            self.run_command(ctx, command);
        }
    }

    fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::ShowView(view) => {
                self.view = view;
                match view {
                    View::Migration => self.refresh_migration(),
                    View::Log => self.log_entries = crate::store::audit::read(&self.workspace.audit_path()),
                    View::MailSettings | View::Companies => {}
                }
            }
            Command::SelectMigration(old) => {
                self.migration.selected = Some(old);
                self.refresh_migration();
            }
            Command::Migration(old, action) => self.run_migration(&old, action),
            Command::RefreshLog => self.log_entries = crate::store::audit::read(&self.workspace.audit_path()),
            Command::NewRecord => {
                self.view = View::MailSettings;
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
            Command::SaveForm => self.save_form(ctx),
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
                    self.jobs.scan_connections(ctx, self.workspace.config(), self.workspace.secrets());
                    self.notice = Some(Notice::info("Reloaded the config file"));
                }
                Err(err) => self.notice = Some(Notice::error(err.to_string())),
            },
            Command::DismissNotice => self.notice = None,
            Command::StartJob(id, kind) => self.start_job(ctx, &id, kind),
            Command::CancelJob(id, kind) => self.jobs.cancel(&id, kind),
            Command::CopyText(text) => ctx.copy_text(text),
            Command::CopyReport => {
                if let Some(report) = &self.report {
                    ctx.copy_text(report.to_text());
                    self.notice = Some(Notice::info("Report copied (it contains no passwords or tokens)"));
                }
            }
            Command::CloseReport => self.report = None,
            Command::CompareWith(id) => self.compare_with = id,
            Command::SetDefault { company, setting } => match self.workspace.set_default(&company, &setting) {
                Ok(()) => {
                    self.table.invalidate();
                    self.notice = Some(Notice::info(format!("Company \"{company}\" now uses \"{setting}\"")));
                }
                Err(err) => self.notice = Some(Notice::error(format!("Not changed: {err}"))),
            },
            Command::AddCompany { id, name } => {
                let company = crate::model::Company { id: id.clone(), name, default_mail_setting: None };
                match self.workspace.add_company(company) {
                    Ok(()) => self.notice = Some(Notice::info(format!("Added company \"{id}\""))),
                    Err(err) => self.notice = Some(Notice::error(format!("Not added: {err}"))),
                }
            }
            Command::Import => {
                let picked = rfd::FileDialog::new()
                    .add_filter("Mail Settings", &["toml"])
                    .set_title("Import mail settings")
                    .pick_file();
                let Some(path) = picked else { return }; // cancelled or no dialog available: nothing to do
                match self.workspace.import(&path) {
                    Ok(summary) => {
                        self.table.invalidate();
                        self.jobs.scan_connections(ctx, self.workspace.config(), self.workspace.secrets());
                        self.notice = Some(Notice::info(format!(
                            "Imported: {} added, {} replaced",
                            summary.added.len(),
                            summary.replaced.len()
                        )));
                    }
                    Err(err) => self.notice = Some(Notice::error(format!("Not imported: {err}"))),
                }
            }
            Command::Export => {
                let picked = rfd::FileDialog::new()
                    .add_filter("Mail Settings", &["toml"])
                    .set_file_name("mail-settings.toml")
                    .set_title("Export mail settings (no passwords or tokens)")
                    .save_file();
                let Some(path) = picked else { return };
                match self.workspace.export(&path) {
                    Ok(()) => {
                        self.notice =
                            Some(Notice::info(format!("Exported to {} (no passwords or tokens)", path.display())));
                    }
                    Err(err) => self.notice = Some(Notice::error(format!("Not exported: {err}"))),
                }
            }
            Command::AddCaFile => {
                let picked = rfd::FileDialog::new()
                    .add_filter("PEM certificates", &["pem", "crt", "cer"])
                    .set_title("Trust a CA certificate")
                    .pick_file();
                let Some(path) = picked else { return };
                if let Err(err) = crate::probe::tls::client_config(std::slice::from_ref(&path)) {
                    self.notice = Some(Notice::error(err.to_string()));
                    return;
                }
                match self.workspace.add_ca_file(path) {
                    Ok(()) => self.notice = Some(Notice::info("The certificate is trusted for every test and sign-in")),
                    Err(err) => self.notice = Some(Notice::error(err.to_string())),
                }
            }
            Command::RemoveCaFile(path) => {
                if let Err(err) = self.workspace.remove_ca_file(&path) {
                    self.notice = Some(Notice::error(err.to_string()));
                }
            }
        }
    }

    fn start_job(&mut self, ctx: &egui::Context, id: &str, kind: JobKind) {
        let Some(setting) = self.workspace.config().setting(id).cloned() else { return };
        if kind == JobKind::Outgoing && !crate::model::validate::is_well_formed_address(self.recipient.trim()) {
            self.notice = Some(Notice::error("Type the address the two test messages go to"));
            return;
        }
        self.connect_messages.remove(id);
        let input = JobInput {
            setting,
            config: self.workspace.config().clone(),
            secrets: self.workspace.secrets().clone(),
            recipient: self.recipient.trim().to_owned(),
        };
        if !self.jobs.start(ctx, kind, input) {
            self.notice = Some(Notice::error(format!("{} is already running for \"{id}\"", kind.label())));
        }
    }

    fn save_form(&mut self, ctx: &egui::Context) {
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
                self.table.selected = Some(id.clone());
                self.table.invalidate();
                self.notice = Some(Notice::info(format!("Saved \"{description}\"")));
                // Stay on the saved setting, so Connect and the tests are one click away.
                if let Some(setting) = self.workspace.config().setting(&id) {
                    let stored = self.workspace.secrets().stored_passwords(&id).map_err(|e| e.to_string());
                    self.form = Some(EditForm::edit(setting, stored));
                }
                let _ = ctx;
            }
            Err(err) => self.notice = Some(Notice::error(format!("Not saved: {err}"))),
        }
    }
}

/// `2026-11-26T04:57:56.61Z` → `04:57`.
fn time_of_day(rfc3339: &str) -> String {
    rfc3339.split('T').nth(1).and_then(|t| t.get(..5)).unwrap_or(rfc3339).to_owned()
}

impl eframe::App for MailSettingsApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if let Some(launched) = self.launched.take() {
            tracing::info!("first frame after {} ms", launched.elapsed().as_millis());
        }
        if !self.connections_scanned {
            self.connections_scanned = true;
            self.jobs.scan_connections(&ctx, self.workspace.config(), self.workspace.secrets());
        }
        self.poll_jobs();
        self.shortcuts(ui);
        egui::Panel::top("toolbar").show(ui, |ui| {
            self.menu_ui(ui);
            self.toolbar_ui(ui);
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        match self.view {
            View::MailSettings => self.settings_view_ui(ui),
            View::Companies => {
                let read_only = self.read_only();
                egui::CentralPanel::default().show(ui, |ui| {
                    self.companies.ui(ui, self.workspace.config(), read_only, &mut self.commands);
                });
            }
            View::Migration => {
                if let Some(report) = &self.report {
                    egui::Panel::bottom("report").resizable(true).default_size(240.0).show(ui, |ui| {
                        report_ui(ui, report, &mut self.commands);
                    });
                }
                let running: Vec<(String, JobKind, Option<String>)> =
                    self.jobs.running.iter().map(|j| (j.setting_id.clone(), j.kind, j.connect_url.clone())).collect();
                egui::CentralPanel::default().show(ui, |ui| {
                    self.migration.ui(ui, self.workspace.config(), &running, &mut self.commands);
                });
            }
            View::Log => {
                egui::CentralPanel::default()
                    .show(ui, |ui| super::log_view::log_ui(ui, &self.log_entries, &mut self.commands));
            }
        }
        if self.show_trust {
            self.trust_window_ui(&ctx);
        }
        self.discard_question_ui(ui);
        self.run_commands(&ctx);
    }
}
