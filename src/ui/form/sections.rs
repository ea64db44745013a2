//! The form's sections in the guide's order and words: General (Credential Type,
//! Description, Subject Tag, Active), Outgoing SMTP settings, Incoming IMAP
//! settings — and the rows they are made of.

use crate::secret::SecretText;
use egui::{RichText, Ui};

use super::{EditForm, LABEL_WIDTH};
use crate::model::fields::{self, Field};
use crate::model::providers;
use crate::model::setting::Transport;
use crate::model::validate::parse_port;
use crate::model::{Config, CredentialKind, Finding, Preset, Protocol, Security, presets};
use crate::ui::widgets::{Need, findings_ui, password_row_ui, text_row_ui};

impl EditForm {
    pub(super) fn general_ui(&mut self, ui: &mut Ui, config: &Config, findings: &[Finding]) {
        egui::Grid::new("general").num_columns(2).spacing([12.0, 8.0]).min_col_width(LABEL_WIDTH).show(ui, |ui| {
            // The guide's "CRITICAL STEP": the credential type comes first.
            let label = crate::ui::widgets::field_label_ui(ui, Field::CredentialType.label(), Need::Required);
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
                Field::Description.label(),
                Need::Required,
                &mut self.draft.description,
                "e.g. Collections mailbox (Microsoft 365)",
            );
            ui.end_row();
            row_findings_ui(ui, findings, Field::Description);
            let tag = text_row_ui(
                ui,
                Field::SubjectTag.label(),
                Need::Required,
                &mut self.draft.subject_tag,
                "e.g. [ACME-AR]",
            );
            tag.on_hover_text("Put at the start of the subject of every mail the automation sends");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SubjectTag);
            self.sign_in_rows_ui(ui, config, findings);
            ui.label("");
            ui.checkbox(&mut self.draft.active, Field::Active.label());
            ui.end_row();
        });
    }

    /// The rows of an OAuth sign-in, as its provider has them: the tenant (Microsoft
    /// Entra), the custom provider, and who signs in (a person, or the app itself).
    fn sign_in_rows_ui(&mut self, ui: &mut Ui, config: &Config, findings: &[Finding]) {
        let credential = self.draft.oauth_credential().unwrap_or(self.draft.credential);
        let sign_in = providers::for_credential(credential).and_then(|p| p.sign_in);
        match credential {
            _ if sign_in.is_some_and(|s| s.has_tenant) => {
                // Edited through a buffer so an untouched empty tenant stays `None` (not a change).
                let mut tenant = self.draft.tenant.clone().unwrap_or_default();
                let edited = text_row_ui(
                    ui,
                    Field::Tenant.label(),
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
                let label = crate::ui::widgets::field_label_ui(ui, Field::OauthProvider.label(), Need::Required);
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
            _ => {}
        }
        // Providers with app-only access for mail (and custom ones) may let the organisation's app in by itself.
        let app_only = sign_in.is_some_and(|s| !s.app_scopes.is_empty()) || credential == CredentialKind::Oauth2;
        if self.draft.oauth_credential().is_some() && app_only {
            let label = crate::ui::widgets::field_label_ui(ui, "Access", Need::Optional);
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
        if self.draft.oauth_credential().is_some() && self.draft.oauth_flow.is_delegated() {
            self.delegate_row_ui(ui, findings);
        }
    }

    /// Who signs in for a shared mailbox (a person with Full Access); empty when the
    /// mailbox signs in itself. Edited through a buffer so empty stays `None`.
    fn delegate_row_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        let mut delegate = self.draft.delegate.clone().unwrap_or_default();
        let edited = text_row_ui(
            ui,
            Field::Delegate.label(),
            Need::Optional,
            &mut delegate,
            "for a shared mailbox: the person with Full Access",
        );
        if edited.changed() {
            self.draft.delegate = (!delegate.is_empty()).then_some(delegate);
        }
        ui.end_row();
        row_findings_ui(ui, findings, Field::Delegate);
    }

    /// A new OAuth type fills in its provider's servers when they are empty or
    /// still another preset's, and drops fields that only the old type used.
    pub(super) fn credential_changed(&mut self) {
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

    pub(super) fn smtp_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        section_ui(ui, fields::OUTGOING, |ui| self.smtp_fields_ui(ui, findings));
    }

    fn smtp_fields_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new(fields::OUTGOING).heading());
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
            let through_api = transport_row_ui(ui, Field::SmtpSendsWith, credential, &mut self.draft.smtp.sends_with);
            row_findings_ui(ui, findings, Field::SmtpSendsWith);
            let smtp = &mut self.draft.smtp;
            if !through_api {
                text_row_ui(ui, Field::SmtpServer.label(), Need::Required, &mut smtp.server, "e.g. smtp.office365.com");
                ui.end_row();
                row_findings_ui(ui, findings, Field::SmtpServer);
                port_row_ui(ui, Field::SmtpPort.label(), &mut self.smtp_port_text, &mut smtp.port, "587");
                row_findings_ui(ui, findings, Field::SmtpPort);
                security_row_ui(ui, Field::SmtpSecurity.label(), "smtp_security", &mut smtp.security);
                row_findings_ui(ui, findings, Field::SmtpSecurity);
            }
            text_row_ui(
                ui,
                Field::SmtpSendAs.label(),
                Need::Required,
                &mut smtp.send_as,
                "e.g. collections@company.com",
            )
            .on_hover_text("The \"from\" address recipients see, e.g. collections@ or accountsreceivable@");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpSendAs);
            text_row_ui(
                ui,
                Field::SmtpFromName.label(),
                Need::Optional,
                &mut smtp.from_name,
                "e.g. Acme Accounts Receivable Team",
            )
            .on_hover_text("Shown to recipients instead of the send-as address");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpFromName);
            text_row_ui(
                ui,
                Field::SmtpUserName.label(),
                Need::Required,
                &mut smtp.user_name,
                "the account that signs in",
            )
            .on_hover_text("The email address (or user name) that signs in to the outgoing server");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserName);
            text_row_ui(ui, Field::SmtpUserDomain.label(), Need::Required, &mut smtp.user_domain, "the send-as domain")
                .on_hover_text("The domain of the Default Send as Email; they must match");
            ui.end_row();
            row_findings_ui(ui, findings, Field::SmtpUserDomain);
            password_or_sign_in_row_ui(ui, credential, &mut self.smtp_password, stored);
            row_findings_ui(ui, findings, Field::SmtpPassword);
        });
        suggest_domain_ui(
            ui,
            &mut self.draft.smtp.user_domain,
            &self.draft.smtp.send_as,
            Field::SmtpUserDomain.label(),
        );
        if let Some(relay) = presets::relay_name(&self.draft.smtp.server) {
            ui.label(relay_sign_in_hint(relay));
        }
    }

    pub(super) fn imap_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        section_ui(ui, fields::INCOMING, |ui| self.imap_fields_ui(ui, findings));
    }

    /// In the guide's order: Server Name, Port, Inbox Folder Name, Sent Items
    /// Folder, User Name, Password, User Domain.
    fn imap_fields_ui(&mut self, ui: &mut Ui, findings: &[Finding]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new(fields::INCOMING).heading());
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
            let through_api = transport_row_ui(ui, Field::ImapReadsWith, credential, &mut self.draft.imap.reads_with);
            row_findings_ui(ui, findings, Field::ImapReadsWith);
            let imap = &mut self.draft.imap;
            if !through_api {
                text_row_ui(
                    ui,
                    Field::ImapServer.label(),
                    Need::Required,
                    &mut imap.server,
                    "e.g. outlook.office365.com",
                );
                ui.end_row();
                row_findings_ui(ui, findings, Field::ImapServer);
                port_row_ui(ui, Field::ImapPort.label(), &mut self.imap_port_text, &mut imap.port, "993");
                row_findings_ui(ui, findings, Field::ImapPort);
                security_row_ui(ui, Field::ImapSecurity.label(), "imap_security", &mut imap.security);
                row_findings_ui(ui, findings, Field::ImapSecurity);
            }
            text_row_ui(ui, Field::ImapInboxFolder.label(), Need::Required, &mut imap.inbox_folder, "Inbox")
                .on_hover_text("\"Inbox\" is the general default");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapInboxFolder);
            text_row_ui(ui, Field::ImapSentFolder.label(), Need::Required, &mut imap.sent_folder, "Sent")
                .on_hover_text("\"Sent\" is the general default; Test Incoming Settings confirms it with the server");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapSentFolder);
            text_row_ui(
                ui,
                Field::ImapUserName.label(),
                Need::Required,
                &mut imap.user_name,
                "the reply-to mailbox, e.g. replies@company.com",
            )
            .on_hover_text("The reply-to address: where replies from customers are delivered");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserName);
            password_or_sign_in_row_ui(ui, credential, &mut self.imap_password, stored);
            row_findings_ui(ui, findings, Field::ImapPassword);
            text_row_ui(
                ui,
                Field::ImapUserDomain.label(),
                Need::Required,
                &mut imap.user_domain,
                "the user name's domain",
            )
            .on_hover_text("The domain of the User Name; they must match");
            ui.end_row();
            row_findings_ui(ui, findings, Field::ImapUserDomain);
        });
        suggest_domain_ui(
            ui,
            &mut self.draft.imap.user_domain,
            &self.draft.imap.user_name,
            Field::ImapUserDomain.label(),
        );
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
    let label = crate::ui::widgets::field_label_ui(ui, Field::SmtpCredential.label(), Need::Optional);
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

/// "Sends with" / "Reads with": the mail protocol, or the provider's own API where the
/// side's sign-in has one (Microsoft Graph, the Gmail API). Shown only where there is a
/// choice, or a choice to undo; says whether the side goes through an API (its server,
/// port and security rows are then not shown: the API has none to set — the values stay).
fn transport_row_ui(ui: &mut Ui, field: Field, credential: CredentialKind, transport: &mut Transport) -> bool {
    let side = if field == Field::SmtpSendsWith { Protocol::Smtp } else { Protocol::Imap };
    let api = providers::for_credential(credential).and_then(|p| p.api).map(|api| api.transport);
    if api.is_none() && transport.is_protocol() {
        return false;
    }
    let label = crate::ui::widgets::field_label_ui(ui, field.label(), Need::Optional);
    // The protocol, the sign-in's API, and a value from the file that is neither (to undo it).
    let mut choices = vec![Transport::Protocol];
    for choice in [api, Some(*transport)].into_iter().flatten() {
        if !choices.contains(&choice) {
            choices.push(choice);
        }
    }
    egui::ComboBox::from_id_salt(field.config_name())
        .selected_text(transport.label(side))
        .width(240.0)
        .show_ui(ui, |ui| {
            for choice in choices {
                ui.selectable_value(transport, choice, choice.label(side));
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(match side {
            Protocol::Smtp => {
                "Where the organisation switched SMTP AUTH off: send through the provider's API with \
                              the same sign-in (if a test then names a permission missing, press Connect again)"
            }
            Protocol::Imap => {
                "Where IMAP is switched off: read the folders through the provider's API with the \
                              same sign-in (if a test then names a permission missing, press Connect again)"
            }
        });
    ui.end_row();
    !transport.is_protocol()
}

/// The guide's Password row: a masked field for Basic; for OAuth, where the
/// password is typed instead (on the provider's own page, at Connect).
fn password_or_sign_in_row_ui(ui: &mut Ui, credential: CredentialKind, typed: &mut SecretText, stored: Option<bool>) {
    if credential == CredentialKind::Basic {
        password_row_ui(ui, Field::SmtpPassword.label(), Need::Required, typed, stored);
        ui.end_row();
        return;
    }
    crate::ui::widgets::field_label_ui(ui, Field::SmtpPassword.label(), Need::Optional);
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
    let label = crate::ui::widgets::field_label_ui(ui, label, Need::Required);
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
