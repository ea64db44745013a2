//! Checks on a schedule: a per-user timer that runs `check --all --alert` — a systemd
//! user timer on Linux (in the user's systemd folder under `$XDG_CONFIG_HOME`), a
//! LaunchAgent on macOS, a Task Scheduler task on Windows. The definitions are
//! generated here (and unit-tested); installing writes them and asks the OS's own
//! tool to start them, saying so plainly when that tool is not there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

/// The name the timer goes by, in every OS's list.
pub const NAME: &str = "mailsettings-check";

#[derive(Debug, Error)]
pub enum ScheduleError {
    #[error("\"{0}\" is not an interval: use minutes or hours, e.g. 30m, 1h, 6h (at least 5m, at most 24h)")]
    BadInterval(String),
    #[error("could not write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("could not remove {path}: {source}")]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("no folder for the user's timers is known on this system (HOME is not set)")]
    NoFolder,
    #[error(
        "this program runs from {where_}: {path} — a schedule would stop when it is cleaned away or unmounted. \
         Install Mail Settings (or copy it to a folder of yours) and run schedule install from there",
        path = .path.display()
    )]
    EphemeralProgram { path: PathBuf, where_: &'static str },
}

/// Parses `30m`, `1h`, `90m`, `6h`; between 5 minutes and a day.
pub(crate) fn parse_interval(text: &str) -> Result<Duration, ScheduleError> {
    let bad = || ScheduleError::BadInterval(text.to_owned());
    let trimmed = text.trim().to_ascii_lowercase();
    let (number, unit) = trimmed.split_at(trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len()));
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "m" | "min" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(bad)?;
    if !(300..=86_400).contains(&seconds) {
        return Err(bad());
    }
    Ok(Duration::from_secs(seconds))
}

/// What the timer runs: this program, on this config, checking everything and alerting on changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub program: PathBuf,
    pub config: PathBuf,
    pub every: Duration,
}

impl Job {
    fn arguments(&self) -> Vec<String> {
        vec![
            "--config".to_owned(),
            self.config.display().to_string(),
            "check".to_owned(),
            "--all".to_owned(),
            "--alert".to_owned(),
        ]
    }
}

/// systemd quoting for one word of `ExecStart=`: in double quotes, `\\` and `"`
/// escaped, `%` (a specifier) doubled, `$` (a variable) doubled, control characters
/// (a newline in a folder name) as C escapes — so the word reaches the program as it is.
fn systemd_word(word: &str) -> String {
    if word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c)) {
        return word.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in word.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '%' => quoted.push_str("%%"),
            '$' => quoted.push_str("$$"),
            '\n' => quoted.push_str("\\n"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", u32::from(c) & 0xff)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Why `program` is no place for a schedule to run from — a temporary folder (a
/// download run from where it was unpacked: cleaned away, often writable by others),
/// an AppImage's or a disk image's mount, macOS's App Translocation — or `None`.
pub(crate) fn ephemeral_location(program: &Path) -> Option<&'static str> {
    let real = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let program = real(program);
    let text = program.to_string_lossy();
    if text.contains("/AppTranslocation/") {
        Some("macOS's App Translocation (a copy made because the app was opened where it was downloaded)")
    } else if cfg!(target_os = "macos") && text.starts_with("/Volumes/") {
        Some("a mounted disk image")
    } else if text.starts_with("/tmp/.mount_") || std::env::var_os("APPIMAGE").is_some() {
        Some("an AppImage's mount")
    } else if program.starts_with(real(&std::env::temp_dir())) || text.starts_with("/dev/shm/") {
        Some("a temporary folder")
    } else {
        None
    }
}

/// The systemd user service and timer (file name, contents).
pub(crate) fn systemd_units(job: &Job) -> [(String, String); 2] {
    let mut exec = vec![systemd_word(&job.program.display().to_string())];
    exec.extend(job.arguments().iter().map(|a| systemd_word(a)));
    let service = format!(
        "[Unit]\nDescription=Mail Settings: check every Active mailbox\n\n[Service]\nType=oneshot\nExecStart={}\n",
        exec.join(" ")
    );
    let timer = format!(
        "[Unit]\nDescription=Mail Settings: check every mailbox every {}\n\n[Timer]\nOnBootSec=5min\n\
         OnUnitActiveSec={}s\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
        words(job.every),
        job.every.as_secs()
    );
    [(format!("{NAME}.service"), service), (format!("{NAME}.timer"), timer)]
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The macOS LaunchAgent (file name, contents).
pub fn launch_agent(job: &Job) -> (String, String) {
    let mut arguments = vec![job.program.display().to_string()];
    arguments.extend(job.arguments());
    let strings: String = arguments.iter().map(|a| format!("    <string>{}</string>\n", xml(a))).collect();
    let plist = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
         <key>Label</key>\n  <string>com.mailsettings.check</string>\n  <key>ProgramArguments</key>\n  \
         <array>\n{strings}  </array>\n  <key>StartInterval</key>\n  <integer>{}</integer>\n  \
         <key>RunAtLoad</key>\n  <true/>\n</dict>\n</plist>\n",
        job.every.as_secs()
    );
    ("com.mailsettings.check.plist".to_owned(), plist)
}

/// The Windows Task Scheduler task (file name, XML to import with `schtasks /Create /XML`).
pub fn scheduled_task(job: &Job) -> (String, String) {
    let arguments: Vec<String> =
        job.arguments().iter().map(|a| if a.contains(' ') { format!("\"{a}\"") } else { a.clone() }).collect();
    let minutes = job.every.as_secs() / 60;
    let task = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task version=\"1.2\" \
         xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n  <RegistrationInfo>\n    \
         <Description>Mail Settings: check every Active mailbox</Description>\n  </RegistrationInfo>\n  \
         <Triggers>\n    <TimeTrigger>\n      <StartBoundary>2026-01-01T00:00:00</StartBoundary>\n      \
         <Repetition>\n        <Interval>PT{minutes}M</Interval>\n      </Repetition>\n      \
         <Enabled>true</Enabled>\n    </TimeTrigger>\n  </Triggers>\n  <Settings>\n    \
         <StartWhenAvailable>true</StartWhenAvailable>\n    \
         <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n  </Settings>\n  <Actions>\n    \
         <Exec>\n      <Command>{}</Command>\n      <Arguments>{}</Arguments>\n    </Exec>\n  </Actions>\n</Task>\n",
        xml(&job.program.display().to_string()),
        xml(&arguments.join(" "))
    );
    (format!("{NAME}.xml"), task)
}

/// The bytes of a definition file in the encoding its XML declaration names: the
/// Task Scheduler's task declares UTF-16 (as the tasks Windows exports do), so it is
/// written as UTF-16LE with a byte-order mark — an XML reader takes the declaration at
/// its word, and UTF-8 bytes read as UTF-16 are not XML.
pub fn encoded(text: &str) -> Vec<u8> {
    if declared_encoding(text).is_some_and(|encoding| encoding.eq_ignore_ascii_case("UTF-16")) {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    } else {
        text.as_bytes().to_vec()
    }
}

/// A definition file read back: UTF-16 with a byte-order mark, else UTF-8.
pub fn decoded(bytes: &[u8]) -> Option<String> {
    let units = |bytes: &[u8], unit: fn([u8; 2]) -> u16| -> Option<String> {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]])).collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => units(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => units(rest, u16::from_be_bytes),
        _ => String::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes).to_vec()).ok(),
    }
}

/// The `encoding` of an `<?xml …?>` declaration.
fn declared_encoding(text: &str) -> Option<&str> {
    let declaration = text.strip_prefix("<?xml")?.split("?>").next()?;
    let value = declaration.split("encoding=").nth(1)?;
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    value[1..].split(quote).next()
}

/// The program a scheduled check runs: on Windows the window binary (built as a GUI
/// program, so no console window opens every interval) even when the console twin
/// `mailsettings-cli.exe` installed the schedule; elsewhere this program.
pub(crate) fn scheduled_program(current: &Path) -> PathBuf {
    let is_console_twin =
        current.file_stem().is_some_and(|stem| stem.to_string_lossy().eq_ignore_ascii_case("mailsettings-cli"));
    let window = current.with_file_name(if cfg!(windows) { "mailsettings.exe" } else { "mailsettings" });
    if cfg!(windows) && is_console_twin && window.is_file() { window } else { current.to_owned() }
}

/// "1 h", "30 min".
fn words(every: Duration) -> String {
    let minutes = every.as_secs() / 60;
    if minutes.is_multiple_of(60) { format!("{} h", minutes / 60) } else { format!("{minutes} min") }
}

/// Where this OS keeps the user's timer definitions.
pub fn folder() -> Result<PathBuf, ScheduleError> {
    if cfg!(target_os = "macos") {
        let home = std::env::var_os("HOME").ok_or(ScheduleError::NoFolder)?;
        return Ok(PathBuf::from(home).join("Library/LaunchAgents"));
    }
    if cfg!(windows) {
        return Ok(crate::folders::data_dir().unwrap_or_else(std::env::temp_dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .ok_or(ScheduleError::NoFolder)?;
    Ok(config.join("systemd/user"))
}

/// This OS's definitions for `job`.
pub(crate) fn definitions(job: &Job) -> Vec<(String, String)> {
    if cfg!(target_os = "macos") {
        vec![launch_agent(job)]
    } else if cfg!(windows) {
        vec![scheduled_task(job)]
    } else {
        systemd_units(job).to_vec()
    }
}

/// What installing did, in words for the admin.
#[derive(Debug, Clone)]
pub struct Installed {
    pub files: Vec<PathBuf>,
    /// The OS tool's part: the command that started it, or why it could not.
    pub started: Result<String, NotStarted>,
}

/// The OS's tool did not start the timer: the command to run by hand, and what the
/// tool (or starting it) said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{command} ({reason})")]
pub struct NotStarted {
    pub command: String,
    pub reason: String,
}

/// Writes the definitions into `folder` and asks the OS to start the timer.
pub fn install(job: &Job, folder: &Path) -> Result<Installed, ScheduleError> {
    if let Some(where_) = ephemeral_location(&job.program) {
        return Err(ScheduleError::EphemeralProgram { path: job.program.clone(), where_ });
    }
    std::fs::create_dir_all(folder).map_err(|source| ScheduleError::Write { path: folder.to_owned(), source })?;
    let mut files = Vec::new();
    for (name, text) in definitions(job) {
        let path = folder.join(name);
        std::fs::write(&path, encoded(&text)).map_err(|source| ScheduleError::Write { path: path.clone(), source })?;
        files.push(path);
    }
    let started = start(&files);
    Ok(Installed { files, started })
}

/// Runs the OS's tool: what it wrote on standard error (or why it did not start) when it fails.
fn run(program: &str, arguments: &[&str]) -> Result<(), String> {
    let output = std::process::Command::new(program).args(arguments).output().map_err(|e| e.to_string())?;
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()) }
}

fn start(files: &[PathBuf]) -> Result<String, NotStarted> {
    let first = files.first().map(|f| f.display().to_string()).unwrap_or_default();
    if cfg!(target_os = "macos") {
        let command = format!("launchctl load -w {first}");
        return run("launchctl", &["load", "-w", &first])
            .map(|()| command.clone())
            .map_err(|reason| NotStarted { command, reason });
    }
    if cfg!(windows) {
        let command = format!("schtasks /Create /TN {NAME} /XML \"{first}\" /F");
        return run("schtasks", &["/Create", "/TN", NAME, "/XML", &first, "/F"])
            .map(|()| command.clone())
            .map_err(|reason| NotStarted { command, reason });
    }
    let command = format!("systemctl --user daemon-reload && systemctl --user enable --now {NAME}.timer");
    run("systemctl", &["--user", "daemon-reload"])
        .and_then(|()| run("systemctl", &["--user", "enable", "--now", &format!("{NAME}.timer")]))
        .map(|()| command.clone())
        .map_err(|reason| NotStarted { command, reason })
}

/// Removes the definitions from `folder` (after asking the OS to stop the timer).
pub fn remove(folder: &Path) -> Result<Vec<PathBuf>, ScheduleError> {
    if cfg!(target_os = "macos") {
        let _ = run("launchctl", &["unload", "-w", &folder.join("com.mailsettings.check.plist").display().to_string()]);
    } else if cfg!(windows) {
        let _ = run("schtasks", &["/Delete", "/TN", NAME, "/F"]);
    } else {
        let _ = run("systemctl", &["--user", "disable", "--now", &format!("{NAME}.timer")]);
    }
    let placeholder = Job { program: PathBuf::new(), config: PathBuf::new(), every: Duration::from_secs(3600) };
    let mut removed = Vec::new();
    for (name, _) in definitions(&placeholder) {
        let path = folder.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ScheduleError::Remove { path, source }),
        }
    }
    if !cfg!(target_os = "macos") && !cfg!(windows) {
        let _ = run("systemctl", &["--user", "daemon-reload"]);
    }
    Ok(removed)
}

/// Whether a schedule is installed in `folder`, and its interval when it can be read.
pub fn installed(folder: &Path) -> Option<Option<Duration>> {
    let placeholder = Job { program: PathBuf::new(), config: PathBuf::new(), every: Duration::from_secs(3600) };
    let definitions = definitions(&placeholder);
    let paths: Vec<PathBuf> = definitions.iter().map(|(name, _)| folder.join(name)).collect();
    if !paths.iter().all(|p| p.exists()) {
        return None;
    }
    let text = paths.iter().filter_map(|p| decoded(&std::fs::read(p).ok()?)).collect::<String>();
    let seconds = ["OnUnitActiveSec=", "<integer>", "<Interval>PT"].iter().find_map(|key| {
        let rest = &text[text.find(key)? + key.len()..];
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u64>()
            .ok()
            .map(|n| if *key == "<Interval>PT" { n * 60 } else { n })
    });
    Some(seconds.map(Duration::from_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            program: PathBuf::from("/opt/Mail Settings/mailsettings"),
            config: PathBuf::from("/home/ar/.config/mailsettings/config.toml"),
            every: Duration::from_secs(3600),
        }
    }

    #[test]
    fn each_file_is_written_in_the_encoding_it_declares_and_read_back() {
        let (_, task) = scheduled_task(&job());
        let bytes = encoded(&task);
        assert_eq!(bytes[..2], [0xFF, 0xFE], "UTF-16LE with its byte-order mark");
        assert_eq!(bytes.len(), 2 + task.encode_utf16().count() * 2);
        assert_eq!(decoded(&bytes).as_deref(), Some(task.as_str()));
        let (_, plist) = launch_agent(&job());
        assert_eq!(encoded(&plist), plist.as_bytes(), "a UTF-8 declaration stays UTF-8");
        assert_eq!(decoded(b"\xEF\xBB\xBFplain").as_deref(), Some("plain"));
        assert_eq!(decoded(&[0xFF, 0xFE, 0x00, 0xD8]), None, "a lone surrogate is no text");
    }

    #[test]
    fn the_console_twin_schedules_the_window_binary_only_on_windows() {
        let dir = tempfile::tempdir().unwrap();
        let cli = dir.path().join("mailsettings-cli.exe");
        std::fs::write(dir.path().join("mailsettings.exe"), "").unwrap();
        let expected = if cfg!(windows) { dir.path().join("mailsettings.exe") } else { cli.clone() };
        assert_eq!(scheduled_program(&cli), expected);
        let plain = dir.path().join("mailsettings");
        assert_eq!(scheduled_program(&plain), plain);
    }

    #[test]
    fn intervals_are_minutes_or_hours_between_five_minutes_and_a_day() {
        assert_eq!(parse_interval("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_interval(" 30M ").unwrap(), Duration::from_secs(1800));
        for bad in ["", "1", "2m", "25h", "1d", "h", "-1h", "99999999999999999999h"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_systemd_units_run_check_all_with_alerts_every_interval() {
        let [(service_name, service), (timer_name, timer)] = systemd_units(&job());
        assert_eq!(
            (service_name.as_str(), timer_name.as_str()),
            ("mailsettings-check.service", "mailsettings-check.timer")
        );
        assert!(
            service.contains(
                "ExecStart=\"/opt/Mail Settings/mailsettings\" --config /home/ar/.config/mailsettings/config.toml check --all --alert"
            ),
            "{service}"
        );
        assert!(timer.contains("OnUnitActiveSec=3600s") && timer.contains("Persistent=true"), "{timer}");
        assert!(timer.contains("WantedBy=timers.target"));
        assert_eq!(systemd_word("100%"), "\"100%%\"", "systemd expands % specifiers");
        assert_eq!(systemd_word("/home/ar/$HOME/x"), "\"/home/ar/$$HOME/x\"", "and $ variables");
        assert_eq!(systemd_word("/srv/a\nb\u{7}"), "\"/srv/a\\nb\\x07\"", "a newline cannot end the line");
    }

    #[test]
    fn a_program_in_a_temporary_folder_is_not_scheduled() {
        let unpacked = std::env::temp_dir().join("mailsettings-1.0").join("mailsettings");
        assert_eq!(ephemeral_location(&unpacked), Some("a temporary folder"));
        assert_eq!(ephemeral_location(Path::new("/opt/Mail Settings/mailsettings")), None);
        assert!(
            ephemeral_location(Path::new("/private/var/folders/x/AppTranslocation/A/d/Mail Settings.app")).is_some()
        );
        let job = Job { program: unpacked, ..job() };
        let refused = install(&job, &std::env::temp_dir().join("never-written")).unwrap_err();
        assert!(refused.to_string().contains("runs from a temporary folder"), "{refused}");
        assert!(!std::env::temp_dir().join("never-written").exists());
    }

    #[test]
    fn the_launch_agent_and_the_task_name_the_program_and_interval() {
        let (name, plist) = launch_agent(&job());
        assert_eq!(name, "com.mailsettings.check.plist");
        assert!(
            plist.contains("<string>/opt/Mail Settings/mailsettings</string>")
                && plist.contains("<integer>3600</integer>")
        );
        assert!(plist.contains("<string>--alert</string>"));
        let (_, task) = scheduled_task(&job());
        assert!(task.contains("<Interval>PT60M</Interval>") && task.contains("check --all --alert"), "{task}");
        assert!(task.contains("<Command>/opt/Mail Settings/mailsettings</Command>"));
    }

    #[test]
    fn installed_reads_the_interval_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(installed(dir.path()), None);
        for (name, text) in definitions(&job()) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        assert_eq!(installed(dir.path()), Some(Some(Duration::from_secs(3600))));
    }
}
