//! The command line described from its own definition: shell completions, the man
//! page, and the Markdown reference (`docs/cli-reference.md`, which a test keeps equal
//! to this) — never written by hand, so never behind the commands.

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, Command};
use super::failure::Failure;

/// `completions SHELL` and `manual`, which need no config: `None` for every other command.
pub(super) fn without_config(command: &Command, out: &mut dyn Write) -> Option<Result<(), Failure>> {
    // Written to memory first: clap_complete panics on a write error (a closed pipe).
    let mut text = Vec::new();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "mailsettings", &mut text);
        }
        Command::Manual => {
            if let Err(err) = clap_mangen::Man::new(Cli::command()).render(&mut text) {
                return Some(Err(Failure::check(format!("the manual could not be written: {err}"))));
            }
        }
        _ => return None,
    }
    Some(out.write_all(&text).map_err(Failure::from))
}

/// Every command's full help, in Markdown, at a fixed width (so it reads the same on
/// every machine): what `docs/cli-reference.md` holds.
pub fn markdown() -> String {
    let mut cli = Cli::command().term_width(100).max_term_width(100);
    let mut text = String::from(
        "# Command reference\n\nGenerated from the program's own definition (`cargo test --test it \
         cli::the_command_reference_is_the_programs_own` checks it; `UPDATE_DOCS=1` rewrites it).\n",
    );
    section(&mut cli, "mailsettings", &mut text);
    text
}

fn section(command: &mut clap::Command, path: &str, text: &mut String) {
    let help = command.render_long_help().to_string();
    text.push_str(&format!("\n## {path}\n\n```text\n{}\n```\n", help.trim_end()));
    let names: Vec<String> =
        command.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name().to_owned()).collect();
    for name in names {
        if let Some(sub) = command.find_subcommand_mut(&name) {
            section(sub, &format!("{path} {name}"), text);
        }
    }
}
