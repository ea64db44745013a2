//! What both binaries run: the arguments decide between the window (no command,
//! or `gui`) and the CLI. The one place that knows both front ends.

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The whole program. Both binaries (`mailsettings`, and the console
/// `mailsettings-cli` for Windows) call this.
pub fn main_with(launched: std::time::Instant) -> ExitCode {
    if crate::ui::show_start_failure_if_asked() {
        return ExitCode::from(1);
    }
    let cli = Cli::parse();
    match &cli.command {
        None | Some(Command::Gui) => {
            let log_file = crate::logging::init_gui();
            crate::ui::run(cli.config.as_deref(), log_file.as_deref(), launched)
        }
        Some(command) => {
            crate::logging::init_cli();
            crate::cli::run(&cli, command)
        }
    }
}
