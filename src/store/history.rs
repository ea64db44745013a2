//! The kept history of checks: each check's outcome per setting, as JSON lines
//! beside the audit log (`checks.jsonl`), so "failing since 09:12 yesterday" and the
//! table's "Last tests" survive a restart. Bounded: past [`MAX_LINES`] the oldest
//! half goes (rewritten atomically). Never a secret — outcomes and reasons only, the
//! reasons taken from already-redacted reports.

use crate::clock::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Lines kept at most; past it, the newest half stays.
pub const MAX_LINES: usize = 4000;

/// One check of one setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub time: Timestamp,
    pub setting: String,
    /// `incoming`, `outgoing`, `token`.
    pub check: String,
    /// `ok`, `attention`, `temporary`, `failing`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// What to do about a failure, and who does it, when the diagnosis knew.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_step: String,
}

pub(crate) fn history_path_for(config_path: &Path) -> PathBuf {
    config_path.with_file_name("checks.jsonl")
}

/// Appends `entries`; trims the file to its newest half once it holds more than [`MAX_LINES`].
pub fn append(path: &Path, entries: &[HistoryEntry]) {
    if entries.is_empty() {
        return;
    }
    let written = crate::folders::open_private_append(path).and_then(|mut file| {
        // One appender at a time: the window, the CLI and a scheduled run may overlap.
        file.lock()?;
        let mut text = String::new();
        for entry in entries {
            if let Ok(line) = serde_json::to_string(entry) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        file.write_all(text.as_bytes())?;
        trim(path)
    });
    if let Err(err) = written {
        tracing::warn!("could not write the check history {}: {err}", path.display());
    }
}

/// Keeps the newest half of the lines once there are too many (called under the lock).
fn trim(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_LINES {
        return Ok(());
    }
    let kept = lines[lines.len() - MAX_LINES / 2..].join("\n") + "\n";
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(folder)?;
    temp.write_all(kept.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map(|_| ()).map_err(|err| err.error)
}

/// Every entry, oldest first (lines that do not parse are skipped).
pub fn read(path: &Path) -> Vec<HistoryEntry> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// When the last `check` of any setting ran, read from the file's end only (the
/// window asks this while drawing).
pub(crate) fn last_time(path: &Path, check: &str) -> Option<Timestamp> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(8192))).ok()?;
    let mut tail = String::new();
    file.take(8192).read_to_string(&mut tail).ok()?;
    tail.lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<HistoryEntry>(line).ok())
        .find(|entry| entry.check == check)
        .map(|entry| entry.time)
}

/// Since when `setting`'s `check` has had its latest outcome (the first entry of the
/// current run of equal outcomes), and the entry before that run, if any.
pub fn since<'h>(
    history: &'h [HistoryEntry],
    setting: &str,
    check: &str,
) -> Option<(&'h HistoryEntry, Option<&'h HistoryEntry>)> {
    let mine: Vec<&HistoryEntry> = history.iter().filter(|e| e.setting == setting && e.check == check).collect();
    let last = mine.last()?;
    let start = mine.iter().rposition(|e| e.outcome != last.outcome).map_or(0, |i| i + 1);
    Some((mine[start], start.checked_sub(1).map(|i| mine[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(minute: u32, outcome: &str) -> HistoryEntry {
        HistoryEntry {
            time: format!("2026-12-03T09:{minute:02}:00Z").parse().unwrap(),
            setting: "ar".into(),
            check: "incoming".into(),
            outcome: outcome.into(),
            reason: String::new(),
            next_step: String::new(),
        }
    }

    #[test]
    fn the_history_is_bounded_and_says_since_when() {
        let dir = tempfile::tempdir().unwrap();
        let path = history_path_for(&dir.path().join("config.toml"));
        append(&path, &[entry(0, "ok"), entry(10, "failing"), entry(20, "failing")]);
        let history = read(&path);
        let (since, before) = since(&history, "ar", "incoming").unwrap();
        assert_eq!(
            (since.time.to_string().as_str(), before.map(|b| b.outcome.as_str())),
            ("2026-12-03T09:10:00Z", Some("ok"))
        );
        assert_eq!(last_time(&path, "incoming").map(|t| t.to_string()).as_deref(), Some("2026-12-03T09:20:00Z"));
        assert_eq!(last_time(&path, "all"), None);
        let many: Vec<HistoryEntry> =
            (0..MAX_LINES + 10).map(|i| entry(u32::try_from(i % 60).unwrap(), "ok")).collect();
        append(&path, &many);
        let kept = read(&path).len();
        assert!((MAX_LINES / 2..=MAX_LINES).contains(&kept), "{kept}");
    }
}
