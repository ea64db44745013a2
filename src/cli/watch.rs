//! Watching the mailboxes after "Congratulations": `check --all [--alert]`, the
//! alert channels (`alerts show|set|test`) and the schedule that runs the checks
//! (`schedule install|status|remove`).

use std::io::Write;

use super::args::{AlertsCommand, ScheduleCommand};
use super::failure::Failure;
use super::support::{interrupted, print_json};
use crate::secret::Secret;
use crate::store::Workspace;

/// `check --all`: every Active setting checked at once, a line each, worst first; with
/// `--alert`, each change of state told to the alert channels; the outcomes kept in
/// the check history.
pub(super) fn check_all(
    workspace: &Workspace,
    outgoing: Option<&str>,
    at_once: usize,
    alert: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(to) = outgoing.filter(|to| !crate::model::validate::is_well_formed_address(to.trim())) {
        return Err(Failure::usage(format!("--outgoing \"{to}\" is not an e-mail address")));
    }
    let options = crate::health::CheckAll { outgoing_to: outgoing.map(|to| to.trim().to_owned()), at_once };
    let cancel = interrupted();
    let results = crate::health::check_all(workspace.config(), workspace.secrets(), &options, &cancel);
    let history_file = crate::store::history::history_path_for(workspace.path());
    if alert {
        let told_file = crate::store::told::told_path_for(workspace.path());
        let told = crate::store::told::update(&told_file, |told| {
            crate::alerts::tell_changes(told, &results, workspace.config(), workspace.secrets(), &cancel)
        });
        let told = told.map_err(|err| Failure::check(format!("the alerts' state could not be kept: {err}")))?;
        for (change, outcomes) in told {
            let words: Vec<String> = outcomes.iter().map(crate::alerts::Told::words).collect();
            let channels = if outcomes.is_empty() {
                "no alert channel is set: mailsettings alerts set …".to_owned()
            } else if outcomes.iter().all(|t| t.result.is_err()) {
                format!("{}; told again on the next run", words.join("; "))
            } else {
                words.join("; ")
            };
            eprintln!("{}", crate::printable::printable(&format!("Alert: {} ({channels})", change.text)));
        }
    }
    crate::store::history::append(&history_file, &crate::health::history_entries(&results));
    if json {
        print_json(&results, out)?;
    } else if results.is_empty() {
        writeln!(out, "No Active mail setting to check")?;
    } else {
        let width = results.iter().map(|r| r.health.label().len()).max().unwrap_or(0);
        for result in &results {
            let mut line = format!("{:width$}  {}", result.health.label(), result.name);
            if !result.reason.is_empty() {
                line.push_str(&format!(" — {}", result.reason));
            }
            if let Some(step) = &result.next_step {
                line.push_str(&format!(" Next: {step}"));
            }
            writeln!(out, "{}", crate::printable::printable(&line))?;
        }
    }
    match crate::health::exit_code(&results) {
        0 => Ok(()),
        code => Err(Failure { code, message: String::new() }),
    }
}

/// `alerts show|set|test`.
pub(super) fn alerts(workspace: &mut Workspace, command: &AlertsCommand, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        AlertsCommand::Show => {
            let channels = crate::alerts::describe(&workspace.config().alerts);
            if channels.is_empty() {
                writeln!(
                    out,
                    "No alert channel is set (mailsettings alerts set --webhook URL | --email ADDR | --command CMD | --desktop)"
                )?;
            }
            for channel in channels {
                writeln!(out, "{}", crate::printable::printable(&channel))?;
            }
            Ok(())
        }
        AlertsCommand::Set { webhook, email, via, command, desktop, clear } => {
            let webhook = match webhook.as_deref().map(str::trim) {
                Some("-") => Some(super::support::read_password()?),
                Some(address) => Some(crate::secret::Secret::new(address)),
                None => None,
            };
            if let Some(problem) =
                webhook.as_ref().and_then(|a| crate::alerts::webhook_problem("--webhook", a.expose()))
            {
                return Err(Failure::usage(problem));
            }
            let asked = crate::model::AlertsConfig {
                email: email.clone(),
                email_via: via.clone(),
                command: command.clone(),
                ..crate::model::AlertsConfig::default()
            };
            if let Some(problem) = crate::alerts::problem(&asked, workspace.config(), |flag| format!("--{flag}")) {
                return Err(Failure::usage(problem));
            }
            // The address goes to the credential store before the config names it.
            let (owner, kind) = (crate::store::SecretOwner::Alerts, crate::store::SecretKind::WebhookUrl);
            let stored = match &webhook {
                Some(address) => workspace.secrets().set(owner, kind, &Secret::new(address.expose().trim())),
                None if *clear => workspace.secrets().delete(owner, kind),
                None => Ok(()),
            };
            stored.map_err(|err| Failure::check(format!("the webhook's address was not stored: {err}")))?;
            workspace.apply("set-alerts", |config| {
                let alerts = &mut config.alerts;
                if *clear {
                    *alerts = crate::model::AlertsConfig::default();
                }
                let trimmed = |value: &Option<String>| value.as_deref().map(|v| v.trim().to_owned());
                if let Some(address) = &webhook {
                    alerts.webhook = Some(crate::model::AlertsConfig::webhook_shown(address.expose()));
                }
                if email.is_some() {
                    alerts.email = trimmed(email);
                    alerts.email_via = trimmed(via);
                }
                if command.is_some() {
                    alerts.command = trimmed(command);
                }
                alerts.desktop |= *desktop;
                Ok(())
            })?;
            alerts(workspace, &AlertsCommand::Show, out)
        }
        AlertsCommand::Test => {
            let change = crate::alerts::test_change();
            let told = crate::alerts::tell(&change, workspace.config(), workspace.secrets(), &interrupted());
            if told.is_empty() {
                return Err(Failure::check("no alert channel is set: mailsettings alerts set …"));
            }
            for told in &told {
                writeln!(out, "{}", told.words())?;
            }
            if told.iter().all(|t| t.result.is_ok()) { Ok(()) } else { Err(Failure::check("")) }
        }
    }
}

/// `schedule install|status|remove`.
pub(super) fn schedule(workspace: &Workspace, command: &ScheduleCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let folder = crate::schedule::folder().map_err(|e| Failure::check(e.to_string()))?;
    match command {
        ScheduleCommand::Install { every } => {
            let every = crate::schedule::parse_interval(every).map_err(|e| Failure::usage(e.to_string()))?;
            let program = std::env::current_exe()
                .map_err(|e| Failure::check(format!("cannot tell where this program is: {e}")))?;
            let program = crate::schedule::scheduled_program(&program);
            let config = std::path::absolute(workspace.path()).unwrap_or_else(|_| workspace.path().to_owned());
            let job = crate::schedule::Job { program, config, every };
            let installed = crate::schedule::install(&job, &folder).map_err(|e| Failure::check(e.to_string()))?;
            for file in &installed.files {
                writeln!(out, "Wrote {}", file.display())?;
            }
            match installed.started {
                Ok(command) => writeln!(
                    out,
                    "Started ({command}): every Active mailbox is checked every {} min",
                    every.as_secs() / 60
                )?,
                Err(manual) => writeln!(out, "Not started automatically here; start it with: {manual}")?,
            }
            Ok(())
        }
        ScheduleCommand::Status => {
            match crate::schedule::installed(&folder) {
                Some(Some(every)) => {
                    writeln!(out, "Scheduled: every {} min ({})", every.as_secs() / 60, folder.display())?;
                }
                Some(None) => writeln!(out, "Scheduled ({})", folder.display())?,
                None => writeln!(out, "Not scheduled (mailsettings schedule install --every 1h)")?,
            }
            let history = crate::store::history::read(&crate::store::history::history_path_for(workspace.path()));
            match history.iter().rev().find(|e| e.check == "all") {
                Some(last) => writeln!(out, "Last check: {}", last.time)?,
                None => writeln!(out, "Last check: none yet")?,
            }
            Ok(())
        }
        ScheduleCommand::Remove => {
            let removed = crate::schedule::remove(&folder).map_err(|e| Failure::check(e.to_string()))?;
            if removed.is_empty() {
                writeln!(out, "Nothing was scheduled")?;
            }
            for file in removed {
                writeln!(out, "Removed {}", file.display())?;
            }
            Ok(())
        }
    }
}
