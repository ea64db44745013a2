//! The migration assistant in the window: start from an old Basic setting,
//! then the checklist with the action for each step; Delete old stays
//! disabled, saying why, until every guard holds; Roll back is one click.

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, MigrationAction};
use super::jobs::JobKind;
use super::theme;
use crate::migration::{Checklist, StepState};
use crate::model::{Config, CredentialKind};

#[derive(Debug, Default)]
pub struct MigrationView {
    /// The old setting of the migration shown.
    pub selected: Option<String>,
    start_old: Option<String>,
    start_target: Option<String>,
    acknowledgement: String,
    /// Recomputed by the app when something changed (it reads the secret store).
    pub checklist: Option<Checklist>,
}

impl MigrationView {
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        running: &[(String, JobKind, Option<String>)],
        commands: &mut CommandQueue,
    ) {
        ui.heading("Migration assistant");
        ui.label(
            "Move an old Basic (password) setting to OAuth, step by step. Nothing is deleted until every check passes.",
        );
        ui.add_space(6.0);
        self.start_ui(ui, config, commands);
        ui.separator();
        let ongoing: Vec<(String, String)> = config
            .migrations
            .iter()
            .filter(|m| m.rolled_back_at.is_none())
            .map(|m| (m.old.clone(), m.new.clone()))
            .collect();
        if ongoing.is_empty() {
            ui.label("No migration yet.");
            return;
        }
        ui.horizontal(|ui| {
            ui.label("Migration:");
            for (old, new) in &ongoing {
                if ui
                    .selectable_label(self.selected.as_deref() == Some(old.as_str()), format!("{old} to {new}"))
                    .clicked()
                {
                    commands.send(Command::SelectMigration(old.clone()));
                }
            }
        });
        let Some(list) = &self.checklist else { return };
        ui.add_space(6.0);
        egui::Grid::new("checklist").num_columns(4).striped(true).spacing([12.0, 6.0]).max_col_width(560.0).show(
            ui,
            |ui| {
                for step in &list.steps {
                    let (mark, color, detail) = match &step.state {
                        StepState::Done(d) => ("done", theme::pass_color(ui.visuals()), d),
                        StepState::ToDo(d) => ("to do", ui.visuals().text_color(), d),
                        StepState::Blocked(d) => ("blocked", theme::warning_color(ui.visuals()), d),
                    };
                    ui.label(RichText::new(mark).color(color).strong());
                    ui.label(step.name);
                    // The action before the detail, so a long reason never pushes it out of view.
                    let done = matches!(step.state, StepState::Done(_));
                    // A blocked audit is the one step whose own action unblocks it (run it again).
                    let blocked = matches!(step.state, StepState::Blocked(_)) && step.name != "Leftover audit clean";
                    ui.add_enabled_ui(!blocked, |ui| {
                        step_action_ui(ui, step.name, done, list, running, &mut self.acknowledgement, commands);
                    });
                    ui.add(egui::Label::new(detail.as_str()).wrap());
                    ui.end_row();
                }
            },
        );
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let deletable = list.delete_blockers.is_empty() && config.setting(&list.old).is_some();
            let delete = ui.add_enabled(deletable, egui::Button::new("Delete old setting"));
            let delete = if list.delete_blockers.is_empty() {
                delete
            } else {
                delete.on_disabled_hover_text(format!("Not yet: {}", list.delete_blockers.join("; ")))
            };
            if delete.clicked() {
                commands.send(Command::Migration(list.old.clone(), MigrationAction::Finish));
            }
            if ui
                .button("Roll back")
                .on_hover_text("Old setting active again, previous company defaults restored")
                .clicked()
            {
                commands.send(Command::Migration(list.old.clone(), MigrationAction::Rollback));
            }
        });
        if !list.delete_blockers.is_empty() && config.setting(&list.old).is_some() {
            ui.label(
                RichText::new(format!("Delete is blocked: {}", list.delete_blockers.join("; ")))
                    .color(theme::warning_color(ui.visuals())),
            );
        }
    }

    fn start_ui(&mut self, ui: &mut Ui, config: &Config, commands: &mut CommandQueue) {
        let basics: Vec<(&str, &str)> = config
            .mail_settings
            .iter()
            .filter(|s| s.credential == CredentialKind::Basic && config.migration(&s.id).is_none())
            .map(|s| (s.id.as_str(), s.description.as_str()))
            .collect();
        let mut targets: Vec<(String, String)> =
            vec![("microsoft365".to_owned(), "Microsoft 365".to_owned()), ("gmail".to_owned(), "Gmail".to_owned())];
        targets.extend(
            config
                .oauth_providers
                .iter()
                .filter(|p| p.id != "microsoft365" && p.id != "gmail")
                .map(|p| (p.id.clone(), p.id.clone())),
        );
        ui.horizontal(|ui| {
            let label = ui.label("Replace");
            let shown = self
                .start_old
                .as_deref()
                .and_then(|id| config.setting(id))
                .map_or("Choose a Basic setting…", |s| s.description.as_str());
            egui::ComboBox::from_id_salt("migrate_old")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (id, description) in &basics {
                        ui.selectable_value(&mut self.start_old, Some((*id).to_owned()), *description);
                    }
                })
                .response
                .labelled_by(label.id);
            let label = ui.label("with");
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
            if ui.add_enabled(ready, egui::Button::new("Start migration")).clicked()
                && let (Some(old), Some(target)) = (self.start_old.take(), self.start_target.take())
            {
                commands.send(Command::Migration(old, MigrationAction::Start(target)));
            }
        });
    }
}

fn step_action_ui(
    ui: &mut Ui,
    step: &str,
    done: bool,
    list: &Checklist,
    running: &[(String, JobKind, Option<String>)],
    acknowledgement: &mut String,
    commands: &mut CommandQueue,
) {
    let (old, new) = (&list.old, &list.new);
    let busy = |id: &str, kind: JobKind| running.iter().any(|(s, k, _)| s == id && *k == kind);
    let job_button = |ui: &mut Ui, id: &str, kind: JobKind, label: &str, commands: &mut CommandQueue| {
        if busy(id, kind) {
            ui.spinner();
        } else if ui.button(label).clicked() {
            commands.send(Command::StartJob(id.to_owned(), kind));
        }
    };
    match step {
        "Connected" if !done => {
            let link =
                running.iter().find(|(s, k, _)| s == new && *k == JobKind::Connect).and_then(|(_, _, url)| url.clone());
            ui.horizontal(|ui| {
                job_button(ui, new, JobKind::Connect, "Connect", commands);
                if let Some(url) = link {
                    ui.label("Waiting for sign-in in your browser…");
                    if ui.button("Copy link").clicked() {
                        commands.send(Command::CopyText(url));
                    }
                    if ui.button("Cancel sign-in").clicked() {
                        commands.send(Command::CancelJob(new.clone(), JobKind::Connect));
                    }
                }
            });
        }
        "Test Outgoing passed" => {
            if ui.button("Open the new setting").on_hover_text("Test Outgoing asks for a recipient address").clicked() {
                commands.send(Command::Edit(new.clone()));
                commands.send(Command::ShowView(super::commands::View::MailSettings));
            }
        }
        "Test Incoming passed" => job_button(ui, new, JobKind::Incoming, "Test Incoming", commands),
        "New setting active" if !done => {
            if ui.button("Activate").clicked() {
                commands.send(Command::Migration(old.clone(), MigrationAction::ActivateNew));
            }
        }
        "Company defaults switched" if !done => {
            if ui.button("Switch all").clicked() {
                commands.send(Command::Migration(old.clone(), MigrationAction::SwitchDefaults));
            }
        }
        "Old setting inactive" if !done => {
            if ui.button("Deactivate old").clicked() {
                commands.send(Command::Migration(old.clone(), MigrationAction::DeactivateOld));
            }
        }
        "Leftover audit clean" => {
            ui.horizontal(|ui| {
                job_button(ui, old, JobKind::Audit, "Run audit", commands);
                if !done {
                    let label = ui.label("or accept because");
                    ui.add(egui::TextEdit::singleline(acknowledgement).hint_text("reason").desired_width(160.0))
                        .labelled_by(label.id);
                    if ui.add_enabled(!acknowledgement.trim().is_empty(), egui::Button::new("Accept")).clicked() {
                        commands.send(Command::Migration(
                            old.clone(),
                            MigrationAction::Acknowledge(std::mem::take(acknowledgement)),
                        ));
                    }
                }
            });
        }
        _ => {
            ui.label("");
        }
    }
}
