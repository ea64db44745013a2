//! The edit form: one mail setting, grouped like the customer's setup guide
//! (Outgoing SMTP settings, Incoming IMAP settings), validated as the admin
//! types. The form edits a copy; nothing changes until Save.

use egui::{RichText, Ui};
use zeroize::Zeroizing;

use super::commands::{Command, CommandQueue};
use super::jobs::JobKind;
use super::widgets::{Need, findings_ui, password_row_ui, text_row_ui};
use crate::model::validate::{Rule, Severity, has_errors, parse_port};
use crate::model::{Config, CredentialKind, Field, Finding, MailSetting, Preset, Security, StoredPasswords, presets};
use crate::oauth::ConnectionState;
use crate::secret::Secret;
use crate::store::PasswordChanges;

/// The form's state: a draft of the setting plus what the admin typed that is
/// not part of the setting itself (port text, passwords).
#[derive(Debug)]
pub struct EditForm {
    /// `None` for a new record.
    original: Option<MailSetting>,
    draft: MailSetting,
    smtp_port_text: String,
    imap_port_text: String,
    smtp_password: Zeroizing<String>,
    imap_password: Zeroizing<String>,
    stored: StoredPasswords,
    /// Set when the OS store could not say which passwords exist.
    secret_store_problem: Option<String>,
    /// Set after a Save attempt: from then on every finding is shown.
    save_attempted: bool,
    /// The "discard changes?" question is open.
    pub confirming_discard: bool,
}

/// What the form shows besides the setting: read from app state each frame.
#[derive(Debug)]
pub struct FormContext<'a> {
    pub config: &'a Config,
    pub read_only: bool,
    pub compare_with: Option<&'a str>,
    pub connection: &'a ConnectionState,
    /// The sign-in link while Connect waits for the browser.
    pub connect_waiting: Option<&'a str>,
    /// The outcome of the last Connect / Disconnect (account, warnings, diagnosis).
    pub connect_messages: &'a [String],
    /// Jobs running for this setting.
    pub running: Vec<JobKind>,
    pub busy: bool,
    /// Test Outgoing's recipient, remembered between tests.
    pub recipient: &'a mut String,
}

/// One row of the side-by-side comparison.
struct CompareField {
    label: &'static str,
    get: fn(&MailSetting) -> String,
    set: fn(&mut MailSetting, &MailSetting),
}

const COMPARE_FIELDS: &[CompareField] = &[
    CompareField {
        label: "Subject Tag",
        get: |s| s.subject_tag.clone(),
        set: |d, o| d.subject_tag = o.subject_tag.clone(),
    },
    CompareField {
        label: "Outgoing server",
        get: |s| s.smtp.server.clone(),
        set: |d, o| d.smtp.server = o.smtp.server.clone(),
    },
    CompareField { label: "Outgoing port", get: |s| s.smtp.port.to_string(), set: |d, o| d.smtp.port = o.smtp.port },
    CompareField {
        label: "Outgoing security",
        get: |s| s.smtp.security.label().to_owned(),
        set: |d, o| d.smtp.security = o.smtp.security,
    },
    CompareField {
        label: "Send-as address",
        get: |s| s.smtp.send_as.clone(),
        set: |d, o| d.smtp.send_as = o.smtp.send_as.clone(),
    },
    CompareField {
        label: "From name",
        get: |s| s.smtp.from_name.clone(),
        set: |d, o| d.smtp.from_name = o.smtp.from_name.clone(),
    },
    CompareField {
        label: "Outgoing user name",
        get: |s| s.smtp.user_name.clone(),
        set: |d, o| d.smtp.user_name = o.smtp.user_name.clone(),
    },
    CompareField {
        label: "Outgoing user domain",
        get: |s| s.smtp.user_domain.clone(),
        set: |d, o| d.smtp.user_domain = o.smtp.user_domain.clone(),
    },
    CompareField {
        label: "Incoming server",
        get: |s| s.imap.server.clone(),
        set: |d, o| d.imap.server = o.imap.server.clone(),
    },
    CompareField { label: "Incoming port", get: |s| s.imap.port.to_string(), set: |d, o| d.imap.port = o.imap.port },
    CompareField {
        label: "Incoming security",
        get: |s| s.imap.security.label().to_owned(),
        set: |d, o| d.imap.security = o.imap.security,
    },
    CompareField {
        label: "Inbox folder",
        get: |s| s.imap.inbox_folder.clone(),
        set: |d, o| d.imap.inbox_folder = o.imap.inbox_folder.clone(),
    },
    CompareField {
        label: "Sent items folder",
        get: |s| s.imap.sent_folder.clone(),
        set: |d, o| d.imap.sent_folder = o.imap.sent_folder.clone(),
    },
    CompareField {
        label: "Incoming user name",
        get: |s| s.imap.user_name.clone(),
        set: |d, o| d.imap.user_name = o.imap.user_name.clone(),
    },
    CompareField {
        label: "Incoming user domain",
        get: |s| s.imap.user_domain.clone(),
        set: |d, o| d.imap.user_domain = o.imap.user_domain.clone(),
    },
];

/// Width of the label column, shared by the three grids so they line up.
const LABEL_WIDTH: f32 = 150.0;

/// What Save needs from the form.
#[derive(Debug)]
pub struct FormOutput {
    pub setting: MailSetting,
    pub passwords: PasswordChanges,
}

impl EditForm {
    pub fn new_record() -> Self {
        Self::from_setting(None, MailSetting::default(), Ok(StoredPasswords::default()))
    }

    pub fn edit(setting: &MailSetting, stored: Result<StoredPasswords, String>) -> Self {
        Self::from_setting(Some(setting.clone()), setting.clone(), stored)
    }

    fn from_setting(
        original: Option<MailSetting>,
        draft: MailSetting,
        stored: Result<StoredPasswords, String>,
    ) -> Self {
        let (stored, secret_store_problem) = match stored {
            Ok(stored) => (stored, None),
            Err(problem) => (StoredPasswords::default(), Some(problem)),
        };
        Self {
            smtp_port_text: draft.smtp.port.to_string(),
            imap_port_text: draft.imap.port.to_string(),
            original,
            draft,
            smtp_password: Zeroizing::default(),
            imap_password: Zeroizing::default(),
            stored,
            secret_store_problem,
            save_attempted: false,
            confirming_discard: false,
        }
    }

    pub fn is_new(&self) -> bool {
        self.original.is_none()
    }

    /// The id of the setting being edited (`None` for a new record).
    pub fn editing_id(&self) -> Option<&str> {
        self.original.as_ref().map(|s| s.id.as_str())
    }

    pub fn is_dirty(&self) -> bool {
        let baseline = self.original.clone().unwrap_or_default();
        self.draft != baseline
            || !self.smtp_password.is_empty()
            || !self.imap_password.is_empty()
            || self.smtp_port_text != baseline.smtp.port.to_string()
            || self.imap_port_text != baseline.imap.port.to_string()
    }

    /// Which passwords the setting will have after Save.
    fn passwords_after_save(&self) -> StoredPasswords {
        StoredPasswords {
            smtp: self.stored.smtp || !self.smtp_password.is_empty(),
            imap: self.stored.imap || !self.imap_password.is_empty(),
        }
    }

    /// The setting as it would be saved (a new record gets an id from its description).
    fn candidate(&self, config: &Config) -> MailSetting {
        let mut setting = self.draft.clone();
        if self.is_new() {
            setting.id = config.unused_id(&setting.description);
        }
        setting
    }

    pub fn findings(&self, config: &Config) -> Vec<Finding> {
        crate::model::validate_setting(&self.candidate(config), config, self.passwords_after_save())
    }

    /// Checks the form; on success, what to save. On failure every finding becomes visible.
    pub fn prepare_save(&mut self, config: &Config) -> Result<FormOutput, usize> {
        self.save_attempted = true;
        let findings = self.findings(config);
        if has_errors(&findings) {
            return Err(findings.iter().filter(|f| f.severity == Severity::Error).count());
        }
        let take = |typed: &Zeroizing<String>| (!typed.is_empty()).then(|| Secret::new(typed.as_str()));
        Ok(FormOutput {
            setting: self.candidate(config),
            passwords: PasswordChanges { smtp: take(&self.smtp_password), imap: take(&self.imap_password) },
        })
    }

    /// Before the first Save attempt on a new record, "required" findings for
    /// fields not filled in yet would only be noise.
    fn visible_findings(&self, config: &Config) -> Vec<Finding> {
        let mut findings = self.findings(config);
        if self.is_new() && !self.save_attempted {
            findings.retain(|f| !matches!(f.rule, Rule::Required | Rule::PasswordMissing));
        }
        findings
    }

    pub fn ui(&mut self, ui: &mut Ui, context: &mut FormContext<'_>, commands: &mut CommandQueue) {
        let config = context.config;
        let findings = self.visible_findings(config);
        ui.horizontal(|ui| {
            let title = if self.is_new() {
                "New mail setting".to_owned()
            } else {
                format!("Edit \"{}\"", self.draft.description)
            };
            ui.heading(title);
        });
        if let Some(problem) = &self.secret_store_problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        self.compare_picker_ui(ui, config, commands, context.compare_with);
        ui.separator();
        // The actions (sign-in, tests) come first, so they are always in view.
        if let Some(id) = self.editing_id().map(str::to_owned) {
            self.connection_ui(ui, &id, context, commands);
            self.tests_ui(ui, &id, context, commands);
            ui.separator();
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .max_height((ui.available_height() - 40.0).max(120.0))
            .show(ui, |ui| {
                ui.add_enabled_ui(!context.read_only, |ui| {
                    self.general_ui(ui, config, &findings);
                    ui.add_space(8.0);
                    self.smtp_ui(ui, &findings);
                    ui.add_space(8.0);
                    self.imap_ui(ui, &findings);
                });
            });
        ui.separator();
        self.buttons_ui(ui, context.read_only, &findings, commands);
    }

    /// "Compare with": the setting being replaced, shown read-only beside the form.
    fn compare_picker_ui(&self, ui: &mut Ui, config: &Config, commands: &mut CommandQueue, current: Option<&str>) {
        let own = self.editing_id();
        ui.horizontal(|ui| {
            let label = ui.label("Compare with");
            let selected = current
                .and_then(|id| config.setting(id))
                .map_or_else(|| "Nothing".to_owned(), |s| s.description.clone());
            egui::ComboBox::from_id_salt("compare_with")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(current.is_none(), "Nothing").clicked() {
                        commands.send(Command::CompareWith(None));
                    }
                    for other in config.mail_settings.iter().filter(|s| Some(s.id.as_str()) != own) {
                        if ui.selectable_label(current == Some(other.id.as_str()), &other.description).clicked() {
                            commands.send(Command::CompareWith(Some(other.id.clone())));
                        }
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text("Show the setting being replaced beside this one, to copy its values across");
        });
    }

    /// Connect / Disconnect for OAuth settings, with the sign-in state.
    fn connection_ui(&self, ui: &mut Ui, id: &str, context: &FormContext<'_>, commands: &mut CommandQueue) {
        if !self.draft.credential.uses_oauth() {
            return;
        }
        ui.strong("Sign-in");
        let saved_oauth = self.original.as_ref().is_some_and(|s| s.credential == self.draft.credential);
        if let Some(url) = context.connect_waiting {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(if url.is_empty() {
                    "Starting the sign-in…"
                } else {
                    "Waiting for sign-in in your browser…"
                });
            });
            ui.horizontal(|ui| {
                if !url.is_empty()
                    && ui.button("Copy link").on_hover_text("If no browser opened, paste this link into one").clicked()
                {
                    commands.send(Command::CopyText(url.to_owned()));
                }
                if ui.button("Cancel sign-in").clicked() {
                    commands.send(Command::CancelJob(id.to_owned(), JobKind::Connect));
                }
            });
            return;
        }
        ui.horizontal(|ui| {
            ui.label(RichText::new(context.connection.label()).strong());
            let connected = matches!(
                context.connection,
                ConnectionState::Connected { .. } | ConnectionState::NeedsReconnect { .. }
            );
            if connected {
                if ui.add_enabled(!context.busy, egui::Button::new("Disconnect")).clicked() {
                    commands.send(Command::StartJob(id.to_owned(), JobKind::Disconnect));
                }
            } else {
                let button = ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Connect"));
                let button = if saved_oauth { button } else { button.on_disabled_hover_text("Save the setting first") };
                if button.clicked() {
                    commands.send(Command::StartJob(id.to_owned(), JobKind::Connect));
                }
            }
        });
        match context.connection {
            ConnectionState::NeedsReconnect { reason } => {
                ui.colored_label(super::theme::warning_color(ui.visuals()), format!("Needs reconnect: {reason}"));
            }
            ConnectionState::Unknown { reason } => {
                ui.colored_label(super::theme::warning_color(ui.visuals()), reason);
            }
            _ => {}
        }
        for line in context.connect_messages {
            ui.label(RichText::new(line).small());
        }
    }

    /// Test Outgoing (asks for the recipient), Test Incoming, Round trip, Detect.
    fn tests_ui(&self, ui: &mut Ui, id: &str, context: &mut FormContext<'_>, commands: &mut CommandQueue) {
        ui.strong("Tests");
        let blocked = if self.is_dirty() { Some("Save your changes first: tests use the saved setting") } else { None };
        let recipient = &mut *context.recipient;
        ui.horizontal(|ui| {
            let label = ui.label("Send test messages to");
            ui.add(egui::TextEdit::singleline(recipient).hint_text("you@company.com").desired_width(220.0))
                .labelled_by(label.id);
        });
        let recipient_ok = crate::model::validate::is_well_formed_address(recipient.trim());
        ui.horizontal_wrapped(|ui| {
            for kind in [JobKind::Outgoing, JobKind::Incoming, JobKind::RoundTrip, JobKind::Detect] {
                let running = context.running.contains(&kind);
                if running {
                    ui.spinner();
                    if ui.button(format!("Cancel {}", kind.label())).clicked() {
                        commands.send(Command::CancelJob(id.to_owned(), kind));
                    }
                    continue;
                }
                let needs_recipient = kind == JobKind::Outgoing && !recipient_ok;
                let enabled = blocked.is_none() && !needs_recipient;
                let response = ui.add_enabled(enabled, egui::Button::new(kind.label()));
                let response = match (blocked, needs_recipient) {
                    (Some(reason), _) => response.on_disabled_hover_text(reason),
                    (None, true) => response.on_disabled_hover_text("Type the address the two test messages go to"),
                    _ => response,
                };
                if response.clicked() {
                    commands.send(Command::StartJob(id.to_owned(), kind));
                }
            }
        });
    }

    /// The setting being replaced, read-only, with differing fields marked and
    /// a "Use" button per field that copies its value into the form.
    pub fn compare_ui(&mut self, ui: &mut Ui, old: &MailSetting) {
        ui.heading(format!("Compare: \"{}\"", old.description));
        ui.label(
            RichText::new("Read-only. Fields that differ are marked; \"Use\" copies a value into the form.").weak(),
        );
        ui.separator();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            egui::Grid::new("compare").num_columns(3).spacing([10.0, 6.0]).show(ui, |ui| {
                for field in COMPARE_FIELDS {
                    let theirs = (field.get)(old);
                    let ours = (field.get)(&self.draft);
                    let differs = theirs != ours;
                    ui.label(field.label);
                    let text = if theirs.is_empty() { "—".to_owned() } else { theirs.clone() };
                    if differs {
                        egui::Frame::new().fill(super::theme::differs_fill(ui.visuals())).inner_margin(2.0).show(
                            ui,
                            |ui| {
                                ui.label(RichText::new(text).strong()).on_hover_text("Differs from the form");
                            },
                        );
                    } else {
                        ui.label(text);
                    }
                    let copy = ui.add_enabled(differs, egui::Button::new("Use").small());
                    let copy = copy.on_hover_text(format!("Copy the old {} into the form", field.label.to_lowercase()));
                    if copy.clicked() {
                        (field.set)(&mut self.draft, old);
                        self.smtp_port_text = self.draft.smtp.port.to_string();
                        self.imap_port_text = self.draft.imap.port.to_string();
                    }
                    ui.end_row();
                }
            });
        });
    }

    fn general_ui(&mut self, ui: &mut Ui, config: &Config, findings: &[Finding]) {
        egui::Grid::new("general").num_columns(2).spacing([12.0, 6.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            text_row_ui(
                ui,
                "Description",
                Need::Required,
                &mut self.draft.description,
                "e.g. Collections mailbox (Microsoft 365)",
            );
            ui.end_row();
            row_findings_ui(ui, findings, Field::Description);
            let tag = text_row_ui(ui, "Subject Tag", Need::Required, &mut self.draft.subject_tag, "e.g. [ACME-AR]");
            tag.on_hover_text("Put at the start of the subject of every mail the automation sends");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SubjectTag);

            let label = super::widgets::field_label_ui(ui, "Credential type", Need::Required);
            let before = self.draft.credential;
            egui::ComboBox::from_id_salt("credential")
                .selected_text(self.draft.credential.label())
                .show_ui(ui, |ui| {
                    for kind in CredentialKind::ALL {
                        ui.selectable_value(&mut self.draft.credential, kind, kind.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            if self.draft.credential != before {
                self.credential_changed();
            }
            match self.draft.credential {
                CredentialKind::Microsoft365 => {
                    // Edited through a buffer so an untouched empty tenant stays `None` (not a change).
                    let mut tenant = self.draft.tenant.clone().unwrap_or_default();
                    let edited = text_row_ui(
                        ui,
                        "Tenant",
                        Need::Optional,
                        &mut tenant,
                        "organizations, or your tenant id or domain",
                    );
                    if edited.changed() {
                        self.draft.tenant = (!tenant.is_empty()).then_some(tenant);
                    }
                    ui.end_row();
                    row_findings_ui(ui, findings, Field::Tenant);
                }
                CredentialKind::Oauth2 => {
                    let label = super::widgets::field_label_ui(ui, "OAuth2 provider", Need::Required);
                    let current = self.draft.oauth_provider.clone().unwrap_or_default();
                    egui::ComboBox::from_id_salt("oauth_provider")
                        .selected_text(if current.is_empty() { "Choose…" } else { current.as_str() })
                        .show_ui(ui, |ui| {
                            for provider in &config.oauth_providers {
                                let selected = current == provider.id;
                                if ui.selectable_label(selected, &provider.id).clicked() {
                                    self.draft.oauth_provider = Some(provider.id.clone());
                                }
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                    row_findings_ui(ui, findings, Field::OauthProvider);
                }
                CredentialKind::Basic | CredentialKind::Gmail => {}
            }
            ui.label("");
            ui.checkbox(&mut self.draft.active, "Active");
            ui.end_row();
        });
    }

    /// A new OAuth type fills in its provider's servers when they are empty or
    /// still another preset's, and drops fields that only the old type used.
    fn credential_changed(&mut self) {
        if self.draft.credential != CredentialKind::Microsoft365 {
            self.draft.tenant = self.draft.tenant.take().filter(|t| !t.trim().is_empty());
        }
        if self.draft.credential != CredentialKind::Oauth2 {
            self.draft.oauth_provider = None;
        }
        if let Some(preset) = Preset::for_credential(self.draft.credential) {
            let untouched = |server: &str| {
                server.trim().is_empty()
                    || presets::ALL
                        .iter()
                        .any(|p| p.smtp.server == server || p.imap.is_some_and(|i| i.server == server))
            };
            if untouched(&self.draft.smtp.server) && untouched(&self.draft.imap.server) {
                self.apply_preset(preset);
            }
        }
    }

    fn apply_preset(&mut self, preset: Preset) {
        preset.apply(&mut self.draft);
        self.smtp_port_text = self.draft.smtp.port.to_string();
        self.imap_port_text = self.draft.imap.port.to_string();
    }

    fn smtp_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.horizontal(|ui| {
            ui.strong("Outgoing SMTP settings");
            ui.menu_button("Fill servers from…", |ui| {
                for preset in presets::ALL {
                    if ui.button(preset.name).clicked() {
                        self.apply_preset(preset);
                        ui.close();
                    }
                }
            });
        });
        let uses_password = self.draft.credential == CredentialKind::Basic;
        egui::Grid::new("smtp").num_columns(2).spacing([12.0, 6.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            let smtp = &mut self.draft.smtp;
            text_row_ui(ui, "Outgoing server", Need::Required, &mut smtp.server, "e.g. smtp.office365.com");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpServer);
            port_row_ui(ui, "Outgoing port", &mut self.smtp_port_text, &mut smtp.port);
            row_findings_ui(ui, findings, Field::SmtpPort);
            security_row_ui(ui, "Outgoing security", "smtp_security", &mut smtp.security);
            row_findings_ui(ui, findings, Field::SmtpSecurity);
            text_row_ui(ui, "Send-as address", Need::Required, &mut smtp.send_as, "e.g. collections@company.com")
                .on_hover_text("The \"from\" address recipients see, e.g. collections@ or accountsreceivable@");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpSendAs);
            text_row_ui(ui, "From name", Need::Optional, &mut smtp.from_name, "e.g. Acme Accounts Receivable Team")
                .on_hover_text("Shown to recipients instead of the send-as address");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpFromName);
            text_row_ui(
                ui,
                "Outgoing user name",
                Need::Required,
                &mut smtp.user_name,
                "the account that signs in to the server",
            );
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserName);
            text_row_ui(
                ui,
                "Outgoing user domain",
                Need::Required,
                &mut smtp.user_domain,
                "the send-as address's domain",
            );
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserDomain);
            if uses_password {
                password_row_ui(ui, "Outgoing password", Need::Required, &mut self.smtp_password, self.stored.smtp);
                ui.end_row();
                row_findings_ui(ui, findings, Field::SmtpPassword);
            }
        });
        suggest_domain_ui(ui, &mut self.draft.smtp.user_domain, &self.draft.smtp.send_as, "outgoing");
    }

    fn imap_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.strong("Incoming IMAP settings");
        let uses_password = self.draft.credential == CredentialKind::Basic;
        egui::Grid::new("imap").num_columns(2).spacing([12.0, 6.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            let imap = &mut self.draft.imap;
            text_row_ui(ui, "Incoming server", Need::Required, &mut imap.server, "e.g. outlook.office365.com");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapServer);
            port_row_ui(ui, "Incoming port", &mut self.imap_port_text, &mut imap.port);
            row_findings_ui(ui, findings, Field::ImapPort);
            security_row_ui(ui, "Incoming security", "imap_security", &mut imap.security);
            row_findings_ui(ui, findings, Field::ImapSecurity);
            text_row_ui(ui, "Inbox folder", Need::Required, &mut imap.inbox_folder, "Inbox");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapInboxFolder);
            text_row_ui(ui, "Sent items folder", Need::Required, &mut imap.sent_folder, "Sent");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapSentFolder);
            text_row_ui(
                ui,
                "Incoming user name",
                Need::Required,
                &mut imap.user_name,
                "the reply-to mailbox, e.g. replies@company.com",
            )
            .on_hover_text("The reply-to address: where replies from customers are delivered");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserName);
            text_row_ui(
                ui,
                "Incoming user domain",
                Need::Required,
                &mut imap.user_domain,
                "the incoming user name's domain",
            );
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserDomain);
            if uses_password {
                password_row_ui(ui, "Incoming password", Need::Required, &mut self.imap_password, self.stored.imap);
                ui.end_row();
                row_findings_ui(ui, findings, Field::ImapPassword);
            }
        });
        suggest_domain_ui(ui, &mut self.draft.imap.user_domain, &self.draft.imap.user_name, "incoming");
    }

    fn buttons_ui(&self, ui: &mut Ui, read_only: bool, findings: &[Finding], commands: &mut CommandQueue) {
        ui.horizontal(|ui| {
            let save = ui.add_enabled(!read_only, egui::Button::new("Save").shortcut_text("Ctrl+S"));
            if save.clicked() {
                commands.send(Command::SaveForm);
            }
            if ui.add(egui::Button::new("Cancel").shortcut_text("Esc")).clicked() {
                commands.send(Command::CancelForm);
            }
            if let Some(id) = self.editing_id() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.add_enabled(!read_only, egui::Button::new("Delete")).clicked() {
                        commands.send(Command::Delete(id.to_owned()));
                    }
                });
            }
        });
        let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
        if self.save_attempted && errors > 0 {
            ui.colored_label(
                super::theme::error_color(ui.visuals()),
                format!("Fix the {errors} problem(s) marked above, then Save again"),
            );
        }
    }
}

/// Offers the address's domain while the user domain is still empty.
fn suggest_domain_ui(ui: &mut Ui, user_domain: &mut String, address: &str, direction: &str) {
    if !user_domain.is_empty() {
        return;
    }
    if let Some(domain) = crate::model::setting::domain_of(address)
        && ui.small_button(format!("Use \"{domain}\" as {direction} user domain")).clicked()
    {
        *user_domain = domain;
    }
}

/// An empty label cell plus the findings of `field` in the input column.
fn row_findings_ui(ui: &mut Ui, findings: &[Finding], field: Field) {
    if findings.iter().any(|f| f.field == field) {
        ui.label("");
        ui.vertical(|ui| findings_ui(ui, findings, field));
        ui.end_row();
    }
}

fn port_row_ui(ui: &mut Ui, label: &str, text: &mut String, port: &mut u16) {
    let response = text_row_ui(ui, label, Need::Required, text, "e.g. 587");
    if response.changed() {
        // 0 is never a valid port, so the model's range check reports it.
        *port = parse_port(text).unwrap_or(0);
    }
    ui.end_row();
}

fn security_row_ui(ui: &mut Ui, label: &str, id_salt: &str, security: &mut Security) {
    let label = super::widgets::field_label_ui(ui, label, Need::Required);
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(security.label())
        .show_ui(ui, |ui| {
            for option in Security::ALL {
                ui.selectable_value(security, option, option.label());
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
}

/// A one-line summary of the form's problems, for the status bar.
pub fn summarize(count: usize) -> String {
    format!("Not saved: {count} problem(s) to fix (marked in red)")
}
