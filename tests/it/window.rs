//! The binary in a real X window (Xvfb, started by scripts/test): it opens a
//! window titled "Mail Settings" that draws the table, from a config file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BIN, SAMPLE, Sandbox};

fn display_required() -> String {
    std::env::var("DISPLAY").unwrap_or_else(|_| {
        panic!("this test opens a real window: run it through scripts/test, which starts Xvfb and sets DISPLAY")
    })
}

/// Window ids whose title is exactly `title`.
fn windows_named(title: &str) -> Vec<String> {
    let output = Command::new("xdotool").args(["search", "--name", &format!("^{title}$")]).output();
    output.map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned).collect()).unwrap_or_default()
}

#[test]
fn the_binary_opens_a_real_window_titled_mail_settings() {
    display_required();
    let _display = crate::support::display_lock();
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .env("XDG_DATA_HOME", sandbox.path("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the window");

    let started = Instant::now();
    let mut found = Vec::new();
    while started.elapsed() < Duration::from_secs(30) && found.is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!("the app exited with {status}: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(100));
        found = windows_named("Mail Settings");
    }
    assert!(!found.is_empty(), "no window titled \"Mail Settings\" within 30 s");

    // Let it draw, then check the screen is not blank: a drawn table has many colours.
    std::thread::sleep(Duration::from_millis(1500));
    let shot = sandbox.path("window.png");
    let status = Command::new("import").args(["-window", "root"]).arg(&shot).status().expect("run import");
    assert!(status.success());
    let colours = Command::new("identify").args(["-format", "%k"]).arg(&shot).output().expect("run identify");
    let count: u32 = String::from_utf8_lossy(&colours.stdout).trim().parse().unwrap_or(0);
    assert!(count > 20, "the screenshot has only {count} colours: nothing was drawn");
    if let Ok(keep) = std::env::var("MAILSETTINGS_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&shot, keep);
    }

    child.kill().unwrap();
    child.wait().unwrap();
    let log = sandbox.path("data/mailsettings/mailsettings.log");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log_text.contains("starting the window"), "the GUI logs to its data folder: {}", log.display());
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600, "the window log is private to its owner: {mode:o}");
}

/// The real window at 1024×640, driven from outside through its accessibility
/// tree (AT-SPI, as a screen reader sees it): controls found by the words on
/// screen and clicked with the real pointer where AT-SPI says they are
/// (tests/atspi/drive.py). scripts/test starts the accessibility bus.
#[test]
fn the_real_window_is_driven_through_its_accessibility_tree() {
    display_required();
    let _display = crate::support::display_lock();
    let sandbox = Sandbox::new();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .env("XDG_DATA_HOME", sandbox.path("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the window");
    let started = Instant::now();
    let mut found = Vec::new();
    while started.elapsed() < Duration::from_secs(30) && found.is_empty() {
        std::thread::sleep(Duration::from_millis(100));
        found = windows_named("Mail Settings");
    }
    assert!(!found.is_empty(), "no window titled \"Mail Settings\" within 30 s");
    for id in &found {
        let _ = Command::new("xdotool").args(["windowmove", id, "0", "0", "windowsize", id, "1024", "640"]).status();
    }
    std::thread::sleep(Duration::from_millis(800));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/atspi/drive.py");
    let output = Command::new("/usr/bin/python3").args([script, "1024", "640"]).output().expect("run drive.py");
    child.kill().unwrap();
    child.wait().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("drive.py printed no JSON ({e}): {stdout}\n{stderr}"));
    assert!(seen.get("error").is_none(), "{seen}\n{stderr}");
    assert_eq!(seen["credential_first"], true, "{seen}");
    assert_eq!(seen["guide_labels"], true, "the guide's words are the accessible names: {seen}");
    assert_eq!(seen["save_refused_with_reason"], true, "{seen}");
    assert_eq!(seen["sign_in_apps"], true, "{seen}");
    let steps = seen["steps"].as_array().unwrap();
    assert!(steps.len() == 5 && steps.iter().all(|s| s["on_screen"] == true), "{seen}");
    assert!(!sandbox.config().exists(), "nothing was saved from an incomplete form");
}
