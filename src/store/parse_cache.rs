//! A faster second reading of a large config file: what the TOML parse of its
//! exact bytes gave, kept as JSON in the OS cache folder. Parsing 10,000
//! settings (4.4 MB of TOML) takes ~95 ms on one core, reading the JSON ~10 ms —
//! and the window shows its table only once the config is read.
//!
//! Never the source of truth: an entry is used only when the SHA-256 of the
//! config file's bytes and the program that wrote it (the executable's size and
//! time) both match, **and** its keyed MAC (HMAC-SHA-256 over the header and the
//! JSON, with a random key only this user can read) proves this user's program wrote
//! exactly that body — and, on Unix, the entry is this user's, mode 0600, in a 0700
//! folder. Whoever can read the config can compute a header, but not the MAC:
//! nobody else can steer servers or trusted CA files through the cache. Anything
//! else — no entry, another file, another build, a damaged or forged entry — means
//! the TOML is parsed as always. Holds nothing the config file does not.

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::Config;

/// The first line of an entry: what it was made from, then the JSON.
const HEADER_TAG: &str = "mailsettings-parsed-config 2";

/// The entry for one config file.
#[derive(Debug, Clone)]
pub struct ParseCache {
    entry: PathBuf,
    /// The MAC key (32 random bytes), kept apart from the entries.
    key_file: PathBuf,
}

impl ParseCache {
    /// Files smaller than this (about 2,000 settings) parse in a few milliseconds:
    /// no entry is kept for them.
    pub const WORTH_CACHING_FROM: usize = 1024 * 1024;

    /// The entry for the config at `config_path` in the OS cache folder (one
    /// entry per config file); `None` when the OS names no cache folder.
    pub fn for_config(config_path: &Path) -> Option<Self> {
        let key_folder = crate::folders::data_dir()?;
        Some(Self::in_folders(&crate::folders::cache_dir()?, &key_folder, config_path))
    }

    /// The entry for `config_path` inside `folder`, its key in `key_folder`.
    pub(crate) fn in_folders(folder: &Path, key_folder: &Path, config_path: &Path) -> Self {
        let name = hex::encode(&sha256(config_path.to_string_lossy().as_bytes())[..8]);
        Self { entry: folder.join(format!("parsed-{name}.json")), key_file: key_folder.join("parse-cache.key") }
    }

    pub fn entry(&self) -> &Path {
        &self.entry
    }

    /// What the TOML parse of exactly `bytes` gave, when this program stored it.
    pub fn read(&self, bytes: &[u8]) -> Option<Config> {
        if !private(&self.entry, true) {
            return None;
        }
        let key = self.key(false)?;
        let stored = fs::read(&self.entry).ok()?;
        let newline = stored.iter().position(|&b| b == b'\n')?;
        let (first, rest) = stored.split_at(newline);
        let json = &rest[1..];
        let (header, mac) = std::str::from_utf8(first).ok()?.rsplit_once(" mac=")?;
        if header.as_bytes() != header_for(bytes)?.as_bytes() {
            return None;
        }
        let mac = hex::decode(mac).ok()?;
        if ring::hmac::verify(&key, &[header.as_bytes(), json].concat(), &mac).is_err() {
            tracing::warn!(entry = %self.entry.display(), "a parse cache entry this program did not write is ignored");
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
        let Some(key) = self.key(true) else { return };
        let stored = serde_json::to_vec(config).map(|json| {
            let mac = ring::hmac::sign(&key, &[header.as_bytes(), json.as_slice()].concat());
            [format!("{header} mac={}", hex::encode(mac.as_ref())).into_bytes(), b"\n".to_vec(), json].concat()
        });
        let written = stored.map_err(|e| e.to_string()).and_then(|stored| self.replace_with(&stored));
        match written {
            Ok(()) => tracing::debug!(entry = %self.entry.display(), "parse cache entry written"),
            Err(err) => tracing::debug!(entry = %self.entry.display(), "no parse cache entry: {err}"),
        }
    }

    /// The MAC key: read, or (when `create`) made — 32 random bytes in a file only this
    /// user can read, in a folder only this user can write.
    fn key(&self, create: bool) -> Option<ring::hmac::Key> {
        if private(&self.key_file, true) {
            let bytes = fs::read(&self.key_file).ok().filter(|b| b.len() == 32)?;
            return Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes));
        }
        if !create || self.key_file.exists() {
            return None;
        }
        let folder = self.key_file.parent()?;
        make_private_folder(folder).ok()?;
        let mut bytes = [0_u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).ok()?;
        let mut temp = tempfile::Builder::new().prefix(".key-").tempfile_in(folder).ok()?;
        std::io::Write::write_all(&mut temp, &bytes).ok()?;
        temp.persist_noclobber(&self.key_file).ok()?;
        Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes))
    }

    /// Replaces the entry whole (a reader never sees half of one), without the
    /// flushes to disk a config write makes: a lost entry is only a slower start.
    fn replace_with(&self, stored: &[u8]) -> Result<(), String> {
        use std::io::Write;
        let folder = self.entry.parent().ok_or("the entry has no folder")?;
        make_private_folder(folder).map_err(|e| e.to_string())?;
        let mut temp = tempfile::Builder::new().prefix(".parsed-").tempfile_in(folder).map_err(|e| e.to_string())?;
        temp.write_all(stored).map_err(|e| e.to_string())?;
        temp.persist(&self.entry).map_err(|e| e.error.to_string())?;
        Ok(())
    }
}

/// Whether `path` is this user's alone: on Unix owned by this user, not readable or
/// writable by others, in a folder nobody else can write (`file`: check its folder too).
fn private(path: &Path, file: bool) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = fs::symlink_metadata(path) else { return false };
        // This process's user: the owner of a file it creates in the temp folder.
        let Some(me) = tempfile::tempfile().ok().and_then(|f| f.metadata().ok()).map(|m| m.uid()) else {
            return false;
        };
        let own = meta.uid() == me && meta.mode() & 0o077 == 0;
        let folder_own = !file || path.parent().is_some_and(|folder| private(folder, false));
        own && folder_own && (meta.is_file() || !file)
    }
    #[cfg(not(unix))]
    {
        // Per-user profile folders: the OS keeps other users out.
        let _ = file;
        path.exists()
    }
}

/// Creates `folder` (and its parents) and makes it this user's alone (0700 on Unix).
fn make_private_folder(folder: &Path) -> std::io::Result<()> {
    fs::create_dir_all(folder)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(folder, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
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
                id: format!("s{n}").into(),
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
        let cache = ParseCache::in_folders(
            &dir.path().join("cache"),
            &dir.path().join("data"),
            Path::new("/home/ar/config.toml"),
        );
        let bytes = b"the file's bytes".to_vec();
        assert_eq!(cache.read(&bytes), None, "no entry yet");
        cache.write(&bytes, &config());
        assert_eq!(cache.read(&bytes), Some(config()));
        assert_eq!(cache.read(b"the file's bytes, changed"), None, "another file content");
        let other = ParseCache::in_folders(
            &dir.path().join("cache"),
            &dir.path().join("data"),
            Path::new("/home/ar/other.toml"),
        );
        assert_ne!(other.entry(), cache.entry(), "one entry per config file");
        assert_eq!(other.read(&bytes), None);
    }

    #[test]
    fn an_entry_from_another_build_or_damaged_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache =
            ParseCache::in_folders(&dir.path().join("cache"), &dir.path().join("data"), Path::new("config.toml"));
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

    #[test]
    fn a_body_changed_under_a_valid_header_or_a_loose_entry_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::in_folders(&dir.path().join("cache"), &dir.path().join("data"), Path::new("c.toml"));
        let bytes = b"x".to_vec();
        let mut config = config();
        config.mail_settings[0].imap.server = "imap.example.com".into();
        cache.write(&bytes, &config);
        assert_eq!(cache.read(&bytes), Some(config.clone()));
        // Anyone who can read the config can compute the header; the body is steered, the MAC kept.
        let stored = fs::read_to_string(cache.entry()).unwrap();
        let forged = stored.replace("imap.example.com", "imap.attacker.example");
        assert_ne!(forged, stored);
        fs::write(cache.entry(), &forged).unwrap();
        assert_eq!(cache.read(&bytes), None, "a changed body is not this program's");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::write(cache.entry(), &stored).unwrap();
            assert_eq!(cache.read(&bytes), Some(config), "back as written");
            fs::set_permissions(cache.entry(), fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(cache.read(&bytes), None, "readable by others: not used");
            fs::set_permissions(cache.entry(), fs::Permissions::from_mode(0o600)).unwrap();
            fs::set_permissions(dir.path().join("cache"), fs::Permissions::from_mode(0o777)).unwrap();
            assert_eq!(cache.read(&bytes), None, "in a folder others can write: not used");
        }
    }
}
