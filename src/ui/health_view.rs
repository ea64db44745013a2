//! Health at a glance: every Active setting as OK / attention / temporary failure /
//! FAILING with the reason in words, worst first — from the last "Check all now"
//! (or, before one ran in this window, from the kept check history) — with since
//! when it has been so, the dates that end something, and a company whose default
//! is failing flagged. A row opens its setting (and its report).

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, FormCommand, View};
use super::theme;
use crate::health::Health;
use crate::model::Config;
use crate::store::history::HistoryEntry;
use crate::ui::commands::WindowCommand;

/// One row: a setting's last known state.
#[derive(Debug, Clone)]
pub struct HealthRow {
    pub id: String,
    pub health: Health,
    pub reason: String,
    /// What to do, and who does it, when the diagnosis knows.
    pub next_step: Option<String>,
    pub ends: Vec<String>,
}

impl HealthRow {
    /// The rows the kept history gives (its last "all" entry per setting).
    pub(crate) fn from_history(history: &[HistoryEntry]) -> Vec<Self> {
        let mut rows: Vec<Self> = Vec::new();
        for entry in history.iter().filter(|e| e.check == "all") {
            let health = match entry.outcome.as_str() {
                "ok" => Health::Ok,
                "attention" => Health::Attention,
                "temporary" => Health::Temporary,
                _ => Health::Failing,
            };
            let row = Self {
                id: entry.setting.clone(),
                health,
                reason: entry.reason.clone(),
                next_step: Some(entry.next_step.clone()).filter(|step| !step.is_empty()),
                ends: Vec::new(),
            };
            match rows.iter_mut().find(|r| r.id == entry.setting) {
                Some(slot) => *slot = row,
                None => rows.push(row),
            }
        }
        rows
    }
}

fn color(ui: &Ui, health: Health) -> egui::Color32 {
    match health {
        Health::Ok => theme::pass_color(ui.visuals()),
        Health::Attention | Health::Temporary => theme::warning_color(ui.visuals()),
        Health::Failing => theme::error_color(ui.visuals()),
    }
}

/// The view; `rows` worst first, `history` for "since when".
pub(crate) fn health_ui(
    ui: &mut Ui,
    config: &Config,
    rows: &[HealthRow],
    history: &[HistoryEntry],
    checking: bool,
    commands: &mut CommandQueue,
) {
    {
        ui.horizontal(|ui| {
            ui.heading("Health");
            // "Check all now" is in the toolbar above, in every view.
            if checking {
                ui.spinner();
                ui.label("Checking every Active setting…");
            }
        });
        ui.add(
            egui::Label::new(
                "Every Active mailbox, worst first: whether it works, why not, and what ends soon. Scheduled \
                 checks (mailsettings schedule install) keep this up to date and alert you when it changes.",
            )
            .wrap(),
        );
        ui.add_space(8.0);
        if rows.is_empty() {
            ui.label("No check has run yet: choose Check all now (above).");
            return;
        }
        let mut sorted: Vec<&HealthRow> = rows.iter().filter(|r| config.setting(&r.id).is_some()).collect();
        sorted.sort_by(|a, b| b.health.cmp(&a.health).then_with(|| a.id.cmp(&b.id)));
        egui::Grid::new("health").num_columns(3).striped(true).spacing([16.0, 8.0]).show(ui, |ui| {
            for row in sorted {
                ui.label(RichText::new(row.health.label()).strong().color(color(ui, row.health)));
                let name = config.setting_name(&row.id);
                if ui.link(&name).on_hover_text("Opens the setting").clicked() {
                    commands.send(Command::Form(FormCommand::Edit(row.id.clone().into())));
                    commands.send(Command::Window(WindowCommand::Show(View::MailSettings)));
                }
                ui.vertical(|ui| {
                    if !row.reason.is_empty() {
                        ui.add(egui::Label::new(row.reason.as_str()).wrap());
                    }
                    if let Some(step) = &row.next_step {
                        ui.add(egui::Label::new(format!("Next: {step}")).wrap());
                    }
                    for end in &row.ends {
                        ui.add(egui::Label::new(RichText::new(end).color(theme::warning_color(ui.visuals()))).wrap());
                    }
                    if let Some((since, before)) = crate::store::history::since(history, &row.id, "all") {
                        let when = since.time.to_minute();
                        let was = before.map_or_else(String::new, |b| format!(" (was {} before)", b.outcome));
                        ui.label(format!("{} since {when}{was}", row.health.label()));
                    }
                    let companies = config.companies_defaulting_to(&row.id);
                    if row.health >= Health::Temporary && !companies.is_empty() {
                        let names: Vec<String> = companies.iter().map(|c| config.company_name(c)).collect();
                        let text = format!("The default for {}: their mail stops until this works", names.join(", "));
                        ui.label(RichText::new(text).strong().color(theme::error_color(ui.visuals())));
                    }
                });
                ui.end_row();
            }
        });
    }
}
