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
    let folders = if folders.is_empty() { probe::imap::default_leftover_folders() } else { folders.to_vec() };
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
        TestCommand::Incoming { id, json } => (id, Check::Incoming, json.json),
        TestCommand::Roundtrip { id, json } => (id, Check::RoundTrip, json.json),
    };
    let outcome = run_check(workspace, id, &check)?;
    crate::checks::record(workspace, id, &check, outcome.report());
    print_report(outcome.report(), json, out)
}

/// `detect ID`: which security each standard port of the setting's servers speaks.
pub(super) fn detect(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let outcome = run_check(workspace, id, &Check::Detect)?;
    print_report(outcome.report(), json, out)
}
