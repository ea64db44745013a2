//! Connect / Disconnect with the sign-in state, the device code, and the test
//! buttons (Test Outgoing/Incoming Settings, Round trip, Detect, leftover mail).

use egui::{RichText, Ui};

use super::{EditForm, FormContext};
use crate::oauth::ConnectionState;
use crate::ui::commands::{Command, CommandQueue, FormCommand};
use crate::ui::commands::{JobCommand, WindowCommand};
use crate::ui::jobs::JobKind;
use crate::ui::widgets::hinted_input_ui;

impl EditForm {
    /// Connect / Disconnect for OAuth settings, with the sign-in state.
    pub(super) fn connection_ui(
        &mut self,
        ui: &mut Ui,
        id: &str,
        context: &FormContext<'_>,
        commands: &mut CommandQueue,
    ) {
        if !self.draft.uses_oauth() {
            return;
        }
        let saved_oauth = self.original.as_ref().is_some_and(|s| s.oauth_credential() == self.draft.oauth_credential());
        let waiting = context.connect_waiting.is_some() || context.device_waiting.is_some();
        if waiting || self.draft.oauth_flow == crate::model::OAuthFlow::App {
            ui.strong("Sign-in");
        }
        if let Some(url) = context.connect_waiting {
            return connect_waiting_ui(ui, id, url, commands);
        }
        if let Some(device) = context.device_waiting {
            device_code_ui(ui, id, device, commands);
            return;
        }
        if self.draft.oauth_flow == crate::model::OAuthFlow::App {
            return self.app_only_ui(ui, id, saved_oauth, context, commands);
        }
        // One line for the heading and the state: at 1024×640 every line of the form counts.
        ui.horizontal(|ui| {
            ui.strong("Sign-in:");
            ui.label(RichText::new(context.connection.label()).strong());
            let connected = matches!(
                context.connection,
                ConnectionState::Connected { .. } | ConnectionState::NeedsReconnect { .. }
            );
            if connected {
                if ui.add_enabled(!context.busy, egui::Button::new("Disconnect")).clicked() {
                    commands.send(Command::Job(JobCommand::Start(id.to_owned(), JobKind::Disconnect)));
                }
            } else {
                let button = ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Connect"));
                let button = if saved_oauth { button } else { button.on_disabled_hover_text("Save the setting first") };
                if button.clicked() {
                    commands.send(Command::Job(JobCommand::Start(id.to_owned(), JobKind::Connect)));
                }
                // Only where the provider allows mail with a device code (Google does not).
                let device_flow = self.draft.oauth_credential().and_then(crate::model::providers::for_credential);
                if device_flow.is_none_or(|p| p.sign_in.is_some_and(|s| s.device_authorization_url.is_some())) {
                    let device =
                        ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Sign in on another device"));
                    if device
                        .on_hover_text(
                            "For a computer without a browser: shows a code to enter on a phone or another computer",
                        )
                        .clicked()
                    {
                        commands.send(Command::Job(JobCommand::Start(id.to_owned(), JobKind::DeviceConnect)));
                    }
                }
            }
        });
        match context.connection {
            ConnectionState::NeedsReconnect { reason } => {
                let color = crate::ui::theme::warning_color(ui.visuals());
                ui.add(egui::Label::new(RichText::new(format!("Needs reconnect: {reason}")).color(color)).wrap());
            }
            ConnectionState::Unknown { reason } => {
                let color = crate::ui::theme::warning_color(ui.visuals());
                ui.add(egui::Label::new(RichText::new(reason).color(color)).wrap());
            }
            _ => {}
        }
        if !saved_oauth {
            ui.label("Save first: Connect signs in with the saved setting.");
        }
        if let Some(clock) = &context.testing_clock {
            ui.add(egui::Label::new(RichText::new(clock).color(crate::ui::theme::warning_color(ui.visuals()))).wrap());
        }
        messages_ui(ui, &mut self.connect_messages_open, context.connect_messages);
        if let Some(request) = context.consent_request {
            consent_request_ui(ui, request, commands);
        }
    }

    /// App-only access: nobody signs in; the app's own token, asked for on each use.
    fn app_only_ui(
        &self,
        ui: &mut Ui,
        id: &str,
        saved_oauth: bool,
        context: &FormContext<'_>,
        commands: &mut CommandQueue,
    ) {
        ui.label(
            "App-only access (client credentials): nobody signs in; the app's certificate or secret is in the secret \
             store.",
        );
        let today = time::OffsetDateTime::now_utc().date();
        if let Some((text, near)) = crate::oauth::provider::app_credential_expiry(&self.draft, context.config, today) {
            if near {
                ui.colored_label(crate::ui::theme::warning_color(ui.visuals()), text);
            } else {
                ui.label(text);
            }
        }
        let check = ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Check app access"));
        if check.on_hover_text("Gets the app's token and opens the mailbox with it (Test Incoming)").clicked() {
            commands.send(Command::Job(JobCommand::Start(id.to_owned(), JobKind::Incoming)));
        }
    }

    /// Test Outgoing Settings (asks for the recipient), Test Incoming Settings,
    /// Round trip, Detect, Check leftover mail. Always clickable on a saved
    /// setting: a missing address is asked for inline; unsaved changes are saved first.
    pub(super) fn tests_ui(&self, ui: &mut Ui, id: &str, context: &mut FormContext<'_>, commands: &mut CommandQueue) {
        let dirty = self.is_dirty();
        let recipient = &mut *context.recipient;
        ui.horizontal(|ui| {
            ui.strong("Tests:");
            let label = ui.label("Send test emails to");
            let field = hinted_input_ui(
                ui,
                egui::TextEdit::singleline(recipient).desired_width(240.0),
                "you@company.com",
                &label,
            );
            if std::mem::take(context.ask_recipient) {
                field.request_focus();
            }
        });
        let recipient_ok = crate::model::validate::is_well_formed_address(recipient.trim());
        if !recipient_ok && !recipient.trim().is_empty() {
            ui.colored_label(crate::ui::theme::error_color(ui.visuals()), "That is not an email address");
        }
        if dirty {
            ui.label("You have unsaved changes: a test saves them first.");
        }
        let enabled = !context.saving && !context.read_only;
        let mut test_button = |ui: &mut Ui, kind: JobKind| {
            if context.running.contains(&kind) {
                ui.spinner();
                if ui.button(format!("Cancel {}", kind.label())).clicked() {
                    commands.send(Command::Job(JobCommand::Cancel(id.to_owned(), kind)));
                }
                return;
            }
            let label = if dirty { format!("Save and {}", kind.label()) } else { kind.label().to_owned() };
            let button = ui.add_enabled(enabled, egui::Button::new(label)).on_hover_text(test_hint(kind));
            if button.clicked() {
                commands.send(if dirty {
                    Command::Form(FormCommand::SaveAndTest(kind))
                } else {
                    Command::Job(JobCommand::Start(id.to_owned(), kind))
                });
                ui.close();
            }
        };
        // The guide's two tests in view; the others one click further, so the fields keep the room.
        ui.horizontal_wrapped(|ui| {
            test_button(ui, JobKind::Outgoing);
            test_button(ui, JobKind::Incoming);
            let more = [JobKind::Readiness, JobKind::RoundTrip, JobKind::Detect, JobKind::Leftover];
            for kind in more.into_iter().filter(|k| context.running.contains(k)) {
                test_button(ui, kind);
            }
            ui.menu_button("More tests…", |ui| {
                for kind in more.into_iter().filter(|k| !context.running.contains(k)) {
                    test_button(ui, kind);
                }
            });
        });
    }
}

/// What each test does, on hover.
fn test_hint(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Outgoing => "Sends two test emails to the address above",
        JobKind::Incoming => "Signs in over IMAP and checks the inbox and sent folders",
        JobKind::RoundTrip => "Sends a message to the incoming mailbox and waits until it arrives",
        JobKind::Detect => "Tries the standard ports to find which security each one speaks",
        JobKind::Readiness => {
            "Asks the servers whether this mailbox is ready for the end of Basic SMTP AUTH: sending and receiving \
             sign-ins and the permissions granted, with the step for each \"no\""
        }
        JobKind::Leftover => "Counts the mail still in \"Mail Not Read\" and \"Mail Not Filed\" (not yet retrieved)",
        _ => "",
    }
}

/// A browser sign-in in progress: the link to copy if no browser opened, and Cancel.
fn connect_waiting_ui(ui: &mut Ui, id: &str, url: &str, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(if url.is_empty() { "Starting the sign-in…" } else { "Waiting for sign-in in your browser…" });
    });
    ui.horizontal(|ui| {
        if !url.is_empty()
            && ui.button("Copy link").on_hover_text("If no browser opened, paste this link into one").clicked()
        {
            commands.send(Command::Window(WindowCommand::CopyText(url.to_owned())));
        }
        if ui.button("Cancel sign-in").clicked() {
            commands.send(Command::Job(JobCommand::Cancel(id.to_owned(), JobKind::Connect)));
        }
    });
}

/// A device sign-in in progress: where to go, the code in large type (read over a
/// screen-share), Copy for both, and how long the code is good for.
fn device_code_ui(
    ui: &mut Ui,
    id: &str,
    device: Option<&(crate::oauth::device::DeviceCode, std::time::Instant)>,
    commands: &mut CommandQueue,
) {
    let cancel = |ui: &mut Ui, commands: &mut CommandQueue| {
        if ui.button("Cancel sign-in").clicked() {
            commands.send(Command::Job(JobCommand::Cancel(id.to_owned(), JobKind::DeviceConnect)));
        }
    };
    let Some((code, expires_at)) = device else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Asking for a sign-in code…");
            cancel(ui, commands);
        });
        return;
    };
    ui.label("On any device, open");
    ui.horizontal(|ui| {
        ui.label(RichText::new(&code.verification_uri).strong());
        if ui.button("Copy address").clicked() {
            commands.send(Command::Window(WindowCommand::CopyText(code.verification_uri.clone())));
        }
    });
    ui.label("and enter the code");
    ui.horizontal(|ui| {
        ui.label(RichText::new(&code.user_code).size(34.0).strong());
        if ui.button("Copy code").clicked() {
            commands.send(Command::Window(WindowCommand::CopyText(code.user_code.clone())));
        }
    });
    let left = expires_at.saturating_duration_since(std::time::Instant::now()).as_secs();
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(format!("Waiting for the sign-in there; the code is good for {}:{:02} more", left / 60, left % 60));
    });
    // The countdown moves once a second (the spinner repaints more often anyway).
    ui.ctx().request_repaint_after(std::time::Duration::from_secs(1));
    cancel(ui, commands);
}

/// What the last Connect said (warnings, a failure with its diagnosis): its first
/// line, and "more" for the rest — the fields below stay in view at 1024×640.
fn messages_ui(ui: &mut Ui, open: &mut bool, messages: &[String]) {
    let Some(first) = messages.first() else { return };
    let color = crate::ui::theme::warning_color(ui.visuals());
    ui.horizontal(|ui| {
        let toggle = if *open { "less" } else { "more" };
        if ui.button(toggle).on_hover_text("Shows or hides the whole text").clicked() {
            *open = !*open;
        }
        if !*open {
            ui.add(egui::Label::new(RichText::new(first.as_str()).color(color)).truncate())
                .on_hover_text(messages.join("\n"));
        }
    });
    if *open {
        for line in messages {
            ui.add(egui::Label::new(RichText::new(line.as_str()).color(color)).wrap());
        }
    }
}

/// The way past "needs admin approval": the request, approval link included, to send
/// to the tenant's administrator (the admin using this app rarely is one).
pub fn consent_request_ui(ui: &mut Ui, request: &str, commands: &mut CommandQueue) {
    let copy = ui.button("Copy request for your administrator").on_hover_text(request.to_owned());
    if copy.clicked() {
        commands.send(Command::Window(WindowCommand::CopyText(request.to_owned())));
    }
}
