//! The first screen on an empty config: the three ways in, instead of an
//! empty table — set up a Microsoft 365 or Gmail mailbox, type in the old Basic
//! setting and migrate it (or import a settings file), or add any other server.

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, FileCommand, FormCommand};
use crate::model::CredentialKind;
use crate::ui::commands::WindowCommand;

pub(crate) fn welcome_ui(ui: &mut Ui, commands: &mut CommandQueue) {
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.add_space(16.0);
        ui.label(RichText::new("Welcome to Mail Settings").size(super::theme::LARGE_SIZE).strong());
        ui.add(
            egui::Label::new("No mail settings yet. Choose how to begin; the setup guide's steps follow from there.")
                .wrap(),
        );
        ui.add_space(12.0);
        let choice = |ui: &mut Ui, title: &str, detail: &str| -> bool {
            let clicked =
                ui.add(egui::Button::new(RichText::new(title).strong()).min_size(egui::vec2(360.0, 40.0))).clicked();
            ui.add(egui::Label::new(detail).wrap());
            ui.add_space(10.0);
            clicked
        };
        if choice(
            ui,
            "Set up a Microsoft 365 mailbox",
            "A new record with Microsoft 365 (MSO365) sign-in and Microsoft's servers filled in; Connect signs in.",
        ) {
            commands.send(Command::Form(FormCommand::NewRecord(Some(CredentialKind::Microsoft365))));
        }
        // Before the first Connect: the organisation's IT administrator registers the sign-in
        // app once; the message for them is ready, so a screen-shared call need not stop.
        let microsoft = &crate::model::providers::MICROSOFT_365;
        if crate::model::providers::embedded_client_id(microsoft.id).is_none()
            && let Some(message) = crate::oauth::provider::registration_request(microsoft)
        {
            ui.horizontal_wrapped(|ui| {
                ui.label("Connect needs a sign-in app your IT administrator registers once.");
                if ui.button(format!("Copy message for your IT administrator ({})", microsoft.name)).clicked() {
                    commands.send(Command::Window(WindowCommand::CopyText(message)));
                }
            });
            ui.add_space(10.0);
        }
        if choice(ui, "Set up a Gmail mailbox", "A new record with Gmail sign-in and Google's servers filled in.") {
            commands.send(Command::Form(FormCommand::NewRecord(Some(CredentialKind::Gmail))));
        }
        if choice(
            ui,
            "Migrate an existing Basic setting…",
            "Type the old Basic setting as the old system shows it (a screenshot will do); the migration assistant \
             follows, in the setup guide's order.",
        ) {
            commands.send(Command::Form(FormCommand::NewOldSetting));
        }
        let import = ui.button("Or import a settings file…");
        if import.on_hover_text("A file exported from Mail Settings on another computer").clicked() {
            commands.send(Command::File(FileCommand::Import));
        }
        ui.add_space(10.0);
        if choice(
            ui,
            "Add any other server",
            "A new record that signs in with a user name and password (e.g. SendGrid, Postmark, your own server).",
        ) {
            commands.send(Command::Form(FormCommand::NewRecord(Some(CredentialKind::Basic))));
        }
    });
}
