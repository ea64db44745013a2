//! Runs the commands the panels sent during the frame, after drawing. Every
//! change goes through the workspace (the same guards as the CLI); anything
//! that may wait — network, secret store — is started as a job instead.

use super::{Dialog, MailSettingsApp, Notice};
use crate::migration;
use crate::model::LeftoverRoute;
use crate::ui::commands::{
    Command, CompanyCommand, FileCommand, JobCommand, MigrationAction, MigrationCommand, ReportCommand, SettingCommand,
    View, WindowCommand,
};
use crate::ui::jobs::{AfterSecret, Job, JobInput, JobKind};
use crate::ui::theme;

impl MailSettingsApp {
    /// Runs what the panels asked for during this frame.
    pub(super) fn run_commands(&mut self, ctx: &egui::Context) {
        for command in self.commands.take() {
            self.run_command(ctx, command);
        }
    }

    fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Window(window) => self.run_window_command(ctx, window),
            Command::Job(job) => self.run_job_command(ctx, job),
            Command::Report(report) => self.run_report_command(ctx, report),
            Command::Setting(setting) => self.run_setting_command(setting),
            Command::Company(company) => self.run_company_command(company),
            Command::Migration(migration) => match migration {
                MigrationCommand::Select(old) => self.migration.select(old.into()),
                MigrationCommand::Replace(id) => {
                    self.migration.choose_to_replace(&id);
                    self.prefs.view = View::Migration;
                }
                MigrationCommand::Step(old, action) => self.run_migration(ctx, &old, action),
            },
            Command::Form(form) => self.run_form_command(ctx, form),
            Command::File(file) => self.run_file_command(ctx, file),
            Command::Watch(watch) => self.run_watch_command(ctx, watch),
            Command::SaveSignInApp(mut app) => match app.client_secret.take() {
                // The secret goes to the OS store on a job thread first; the app is saved after.
                Some(secret) => {
                    let mut change = app.into_change();
                    change.client_secret_stored = true;
                    let owner = (
                        crate::store::SecretOwner::SignInApp(change.provider.clone()),
                        crate::store::SecretKind::ClientSecret,
                    );
                    let then = AfterSecret::SignInApp(change);
                    self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, Some(secret), then);
                }
                None => self.save_sign_in_app(ctx, app.into_change()),
            },
        }
    }

    fn run_window_command(&mut self, ctx: &egui::Context, command: WindowCommand) {
        match command {
            WindowCommand::Show(view) => self.show_view(view),
            WindowCommand::Zoom(zoom) => {
                self.prefs.zoom = ((zoom * 10.0).round() / 10.0).clamp(theme::ZOOM_MIN, theme::ZOOM_MAX);
            }
            WindowCommand::Theme(choice) => self.prefs.theme = choice,
            WindowCommand::DismissNotice => self.notice = None,
            WindowCommand::CloseDialog => self.dialog = None,
            WindowCommand::CopyText(text) => ctx.copy_text(text),
            WindowCommand::Reload => match self.workspace.reload() {
                Ok(()) => {
                    self.rescan(ctx);
                    self.notice = Some(Notice::info("Reloaded the config file"));
                }
                Err(err) => self.notice = Some(Notice::error(err.to_string())),
            },
            WindowCommand::RefreshLog => self.log_entries = crate::store::audit::read(&self.workspace.audit_path()),
        }
    }

    fn run_job_command(&mut self, ctx: &egui::Context, command: JobCommand) {
        match command {
            JobCommand::Start(id, kind) => self.start_job(ctx, &id, kind),
            JobCommand::Cancel(id, kind) => self.jobs.cancel(&id, kind),
            JobCommand::CheckLeftoverVia(id, route) => self.start_job_via(ctx, &id, JobKind::Leftover, Some(route)),
            JobCommand::StartBridge { ids, ports, local_tls } => self.start_bridge(ctx, ids, ports, local_tls),
            JobCommand::CheckAll => self.start_check_all(ctx),
        }
    }

    fn run_report_command(&mut self, ctx: &egui::Context, command: ReportCommand) {
        match command {
            ReportCommand::Copy => {
                if let Some(report) = &self.report {
                    ctx.copy_text(report.to_text());
                    self.notice = Some(Notice::info("Report copied (it contains no passwords or tokens)"));
                }
            }
            ReportCommand::Close => self.report = None,
            ReportCommand::UseServerFolder(id, fix) => self.use_server_folder(ctx, &id, &fix),
        }
    }

    fn run_setting_command(&mut self, command: SettingCommand) {
        match command {
            SettingCommand::AskDelete(id) => self.dialog = Some(Dialog::ConfirmDelete { id }),
            SettingCommand::Delete(id) => self.delete(&id),
            SettingCommand::UndoDelete(id) => match self.workspace.restore(&id) {
                Ok(()) => {
                    self.notice =
                        Some(Notice::info(format!("Restored \"{}\"", self.workspace.config().setting_name(&id))));
                }
                Err(err) => self.notice = Some(Notice::error(format!("Could not restore: {err}"))),
            },
        }
    }

    fn run_company_command(&mut self, command: CompanyCommand) {
        match command {
            CompanyCommand::SetDefault { company, setting } => {
                let config = self.workspace.config();
                let (company_name, setting_name) = (config.company_name(&company), config.setting_name(&setting));
                self.notice = Some(match self.workspace.set_default(&company, &setting) {
                    Ok(()) => Notice::info(format!("{company_name} now uses \"{setting_name}\"")),
                    Err(err) => Notice::error(format!("Not changed: {err}")),
                });
            }
            CompanyCommand::Add { id, name } => {
                let company = crate::model::Company { id, name: name.clone(), default_mail_setting: None };
                self.notice = Some(match self.workspace.add_company(company) {
                    Ok(()) => Notice::info(format!("Added {name}; choose its default mail setting below")),
                    Err(err) => Notice::error(format!("Not added: {err}")),
                });
            }
        }
    }

    /// Saves a sign-in app (its client secret, if any, already in the OS store).
    pub(super) fn save_sign_in_app(&mut self, ctx: &egui::Context, change: crate::store::SignInAppChange) {
        let label = crate::model::providers::by_id(&change.provider).map_or(change.provider.as_str(), |p| p.label);
        let label = label.to_owned();
        let kept = if change.client_secret_stored { " (client secret in the OS credential store)" } else { "" };
        match self.workspace.set_sign_in_app(change, None, None) {
            Ok(()) => {
                self.notice = Some(Notice::info(format!("Saved the {label} sign-in app{kept}")));
                // Back to where Connect was pressed, and on with it.
                if let Some((id, view)) = self.sign_ins.resume_connect.take() {
                    self.prefs.view = view;
                    self.start_job(ctx, &id, JobKind::Connect);
                }
            }
            Err(err) => self.notice = Some(Notice::error(format!("Not saved: {err}"))),
        }
    }

    fn show_view(&mut self, view: View) {
        self.prefs.view = view;
        if view == View::Log {
            self.log_entries = crate::store::audit::read(&self.workspace.audit_path());
        }
        if view == View::Health {
            self.health.history =
                crate::store::history::read(&crate::store::history::history_path_for(self.workspace.path()));
            if self.health.rows.is_empty() {
                self.health.rows = crate::ui::health_view::HealthRow::from_history(&self.health.history);
            }
        }
    }

    fn delete(&mut self, id: &str) {
        let name = self.workspace.config().setting_name(id);
        match self.workspace.delete_leaving_secrets(id) {
            Ok((_, purged)) => {
                self.jobs.remove_secrets(self.workspace.secrets(), move |secrets| {
                    crate::store::workspace::purge_secrets(secrets, &purged);
                });
                self.editing.form = None;
                self.table.selected = None;
                self.notice = Some(Notice {
                    text: format!("Deleted \"{name}\""),
                    is_error: false,
                    undo_delete: Some(id.to_owned()),
                });
            }
            Err(err) => self.notice = Some(Notice::error(format!("Not deleted: {err}"))),
        }
    }

    fn run_file_command(&mut self, ctx: &egui::Context, command: FileCommand) {
        match command {
            FileCommand::Import => {
                let picked = rfd::FileDialog::new()
                    .add_filter("Mail Settings", &["toml"])
                    .set_title("Import mail settings")
                    .pick_file();
                let Some(path) = picked else { return }; // cancelled or no dialog available: nothing to do
                match self.workspace.preview_import(&path) {
                    Ok(preview) if !preview.trust_changes.is_empty() => {
                        self.dialog = Some(Dialog::ConfirmImport { path, trust_changes: preview.trust_changes });
                    }
                    Ok(_) => self.import(ctx, &path),
                    Err(err) => self.notice = Some(Notice::error(format!("Not imported: {err}"))),
                }
            }
            FileCommand::ImportConfirmed(path) => {
                self.dialog = None;
                self.import(ctx, &path);
            }
            FileCommand::Export => {
                let picked = rfd::FileDialog::new()
                    .add_filter("Mail Settings", &["toml"])
                    .set_file_name("mail-settings.toml")
                    .set_title("Export mail settings (no passwords or tokens)")
                    .save_file();
                let Some(path) = picked else { return };
                self.notice = Some(match self.workspace.export(&path) {
                    Ok(()) => Notice::info(format!("Exported to {} (no passwords or tokens)", path.display())),
                    Err(err) => Notice::error(format!("Not exported: {err}")),
                });
            }
            FileCommand::AddCaFile => {
                let picked = rfd::FileDialog::new()
                    .add_filter("PEM certificates", &["pem", "crt", "cer"])
                    .set_title("Trust a CA certificate")
                    .pick_file();
                let Some(path) = picked else { return };
                if let Err(err) = crate::tls::client_config(std::slice::from_ref(&path)) {
                    self.notice = Some(Notice::error(err.to_string()));
                    return;
                }
                self.notice = Some(match self.workspace.add_ca_file(path) {
                    Ok(()) => Notice::info("The certificate is trusted for every test and sign-in"),
                    Err(err) => Notice::error(err.to_string()),
                });
            }
            FileCommand::RemoveCaFile(path) => {
                if let Err(err) = self.workspace.remove_ca_file(&path) {
                    self.notice = Some(Notice::error(err.to_string()));
                }
            }
        }
    }

    fn import(&mut self, ctx: &egui::Context, path: &std::path::Path) {
        match self.workspace.import(path) {
            Ok(summary) => {
                // A password is never sent to a host it was not typed for: settings whose servers or
                // sign-in changed lose their stored secrets (off this thread).
                let again: Vec<crate::model::SettingId> =
                    summary.secrets_dropped.iter().chain(&summary.tokens_dropped).cloned().collect();
                let dropped_summary = summary.clone();
                self.jobs.remove_secrets(self.workspace.secrets(), move |secrets| {
                    crate::store::workspace::drop_after_import(secrets, &dropped_summary);
                });
                self.rescan(ctx);
                let dropped = if again.is_empty() {
                    String::new()
                } else {
                    format!("; enter the passwords (or Connect) again for {}", again.join(", "))
                };
                self.notice = Some(Notice::info(format!(
                    "Imported: {} added, {} replaced{dropped}",
                    summary.added.len(),
                    summary.replaced.len()
                )));
            }
            Err(err) => self.notice = Some(Notice::error(format!("Not imported: {err}"))),
        }
    }

    fn run_migration(&mut self, ctx: &egui::Context, old: &str, action: MigrationAction) {
        let config = self.workspace.config();
        let (old_name, new) = (config.setting_name(old), config.migration(old).map(|m| m.new.clone()));
        let new_name = new.as_deref().map(|n| config.setting_name(n)).unwrap_or_default();
        let result: Result<String, String> = match action {
            MigrationAction::Start(target) => migration::Target::parse(&target, config)
                .and_then(|target| migration::start(&mut self.workspace, old, &target))
                .map(|started| {
                    self.migration.select(old.to_owned());
                    let new_name = self.workspace.config().setting_name(&started.new);
                    match started.relay {
                        Some(relay) => {
                            let server = relay.server().to_owned();
                            self.jobs.copy_relay_password(self.workspace.secrets(), relay);
                            format!(
                                "Created \"{new_name}\" from \"{old_name}\"; sending stays with {server}; next: Connect"
                            )
                        }
                        None => format!("Created \"{new_name}\" from \"{old_name}\"; next: Connect"),
                    }
                })
                .map_err(|e| e.to_string()),
            MigrationAction::Adopt(new_id) => {
                let passed = self.tests_passed_this_session(&new_id);
                migration::start_with_existing(&mut self.workspace, old, &new_id, passed)
                    .map(|_| {
                        self.migration.select(old.to_owned());
                        let new_name = self.workspace.config().setting_name(&new_id);
                        format!("Migrating \"{old_name}\" to \"{new_name}\", the setting you made (nothing created)")
                    })
                    .map_err(|e| e.to_string())
            }
            MigrationAction::ActivateNew => self
                .workspace
                .activate(new.as_deref().unwrap_or_default())
                .map(|()| format!("\"{new_name}\" is Active"))
                .map_err(|e| e.to_string()),
            MigrationAction::ActivateNewUntested => {
                let new = new.as_deref().unwrap_or_default();
                self.workspace
                    .activate(new)
                    .map(|()| {
                        self.workspace.log_event("activate-untested", new);
                        format!("\"{new_name}\" is Active, untested: run Test Outgoing and Test Incoming soon")
                    })
                    .map_err(|e| e.to_string())
            }
            MigrationAction::SwitchDefaults => migration::switch_defaults(&mut self.workspace, old, None)
                .map(|companies| format!("{} now use \"{new_name}\"", self.company_names(&companies)))
                .map_err(|e| e.to_string()),
            MigrationAction::DeactivateOld => migration::deactivate_old(&mut self.workspace, old)
                .map(|moved| {
                    if moved.is_empty() {
                        format!("\"{old_name}\" is Inactive")
                    } else {
                        format!("\"{old_name}\" is Inactive; {} now use \"{new_name}\"", self.company_names(&moved))
                    }
                })
                .map_err(|e| e.to_string()),
            MigrationAction::Acknowledge(reason) => migration::acknowledge_leftover(&mut self.workspace, old, &reason)
                .map(|()| "Accepted without a check of the old folders".to_owned())
                .map_err(|e| e.to_string()),
            MigrationAction::SetLeftoverFolders(folders) => {
                migration::set_leftover_folders(&mut self.workspace, old, &folders)
                    .map(|()| {
                        let checked = migration::leftover_folders(self.workspace.config(), old);
                        format!("The leftover check counts {}; check again", checked.join(", "))
                    })
                    .map_err(|e| e.to_string())
            }
            MigrationAction::Finish => {
                self.start_job(ctx, old, JobKind::FinishMigration);
                return;
            }
            MigrationAction::FinishKeepingOld => {
                self.start_finish_keeping_old(ctx, old);
                return;
            }
            MigrationAction::Rollback => migration::rollback(&mut self.workspace, old)
                .map(|companies| {
                    format!(
                        "Rolled back: \"{old_name}\" Active again, defaults restored for {}",
                        self.company_names(&companies)
                    )
                })
                .map_err(|e| e.to_string()),
        };
        self.notice = Some(match result {
            Ok(text) => Notice::info(text),
            Err(text) => Notice::error(text),
        });
    }

    /// The tests of `id` that passed in this window (the table's "Last tests"), for a
    /// migration that adopts it: the checklist need not ask for them again.
    fn tests_passed_this_session(&self, id: &str) -> migration::AlreadyPassed {
        let extras = self.extras.get(id);
        migration::AlreadyPassed {
            outgoing_at: extras.and_then(|e| e.outgoing_passed_at),
            incoming_at: extras.and_then(|e| e.incoming_passed_at),
        }
    }

    fn company_names(&self, ids: &[String]) -> String {
        let names: Vec<String> = ids.iter().map(|c| self.workspace.config().company_name(c)).collect();
        if names.is_empty() { "no company".to_owned() } else { names.join(", ") }
    }

    /// The bridge runs as a job like any other: named thread, events over the channel, Stop is its cancel.
    fn start_bridge(
        &mut self,
        ctx: &egui::Context,
        ids: Vec<crate::model::SettingId>,
        ports: crate::bridge::Ports,
        local_tls: bool,
    ) {
        let config = self.workspace.config();
        let Some(first) = ids.first().and_then(|id| config.setting(id)) else { return };
        let input = JobInput::new(first.clone(), config.clone(), self.workspace.secrets().clone())
            .for_subject(crate::ui::jobs::BRIDGE);
        let sessions = std::sync::Arc::default();
        let config_file = self.workspace.path().to_owned();
        let request = crate::ui::jobs::BridgeRequest { ids, ports, local_tls, config_file, sessions };
        self.bridge.started();
        self.jobs.start(ctx, Job::Bridge(request), input);
    }

    /// The finish that keeps the old setting Inactive: the same re-check of its folders first.
    fn start_finish_keeping_old(&mut self, ctx: &egui::Context, old: &str) {
        let config = self.workspace.config();
        let Some(sign_in) = migration::leftover_sign_in(config, old, None) else { return };
        let input = JobInput::new(sign_in.setting, config.clone(), self.workspace.secrets().clone()).for_subject(old);
        let job = Job::FinishMigration { route: Some(sign_in.route), keep_old: true };
        if !self.jobs.start(ctx, job, input) {
            self.notice = Some(Notice::error("The old folders are already being checked once more; wait for it"));
        }
    }

    pub(super) fn start_job(&mut self, ctx: &egui::Context, id: &str, kind: JobKind) {
        self.start_job_via(ctx, id, kind, None);
    }

    /// "Use \"Sent Items\"": the setting takes the server's folder (saved and audited;
    /// an open form on it follows without becoming dirty), and Test Incoming runs again.
    fn use_server_folder(&mut self, ctx: &egui::Context, id: &str, fix: &crate::probe::folders::FolderFix) {
        if let Err(err) = crate::checks::use_server_folder(&mut self.workspace, id, fix) {
            self.notice = Some(Notice::error(format!("Could not change the folder: {err}")));
            return;
        }
        if let Some(form) = &mut self.editing.form
            && form.editing_id() == Some(id)
        {
            form.take_server_folder(fix);
        }
        self.notice = Some(Notice::info(format!(
            "Now \"{}\", the server's {} folder; testing again",
            fix.server_folder,
            fix.role.as_str()
        )));
        self.start_job(ctx, id, JobKind::Incoming);
    }

    /// `route`: for a migration's leftover check, the sign-in to use (`None`: the one that works).
    fn start_job_via(&mut self, ctx: &egui::Context, id: &str, kind: JobKind, route: Option<LeftoverRoute>) {
        let config = self.workspace.config();
        // The leftover check of a migration's old setting signs in the way that works.
        let leftover = matches!(kind, JobKind::Leftover | JobKind::FinishMigration) && config.migration(id).is_some();
        let (setting, route) = if leftover {
            match migration::leftover_sign_in(config, id, route) {
                Some(sign_in) => (sign_in.setting, Some(sign_in.route)),
                None => return,
            }
        } else {
            match config.setting(id) {
                Some(setting) => (setting.clone(), None),
                None => return,
            }
        };
        if kind == JobKind::Leftover {
            self.migration.forget_offered_route(id);
        }
        if kind == JobKind::Outgoing && !crate::model::validate::is_well_formed_address(self.prefs.recipient.trim()) {
            self.editing.ask_recipient = true;
            self.notice =
                Some(Notice::error("Type the address the two test emails go to, then Test Outgoing Settings"));
            return;
        }
        if kind == JobKind::Connect
            && let Err(crate::oauth::provider::ProviderError::MissingClientId { id: provider, .. }) =
                crate::oauth::provider::resolve(&setting, config)
        {
            self.sign_in_apps.focus(provider);
            self.sign_ins.resume_connect = Some((id.to_owned(), self.prefs.view));
            self.prefs.view = View::SignInApps;
            self.notice = Some(Notice::error(
                "Connect needs your organisation's sign-in app first: your IT administrator registers it once (\"Copy \
                 message for your IT administrator\" below has the steps for them), then enter its client id and save; Connect \
                 goes on from there",
            ));
            return;
        }
        self.sign_ins.messages.remove(id);
        self.sign_ins.consent_requests.remove(id);
        let input = JobInput::new(setting, config.clone(), self.workspace.secrets().clone()).for_subject(id);
        let job = match kind {
            JobKind::Outgoing => Job::Outgoing { recipient: self.prefs.recipient.trim().to_owned() },
            JobKind::Incoming => Job::Incoming,
            JobKind::RoundTrip => Job::RoundTrip,
            JobKind::Detect => Job::Detect,
            JobKind::Connect => Job::Connect,
            JobKind::DeviceConnect => Job::DeviceConnect,
            JobKind::Disconnect => Job::Disconnect,
            JobKind::Leftover => Job::Leftover { route },
            JobKind::FinishMigration => Job::FinishMigration { route, keep_old: false },
            JobKind::ReadStoredPasswords => Job::ReadStoredPasswords,
            JobKind::LocalPassword => Job::LocalPassword,
            JobKind::Readiness => Job::Readiness,
            // These carry more than a setting: started by their own functions, never from a button's kind.
            JobKind::SavePasswords | JobKind::Bridge | JobKind::CheckAll => {
                tracing::warn!("{} cannot be started for one setting alone", kind.label());
                return;
            }
        };
        if !self.jobs.start(ctx, job, input) {
            let name = self.workspace.config().setting_name(id);
            self.notice = Some(Notice::error(format!("{} is already running for \"{name}\"", kind.label())));
        }
    }
}
