//! Sign-in apps: where an admin enters the client id of the app their
//! organisation registered with Microsoft Entra or Google Cloud — with the
//! registration steps written out — so Connect works without editing a file.
//! Connect with no client id opens this view with the missing field focused.

use super::widgets::hinted_input_ui;
use egui::{RichText, Ui};

use super::commands::{Command, CommandQueue, SignInApp, WatchCommand};
use super::theme;
use crate::model::Config;
use crate::model::providers::{self, Provider};
use crate::ui::commands::WindowCommand;

#[derive(Debug, Default)]
pub struct SignInAppsView {
    /// What is typed for each provider (by id), from the config until edited.
    drafts: std::collections::BTreeMap<&'static str, AppDraft>,
    /// The provider whose client id field takes focus on the next frame.
    focus: Option<&'static str>,
    /// The proxy fields as typed (from the config until edited).
    network: Option<(String, String)>,
    /// The proxy's password as typed; cleared once sent to be stored.
    proxy_password: crate::secret::SecretText,
}

#[derive(Debug, Default)]
struct AppDraft {
    client_id: String,
    tenant: String,
    /// Typed for apps that need one (Google desktop apps); cleared once sent to be stored.
    client_secret: crate::secret::SecretText,
}

impl SignInAppsView {
    /// Focus the client id field of `provider` (a catalogue id) on the next frame.
    pub fn focus(&mut self, provider: &'static str) {
        self.focus = Some(provider);
    }

    pub fn ui(&mut self, ui: &mut Ui, config: &Config, read_only: bool, commands: &mut CommandQueue) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.heading("Sign-in apps");
            ui.add(
                egui::Label::new(
                    "Connect signs in through an app your organisation registers once with Microsoft or Google. \
                     Enter its client id here; every Microsoft 365 or Gmail setting then uses it.",
                )
                .wrap(),
            );
            ui.add_space(8.0);
            ui.add_enabled_ui(!read_only, |ui| {
                for (index, provider) in providers::signing_in().enumerate() {
                    if index > 0 {
                        ui.add_space(12.0);
                    }
                    self.provider_ui(ui, provider, config, commands);
                }
                ui.add_space(12.0);
                self.network_ui(ui, config, commands);
            });
        });
    }

    /// The proxy sign-in and token requests go through (a corporate network).
    fn network_ui(&mut self, ui: &mut Ui, config: &Config, commands: &mut CommandQueue) {
        let (proxy, direct) = self.network.get_or_insert_with(|| {
            let network = &config.network;
            (network.proxy.clone().unwrap_or_default(), network.no_proxy.clone().unwrap_or_default())
        });
        group_ui(ui, "Network", |ui| {
            ui.heading("Network");
            ui.add(
                egui::Label::new(
                    "If this computer reaches the internet only through a proxy, sign-in and token requests go \
                     through it. Empty: the system's https_proxy applies.",
                )
                .wrap(),
            );
            egui::Grid::new("network").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
                let label = ui.label("Proxy");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(proxy).desired_width(320.0),
                    "http://proxy.corp.example:3128",
                    &label,
                );
                ui.end_row();
                let label = ui.label("Reach directly");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(direct).desired_width(320.0),
                    ".corp.example, 10.0.0.5",
                    &label,
                );
                ui.end_row();
                let label = ui.label("Proxy password");
                hinted_input_ui(
                    ui,
                    egui::TextEdit::singleline(&mut *self.proxy_password).password(true).desired_width(320.0),
                    "only if it asks: name@ in the address, the password here",
                    &label,
                );
                ui.end_row();
            });
            if ui.button("Save network").clicked() {
                let password =
                    (!self.proxy_password.is_empty()).then(|| crate::secret::Secret::new(self.proxy_password.as_str()));
                self.proxy_password = crate::secret::SecretText::default();
                let network = crate::model::NetworkConfig {
                    proxy: Some(proxy.trim().to_owned()).filter(|p| !p.is_empty()),
                    no_proxy: Some(direct.trim().to_owned()).filter(|d| !d.is_empty()),
                };
                commands.send(Command::Watch(WatchCommand::SaveNetwork(network, password)));
            }
        });
    }

    /// One provider's app: its steps, its client id (and tenant), Save.
    fn provider_ui(&mut self, ui: &mut Ui, provider: &'static Provider, config: &Config, commands: &mut CommandQueue) {
        let Some(sign_in) = provider.sign_in else { return };
        let saved = config.oauth_provider(provider.id);
        let draft = self.drafts.entry(provider.id).or_insert_with(|| AppDraft {
            client_id: saved.map(|p| p.client_id.clone()).unwrap_or_default(),
            tenant: saved.and_then(|p| p.tenant.clone()).unwrap_or_default(),
            client_secret: crate::secret::SecretText::default(),
        });
        let focus = self.focus.take_if(|p| *p == provider.id).is_some();
        group_ui(ui, provider.label, |ui| {
            header_ui(ui, provider, saved, commands);
            let check =
                (!draft.client_id.trim().is_empty()).then(|| providers::check_client_id(provider.id, &draft.client_id));
            egui::Grid::new(("sign_in_app", provider.id)).num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
                let (label, example) = (sign_in.client_id_label, sign_in.client_id_hint);
                client_id_field_ui(ui, label, &mut draft.client_id, example, focus);
                ui.end_row();
                if sign_in.needs_client_secret {
                    let label = ui.label("Client secret");
                    hinted_input_ui(
                        ui,
                        egui::TextEdit::singleline(&mut *draft.client_secret).password(true).desired_width(380.0),
                        "kept in the OS credential store, never in the file — type to set or replace",
                        &label,
                    );
                    ui.end_row();
                }
                if sign_in.has_tenant {
                    let label = ui.label("Tenant");
                    hinted_input_ui(
                        ui,
                        egui::TextEdit::singleline(&mut draft.tenant).desired_width(380.0),
                        "organizations, or your tenant id or domain",
                        &label,
                    )
                    .on_hover_text("Used by settings that name no tenant of their own");
                    ui.end_row();
                }
            });
            if let Some(Err(err)) = &check {
                ui.add(egui::Label::new(RichText::new(err.to_string()).color(theme::error_color(ui.visuals()))).wrap());
            }
            let valid = matches!(check, Some(Ok(())));
            if ui.add_enabled(valid, egui::Button::new(format!("Save {} app", provider.name))).clicked() {
                commands.send(Command::SaveSignInApp(SignInApp {
                    provider: provider.id.to_owned(),
                    client_id: draft.client_id.trim().to_owned(),
                    tenant: sign_in.has_tenant.then(|| draft.tenant.trim().to_owned()),
                    client_secret: (!draft.client_secret.is_empty())
                        .then(|| crate::secret::Secret::new(draft.client_secret.as_str())),
                }));
                draft.client_secret = crate::secret::SecretText::default();
            }
            if !sign_in.app_scopes.is_empty() {
                app_only_steps_ui(ui, draft.client_id.trim(), config, commands);
            }
        });
    }
}

/// A bordered section, named in the accessibility tree.
fn group_ui(ui: &mut Ui, title: &str, add_contents: impl FnOnce(&mut Ui)) {
    egui::Frame::group(ui.style()).inner_margin(10.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let builder =
            egui::UiBuilder::new().accessibility_label(title).accessibility_role(egui::accesskit::Role::Group);
        ui.scope_builder(builder, add_contents);
    });
}

/// A provider's heading, whether it is set up, and the registration steps
/// (open while it is not set up).
fn header_ui(
    ui: &mut Ui,
    provider: &Provider,
    saved: Option<&crate::model::OAuthProvider>,
    commands: &mut CommandQueue,
) {
    ui.label(RichText::new(provider.label).heading());
    let saved = saved.map(|p| p.client_id.trim()).filter(|c| !c.is_empty());
    status_ui(ui, saved, provider.id);
    steps_ui(ui, provider, saved.is_none(), commands);
}

/// The labelled client id input; `focus` puts the cursor in it (Connect sent the admin here).
fn client_id_field_ui(ui: &mut Ui, label: &str, client_id: &mut String, example: &str, focus: bool) {
    let label = ui.label(label);
    let field = hinted_input_ui(ui, egui::TextEdit::singleline(client_id).desired_width(400.0), example, &label);
    if focus {
        field.request_focus();
    }
}

fn status_ui(ui: &mut Ui, saved: Option<&str>, id: &str) {
    let text = match (saved, crate::model::providers::embedded_client_id(id)) {
        (Some(client), _) => format!("Set up: client id {client}"),
        (None, Some(client)) => format!("Using the app built into this copy ({client}); enter yours to replace it"),
        (None, None) => "Not set up yet: Connect needs a client id".to_owned(),
    };
    let color = if saved.is_some() { theme::pass_color(ui.visuals()) } else { theme::warning_color(ui.visuals()) };
    ui.label(RichText::new(text).color(color).strong());
}

/// The registration steps, written out (open while the app is not set up), and the
/// same as a message for the organisation's IT administrator, one click to copy.
fn steps_ui(ui: &mut Ui, provider: &Provider, open: bool, commands: &mut CommandQueue) {
    let steps = provider.sign_in.map_or(&[][..], |s| s.registration_steps);
    let header = egui::CollapsingHeader::new("How to register the app").id_salt(("steps", provider.id));
    header.default_open(open).show(ui, |ui| {
        ui.add(
            egui::Label::new(
                "Your organisation's IT administrator does this once; send them the message below during the call.",
            )
            .wrap(),
        );
        for (number, step) in steps.iter().enumerate() {
            ui.add(egui::Label::new(format!("{}. {step}", number + 1)).wrap());
        }
        if let Some(message) = crate::oauth::provider::registration_request(provider)
            && ui.button(format!("Copy message for your IT administrator ({})", provider.name)).clicked()
        {
            commands.send(Command::Window(WindowCommand::CopyText(message)));
        }
    });
}

/// App-only access (an unattended automation, no person's sign-in): the Entra and
/// Exchange Online steps with this organisation's ids filled in, ready to copy.
fn app_only_steps_ui(ui: &mut Ui, client_id: &str, config: &Config, commands: &mut CommandQueue) {
    egui::CollapsingHeader::new("App-only access, for an unattended automation").id_salt("app_only_steps").show(ui, |ui| {
        let app = if client_id.is_empty() { "<Application (client) ID>" } else { client_id };
        // The first app-only setting's mailbox (read) and send-as address (send), else placeholders.
        let setting = config.mail_settings.iter().find(|s| s.oauth_flow == crate::model::OAuthFlow::App);
        let or = |value: Option<&str>, placeholder: &'static str| -> String {
            value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(placeholder).to_owned()
        };
        let mailbox = or(setting.map(|s| s.imap.user_name.as_str()), "<mailbox address>");
        let sender = or(setting.map(|s| s.smtp.send_as.as_str()), "<send-as address>");
        for (number, step) in [
            "In the app registration: API permissions > Add a permission > APIs my organization uses > Office 365 \
             Exchange Online > Application permissions: IMAP.AccessAsApp and SMTP.SendAsApp. Grant admin consent.",
            "Certificates & secrets: upload a certificate (recommended; make one with openssl req -x509 -newkey \
             rsa:2048 -nodes -days 730 -subj /CN=mailsettings -keyout app.key -out app.pem) and store it with its \
             key: mailsettings oauth-app set microsoft365 --client-id <id> --certificate app.pem --private-key \
             app.key, then delete app.key. Or make a New client secret and store it (never in a file) with \
             --client-secret-stdin.",
            "In Exchange Online PowerShell, register the app and give it the mailbox (commands below, with your ids).",
            "In the setting, choose Access: app-only access, then Check app access.",
        ]
        .iter()
        .enumerate()
        {
            ui.add(egui::Label::new(format!("{}. {step}", number + 1)).wrap());
        }
        let commands_text = format!(
            "New-ServicePrincipal -AppId {app} -ObjectId <Enterprise application object ID>\n\
             Add-MailboxPermission -Identity {mailbox} -User <Enterprise application object ID> -AccessRights FullAccess\n\
             Add-RecipientPermission -Identity {sender} -Trustee <Enterprise application object ID> -AccessRights SendAs"
        );
        ui.add(egui::Label::new(RichText::new(&commands_text).strong()).wrap());
        if ui.button("Copy the PowerShell commands").clicked() {
            commands.send(Command::Window(WindowCommand::CopyText(commands_text)));
        }
    });
}
