//! The alert command channel: starting the program the admin named with the
//! alert in its environment and as one JSON document on standard input — and
//! never letting a shell read the alert's own words (a setting's description, a
//! server's reply) as commands.
//!
//! On Linux and macOS the command line is the admin's and runs under `sh -c`; the
//! alert's values are only in the environment, and a POSIX shell never parses the
//! result of an expansion as operators. On Windows there is no such shell: `cmd`
//! expands `%VAR%` *before* it parses `&`, `|` and `>`, so a description such as
//! `Coll & calc` would run a program. There the command line is split as Windows
//! programs split theirs (`CommandLineToArgvW`), the program is started directly,
//! and a `%MAILSETTINGS_ALERT_…%` placeholder becomes (part of) one argument.

use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why the alert command did not tell the alert.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the alert command is empty")]
    Empty,
    /// The command as written cannot be run on this OS (see [`problem`]).
    #[error("{0}")]
    Refused(String),
    #[error("the alert command could not start: {0}")]
    Start(#[source] std::io::Error),
    #[error("the alert command could not be waited for: {0}")]
    Wait(#[source] std::io::Error),
    #[error("the alert command failed ({0})")]
    Failed(ExitStatus),
    #[error("the alert command did not finish within {seconds} s and was stopped")]
    Stopped { seconds: f64 },
}

/// Why the command cannot be run as it is written (None when it can).
pub fn problem(command: &str) -> Option<String> {
    let words = winsplit::split(command);
    let program = words.first()?;
    let name = program.rsplit(['\\', '/']).next().unwrap_or(program).to_ascii_lowercase();
    (cfg!(windows) && matches!(name.as_str(), "cmd" | "cmd.exe")).then(|| {
        "the alert command starts cmd, which would read a setting's description as commands: name the \
         program or script itself (C:\\alerts\\alert.exe, or powershell -NoProfile -File C:\\alerts\\alert.ps1), \
         which finds the alert in its environment and as JSON on its standard input"
            .to_owned()
    })
}

/// The Windows argument list: `command` split as Windows splits a command line, each
/// `%NAME%` of `variables` replaced inside the argument it stands in.
pub(crate) fn windows_arguments(command: &str, variables: &[(&str, &str)]) -> Vec<String> {
    winsplit::split(command)
        .into_iter()
        .map(|word| variables.iter().fold(word, |word, (name, value)| word.replace(&format!("%{name}%"), value)))
        .collect()
}

fn process(command: &str, variables: &[(&str, &str)]) -> Result<Command, CommandError> {
    if cfg!(windows) {
        if let Some(problem) = problem(command) {
            return Err(CommandError::Refused(problem));
        }
        let arguments = windows_arguments(command, variables);
        let (program, rest) = arguments.split_first().ok_or(CommandError::Empty)?;
        let mut process = Command::new(program);
        process.args(rest);
        Ok(process)
    } else {
        let mut process = Command::new("sh");
        process.arg("-c").arg(command);
        Ok(process)
    }
}

/// How long an alert command may run: a hung one must not keep `check --all` from
/// recording its run (or the next scheduled run from starting).
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `command` with `variables` in its environment and `json` on its standard
/// input, stopped (with what it started) past [`DEADLINE`].
pub fn run(command: &str, variables: &[(&str, &str)], json: &str) -> Result<(), CommandError> {
    run_within(command, variables, json, DEADLINE)
}

fn run_within(command: &str, variables: &[(&str, &str)], json: &str, deadline: Duration) -> Result<(), CommandError> {
    let mut process = process(command, variables)?;
    process.envs(variables.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut process, 0);
    let mut child = process.spawn().map_err(CommandError::Start)?;
    if let Some(mut stdin) = child.stdin.take() {
        let json = json.to_owned();
        // Written aside: a command that never reads a large input must not block us past the deadline.
        std::thread::spawn(move || match stdin.write_all(json.as_bytes()) {
            // A command that does not read its input has closed it: that is no failure.
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                tracing::debug!("the alert command's input was not written: {err}");
            }
            _ => {}
        });
    }
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(CommandError::Wait)? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(CommandError::Failed(status)),
            None if started.elapsed() >= deadline => {
                stop(&mut child);
                return Err(CommandError::Stopped { seconds: deadline.as_secs_f64() });
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Stops `child` and, on Unix, every process it started (its own process group).
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Some(group) = rustix::process::Pid::from_raw(child.id().cast_signed()) {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_arguments_keep_each_value_inside_its_argument() {
        let name = "x & echo pwned > f";
        let arguments = windows_arguments(
            r#""C:\Program Files\Alerts\alert.exe" --name "%MAILSETTINGS_ALERT_NAME%" --state=%MAILSETTINGS_ALERT_STATE% %OTHER%"#,
            &[("MAILSETTINGS_ALERT_NAME", name), ("MAILSETTINGS_ALERT_STATE", "failing")],
        );
        assert_eq!(
            arguments,
            [r"C:\Program Files\Alerts\alert.exe", "--name", name, "--state=failing", "%OTHER%"],
            "one argument per value, quotes and operators in it kept as text"
        );
    }

    #[test]
    fn the_command_gets_the_alert_in_its_environment_and_as_json_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let command =
            format!("cat > '{}'; printf '%s' \"$MAILSETTINGS_ALERT_NAME\" >> '{}'", out.display(), out.display());
        run(&command, &[("MAILSETTINGS_ALERT_NAME", "x & echo pwned > f")], "{\"a\":1}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\":1}x & echo pwned > f");
        assert!(!dir.path().join("f").exists());
        // A command that never reads its input still succeeds.
        run("true", &[], &"x".repeat(1 << 20)).unwrap();
        assert_eq!(run("exit 3", &[], "").unwrap_err().to_string(), "the alert command failed (exit status: 3)");
    }

    #[cfg(unix)]
    #[test]
    fn a_hung_command_is_stopped_at_its_deadline_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let late = dir.path().join("late");
        let started = Instant::now();
        let command = format!("(sleep 1; touch '{}') & wait", late.display());
        let stopped = run_within(&command, &[], &"x".repeat(1 << 20), Duration::from_millis(300)).unwrap_err();
        assert_eq!(stopped.to_string(), "the alert command did not finish within 0.3 s and was stopped");
        assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
        std::thread::sleep(Duration::from_millis(1300));
        assert!(!late.exists(), "what the command started was stopped with it");
    }
}
