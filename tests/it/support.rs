//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A password that must never appear in any file, output or log.
pub const CANARY: &str = "canary-Pa55w0rd-7f3a9c";

pub const BIN: &str = env!("CARGO_BIN_EXE_mailsettings");

/// A temp folder with a config path and an opt-in file secret store.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn secrets_file(&self) -> PathBuf {
        self.dir.path().join("secrets.json")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `mailsettings --config CONFIG ARGS…` with the file secret store.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(BIN);
        command
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", self.secrets_file().display()))
            .env_remove("MAILSETTINGS_CONFIG")
            // The parse cache of large configs, and its key, kept in the sandbox.
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("MAILSETTINGS_LOG", "trace");
        run_command(command, stdin)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

/// Held by every test that shows a window on the shared test display (Xvfb) and looks
/// at the screen or moves the real pointer, so one test's window never sits over
/// another's screenshot or click (the Linux and the Windows windows are both titled
/// "Mail Settings").
pub fn display_lock() -> std::sync::MutexGuard<'static, ()> {
    static DISPLAY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    DISPLAY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn run_command(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsettings");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

/// A valid config with two Basic settings and two companies.
pub const SAMPLE: &str = r#"format = "mailsettings/1"

[[mail_setting]]
id = "old-basic"
description = "Collections (Basic)"
subject_tag = "[ACME-AR]"
credential = "basic"
active = true

[mail_setting.smtp]
server = "smtp.example.com"
port = 587
security = "starttls"
send_as = "collections@example.com"
from_name = "Acme AR Team"
user_name = "collections@example.com"
user_domain = "example.com"

[mail_setting.imap]
server = "imap.example.com"
port = 993
security = "tls"
inbox_folder = "Inbox"
sent_folder = "Sent"
user_name = "replies@example.com"
user_domain = "example.com"

[[mail_setting]]
id = "new-m365"
description = "Collections (Microsoft 365)"
subject_tag = "[ACME-AR]"
credential = "microsoft365"
tenant = "example.com"
active = true

[mail_setting.smtp]
server = "smtp.office365.com"
port = 587
security = "starttls"
send_as = "collections@example.com"
from_name = "Acme AR Team"
user_name = "collections@example.com"
user_domain = "example.com"

[mail_setting.imap]
server = "outlook.office365.com"
port = 993
security = "tls"
user_name = "replies@example.com"
user_domain = "example.com"

[[company]]
id = "acme"
name = "Acme Ltd"
default_mail_setting = "old-basic"

[[company]]
id = "globex"
name = "Globex"
default_mail_setting = "old-basic"
"#;

/// Every file under `dir`, recursively, as text (lossy).
pub fn all_files_text(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}
