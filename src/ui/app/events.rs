//! What the background jobs reported, taken once per frame: test reports,
//! Connect / Disconnect outcomes, leftover checks, the secret store's answers,
//! and the migration's delete once its re-check is in.

use super::{MailSettingsApp, Notice};
use crate::model::LeftoverRoute;
use crate::oauth::ConnectionState;
use crate::ui::jobs::{AfterSecret, ConnectFailure, JobEvent, JobKind};
use crate::ui::migration_view::route_button_label;

impl MailSettingsApp {
    /// Takes what the background jobs reported.
    pub(super) fn poll_jobs(&mut self, ctx: &egui::Context) {
        for event in self.jobs.poll() {
            self.handle_job_event(ctx, event);
        }
    }

    /// A migration's finish, its old folders checked once more: delete the old
    /// setting, or keep it Inactive.
    fn finish_migration(
        &mut self,
        old: &str,
        connection: &ConnectionState,
        recheck: crate::probe::imap::Leftover,
        route: LeftoverRoute,
        keep_old: bool,
    ) {
        let name = self.workspace.config().setting_name(old);
        let (result, done) = if keep_old {
            let kept = crate::migration::finish_keeping_old(&mut self.workspace, old, connection, &recheck, route);
            (kept, format!("\"{name}\" stays Inactive; check its folders again now and then"))
        } else {
            let deleted = crate::migration::finish(&mut self.workspace, old, connection, &recheck, route);
            (deleted, format!("Deleted \"{name}\" (restorable from the trash)"))
        };
        self.notice = Some(match result {
            Ok(()) => Notice::info(done),
            Err(err) => {
                self.report = Some(recheck.report);
                Notice::error(format!("Not finished: {err}"))
            }
        });
    }

    /// What the Bridge and Sign-in apps views' jobs reported.
    fn handle_view_event(&mut self, ctx: &egui::Context, event: JobEvent) {
        match event {
            JobEvent::BridgeListening { ports, certificate } => self.bridge.on_listening(ports, certificate),
            JobEvent::BridgeEnded { result } => self.bridge.on_ended(result),
            JobEvent::LocalPassword { setting_id, result } => self.bridge.on_local_password(setting_id, result),
            JobEvent::SecretStored { then: AfterSecret::SignInApp(change), result: Ok(()) } => {
                self.save_sign_in_app(ctx, change);
            }
            JobEvent::TestAlertSent { told } => self.test_alert_sent(&told),
            JobEvent::SecretStored { then: AfterSecret::Network(network), result: Ok(()) } => {
                self.save_network(network, true);
            }
            JobEvent::SecretStored { then: AfterSecret::Network(_), result: Err(err) } => {
                self.notice =
                    Some(Notice::error(format!("Not saved: the proxy's password could not be stored: {err}")));
            }
            JobEvent::SecretStored { then: AfterSecret::Alerts(alerts), result: Ok(()) } => self.save_alerts(alerts),
            JobEvent::SecretStored { then: AfterSecret::Alerts(_), result: Err(err) } => {
                self.notice =
                    Some(Notice::error(format!("Alerts not saved: the webhook's address could not be stored: {err}")));
            }
            JobEvent::SecretStored { then: AfterSecret::SignInApp(_), result: Err(err) } => {
                self.notice = Some(Notice::error(format!("Not saved: the client secret could not be stored: {err}")));
            }
            _ => {}
        }
    }

    fn handle_job_event(&mut self, ctx: &egui::Context, event: JobEvent) {
        match event {
            event @ (JobEvent::BridgeListening { .. }
            | JobEvent::BridgeEnded { .. }
            | JobEvent::LocalPassword { .. }
            | JobEvent::SecretStored { .. }
            | JobEvent::TestAlertSent { .. }) => self.handle_view_event(ctx, event),
            JobEvent::Report { setting_id, kind, report } => {
                let outcome = (report.passed, report.started_at.time_of_day());
                let passed_at = report.passed.then_some(report.started_at);
                let extras = self.extras_mut(&setting_id);
                match kind {
                    JobKind::Outgoing => (extras.last_outgoing, extras.outgoing_passed_at) = (Some(outcome), passed_at),
                    JobKind::Incoming => (extras.last_incoming, extras.incoming_passed_at) = (Some(outcome), passed_at),
                    _ => {}
                }
                let guide_test = match kind {
                    JobKind::Outgoing => Some(crate::migration::GuideTest::Outgoing),
                    JobKind::Incoming => Some(crate::migration::GuideTest::Incoming),
                    _ => None,
                };
                if let Some(test) = guide_test {
                    crate::migration::record_test(&mut self.workspace, &setting_id, test, report.passed);
                    // The guide promises "OK" for a passed test.
                    let name = self.workspace.config().setting_name(&setting_id);
                    self.notice = Some(if report.passed {
                        Notice::info(format!("{}: OK ({name})", kind.label()))
                    } else {
                        Notice::error(format!("{} failed for \"{name}\": see the report below", kind.label()))
                    });
                }
                self.report = Some(*report);
            }
            JobEvent::ConnectWaiting { .. } | JobEvent::DeviceCode { .. } | JobEvent::Finished { .. } => {}
            JobEvent::Leftover { setting_id, leftover, route } => {
                // A route is given only for a migration's old setting; it may have ended since.
                let route = route.filter(|_| self.workspace.config().migration(&setting_id).is_some());
                let recorded = match route {
                    Some(route) => {
                        crate::migration::record_leftover(&mut self.workspace, &setting_id, &leftover, route)
                            .map_err(|e| e.to_string())
                    }
                    None => Ok(leftover.total().map(|total| total == 0)),
                };
                self.notice = Some(match recorded {
                    Ok(Some(true)) => Notice::info("No mail left in the old folders (Mail Not Read, Mail Not Filed)"),
                    Ok(Some(false)) => Notice::error(format!(
                        "{} message(s) are still in the folders: retrieve them in Messages > Mail, then check again",
                        leftover.total().unwrap_or(0)
                    )),
                    Ok(None) => self.leftover_not_opened(&setting_id, route, &leftover.report),
                    Err(err) => Notice::error(err),
                });
                self.report = Some(leftover.report);
            }
            JobEvent::ReadyToFinish { old, connection, recheck, route, keep_old } => {
                self.finish_migration(&old, &connection, *recheck, route, keep_old);
            }
            JobEvent::StoredPasswords { setting_id, result } => {
                if let Some(form) = &mut self.editing.form
                    && form.editing_id() == Some(setting_id.as_str())
                {
                    form.set_stored(result);
                }
            }
            JobEvent::PasswordsSaved { setting_id, result } => match (result, self.editing.pending_save.take()) {
                (Ok(()), Some(pending)) if pending.setting.id == setting_id => {
                    self.save_config(pending.setting, pending.move_defaults_to.as_ref(), true, ctx);
                }
                (Err(err), _) => {
                    self.editing.after_save = self.editing.after_save.after_failed_save();
                    self.notice = Some(Notice::error(format!("Not saved: {err}")));
                }
                (_, other) => self.editing.pending_save = other,
            },
            JobEvent::Connected { setting_id, result } => self.connected(&setting_id, result),
            JobEvent::Disconnected { setting_id, message } => {
                self.extras_mut(&setting_id).connection = Some(ConnectionState::NotConnected);
                self.sign_ins.messages.insert(setting_id, vec![message.clone()]);
                self.notice = Some(Notice::info(message));
            }
            JobEvent::Failed { kind, message, .. } => {
                if kind == JobKind::SavePasswords {
                    self.editing.pending_save = None;
                }
                self.notice = Some(Notice::error(format!("{} could not run: {message}", kind.label())));
            }
            JobEvent::CheckedAll(results) => self.checked_all(&results),
            JobEvent::Connections(states) => {
                for (id, (state, refresh_issued)) in states {
                    let extras = self.extras_mut(&id);
                    extras.connection = Some(state);
                    extras.refresh_issued = refresh_issued;
                }
            }
        }
    }

    /// "Check all now" done: each setting's Test Incoming lands in "Last tests", and the
    /// status bar sums it up, naming what fails.
    fn checked_all(&mut self, results: &[crate::health::SettingHealth]) {
        use crate::health::Health;
        self.health.schedule_note = None;
        self.health.rows = results
            .iter()
            .map(|r| crate::ui::health_view::HealthRow {
                id: r.id.clone(),
                health: r.health,
                reason: r.reason.clone(),
                next_step: r.next_step.clone(),
                ends: r.ends.clone(),
            })
            .collect();
        self.health.history =
            crate::store::history::read(&crate::store::history::history_path_for(self.workspace.path()));
        for result in results {
            if let Some(report) = result.reports.first() {
                let outcome = (result.incoming_passed, report.started_at.time_of_day());
                let passed_at = result.incoming_passed.then_some(report.started_at);
                let extras = self.extras_mut(&result.id);
                (extras.last_incoming, extras.incoming_passed_at) = (Some(outcome), passed_at);
            }
        }
        let failing: Vec<&str> =
            results.iter().filter(|r| r.health >= Health::Temporary).map(|r| r.name.as_str()).collect();
        let attention = results.iter().filter(|r| r.health == Health::Attention).count();
        self.notice = Some(if failing.is_empty() {
            Notice::info(format!("Checked {}: all working ({attention} need attention soon)", results.len()))
        } else {
            Notice::error(format!("Checked {}: {} not working: {}", results.len(), failing.len(), failing.join(", ")))
        });
        if let Some(worst) = results.iter().find(|r| r.health >= Health::Temporary) {
            self.report = worst.reports.iter().find(|r| !r.passed).cloned();
        }
    }

    fn connected(&mut self, setting_id: &str, result: Result<crate::oauth::Connected, ConnectFailure>) {
        let messages = match result {
            Ok(connected) => {
                let state = connected.status.state.clone();
                self.extras_mut(setting_id).connection = Some(state.clone());
                self.extras_mut(setting_id).refresh_issued =
                    connected.status.refresh_token_issued_at.map(crate::clock::Timestamp::moment);
                self.notice = Some(Notice::info(state.label()));
                connected.warnings
            }
            Err(failure) => {
                if let Some(request) = &failure.consent_request {
                    self.sign_ins.consent_requests.insert(setting_id.to_owned(), request.clone());
                }
                let mut lines = vec![format!("Connect failed: {}", failure.message)];
                if let Some(d) = failure.diagnosis {
                    lines.extend(d.to_string().lines().map(str::to_owned));
                }
                let where_shown = if self.prefs.view == crate::ui::commands::View::Migration {
                    "the reason is under the checklist"
                } else {
                    "the reason is in the form"
                };
                self.notice = Some(Notice::error(format!("Connect failed; {where_shown}")));
                lines
            }
        };
        self.sign_ins.messages.insert(setting_id.to_owned(), messages);
    }

    /// What each channel said to the test alert (a cancelled test says nothing more:
    /// Cancel already did).
    fn test_alert_sent(&mut self, told: &[crate::alerts::Told]) {
        if self.health.test_alert.take().is_none_or(|cancel| cancel.is_cancelled()) {
            return;
        }
        let said: Vec<String> = told.iter().map(crate::alerts::Told::words).collect();
        let text = format!("Test alert — {}", said.join("; "));
        self.notice =
            Some(if told.iter().all(|t| t.result.is_ok()) { Notice::info(text) } else { Notice::error(text) });
    }

    /// After a reload or import: forget what no longer exists and re-read the connections.
    pub(super) fn rescan(&mut self, ctx: &egui::Context) {
        self.extras_generation += 1;
        self.health.alerts.reset();
        self.jobs.scan_connections(ctx, self.workspace.config(), self.workspace.secrets());
        if let Some(form) = &self.editing.form
            && form.editing_id().is_some_and(|id| self.workspace.config().setting(id).is_none())
        {
            self.editing.form = None;
        }
    }
}

/// `2026-11-26T04:57:56.61Z` > `04:57`.
impl MailSettingsApp {
    /// The notice when a leftover check could not open the folders: for a
    /// migration's old setting, which sign-in was refused and the other way (offered
    /// as a button beside the step), or how to accept without a check.
    fn leftover_not_opened(
        &mut self,
        old: &str,
        route: Option<LeftoverRoute>,
        report: &crate::probe::Report,
    ) -> Notice {
        let Some(route) = route else {
            return Notice::error(format!("The folders could not be opened: {}", report.failure_summary()));
        };
        let failure = crate::migration::leftover_failure(self.workspace.config(), old, route, report);
        let next = match &failure.other {
            Some((other, words)) => format!("Try the other way, {words}: {}.", route_button_label(*other)),
            None => "If no sign-in reaches the old folders any more, use \"Cannot check…\" and say why.".to_owned(),
        };
        self.migration.offer_route(old, failure.other.map(|(other, _)| other));
        Notice::error(format!("{} {next}", failure.text))
    }
}
