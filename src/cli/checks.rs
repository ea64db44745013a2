//! The connection tests from the command line: Test Outgoing/Incoming, the round
//! trip, Detect and the leftover count, each printed as its staged report.

use std::io::Write;

use serde::Serialize;

use super::args::TestCommand;
use super::failure::Failure;
use super::support::{leftover_outcome, print_json, print_report, run_check};
use crate::checks::Check;
use crate::probe;
use crate::store::Workspace;

pub(super) fn leftover(
    workspace: &Workspace,
    id: &str,
    folders: &[String],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let named = if folders.is_empty() { probe::imap::default_leftover_folders() } else { folders.to_vec() };
    let inbox = workspace.config().setting(id).map(|s| s.imap.inbox_folder.clone());
    let folders = inbox.into_iter().chain(named).collect();
    let result = leftover_outcome(run_check(workspace, id, &Check::Leftover { folders })?);
    if !json {
        return print_report(&result.report, false, out);
    }
    #[derive(Serialize)]
    struct LeftoverJson<'a> {
        #[serde(flatten)]
        report: &'a probe::Report,
        counts: &'a Option<Vec<probe::imap::FolderCount>>,
        total: Option<u32>,
    }
    let shown = LeftoverJson { report: &result.report, counts: &result.counts, total: result.total() };
    print_json(&shown, out)?;
    if result.report.passed { Ok(()) } else { Err(Failure::check("")) }
}

pub(super) fn run_probe(workspace: &mut Workspace, test: &TestCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (id, check, json) = match test {
        TestCommand::Outgoing { id, to, json } => {
            if !crate::model::validate::is_well_formed_address(to.trim()) {
                return Err(Failure::usage(format!("--to \"{to}\" is not an e-mail address")));
            }
            (id, Check::Outgoing { to: to.trim().to_owned() }, json.json)
        }
        TestCommand::Incoming { id, fix_sent: true, json } => {
            return incoming_fixing_folders(workspace, id, json.json, out);
        }
        TestCommand::Incoming { id, json, .. } => (id, Check::Incoming, json.json),
        TestCommand::Roundtrip { id, json } => (id, Check::RoundTrip, json.json),
    };
    let outcome = run_check(workspace, id, &check)?;
    crate::migration::record_check(workspace, id, &check, outcome.report());
    print_report(outcome.report(), json, out)
}

/// `test incoming ID --fix-sent`: Test Incoming; when a folder of the setting is
/// missing and the server has its own for that role, the setting takes it and
/// the test runs again.
fn incoming_fixing_folders(
    workspace: &mut Workspace,
    id: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let first = run_check(workspace, id, &Check::Incoming)?;
    let Some(fix) = first.report().folder_fix.clone() else {
        crate::migration::record_check(workspace, id, &Check::Incoming, first.report());
        return print_report(first.report(), json, out);
    };
    crate::checks::use_server_folder(workspace, id, &fix)?;
    let field = match fix.role {
        probe::folders::FolderRole::Inbox => crate::model::fields::Field::ImapInboxFolder,
        probe::folders::FolderRole::Sent => crate::model::fields::Field::ImapSentFolder,
    };
    if !json {
        writeln!(
            out,
            "{}: \"{}\" does not exist on the server; now \"{}\", the server's own. Testing again.",
            field.label(),
            fix.configured,
            fix.server_folder
        )?;
    }
    let again = run_check(workspace, id, &Check::Incoming)?;
    crate::migration::record_check(workspace, id, &Check::Incoming, again.report());
    print_report(again.report(), json, out)
}

/// `detect ID`: which security each standard port of the setting's servers speaks.
pub(super) fn detect(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let outcome = run_check(workspace, id, &Check::Detect)?;
    print_report(outcome.report(), json, out)
}

/// `readiness ID`: the servers asked whether the mailbox is ready (see [`crate::readiness`]).
pub(super) fn readiness(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = super::support::find(workspace.config(), id)?;
    let report =
        crate::readiness::check(setting, workspace.config(), workspace.secrets(), &super::support::interrupted())
            .map_err(|e| Failure::check(e.to_string()))?;
    print_report(&report, json, out)
}
