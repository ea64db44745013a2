//! The real OS credential store: GNOME Keyring's Secret Service on a private
//! session bus (started by scripts/test). Long values (over Windows' 2,560-byte
//! limit) round-trip; nothing reaches the config file.

use mailsettings::Secret;
use mailsettings::store::{SecretKind, Secrets};

use crate::support::{CANARY, SAMPLE, Sandbox, all_files_text, assert_exit, run_command, stdout};

fn real_store_required() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real Secret Service: run them through scripts/test, which starts \
         a session bus and GNOME Keyring"
    );
}

fn unique(name: &str) -> String {
    format!(
        "it-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    )
}

#[test]
fn the_secret_service_stores_reads_and_deletes() {
    real_store_required();
    let secrets = Secrets::os();
    secrets.check_available().expect("Secret Service reachable");
    let id = unique("rw");
    assert!(secrets.get(&id, SecretKind::SmtpPassword).unwrap().is_none());
    secrets.set(&id, SecretKind::SmtpPassword, &Secret::new(CANARY)).unwrap();
    assert_eq!(secrets.get(&id, SecretKind::SmtpPassword).unwrap().unwrap().expose(), CANARY);
    secrets.set(&id, SecretKind::SmtpPassword, &Secret::new("replaced")).unwrap();
    assert_eq!(secrets.get(&id, SecretKind::SmtpPassword).unwrap().unwrap().expose(), "replaced");
    secrets.delete(&id, SecretKind::SmtpPassword).unwrap();
    assert!(secrets.get(&id, SecretKind::SmtpPassword).unwrap().is_none());
}

#[test]
fn values_longer_than_the_windows_limit_round_trip() {
    real_store_required();
    let secrets = Secrets::os();
    let id = unique("long");
    // A Microsoft-sized token set: 6 KB, unicode included.
    let long: String = (0..6000).map(|i| if i % 97 == 0 { 'é' } else { char::from(b'a' + (i % 26) as u8) }).collect();
    secrets.set(&id, SecretKind::OAuthTokens, &Secret::new(long.clone())).unwrap();
    assert_eq!(secrets.get(&id, SecretKind::OAuthTokens).unwrap().unwrap().expose(), long);
    secrets.set(&id, SecretKind::OAuthTokens, &Secret::new("short now")).unwrap();
    assert_eq!(secrets.get(&id, SecretKind::OAuthTokens).unwrap().unwrap().expose(), "short now");
    secrets.delete_all(&id).unwrap();
    assert!(secrets.get(&id, SecretKind::OAuthTokens).unwrap().is_none());
}

#[test]
fn the_cli_keeps_passwords_in_the_keyring_not_in_files() {
    real_store_required();
    let sandbox = Sandbox::new();
    let id = unique("cli");
    std::fs::write(sandbox.config(), SAMPLE.replace("old-basic", &id)).unwrap();
    let mut command = std::process::Command::new(crate::support::BIN);
    command.arg("--config").arg(sandbox.config()).args(["set-password", &id]).env_remove("MAILSETTINGS_SECRET_STORE");
    let output = run_command(command, &format!("{CANARY}\n"));
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("Secret Service"), "{}", stdout(&output));
    let stored = Secrets::os().stored_passwords(&id).unwrap();
    assert!(stored.smtp && stored.imap);
    for (path, text) in all_files_text(sandbox.dir.path()) {
        assert!(!text.contains(CANARY), "canary in {}", path.display());
    }
    Secrets::os().delete_all(&id).unwrap();
}

#[test]
fn without_a_session_bus_the_error_is_plain_and_nothing_falls_back() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut command = std::process::Command::new(crate::support::BIN);
    command
        .arg("--config")
        .arg(sandbox.config())
        .args(["set-password", "old-basic"])
        .env_remove("MAILSETTINGS_SECRET_STORE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", sandbox.dir.path());
    let output = run_command(command, &format!("{CANARY}\n"));
    assert_exit(&output, 1);
    let err = crate::support::stderr(&output);
    assert!(err.contains("cannot be reached") && err.contains("MAILSETTINGS_SECRET_STORE=file:PATH"), "{err}");
    for (path, text) in all_files_text(sandbox.dir.path()) {
        assert!(!text.contains(CANARY), "canary in {}", path.display());
    }
}
