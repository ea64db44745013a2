//! The edit form: one mail setting, grouped like the customer's setup guide
//! (Outgoing SMTP settings, Incoming IMAP settings), validated as the admin
//! types. The form edits a copy; nothing changes until Save.

use egui::{RichText, Ui};
use zeroize::Zeroizing;

use super::commands::{Command, CommandQueue};
use super::jobs::JobKind;
use super::widgets::{Need, findings_ui, hinted_input_ui, password_row_ui, text_row_ui};
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
    /// Which passwords the OS store holds; `None` while a job thread asks it.
    stored: Option<StoredPasswords>,
    /// Set when the OS store could not say which passwords exist.
    secret_store_problem: Option<String>,
    /// Set after a Save attempt: from then on every finding is shown.
    save_attempted: bool,
    /// The "discard changes?" question is open.
    pub confirming_discard: bool,
    /// A new record's starting point (its type's preset), for `is_dirty`.
    original_blank: Option<MailSetting>,
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
    /// A device sign-in is running: its code once the provider gave one.
    pub device_waiting: Option<Option<&'a (crate::oauth::device::DeviceCode, std::time::Instant)>>,
    /// The outcome of the last Connect / Disconnect (account, warnings, diagnosis).
    pub connect_messages: &'a [String],
    /// Jobs running for this setting.
    pub running: Vec<JobKind>,
    pub busy: bool,
    /// Test Outgoing's recipient, remembered between tests.
    pub recipient: &'a mut String,
    /// Test Outgoing was pressed with no address: focus the field and say so.
    pub ask_recipient: &'a mut bool,
    /// Save is waiting for the secret store.
    pub saving: bool,
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
    /// An empty form of this credential type, its provider's servers filled in.
    pub fn new_record(credential: CredentialKind) -> Self {
        let mut draft = MailSetting { credential, ..MailSetting::default() };
        if let Some(preset) = Preset::for_credential(credential) {
            preset.apply(&mut draft);
        }
        let mut form = Self::from_setting(None, draft, Some(StoredPasswords::default()));
        // A new record's baseline is the empty setting of its type, so "unsaved changes" means typed ones.
        form.original_blank = Some(form.draft.clone());
        form
    }

    /// The form on a saved setting. `stored_known`: no need to ask the secret
    /// store (an OAuth setting keeps no password); else [`Self::set_stored`] follows.
    pub fn edit(setting: &MailSetting, stored_known: bool) -> Self {
        Self::from_setting(Some(setting.clone()), setting.clone(), stored_known.then(StoredPasswords::default))
    }

    /// What the secret store said (from a job thread).
    pub fn set_stored(&mut self, stored: Result<StoredPasswords, String>) {
        match stored {
            Ok(stored) => self.stored = Some(stored),
            Err(problem) => {
                self.stored = Some(StoredPasswords::default());
                self.secret_store_problem = Some(problem);
            }
        }
    }

    fn from_setting(original: Option<MailSetting>, draft: MailSetting, stored: Option<StoredPasswords>) -> Self {
        Self {
            smtp_port_text: draft.smtp.port.to_string(),
            imap_port_text: draft.imap.port.to_string(),
            original,
            draft,
            smtp_password: Zeroizing::default(),
            imap_password: Zeroizing::default(),
            stored,
            secret_store_problem: None,
            save_attempted: false,
            confirming_discard: false,
            original_blank: None,
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
        let baseline = self.original.clone().or_else(|| self.original_blank.clone()).unwrap_or_default();
        self.draft != baseline
            || !self.smtp_password.is_empty()
            || !self.imap_password.is_empty()
            || self.smtp_port_text != baseline.smtp.port.to_string()
            || self.imap_port_text != baseline.imap.port.to_string()
    }

    /// Which passwords the setting will have after Save.
    /// While the store has not answered, stored passwords are assumed (Save
    /// then keeps whatever is there rather than asking for it again).
    fn passwords_after_save(&self) -> StoredPasswords {
        let stored = self.stored.unwrap_or(StoredPasswords { smtp: true, imap: true });
        StoredPasswords {
            smtp: stored.smtp || !self.smtp_password.is_empty(),
            imap: stored.imap || !self.imap_password.is_empty(),
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
            ui.add(egui::Label::new(RichText::new(problem).color(ui.visuals().warn_fg_color)).wrap());
        }
        self.compare_picker_ui(ui, config, commands, context.compare_with);
        ui.separator();
        // The actions (sign-in, tests) come first, so they are always in view.
        if let Some(id) = self.editing_id().map(str::to_owned) {
            self.connection_ui(ui, &id, context, commands);
            self.tests_ui(ui, &id, context, commands);
            ui.separator();
        }
        // Save and Cancel stay in view below the fields, whatever the window height: a
        // bottom panel of the form's own, laid out first, and the fields scroll in what
        // is left (all of it: at 1024×640 every line counts).
        egui::Panel::bottom("form_buttons")
            .frame(egui::Frame::NONE.inner_margin(egui::Margin::symmetric(0, 6)))
            .show(ui, |ui| self.buttons_ui(ui, context, &findings, commands));
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.add_enabled_ui(!context.read_only, |ui| {
                self.general_ui(ui, config, &findings);
                ui.add_space(10.0);
                self.smtp_ui(ui, &findings);
                ui.add_space(10.0);
                self.imap_ui(ui, &findings);
            });
        });
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
                    let mut others: Vec<(&str, &str)> = config
                        .mail_settings
                        .iter()
                        .filter(|s| Some(s.id.as_str()) != own)
                        .map(|s| (s.id.as_str(), s.description.as_str()))
                        .collect();
                    super::table::sort_by_name(&mut others);
                    for (id, description) in others {
                        if ui.selectable_label(current == Some(id), description).clicked() {
                            commands.send(Command::CompareWith(Some(id.to_owned())));
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
        if !self.draft.uses_oauth() {
            return;
        }
        ui.strong("Sign-in");
        let saved_oauth = self.original.as_ref().is_some_and(|s| s.oauth_credential() == self.draft.oauth_credential());
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
        if let Some(device) = context.device_waiting {
            device_code_ui(ui, id, device, commands);
            return;
        }
        if self.draft.oauth_flow == crate::model::OAuthFlow::App {
            // Nobody signs in: the app's own token, asked for on each use.
            ui.label(
                "App-only access (client credentials): nobody signs in; the app's certificate or secret is in the \
                 secret store.",
            );
            let today = time::OffsetDateTime::now_utc().date();
            if let Some((text, near)) =
                crate::oauth::provider::app_credential_expiry(&self.draft, context.config, today)
            {
                if near {
                    ui.colored_label(super::theme::warning_color(ui.visuals()), text);
                } else {
                    ui.label(text);
                }
            }
            let check = ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Check app access"));
            if check.on_hover_text("Gets the app's token and opens the mailbox with it (Test Incoming)").clicked() {
                commands.send(Command::StartJob(id.to_owned(), JobKind::Incoming));
            }
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
                // Google does not allow the mail scope with a device code.
                if self.draft.oauth_credential() != Some(CredentialKind::Gmail) {
                    let device =
                        ui.add_enabled(saved_oauth && !context.busy, egui::Button::new("Sign in on another device"));
                    if device
                        .on_hover_text(
                            "For a computer without a browser: shows a code to enter on a phone or another computer",
                        )
                        .clicked()
                    {
                        commands.send(Command::StartJob(id.to_owned(), JobKind::DeviceConnect));
                    }
                }
            }
        });
        match context.connection {
            ConnectionState::NeedsReconnect { reason } => {
                let color = super::theme::warning_color(ui.visuals());
                ui.add(egui::Label::new(RichText::new(format!("Needs reconnect: {reason}")).color(color)).wrap());
            }
            ConnectionState::Unknown { reason } => {
                let color = super::theme::warning_color(ui.visuals());
                ui.add(egui::Label::new(RichText::new(reason).color(color)).wrap());
            }
            _ => {}
        }
        if !saved_oauth {
            ui.label("Save first: Connect signs in with the saved setting.");
        }
        for line in context.connect_messages {
            ui.add(egui::Label::new(line.as_str()).wrap());
        }
    }

    /// Test Outgoing Settings (asks for the recipient), Test Incoming Settings,
    /// Round trip, Detect, Check leftover mail. Always clickable on a saved
    /// setting: a missing address is asked for inline; unsaved changes are saved first.
    fn tests_ui(&self, ui: &mut Ui, id: &str, context: &mut FormContext<'_>, commands: &mut CommandQueue) {
        ui.strong("Tests");
        let dirty = self.is_dirty();
        let recipient = &mut *context.recipient;
        ui.horizontal(|ui| {
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
            ui.colored_label(super::theme::error_color(ui.visuals()), "That is not an email address");
        }
        if dirty {
            ui.label("You have unsaved changes: a test saves them first.");
        }
        ui.horizontal_wrapped(|ui| {
            for kind in [JobKind::Outgoing, JobKind::Incoming, JobKind::RoundTrip, JobKind::Detect, JobKind::Leftover] {
                if context.running.contains(&kind) {
                    ui.spinner();
                    if ui.button(format!("Cancel {}", kind.label())).clicked() {
                        commands.send(Command::CancelJob(id.to_owned(), kind));
                    }
                    continue;
                }
                let label = if dirty { format!("Save and {}", kind.label()) } else { kind.label().to_owned() };
                let button = ui.add_enabled(!context.saving && !context.read_only, egui::Button::new(label));
                let button = match kind {
                    JobKind::Outgoing => button.on_hover_text("Sends two test emails to the address above"),
                    JobKind::Incoming => {
                        button.on_hover_text("Signs in over IMAP and checks the inbox and sent folders")
                    }
                    JobKind::Leftover => button.on_hover_text(
                        "Counts the mail still in \"Mail Not Read\" and \"Mail Not Filed\" (not yet retrieved)",
                    ),
                    _ => button,
                };
                if button.clicked() {
                    commands.send(if dirty {
                        Command::SaveAndTest(kind)
                    } else {
                        Command::StartJob(id.to_owned(), kind)
                    });
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
                    let copy = ui.add_enabled(differs, egui::Button::new("Use"));
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
        egui::Grid::new("general").num_columns(2).spacing([12.0, 8.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            // The guide's "CRITICAL STEP": the credential type comes first.
            let label = super::widgets::field_label_ui(ui, "Credential Type", Need::Required);
            let before = self.draft.credential;
            egui::ComboBox::from_id_salt("credential")
                .selected_text(RichText::new(self.draft.credential.label()).strong())
                .width(260.0)
                .show_ui(ui, |ui| {
                    for kind in CREDENTIAL_ORDER {
                        ui.selectable_value(&mut self.draft.credential, kind, kind.label());
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(
                    "How the mailbox signs in: Microsoft 365 and Gmail use OAuth (Connect), others a password",
                );
            ui.end_row();
            if self.draft.credential != before {
                self.credential_changed();
            }
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
            match self.draft.oauth_credential().unwrap_or(self.draft.credential) {
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
            // Microsoft 365 and custom providers may let the organisation's app in by itself.
            if matches!(self.draft.oauth_credential(), Some(CredentialKind::Microsoft365 | CredentialKind::Oauth2)) {
                let label = super::widgets::field_label_ui(ui, "Access", Need::Optional);
                egui::ComboBox::from_id_salt("oauth_flow")
                    .selected_text(self.draft.oauth_flow.label())
                    .width(300.0)
                    .show_ui(ui, |ui| {
                        for flow in [crate::model::OAuthFlow::Delegated, crate::model::OAuthFlow::App] {
                            ui.selectable_value(&mut self.draft.oauth_flow, flow, flow.label());
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text(
                        "App-only: for an unattended automation, the app signs in as itself with its client secret",
                    );
                ui.end_row();
            }
            ui.label("");
            ui.checkbox(&mut self.draft.active, "Active");
            ui.end_row();
        });
    }

    /// A new OAuth type fills in its provider's servers when they are empty or
    /// still another preset's, and drops fields that only the old type used.
    fn credential_changed(&mut self) {
        // A side that named the new type as its own now simply follows the setting.
        for side in [&mut self.draft.smtp.credential, &mut self.draft.imap.credential] {
            if *side == Some(self.draft.credential) {
                *side = None;
            }
        }
        let oauth = self.draft.oauth_credential();
        if oauth != Some(CredentialKind::Microsoft365) {
            self.draft.tenant = self.draft.tenant.take().filter(|t| !t.trim().is_empty());
        }
        if oauth != Some(CredentialKind::Oauth2) {
            self.draft.oauth_provider = None;
        }
        if let Some(preset) = Preset::for_credential(self.draft.credential) {
            let untouched = |server: &str| {
                server.trim().is_empty()
                    || presets::ALL
                        .iter()
                        .any(|p| p.smtp.server == server || p.imap.is_some_and(|i| i.server == server))
            };
            // A relay on the outgoing side (its own sign-in) stays; the mailbox side follows the type.
            let relay_kept =
                self.draft.smtp.credential.is_some() || presets::relay_name(&self.draft.smtp.server).is_some();
            if relay_kept && self.draft.credential.uses_oauth() {
                self.draft.smtp.credential = Some(CredentialKind::Basic);
            }
            if untouched(&self.draft.imap.server) && (relay_kept || untouched(&self.draft.smtp.server)) {
                if !relay_kept {
                    preset.apply_outgoing(&mut self.draft);
                }
                preset.apply_incoming(&mut self.draft);
                self.smtp_port_text = self.draft.smtp.port.to_string();
                self.imap_port_text = self.draft.imap.port.to_string();
            }
        }
    }

    fn smtp_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        section_ui(ui, "Outgoing SMTP Settings", |ui| self.smtp_fields_ui(ui, findings));
    }

    fn smtp_fields_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Outgoing SMTP Settings").heading());
            ui.menu_button("Fill servers from…", |ui| {
                for preset in presets::ALL {
                    if ui.button(preset.name).clicked() {
                        preset.apply_outgoing(&mut self.draft);
                        self.smtp_port_text = self.draft.smtp.port.to_string();
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text(
                "Fills this section's server, port and security (a relay such as SendGrid signs in with a password)",
            );
        });
        let credential = self.draft.smtp_credential();
        let stored = self.stored.map(|s| s.smtp);
        egui::Grid::new("smtp").num_columns(2).spacing([12.0, 8.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            let setting_credential = self.draft.credential;
            side_credential_row_ui(ui, "smtp_credential", setting_credential, &mut self.draft.smtp.credential);
            row_findings_ui(ui, findings, Field::SmtpCredential);
            let smtp = &mut self.draft.smtp;
            text_row_ui(ui, "Server Name", Need::Required, &mut smtp.server, "e.g. smtp.office365.com");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpServer);
            port_row_ui(ui, "Port", &mut self.smtp_port_text, &mut smtp.port, "587");
            row_findings_ui(ui, findings, Field::SmtpPort);
            security_row_ui(ui, "Security", "smtp_security", &mut smtp.security);
            row_findings_ui(ui, findings, Field::SmtpSecurity);
            text_row_ui(ui, "Default Send as Email", Need::Required, &mut smtp.send_as, "e.g. collections@company.com")
                .on_hover_text("The \"from\" address recipients see, e.g. collections@ or accountsreceivable@");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpSendAs);
            text_row_ui(ui, "From Name", Need::Optional, &mut smtp.from_name, "e.g. Acme Accounts Receivable Team")
                .on_hover_text("Shown to recipients instead of the send-as address");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpFromName);
            text_row_ui(ui, "(From) User Name", Need::Required, &mut smtp.user_name, "the account that signs in")
                .on_hover_text("The email address (or user name) that signs in to the outgoing server");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserName);
            text_row_ui(ui, "(From) User Domain", Need::Required, &mut smtp.user_domain, "the send-as domain")
                .on_hover_text("The domain of the Default Send as Email; they must match");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserDomain);
            password_or_sign_in_row_ui(ui, credential, &mut self.smtp_password, stored);
            row_findings_ui(ui, findings, Field::SmtpPassword);
        });
        suggest_domain_ui(ui, &mut self.draft.smtp.user_domain, &self.draft.smtp.send_as, "(From) User Domain");
        if let Some(relay) = presets::relay_name(&self.draft.smtp.server) {
            ui.label(relay_sign_in_hint(relay));
        }
    }

    fn imap_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        section_ui(ui, "Incoming IMAP Settings", |ui| self.imap_fields_ui(ui, findings));
    }

    /// In the guide's order: Server Name, Port, Inbox Folder Name, Sent Items
    /// Folder, User Name, Password, User Domain.
    fn imap_fields_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Incoming IMAP Settings").heading());
            ui.menu_button("Fill servers from…", |ui| {
                for preset in presets::ALL.iter().filter(|p| p.imap.is_some()) {
                    if ui.button(preset.name).clicked() {
                        preset.apply_incoming(&mut self.draft);
                        self.imap_port_text = self.draft.imap.port.to_string();
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Fills this section's server, port and security");
        });
        let credential = self.draft.imap_credential();
        let stored = self.stored.map(|s| s.imap);
        egui::Grid::new("imap").num_columns(2).spacing([12.0, 8.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            let setting_credential = self.draft.credential;
            side_credential_row_ui(ui, "imap_credential", setting_credential, &mut self.draft.imap.credential);
            row_findings_ui(ui, findings, Field::ImapCredential);
            let imap = &mut self.draft.imap;
            text_row_ui(ui, "Server Name", Need::Required, &mut imap.server, "e.g. outlook.office365.com");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapServer);
            port_row_ui(ui, "Port", &mut self.imap_port_text, &mut imap.port, "993");
            row_findings_ui(ui, findings, Field::ImapPort);
            security_row_ui(ui, "Security", "imap_security", &mut imap.security);
            row_findings_ui(ui, findings, Field::ImapSecurity);
            text_row_ui(ui, "Inbox Folder Name", Need::Required, &mut imap.inbox_folder, "Inbox")
                .on_hover_text("\"Inbox\" is the general default");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapInboxFolder);
            text_row_ui(ui, "Sent Items Folder", Need::Required, &mut imap.sent_folder, "Sent")
                .on_hover_text("\"Sent\" is the general default; Test Incoming Settings confirms it with the server");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapSentFolder);
            text_row_ui(
                ui,
                "User Name",
                Need::Required,
                &mut imap.user_name,
                "the reply-to mailbox, e.g. replies@company.com",
            )
            .on_hover_text("The reply-to address: where replies from customers are delivered");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserName);
            password_or_sign_in_row_ui(ui, credential, &mut self.imap_password, stored);
            row_findings_ui(ui, findings, Field::ImapPassword);
            text_row_ui(ui, "User Domain", Need::Required, &mut imap.user_domain, "the user name's domain")
                .on_hover_text("The domain of the User Name; they must match");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserDomain);
        });
        suggest_domain_ui(ui, &mut self.draft.imap.user_domain, &self.draft.imap.user_name, "User Domain");
    }

    fn buttons_ui(&self, ui: &mut Ui, context: &FormContext<'_>, findings: &[Finding], commands: &mut CommandQueue) {
        ui.horizontal(|ui| {
            let save = ui
                .add_enabled(!context.read_only && !context.saving, egui::Button::new("Save").shortcut_text("Ctrl+S"));
            if save.clicked() {
                commands.send(Command::SaveForm);
            }
            if ui.add(egui::Button::new("Cancel").shortcut_text("Esc")).clicked() {
                commands.send(Command::CancelForm);
            }
            if context.saving {
                ui.spinner();
                ui.label("Saving the passwords…");
            }
            if let Some(id) = self.editing_id() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.add_enabled(!context.read_only, egui::Button::new("Delete")).clicked() {
                        commands.send(Command::AskDelete(id.to_owned()));
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

/// The credential types in the order an admin following the guide meets them.
const CREDENTIAL_ORDER: [CredentialKind; 4] =
    [CredentialKind::Microsoft365, CredentialKind::Gmail, CredentialKind::Basic, CredentialKind::Oauth2];

/// A section of the form, named in the accessibility tree so that its fields
/// ("Server Name", "Port" …) are found under it, as the guide reads them.
fn section_ui(ui: &mut Ui, title: &str, add_contents: impl FnOnce(&mut Ui)) {
    let builder = egui::UiBuilder::new().accessibility_label(title).accessibility_role(egui::accesskit::Role::Group);
    ui.scope_builder(builder, add_contents);
}

/// The guide's Password row: a masked field for Basic; for OAuth, where the
/// password is typed instead (on the provider's own page, at Connect).
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
            commands.send(Command::CancelJob(id.to_owned(), JobKind::DeviceConnect));
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
            commands.send(Command::CopyText(code.verification_uri.clone()));
        }
    });
    ui.label("and enter the code");
    ui.horizontal(|ui| {
        ui.label(RichText::new(&code.user_code).size(34.0).strong());
        if ui.button("Copy code").clicked() {
            commands.send(Command::CopyText(code.user_code.clone()));
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

/// How a relay's sign-in is filled in, in its own words.
fn relay_sign_in_hint(relay: &str) -> String {
    match relay {
        "SendGrid" => "SendGrid: the user name is the word apikey, and the password is an API key \
                       (Settings, API Keys, with Mail Send permission)."
            .to_owned(),
        "Postmark" => "Postmark: the user name and the password are both the Server API token \
                       (your server's API Tokens tab)."
            .to_owned(),
        other => format!("{other} signs in with a user name and password."),
    }
}

/// "Signs in with": as the setting's Credential Type, or this side's own (a relay's
/// password beside an OAuth mailbox).
fn side_credential_row_ui(
    ui: &mut Ui,
    id_salt: &str,
    setting_credential: CredentialKind,
    side: &mut Option<CredentialKind>,
) {
    let label = super::widgets::field_label_ui(ui, "Signs in with", Need::Optional);
    let same = "Same as Credential Type".to_owned();
    let shown = match side {
        Some(kind) if *kind != setting_credential => kind.label().to_owned(),
        _ => same.clone(),
    };
    let mut changed_to: Option<Option<CredentialKind>> = None;
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(shown)
        .width(240.0)
        .show_ui(ui, |ui| {
            if ui.selectable_label(side.is_none_or(|k| k == setting_credential), &same).clicked() {
                changed_to = Some(None);
            }
            for kind in CREDENTIAL_ORDER.into_iter().filter(|kind| *kind != setting_credential) {
                if ui.selectable_label(*side == Some(kind), kind.label()).clicked() {
                    changed_to = Some(Some(kind));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text("For a relay such as SendGrid or Postmark: send with its password while replies use OAuth");
    if let Some(choice) = changed_to {
        *side = choice;
    }
    ui.end_row();
}

fn password_or_sign_in_row_ui(
    ui: &mut Ui,
    credential: CredentialKind,
    typed: &mut Zeroizing<String>,
    stored: Option<bool>,
) {
    if credential == CredentialKind::Basic {
        password_row_ui(ui, "Password", Need::Required, typed, stored);
        ui.end_row();
        return;
    }
    super::widgets::field_label_ui(ui, "Password", Need::Optional);
    let provider = match credential {
        CredentialKind::Microsoft365 => "Microsoft's",
        CredentialKind::Gmail => "Google's",
        _ => "your provider's",
    };
    ui.label(format!("Typed on {provider} sign-in page at Connect;\nnever stored here."));
    ui.end_row();
}

/// Offers the address's domain while the user domain is still empty.
fn suggest_domain_ui(ui: &mut Ui, user_domain: &mut String, address: &str, field: &str) {
    if !user_domain.is_empty() {
        return;
    }
    if let Some(domain) = crate::model::setting::domain_of(address)
        && ui.button(format!("Use \"{domain}\" as {field}")).clicked()
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

fn port_row_ui(ui: &mut Ui, label: &str, text: &mut String, port: &mut u16, example: &str) {
    let response = text_row_ui(ui, label, Need::Required, text, &format!("e.g. {example}"));
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
