//! `migrate …`: the Basic → OAuth assistant's steps from the command line.

use std::io::Write;

use super::args::MigrateCommand;
use super::failure::Failure;
use super::support::{leftover_outcome, print_json, run_check_as};
use crate::checks::Check;
use crate::model::GuardError;
use crate::probe;
use crate::store::Workspace;

pub(super) fn run_migrate(
    workspace: &mut Workspace,
    command: &MigrateCommand,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use crate::migration;
    let print_status = |workspace: &Workspace, old: &str, json: bool, out: &mut dyn Write| -> Result<(), Failure> {
        let connection = migration::connection_of(workspace.config(), workspace.secrets(), old);
        let list = migration::checklist(workspace.config(), old, &connection)?;
        if json { print_json(&list, out) } else { out.write_all(list.to_text().as_bytes()).map_err(Failure::from) }
    };
    match command {
        MigrateCommand::Start { old, to_existing: Some(new), .. } => {
            migration::start_with_existing(workspace, old, new, migration::AlreadyPassed::default())?;
            writeln!(out, "Migrating \"{old}\" to \"{new}\", the setting made already (nothing created).")?;
            print_status(workspace, old, false, out)
        }
        MigrateCommand::Start { old, to, .. } => {
            start_creating(workspace, old, to.as_deref().unwrap_or_default(), out)?;
            print_status(workspace, old, false, out)
        }
        MigrateCommand::Status { old, json } => print_status(workspace, old, json.json, out),
        MigrateCommand::SwitchDefaults { old, companies } => {
            let only = (!companies.is_empty()).then_some(companies.as_slice());
            let switched = migration::switch_defaults(workspace, old, only)?;
            if switched.is_empty() {
                writeln!(out, "No company uses \"{old}\" as its default").map_err(Failure::from)
            } else {
                writeln!(out, "Switched {} to the new setting", switched.join(", ")).map_err(Failure::from)
            }
        }
        MigrateCommand::Leftover { old, folders, acknowledge, via } => {
            if let Some(reason) = acknowledge {
                if reason.trim().is_empty() {
                    return Err(Failure::usage("--acknowledge needs a reason"));
                }
                migration::acknowledge_leftover(workspace, old, reason)?;
                return Ok(writeln!(out, "Accepted without a check of the old folders: {reason}")?);
            }
            if !folders.is_empty() {
                migration::set_leftover_folders(workspace, old, folders)?;
            }
            let folders = migration::leftover_folders(workspace.config(), old);
            let (leftover, route) = check_leftover(workspace, old, &folders, *via)?;
            out.write_all(leftover.report.to_text().as_bytes())?;
            match migration::record_leftover(workspace, old, &leftover, route)? {
                Some(true) => Ok(writeln!(out, "No mail left in the old folders")?),
                Some(false) => Err(Failure::check(not_clean(workspace, old))),
                None => {
                    let failure = migration::leftover_failure(workspace.config(), old, route, &leftover.report);
                    let next = match failure.other {
                        Some((other, words)) => {
                            format!(
                                "try the other way, {words}: mailsettings migrate leftover {old} --via {}",
                                other.as_str()
                            )
                        }
                        None => "if no sign-in reaches them any more, accept with --acknowledge \"REASON\"".to_owned(),
                    };
                    Err(Failure::check(format!("{}; {next}", failure.text.trim_end_matches('.'))))
                }
            }
        }
        MigrateCommand::Finish { old, keep_inactive } => finish(workspace, old, *keep_inactive, out),
        MigrateCommand::Rollback { old } => {
            let restored = migration::rollback(workspace, old)?;
            writeln!(
                out,
                "Rolled back: \"{old}\" is active again; defaults restored for: {}",
                if restored.is_empty() { "-".to_owned() } else { restored.join(", ") }
            )
            .map_err(Failure::from)
        }
    }
}

/// `migrate start OLD --to TARGET`: the new setting made from the old one (and a
/// relay's password copied); names any setting made for the mailbox already.
fn start_creating(workspace: &mut Workspace, old: &str, to: &str, out: &mut dyn Write) -> Result<(), Failure> {
    use crate::migration;
    let target = migration::Target::parse(to, workspace.config())?;
    let started = migration::start(workspace, old, &target)?;
    let new = &started.new;
    writeln!(out, "Created \"{new}\" from \"{old}\" (inactive). Next: mailsettings connect {new}")
        .map_err(Failure::from)?;
    let made: Vec<&str> = migration::adoptable_for(workspace.config(), old)
        .iter()
        .filter(|s| s.id != *new)
        .map(|s| s.id.as_str())
        .collect();
    if !made.is_empty() {
        writeln!(
            out,
            "Note: {} was made for the same mailbox already; to use it instead: mailsettings migrate rollback {old}, then migrate start {old} --to-existing ID",
            crate::printable::printable(&made.join(", "))
        )?;
    }
    if let Some(relay) = &started.relay {
        let copied = relay.copy(workspace.secrets()).map_err(|e| Failure::check(e.to_string()))?;
        writeln!(
            out,
            "Sending stays with the relay {} (password or API key{}); replies move to {}.",
            crate::printable::printable(relay.server()),
            if copied { " copied" } else { " not stored yet: mailsettings set-password --smtp NEW" },
            relay.replies_via()
        )
        .map_err(Failure::from)?;
    }
    Ok(())
}

/// `migrate finish OLD [--keep-inactive]`: the old folders checked once more, then the
/// old setting deleted — or kept Inactive, as the guide also allows.
fn finish(workspace: &mut Workspace, old: &str, keep_inactive: bool, out: &mut dyn Write) -> Result<(), Failure> {
    use crate::migration;
    let name = workspace.config().setting_name(old);
    let connection = migration::connection_of(workspace.config(), workspace.secrets(), old);
    let blockers = migration::blockers_before_recheck(workspace.config(), old, &connection)?;
    if !blockers.is_empty() {
        return Err(migration::MigrationError::DeleteBlocked(blockers).into());
    }
    let folders = migration::leftover_folders(workspace.config(), old);
    let (recheck, route) = check_leftover(workspace, old, &folders, None)?;
    if keep_inactive {
        migration::finish_keeping_old(workspace, old, &connection, &recheck, route)?;
        return Ok(writeln!(
            out,
            "Finished: \"{name}\" stays Inactive (check its folders again now and then: mailsettings \
             migrate leftover {old}). Congratulations! You are now set up!"
        )?);
    }
    migration::finish(workspace, old, &connection, &recheck, route)?;
    Ok(writeln!(out, "Deleted \"{name}\" (it stays restorable with: mailsettings restore {old})")?)
}

/// Why the leftover check just recorded is not clean, and the one thing to do.
fn not_clean(workspace: &Workspace, old: &str) -> String {
    let check = workspace.config().migration(old).and_then(|m| m.leftover.as_ref());
    match check {
        Some(check) if check.total > 0 => format!(
            "{} message(s) ({} unseen) are still in {}; retrieve them and check again",
            check.total,
            check.unseen,
            check.folders.join(", ")
        ),
        Some(check) => {
            let missing: Vec<String> = check.missing.iter().map(crate::model::MissingFolder::describe).collect();
            format!(
                "not found on the old server: {}; name the folders to check with --folder (repeat it), then check again",
                missing.join("; ")
            )
        }
        None => "the old folders were not checked".to_owned(),
    }
}

/// Counts the mail in the old setting's folders, signing in the way that works
/// (see [`crate::migration::leftover_sign_in`]).
fn check_leftover(
    workspace: &Workspace,
    old: &str,
    folders: &[String],
    via: Option<crate::model::LeftoverRoute>,
) -> Result<(probe::imap::Leftover, crate::model::LeftoverRoute), Failure> {
    let sign_in = crate::migration::leftover_sign_in(workspace.config(), old, via)
        .ok_or_else(|| Failure::usage(GuardError::UnknownSetting(old.to_owned()).to_string()))?;
    if let Some(wanted) = via.filter(|wanted| *wanted != sign_in.route) {
        return Err(Failure::usage(format!(
            "the old folders cannot be opened with --via {}: the new setting does not sign in with OAuth on the old setting's IMAP server",
            wanted.as_str()
        )));
    }
    let check = Check::Leftover { folders: folders.to_vec() };
    let outcome = run_check_as(workspace, &sign_in.setting, old, &check)?;
    Ok((leftover_outcome(outcome), sign_in.route))
}
