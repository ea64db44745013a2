//! Bringing settings in from another config file and writing them out: what an
//! import adds, replaces and changes in trust (every field of a sign-in app, servers
//! a stored password would go to) — so nothing is trusted unasked — and what an
//! export leaves out (the trash, migrations, secrets, this computer's own alerts
//! and network).

use super::config::{AlertsConfig, Config, GuardError, OAuthProvider};
use super::ids::SettingId;
use super::setting::{MailSetting, is_valid_id};

/// Every field of a sign-in app that an import changes, in words ("revoke_url
/// none → https://…"), the client secret named but never shown; compared with the
/// app as configured (`None`: as built in, unadjusted). Field by field through
/// serde, so a field added later is listed without anyone remembering to.
fn provider_differences(current: Option<&OAuthProvider>, incoming: &OAuthProvider) -> Vec<String> {
    // An empty value is no value: `client_id = ""` and no client_id read the same.
    let is_empty = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.trim().is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        serde_json::Value::Object(map) => map.is_empty(),
        serde_json::Value::Null => true,
        _ => false,
    };
    let fields = |provider: &OAuthProvider| match serde_json::to_value(provider) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.retain(|_, value| !is_empty(value));
            map
        }
        _ => serde_json::Map::new(),
    };
    let before = current.map(fields).unwrap_or_default();
    let after = fields(incoming);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).filter(|name| *name != "id").collect();
    names.sort();
    names.dedup();
    let words = |value: Option<&serde_json::Value>| match value {
        None => "none".to_owned(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| match name.as_str() {
            "client_secret" => "client_secret changed (not shown)".to_owned(),
            _ => format!("{name} {} → {}", words(before.get(name)), words(after.get(name))),
        })
        .collect()
}

/// Whether tokens or the client secret would now go somewhere else, or belong to
/// another app: an endpoint, the client id, the tenant or the redirect host changed.
fn redirects_tokens(current: Option<&OAuthProvider>, incoming: &OAuthProvider) -> bool {
    let default = OAuthProvider::default();
    let current = current.unwrap_or(&default);
    let key = |p: &OAuthProvider| {
        (
            p.authorize_url.trim().to_owned(),
            p.token_url.trim().to_owned(),
            p.revoke_url.clone(),
            p.userinfo_url.clone(),
            p.device_authorization_url.clone(),
            p.api_url.clone(),
            p.client_id.trim().to_owned(),
            p.tenant.clone(),
            p.redirect_host.clone(),
        )
    };
    key(current) != key(incoming)
}

/// What [`Config::import`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub companies_added: Vec<String>,
    pub companies_replaced: Vec<String>,
    /// Changes of trust, listed before they are applied: sign-in apps (with
    /// their endpoints) added or changed, CA files newly trusted, settings whose
    /// servers or sign-in change.
    pub trust_changes: Vec<String>,
    /// Replaced settings whose servers, security, user names or sign-in change: their
    /// stored passwords and tokens are not carried to the new host (the workspace drops them).
    pub secrets_dropped: Vec<SettingId>,
    /// Settings whose sign-in app now sends its tokens elsewhere or is another app
    /// (endpoints, client id, tenant): their stored tokens are dropped (Connect again).
    pub tokens_dropped: Vec<SettingId>,
    /// Sign-in apps whose endpoints or client id change: their stored client secret
    /// is dropped (it would be sent to the new token endpoint).
    pub app_secrets_dropped: Vec<String>,
}

/// What of a setting's sign-in moves between `old` and `new`, in words — anything a
/// stored password or token would be sent to, or sent as (servers, ports, security,
/// user names, the kind of sign-in, its provider or tenant); `None` when nothing does.
fn moved_sign_in(old: &MailSetting, new: &MailSetting) -> Option<String> {
    let side = |name: &str, a: &super::setting::SmtpSettings, b: &super::setting::SmtpSettings| {
        let (from, to) = (
            format!("{}:{} {} as {}", a.server.trim(), a.port, a.security.label(), a.user_name.trim()),
            format!("{}:{} {} as {}", b.server.trim(), b.port, b.security.label(), b.user_name.trim()),
        );
        (!from.eq_ignore_ascii_case(&to) || a.credential != b.credential).then(|| format!("{name} {from} → {to}"))
    };
    let imap = |a: &super::setting::ImapSettings, b: &super::setting::ImapSettings| {
        let (from, to) = (
            format!("{}:{} {} as {}", a.server.trim(), a.port, a.security.label(), a.user_name.trim()),
            format!("{}:{} {} as {}", b.server.trim(), b.port, b.security.label(), b.user_name.trim()),
        );
        (!from.eq_ignore_ascii_case(&to) || a.credential != b.credential).then(|| format!("incoming {from} → {to}"))
    };
    let mut moved: Vec<String> =
        [side("outgoing", &old.smtp, &new.smtp), imap(&old.imap, &new.imap)].into_iter().flatten().collect();
    let words = |value: &Option<String>| value.as_deref().unwrap_or("none").to_owned();
    if old.credential != new.credential {
        moved.push(format!("sign-in {} → {}", old.credential_label(), new.credential_label()));
    }
    if old.oauth_provider != new.oauth_provider {
        moved.push(format!("OAuth2 provider {} → {}", words(&old.oauth_provider), words(&new.oauth_provider)));
    }
    if old.tenant != new.tenant {
        moved.push(format!("tenant {} → {}", words(&old.tenant), words(&new.tenant)));
    }
    if old.delegate != new.delegate {
        moved.push(format!("signed in by {} → {}", words(&old.delegate), words(&new.delegate)));
    }
    (!moved.is_empty()).then(|| moved.join("; "))
}

impl ImportSummary {
    /// One line per change of trust, for the CLI and the window's question.
    pub(crate) fn trust_text(&self) -> String {
        self.trust_changes.iter().map(|c| format!("  - {c}\n")).collect()
    }
}

impl Config {
    /// Adds or replaces settings and companies by id. Replacing a setting that
    /// is a company's default with an inactive copy is refused, like a deactivate.
    pub fn import(&mut self, incoming: Config) -> Result<ImportSummary, GuardError> {
        let mut next = self.clone();
        let mut summary = ImportSummary::default();
        for setting in incoming.mail_settings {
            if !is_valid_id(&setting.id) {
                return Err(GuardError::InvalidId(setting.id.into()));
            }
            if let Some(current) = next.setting(&setting.id) {
                if let Some(moved) = moved_sign_in(current, &setting) {
                    summary.trust_changes.push(format!(
                        "setting \"{}\": {moved}; its stored password and sign-in are not carried over",
                        setting.id
                    ));
                    summary.secrets_dropped.push(setting.id.clone());
                }
                summary.replaced.push(setting.id.clone().into());
                next.update_setting(setting)?;
            } else {
                summary.added.push(setting.id.clone().into());
                next.mail_settings.push(setting);
            }
        }
        for company in incoming.companies {
            if let Some(setting_id) = company.default_mail_setting.as_deref() {
                match next.setting(setting_id) {
                    None => return Err(GuardError::UnknownSetting(setting_id.to_owned())),
                    Some(s) if !s.active => {
                        return Err(GuardError::DefaultMustBeActive {
                            company: if company.name.is_empty() { company.id.clone() } else { company.name.clone() },
                            setting: next.setting_name(setting_id),
                        });
                    }
                    Some(_) => {}
                }
            }
            if let Some(slot) = next.companies.iter_mut().find(|c| c.id == company.id) {
                summary.companies_replaced.push(company.id.clone());
                *slot = company;
            } else {
                summary.companies_added.push(company.id.clone());
                next.companies.push(company);
            }
        }
        for provider in incoming.oauth_providers {
            if let Some(problem) = provider.problems().into_iter().next() {
                return Err(GuardError::InsecureEndpoint(problem));
            }
            let current = next.oauth_providers.iter().find(|p| p.id == provider.id);
            let differences = provider_differences(current, &provider);
            if !differences.is_empty() {
                let verb = if current.is_some() { "changed" } else { "added" };
                summary.trust_changes.push(format!(
                    "sign-in app \"{}\" {verb}: {}",
                    provider.id,
                    differences.join("; ")
                ));
            }
            if redirects_tokens(current, &provider) {
                summary.app_secrets_dropped.push(provider.id.clone());
                let users = next.mail_settings.iter().filter(|s| s.sign_in_app() == Some(provider.id.as_str()));
                for setting in users {
                    if !summary.secrets_dropped.contains(&setting.id) && !summary.tokens_dropped.contains(&setting.id) {
                        summary.tokens_dropped.push(setting.id.clone());
                    }
                }
            }
            if let Some(slot) = next.oauth_providers.iter_mut().find(|p| p.id == provider.id) {
                *slot = provider;
            } else {
                next.oauth_providers.push(provider);
            }
        }
        for ca_file in incoming.tls.extra_ca_files {
            if !next.tls.extra_ca_files.contains(&ca_file) {
                summary.trust_changes.push(format!("CA certificates in {} trusted", ca_file.display()));
                next.tls.extra_ca_files.push(ca_file);
            }
        }
        *self = next;
        Ok(summary)
    }

    /// The config without the trash and migration state: what `export` writes.
    /// Never a client secret either: it is a secret, even where the config still holds one.
    /// Nor this computer's own `[alerts]` and `[network]`: an older file's webhook address
    /// is a bearer secret, and a proxy is the network's, not the settings'.
    pub(crate) fn for_export(&self) -> Config {
        let mut oauth_providers = self.oauth_providers.clone();
        for provider in &mut oauth_providers {
            provider.client_secret = None;
        }
        Config {
            trash: Vec::new(),
            migrations: Vec::new(),
            oauth_providers,
            alerts: AlertsConfig::default(),
            network: super::NetworkConfig::default(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_sign_in_app_lists_every_field_and_only_endpoints_drop_tokens() {
        let app = OAuthProvider {
            id: "corp".into(),
            authorize_url: "https://idp.example.com/authorize".into(),
            token_url: "https://idp.example.com/token".into(),
            client_id: "desk".into(),
            client_secret: Some("s3cret-value".into()),
            ..OAuthProvider::default()
        };
        let mut changed = app.clone();
        changed.userinfo_url = Some("https://collector.example.net/me".into());
        changed.scopes = vec!["openid".into(), "mail".into()];
        changed.authorize_params.insert("prompt".into(), "none".into());
        changed.client_secret = Some("other-value".into());
        let words = provider_differences(Some(&app), &changed);
        assert_eq!(
            words,
            [
                "authorize_params none → {\"prompt\":\"none\"}",
                "client_secret changed (not shown)",
                "scopes none → [\"openid\",\"mail\"]",
                "userinfo_url none → https://collector.example.net/me",
            ]
        );
        assert!(redirects_tokens(Some(&app), &changed), "the access token would go to a new address");
        let mut scopes_only = app.clone();
        scopes_only.scopes = vec!["mail".into()];
        assert!(!redirects_tokens(Some(&app), &scopes_only), "new scopes: asked about, tokens stay");
        assert!(provider_differences(Some(&app), &app).is_empty());
    }
}
