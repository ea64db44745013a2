//! Where log lines go: stderr for the CLI, a file in the OS data folder for
//! the window (double-clicked apps have no terminal). Secrets cannot reach
//! either: they travel only in [`crate::Secret`], which prints `(redacted)`.

use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Rotate the GUI log when it grows past this.
const MAX_LOG_BYTES: u64 = 5 * 1024 * 1024;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("MAILSETTINGS_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// Plain messages on stderr, warnings and errors by default.
pub(crate) fn init_cli() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: a redirected stderr (a script, a ticket) gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false)
        .try_init();
}

/// Logs to `mailsettings.log` in the data folder; returns its path. Falls back
/// to stderr when the folder cannot be written.
pub(crate) fn init_gui() -> Option<PathBuf> {
    let path = crate::folders::log_file()?;
    let file = open_log_file(&path);
    match file {
        Some(file) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter("info"))
                .with_writer(Mutex::new(file))
                .with_ansi(false)
                .try_init();
            Some(path)
        }
        None => {
            init_cli();
            None
        }
    }
}

fn open_log_file(path: &PathBuf) -> Option<File> {
    fs::create_dir_all(path.parent()?).ok()?;
    if fs::metadata(path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = fs::rename(path, path.with_extension("log.old"));
    }
    crate::folders::open_private_append(path).ok()
}
