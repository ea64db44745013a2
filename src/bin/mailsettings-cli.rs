//! `mailsettings-cli`: the same program as `mailsettings`, built as a console
//! application, so that on Windows (where the window binary has no console)
//! scripts and support staff see the CLI's output. Elsewhere it is identical.

fn main() -> std::process::ExitCode {
    mailsettings::start::main_with(std::time::Instant::now())
}
