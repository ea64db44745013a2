//! The Bridge view: which OAuth settings the loopback bridge serves, on which
//! ports, how many sessions are open, and each setting's local password (made on
//! request, shown masked with Copy). The bridge itself (`crate::bridge`) runs on
//! its own named thread; this view only starts and stops it and reads its state.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue};
use crate::bridge::Ports;
use crate::cancel::CancelToken;
use crate::model::Config;
use crate::store::Secrets;

/// What the bridge thread reports.
#[derive(Debug, Default)]
struct Reported {
    listening: Option<Ports>,
    /// With local TLS: the certificate's file and SHA-256 fingerprint.
    certificate: Option<(std::path::PathBuf, String)>,
    ended: Option<Result<(), String>>,
}

#[derive(Debug)]
struct Running {
    stop: CancelToken,
    sessions: Arc<AtomicUsize>,
    reported: Arc<Mutex<Reported>>,
}

/// A local password made in this session of the window (or why it could not be).
type MadePassword = (String, Result<zeroize::Zeroizing<String>, String>);

#[derive(Debug)]
pub struct BridgeView {
    smtp_port: String,
    imap_port: String,
    serve: BTreeSet<String>,
    /// STARTTLS for the programs, with the bridge's own certificate.
    local_tls: bool,
    running: Option<Running>,
    /// The last run's end, when it ended with an error.
    last_error: Option<String>,
    /// Local passwords made in this session of the window: (setting id, password or error).
    made: Arc<Mutex<Vec<MadePassword>>>,
}

impl Default for BridgeView {
    fn default() -> Self {
        Self {
            smtp_port: "1587".to_owned(),
            imap_port: "1993".to_owned(),
            serve: BTreeSet::new(),
            local_tls: false,
            running: None,
            last_error: None,
            made: Arc::default(),
        }
    }
}

impl BridgeView {
    /// `config_file`: the local TLS certificate is written beside it for the programs to trust.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        secrets: &Secrets,
        config_file: &std::path::Path,
        commands: &mut CommandQueue,
    ) {
        self.collect_end();
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
            let running = self.running.is_some();
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
                        self.make_password(ui.ctx(), secrets, &setting.id);
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
            self.run_ui(ui, config, secrets, config_file);
        });
    }

    fn run_ui(&mut self, ui: &mut Ui, config: &Config, secrets: &Secrets, config_file: &std::path::Path) {
        if let Some(running) = &self.running {
            let listening = running.reported.lock().ok().and_then(|r| r.listening);
            match listening {
                Some(ports) => {
                    let open = running.sessions.load(Ordering::SeqCst);
                    ui.label(
                        RichText::new(format!(
                            "Running: SMTP on 127.0.0.1:{}, IMAP on 127.0.0.1:{} — {open} session(s) open",
                            ports.smtp, ports.imap
                        ))
                        .strong(),
                    );
                }
                None => {
                    ui.label("Starting…");
                }
            }
            let certificate = running.reported.lock().ok().and_then(|r| r.certificate.clone());
            if let Some((path, fingerprint)) = certificate {
                ui.add(
                    egui::Label::new(format!(
                        "Programs trust the bridge's certificate: {} (SHA-256 {fingerprint})",
                        path.display()
                    ))
                    .wrap(),
                );
            }
            // The session count moves while it runs.
            ui.ctx().request_repaint_after(std::time::Duration::from_secs(1));
            if ui.button("Stop bridge").clicked() {
                running.stop.cancel();
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
            self.start(ui.ctx(), config, secrets, config_file, Ports { smtp, imap });
        }
    }

    fn start(
        &mut self,
        ctx: &egui::Context,
        config: &Config,
        secrets: &Secrets,
        config_file: &std::path::Path,
        ports: Ports,
    ) {
        let running = Running { stop: CancelToken::new(), sessions: Arc::default(), reported: Arc::default() };
        let (stop, sessions, reported) = (running.stop.clone(), running.sessions.clone(), running.reported.clone());
        let (config, secrets, ids, ctx) =
            (config.clone(), secrets.clone(), self.serve.iter().cloned().collect::<Vec<_>>(), ctx.clone());
        let (local_tls, config_file) = (self.local_tls, config_file.to_owned());
        let spawned = std::thread::Builder::new().name("bridge".to_owned()).spawn(move || {
            // The key is read from (or made into) the secret store here, off the UI thread.
            let local_tls = local_tls.then(|| crate::bridge::local_tls::load_or_create(&secrets, &config_file));
            let local_tls = match local_tls.transpose() {
                Ok(local_tls) => local_tls,
                Err(err) => {
                    if let Ok(mut reported) = reported.lock() {
                        reported.ended = Some(Err(err.to_string()));
                    }
                    ctx.request_repaint();
                    return;
                }
            };
            if let (Some(tls), Ok(mut reported)) = (&local_tls, reported.lock()) {
                reported.certificate = Some((tls.certificate_path.clone(), tls.fingerprint.clone()));
            }
            let listen = crate::bridge::Listen { ports, local_tls };
            let on_listening = |ports| {
                if let Ok(mut reported) = reported.lock() {
                    reported.listening = Some(ports);
                }
                ctx.request_repaint();
            };
            let result = crate::bridge::run_counting(&config, &secrets, &ids, &listen, &stop, on_listening, &sessions);
            if let Ok(mut reported) = reported.lock() {
                reported.ended = Some(result.map_err(|e| e.to_string()));
            }
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => {
                self.last_error = None;
                self.running = Some(running);
            }
            Err(err) => self.last_error = Some(format!("the bridge could not start: {err}")),
        }
    }

    /// Takes the end of a run (stopped, or failed to start).
    fn collect_end(&mut self) {
        let ended = self.running.as_ref().and_then(|r| r.reported.lock().ok().and_then(|mut r| r.ended.take()));
        if let Some(result) = ended {
            self.running = None;
            self.last_error = result.err();
        }
    }

    fn make_password(&self, ctx: &egui::Context, secrets: &Secrets, id: &str) {
        let (secrets, id, made, ctx) = (secrets.clone(), id.to_owned(), self.made.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("secret-store-write".to_owned()).spawn(move || {
            let result = crate::bridge::new_local_password(&secrets, &id)
                .map(|p| zeroize::Zeroizing::new(p.expose().to_owned()))
                .map_err(|e| e.to_string());
            if let Ok(mut made) = made.lock() {
                made.retain(|(known, _)| *known != id);
                made.push((id, result));
            }
            ctx.request_repaint();
        });
        if let Err(err) = spawned {
            tracing::warn!("could not start making a local password: {err}");
        }
    }

    /// A password made in this session: masked, with Copy.
    fn password_ui(&self, ui: &mut Ui, id: &str, commands: &mut CommandQueue) {
        let Ok(made) = self.made.lock() else { return };
        let Some((_, result)) = made.iter().find(|(known, _)| known == id) else { return };
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
                        commands.send(Command::CopyText(password.to_string()));
                    }
                });
            }
            Err(error) => {
                ui.colored_label(super::theme::error_color(ui.visuals()), error);
            }
        }
    }
}
