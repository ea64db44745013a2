//! A faster second reading of a large config file: what the TOML parse of its
//! exact bytes gave, kept as JSON in the OS cache folder. Parsing 10,000
//! settings (4.4 MB of TOML) takes ~95 ms on one core, reading the JSON ~10 ms —
//! and the window shows its table only once the config is read.
//!
//! Never the source of truth: an entry is used only when the SHA-256 of the
//! config file's bytes and the program that wrote it (the executable's size and
//! time) both match; anything else — no entry, another file, another build, a
//! damaged entry — means the TOML is parsed as always. Holds nothing the config
//! file does not (no secrets live there).

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::Config;

/// The first line of an entry: what it was made from, then the JSON.
const HEADER_TAG: &str = "mailsettings-parsed-config 1";

/// The entry for one config file.
#[derive(Debug, Clone)]
pub struct ParseCache {
    entry: PathBuf,
}

impl ParseCache {
    /// Files smaller than this (about 2,000 settings) parse in a few milliseconds:
    /// no entry is kept for them.
    pub const WORTH_CACHING_FROM: usize = 1024 * 1024;

    /// The entry for the config at `config_path` in the OS cache folder (one
    /// entry per config file); `None` when the OS names no cache folder.
    pub fn for_config(config_path: &Path) -> Option<Self> {
        Some(Self::in_folder(&crate::folders::cache_dir()?, config_path))
    }

    /// The entry for `config_path` inside `folder`.
    pub fn in_folder(folder: &Path, config_path: &Path) -> Self {
        let name = hex::encode(&sha256(config_path.to_string_lossy().as_bytes())[..8]);
        Self { entry: folder.join(format!("parsed-{name}.json")) }
    }

    pub fn entry(&self) -> &Path {
        &self.entry
    }

    /// What the TOML parse of exactly `bytes` gave, when this program stored it.
    pub fn read(&self, bytes: &[u8]) -> Option<Config> {
        let stored = fs::read(&self.entry).ok()?;
        let newline = stored.iter().position(|&b| b == b'\n')?;
        let (header, json) = stored.split_at(newline);
        if header != header_for(bytes)?.as_bytes() {
            return None;
        }
        match serde_json::from_slice(json) {
            Ok(config) => Some(config),
            Err(err) => {
                tracing::debug!(entry = %self.entry.display(), "a damaged parse cache entry is ignored: {err}");
                None
            }
        }
    }

    /// Keeps `config` as what `bytes` parse to. Best effort: a cache that cannot be
    /// written only means the next start parses the TOML again.
    pub fn write(&self, bytes: &[u8], config: &Config) {
        let Some(header) = header_for(bytes) else { return };
        let stored = serde_json::to_vec(config).map(|json| [header.into_bytes(), b"\n".to_vec(), json].concat());
        let written = stored.map_err(|e| e.to_string()).and_then(|stored| self.replace_with(&stored));
        match written {
            Ok(()) => tracing::debug!(entry = %self.entry.display(), "parse cache entry written"),
            Err(err) => tracing::debug!(entry = %self.entry.display(), "no parse cache entry: {err}"),
        }
    }

    /// Replaces the entry whole (a reader never sees half of one), without the
    /// flushes to disk a config write makes: a lost entry is only a slower start.
    fn replace_with(&self, stored: &[u8]) -> Result<(), String> {
        use std::io::Write;
        let folder = self.entry.parent().ok_or("the entry has no folder")?;
        fs::create_dir_all(folder).map_err(|e| e.to_string())?;
        let mut temp = tempfile::Builder::new().prefix(".parsed-").tempfile_in(folder).map_err(|e| e.to_string())?;
        temp.write_all(stored).map_err(|e| e.to_string())?;
        temp.persist(&self.entry).map_err(|e| e.error.to_string())?;
        Ok(())
    }
}

/// What an entry for `bytes` made by this program starts with; `None` when the
/// program cannot tell which build it is (then nothing is cached).
fn header_for(bytes: &[u8]) -> Option<String> {
    let program = fs::metadata(std::env::current_exe().ok()?).ok()?;
    let built = program.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    Some(format!("{HEADER_TAG} program={}-{built} sha256={}", program.len(), hex::encode(sha256(bytes))))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MailSetting;

    fn config() -> Config {
        let mut config = Config::default();
        for n in 0..50 {
            config.mail_settings.push(MailSetting {
                id: format!("s{n}"),
                description: format!("Mailbox {n} — \"ü\""),
                tenant: (n % 2 == 0).then(|| "contoso.onmicrosoft.com".to_owned()),
                ..MailSetting::default()
            });
        }
        config
    }

    #[test]
    fn an_entry_is_used_only_for_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::in_folder(dir.path(), Path::new("/home/ar/config.toml"));
        let bytes = b"the file's bytes".to_vec();
        assert_eq!(cache.read(&bytes), None, "no entry yet");
        cache.write(&bytes, &config());
        assert_eq!(cache.read(&bytes), Some(config()));
        assert_eq!(cache.read(b"the file's bytes, changed"), None, "another file content");
        let other = ParseCache::in_folder(dir.path(), Path::new("/home/ar/other.toml"));
        assert_ne!(other.entry(), cache.entry(), "one entry per config file");
        assert_eq!(other.read(&bytes), None);
    }

    #[test]
    fn an_entry_from_another_build_or_damaged_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::in_folder(dir.path(), Path::new("config.toml"));
        let bytes = b"x".to_vec();
        cache.write(&bytes, &config());
        let stored = fs::read_to_string(cache.entry()).unwrap();
        let (header, json) = stored.split_once('\n').unwrap();
        assert!(header.starts_with(HEADER_TAG) && header.contains("program="), "{header}");
        let other_build = header.replace("program=", "program=1");
        fs::write(cache.entry(), format!("{other_build}\n{json}")).unwrap();
        assert_eq!(cache.read(&bytes), None, "another build");
        fs::write(cache.entry(), format!("{header}\n{}", &json[..json.len() / 2])).unwrap();
        assert_eq!(cache.read(&bytes), None, "cut short");
        fs::write(cache.entry(), "").unwrap();
        assert_eq!(cache.read(&bytes), None, "empty");
    }
}
