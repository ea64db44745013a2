//! The audit log: every change to mail settings and company defaults, as JSON
//! lines beside the config file (`audit.jsonl`) — time, OS user, action,
//! setting, before and after. Never a secret: the config holds none, and a
//! password change is logged as "set-password" without its value.

use crate::clock::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Config, MailSetting};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time: Timestamp,
    pub user: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// A sign-in app (`[[oauth_provider]]` id) that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Trusted CA files, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

pub fn audit_path_for(config_path: &Path) -> PathBuf {
    config_path.with_file_name("audit.jsonl")
}

/// The OS user running the app (for "who changed it"), from the OS's own user
/// database, not from environment variables anyone can set.
pub(crate) fn os_user() -> String {
    whoami::fallible::username()
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            ["USER", "USERNAME", "LOGNAME"].iter().find_map(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn entry(
    action: &str,
    setting: Option<&str>,
    company: Option<&str>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    AuditEntry {
        time: crate::clock::Timestamp::now(),
        user: os_user(),
        action: action.to_owned(),
        setting: setting.map(str::to_owned),
        company: company.map(str::to_owned),
        provider: None,
        trust: None,
        before,
        after,
    }
}

fn json(setting: &MailSetting) -> Option<serde_json::Value> {
    serde_json::to_value(setting).ok()
}

/// The entries that describe going from `before` to `after`, with `action`
/// naming what the admin did (e.g. "save", "delete", "migrate-switch-defaults").
pub fn diff(action: &str, before: &Config, after: &Config) -> Vec<AuditEntry> {
    let mut entries = Vec::new();
    for old in &before.mail_settings {
        match after.setting(&old.id) {
            None => entries.push(entry(&format!("{action}: setting removed"), Some(&old.id), None, json(old), None)),
            Some(new) if new != old => {
                entries.push(entry(&format!("{action}: setting changed"), Some(&old.id), None, json(old), json(new)));
            }
            Some(_) => {}
        }
    }
    for new in after.mail_settings.iter().filter(|s| before.setting(&s.id).is_none()) {
        entries.push(entry(&format!("{action}: setting added"), Some(&new.id), None, None, json(new)));
    }
    for company in &after.companies {
        let was = before.company(&company.id);
        let old_default = was.and_then(|c| c.default_mail_setting.clone());
        if was.is_none() {
            entries.push(entry(
                &format!("{action}: company added"),
                None,
                Some(&company.id),
                None,
                serde_json::to_value(company).ok(),
            ));
        } else if old_default != company.default_mail_setting {
            entries.push(entry(
                &format!("{action}: default changed"),
                company.default_mail_setting.as_deref(),
                Some(&company.id),
                old_default.map(|id| serde_json::Value::String(id.into())),
                company.default_mail_setting.clone().map(|id| serde_json::Value::String(id.into())),
            ));
        }
    }
    diff_trust(action, before, after, &mut entries);
    if before.alerts != after.alerts {
        // The webhook as shown (scheme and host): an older file's whole address is a secret.
        let shown = |alerts: &crate::model::AlertsConfig| {
            let mut alerts = alerts.clone();
            alerts.webhook = alerts.webhook.as_deref().map(crate::model::AlertsConfig::webhook_shown);
            serde_json::to_value(alerts).ok()
        };
        entries.push(entry(&format!("{action}: alerts"), None, None, shown(&before.alerts), shown(&after.alerts)));
    }
    if before.network != after.network {
        let shown = |network: &crate::model::NetworkConfig| {
            let mut network = network.clone();
            network.proxy = network.proxy.as_deref().map(crate::secret::without_userinfo);
            serde_json::to_value(network).ok()
        };
        entries.push(entry(&format!("{action}: network"), None, None, shown(&before.network), shown(&after.network)));
    }
    if before.support != after.support {
        let value = |support: &crate::model::SupportConfig| support.contact.clone().map(serde_json::Value::String);
        entries.push(entry(
            &format!("{action}: support contact"),
            None,
            None,
            value(&before.support),
            value(&after.support),
        ));
    }
    entries
}

/// Changes of trust — sign-in apps (OAuth providers) and CA files — are
/// audited like settings. A provider's client secret never enters the log.
fn diff_trust(action: &str, before: &Config, after: &Config, entries: &mut Vec<AuditEntry>) {
    let shown = |p: &crate::model::OAuthProvider| {
        let mut p = p.clone();
        p.client_secret = p.client_secret.map(|_| "(stored)".to_owned());
        serde_json::to_value(p).ok()
    };
    let ids: std::collections::BTreeSet<&str> =
        before.oauth_providers.iter().chain(&after.oauth_providers).map(|p| p.id.as_str()).collect();
    for id in ids {
        let (old, new) = (before.oauth_provider(id), after.oauth_provider(id));
        let what = match (old, new) {
            (None, Some(_)) => "sign-in app added",
            (Some(_), None) => "sign-in app removed",
            (Some(o), Some(n)) if o != n => "sign-in app changed",
            _ => continue,
        };
        let mut e = entry(&format!("{action}: {what}"), None, None, old.and_then(shown), new.and_then(shown));
        e.provider = Some(id.to_owned());
        entries.push(e);
    }
    if before.tls.extra_ca_files != after.tls.extra_ca_files {
        let files = |c: &Config| serde_json::to_value(&c.tls.extra_ca_files).ok();
        let mut e = entry(&format!("{action}: trusted CA files changed"), None, None, files(before), files(after));
        e.trust = Some("extra_ca_files".to_owned());
        entries.push(e);
    }
}

/// An entry for an event that is not a config change (password set, Connect…).
pub fn event(action: &str, setting: &str) -> AuditEntry {
    entry(action, Some(setting), None, None, None)
}

/// Appends entries; a failure is logged, never fatal (the change itself is saved).
pub fn append(path: &Path, entries: &[AuditEntry]) {
    if entries.is_empty() {
        return;
    }
    let written = crate::folders::open_private_append(path).and_then(|mut file| {
        // One appender at a time (the window and the CLI may both write): what looks
        // torn below is then never another process's line still being written.
        file.lock()?;
        // A process killed mid-append can leave a torn last line: drop it, so the log
        // is whole JSON lines again and the first entry written now stands on its own.
        if let Some(whole) = whole_length(path)? {
            file.set_len(whole)?;
        }
        // One write per line: a kill lands between lines (or, rarely, inside one that
        // crosses a page), not inside a write of thousands of entries.
        for entry in entries {
            if let Ok(mut line) = serde_json::to_string(entry) {
                line.push('\n');
                file.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    });
    if let Err(err) = written {
        tracing::warn!("could not write the audit log {}: {err}", path.display());
    }
}

/// The length up to the end of the last whole line, when a torn line follows it.
fn whole_length(path: &Path) -> std::io::Result<Option<u64>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let length = file.seek(SeekFrom::End(0))?;
    // Entries are a few hundred bytes; look back far enough for any.
    let tail_start = length.saturating_sub(64 * 1024);
    file.seek(SeekFrom::Start(tail_start))?;
    let mut tail = Vec::new();
    file.take(length - tail_start).read_to_end(&mut tail)?;
    if tail.last().is_none_or(|&last| last == b'\n') {
        return Ok(None);
    }
    let whole = tail.iter().rposition(|&b| b == b'\n').map_or(tail_start, |at| tail_start + at as u64 + 1);
    Ok(Some(whole))
}

/// Every entry in the log (lines that do not parse are skipped).
pub fn read(path: &Path) -> Vec<AuditEntry> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Company;

    #[test]
    fn an_append_after_a_torn_line_drops_it_and_leaves_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        append(&path, &[event("first", "a")]);
        // A process killed mid-append left half a line.
        let mut file = crate::folders::open_private_append(&path).unwrap();
        file.write_all(br#"{"at":"2026-11-27T00:00:00Z","act"#).unwrap();
        append(&path, &[event("after", "b"), event("after", "c")]);
        let actions: Vec<String> = read(&path).into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["first", "after", "after"], "only the torn line is lost");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()), "{text}");
    }

    #[test]
    fn alerts_and_network_saves_are_audited_without_their_secrets() {
        let before = Config::default();
        let mut after = Config::default();
        after.alerts.webhook = Some("https://hooks.slack.com/services/T0/B0/KEY".into());
        after.network.proxy = Some("http://arteam:pw@proxy.corp.example:3128".into());
        let entries = diff("set", &before, &after);
        let text = serde_json::to_string(&entries).unwrap();
        assert!(text.contains("set: alerts") && text.contains("set: network"), "{text}");
        assert!(text.contains("hooks.slack.com") && text.contains("proxy.corp.example"), "{text}");
        assert!(!text.contains("KEY") && !text.contains("pw") && !text.contains("arteam"), "{text}");
    }

    #[test]
    fn diff_names_added_changed_removed_and_default_changes() {
        let a = MailSetting { id: "a".into(), ..MailSetting::default() };
        let before = Config {
            mail_settings: vec![a.clone(), MailSetting { id: "gone".into(), ..MailSetting::default() }],
            companies: vec![Company { id: "acme".into(), name: "Acme".into(), default_mail_setting: Some("a".into()) }],
            ..Config::default()
        };
        let mut after = before.clone();
        after.mail_settings.retain(|s| s.id != "gone");
        after.mail_settings[0].description = "changed".into();
        after.mail_settings.push(MailSetting { id: "new".into(), ..MailSetting::default() });
        after.companies[0].default_mail_setting = Some("new".into());
        let entries = diff("test", &before, &after);
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            vec!["test: setting changed", "test: setting removed", "test: setting added", "test: default changed"]
        );
        assert_eq!(entries[3].before, Some(serde_json::Value::String("a".into())));
        assert_eq!(entries[3].after, Some(serde_json::Value::String("new".into())));
        assert!(diff("x", &before, &before).is_empty());
    }
}
