//! Runs the commands the panels sent during the frame, after drawing. Every
//! change goes through the workspace (the same guards as the CLI); anything
//! that may wait — network, secret store — is started as a job instead.

use super::{AfterSave, Dialog, MailSettingsApp, Notice, PendingSave};
use crate::migration;
use crate::model::{CredentialKind, LeftoverRoute, MailSetting};
use crate::ui::commands::{Command, FileCommand, FormCommand, MigrationAction, View, WatchCommand};
use crate::ui::form::{EditForm, FormOutput, summarize};
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
            Command::ShowView(view) => self.show_view(view),
            Command::Zoom(zoom) => {
                self.prefs.zoom = ((zoom * 10.0).round() / 10.0).clamp(theme::ZOOM_MIN, theme::ZOOM_MAX);
            }
            Command::Theme(choice) => self.prefs.theme = choice,
            Command::SelectMigration(old) => self.migration.select(old),
            Command::CheckAll => self.start_check_all(ctx),
            Command::Watch(watch) => self.run_watch_command(ctx, watch),
            Command::MigrateSetting(id) => {
                self.migration.choose_to_replace(&id);
                self.prefs.view = View::Migration;
            }
            Command::Migration(old, action) => self.run_migration(ctx, &old, action),
            Command::RefreshLog => self.log_entries = crate::store::audit::read(&self.workspace.audit_path()),
            Command::Form(form) => self.run_form_command(ctx, form),
            Command::AskDelete(id) => self.dialog = Some(Dialog::ConfirmDelete { id }),
            Command::CloseDialog => self.dialog = None,
            Command::Delete(id) => self.delete(&id),
            Command::UndoDelete(id) => match self.workspace.restore(&id) {
                Ok(()) => {
                    self.notice =
                        Some(Notice::info(format!("Restored \"{}\"", self.workspace.config().setting_name(&id))));
                }
                Err(err) => self.notice = Some(Notice::error(format!("Could not restore: {err}"))),
            },
            Command::Reload => match self.workspace.reload() {
                Ok(()) => {
                    self.rescan(ctx);
                    self.notice = Some(Notice::info("Reloaded the config file"));
                }
                Err(err) => self.notice = Some(Notice::error(err.to_string())),
            },
            Command::DismissNotice => self.notice = None,
            Command::StartJob(id, kind) => self.start_job(ctx, &id, kind),
            Command::CheckLeftoverVia(id, route) => self.start_job_via(ctx, &id, JobKind::Leftover, Some(route)),
            Command::CancelJob(id, kind) => self.jobs.cancel(&id, kind),
            Command::StartBridge { ids, ports, local_tls } => self.start_bridge(ctx, ids, ports, local_tls),
            Command::CopyText(text) => ctx.copy_text(text),
            Command::CopyReport => {
                if let Some(report) = &self.report {
                    ctx.copy_text(report.to_text());
                    self.notice = Some(Notice::info("Report copied (it contains no passwords or tokens)"));
                }
            }
            Command::CloseReport => self.report = None,
            Command::UseServerFolder(id, fix) => self.use_server_folder(ctx, &id, &fix),
            Command::CompareWith(id) => self.editing.compare_with = id,
            Command::SetDefault { company, setting } => {
                let config = self.workspace.config();
                let (company_name, setting_name) = (config.company_name(&company), config.setting_name(&setting));
                self.notice = Some(match self.workspace.set_default(&company, &setting) {
                    Ok(()) => Notice::info(format!("{company_name} now uses \"{setting_name}\"")),
                    Err(err) => Notice::error(format!("Not changed: {err}")),
                });
            }
            Command::AddCompany { id, name } => {
                let company = crate::model::Company { id, name: name.clone(), default_mail_setting: None };
                self.notice = Some(match self.workspace.add_company(company) {
                    Ok(()) => Notice::info(format!("Added {name}; choose its default mail setting below")),
                    Err(err) => Notice::error(format!("Not added: {err}")),
                });
            }
            Command::SaveSignInApp(mut app) => match app.client_secret.take() {
                // The secret goes to the OS store on a job thread first; the app is saved after.
                Some(secret) => {
                    let mut change = app.into_change();
                    change.client_secret_stored = true;
                    let owner =
                        (crate::store::client_secret_owner(&change.provider), crate::store::SecretKind::ClientSecret);
                    let then = AfterSecret::SignInApp(change);
                    self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, Some(secret), then);
                }
                None => self.save_sign_in_app(ctx, app.into_change()),
            },
            Command::File(file) => self.run_file_command(ctx, file),
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

    fn run_form_command(&mut self, ctx: &egui::Context, command: FormCommand) {
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
    fn open_form(&mut self, ctx: &egui::Context, id: &str) {
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
                let again: Vec<String> =
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
            outgoing_at: extras.and_then(|e| e.outgoing_passed_at.clone()),
            incoming_at: extras.and_then(|e| e.incoming_passed_at.clone()),
        }
    }

    fn company_names(&self, ids: &[String]) -> String {
        let names: Vec<String> = ids.iter().map(|c| self.workspace.config().company_name(c)).collect();
        if names.is_empty() { "no company".to_owned() } else { names.join(", ") }
    }

    /// The bridge runs as a job like any other: named thread, events over the channel, Stop is its cancel.
    fn start_bridge(&mut self, ctx: &egui::Context, ids: Vec<String>, ports: crate::bridge::Ports, local_tls: bool) {
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

    /// Alerts and the network they (and sign-ins) go through.
    fn run_watch_command(&mut self, ctx: &egui::Context, command: WatchCommand) {
        match command {
            WatchCommand::SaveAlerts(alerts, webhook) => self.store_webhook_then_save(ctx, alerts, webhook),
            WatchCommand::SendTestAlert => self.send_test_alert(ctx),
            WatchCommand::CancelTestAlert => {
                if let Some(cancel) = self.health.test_alert.take() {
                    cancel.cancel();
                    self.notice = Some(Notice::info("Test alert cancelled"));
                }
            }
            WatchCommand::SaveNetwork(network, None) => self.save_network(network, false),
            WatchCommand::SaveSupportContact(contact) => {
                let kept = (!contact.is_empty()).then_some(contact);
                let saved = self.workspace.apply("set-support-contact", |config| {
                    config.support.contact = kept;
                    Ok(())
                });
                self.notice = Some(match saved {
                    Ok(()) => Notice::info(format!("Reports now name {}", self.workspace.config().support_contact())),
                    Err(err) => Notice::error(format!("Not saved: {err}")),
                });
            }
            // The password goes to the OS store on a job thread first; the network is saved after.
            WatchCommand::SaveNetwork(network, Some(password)) => {
                let owner = (crate::store::PROXY_OWNER.to_owned(), crate::store::SecretKind::ProxyPassword);
                let then = AfterSecret::Network(network);
                self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, Some(password), then);
            }
        }
    }

    fn send_test_alert(&mut self, ctx: &egui::Context) {
        if self.health.test_alert.is_none() {
            let cancel = crate::cancel::CancelToken::new();
            let config = self.workspace.config().clone();
            self.jobs.send_test_alert(ctx, config, self.workspace.secrets(), cancel.clone());
            self.health.test_alert = Some(cancel);
        }
    }

    /// The alert channels typed in the Health view: checked, then saved (audited).
    /// A webhook address typed (or removed) goes to the OS store first, on a job
    /// thread; the channels are saved after it, the config holding only its shown form.
    fn store_webhook_then_save(
        &mut self,
        ctx: &egui::Context,
        mut alerts: crate::model::AlertsConfig,
        webhook: crate::alerts::WebhookChange,
    ) {
        use crate::alerts::WebhookChange;
        let owner = (crate::store::ALERTS_OWNER.to_owned(), crate::store::SecretKind::WebhookUrl);
        let address = match webhook {
            WebhookChange::Keep => return self.save_alerts(alerts),
            WebhookChange::Remove => None,
            WebhookChange::Replace(address) => {
                if let Some(problem) = crate::alerts::webhook_problem("Webhook", address.expose()) {
                    self.notice = Some(Notice::error(format!("Alerts not saved: {problem}")));
                    return;
                }
                alerts.webhook = Some(crate::model::AlertsConfig::webhook_shown(address.expose()));
                Some(address)
            }
        };
        if address.is_none() {
            alerts.webhook = None;
        }
        self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, address, AfterSecret::Alerts(alerts));
    }

    pub(super) fn save_alerts(&mut self, alerts: crate::model::AlertsConfig) {
        let label = |field: &str| {
            match field {
                "webhook" => "Webhook",
                "email" => "Email to",
                _ => "Sent through",
            }
            .to_owned()
        };
        if let Some(problem) = crate::alerts::problem(&alerts, self.workspace.config(), label) {
            self.notice = Some(Notice::error(format!("Alerts not saved: {problem}")));
            return;
        }
        let channels = crate::alerts::describe(&alerts);
        let saved = self.workspace.apply("set-alerts", |config| {
            config.alerts = alerts;
            Ok(())
        });
        self.notice = Some(match saved {
            Ok(()) if channels.is_empty() => Notice::info("Alerts saved: none (nothing will be told)"),
            Ok(()) => Notice::info(format!("Alerts saved: {}", channels.join("; "))),
            Err(err) => Notice::error(format!("Alerts not saved: {err}")),
        });
        self.health.alerts.reset();
    }

    /// The proxy typed in Sign-in apps: checked, saved (audited), in effect from the
    /// next job (each reads it, with its password, on its own thread).
    pub(super) fn save_network(&mut self, network: crate::model::NetworkConfig, password_stored: bool) {
        if let Some(problem) = network.proxy.as_deref().and_then(crate::model::endpoints::proxy_problem) {
            self.notice = Some(Notice::error(
                problem
                    .replace("network set --proxy-password-stdin, or the window's Network", "the Proxy password field"),
            ));
            return;
        }
        let saved = self.workspace.apply("set-network", |config| {
            config.network = network;
            Ok(())
        });
        self.notice = Some(match saved {
            Ok(()) if password_stored => Notice::info(
                "Network saved, its password in the OS credential store: sign-in and token requests take it from now on",
            ),
            Ok(()) => Notice::info("Network saved: sign-in and token requests take it from now on"),
            Err(err) => Notice::error(format!("Not saved: {err}")),
        });
    }

    /// "Check all now": every Active setting, on a job thread like any check.
    fn start_check_all(&mut self, ctx: &egui::Context) {
        let config = self.workspace.config();
        let Some(first) = config.mail_settings.iter().find(|s| s.active) else {
            self.notice = Some(Notice::info("No Active mail setting to check"));
            return;
        };
        let input = JobInput::new(first.clone(), config.clone(), self.workspace.secrets().clone())
            .for_subject(crate::ui::jobs::ALL);
        let history_file = crate::store::history::history_path_for(self.workspace.path());
        self.jobs.start(ctx, Job::CheckAll { history_file }, input);
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

    /// Save: checks the form; a change that would leave companies with an
    /// inactive default asks where they move first.
    fn save_form(&mut self, ctx: &egui::Context) {
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
            self.dialog = Some(Dialog::MoveDefaults { output: Box::new(output), companies, to: proposal });
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
    fn commit_save(&mut self, ctx: &egui::Context, output: FormOutput, move_defaults_to: Option<String>) {
        let FormOutput { setting, passwords } = output;
        if passwords.smtp.is_none() && passwords.imap.is_none() {
            self.save_config(setting, move_defaults_to.as_deref(), false, ctx);
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
        move_defaults_to: Option<&str>,
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
