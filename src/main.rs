//! The `mailsettings` binary: the window when given no command, else the CLI.
//! Release builds on Windows have no console window (see `mailsettings-cli`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    mailsettings::start::main_with(std::time::Instant::now())
}
