//! Every Active mailbox checked at once — after "Congratulations" the automation
//! depends on them every day, and OAuth connections die quietly. For each setting:
//! its sign-in's health (a token that refreshes; the dates things end: Basic SMTP at
//! Microsoft, a Google Testing app's 7 days, an app's secret or certificate), Test
//! Incoming, and a sign-in for sending (SMTP AUTH switched off or Basic retired is how
//! a working mailbox usually stops; Test Outgoing's emails only when asked); a bounded
//! number at a time, each under its deadlines; worst first. The outcomes are kept in the check history.

use std::sync::Mutex;

use serde::Serialize;

use crate::cancel::CancelToken;
use crate::checks::{Check, CheckResult};
use crate::model::{Config, MailSetting};
use crate::probe::report::FailureKind;
use crate::store::Secrets;
use crate::store::history::HistoryEntry;

/// Checks on one server at the same time, at most: never more than 16 connections to
/// one server (Microsoft and Google throttle many parallel sign-ins of one tenant).
pub const MAX_AT_ONCE: usize = 16;

/// How a mailbox stands, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Works, but something ends soon (a date within 14 days).
    Attention,
    /// Failed for now (network, busy provider): worth trying again.
    Temporary,
    Failing,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Attention => "attention",
            Self::Temporary => "temporary failure",
            Self::Failing => "FAILING",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Attention => "attention",
            Self::Temporary => "temporary",
            Self::Failing => "failing",
        }
    }
}

/// One setting's result.
#[derive(Debug, Clone, Serialize)]
pub struct SettingHealth {
    pub id: String,
    pub name: String,
    pub health: Health,
    /// Why, in words ("" when all is well).
    pub reason: String,
    /// Dates that end something, in words (Basic SMTP at Microsoft, Google's 7 days…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ends: Vec<String>,
    /// Whether Test Incoming passed.
    pub incoming_passed: bool,
    /// Whether sending signed in (or Test Outgoing passed, when asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outgoing_passed: Option<bool>,
    /// What to do about the failure, and who does it (from the diagnosis), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    #[serde(skip)]
    pub reports: Vec<crate::probe::Report>,
}

/// What to check besides sign-in and Test Incoming.
#[derive(Debug, Clone, Default)]
pub struct CheckAll {
    /// Also Test Outgoing, the two test emails to this address.
    pub outgoing_to: Option<String>,
    /// Checks at once on any one server (1..=[`MAX_AT_ONCE`]).
    pub at_once: usize,
}

/// Checks every Active setting — at most `options.at_once` (≤ [`MAX_AT_ONCE`]) at a
/// time on any one server, settings on other servers alongside; worst first.
pub(crate) fn check_all(
    config: &Config,
    secrets: &Secrets,
    options: &CheckAll,
    cancel: &CancelToken,
) -> Vec<SettingHealth> {
    let per_server = options.at_once.clamp(1, MAX_AT_ONCE);
    let pending: Vec<&MailSetting> = config.mail_settings.iter().filter(|s| s.active).collect();
    let servers = pending.iter().flat_map(|s| servers_of(s)).collect::<std::collections::HashSet<_>>().len();
    let workers = pending.len().min(per_server.saturating_mul(servers.max(1))).min(MAX_WORKERS);
    let work = Mutex::new(Work { pending, busy: std::collections::HashMap::new() });
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(setting) = next_setting(&work, per_server, cancel) {
                    let checked = check_one(setting, config, secrets, options, cancel);
                    if let Ok(mut results) = results.lock() {
                        results.push(checked);
                    }
                    if let Ok(mut work) = work.lock() {
                        for server in servers_of(setting) {
                            if let Some(count) = work.busy.get_mut(&server) {
                                *count = count.saturating_sub(1);
                            }
                        }
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by(|a, b| b.health.cmp(&a.health).then_with(|| a.name.cmp(&b.name)));
    results
}

/// Threads checking at once, whatever the number of servers.
const MAX_WORKERS: usize = 64;

/// What is left to check, and the checks running on each server.
struct Work<'c> {
    pending: Vec<&'c MailSetting>,
    busy: std::collections::HashMap<String, usize>,
}

/// The servers a check connects to: its IMAP host, and its SMTP host when another
/// (many mailboxes on different IMAP servers may send through one relay).
fn servers_of(setting: &MailSetting) -> Vec<String> {
    let imap = setting.imap.server.trim().to_ascii_lowercase();
    let smtp = setting.smtp.server.trim().to_ascii_lowercase();
    if smtp == imap || smtp.is_empty() { vec![imap] } else { vec![imap, smtp] }
}

/// The next setting whose servers all have room, waiting while none has; `None` when
/// all is done (or cancelled).
fn next_setting<'c>(work: &Mutex<Work<'c>>, per_server: usize, cancel: &CancelToken) -> Option<&'c MailSetting> {
    loop {
        if cancel.is_cancelled() {
            return None;
        }
        {
            let mut work = work.lock().ok()?;
            if work.pending.is_empty() {
                return None;
            }
            let Work { pending, busy } = &mut *work;
            let has_room = |s: &MailSetting| {
                servers_of(s).iter().all(|server| busy.get(server).copied().unwrap_or(0) < per_server)
            };
            if let Some(index) = pending.iter().position(|s| has_room(s)) {
                let setting = pending.remove(index);
                for server in servers_of(setting) {
                    *busy.entry(server).or_insert(0) += 1;
                }
                return Some(setting);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn check_one(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    options: &CheckAll,
    cancel: &CancelToken,
) -> SettingHealth {
    let today = time::OffsetDateTime::now_utc().date();
    let mut result = SettingHealth {
        id: setting.id.clone().into(),
        name: config.setting_name(&setting.id),
        health: Health::Ok,
        reason: String::new(),
        ends: ends(setting, config, secrets, today),
        incoming_passed: false,
        outgoing_passed: None,
        next_step: None,
        reports: Vec::new(),
    };
    // Sending is always asked: a sign-in alone unless test emails were asked for.
    let sending = options.outgoing_to.clone().map_or(Check::SendingSignIn, |to| Check::Outgoing { to });
    for check in [Check::Incoming, sending] {
        let outcome = crate::checks::run(&check, setting, &setting.id, config, secrets, cancel);
        let (passed, health, reason, next_step) = match &outcome {
            Ok(CheckResult::Report(report)) if report.passed => (true, Health::Ok, String::new(), None),
            Ok(CheckResult::Report(report)) => {
                let temporary = report.failure == Some(FailureKind::Temporary);
                let health = if temporary { Health::Temporary } else { Health::Failing };
                let next_step = report.diagnosis.as_ref().map(|d| format!("{} ({})", d.next_step, d.who.label()));
                (false, health, report.failure_summary(), next_step)
            }
            Ok(CheckResult::Leftover(_)) => (true, Health::Ok, String::new(), None),
            Err(err) => (false, Health::Failing, err.to_string(), None),
        };
        if let Ok(CheckResult::Report(report)) = outcome {
            result.reports.push(*report);
        }
        match check {
            Check::Incoming => result.incoming_passed = passed,
            _ => result.outgoing_passed = Some(passed),
        }
        if health > result.health {
            result.health = health;
            result.reason = reason;
            result.next_step = next_step;
        }
    }
    if result.health == Health::Ok && !result.ends.is_empty() {
        result.health = Health::Attention;
        result.reason.clone_from(&result.ends[0]);
    }
    result
}

/// The dates that end something for `setting` within 14 days (or already passed), in words.
fn ends(setting: &MailSetting, config: &Config, secrets: &Secrets, today: time::Date) -> Vec<String> {
    let mut ends = Vec::new();
    if let Some((days, words)) = crate::model::providers::basic_smtp_ending(setting, today)
        && days <= 14
    {
        ends.push(words);
    }
    if let Some((words, true)) = crate::oauth::provider::app_credential_expiry(setting, config, today) {
        ends.push(words);
    }
    let provider = crate::oauth::provider::resolve(setting, config).ok();
    let tokens = crate::oauth::tokens::TokenSet::load(secrets, &setting.id).ok().flatten();
    if let (Some(provider), Some(tokens)) = (provider, tokens)
        && let Some(words) = crate::oauth::tokens::testing_clock(tokens.refresh_issued(), &provider, today)
    {
        ends.push(words);
    }
    ends
}

/// The outcomes as the check history keeps them.
pub(crate) fn history_entries(results: &[SettingHealth]) -> Vec<HistoryEntry> {
    let time = crate::clock::Timestamp::now();
    results
        .iter()
        .map(|r| HistoryEntry {
            time,
            setting: r.id.clone(),
            check: "all".to_owned(),
            outcome: r.health.key().to_owned(),
            reason: r.reason.clone(),
            next_step: r.next_step.clone().unwrap_or_default(),
        })
        .collect()
}

/// The exit code of `check --all`: 0 all well (attention included), 75 only temporary
/// failures, 1 something failed.
pub(crate) fn exit_code(results: &[SettingHealth]) -> u8 {
    match results.iter().map(|r| r.health).max() {
        Some(Health::Failing) => 1,
        Some(Health::Temporary) => crate::sysexits::EX_TEMPFAIL,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_server_gets_more_than_its_share_at_once() {
        // Microsoft's mailboxes, and two IMAP servers whose mailboxes send through one relay.
        let settings: Vec<MailSetting> = (0..40)
            .map(|n| {
                let mut s = MailSetting { id: format!("s{n}").into(), ..MailSetting::default() };
                let (imap, smtp) = match n % 4 {
                    0 => ("imap.other.example", "smtp.sendgrid.net"),
                    1 => ("imap.third.example", "smtp.sendgrid.net"),
                    _ => ("Outlook.Office365.com", "smtp.office365.com"),
                };
                (s.imap.server, s.smtp.server) = (imap.into(), smtp.into());
                s
            })
            .collect();
        let work = Mutex::new(Work { pending: settings.iter().collect(), busy: std::collections::HashMap::new() });
        let cancel = CancelToken::new();
        let mut taken = Vec::new();
        // Take without giving back: each server fills at 3 — the relay too, though its
        // mailboxes are on two IMAP servers — and the others still get their turn.
        for _ in 0..6 {
            let setting = next_setting(&work, 3, &cancel).unwrap();
            taken.extend(servers_of(setting));
        }
        let count = |server: &str| taken.iter().filter(|s| s.as_str() == server).count();
        assert_eq!(count("outlook.office365.com"), 3, "{taken:?}");
        assert_eq!(count("smtp.office365.com"), 3, "{taken:?}");
        assert_eq!(count("smtp.sendgrid.net"), 3, "{taken:?}");
        assert_eq!(count("imap.other.example") + count("imap.third.example"), 3, "{taken:?}");
        cancel.cancel();
        assert!(next_setting(&work, 3, &cancel).is_none(), "every server full and cancelled: nothing, no wait");
    }
}
