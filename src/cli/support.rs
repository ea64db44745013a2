//! What the command handlers share: finding a setting, Ctrl+C as a cancel, running a
//! check, printing a report or JSON, reading a password from standard input.

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;

use super::failure::Failure;
use crate::cancel::CancelToken;
use crate::checks::{Check, CheckResult};
use crate::model::{Config, GuardError, MailSetting};
use crate::probe::{self, ProbeOptions};
use crate::secret::Secret;
use crate::store::Workspace;

/// A value as pretty JSON and a newline.
pub(super) fn print_json(value: &impl Serialize, out: &mut dyn Write) -> Result<(), Failure> {
    let text = crate::printable::json_text(value).map_err(|e| Failure::check(e.to_string()))?;
    Ok(writeln!(out, "{text}")?)
}

/// A cancel token that Ctrl+C (SIGINT) sets: a probe or a sign-in then ends at
/// once, cleanly, with its report, instead of the process being killed mid-step.
pub(super) fn interrupted() -> CancelToken {
    static TOKEN: std::sync::OnceLock<CancelToken> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            let handler_token = token.clone();
            if let Err(err) = ctrlc::set_handler(move || handler_token.cancel()) {
                tracing::warn!("Ctrl+C will stop the program without a report: {err}");
            }
            token
        })
        .clone()
}

pub(super) fn probe_options(workspace: &Workspace) -> Result<ProbeOptions, Failure> {
    ProbeOptions::from_config(workspace.config()).map_err(|e| Failure::check(e.to_string()))
}

/// Runs a check with `sign_in`'s servers and credentials, reported under `subject` (see [`crate::checks`]).
pub(super) fn run_check(workspace: &Workspace, id: &str, check: &Check) -> Result<CheckResult, Failure> {
    run_check_as(workspace, find(workspace.config(), id)?, id, check)
}

/// Runs `check` signing in with `sign_in`, the result belonging to `subject`.
pub(super) fn run_check_as(
    workspace: &Workspace,
    sign_in: &MailSetting,
    subject: &str,
    check: &Check,
) -> Result<CheckResult, Failure> {
    crate::checks::run(check, sign_in, subject, workspace.config(), workspace.secrets(), &interrupted())
        .map_err(|e| Failure::check(e.to_string()))
}

pub(super) fn leftover_outcome(outcome: CheckResult) -> probe::imap::Leftover {
    match outcome {
        CheckResult::Leftover(leftover) => *leftover,
        CheckResult::Report(report) => probe::imap::Leftover { report: *report, counts: None },
    }
}

/// The report on stdout; exit 1 (with no extra message) when it failed.
pub(super) fn print_report(report: &probe::Report, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let written = if json {
        crate::printable::json_text(report).map_err(std::io::Error::other).and_then(|text| writeln!(out, "{text}"))
    } else {
        out.write_all(report.to_text().as_bytes())
    };
    written.map_err(|e| Failure::check(format!("could not write the output: {e}")))?;
    if report.passed { Ok(()) } else { Err(Failure::check("")) }
}

pub(super) fn find<'a>(config: &'a Config, id: &str) -> Result<&'a MailSetting, Failure> {
    config.setting(id).ok_or_else(|| Failure::usage(GuardError::UnknownSetting(id.to_owned()).to_string()))
}

/// One line from stdin; at a terminal, asked for without echo.
pub(super) fn read_password() -> Result<Secret, Failure> {
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        zeroize::Zeroizing::new(
            rpassword::prompt_password("Password: ")
                .map_err(|e| Failure::check(format!("could not read the password: {e}")))?,
        )
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        stdin.lock().read_line(&mut line).map_err(|e| Failure::check(format!("could not read the password: {e}")))?;
        line
    };
    let password = Secret::new(line.trim_end_matches(['\r', '\n']));
    if password.is_empty() {
        return Err(Failure::check("no password was given on standard input"));
    }
    Ok(password)
}
