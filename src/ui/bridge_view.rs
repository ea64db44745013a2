//! The Bridge view: which OAuth settings the loopback bridge serves, on which
//! ports, how many sessions are open, and each setting's local password (made on
//! request, shown masked with Copy). The bridge itself (`crate::bridge`) runs as a
//! job like every other (`ui::jobs`, `JobKind::Bridge`); this view asks for it to
//! start and stop and shows what the job reports.

use std::collections::BTreeSet;

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue};
use super::jobs::{BRIDGE, JobKind};
use crate::bridge::Ports;
use crate::model::Config;
use crate::ui::commands::{JobCommand, WindowCommand};

/// Whether the bridge job runs, and its open sessions (read by the app from its jobs).
#[derive(Debug, Clone, Copy, Default)]
pub struct BridgeStatus {
    pub running: bool,
    pub sessions: usize,
}

/// A local password made in this session of the window (or why it could not be).
type MadePassword = (String, Result<crate::secret::SecretText, crate::store::SecretStoreError>);

#[derive(Debug)]
pub struct BridgeView {
    smtp_port: String,
    imap_port: String,
    serve: BTreeSet<crate::model::SettingId>,
    /// STARTTLS for the programs, with the bridge's own certificate.
    local_tls: bool,
    /// Where the running bridge listens, once it does.
    listening: Option<Ports>,
    /// With local TLS: the certificate's file and SHA-256 fingerprint.
    certificate: Option<crate::bridge::local_tls::Pins>,
    /// The last run's end, when it ended with an error.
    last_error: Option<String>,
    /// Local passwords made in this session of the window: (setting id, password or error).
    made: Vec<MadePassword>,
}

impl Default for BridgeView {
    fn default() -> Self {
        Self {
            smtp_port: "1587".to_owned(),
            imap_port: "1993".to_owned(),
            serve: BTreeSet::new(),
            local_tls: true,
            listening: None,
            certificate: None,
            last_error: None,
            made: Vec::new(),
        }
    }
}

impl BridgeView {
    /// A start was asked for: what the last run said is forgotten.
    pub fn started(&mut self) {
        (self.listening, self.certificate, self.last_error) = (None, None, None);
    }

    /// The bridge job listens.
    pub(crate) fn on_listening(&mut self, ports: Ports, certificate: Option<crate::bridge::local_tls::Pins>) {
        (self.listening, self.certificate) = (Some(ports), certificate);
    }

    /// The bridge job ended (stopped, or could not start).
    pub(crate) fn on_ended(&mut self, result: Result<(), crate::bridge::BridgeError>) {
        (self.listening, self.certificate) = (None, None);
        self.last_error = result.err().map(|err| err.to_string());
    }

    /// A local password job answered.
    pub(crate) fn on_local_password(
        &mut self,
        setting_id: String,
        result: Result<crate::secret::SecretText, crate::store::SecretStoreError>,
    ) {
        self.made.retain(|(known, _)| *known != setting_id);
        self.made.push((setting_id, result));
    }

    pub fn ui(&mut self, ui: &mut Ui, config: &Config, status: BridgeStatus, commands: &mut CommandQueue) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.heading("Bridge");
            ui.add(
                egui::Label::new(
                    "For programs that only know a user name and password: they sign in on this computer \
                     (127.0.0.1) with the setting's user name and a local password, and the bridge signs in to \
                     the mailbox with OAuth for them.",
                )
                .wrap(),
            );
            ui.add_space(8.0);
            let oauth: Vec<_> = config.mail_settings.iter().filter(|s| s.uses_oauth()).collect();
            if oauth.is_empty() {
                ui.label("No setting signs in with OAuth, so no bridge is needed.");
                return;
            }
            let running = status.running;
            for setting in oauth {
                ui.horizontal(|ui| {
                    let mut on = self.serve.contains(&setting.id);
                    let label = format!("{} (user {})", setting.description, setting.imap.user_name.trim());
                    if ui.add_enabled(!running, egui::Checkbox::new(&mut on, label)).changed() {
                        if on {
                            self.serve.insert(setting.id.clone());
                        } else {
                            self.serve.remove(&setting.id);
                        }
                    }
                    if ui.button("New local password").on_hover_text("Replaces the old one; shown here once").clicked()
                    {
                        commands
                            .send(Command::Job(JobCommand::Start(setting.id.clone().into(), JobKind::LocalPassword)));
                    }
                });
                self.password_ui(ui, &setting.id, commands);
            }
            ui.add_space(8.0);
            egui::Grid::new("bridge_ports").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
                for (label, text) in [("SMTP port", &mut self.smtp_port), ("IMAP port", &mut self.imap_port)] {
                    let label = ui.label(label);
                    ui.add_enabled(!running, egui::TextEdit::singleline(text).desired_width(80.0))
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
            ui.add_enabled(
                !running,
                egui::Checkbox::new(&mut self.local_tls, "Local TLS (STARTTLS with the bridge's own certificate)"),
            )
            .on_hover_text(
                "For programs that insist on TLS even on this computer; they then sign in only after STARTTLS",
            );
            self.run_ui(ui, status, commands);
        });
    }

    fn run_ui(&mut self, ui: &mut Ui, status: BridgeStatus, commands: &mut CommandQueue) {
        if status.running {
            match self.listening {
                Some(ports) => {
                    ui.label(
                        RichText::new(format!(
                            "Running: SMTP on 127.0.0.1:{}, IMAP on 127.0.0.1:{} — {} session(s) open",
                            ports.smtp, ports.imap, status.sessions
                        ))
                        .strong(),
                    );
                }
                None => {
                    ui.label("Starting…");
                }
            }
            if let Some(pins) = &self.certificate {
                ui.add(
                    egui::Label::new(format!(
                        "Programs trust the bridge's certificate: {} (SHA-256 {}) or pin it — msmtp: \
                         tls_fingerprint {}; curl: --pinnedpubkey {}",
                        pins.certificate_path.display(),
                        pins.fingerprint,
                        pins.fingerprint,
                        pins.public_key_pin
                    ))
                    .wrap(),
                );
            } else if self.listening.is_some() {
                ui.label(
                    "Plain text on loopback: any program on this computer could pose as the bridge while it is down.",
                );
            }
            // The session count moves while it runs.
            ui.ctx().request_repaint_after(std::time::Duration::from_secs(1));
            if ui.button("Stop bridge").clicked() {
                commands.send(Command::Job(JobCommand::Cancel(BRIDGE.to_owned(), JobKind::Bridge)));
            }
            return;
        }
        if let Some(error) = &self.last_error {
            ui.colored_label(super::theme::error_color(ui.visuals()), error);
        }
        let ports = self.smtp_port.trim().parse::<u16>().ok().zip(self.imap_port.trim().parse::<u16>().ok());
        let ready = !self.serve.is_empty() && ports.is_some();
        let start = ui.add_enabled(ready, egui::Button::new("Start bridge"));
        let start = if ready { start } else { start.on_disabled_hover_text("Choose the settings and two ports") };
        if start.clicked()
            && let Some((smtp, imap)) = ports
        {
            let ids = self.serve.iter().cloned().collect();
            commands.send(Command::Job(JobCommand::StartBridge {
                ids,
                ports: Ports { smtp, imap },
                local_tls: self.local_tls,
            }));
        }
    }

    /// A password made in this session: masked, with Copy.
    fn password_ui(&self, ui: &mut Ui, id: &str, commands: &mut CommandQueue) {
        let Some((_, result)) = self.made.iter().find(|(known, _)| known == id) else { return };
        match result {
            Ok(password) => {
                ui.horizontal(|ui| {
                    // Masked and read-only: a screen-share never shows it; Copy hands it over.
                    let label = ui.label("Local password");
                    let mut shown = password.to_string();
                    ui.add(
                        egui::TextEdit::singleline(&mut shown).password(true).interactive(false).desired_width(260.0),
                    )
                    .labelled_by(label.id);
                    shown.clear();
                    if ui.button("Copy password").clicked() {
                        commands.send(Command::Window(WindowCommand::CopyText(password.to_string())));
                    }
                });
            }
            Err(error) => {
                ui.colored_label(super::theme::error_color(ui.visuals()), error.to_string());
            }
        }
    }
}
