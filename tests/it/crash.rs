//! A config write killed at any moment leaves a complete file: the old one or
//! the new one, never a mix or a truncation.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::support::{BIN, SAMPLE, Sandbox};

/// An import file large enough (several MB) that writing takes a while.
fn big_import(settings: usize) -> String {
    let mut text = String::from("format = \"mailsettings/1\"\n");
    for n in 0..settings {
        text.push_str(&format!(
            "\n[[mail_setting]]\nid = \"bulk-{n}\"\ndescription = \"Bulk setting number {n} with a long description to make the file big\"\n\
             subject_tag = \"[BULK-{n}]\"\ncredential = \"basic\"\nactive = true\n\n[mail_setting.smtp]\nserver = \"smtp{n}.example.com\"\n\
             send_as = \"ar{n}@example.com\"\nuser_name = \"ar{n}@example.com\"\nuser_domain = \"example.com\"\n\n\
             [mail_setting.imap]\nserver = \"imap{n}.example.com\"\nuser_name = \"ar{n}@example.com\"\nuser_domain = \"example.com\"\n"
        ));
    }
    text
}

fn spawn_import(sandbox: &Sandbox, file: &std::path::Path) -> std::process::Child {
    Command::new(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .arg("import")
        .arg(file)
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

#[test]
fn a_write_killed_midway_leaves_the_old_file_intact() {
    let sandbox = Sandbox::new();
    let import = sandbox.write("big.toml", &big_import(6000));

    // How long a full import takes here, to spread the kills across it.
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let started = Instant::now();
    assert!(spawn_import(&sandbox, &import).wait().unwrap().success());
    let full = started.elapsed();
    let complete = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(complete.contains("bulk-5999"));

    let attempts = 24;
    let mut killed_while_running = 0;
    for attempt in 0..attempts {
        std::fs::write(sandbox.config(), SAMPLE).unwrap();
        let mut child = spawn_import(&sandbox, &import);
        std::thread::sleep(full.mul_f64(attempt as f64 / attempts as f64 * 1.1));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed_while_running += 1;
        }
        child.wait().unwrap();
        let after = std::fs::read_to_string(sandbox.config()).unwrap();
        assert!(
            after == SAMPLE || after == complete,
            "attempt {attempt}: the config is neither the old nor the new file ({} bytes)",
            after.len()
        );
    }
    assert!(
        killed_while_running >= attempts / 2,
        "only {killed_while_running} kills landed mid-run (full run {full:?})"
    );
}
