//! The Health view's alerts: where a change of a mailbox's state is told (a
//! webhook, an email through another setting, a command, a desktop
//! notification), saved like every change (audited), and "Send a test alert" to
//! see that they arrive. The fields hold what is typed until saved or reloaded.

use egui::Ui;

use super::commands::{Command, CommandQueue, WatchCommand};
use super::widgets::hinted_input_ui;
use crate::alerts::WebhookChange;
use crate::model::{AlertsConfig, Config};

/// The alerts section and what is typed in it.
#[derive(Debug, Default)]
pub struct AlertsPanel {
    draft: Option<Draft>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    /// A newly typed webhook address (masked: its path is the key); empty keeps the saved one.
    webhook: crate::secret::SecretText,
    /// The saved webhook is to go.
    webhook_removed: bool,
    email: String,
    via: String,
    command: String,
    desktop: bool,
}

impl Draft {
    fn from_config(alerts: &AlertsConfig) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            webhook: crate::secret::SecretText::default(),
            webhook_removed: false,
            email: text(&alerts.email),
            via: text(&alerts.email_via),
            command: text(&alerts.command),
            desktop: alerts.desktop,
        }
    }

    /// The channels to save, and what becomes of the webhook's address (`saved` is the
    /// config's shown form of the one stored).
    fn to_config(&self, saved: Option<&String>) -> (AlertsConfig, WebhookChange) {
        let value = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let email = value(&self.email);
        let typed = self.webhook.trim();
        let webhook = if !typed.is_empty() {
            WebhookChange::Replace(crate::secret::Secret::new(typed))
        } else if self.webhook_removed {
            WebhookChange::Remove
        } else {
            WebhookChange::Keep
        };
        let alerts = AlertsConfig {
            webhook: if self.webhook_removed { None } else { saved.cloned() },
            email_via: email.as_ref().and_then(|_| value(&self.via)),
            email,
            command: value(&self.command),
            desktop: self.desktop,
        };
        (alerts, webhook)
    }
}

impl AlertsPanel {
    /// Forgets what was typed (after a save, an import or a reload).
    pub(crate) fn reset(&mut self) {
        self.draft = None;
    }

    /// `sending`: a test alert is on its way (its Cancel is shown).
    pub fn ui(&mut self, ui: &mut Ui, config: &Config, sending: bool, commands: &mut CommandQueue) {
        let draft = self.draft.get_or_insert_with(|| Draft::from_config(&config.alerts));
        ui.heading("Alerts");
        ui.add(
            egui::Label::new(
                "When a mailbox stops working, works again, or something it needs ends within 14 days, scheduled \
                 checks tell it once on each channel here (never once per check). Alerts name settings by \
                 description and carry no password or token.",
            )
            .wrap(),
        );
        egui::Grid::new("alerts").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            let label = ui.label("Webhook");
            ui.vertical(|ui| {
                // The address's path is the webhook's key: typed masked, saved in the OS store,
                // shown afterwards by scheme and host only.
                let hint = match &config.alerts.webhook {
                    Some(saved) if !draft.webhook_removed => {
                        format!("{} (type a new address to replace it)", AlertsConfig::webhook_shown(saved))
                    }
                    _ => "https://… (a Teams or Slack incoming webhook)".to_owned(),
                };
                let field = egui::TextEdit::singleline(&mut *draft.webhook).password(true).desired_width(360.0);
                hinted_input_ui(ui, field, &hint, &label);
                if config.alerts.webhook.is_some() && !draft.webhook_removed && ui.button("Remove webhook").clicked() {
                    draft.webhook_removed = true;
                }
            });
            ui.end_row();
            let label = ui.label("Email to");
            hinted_input_ui(ui, egui::TextEdit::singleline(&mut draft.email).desired_width(360.0), "you@…", &label);
            ui.end_row();
            let label = ui.label("Sent through");
            let chosen =
                if draft.via.is_empty() { "any working setting".to_owned() } else { config.setting_name(&draft.via) };
            egui::ComboBox::from_id_salt("alerts_via")
                .selected_text(chosen)
                .width(360.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut draft.via, String::new(), "any working setting");
                    for setting in config.mail_settings.iter().filter(|s| s.active) {
                        ui.selectable_value(
                            &mut draft.via,
                            setting.id.clone().into(),
                            config.setting_name(&setting.id),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Command");
            let field = egui::TextEdit::singleline(&mut draft.command).desired_width(360.0);
            hinted_input_ui(ui, field, "run with MAILSETTINGS_ALERT_TEXT set", &label);
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut draft.desktop, "Desktop notification");
            ui.end_row();
        });
        let edited = *draft != Draft::from_config(&config.alerts);
        ui.horizontal(|ui| {
            if ui.add_enabled(edited, egui::Button::new("Save alerts")).clicked() {
                let (alerts, webhook) = draft.to_config(config.alerts.webhook.as_ref());
                commands.send(Command::Watch(WatchCommand::SaveAlerts(alerts, webhook)));
            }
            if sending {
                ui.spinner();
                ui.label("Sending a test alert…");
                if ui.button("Cancel test alert").clicked() {
                    commands.send(Command::Watch(WatchCommand::CancelTestAlert));
                }
            } else {
                let why_not = if config.alerts.is_empty() {
                    Some("Save a channel first")
                } else if edited {
                    Some("Save the changes first: the test goes to the saved channels")
                } else {
                    None
                };
                let button = ui.add_enabled(why_not.is_none(), egui::Button::new("Send a test alert"));
                if let Some(why_not) = why_not {
                    button.on_disabled_hover_text(why_not);
                } else if button.clicked() {
                    commands.send(Command::Watch(WatchCommand::SendTestAlert));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_channels_become_the_config_trimmed_and_without_a_lone_via() {
        let draft = Draft {
            webhook: crate::secret::SecretText::new(" https://hooks.example/services/KEY "),
            webhook_removed: false,
            email: String::new(),
            via: "sender".into(),
            command: String::new(),
            desktop: true,
        };
        let (config, webhook) = draft.to_config(None);
        assert!(
            matches!(&webhook, WebhookChange::Replace(address) if address.expose() == "https://hooks.example/services/KEY"),
            "{webhook:?}"
        );
        assert!(!format!("{draft:?} {webhook:?}").contains("KEY"), "the typed address never prints");
        assert_eq!(config.email_via, None, "no email, no sender");
        assert!(config.desktop && config.command.is_none());
        let saved = AlertsConfig { webhook: Some("https://hooks.example/…".into()), ..config };
        let (again, kept) = Draft::from_config(&saved).to_config(saved.webhook.as_ref());
        assert_eq!(again, saved);
        assert!(matches!(kept, WebhookChange::Keep));
        let removing = Draft { webhook_removed: true, ..Draft::from_config(&saved) };
        let (removed, change) = removing.to_config(saved.webhook.as_ref());
        assert!(removed.webhook.is_none() && matches!(change, WebhookChange::Remove));
    }
}
