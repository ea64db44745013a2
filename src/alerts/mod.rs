//! Alerts when a mailbox's state changes — never one per run. `check --all --alert`
//! compares each setting's new state with the last one an alert told (not with the
//! check history, which checks by hand also write — they must not silence an alert):
//! working → failing, failing → working, or a date that ends something coming within
//! 14 days. A temporary failure is no change (no alert storm while the network is
//! down). A change that reached no channel is told again on the next run. Each
//! change goes to every configured channel: a webhook (a small JSON
//! document, as Teams and Slack incoming webhooks take it), an email through another
//! working setting, a command, a desktop notification. Alerts name settings by
//! description and carry no secret: reasons come from redacted reports.

mod command;

use std::collections::HashMap;

use serde::Serialize;

use crate::cancel::CancelToken;
use crate::health::{Health, SettingHealth};
use crate::model::{AlertsConfig, Config};
use crate::store::Secrets;
use crate::store::told::ToldStates;

/// Why an alert did not reach a channel. Every message names the channel and, for the
/// webhook, its scheme and host only (its path is its key).
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(
        "the address of the webhook {shown} is not in this computer's credential store: set it again \
         (mailsettings alerts set --webhook, or the Health view's Webhook)"
    )]
    WebhookNotStored { shown: String },
    /// The webhook's address cannot be used as it is (not https elsewhere than this computer).
    #[error("{0}")]
    WebhookRefused(String),
    #[error("the webhook {shown} answered HTTP {status}")]
    WebhookStatus { shown: String, status: u16 },
    #[error("the webhook {shown} could not be reached: {reason}")]
    WebhookUnreachable { shown: String, reason: String },
    #[error(transparent)]
    Command(#[from] command::CommandError),
    #[error("no other Active mail setting to send the alert email through")]
    NoSender,
    #[error("the alert email was not sent: {0}")]
    EmailNotSent(String),
    #[error("desktop notifications are sent on Linux only for now")]
    DesktopUnsupported,
    #[error("no desktop session bus: {0}")]
    NoSessionBus(String),
    #[error("the desktop notification was not shown: {0}")]
    NotShown(String),
    #[error(transparent)]
    SecretStore(#[from] crate::store::SecretStoreError),
    #[error(transparent)]
    Trust(#[from] crate::tls::TrustError),
}

/// What a save does with the webhook's address (kept in the OS credential store; the
/// config holds only its scheme and host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookChange {
    /// As it is.
    Keep,
    /// A newly typed address.
    Replace(crate::secret::Secret),
    /// No webhook any more.
    Remove,
}

/// Why `address` cannot be the webhook, naming it only by scheme and host.
pub(crate) fn webhook_problem(what: &str, address: &str) -> Option<String> {
    let problem = crate::model::endpoints::endpoint_problem(what, address)?;
    Some(problem.replace(address.trim(), &AlertsConfig::webhook_shown(address)))
}

/// The webhook's address: from the OS credential store, or a whole address an older
/// config file still holds. `None` when no webhook is set.
fn webhook_address(alerts: &AlertsConfig, secrets: &Secrets) -> Option<Result<crate::secret::Secret, AlertError>> {
    let shown = alerts.webhook.as_deref().filter(|w| !w.trim().is_empty())?;
    if !alerts.webhook_is_shown_form() {
        return Some(Ok(crate::secret::Secret::new(shown.trim())));
    }
    Some(match secrets.get(crate::store::SecretOwner::Alerts, crate::store::SecretKind::WebhookUrl) {
        Ok(Some(address)) => Ok(address),
        Ok(None) => Err(AlertError::WebhookNotStored { shown: shown.to_owned() }),
        Err(err) => Err(err.into()),
    })
}

/// A mailbox whose state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub setting: String,
    pub name: String,
    /// `ok`, `attention` or `failing` (the kept state before; `None` on the first check).
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    /// What to do about a failure, and who does it, when the diagnosis knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// When the state before began (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<crate::clock::Timestamp>,
    /// The alert in one line.
    pub text: String,
}

/// The state classes alerts follow; a temporary failure keeps the state before.
fn class(health: Health) -> Option<&'static str> {
    match health {
        Health::Ok => Some("ok"),
        Health::Attention => Some("attention"),
        Health::Failing => Some("failing"),
        Health::Temporary => None,
    }
}

/// The changes between what was last told and these results.
pub fn changes(told: &ToldStates, results: &[SettingHealth]) -> Vec<Change> {
    results
        .iter()
        .filter_map(|result| {
            let to = class(result.health)?;
            let before = told.get(&result.id);
            let from = before.map(|t| t.state.as_str());
            // The first check alerts only on what is not well.
            if from.unwrap_or("ok") == to {
                return None;
            }
            let since = before.map(|t| t.since);
            let was = match (from, &since) {
                (Some(from), Some(since)) => format!(" (was {from} since {since})"),
                _ => String::new(),
            };
            let next = result.next_step.as_ref().filter(|_| to == "failing");
            let next_words = next.map(|step| format!(" Next: {step}")).unwrap_or_default();
            let text = match to {
                "failing" => {
                    format!("Mail Settings: \"{}\" stopped working: {}{was}{next_words}", result.name, result.reason)
                }
                "attention" => format!("Mail Settings: \"{}\" needs attention: {}", result.name, result.reason),
                _ => format!("Mail Settings: \"{}\" works again{was}", result.name),
            };
            Some(Change {
                setting: result.id.clone(),
                name: result.name.clone(),
                from: from.map(str::to_owned),
                to: to.to_owned(),
                reason: result.reason.clone(),
                next_step: next.cloned(),
                since,
                text,
            })
        })
        .collect()
}

/// Tells each change on every channel and records, in `told`, each one that at least
/// one channel delivered (the rest are told again next time); a setting seen for
/// the first time and well is recorded as well without telling. What each channel
/// came to, per change.
pub(crate) fn tell_changes(
    told: &mut ToldStates,
    results: &[SettingHealth],
    config: &Config,
    secrets: &Secrets,
    cancel: &CancelToken,
) -> Vec<(Change, Vec<Told>)> {
    let changes = changes(told, results);
    for result in results {
        if told.get(&result.id).is_none() && class(result.health) == Some("ok") {
            told.record(&result.id, "ok");
        }
    }
    told.settings.retain(|id, _| config.setting(id).is_some());
    changes
        .into_iter()
        .map(|change| {
            let outcomes = tell(&change, config, secrets, cancel);
            if outcomes.iter().any(|t| t.result.is_ok()) {
                told.record(&change.setting, &change.to);
            }
            (change, outcomes)
        })
        .collect()
}

/// What telling one change on one channel came to.
#[derive(Debug)]
pub struct Told {
    pub channel: &'static str,
    pub result: Result<(), AlertError>,
}

impl Told {
    /// "webhook: sent", or the channel and why not — printable, as the CLI and the window show it.
    pub fn words(&self) -> String {
        match &self.result {
            Ok(()) => format!("{}: sent", self.channel),
            Err(reason) => crate::printable::printable(&format!("{}: {reason}", self.channel)),
        }
    }
}

/// Tells `change` on every channel `config` names.
pub(crate) fn tell(change: &Change, config: &Config, secrets: &Secrets, cancel: &CancelToken) -> Vec<Told> {
    let alerts = &config.alerts;
    let mut told = Vec::new();
    if let Some(address) = webhook_address(alerts, secrets) {
        let result = address.and_then(|address| webhook(address.expose(), change, config, secrets));
        told.push(Told { channel: "webhook", result });
    }
    if let Some(command) = alerts.command.as_deref().filter(|c| !c.trim().is_empty()) {
        told.push(Told { channel: "command", result: run_command(command, change) });
    }
    if let Some(to) = alerts.email.as_deref().filter(|a| !a.trim().is_empty()) {
        told.push(Told { channel: "email", result: email(to, change, config, secrets, cancel) });
    }
    if alerts.desktop {
        told.push(Told { channel: "desktop", result: desktop(change) });
    }
    told
}

/// The alert "Send a test alert" and `alerts test` send: it says where alerts arrive.
pub(crate) fn test_change() -> Change {
    Change {
        setting: "test".to_owned(),
        name: "Test alert".to_owned(),
        from: None,
        to: "ok".to_owned(),
        reason: "a test from Mail Settings".to_owned(),
        next_step: None,
        since: None,
        text: "Mail Settings: this is a test alert; alerts reach you here".to_owned(),
    }
}

/// What is wrong with channels about to be saved (`what` names each field as the
/// caller shows it: a CLI flag or a form label), before anything is saved.
pub fn problem(alerts: &AlertsConfig, config: &Config, what: impl Fn(&str) -> String) -> Option<String> {
    if let Some(problem) = alerts
        .webhook
        .as_deref()
        .filter(|_| !alerts.webhook_is_shown_form())
        .and_then(|url| webhook_problem(&what("webhook"), url))
    {
        return Some(problem);
    }
    if let Some(address) = alerts.email.as_deref().filter(|a| !crate::model::validate::is_well_formed_address(a.trim()))
    {
        return Some(format!("{} \"{address}\" is not an e-mail address", what("email")));
    }
    if let Some(problem) = alerts.command.as_deref().and_then(command::problem) {
        return Some(format!("{}: {problem}", what("command")));
    }
    if let Some(id) = alerts.email_via.as_deref().filter(|id| config.setting(id).is_none()) {
        return Some(format!("{}: there is no mail setting with id \"{id}\"", what("via")));
    }
    None
}

/// Every channel `alerts` names, in words ("webhook https://…, email ar@…").
pub(crate) fn describe(alerts: &AlertsConfig) -> Vec<String> {
    let mut channels = Vec::new();
    if let Some(url) = &alerts.webhook {
        channels.push(format!("webhook {}", AlertsConfig::webhook_shown(url)));
    }
    if let Some(to) = &alerts.email {
        let via = alerts.email_via.as_deref().map_or_else(String::new, |via| format!(" (sent through {via})"));
        channels.push(format!("email to {to}{via}"));
    }
    if let Some(command) = &alerts.command {
        channels.push(format!("command {command}"));
    }
    if alerts.desktop {
        channels.push("desktop notification".to_owned());
    }
    channels
}

/// Posts the alert to the webhook, through the proxy in effect as every HTTP request
/// of the app goes; the address (its path is the key) never in the words of a failure.
fn webhook(url: &str, change: &Change, config: &Config, secrets: &Secrets) -> Result<(), AlertError> {
    if let Some(problem) = webhook_problem("the alert webhook", url) {
        return Err(AlertError::WebhookRefused(problem));
    }
    let tls = crate::tls::client_config(&config.tls.extra_ca_files)?;
    let route = crate::oauth::http::route_for(&config.network, secrets);
    let http = crate::oauth::http::TokenHttp::new(tls, std::time::Duration::from_secs(10), &route);
    let body = serde_json::json!({ "text": change.text, "mailsettings": change });
    let shown = AlertsConfig::webhook_shown(url);
    match http.post_json(url.trim(), &body.to_string()) {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(status) => Err(AlertError::WebhookStatus { shown, status }),
        Err(reason) => {
            Err(AlertError::WebhookUnreachable { reason: reason.to_string().replace(url.trim(), &shown), shown })
        }
    }
}

fn run_command(command: &str, change: &Change) -> Result<(), AlertError> {
    let variables = [
        ("MAILSETTINGS_ALERT_TEXT", change.text.as_str()),
        ("MAILSETTINGS_ALERT_SETTING", change.setting.as_str()),
        ("MAILSETTINGS_ALERT_NAME", change.name.as_str()),
        ("MAILSETTINGS_ALERT_STATE", change.to.as_str()),
        ("MAILSETTINGS_ALERT_REASON", change.reason.as_str()),
        ("MAILSETTINGS_ALERT_NEXT_STEP", change.next_step.as_deref().unwrap_or_default()),
    ];
    let json = serde_json::json!({ "text": change.text, "mailsettings": change }).to_string();
    Ok(command::run(command, &variables, &json)?)
}

/// The alert as an email, sent through `email_via` or else the first Active setting
/// that is not the one the alert is about.
fn email(
    to: &str,
    change: &Change,
    config: &Config,
    secrets: &Secrets,
    cancel: &CancelToken,
) -> Result<(), AlertError> {
    let via = config
        .alerts
        .email_via
        .as_deref()
        .and_then(|id| config.setting(id))
        .or_else(|| config.mail_settings.iter().find(|s| s.active && s.id != change.setting))
        .ok_or(AlertError::NoSender)?;
    let from = via.smtp.send_as.trim();
    let date =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
    // The subject says what happened; what to do is in the body.
    let subject = change.text.split(" Next: ").next().unwrap_or_default().replace(['\r', '\n'], " ");
    let next = change.next_step.as_ref().map(|step| format!("What to do: {step}\r\n")).unwrap_or_default();
    let message = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nX-Mailsettings-Alert: {}\r\n\r\n{}\r\n\r\nReason: {}\r\n{next}",
        change.setting, change.text, change.reason
    );
    let report =
        crate::checks::deliver(via, config, secrets, (from, &[to.trim().to_owned()]), &mut message.as_bytes(), cancel)
            .map_err(|err| match err {
                crate::checks::CheckError::Trust(err) => AlertError::Trust(err),
                crate::checks::CheckError::Secrets(err) => AlertError::SecretStore(err),
            })?;
    if report.passed { Ok(()) } else { Err(AlertError::EmailNotSent(report.failure_summary())) }
}

/// A desktop notification through the session bus (org.freedesktop.Notifications).
fn desktop(change: &Change) -> Result<(), AlertError> {
    if !cfg!(target_os = "linux") {
        return Err(AlertError::DesktopUnsupported);
    }
    let connection = zbus::blocking::Connection::session().map_err(|e| AlertError::NoSessionBus(e.to_string()))?;
    let hints: HashMap<&str, zbus::zvariant::Value<'_>> = HashMap::new();
    let summary = format!("Mail Settings: {}", change.name);
    // The body is markup to servers with "body-markup" (dunst, GNOME): a description
    // or a server's reply holding `<b>` or `&` is shown as written, not interpreted.
    let urgency_body = markup_escaped(change.text.trim_start_matches("Mail Settings: "));
    connection
        .call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &("Mail Settings", 0_u32, "", summary.as_str(), urgency_body.as_str(), Vec::<&str>::new(), hints, -1_i32),
        )
        .map(|_| ())
        .map_err(|e| AlertError::NotShown(e.to_string()))
}

/// `text` safe inside notification markup (the spec's subset of XML): `&`, `<`, `>` escaped.
fn markup_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_body_shows_markup_as_text() {
        assert_eq!(
            markup_escaped("\"R&D <b>AR</b>\" stopped working: 535 <x@y>"),
            "\"R&amp;D &lt;b&gt;AR&lt;/b&gt;\" stopped working: 535 &lt;x@y&gt;"
        );
    }

    fn result(id: &str, health: Health) -> SettingHealth {
        SettingHealth {
            id: id.into(),
            name: format!("Setting {id}"),
            health,
            reason: if health == Health::Ok { String::new() } else { "the server refused the password".into() },
            ends: Vec::new(),
            incoming_passed: health == Health::Ok,
            outgoing_passed: None,
            next_step: (health != Health::Ok).then(|| "type the new password (you)".into()),
            reports: Vec::new(),
        }
    }

    fn told(states: &[(&str, &str)]) -> ToldStates {
        let mut told = ToldStates::default();
        for (id, state) in states {
            told.settings.insert(
                (*id).to_owned(),
                crate::store::told::ToldState {
                    state: (*state).to_owned(),
                    since: "2026-12-03T08:00:00Z".parse().unwrap(),
                },
            );
        }
        told
    }

    #[test]
    fn one_alert_per_change_never_one_per_run_and_none_for_temporary() {
        // First check: only what is not well.
        let first = changes(&ToldStates::default(), &[result("a", Health::Ok), result("b", Health::Failing)]);
        assert_eq!(first.iter().map(|c| c.setting.as_str()).collect::<Vec<_>>(), ["b"]);
        let history = told(&[("a", "ok"), ("b", "failing")]);
        // The same states again: nothing.
        assert!(changes(&history, &[result("a", Health::Ok), result("b", Health::Failing)]).is_empty());
        // The network down: temporary is no change.
        assert!(changes(&history, &[result("a", Health::Temporary)]).is_empty());
        // a breaks, b recovers: one alert each, b's saying since when it failed.
        let both = changes(&history, &[result("a", Health::Failing), result("b", Health::Ok)]);
        assert_eq!(both.len(), 2);
        assert!(
            both[0].text.contains("\"Setting a\" stopped working: the server refused")
                && both[0].text.contains("was ok since")
                && both[0].text.ends_with(" Next: type the new password (you)")
        );
        assert_eq!(both[0].next_step.as_deref(), Some("type the new password (you)"));
        assert_eq!(both[1].next_step, None, "a recovery has nothing to do");
        assert_eq!(both[1].text, "Mail Settings: \"Setting b\" works again (was failing since 2026-12-03T08:00:00Z)");
    }
}
