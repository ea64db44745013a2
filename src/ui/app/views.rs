//! Lays out the central view chosen in the menu bar: the Mail Settings table
//! with the form (or, on an empty config, the welcome), Companies, Migration,
//! Sign-in apps, the audit log; and the report panel under the views that run tests.

use egui::Ui;

use super::MailSettingsApp;
use crate::oauth::ConnectionState;
use crate::ui::commands::View;
use crate::ui::form::{EditForm, FormContext};
use crate::ui::jobs::JobKind;
use crate::ui::report_view::report_ui;
use crate::ui::theme;

/// The report panel's smallest height: its title row and two stages.
const REPORT_MIN_HEIGHT: f32 = 120.0;

impl MailSettingsApp {
    pub(super) fn view_ui(&mut self, ui: &mut Ui) {
        match self.prefs.view {
            View::MailSettings => self.settings_view_ui(ui),
            View::Companies => {
                let read_only = self.read_only();
                self.central_panel(ui).show(ui, |ui| {
                    self.companies.ui(ui, self.workspace.config(), read_only, &mut self.commands);
                });
            }
            View::Migration => {
                self.report_panel_ui(ui);
                let running: Vec<(String, JobKind, Option<String>)> =
                    self.jobs.running.iter().map(|j| (j.setting_id.clone(), j.kind, j.connect_url.clone())).collect();
                let config = self.workspace.config();
                let new = self.migration.selected(config).and_then(|old| config.migration(&old).map(|m| m.new.clone()));
                let connection = new.as_deref().map_or(ConnectionState::NotConnected, |new| self.connection(new));
                let no_messages = Vec::new();
                let messages = new.as_deref().and_then(|new| self.sign_ins.messages.get(new)).unwrap_or(&no_messages);
                let consent_request =
                    new.as_deref().and_then(|new| self.sign_ins.consent_requests.get(new)).map(String::as_str);
                self.central_panel(ui).show(ui, |ui| {
                    self.migration.ui(
                        ui,
                        config,
                        &connection,
                        messages,
                        consent_request,
                        &running,
                        &mut self.prefs.recipient,
                        &mut self.commands,
                    );
                });
            }
            View::SignInApps => {
                let read_only = self.read_only();
                self.central_panel(ui).show(ui, |ui| {
                    self.sign_in_apps.ui(ui, self.workspace.config(), read_only, &mut self.commands);
                });
            }
            View::Bridge => {
                self.central_panel(ui).show(ui, |ui| {
                    let status = self.jobs.job(crate::ui::jobs::BRIDGE, crate::ui::jobs::JobKind::Bridge).map_or_else(
                        crate::ui::bridge_view::BridgeStatus::default,
                        |job| crate::ui::bridge_view::BridgeStatus {
                            running: true,
                            sessions: job
                                .sessions
                                .as_ref()
                                .map_or(0, |count| count.load(std::sync::atomic::Ordering::SeqCst)),
                        },
                    );
                    self.bridge.ui(ui, self.workspace.config(), status, &mut self.commands);
                });
            }
            View::Health => {
                self.report_panel_ui(ui);
                let checking = self.jobs.job(crate::ui::jobs::ALL, JobKind::CheckAll).is_some();
                let sending = self.health.test_alert.is_some();
                self.central_panel(ui).show(ui, |ui| {
                    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                        crate::ui::health_view::health_ui(
                            ui,
                            self.workspace.config(),
                            &self.health.rows,
                            &self.health.history,
                            checking,
                            &mut self.commands,
                        );
                        ui.add_space(24.0);
                        self.health.alerts.ui(ui, self.workspace.config(), sending, &mut self.commands);
                    });
                });
            }
            View::Log => {
                self.central_panel(ui).show(ui, |ui| {
                    crate::ui::log_view::log_ui(ui, &self.log_entries, self.workspace.config(), &mut self.commands);
                });
            }
        }
    }

    /// The report under the view: each report opens at the height its content needs, up to
    /// a third of the window (the view above keeps the rest), and can be resized.
    fn report_panel_ui(&mut self, ui: &mut Ui) {
        if let Some(report) = &self.report {
            let name = self.workspace.config().setting_name(&report.setting_id);
            let most = (ui.ctx().content_rect().height() / 3.0).max(REPORT_MIN_HEIGHT);
            let wanted = crate::ui::report_view::wanted_height(report).clamp(REPORT_MIN_HEIGHT, most);
            let panel = egui::Panel::bottom(("report", report.started_at, report.kind.label()));
            self.edge_panel(panel, ui).resizable(true).default_size(wanted).min_size(REPORT_MIN_HEIGHT).show(
                ui,
                |ui| {
                    report_ui(ui, report, &name, &mut self.commands);
                },
            );
        }
    }

    /// A connected Google setting whose app may be in Testing: when its sign-in ends.
    fn testing_clock(&self, id: &str) -> Option<String> {
        let issued = self.extras.get(id)?.refresh_issued?;
        let config = self.workspace.config();
        let provider = crate::oauth::provider::resolve(config.setting(id)?, config).ok()?;
        crate::oauth::tokens::testing_clock(issued, &provider, time::OffsetDateTime::now_utc().date())
    }

    #[allow(clippy::too_many_lines, reason = "the form, the compare panel and the table laid out in one place")]
    fn settings_view_ui(&mut self, ui: &mut Ui) {
        let editing = self.editing.form.as_ref().and_then(EditForm::editing_id).map(str::to_owned);
        let connection = editing.as_deref().map_or(ConnectionState::NotConnected, |id| self.connection(id));
        let edge_frame = self.panel_frame(egui::Frame::side_top_panel(ui.style()));
        let testing_clock = editing.as_deref().and_then(|id| self.testing_clock(id));
        let compare_replaces_table = self.editing.compare_with.is_some()
            && self.editing.form.is_some()
            && ui.available_width() < theme::FORM_WIDTH + COMPARE_WIDTH + TABLE_AT_LEAST;
        if let Some(form) = &mut self.editing.form {
            let connect_waiting = editing
                .as_deref()
                .and_then(|id| self.jobs.job(id, JobKind::Connect))
                .map(|job| job.connect_url.as_deref().unwrap_or(""));
            let device_waiting = editing
                .as_deref()
                .and_then(|id| self.jobs.job(id, JobKind::DeviceConnect))
                .map(|job| job.device_code.as_ref());
            let running: Vec<JobKind> = editing
                .as_deref()
                .map(|id| self.jobs.running.iter().filter(|j| j.setting_id == id).map(|j| j.kind).collect())
                .unwrap_or_default();
            let no_messages = Vec::new();
            let mut context = FormContext {
                config: self.workspace.config(),
                read_only: self.workspace.read_only_reason().is_some(),
                compare_with: self.editing.compare_with.as_deref(),
                connection: &connection,
                connect_waiting,
                device_waiting,
                connect_messages: editing
                    .as_deref()
                    .and_then(|id| self.sign_ins.messages.get(id))
                    .unwrap_or(&no_messages),
                consent_request: editing
                    .as_deref()
                    .and_then(|id| self.sign_ins.consent_requests.get(id))
                    .map(String::as_str),
                testing_clock,
                busy: running.iter().any(|k| *k != JobKind::ReadStoredPasswords),
                running,
                recipient: &mut self.prefs.recipient,
                ask_recipient: &mut self.editing.ask_recipient,
                saving: self.editing.pending_save.is_some(),
            };
            egui::Panel::right("edit_form")
                .frame(edge_frame)
                .resizable(true)
                .default_size(theme::FORM_WIDTH)
                .min_size(420.0)
                .show(ui, |ui| form.ui(ui, &mut context, &mut self.commands));
            // Beside the form while the table keeps a useful width; in a narrow window
            // (1024 px: form 540 + compare 360 would leave the table ~120) it takes the
            // table's place until "Compare with" is Nothing again.
            if !compare_replaces_table
                && let Some(old) =
                    self.editing.compare_with.as_deref().and_then(|id| self.workspace.config().setting(id))
            {
                let old = old.clone();
                egui::Panel::right("compare")
                    .frame(edge_frame)
                    .resizable(true)
                    .default_size(COMPARE_WIDTH)
                    .min_size(280.0)
                    .show(ui, |ui| {
                        form.compare_ui(ui, &old);
                    });
            }
        }
        self.report_panel_ui(ui);
        let show_welcome =
            self.workspace.config().mail_settings.is_empty() && self.editing.form.is_none() && !self.read_only();
        let compared = self.editing.compare_with.as_deref().and_then(|id| self.workspace.config().setting(id)).cloned();
        self.central_panel(ui).show(ui, |ui| {
            if let (true, Some(old), Some(form)) = (compare_replaces_table, compared, self.editing.form.as_mut()) {
                form.compare_ui(ui, &old);
            } else if show_welcome {
                crate::ui::welcome::welcome_ui(ui, &mut self.commands);
            } else {
                let generation = (self.workspace.generation(), self.extras_generation);
                self.table.ui(ui, self.workspace.config(), generation, &self.extras, &mut self.commands);
            }
        });
    }
}

/// The compare panel's width beside the form.
const COMPARE_WIDTH: f32 = 360.0;

/// The narrowest table worth showing beside the form and the compare panel.
const TABLE_AT_LEAST: f32 = 420.0;
