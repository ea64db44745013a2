//! The migration assistant in the window: start from an old Basic setting,
//! then the checklist in the guide's order, one compact row per step with its
//! action, the step to do next highlighted, inside a scroll area so every
//! action is reachable at 1024×640; "Congratulations" when every step is done.
//! The checklist is derived every frame from the config and the connection
//! state the app already knows — drawing never reads the secret store.

use super::widgets::hinted_input_ui;
use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, FormCommand, MigrationAction, View};
use super::jobs::JobKind;
use super::theme;
use crate::migration::{Checklist, Step, StepId, StepState};
use crate::model::{Config, LeftoverRoute};
use crate::oauth::ConnectionState;
use crate::ui::commands::{JobCommand, MigrationCommand, WindowCommand};

/// Height of one checklist row: every row the same, so the list reads as a list.
const STEP_ROW_HEIGHT: f32 = 34.0;

#[derive(Debug, Default)]
pub struct MigrationView {
    /// The old setting of the migration shown (else the latest one).
    selected: Option<String>,
    start_old: Option<String>,
    start_target: Option<String>,
    acknowledgement: String,
    /// The folder names being edited for the leftover check (one per line), and whose.
    leftover_folders: Option<(String, String)>,
    /// After a refused sign-in to the old folders: the other way to try.
    offered_route: Option<(String, LeftoverRoute)>,
    /// The current step last scrolled into view, and the visible height then: a new
    /// step, or less room (a report opened below), scrolls it into view again.
    scrolled_to: Option<(String, Option<StepId>, i32)>,
}

/// The button that checks the old folders along `route`.
pub(crate) fn route_button_label(route: LeftoverRoute) -> &'static str {
    match route {
        LeftoverRoute::OldSignIn => "Check with the old password",
        LeftoverRoute::NewSignIn => "Check with the new sign-in",
    }
}

impl MigrationView {
    pub fn select(&mut self, old: String) {
        self.selected = Some(old);
    }

    /// Chooses `old` as the setting to replace in "Start migration".
    pub(crate) fn choose_to_replace(&mut self, old: &str) {
        self.start_old = Some(old.to_owned());
    }

    /// Offers `route` (when some) beside "Check leftover mail" for `old`.
    pub(crate) fn offer_route(&mut self, old: &str, route: Option<LeftoverRoute>) {
        self.offered_route = route.map(|route| (old.to_owned(), route));
    }

    pub(crate) fn forget_offered_route(&mut self, old: &str) {
        if self.offered_route.as_ref().is_some_and(|(offered, _)| offered == old) {
            self.offered_route = None;
        }
    }

    /// The migration shown: the one chosen, else the latest still going on.
    pub(crate) fn selected(&self, config: &Config) -> Option<String> {
        self.selected.clone().filter(|old| config.migration(old).is_some()).or_else(|| {
            (config.migrations.iter().rev().find(|m| m.rolled_back_at.is_none()).map(|m| m.old.clone())).map(Into::into)
        })
    }

    /// `connect_messages`: what the last Connect of the new setting said (its failure and
    /// diagnosis, or warnings), shown here where Connect was pressed.
    #[allow(clippy::too_many_arguments, reason = "the view's inputs, each read from app state")]
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        connection: &ConnectionState,
        connect_messages: &[String],
        consent_request: Option<&str>,
        running: &[(String, JobKind, Option<String>)],
        recipient: &mut String,
        commands: &mut CommandQueue,
    ) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.heading("Migration assistant");
            ui.add(
                egui::Label::new(
                    "Move an old Basic (password) setting to OAuth, in the setup guide's order. Nothing is deleted \
                     until every check passes.",
                )
                .wrap(),
            );
            ui.add_space(6.0);
            self.start_ui(ui, config, commands);
            ui.separator();
            let Some(old) = self.selected(config) else {
                ui.label("No migration yet: choose the setting to replace above.");
                return;
            };
            self.picker_ui(ui, config, &old, commands);
            let list = match crate::migration::checklist(config, &old, connection) {
                Ok(list) => list,
                Err(err) => {
                    ui.colored_label(theme::error_color(ui.visuals()), err.to_string());
                    return;
                }
            };
            if list.is_finished() {
                congratulations_ui(ui, config, &list);
            }
            self.checklist_ui(ui, config, &list, running, recipient, commands);
            connect_messages_ui(ui, connect_messages, commands);
            if let Some(request) = consent_request {
                super::form::consent_request_ui(ui, request, commands);
            }
        });
    }

    fn picker_ui(&self, ui: &mut Ui, config: &Config, shown: &str, commands: &mut CommandQueue) {
        let ongoing: Vec<&crate::model::Migration> =
            config.migrations.iter().filter(|m| m.rolled_back_at.is_none()).collect();
        if ongoing.len() < 2 {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Migration:");
            for m in ongoing {
                let label = format!("{} to {}", config.setting_name(&m.old), config.setting_name(&m.new));
                if ui.selectable_label(shown == m.old, label).clicked() {
                    commands.send(Command::Migration(MigrationCommand::Select(m.old.clone())));
                }
            }
        });
    }

    fn checklist_ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        list: &Checklist,
        running: &[(String, JobKind, Option<String>)],
        recipient: &mut String,
        commands: &mut CommandQueue,
    ) {
        let current = list.current();
        ui.label(
            RichText::new(format!("\"{}\" to \"{}\"", config.setting_name(&list.old), config.setting_name(&list.new)))
                .strong(),
        );
        ui.add_space(4.0);
        #[allow(clippy::cast_possible_truncation, reason = "a height in points, well inside i32")]
        let visible = ui.clip_rect().height().round() as i32;
        let wanted = (list.old.clone(), current, visible);
        let scroll_to_current = self.scrolled_to.as_ref() != Some(&wanted);
        self.scrolled_to = Some(wanted);
        for (number, step) in list.steps.iter().enumerate() {
            let is_current = current == Some(step.id);
            let fill = if is_current { theme::current_fill(ui.visuals()) } else { egui::Color32::TRANSPARENT };
            let row =
                egui::Frame::new().fill(fill).inner_margin(egui::vec2(6.0, 2.0)).corner_radius(4.0).show(ui, |ui| {
                    ui.set_min_height(STEP_ROW_HEIGHT);
                    ui.horizontal(|ui| {
                        let (mark, color, detail) = match &step.state {
                            StepState::Done(d) => ("done", theme::pass_color(ui.visuals()), d),
                            StepState::ToDo(d) => ("to do", ui.visuals().text_color(), d),
                            StepState::Blocked(d) => ("blocked", theme::warning_color(ui.visuals()), d),
                        };
                        ui.add_sized(
                            [70.0, STEP_ROW_HEIGHT - 6.0],
                            egui::Label::new(RichText::new(mark).color(color).strong()),
                        );
                        let title = format!("{}. {}", number + 1, step.name);
                        let title = if is_current { RichText::new(title).strong() } else { RichText::new(title) };
                        ui.add_sized([260.0, STEP_ROW_HEIGHT - 6.0], egui::Label::new(title).truncate());
                        // The action before the detail, so a long reason never pushes it out of view.
                        // The leftover check and "Set Active untested" are the ways past their own blocks.
                        let blocked = matches!(step.state, StepState::Blocked(_))
                            && !matches!(step.id, StepId::LeftoverChecked | StepId::NewActive);
                        ui.add_enabled_ui(!blocked, |ui| {
                            self.step_action_ui(ui, step, list, running, recipient, commands);
                        });
                        ui.add(egui::Label::new(detail.as_str()).truncate()).on_hover_text(detail.as_str());
                    });
                });
            if is_current && scroll_to_current {
                row.response.scroll_to_me(Some(egui::Align::Center));
            }
        }
        if let Some(step) = current.and_then(|id| list.step(id)) {
            let detail = match &step.state {
                StepState::Done(d) | StepState::ToDo(d) | StepState::Blocked(d) => d,
            };
            ui.add_space(6.0);
            ui.add(egui::Label::new(RichText::new(format!("Next — {}: {detail}", step.name)).strong()).wrap());
        }
        finish_buttons_ui(ui, config, list, running, commands);
    }

    fn start_ui(&mut self, ui: &mut Ui, config: &Config, commands: &mut CommandQueue) {
        let basics: Vec<(&str, &str)> = config
            .mail_settings
            .iter()
            .filter(|s| !s.uses_oauth() && config.migration(&s.id).is_none())
            .map(|s| (s.id.as_str(), s.description.as_str()))
            .collect();
        let targets = crate::migration::Target::choices(config);
        // One Basic setting to replace: nothing to choose. The target defaults to the guide's Microsoft 365.
        if self.start_old.as_deref().is_none_or(|id| !basics.iter().any(|(b, _)| *b == id)) {
            self.start_old = match basics.as_slice() {
                [(only, _)] => Some((*only).to_owned()),
                _ => None,
            };
        }
        if self.start_target.is_none() {
            // The first of the catalogue: the guide's Microsoft 365.
            self.start_target = targets.first().map(|(id, _)| id.clone());
        }
        if basics.is_empty() {
            ui.label("No Basic setting is waiting to be replaced.");
            return;
        }
        let made: Vec<(crate::model::SettingId, String)> = self
            .start_old
            .as_deref()
            .map(|old| crate::migration::adoptable_for(config, old))
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id.clone(), s.description.clone()))
            .collect();
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Replace");
            let shown = self
                .start_old
                .as_deref()
                .and_then(|id| config.setting(id))
                .map_or("Choose a Basic setting…", |s| s.description.as_str());
            egui::ComboBox::from_id_salt("migrate_old")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    let mut in_order = basics.clone();
                    super::table::sort_by_name(&mut in_order);
                    for (id, description) in in_order {
                        ui.selectable_value(&mut self.start_old, Some(id.to_owned()), description);
                    }
                })
                .response
                .labelled_by(label.id);
            // The setting the admin made already for this mailbox comes first: no duplicate.
            if !made.is_empty() {
                ui.label("with the setting made already for this mailbox:");
                for (id, description) in &made {
                    let button = ui
                        .button(format!("Use \"{description}\""))
                        .on_hover_text("Migrate to the OAuth setting made already (nothing is created)");
                    if button.clicked()
                        && let Some(old) = self.start_old.take()
                    {
                        commands.send(Command::Migration(MigrationCommand::Step(
                            old.into(),
                            MigrationAction::Adopt(id.clone()),
                        )));
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(if made.is_empty() { "with" } else { "or create a new one with" });
            let shown = self
                .start_target
                .as_deref()
                .map_or("Choose…", |t| targets.iter().find(|(id, _)| id == t).map_or(t, |(_, l)| l.as_str()));
            egui::ComboBox::from_id_salt("migrate_target")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (id, target_label) in &targets {
                        ui.selectable_value(&mut self.start_target, Some(id.clone()), target_label);
                    }
                })
                .response
                .labelled_by(label.id);
            let ready = self.start_old.is_some() && self.start_target.is_some();
            let start = ui
                .add_enabled(ready, egui::Button::new("Start migration"))
                .on_hover_text("Creates the new OAuth setting from the old one");
            if start.clicked()
                && let (Some(old), Some(target)) = (self.start_old.take(), self.start_target.clone())
            {
                commands.send(Command::Migration(MigrationCommand::Step(old.into(), MigrationAction::Start(target))));
            }
        });
    }

    fn step_action_ui(
        &mut self,
        ui: &mut Ui,
        step: &Step,
        list: &Checklist,
        running: &[(String, JobKind, Option<String>)],
        recipient: &mut String,
        commands: &mut CommandQueue,
    ) {
        let (old, new, done) = (&list.old, &list.new, step.is_done());
        let busy = |id: &str, kind: JobKind| running.iter().any(|(s, k, _)| s == id && *k == kind);
        let job_button = |ui: &mut Ui, id: &str, kind: JobKind, label: &str, commands: &mut CommandQueue| {
            if busy(id, kind) {
                ui.spinner();
            } else if ui.button(label).clicked() {
                commands.send(Command::Job(JobCommand::Start(id.to_owned(), kind)));
            }
        };
        match step.id {
            StepId::Connected if !done => {
                let link = running
                    .iter()
                    .find(|(s, k, _)| s == new && *k == JobKind::Connect)
                    .and_then(|(_, _, url)| url.clone());
                job_button(ui, new, JobKind::Connect, "Connect", commands);
                if let Some(url) = link {
                    if ui.button("Copy link").on_hover_text("Waiting for sign-in in your browser…").clicked() {
                        commands.send(Command::Window(WindowCommand::CopyText(url)));
                    }
                    if ui.button("Cancel sign-in").clicked() {
                        commands.send(Command::Job(JobCommand::Cancel(new.clone(), JobKind::Connect)));
                    }
                }
            }
            StepId::OutgoingTested => {
                let label = ui.label("to");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(recipient).desired_width(170.0),
                    "you@company.com",
                    &label,
                )
                .on_hover_text("The address the two test emails go to");
                job_button(ui, new, JobKind::Outgoing, "Test Outgoing Settings", commands);
                let open = ui.button("Open the new setting").on_hover_text("Edit the new setting in the form");
                if open.clicked() {
                    commands.send(Command::Form(FormCommand::Edit(new.clone().into())));
                    commands.send(Command::Window(WindowCommand::Show(View::MailSettings)));
                }
            }
            StepId::IncomingTested => job_button(ui, new, JobKind::Incoming, "Test Incoming Settings", commands),
            StepId::NewActive if matches!(step.state, StepState::Blocked(_)) => {
                let untested = MigrationAction::ActivateNewUntested;
                action_button(ui, "Set Active untested", old, untested, commands);
            }
            StepId::NewActive if !done => action_button(ui, "Set Active", old, MigrationAction::ActivateNew, commands),
            StepId::OldInactive if !done => {
                action_button(ui, "Set old Inactive", old, MigrationAction::DeactivateOld, commands);
            }
            StepId::DefaultsSwitched if !done => {
                action_button(ui, "Switch all", old, MigrationAction::SwitchDefaults, commands);
            }
            StepId::LeftoverChecked => {
                job_button(ui, old, JobKind::Leftover, "Check leftover mail", commands);
                let offered = self.offered_route.as_ref().filter(|(offered, _)| offered == old).map(|(_, r)| *r);
                if let Some(route) = offered.filter(|_| !done) {
                    let button = ui.button(route_button_label(route)).on_hover_text(
                        "The server refused the last sign-in to the old folders; this opens them the other way",
                    );
                    if button.clicked() {
                        commands.send(Command::Job(JobCommand::CheckLeftoverVia(old.to_owned(), route)));
                    }
                }
                self.leftover_folders_ui(ui, old, list, commands);
                if !done {
                    ui.menu_button("Cannot check…", |ui| {
                        ui.label("If no sign-in reaches the old folders any more, say why:");
                        let label = ui.label("Reason");
                        ui.add(egui::TextEdit::singleline(&mut self.acknowledgement).desired_width(260.0))
                            .labelled_by(label.id);
                        if ui
                            .add_enabled(!self.acknowledgement.trim().is_empty(), egui::Button::new("Accept"))
                            .clicked()
                        {
                            commands.send(Command::Migration(MigrationCommand::Step(
                                old.clone().into(),
                                MigrationAction::Acknowledge(std::mem::take(&mut self.acknowledgement)),
                            )));
                            ui.close();
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

impl MigrationView {
    /// "Folders…": the names the leftover check counts, editable (one per line) and
    /// remembered — the way past a folder the old server does not have.
    fn leftover_folders_ui(&mut self, ui: &mut Ui, old: &str, list: &Checklist, commands: &mut CommandQueue) {
        let response = ui.menu_button("Folders…", |ui| {
            let editing =
                self.leftover_folders.get_or_insert_with(|| (old.to_owned(), list.leftover_folders.join("\n")));
            if editing.0 != old {
                *editing = (old.to_owned(), list.leftover_folders.join("\n"));
            }
            let label = ui.label("Folders to check, one per line:");
            ui.add(egui::TextEdit::multiline(&mut editing.1).desired_rows(3).desired_width(280.0))
                .labelled_by(label.id);
            ui.label("The old inbox counts too when it is not the new setting's mailbox.");
            if ui.button("Save folders").clicked() {
                let folders = editing.1.lines().map(str::to_owned).collect();
                commands.send(Command::Migration(MigrationCommand::Step(
                    old.into(),
                    MigrationAction::SetLeftoverFolders(folders),
                )));
                self.leftover_folders = None;
                ui.close();
            }
        });
        response.response.on_hover_text(format!("Checks {}", list.leftover_folders.join(", ")));
    }
}

/// The last Connect's words (a failure with its diagnosis, or warnings such as a
/// missing permission) where Connect was pressed, with a way to copy them for support.
fn connect_messages_ui(ui: &mut Ui, messages: &[String], commands: &mut CommandQueue) {
    let Some(first) = messages.first() else { return };
    ui.add_space(8.0);
    let failed = first.starts_with("Connect failed");
    egui::Frame::new().fill(theme::banner_fill(ui.visuals())).inner_margin(8.0).corner_radius(4.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            let title = if failed { "Connect failed" } else { "After Connect" };
            let color = if failed { theme::error_color(ui.visuals()) } else { theme::warning_color(ui.visuals()) };
            ui.label(RichText::new(title).strong().color(color));
            if ui.button("Copy").on_hover_text("Copies these lines (they hold no password or token)").clicked() {
                commands.send(Command::Window(WindowCommand::CopyText(messages.join("\n"))));
            }
        });
        for line in messages.iter().skip(usize::from(failed && first == "Connect failed")) {
            ui.add(egui::Label::new(line.as_str()).wrap());
        }
    });
}

/// Delete, Keep old Inactive and Roll back under the checklist, and what blocks the delete.
fn finish_buttons_ui(
    ui: &mut Ui,
    config: &Config,
    list: &Checklist,
    running: &[(String, JobKind, Option<String>)],
    commands: &mut CommandQueue,
) {
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        let exists = config.setting(&list.old).is_some();
        let busy = running.iter().any(|(s, k, _)| s == &list.old && *k == JobKind::FinishMigration);
        if busy {
            ui.spinner();
            ui.label("Checking the old folders once more…");
        }
        let delete =
            ui.add_enabled(list.delete_blockers.is_empty() && exists && !busy, egui::Button::new("Delete old setting"));
        let delete = if list.delete_blockers.is_empty() {
            delete.on_hover_text("Checks the old folders once more, then moves the old setting to the trash")
        } else {
            delete.on_disabled_hover_text(format!("Not yet: {}", list.delete_blockers.join("; ")))
        };
        if delete.clicked() {
            commands.send(Command::Migration(MigrationCommand::Step(list.old.clone().into(), MigrationAction::Finish)));
        }
        // The guide allows keeping the old setting Inactive instead: the same guards, no delete.
        let keep = ui.add_enabled(
            list.delete_blockers.is_empty() && exists && !busy && !list.is_finished(),
            egui::Button::new("Keep old Inactive"),
        );
        if keep
            .on_hover_text("Checks the old folders once more, then finishes with the old setting kept Inactive")
            .clicked()
        {
            commands.send(Command::Migration(MigrationCommand::Step(
                list.old.clone().into(),
                MigrationAction::FinishKeepingOld,
            )));
        }
        if ui
            .button("Roll back")
            .on_hover_text("Old setting Active again, previous company defaults restored")
            .clicked()
        {
            commands
                .send(Command::Migration(MigrationCommand::Step(list.old.clone().into(), MigrationAction::Rollback)));
        }
    });
    if !list.delete_blockers.is_empty() && config.setting(&list.old).is_some() {
        ui.add(
            egui::Label::new(
                RichText::new(format!("Delete is blocked: {}", list.delete_blockers.join("; ")))
                    .color(theme::warning_color(ui.visuals())),
            )
            .wrap(),
        );
    }
}

/// A button that sends one migration action for the old setting `old`.
fn action_button(ui: &mut Ui, label: &str, old: &str, action: MigrationAction, commands: &mut CommandQueue) {
    if ui.button(label).clicked() {
        commands.send(Command::Migration(MigrationCommand::Step(old.into(), action)));
    }
}

/// The guide's last line, once every step is done.
fn congratulations_ui(ui: &mut Ui, config: &Config, list: &Checklist) {
    egui::Frame::new().fill(theme::success_fill(ui.visuals())).inner_margin(12.0).corner_radius(6.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(
            RichText::new("Congratulations! You are now set up!")
                .size(theme::LARGE_SIZE)
                .color(theme::pass_color(ui.visuals()))
                .strong(),
        );
        let kept = config.migration(&list.old).is_some_and(|m| m.kept_old_inactive);
        let old_words = if kept {
            "stays Inactive: check its folders again now and then (Check leftover mail)"
        } else {
            "is in the trash (restorable)"
        };
        ui.add(
            egui::Label::new(format!(
                "\"{}\" is connected, tested, Active and the default for its companies; \"{}\" {old_words}.",
                config.setting_name(&list.new),
                config.setting_name(&list.old)
            ))
            .wrap(),
        );
    });
    ui.add_space(8.0);
}
