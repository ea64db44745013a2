//! The small sections of the config file that are the admin's preferences rather
//! than mail settings: `[support]`, `[network]`, `[alerts]`.

use serde::{Deserialize, Serialize};

/// `[support]`: who helps when a failure is not the admin's to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SupportConfig {
    /// How to reach support (an address, a phone number, a portal), in the admin's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// `[network]`: how sign-in and token requests reach the providers. Unset, the
/// environment's `https_proxy` / `all_proxy` and `no_proxy` apply (as curl reads them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NetworkConfig {
    /// An HTTP proxy, e.g. `http://proxy.corp.example:3128` (no password here: a proxy
    /// that asks for one takes it from the environment's proxy address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Hosts reached without the proxy, comma-separated (`.corp.example`, `10.0.0.5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
}

impl NetworkConfig {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `[alerts]`: where a change of a mailbox's state is told (`check --all --alert`,
/// as the schedule runs it). Never carried in by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AlertsConfig {
    /// Where the webhook goes, as shown (`https://hooks.slack.com/…`: scheme and host).
    /// The address itself — an https address (loopback http allowed) that gets a small
    /// JSON document (`{"text": …}`, as Teams and Slack incoming webhooks take it) — is a
    /// bearer secret and lives in the OS credential store. A file written before that
    /// holds the whole address here; it is still used, and moved at the next save.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The admin's address for an alert email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The setting the alert email is sent through (else the first working one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_via: Option<String>,
    /// A command run with the alert in its environment (`MAILSETTINGS_ALERT_TEXT` …) and as
    /// JSON on its standard input (see `alerts::command` for how each OS starts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A desktop notification (the OS's own: D-Bus notifications on Linux).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub desktop: bool,
}

impl AlertsConfig {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The webhook address as the config and the screen show it: scheme and host, the
    /// path (which holds the key) left out.
    pub(crate) fn webhook_shown(address: &str) -> String {
        match url::Url::parse(address.trim()) {
            Ok(url) => format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or_default()),
            Err(_) => "(an address that is not a web address)".to_owned(),
        }
    }

    /// Whether the config's `webhook` is only the shown form (the address is in the
    /// credential store), not a whole address from an older file.
    pub(crate) fn webhook_is_shown_form(&self) -> bool {
        self.webhook.as_deref().is_some_and(|w| w.ends_with("/…"))
    }
}

impl SupportConfig {
    pub fn is_empty(&self) -> bool {
        self.contact.is_none()
    }
}
