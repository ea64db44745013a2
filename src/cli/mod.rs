//! The headless commands support staff script: the same core as the window, no
//! GUI. `args` holds the command line's words; `execute_in` below is the table
//! from a command to its handler; the handlers live by group (`settings`,
//! `checks`, `sign_in`, `migrate`, `programs`), sharing `support`. Exit codes: 0
//! success, 1 a check or guard failed, 2 bad usage (`send`: sendmail's sysexits).
//! The window is not started here (see [`crate::start`]): the CLI knows nothing of the UI.

mod args;
mod checks;
mod failure;
mod migrate;
mod programs;
mod reference;
mod settings;
mod sign_in;
mod support;
mod watch;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub use args::{BridgeCommand, Cli, Command, MigrateCommand, OauthAppCommand, SupportCommand, TestCommand};
pub use failure::Failure;
pub use reference::markdown as reference_markdown;

use crate::store::{Secrets, Workspace, resolve_config_path};

/// Runs a parsed command and prints its failure, if any, on stderr.
pub fn run(cli: &Cli, command: &Command) -> ExitCode {
    // Everything a command prints goes through the escaping writer: names and servers
    // from an imported file are shown, never run by the terminal (every handler alike).
    let result =
        execute(cli.config.as_deref(), command, &mut crate::printable::PrintableWriter::new(std::io::stdout().lock()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                // Errors name settings, users and servers from a possibly imported file: shown, never run.
                eprintln!("mailsettings: {}", crate::printable::printable(&failure.message));
            }
            ExitCode::from(failure.code)
        }
    }
}

fn open(config: Option<&Path>) -> Result<Workspace, Failure> {
    let path = resolve_config_path(config).map_err(|e| Failure::check(e.to_string()))?;
    let secrets = Secrets::from_env().map_err(|e| Failure::usage(e.to_string()))?;
    Workspace::open(&path, secrets).map_err(|e| Failure::check(e.to_string()))
}

fn execute(config: Option<&Path>, command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    if let Some(done) = reference::without_config(command, out) {
        return done;
    }
    let mut workspace = open(config)?;
    let done = execute_in(&mut workspace, command, out);
    // A large config read the slow way, or saved by this command, is kept parsed for
    // the next start — once, after the command, so its answer is not delayed (and
    // an entry for what a save replaced is never written).
    if let Some(keep_parsed) = workspace.parse_cache_writer() {
        keep_parsed();
    }
    done
}

/// Which handler runs which command.
fn execute_in(workspace: &mut Workspace, command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    let ws = workspace;
    match command {
        Command::List(flag) => settings::list(ws, flag.json, out).map_err(Failure::from),
        Command::Show { id, json } => settings::show(ws, id, json.json, out),
        Command::Validate { id } => settings::validate(ws, id.as_deref(), out),
        Command::Import { file, yes, keep_secrets } => settings::import(ws, file, *yes, *keep_secrets, out),
        Command::Export { file } => settings::export(ws, file, out),
        Command::SetPassword(args) => settings::set_password(ws, args, out),
        Command::Activate { id, untested } => settings::activate(ws, id, *untested, out),
        Command::Deactivate { id, switch_defaults_to: to } => settings::deactivate(ws, id, to.as_deref(), out),
        Command::SetDefault { company, id } => settings::set_default(ws, company, id, out),
        Command::SetTransport { id, sends_with, reads_with } => settings::set_transport(
            ws,
            id,
            (sends_with.map(args::SendsWith::transport), reads_with.map(args::ReadsWith::transport)),
            out,
        ),
        Command::AddCompany { id, name } => settings::add_company(ws, id, name, out),
        Command::Delete { id } => settings::delete(ws, id, out),
        Command::Restore { id } => settings::restore(ws, id, out),
        Command::Log(flag) => settings::print_log(ws, flag.json, out),
        Command::Paths => settings::paths(ws, out),
        Command::Support(SupportCommand::Show) => settings::support_show(ws, out),
        Command::Support(SupportCommand::Set { contact }) => settings::support_set(ws, contact, out),
        Command::Test(test) => checks::run_probe(ws, test, out),
        Command::Detect { id, json } => checks::detect(ws, id, json.json, out),
        Command::Readiness { id, json } => checks::readiness(ws, id, json.json, out),
        Command::Check { outgoing, at_once, alert, json, .. } => {
            watch::check_all(ws, outgoing.as_deref(), *at_once, *alert, json.json, out)
        }
        Command::Alerts(command) => watch::alerts(ws, command, out),
        Command::Network(command) => settings::network(ws, command, out),
        Command::Schedule(command) => watch::schedule(ws, command, out),
        Command::Leftover { id, folders, json } => checks::leftover(ws, id, folders, json.json, out),
        Command::Connect { id, no_browser, device, timeout } => {
            sign_in::connect(ws, id, sign_in::Way { no_browser: *no_browser, device: *device, timeout: *timeout }, out)
        }
        Command::Disconnect { id } => sign_in::disconnect(ws, id, out),
        Command::Token { id, json } => sign_in::print_token(ws, id, *json, out),
        Command::TokenStatus { id, json } => sign_in::token_status(ws, id, json.json, out),
        Command::OauthApp(OauthAppCommand::Show) => sign_in::oauth_app_show(ws.config(), ws.secrets(), out),
        Command::OauthApp(OauthAppCommand::Set(args)) => sign_in::set_app(ws, args, out),
        Command::Migrate(migrate) => migrate::run_migrate(ws, migrate, out),
        Command::Send { id, extract_recipients, from, recipients, .. } => {
            let stdin = &mut std::io::stdin().lock();
            programs::send(ws, id, *extract_recipients, from.as_deref(), recipients, stdin, out)
        }
        Command::Bridge(BridgeCommand::Password { id }) => programs::bridge_password(ws, id, out),
        Command::Bridge(BridgeCommand::Run { smtp_port, imap_port, no_local_tls, ids, .. }) => programs::bridge_run(
            ws,
            crate::bridge::Ports { smtp: *smtp_port, imap: *imap_port },
            !*no_local_tls,
            ids,
            out,
        ),
        Command::Gui => Err(Failure::usage("the window is opened by main, not by the CLI")),
        // Answered before any config is opened (`reference::without_config`).
        Command::Completions { .. } | Command::Manual => Ok(()),
    }
}
