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
use std::process::{Command, Stdio};

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
pub fn windows_arguments(command: &str, variables: &[(&str, &str)]) -> Vec<String> {
    winsplit::split(command)
        .into_iter()
        .map(|word| variables.iter().fold(word, |word, (name, value)| word.replace(&format!("%{name}%"), value)))
        .collect()
}

fn process(command: &str, variables: &[(&str, &str)]) -> Result<Command, String> {
    if cfg!(windows) {
        if let Some(problem) = problem(command) {
            return Err(problem);
        }
        let arguments = windows_arguments(command, variables);
        let (program, rest) = arguments.split_first().ok_or("the alert command is empty")?;
        let mut process = Command::new(program);
        process.args(rest);
        Ok(process)
    } else {
        let mut process = Command::new("sh");
        process.arg("-c").arg(command);
        Ok(process)
    }
}

/// Runs `command` with `variables` in its environment and `json` on its standard input.
pub fn run(command: &str, variables: &[(&str, &str)], json: &str) -> Result<(), String> {
    let mut process = process(command, variables)?;
    process.envs(variables.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = process.spawn().map_err(|e| format!("the alert command could not start: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input has closed it: that is no failure.
        match stdin.write_all(json.as_bytes()) {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                tracing::debug!("the alert command's input was not written: {err}");
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| format!("the alert command could not be waited for: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the alert command failed ({status})")) }
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
        assert_eq!(run("exit 3", &[], "").unwrap_err(), "the alert command failed (exit status: 3)");
    }
}
