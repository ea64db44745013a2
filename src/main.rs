//! The `mailsettings` binary: the window when given no command, else the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;
use mailsettings::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    let cli = Cli::parse();
    match &cli.command {
        None | Some(Command::Gui) => {
            let log_file = mailsettings::logging::init_gui();
            mailsettings::ui::run(cli.config.as_deref(), log_file.as_deref(), launched)
        }
        Some(command) => {
            mailsettings::logging::init_cli();
            cli::run(&cli, command)
        }
    }
}
