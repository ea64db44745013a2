//! Watching the mailboxes and what the app reaches out through: the alert channels
//! (the webhook's address to the OS store first), the test alert, the proxy, the
//! support contact, and "Check all now".

use super::{MailSettingsApp, Notice};
use crate::ui::commands::WatchCommand;
use crate::ui::jobs::{AfterSecret, Job, JobInput};

impl MailSettingsApp {
    /// Alerts and the network they (and sign-ins) go through.
    pub(super) fn run_watch_command(&mut self, ctx: &egui::Context, command: WatchCommand) {
        match command {
            WatchCommand::SaveAlerts(alerts, webhook) => self.store_webhook_then_save(ctx, alerts, webhook),
            WatchCommand::SendTestAlert => self.send_test_alert(ctx),
            WatchCommand::CancelTestAlert => {
                if let Some(cancel) = self.health.test_alert.take() {
                    cancel.cancel();
                    self.notice = Some(Notice::info("Test alert cancelled"));
                }
            }
            WatchCommand::SaveNetwork(network, None) => self.save_network(network, false),
            WatchCommand::SaveSupportContact(contact) => {
                let kept = (!contact.is_empty()).then_some(contact);
                let saved = self.workspace.apply("set-support-contact", |config| {
                    config.support.contact = kept;
                    Ok(())
                });
                self.notice = Some(match saved {
                    Ok(()) => Notice::info(format!("Reports now name {}", self.workspace.config().support_contact())),
                    Err(err) => Notice::error(format!("Not saved: {err}")),
                });
            }
            // The password goes to the OS store on a job thread first; the network is saved after.
            WatchCommand::SaveNetwork(network, Some(password)) => {
                let owner = (crate::store::SecretOwner::Proxy, crate::store::SecretKind::ProxyPassword);
                let then = AfterSecret::Network(network);
                self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, Some(password), then);
            }
        }
    }

    pub(super) fn send_test_alert(&mut self, ctx: &egui::Context) {
        if self.health.test_alert.is_none() {
            let cancel = crate::cancel::CancelToken::new();
            let config = self.workspace.config().clone();
            self.jobs.send_test_alert(ctx, config, self.workspace.secrets(), cancel.clone());
            self.health.test_alert = Some(cancel);
        }
    }

    /// The alert channels typed in the Health view: checked, then saved (audited).
    /// A webhook address typed (or removed) goes to the OS store first, on a job
    /// thread; the channels are saved after it, the config holding only its shown form.
    pub(super) fn store_webhook_then_save(
        &mut self,
        ctx: &egui::Context,
        mut alerts: crate::model::AlertsConfig,
        webhook: crate::alerts::WebhookChange,
    ) {
        use crate::alerts::WebhookChange;
        let owner = (crate::store::SecretOwner::Alerts, crate::store::SecretKind::WebhookUrl);
        let address = match webhook {
            WebhookChange::Keep => return self.save_alerts(alerts),
            WebhookChange::Remove => None,
            WebhookChange::Replace(address) => {
                if let Some(problem) = crate::alerts::webhook_problem("Webhook", address.expose()) {
                    self.notice = Some(Notice::error(format!("Alerts not saved: {problem}")));
                    return;
                }
                alerts.webhook = Some(crate::model::AlertsConfig::webhook_shown(address.expose()));
                Some(address)
            }
        };
        if address.is_none() {
            alerts.webhook = None;
        }
        self.jobs.store_secret_then(ctx, self.workspace.secrets(), owner, address, AfterSecret::Alerts(alerts));
    }

    pub(super) fn save_alerts(&mut self, alerts: crate::model::AlertsConfig) {
        let label = |field: &str| {
            match field {
                "webhook" => "Webhook",
                "email" => "Email to",
                _ => "Sent through",
            }
            .to_owned()
        };
        if let Some(problem) = crate::alerts::problem(&alerts, self.workspace.config(), label) {
            self.notice = Some(Notice::error(format!("Alerts not saved: {problem}")));
            return;
        }
        let channels = crate::alerts::describe(&alerts);
        let saved = self.workspace.apply("set-alerts", |config| {
            config.alerts = alerts;
            Ok(())
        });
        self.notice = Some(match saved {
            Ok(()) if channels.is_empty() => Notice::info("Alerts saved: none (nothing will be told)"),
            Ok(()) => Notice::info(format!("Alerts saved: {}", channels.join("; "))),
            Err(err) => Notice::error(format!("Alerts not saved: {err}")),
        });
        self.health.alerts.reset();
    }

    /// The proxy typed in Sign-in apps: checked, saved (audited), in effect from the
    /// next job (each reads it, with its password, on its own thread).
    pub(super) fn save_network(&mut self, network: crate::model::NetworkConfig, password_stored: bool) {
        if let Some(problem) = network.proxy.as_deref().and_then(crate::model::endpoints::proxy_problem) {
            self.notice = Some(Notice::error(
                problem
                    .replace("network set --proxy-password-stdin, or the window's Network", "the Proxy password field"),
            ));
            return;
        }
        let saved = self.workspace.apply("set-network", |config| {
            config.network = network;
            Ok(())
        });
        self.notice = Some(match saved {
            Ok(()) if password_stored => Notice::info(
                "Network saved, its password in the OS credential store: sign-in and token requests take it from now on",
            ),
            Ok(()) => Notice::info("Network saved: sign-in and token requests take it from now on"),
            Err(err) => Notice::error(format!("Not saved: {err}")),
        });
    }

    /// "Check all now": every Active setting, on a job thread like any check.
    pub(super) fn start_check_all(&mut self, ctx: &egui::Context) {
        let config = self.workspace.config();
        let Some(first) = config.mail_settings.iter().find(|s| s.active) else {
            self.notice = Some(Notice::info("No Active mail setting to check"));
            return;
        };
        let input = JobInput::new(first.clone(), config.clone(), self.workspace.secrets().clone())
            .for_subject(crate::ui::jobs::ALL);
        let history_file = crate::store::history::history_path_for(self.workspace.path());
        self.jobs.start(ctx, Job::CheckAll { history_file }, input);
    }
}
