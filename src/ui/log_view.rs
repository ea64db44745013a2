//! The audit log viewer: every change to settings and company defaults —
//! when, who, what — newest first. Holds no secret (the log has none).

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::commands::{Command, CommandQueue};
use super::theme;
use crate::model::Config;
use crate::store::audit::AuditEntry;
use crate::ui::commands::WindowCommand;

pub(crate) fn log_ui(ui: &mut Ui, entries: &[AuditEntry], config: &Config, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        ui.heading("Audit log");
        if ui.button("Refresh").clicked() {
            commands.send(Command::Window(WindowCommand::RefreshLog));
        }
    });
    ui.label("Every change to mail settings and company defaults, also those made with the command line.");
    if entries.is_empty() {
        ui.label("Nothing has changed yet.");
        return;
    }
    TableBuilder::new(ui)
        .id_salt("audit_log")
        // Striped by `table_stripes_ui`, one rectangle a row.
        .striped(false)
        .resizable(true)
        .column(Column::initial(190.0))
        .column(Column::initial(90.0))
        .column(Column::initial(260.0))
        .column(Column::remainder())
        .header(theme::ROW_HEIGHT + 4.0, |mut header| {
            for title in ["Time", "User", "Action", "Setting / company"] {
                header.col(|ui| {
                    ui.label(RichText::new(title).strong());
                });
            }
        })
        .body(|mut body| {
            super::widgets::table_stripes_ui(&mut body, theme::ROW_HEIGHT, entries.len());
            body.rows(theme::ROW_HEIGHT, entries.len(), |mut row| {
                let Some(entry) = entries.len().checked_sub(row.index() + 1).and_then(|i| entries.get(i)) else {
                    return;
                };
                row.col(|ui| {
                    ui.label(entry.time.to_minute());
                });
                row.col(|ui| {
                    ui.label(&entry.user);
                });
                row.col(|ui| {
                    ui.label(&entry.action);
                });
                row.col(|ui| {
                    let setting = entry.setting.as_deref().map(|s| config.setting_name(s));
                    let company = entry.company.as_deref().map(|c| config.company_name(c));
                    let subject = match (company, setting) {
                        (Some(company), Some(setting)) => format!("{company}: {setting}"),
                        (Some(company), None) => company,
                        (None, Some(setting)) => setting,
                        (None, None) => entry.provider.clone().or_else(|| entry.trust.clone()).unwrap_or_default(),
                    };
                    ui.label(subject);
                });
            });
        });
}
