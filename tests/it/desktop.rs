//! The desktop's own notification service: alerts told to a real notification
//! daemon (dunst, from Debian) on a private session bus, with `dbus-monitor`
//! watching the bus — one notification per change of state, never one per run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailsettings::store::SecretKind;

use crate::oauth::{Browser, OAuthSandbox};
use crate::rig::rig;
use crate::support::{assert_exit, run_command, stderr, stdout};

/// A session bus of the test's own, a notification daemon on it, and a monitor of its
/// Notify calls. Everything is stopped when dropped.
struct NotificationDesk {
    address: String,
    bus: Child,
    daemon: Child,
    monitor: Child,
    monitored: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl NotificationDesk {
    fn start() -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "dunst draws on an X display: run the tests through scripts/test, which starts Xvfb"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (scripts/install-test-deps)");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().to_owned();
        let daemon = Command::new("dunst")
            .args(["-conf", "/dev/null"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst (scripts/install-test-deps)");
        let desk_ready = || {
            Command::new("dunstctl")
                .arg("is-paused")
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !desk_ready() {
            assert!(Instant::now() < deadline, "dunst did not take the notification service");
            std::thread::sleep(Duration::from_millis(50));
        }
        let monitored = dir.path().join("notify-calls.txt");
        let monitor = Command::new("dbus-monitor")
            .args([
                "--address",
                &address,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(std::fs::File::create(&monitored).unwrap())
            .spawn()
            .expect("dbus-monitor");
        std::thread::sleep(Duration::from_millis(300)); // the monitor's match rule in place
        Self { address, bus, daemon, monitor, monitored, _dir: dir }
    }

    /// The Notify calls seen on the bus so far (each from its "member=Notify" line).
    fn calls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.monitored).unwrap_or_default();
        text.split("method call").skip(1).filter(|c| c.contains("member=Notify")).map(str::to_owned).collect()
    }

    /// The notifications dunst holds (on screen, waiting, or in its history).
    fn held(&self) -> u32 {
        ["displayed", "waiting", "history"]
            .iter()
            .map(|which| {
                let output = Command::new("dunstctl")
                    .args(["count", which])
                    .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&output.stdout).trim().parse::<u32>().unwrap_or(0)
            })
            .sum()
    }
}

impl Drop for NotificationDesk {
    fn drop(&mut self) {
        for child in [&mut self.monitor, &mut self.daemon, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_desktop_alert_reaches_the_notification_service_once_per_change() {
    let rig = rig();
    let desk = NotificationDesk::start();
    let mut watched = rig.basic_setting("desk-watched", "ar");
    watched.description = "Desk mailbox".to_owned();
    let sandbox = OAuthSandbox::new(watched);
    let secrets = sandbox.secrets();
    let set_password = |password: &str| {
        for kind in [SecretKind::SmtpPassword, SecretKind::ImapPassword] {
            secrets.set("desk-watched", kind, &mailsettings::Secret::new(password)).unwrap();
        }
    };
    set_password(&rig.password);
    let run = |args: &[&str]| {
        let mut command = sandbox.command(Browser::Idle, args);
        command.env("DBUS_SESSION_BUS_ADDRESS", &desk.address);
        run_command(command, "")
    };
    assert_exit(&run(&["alerts", "set", "--desktop"]), 0);
    let test = run(&["alerts", "test"]);
    assert_exit(&test, 0);
    assert!(stdout(&test).contains("desktop: sent"), "{}", stdout(&test));

    assert_exit(&run(&["check", "--all", "--alert"]), 0);
    set_password("the-password-was-changed");
    // A check by hand (as "Check all now" does) keeps the failure in the history: it
    // must not silence the alert the next scheduled run owes.
    assert_exit(&run(&["check", "--all"]), 1);
    // Every channel down: the change reaches nobody, so it is told again next run.
    let mut undelivered = sandbox.command(Browser::Idle, &["check", "--all", "--alert"]);
    undelivered.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let undelivered = run_command(undelivered, "");
    assert_exit(&undelivered, 1);
    assert!(stderr(&undelivered).contains("told again on the next run"), "{}", stderr(&undelivered));
    assert_exit(&run(&["check", "--all", "--alert"]), 1);
    assert_exit(&run(&["check", "--all", "--alert"]), 1);
    set_password(&rig.password);
    assert_exit(&run(&["check", "--all", "--alert"]), 0);

    let deadline = Instant::now() + Duration::from_secs(5);
    while desk.calls().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let calls = desk.calls();
    assert_eq!(calls.len(), 3, "the test alert, the failure, the recovery — nothing per run: {calls:#?}");
    assert!(calls[0].contains("Mail Settings"), "{}", calls[0]);
    assert!(calls[1].contains("Desk mailbox") && calls[1].contains("stopped working"), "{}", calls[1]);
    assert!(calls[2].contains("Desk mailbox") && calls[2].contains("works again"), "{}", calls[2]);
    for call in &calls {
        assert!(!call.contains(&rig.password) && !call.contains("the-password-was-changed"), "no secret in an alert");
    }
    assert_eq!(desk.held(), 3, "dunst took all three");
}
