//! A test's result: the stage timeline (pass/fail, duration, what happened,
//! the server's words), the facts, the diagnosis, and Copy report.

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue};
use super::theme;
use crate::model::fields::Field;
use crate::probe::folders::FolderRole;
use crate::probe::{Report, StageOutcome};
use crate::ui::commands::ReportCommand;

/// The height the report needs in its panel (title row, stages, facts, diagnosis),
/// estimated from its lines: the panel opens at this height, up to a third of the window.
pub(crate) fn wanted_height(report: &Report) -> f32 {
    const LINE: f32 = 22.0;
    let stage_lines: usize =
        report.stages.iter().map(|s| 1 + usize::from(s.server_reply.is_some()) + s.detail.len() / 90).sum();
    let diagnosis_lines = if report.diagnosis.is_some() { 4 } else { 0 };
    let lines = stage_lines + report.facts.len() + diagnosis_lines;
    // The title row, its separator and the panel's margins.
    56.0 + LINE * f32::from(u16::try_from(lines).unwrap_or(u16::MAX))
}

/// `setting_name`: how the report's setting is named to people (its description).
pub(crate) fn report_ui(ui: &mut Ui, report: &Report, setting_name: &str, commands: &mut CommandQueue) {
    // The buttons are laid out first, from the right: the title takes what is left and
    // its setting name shortens ("…") before it could run under them.
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").clicked() {
                commands.send(Command::Report(ReportCommand::Close));
            }
            if ui.button("Copy report").on_hover_text("Copies the report without any password or token").clicked() {
                commands.send(Command::Report(ReportCommand::Copy));
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                // The guide promises "OK" for a passed test.
                let (verdict, color) = if report.passed {
                    ("OK", theme::pass_color(ui.visuals()))
                } else {
                    ("FAILED", theme::error_color(ui.visuals()))
                };
                ui.heading(format!("{} — ", report.kind.label()));
                ui.label(RichText::new(verdict).heading().color(color).strong());
                let target = RichText::new(format!("{setting_name}  ·  {}", report.target)).weak();
                ui.add(egui::Label::new(target).truncate());
            });
        });
    });
    ui.separator();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        egui::Grid::new("stages").num_columns(4).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for stage in &report.stages {
                let (mark, color) = match stage.outcome {
                    StageOutcome::Passed => ("OK", theme::pass_color(ui.visuals())),
                    StageOutcome::Warning => ("WARN", theme::warning_color(ui.visuals())),
                    StageOutcome::Failed => ("FAIL", theme::error_color(ui.visuals())),
                };
                ui.label(RichText::new(mark).color(color).strong().monospace());
                ui.label(stage.name.label());
                ui.label(RichText::new(format!("{:.1} ms", stage.duration_ms)).monospace().weak());
                ui.vertical(|ui| {
                    ui.label(&stage.detail);
                    if let Some(reply) = &stage.server_reply {
                        ui.add(egui::Label::new(RichText::new(reply).monospace()).wrap());
                    }
                });
                ui.end_row();
            }
        });
        if !report.facts.is_empty() {
            ui.add_space(6.0);
            egui::Grid::new("facts").num_columns(2).spacing([12.0, 2.0]).show(ui, |ui| {
                for (name, value) in &report.facts {
                    ui.label(RichText::new(name).strong());
                    ui.label(value);
                    ui.end_row();
                }
            });
        }
        if let Some(diagnosis) = &report.diagnosis {
            ui.add_space(6.0);
            egui::Frame::new().fill(theme::banner_fill(ui.visuals())).inner_margin(8.0).corner_radius(4.0).show(
                ui,
                |ui| {
                    ui.label(RichText::new(format!("What went wrong: {}", diagnosis.cause)).strong());
                    ui.label(format!("Who can fix it: {}", diagnosis.who.label()));
                    ui.label(format!("Next step: {}", diagnosis.next_step));
                    if let Some(fix) = &report.folder_fix {
                        let field = match fix.role {
                            FolderRole::Inbox => Field::ImapInboxFolder,
                            FolderRole::Sent => Field::ImapSentFolder,
                        };
                        let button = ui.button(format!("Use \"{}\"", fix.server_folder)).on_hover_text(format!(
                            "Sets {} to the server's own folder (in place of \"{}\") and tests again",
                            field.label(),
                            fix.configured
                        ));
                        if button.clicked() {
                            commands.send(Command::Report(ReportCommand::UseServerFolder(
                                report.setting_id.clone(),
                                fix.clone(),
                            )));
                        }
                    }
                },
            );
        }
    });
}
