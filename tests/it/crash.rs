//! A config write killed or failing at any step leaves a complete file — the
//! old one or the new one, never a mix or a truncation — a `.bak` of the old one
//! once the new one is in place, and no temporary file after the next write.
//!
//! The faults land exactly where they matter: strace injects a SIGKILL (or an
//! error) at the chosen fsync or rename of the real binary, so no kill depends on
//! timing. A save writes two files the same way — first the `.bak`, then the
//! config — each as: temp file, fsync, rename, fsync of the folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{BIN, SAMPLE, Sandbox};

fn import_text() -> String {
    let mut text = String::from("format = \"mailsettings/1\"\n");
    for n in 0..50 {
        text.push_str(&format!(
            "\n[[mail_setting]]\nid = \"bulk-{n}\"\ndescription = \"Bulk setting {n}\"\nsubject_tag = \"[BULK-{n}]\"\n\
             credential = \"basic\"\nactive = true\n\n[mail_setting.smtp]\nserver = \"smtp{n}.example.com\"\n\
             send_as = \"ar{n}@example.com\"\nuser_name = \"ar{n}@example.com\"\nuser_domain = \"example.com\"\n\n\
             [mail_setting.imap]\nserver = \"imap{n}.example.com\"\nuser_name = \"ar{n}@example.com\"\nuser_domain = \"example.com\"\n"
        ));
    }
    text
}

/// Runs `import` under strace with `fault` (an strace `-e inject=` expression;
/// empty for none).
fn import(sandbox: &Sandbox, file: &Path, fault: &str) -> Output {
    let mut command = Command::new("strace");
    command.args(["-f", "-qq", "-o", "/dev/null"]);
    if !fault.is_empty() {
        command.arg("-e").arg(format!("inject={fault}"));
    }
    command
        .arg(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .arg("import")
        .arg(file)
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .output()
        .expect("strace (scripts/install-test-deps installs it)")
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(".mailsettings-")))
        .collect()
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Which version a file holds, in a word (assertion messages stay short).
fn version(path: &Path, complete: &str) -> String {
    match read(path) {
        None => "absent".to_owned(),
        Some(text) if text == SAMPLE => "old".to_owned(),
        Some(text) if text == complete => "new".to_owned(),
        Some(text) => format!("neither ({} bytes)", text.len()),
    }
}

/// Both renames go through whichever call this libc uses for rename().
const RENAMES: [&str; 3] = ["rename", "renameat", "renameat2"];

fn at_rename(n: u32, action: &str) -> String {
    format!("{}:{action}:when={n}", RENAMES.join(","))
}

#[test]
fn a_write_killed_at_each_step_leaves_the_old_or_the_new_file_and_a_backup() {
    let probe = Command::new("strace").args(["-qq", "-o", "/dev/null", "true"]).output().expect("strace");
    assert!(probe.status.success(), "strace cannot trace here: {}", String::from_utf8_lossy(&probe.stderr));
    let sandbox = Sandbox::new();
    let import_file = sandbox.write("import.toml", &import_text());
    let backup = sandbox.path("config.toml.bak");

    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let clean = import(&sandbox, &import_file, "");
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    let complete = read(&sandbox.config()).unwrap();
    assert!(complete.contains("bulk-49") && complete != SAMPLE);
    assert!(temp_files(sandbox.dir.path()).is_empty());

    // (fault, what the config holds after, what the .bak holds after)
    let cases = [
        ("fsync:signal=SIGKILL:when=1".to_owned(), "old", "absent"), // the .bak's temp written, not renamed
        (at_rename(1, "signal=SIGKILL"), "old", "absent"),           // just before the .bak's rename
        ("fsync:signal=SIGKILL:when=3".to_owned(), "old", "old"),    // the config's temp written
        (at_rename(2, "signal=SIGKILL"), "old", "old"),              // just before the config's rename
        ("fsync:signal=SIGKILL:when=4".to_owned(), "new", "old"),    // renamed, folder not yet synced
    ];
    for (fault, config_after, backup_after) in &cases {
        std::fs::write(sandbox.config(), SAMPLE).unwrap();
        let _ = std::fs::remove_file(&backup);
        let output = import(&sandbox, &import_file, fault);
        assert!(!output.status.success(), "{fault}: the process was not killed");
        assert_eq!(version(&sandbox.config(), &complete), *config_after, "{fault}: the config");
        assert_eq!(version(&backup, &complete), *backup_after, "{fault}: the .bak");
        // A kill leaves its temp file (nothing can remove it); it holds no half-written config.
        for temp in temp_files(sandbox.dir.path()) {
            let text = read(&temp).unwrap();
            assert!(text.is_empty() || text == SAMPLE || text == complete, "{fault}: a partial temp file");
        }
    }

    // The next write removes what the killed writes left (once old enough not to be
    // another process's write in progress).
    let left = temp_files(sandbox.dir.path());
    assert!(!left.is_empty(), "the killed writes left temp files");
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for temp in &left {
        std::fs::File::options().write(true).open(temp).unwrap().set_modified(an_hour_ago).unwrap();
    }
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    assert!(import(&sandbox, &import_file, "").status.success());
    assert_eq!(version(&sandbox.config(), &complete), "new");
    assert_eq!(version(&backup, &complete), "old");
    assert!(temp_files(sandbox.dir.path()).is_empty(), "left behind: {:?}", temp_files(sandbox.dir.path()));
}

#[test]
fn a_write_that_fails_says_why_keeps_the_old_file_and_leaves_no_temp_file() {
    let sandbox = Sandbox::new();
    let import_file = sandbox.write("import.toml", &import_text());
    let cases = [
        ("fsync:error=EIO:when=3".to_owned(), "flush", "Input/output error"),
        (at_rename(2, "error=EXDEV"), "replace", "cross-device link"),
        ("fsync:error=ENOSPC:when=1".to_owned(), "flush", "No space left on device"),
    ];
    for (fault, step, reason) in &cases {
        std::fs::write(sandbox.config(), SAMPLE).unwrap();
        let output = import(&sandbox, &import_file, fault);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{fault}: the import reported success");
        assert!(stderr.contains(step) && stderr.to_lowercase().contains(&reason.to_lowercase()), "{fault}: {stderr}");
        assert!(stderr.contains("config.toml"), "{fault}: the message names the file: {stderr}");
        assert_eq!(version(&sandbox.config(), ""), "old", "{fault}: the config changed");
        assert!(temp_files(sandbox.dir.path()).is_empty(), "{fault}: {:?}", temp_files(sandbox.dir.path()));
    }
}
