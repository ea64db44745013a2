//! The Windows build, run under Wine: `scripts/windows` cross-builds
//! `mailsettings.exe`, `mailsettings-cli.exe` and the installer, and
//! `tests/windows/prefix` makes a 64-bit Wine prefix; `scripts/test` names both in
//! `MAILSETTINGS_WINDOWS_BUILD` and `MAILSETTINGS_WINE`. The CLI signs in to the rig's
//! Postfix, Dovecot and authorization server, keeps its secrets in Wine's Credential
//! Manager (the keyring crate's Windows store, not the file store), registers its
//! schedule with Wine's Task Scheduler; the window paints under Xvfb; the installer
//! installs per user and uninstalls. Also here, without Wine: the Windows and macOS
//! definition files checked by real parsers (xmllint with the task schema, plistlib).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mailsettings::model::MailSetting;

use crate::rig::rig;
use crate::support::{SAMPLE, assert_exit, run_command, stderr, stdout};

struct Windows {
    /// The folder with `mailsettings.exe` and `mailsettings-cli.exe`.
    build: PathBuf,
    /// The installer scripts/windows built.
    installer: PathBuf,
    /// The Wine prefix (`WINEPREFIX`).
    prefix: PathBuf,
    /// The test's own Windows programs (tests/windows/*.c).
    bin: PathBuf,
}

fn windows() -> &'static Windows {
    static WINDOWS: OnceLock<Windows> = OnceLock::new();
    WINDOWS.get_or_init(|| {
        let var = |name: &str| {
            PathBuf::from(std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is unset: these tests run the Windows build under Wine; run them through scripts/test")
            }))
        };
        let build = var("MAILSETTINGS_WINDOWS_BUILD");
        let wine = var("MAILSETTINGS_WINE");
        let installer = std::fs::read_dir(build.parent().unwrap().parent().unwrap().join("installer"))
            .expect("scripts/windows built the installer")
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().ends_with("-setup.exe"))
            .expect("the installer");
        Windows { build, installer, prefix: wine.join("prefix"), bin: wine.join("bin") }
    })
}

/// A Linux path as the Windows program sees it (Wine shows `/` as drive Z:).
fn win(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// `wine64 PROGRAM ARGS…` in the test prefix.
fn wine(program: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("/usr/lib/wine/wine64");
    command
        .arg(program)
        .args(args)
        .env("WINEPREFIX", &windows().prefix)
        .env("WINEARCH", "win64")
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        // The Windows program's own stores, never the Linux tests' file store.
        .env_remove("MAILSETTINGS_SECRET_STORE")
        .env_remove("MAILSETTINGS_CONFIG")
        .env("MAILSETTINGS_LOG", "trace");
    command
}

/// A sandbox whose config the Windows CLI reads by its Z: path.
struct WinSandbox {
    dir: tempfile::TempDir,
}

impl WinSandbox {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    /// A sandbox with the rig's settings, trusting the rig's CA by its Windows path.
    fn with_rig(settings: Vec<MailSetting>) -> Self {
        let sandbox = Self::new();
        let mut config = rig().config_with(settings);
        config.tls.extra_ca_files = vec![PathBuf::from(win(&rig().ca_file))];
        config.probe.step_timeout_secs = 20;
        std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
        sandbox
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let cli = windows().build.join("mailsettings-cli.exe");
        let mut with_config = vec!["--config".to_owned(), win(&self.config())];
        with_config.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = with_config.iter().map(String::as_str).collect();
        let mut command = wine(&cli, &refs);
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        run_command(self.command(args), "")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        run_command(self.command(args), stdin)
    }
}

/// What `reg export` of a key prints (UTF-16 on disk, read back as text).
fn registry(key: &str) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    let output = wine(Path::new("reg"), &["export", key, &win(file.path()), "/y"]).output().unwrap();
    if !output.status.success() {
        return String::new();
    }
    let bytes = std::fs::read(file.path()).unwrap();
    mailsettings::schedule::decoded(&bytes).unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn windows_cli_keeps_its_files_in_appdata_and_imports_a_file_with_crlf_line_ends() {
    let paths = run_command(wine(&windows().build.join("mailsettings-cli.exe"), &["paths"]), "");
    assert_exit(&paths, 0);
    let text = stdout(&paths);
    assert!(text.contains(r"\AppData\Roaming\mailsettings\config\config.toml"), "{text}");
    assert!(text.contains("secret store: Windows Credential Manager"), "{text}");

    let sandbox = WinSandbox::new();
    let crlf = sandbox.dir.path().join("from-notepad.toml");
    std::fs::write(&crlf, SAMPLE.replace('\n', "\r\n")).unwrap();
    let import = sandbox.run(&["import", &win(&crlf), "--yes"]);
    assert_exit(&import, 0);
    // Read as written: the Basic setting lacks its passwords here, the OAuth one is whole.
    let validate = sandbox.run(&["validate"]);
    assert_exit(&validate, 1);
    assert!(
        stdout(&validate).contains("old-basic: error: smtp.password") && stdout(&validate).contains("new-m365: OK")
    );
    let list = sandbox.run(&["list", "--json"]);
    assert_exit(&list, 0);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<&str> = rows.as_array().unwrap().iter().map(|row| row["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["old-basic", "new-m365"], "{}", stdout(&list));
}

#[test]
fn windows_passwords_live_in_the_credential_manager_and_both_tests_pass_on_the_rig() {
    let rig = rig();
    let id = "win-basic";
    let sandbox = WinSandbox::with_rig(vec![rig.basic_setting(id, "ar")]);
    assert_exit(&sandbox.run_with_stdin(&["set-password", id], &format!("{}\n", rig.password)), 0);
    // Wine keeps the Credential Manager in the registry: the entries are there, under our names.
    let store = registry(r"HKCU\Software\Wine\Credential Manager");
    for kind in ["smtp-password", "imap-password"] {
        let target = format!("{id}/{kind}.mailsettings");
        assert!(store.contains(&target), "{target} is in the Credential Manager:\n{store}");
    }
    assert!(!std::fs::read_to_string(sandbox.config()).unwrap().contains(&rig.password));

    let incoming = sandbox.run(&["test", "incoming", id]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("Test Incoming — OK"), "{}", stdout(&incoming));
    let outgoing = sandbox.run(&["test", "outgoing", id, "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("Test Outgoing — OK"), "{}", stdout(&outgoing));
    let check = sandbox.run(&["check", "--all", "--json"]);
    assert_exit(&check, 0);
    let json: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap_or_else(|e| {
        panic!("check --all --json: {e}\n{}", stdout(&check));
    });
    let text = json.to_string();
    assert!(text.contains(id) && !text.contains(&rig.password), "{text}");
    for output in [&incoming, &outgoing, &check] {
        assert!(!stdout(output).contains(&rig.password) && !stderr(output).contains(&rig.password));
    }
}

#[test]
fn windows_device_sign_in_keeps_its_tokens_in_the_credential_manager_and_token_hands_them_out() {
    use std::io::{BufRead, BufReader};
    let rig = rig();
    let id = "win-device";
    let sandbox = WinSandbox::new();
    let mut config = rig.config_with(vec![crate::oauth::oauth_setting(rig, id, "ar")]);
    config.tls.extra_ca_files = vec![PathBuf::from(win(&rig.ca_file))];
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();

    let mut child =
        sandbox.command(&["connect", id, "--device"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut uri, mut code) = (None, None);
    while uri.is_none() || code.is_none() {
        let line = lines.next().expect("the code is printed").unwrap();
        uri = uri.or_else(|| line.strip_prefix("On any device, open ").map(|s| s.trim().to_owned()));
        code = code.or_else(|| line.strip_prefix("and enter the code ").map(|s| s.trim().to_owned()));
    }
    let approve = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rig/device-approve"))
        .args([uri.unwrap().as_str(), code.unwrap().as_str(), "approve"])
        .env("RIG_CA_FILE", &rig.ca_file)
        .output()
        .unwrap();
    assert!(approve.status.success(), "device-approve: {}", String::from_utf8_lossy(&approve.stderr));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let connected = child.wait_with_output().unwrap();
    assert!(connected.status.success(), "connect: {rest:?}\n{}", stderr(&connected));
    assert!(rest.iter().any(|line| line.contains("Connected as ar@rig.test")), "{rest:?}");

    let token = sandbox.run(&["token", id]);
    assert_exit(&token, 0);
    let token = stdout(&token).trim_end().to_owned();
    assert!(crate::oauth::is_active(&token), "the Credential Manager gave back a token the server knows");
    assert!(!std::fs::read_to_string(sandbox.config()).unwrap().contains(&token), "no token in the config");
    assert_exit(&sandbox.run(&["test", "incoming", id]), 0);
}

#[test]
fn windows_alert_command_runs_the_program_itself_and_a_description_runs_nothing() {
    let rig = rig();
    let id = "win-alert";
    let mut setting = rig.basic_setting(id, "ar");
    setting.description = "x & echo pwned > f".to_owned();
    let sandbox = WinSandbox::with_rig(vec![setting]);
    assert_exit(&sandbox.run_with_stdin(&["set-password", id], "not-the-password\n"), 0);
    let record = windows().bin.join("record-args.exe");
    let command = format!("\"{}\" \"%MAILSETTINGS_ALERT_NAME%\" %MAILSETTINGS_ALERT_STATE%", win(&record));
    assert_exit(&sandbox.run(&["alerts", "set", "--command", &command]), 0);
    // cmd would read the description as commands: refused where it is typed.
    let refused = sandbox.run(&["alerts", "set", "--command", "cmd /c echo %MAILSETTINGS_ALERT_NAME%"]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(stderr(&refused).contains("starts cmd"), "{}", stderr(&refused));

    let recorded = sandbox.dir.path().join("args.txt");
    let check = sandbox.command(&["check", "--all", "--alert"]).env("RECORD_ARGS_TO", win(&recorded)).output().unwrap();
    assert_eq!(check.status.code(), Some(1), "the check failed: {}\n{}", stdout(&check), stderr(&check));
    let text = std::fs::read_to_string(&recorded).expect("the alert command ran");
    let (arguments, input) = text.split_once("--stdin--\n").unwrap();
    assert_eq!(arguments.lines().collect::<Vec<_>>(), ["x & echo pwned > f", "failing"], "{text}");
    let json: serde_json::Value = serde_json::from_str(input).unwrap();
    assert_eq!(json["mailsettings"]["name"], "x & echo pwned > f");
    let made: Vec<String> = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!made.iter().any(|name| name == "f"), "the description ran as a command: {made:?}");
}

#[test]
fn windows_schedule_registers_a_task_with_the_task_scheduler() {
    let sandbox = WinSandbox::with_rig(vec![rig().basic_setting("win-schedule", "ar")]);
    let install = sandbox.run(&["schedule", "install", "--every", "1h"]);
    assert_exit(&install, 0);
    let text = stdout(&install);
    assert!(text.contains("Started (schtasks /Create /TN mailsettings-check"), "{text}");
    let written = text.lines().find_map(|l| l.strip_prefix("Wrote ")).expect("the task file");
    let unix = written.trim().trim_start_matches("C:").replace('\\', "/");
    let task_file = windows().prefix.join("drive_c").join(unix.trim_start_matches('/'));
    let bytes = std::fs::read(&task_file).unwrap();
    assert_eq!(bytes[..2], [0xFF, 0xFE], "UTF-16LE with a byte-order mark, as declared");
    let task = mailsettings::schedule::decoded(&bytes).unwrap();
    assert!(task.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"), "{task}");
    assert!(task.contains(r"\mailsettings.exe</Command>"), "the window binary (no console window): {task}");
    assert!(task.contains("check --all --alert") && task.contains("PT60M"), "{task}");
    // Wine's Task Scheduler registered it (in system32\Tasks). Wine 8 keeps neither its
    // triggers nor its action there — what runs is checked in our file above.
    let registered = windows().prefix.join("drive_c/windows/system32/tasks/mailsettings-check");
    assert!(registered.is_file(), "schtasks /Create registered the task");
    let status = sandbox.run(&["schedule", "status"]);
    assert!(stdout(&status).contains("Scheduled: every 60 min"), "{}", stdout(&status));
    assert_exit(&sandbox.run(&["schedule", "remove"]), 0);
    assert!(!registered.exists(), "schtasks /Delete removed the task");
    assert!(stdout(&sandbox.run(&["schedule", "status"])).contains("Not scheduled"));
}

#[test]
fn windows_config_writes_and_the_secret_file_stay_whole_under_concurrent_processes() {
    let sandbox = WinSandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let secrets = sandbox.dir.path().join("secrets.json");
    let children: Vec<_> = (0..6)
        .map(|n| {
            let mut add = sandbox.command(&["add-company", &format!("company-{n}"), "--name", &format!("Company {n}")]);
            add.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .chain((0..6).map(|n| {
            // The opt-in file store, written by processes at once: its lock and atomic replace.
            let id = if n % 2 == 0 { "old-basic" } else { "new-m365" };
            let mut set = sandbox.command(&["set-password", id, if n < 3 { "--smtp" } else { "--imap" }]);
            set.env("MAILSETTINGS_SECRET_STORE", format!("file:{}", win(&secrets)))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = set.spawn().unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(format!("password-{n}\n").as_bytes()).unwrap();
            child
        }))
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|child| child.wait_with_output().unwrap()).collect();
    let config = mailsettings::store::file::parse_config(&std::fs::read(sandbox.config()).unwrap(), &sandbox.config())
        .expect("the config is whole");
    // A company whose process said it was added is in the file; a process that lost the
    // race said so and changed nothing (the lock makes the check and the replace one step).
    let mut added = 0;
    for (n, output) in outputs[..6].iter().enumerate() {
        let kept = config.companies.iter().any(|company| company.name == format!("Company {n}"));
        if output.status.success() {
            added += 1;
            assert!(kept, "process {n} succeeded but its company was lost: {:?}", config.companies);
        } else {
            assert!(stderr(output).contains("was changed by another program"), "{}", stderr(output));
            assert!(!kept);
        }
    }
    assert!(added >= 1, "at least the first process saves");
    for output in &outputs[6..] {
        assert_exit(output, 0);
    }
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&secrets).unwrap()).unwrap();
    // Two settings, each an outgoing and an incoming password: every write kept.
    assert_eq!(stored.as_object().unwrap().len(), 4, "{stored}");
}

#[test]
fn windows_window_opens_and_paints_the_mail_settings_table() {
    let _display = crate::support::display_lock();
    let rig = rig();
    let sandbox =
        WinSandbox::with_rig(vec![rig.basic_setting("win-window-1", "ar"), rig.basic_setting("win-window-2", "ar")]);
    let exe = windows().build.join("mailsettings.exe");
    let config = win(&sandbox.config());
    let mut window = wine(&exe, &["--config", &config]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let id = wine_window("Mail Settings", Duration::from_secs(60));
    let shot = screenshot_path("windows-window.png");
    let mut painted = false;
    if let Some(id) = &id {
        // The first frames are the table: wait until the window shows more than a blank colour.
        let started = Instant::now();
        while !painted && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(500));
            let status = Command::new("import").args(["-window", id]).arg(&shot).status().unwrap();
            let colours = Command::new("identify").args(["-format", "%k"]).arg(&shot).output().unwrap();
            painted = status.success() && stdout(&colours).trim().parse::<u32>().unwrap_or(0) > 20;
        }
    }
    let _ = window.kill();
    let _ = window.wait();
    let log = window_log_tail();
    assert!(id.is_some(), "the Windows window never appeared; its log:\n{log}");
    assert!(painted, "the window stayed blank ({}); its log:\n{log}", shot.display());
    assert!(window_log().contains("first frame drawn"), "{log}");
}

/// The visible X window of the Windows program titled `title`, waiting up to `wait`.
/// Wine names its windows' class after the program (WM_CLASS `mailsettings.exe`): the
/// Linux window tests on the same display open windows titled "Mail Settings" too.
fn wine_window(title: &str, wait: Duration) -> Option<String> {
    let started = Instant::now();
    while started.elapsed() < wait {
        let found = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--classname", r"^mailsettings\.exe$"])
            .output()
            .unwrap();
        for id in stdout(&found).lines() {
            let name = Command::new("xdotool").args(["getwindowname", id]).output().unwrap();
            if stdout(&name).trim_end() == title {
                return Some(id.to_owned());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// The Windows program's log (the prefix's %APPDATA%, shared by the tests that open windows).
fn window_log() -> String {
    let log = windows()
        .prefix
        .join("drive_c/users")
        .join(whoami())
        .join("AppData/Roaming/mailsettings/data/mailsettings.log");
    std::fs::read_to_string(log).unwrap_or_default()
}

/// The last lines of the Windows program's log (the prefix's %APPDATA%), for a failure message.
fn window_log_tail() -> String {
    let text = window_log();
    let lines: Vec<&str> = text.lines().filter(|line| !line.contains("OpenGL extensions")).collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// A Windows computer without OpenGL 2 (a remote desktop, a virtual machine without a
/// graphics driver): the window cannot open, and a double-click must not end in silence.
/// Mesa without its driver plays that computer.
#[test]
fn windows_window_that_cannot_open_says_why_in_a_message_box() {
    let _display = crate::support::display_lock();
    let sandbox = WinSandbox::new();
    let exe = windows().build.join("mailsettings.exe");
    let mut window = wine(&exe, &["--config", &win(&sandbox.config())])
        .env("LIBGL_DRIVERS_PATH", "/nonexistent")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let id = wine_window("Mail Settings could not start", Duration::from_secs(60));
    let Some(id) = id else {
        let _ = window.kill();
        panic!("no message box said the window could not open; the log:\n{}", window_log_tail());
    };
    let shot = screenshot_path("windows-no-opengl.png");
    assert!(Command::new("import").args(["-window", "root"]).arg(&shot).status().unwrap().success());
    // OK, as the admin clicks it: the middle of the box's bottom row (again every two
    // seconds: a click before the box takes input is lost).
    let geometry = stdout(&Command::new("xdotool").args(["getwindowgeometry", "--shell", &id]).output().unwrap());
    let value = |key: &str| -> i64 {
        geometry.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap().trim().parse().unwrap()
    };
    let (x, y) = (value("X") + value("WIDTH") / 2, value("Y") + value("HEIGHT") - 22);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = window.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = window.kill();
            break None;
        }
        let click = Command::new("xdotool").args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"]).status();
        assert!(click.unwrap().success());
        std::thread::sleep(Duration::from_secs(2));
    };
    // The pointer out of the way again: the real-window tests beside this one look at the screen.
    let _ = Command::new("xdotool").args(["mousemove", "0", "0"]).status();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "OK closes it and the program ends, failed");
}

fn whoami() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| stdout(&Command::new("whoami").output().unwrap()).trim().to_owned())
}

/// Where a test's screenshot goes: target/test-output (kept after the run, to be looked at).
fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn windows_installer_installs_for_the_user_alone_and_the_uninstaller_removes_it() {
    let w = windows();
    let installed = w.prefix.join("drive_c/users").join(whoami()).join("AppData/Local/Programs/Mail Settings");
    let install = run_command(wine(&w.installer, &["/S"]), "");
    assert_exit(&install, 0);
    for file in ["mailsettings.exe", "mailsettings-cli.exe", "uninstall.exe", "THIRD-PARTY-LICENSES.txt"] {
        assert!(installed.join(file).is_file(), "{file} installed in {}", installed.display());
    }
    let shortcut = w
        .prefix
        .join("drive_c/users")
        .join(whoami())
        .join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Mail Settings.lnk");
    assert!(shortcut.is_file(), "the Start-menu shortcut");
    let entry = registry(r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Uninstall\MailSettings");
    assert!(entry.contains("\"DisplayName\"=\"Mail Settings\"") && entry.contains("uninstall.exe"), "{entry}");
    let version = run_command(wine(&installed.join("mailsettings-cli.exe"), &["--version"]), "");
    assert_exit(&version, 0);
    assert_eq!(stdout(&version).trim(), format!("mailsettings {}", env!("CARGO_PKG_VERSION")));

    assert_exit(&run_command(wine(&installed.join("uninstall.exe"), &["/S"]), ""), 0);
    // The uninstaller copies itself away and goes on from there: wait for it.
    let started = Instant::now();
    while installed.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!installed.exists(), "the program folder is removed");
    assert!(!shortcut.exists(), "the shortcut is removed");
    assert!(registry(r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Uninstall\MailSettings").is_empty());
}

/// What a double-click starts has no console window behind it; the console twin keeps
/// one for scripts; both carry the app's icon (a resource section mingw's windres wrote).
#[test]
fn windows_programs_are_a_gui_and_a_console_program_with_the_icon() {
    let headers = |name: &str| {
        let output =
            Command::new("x86_64-w64-mingw32-objdump").args(["-p", "-h"]).arg(windows().build.join(name)).output();
        stdout(&output.unwrap())
    };
    let (window, console) = (headers("mailsettings.exe"), headers("mailsettings-cli.exe"));
    assert!(window.contains("(Windows GUI)"), "mailsettings.exe is a GUI program");
    assert!(console.contains("(Windows CUI)"), "mailsettings-cli.exe is a console program");
    for text in [&window, &console] {
        assert!(text.lines().any(|line| line.contains(".rsrc")), "the icon and version resources are embedded");
    }
}

// ---- the definition files, checked by real parsers (no Wine) ------------------

#[test]
fn the_task_scheduler_xml_is_utf16_as_declared_and_valid_against_the_task_schema() {
    let dir = tempfile::tempdir().unwrap();
    let job = mailsettings::schedule::Job {
        program: PathBuf::from(r"C:\Users\Jane Doe\AppData\Local\Programs\Mail Settings\mailsettings.exe"),
        config: PathBuf::from(r"C:\Users\Jane Doe\AppData\Roaming\R&D <AR>\config.toml"),
        every: Duration::from_secs(30 * 60),
    };
    let (name, text) = mailsettings::schedule::scheduled_task(&job);
    let path = dir.path().join(name);
    std::fs::write(&path, mailsettings::schedule::encoded(&text)).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/windows/task-schema.xsd");
    let check = Command::new("xmllint").arg("--noout").arg("--schema").arg(&schema).arg(&path).output().unwrap();
    assert!(check.status.success(), "xmllint: {}", stderr(&check));
    // The same text as UTF-8 bytes under its UTF-16 declaration is what Windows would have refused.
    let wrong = dir.path().join("utf8.xml");
    std::fs::write(&wrong, &text).unwrap();
    let refused = Command::new("xmllint").arg("--noout").arg(&wrong).output().unwrap();
    assert!(!refused.status.success(), "xmllint reads a UTF-16 declaration at its word");
    // What the task runs, read back through an XML parser.
    let arguments =
        Command::new("xmllint").args(["--xpath", "string(//*[local-name()='Arguments'])"]).arg(&path).output().unwrap();
    assert_eq!(
        stdout(&arguments).trim_end(),
        r#"--config "C:\Users\Jane Doe\AppData\Roaming\R&D <AR>\config.toml" check --all --alert"#
    );
}

#[test]
fn the_macos_launch_agent_and_info_plist_are_property_lists() {
    let job = mailsettings::schedule::Job {
        program: PathBuf::from("/Applications/Mail Settings.app/Contents/MacOS/mailsettings"),
        config: PathBuf::from("/Users/jane/Library/Application Support/rs.mailsettings/R&D <AR>.toml"),
        every: Duration::from_secs(3600),
    };
    let (_, agent) = mailsettings::schedule::launch_agent(&job);
    let info =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/macos/Info.plist")).unwrap();
    let script = "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read()), default=str))";
    let parse = |text: &str| -> serde_json::Value {
        let output = run_command(
            {
                let mut python = Command::new("python3");
                python.args(["-c", script]);
                python
            },
            text,
        );
        assert!(output.status.success(), "plistlib: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let agent = parse(&agent);
    assert_eq!(agent["StartInterval"], 3600);
    assert_eq!(agent["ProgramArguments"][0], "/Applications/Mail Settings.app/Contents/MacOS/mailsettings");
    assert_eq!(agent["ProgramArguments"][2], "/Users/jane/Library/Application Support/rs.mailsettings/R&D <AR>.toml");
    let info = parse(&info);
    assert_eq!(info["CFBundleIdentifier"], "rs.mailsettings");
}

/// Microsoft Graph from the Windows program: an app-only setting (the daemon app's client
/// secret in the Credential Manager) sends the guide's two messages and reads the folders
/// through the rig's Graph — the same roads, HTTP client and trust store under Windows.
#[test]
fn windows_sends_and_reads_through_microsoft_graph() {
    let rig = rig();
    let id = "win-graph";
    let sandbox = WinSandbox::new();
    let mut setting = rig.basic_setting(id, "ar");
    setting.credential = mailsettings::model::CredentialKind::Microsoft365;
    setting.oauth_flow = mailsettings::model::OAuthFlow::App;
    setting.smtp.sends_with = mailsettings::model::setting::Transport::Graph;
    setting.imap.reads_with = mailsettings::model::setting::Transport::Graph;
    let mut config = rig.config_with(vec![setting]);
    config.tls.extra_ca_files = vec![PathBuf::from(win(&rig.ca_file))];
    let mut entry = crate::oauth::provider_entry(rig, "microsoft365");
    entry.scopes.clear();
    entry.client_id = crate::rig::DAEMON_APP_ID.to_owned();
    entry.api_url = Some(rig.graph_url.clone());
    config.oauth_providers.push(entry);
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let set = ["oauth-app", "set", "microsoft365", "--client-id", crate::rig::DAEMON_APP_ID, "--client-secret-stdin"];
    assert_exit(&sandbox.run_with_stdin(&set, &format!("{}\n", crate::rig::APP_ONLY_SECRET)), 0);
    let outgoing = sandbox.run(&["test", "outgoing", id, "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    let said = stdout(&outgoing);
    assert!(said.contains("Test Outgoing — OK") && said.contains("(Microsoft Graph) as ar@rig.test"), "{said}");
    let incoming = sandbox.run(&["test", "incoming", id]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("Test Incoming — OK"), "{}", stdout(&incoming));
    assert!(rig.api_requests("ar").iter().any(|r| r == "POST /v1.0/users/ar@rig.test/sendMail"));
}
