//! The Companies view: each company's default mail setting, chosen from the
//! active settings, with the model's guard messages.

use super::widgets::hinted_input_ui;
use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::commands::{Command, CommandQueue};
use super::theme;
use crate::model::Config;
use crate::ui::commands::CompanyCommand;

#[derive(Debug, Default)]
pub struct CompaniesView {
    new_id: String,
    new_name: String,
}

impl CompaniesView {
    pub fn ui(&mut self, ui: &mut Ui, config: &Config, read_only: bool, commands: &mut CommandQueue) {
        ui.heading("Companies");
        ui.label(
            "Each company sends and receives through one default mail setting. Only active settings can be chosen.",
        );
        ui.add_space(6.0);
        ui.add_enabled_ui(!read_only, |ui| {
            ui.horizontal(|ui| {
                let id_label = ui.label("Company ID");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(&mut self.new_id).desired_width(140.0),
                    "e.g. acme",
                    &id_label,
                );
                let name_label = ui.label("Company name");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(&mut self.new_name).desired_width(220.0),
                    "e.g. Acme Ltd",
                    &name_label,
                );
                let ready = !self.new_id.trim().is_empty() && !self.new_name.trim().is_empty();
                if ui.add_enabled(ready, egui::Button::new("Add company")).clicked() {
                    commands.send(Command::Company(CompanyCommand::Add {
                        id: self.new_id.trim().to_owned(),
                        name: self.new_name.trim().to_owned(),
                    }));
                    self.new_id.clear();
                    self.new_name.clear();
                }
            });
        });
        ui.add_space(6.0);
        if config.companies.is_empty() {
            ui.label("No companies yet.");
            return;
        }
        let active: Vec<(&str, &str)> =
            config.mail_settings.iter().filter(|s| s.active).map(|s| (s.id.as_str(), s.description.as_str())).collect();
        TableBuilder::new(ui)
            .id_salt("companies_table")
            // Striped by `table_stripes_ui`, one rectangle a row.
            .striped(false)
            .column(Column::initial(220.0).at_least(120.0))
            .column(Column::initial(120.0).at_least(80.0))
            .column(Column::remainder().at_least(200.0))
            .header(theme::ROW_HEIGHT + 4.0, |mut header| {
                for title in ["Company", "ID", "Default mail setting"] {
                    header.col(|ui| {
                        ui.label(RichText::new(title).strong());
                    });
                }
            })
            .body(|mut body| {
                super::widgets::table_stripes_ui(&mut body, theme::ROW_HEIGHT + 6.0, config.companies.len());
                body.rows(theme::ROW_HEIGHT + 6.0, config.companies.len(), |mut row| {
                    let Some(company) = config.companies.get(row.index()) else { return };
                    row.col(|ui| {
                        ui.label(&company.name);
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(&company.id).weak());
                    });
                    row.col(|ui| {
                        let current = company.default_mail_setting.as_deref();
                        let shown = current.and_then(|id| config.setting(id)).map_or_else(
                            || "Select Mail Setting".to_owned(),
                            |s| if s.active { s.description.clone() } else { format!("{} (Inactive)", s.description) },
                        );
                        let has_active_default = current.and_then(|id| config.setting(id)).is_some_and(|s| s.active);
                        ui.add_enabled_ui(!read_only, |ui| {
                            egui::ComboBox::from_id_salt(("default", &company.id))
                                .selected_text(shown)
                                .width(320.0)
                                .show_ui(ui, |ui| {
                                    let mut in_order = active.clone();
                                    super::table::sort_by_name(&mut in_order);
                                    for (id, description) in &in_order {
                                        if ui.selectable_label(current == Some(*id), *description).clicked()
                                            && current != Some(*id)
                                        {
                                            commands.send(Command::Company(CompanyCommand::SetDefault {
                                                company: company.id.clone(),
                                                setting: (*id).into(),
                                            }));
                                        }
                                    }
                                })
                                .response
                                .on_hover_text(format!("Default mail setting for {}", company.name));
                        });
                        if !has_active_default {
                            ui.label(RichText::new("needs a default").color(theme::warning_color(ui.visuals())));
                        }
                    });
                });
            });
    }
}
