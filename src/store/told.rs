//! What the alerts last told about each mailbox (`alerts-told.json` beside the
//! config). Alerts compare a new check with this, not with the check history: the
//! history is also written by "Check all now" and a `check --all` without `--alert`,
//! and a change that reached nobody (every channel down) must be told on the next
//! run. A state is recorded only once a channel delivered it.

use crate::clock::Timestamp;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StoreError;

/// The told state of every setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToldStates {
    #[serde(default)]
    pub settings: BTreeMap<String, ToldState>,
}

/// One setting's last told state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToldState {
    /// `ok`, `attention` or `failing`.
    pub state: String,
    /// When it was told: the state's start as far as alerts know.
    pub since: Timestamp,
}

impl ToldStates {
    pub fn get(&self, setting: &str) -> Option<&ToldState> {
        self.settings.get(setting)
    }

    /// Records `state` for `setting` as told now.
    pub fn record(&mut self, setting: &str, state: &str) {
        let told = ToldState { state: state.to_owned(), since: crate::clock::Timestamp::now() };
        self.settings.insert(setting.to_owned(), told);
    }
}

pub(crate) fn told_path_for(config_path: &Path) -> PathBuf {
    config_path.with_file_name("alerts-told.json")
}

/// Reads the told states, lets `change` tell and record, and writes them back — all
/// under an OS lock, so two `check --all --alert` at once never tell one change twice.
/// A file that does not parse counts as empty (the next run re-tells what is not well).
pub(crate) fn update<T>(path: &Path, change: impl FnOnce(&mut ToldStates) -> T) -> Result<T, StoreError> {
    let _lock = super::file::hold_lock(&path.with_extension("lock"))?;
    let mut states = read(path);
    let before = states.clone();
    let answer = change(&mut states);
    if states != before {
        let text = serde_json::to_vec_pretty(&states).unwrap_or_default();
        super::file::write_atomically(path, &text)?;
    }
    Ok(answer)
}

/// The told states (empty when there is no file or it does not parse).
pub fn read(path: &Path) -> ToldStates {
    fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_recorded_is_kept_and_a_broken_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = told_path_for(&dir.path().join("config.toml"));
        update(&path, |told| told.record("ar", "failing")).unwrap();
        update(&path, |_| ()).unwrap();
        assert_eq!(read(&path).get("ar").map(|t| t.state.as_str()), Some("failing"));
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(read(&path), ToldStates::default());
    }
}
