//! The config file: where it lives, how it is read, and how it is written
//! without ever losing the previous version.
//!
//! confy decides the OS location (`~/.config/mailsettings/config.toml` on
//! Linux, `%APPDATA%` on Windows, `~/Library/Application Support` on macOS).
//! Writing is done here rather than by confy's `store`, because that truncates
//! the file in place: a crash mid-write would lose every setting. Here a write
//! goes to a temporary file in the same folder, is flushed to disk, the old file
//! is copied to `config.toml.bak`, and the new one renamed over it.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::parse_cache::ParseCache;
use crate::model::Config;

/// The first line of every config file this version writes.
pub const FORMAT: &str = "mailsettings/1";
const FORMAT_FAMILY: &str = "mailsettings/";
/// Overrides the config file location (the `--config` option wins over it).
pub const CONFIG_ENV: &str = "MAILSETTINGS_CONFIG";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{path}: line {line}, column {column}: {message}", path = .path.display())]
    Malformed { path: PathBuf, line: usize, column: usize, message: String },
    #[error(
        "{path} was written by a newer version of Mail Settings (format \"{found}\"); this version reads \"{FORMAT}\". \
         Update Mail Settings; the file was left untouched",
        path = .path.display()
    )]
    NewerFormat { path: PathBuf, found: String },
    #[error(
        "{path} is not a Mail Settings config file (it does not start with format = \"{FORMAT}\"); \
         it was left untouched",
        path = .path.display()
    )]
    NotOurs { path: PathBuf },
    #[error(
        "{path} was changed by another program since it was opened; reload it before saving so neither change is lost",
        path = .path.display()
    )]
    ChangedOnDisk { path: PathBuf },
    #[error("could not {action} {path}: {source}", path = .path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("could not find the folder for settings: {0}")]
    NoConfigDir(String),
    #[error("could not write the config: {0}")]
    Serialize(String),
}

impl StoreError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io { action, path: path.to_owned(), source }
    }

    /// True when the file exists but cannot be trusted to be rewritten.
    #[cfg(test)]
    pub(crate) fn makes_read_only(&self) -> bool {
        matches!(self, Self::Malformed { .. } | Self::NewerFormat { .. } | Self::NotOurs { .. })
    }
}

/// Where the config file is: `--config`, else `MAILSETTINGS_CONFIG`, else the OS config dir.
pub fn resolve_config_path(explicit: Option<&Path>) -> Result<PathBuf, StoreError> {
    choose_config_path(explicit, std::env::var_os(CONFIG_ENV), || {
        crate::folders::default_config_file().map_err(|err| StoreError::NoConfigDir(err.to_string()))
    })
}

fn choose_config_path(
    explicit: Option<&Path>,
    from_env: Option<std::ffi::OsString>,
    os_default: impl FnOnce() -> Result<PathBuf, StoreError>,
) -> Result<PathBuf, StoreError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    // An empty variable is treated as unset, as shells make it easy to leave one empty.
    match from_env.filter(|p| !p.is_empty()) {
        Some(path) => Ok(PathBuf::from(path)),
        None => os_default(),
    }
}

/// The config file, and what was read from it last (so a save can tell
/// whether someone else changed it in between).
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    loaded_fingerprint: Option<Fingerprint>,
    /// After a slow parse of a large file: where to keep what it gave, and the
    /// bytes it was parsed from (see [`Self::parse_cache_writer`]).
    uncached: Option<(ParseCache, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: usize,
    hash: u64,
}

impl Fingerprint {
    fn of(bytes: &[u8]) -> Self {
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        Self { len: bytes.len(), hash: hasher.finish() }
    }
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path, loaded_fingerprint: None, uncached: None }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn backup_path(&self) -> PathBuf {
        backup_path_for(&self.path)
    }

    /// Reads the file. A missing file is an empty config; the first save creates it.
    pub fn load(&mut self) -> Result<Config, StoreError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                let config = self.parse(&bytes)?;
                self.loaded_fingerprint = Some(Fingerprint::of(&bytes));
                Ok(config)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.loaded_fingerprint = None;
                Ok(Config::default())
            }
            Err(err) => Err(StoreError::io("read", &self.path, err)),
        }
    }

    /// Parses the file's bytes; a large file (thousands of settings) is read from
    /// the parse cache when it holds these exact bytes.
    fn parse(&mut self, bytes: &[u8]) -> Result<Config, StoreError> {
        self.uncached = None;
        if bytes.len() < ParseCache::WORTH_CACHING_FROM {
            return parse_config(bytes, &self.path);
        }
        let cache = ParseCache::for_config(&self.path);
        if let Some(config) = cache.as_ref().and_then(|cache| cache.read(bytes)) {
            tracing::debug!(config = %self.path.display(), "config read from the parse cache");
            return Ok(config);
        }
        let config = parse_config(bytes, &self.path)?;
        self.uncached = cache.map(|cache| (cache, bytes.to_vec()));
        Ok(config)
    }

    /// After a slow parse of a large file, or a save of one: the work that keeps
    /// `config` (what the file holds) in the parse cache, for the caller to run when it is not in the way —
    /// it takes tens of milliseconds of CPU (a hash, the JSON), which on a small
    /// machine would compete with the window's first frames.
    pub(crate) fn parse_cache_writer(&mut self, config: &Config) -> Option<impl FnOnce() + Send + 'static> {
        let (cache, bytes) = self.uncached.take()?;
        let config = config.clone();
        Some(move || cache.write(&bytes, &config))
    }

    /// Writes `config` atomically, keeping the previous file as the backup.
    /// Refuses when the file changed on disk since [`Self::load`]. The check and the
    /// write happen under an OS lock on `<config>.lock`, so of two programs saving at
    /// once the second sees the first one's file and refuses, instead of replacing it.
    pub fn save(&mut self, config: &Config) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let current = match fs::read(&self.path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(StoreError::io("read", &self.path, err)),
        };
        let current_fingerprint = current.as_deref().map(Fingerprint::of);
        if current_fingerprint != self.loaded_fingerprint {
            return Err(StoreError::ChangedOnDisk { path: self.path.clone() });
        }
        let text = to_toml(config)?;
        if let Some(previous) = current {
            write_atomically(&self.backup_path(), &previous)?;
        }
        write_atomically(&self.path, text.as_bytes())?;
        self.loaded_fingerprint = Some(Fingerprint::of(text.as_bytes()));
        // What was saved is what the next start reads: a large file is worth keeping parsed.
        self.uncached = (text.len() >= ParseCache::WORTH_CACHING_FROM)
            .then(|| ParseCache::for_config(&self.path))
            .flatten()
            .map(|cache| (cache, text.into_bytes()));
        Ok(())
    }
}

impl ConfigFile {
    /// The OS lock (`LockFileEx` on Windows, `flock` elsewhere) on `<config>.lock`, held while the file is saved.
    fn lock(&self) -> Result<fs::File, StoreError> {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        hold_lock(&self.path.with_file_name(name))
    }
}

/// Opens (creating it and its folder) the lock file `path` and holds its OS lock
/// (`LockFileEx` on Windows, `flock` elsewhere) until the returned file is dropped.
pub(crate) fn hold_lock(path: &Path) -> Result<fs::File, StoreError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| StoreError::io("create the folder", dir, e))?;
    }
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io("open the lock file", path, e))?;
    file.lock().map_err(|e| StoreError::io("lock", path, e))?;
    Ok(file)
}

pub(crate) fn backup_path_for(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".bak");
    path.with_file_name(name)
}

/// Serialises a config with its `format` line first.
pub fn to_toml(config: &Config) -> Result<String, StoreError> {
    let body = toml::to_string_pretty(config).map_err(|e| StoreError::Serialize(e.to_string()))?;
    Ok(format!("format = \"{FORMAT}\"\n\n{body}"))
}

/// Reads a config from bytes, checking the format line first so a newer or
/// foreign file is refused before its contents are interpreted.
/// The `format = "…"` of a file, read from the lines before its first table
/// header; `None` when that head is not TOML on its own (the caller then parses
/// the whole file the slow way) or names no format.
fn declared_format(text: &str) -> Option<String> {
    let head_end = text
        .match_indices('\n')
        .map(|(at, _)| at + 1)
        .find(|&start| text[start..].trim_start_matches([' ', '\t']).starts_with('['))
        .unwrap_or(text.len());
    let head: toml::Table = toml::from_str(&text[..head_end]).ok()?;
    head.get("format").and_then(toml::Value::as_str).map(str::to_owned)
}

/// Parses a config file's bytes; relative `extra_ca_files` are the file's own, made
/// absolute against its folder (never the working directory of whoever runs the app).
pub fn parse_config(bytes: &[u8], path: &Path) -> Result<Config, StoreError> {
    let mut config = parse_config_as_written(bytes, path)?;
    let folder = std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_owned));
    if let Some(folder) = folder {
        for ca_file in &mut config.tls.extra_ca_files {
            if ca_file.is_relative() {
                *ca_file = folder.join(&*ca_file);
            }
        }
    }
    Ok(config)
}

fn parse_config_as_written(bytes: &[u8], path: &Path) -> Result<Config, StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_and_column(&String::from_utf8_lossy(bytes), e.valid_up_to());
        StoreError::Malformed {
            path: path.to_owned(),
            line,
            column,
            message: "the file is not valid UTF-8 text".to_owned(),
        }
    })?;
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let malformed = |err: &toml::de::Error| {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = line_and_column(text, offset);
        StoreError::Malformed { path: path.to_owned(), line, column, message: err.message().trim().to_owned() }
    };
    // The fast way for our own files: the format line (top-level keys come before any
    // [table] in TOML) from the head alone, then one parse of the whole text.
    if declared_format(text).as_deref() == Some(FORMAT) {
        return toml::from_str::<Config>(text).map_err(|e| malformed(&e));
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| malformed(&e))?;
    match table.get("format") {
        Some(toml::Value::String(format)) if format == FORMAT => {}
        Some(toml::Value::String(format)) if format.starts_with(FORMAT_FAMILY) => {
            return Err(StoreError::NewerFormat { path: path.to_owned(), found: format.clone() });
        }
        _ => {
            return Err(StoreError::NotOurs { path: path.to_owned() });
        }
    }
    toml::from_str::<Config>(text).map_err(|e| malformed(&e))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// What a write in progress names its temporary file: `.mailsettings-XXXXXX.tmp`.
const TEMP_PREFIX: &str = ".mailsettings-";
const TEMP_SUFFIX: &str = ".tmp";
/// A temporary file this old was left by a write that was killed (a write takes
/// milliseconds); younger ones may belong to another process writing right now.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Temp file in the same folder, fsync, rename over `path`, fsync the folder.
/// A failure at any step leaves `path` as it was and removes the temp file; a
/// process killed midway leaves the temp file, which a later write removes.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| StoreError::io("create the folder", &dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| StoreError::io("create a temporary file in", &dir, e))?;
    temp.write_all(bytes).map_err(|e| StoreError::io("write", temp.path(), e))?;
    temp.as_file().sync_all().map_err(|e| StoreError::io("flush", path, e))?;
    replace_waiting_for_readers(temp, path)?;
    sync_dir(&dir);
    remove_stale_temp_files(&dir);
    Ok(())
}

/// Renames `temp` over `path`. Windows refuses to replace a file that another process
/// has open ("Access denied", os error 5) — another mailsettings reading it this
/// moment, a virus scanner, a backup agent — where POSIX replaces it under the reader.
/// Those holds last milliseconds, so the replace is tried again for up to two seconds
/// before the error is the admin's (the old file stays whole either way). Found by the
/// concurrent-processes test under Wine.
fn replace_waiting_for_readers(mut temp: tempfile::NamedTempFile, path: &Path) -> Result<(), StoreError> {
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match temp.persist(path) {
            Ok(_) => return Ok(()),
            Err(err)
                if cfg!(windows)
                    && err.error.kind() == std::io::ErrorKind::PermissionDenied
                    && started.elapsed() < PATIENCE =>
            {
                temp = err.file;
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            Err(err) => return Err(StoreError::io("replace", path, err.error)),
        }
    }
}

/// Removes what killed writes left in `dir`. Best effort: a file that cannot be
/// removed now is tried again on the next write.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age >= STALE_TEMP_AGE)
            && let Err(error) = fs::remove_file(entry.path())
        {
            tracing::debug!("could not remove the stale temporary file {}: {error}", entry.path().display());
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Makes the rename itself durable; failure here is not worth failing the save.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Company, MailSetting};

    #[test]
    fn a_write_removes_only_stale_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".mailsettings-stale1.tmp");
        let fresh = dir.path().join(".mailsettings-fresh1.tmp");
        let other = dir.path().join("notes.tmp");
        for path in [&stale, &fresh, &other] {
            fs::write(path, "x").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - STALE_TEMP_AGE * 2;
        for path in [&stale, &other] {
            fs::File::options().write(true).open(path).unwrap().set_modified(long_ago).unwrap();
        }
        write_atomically(&dir.path().join("config.toml"), b"format = \"mailsettings/1\"\n").unwrap();
        assert!(!stale.exists(), "a killed write's temp file is removed");
        assert!(fresh.exists(), "a write in progress elsewhere is left alone");
        assert!(other.exists(), "files that are not ours are left alone");
    }

    fn sample() -> Config {
        let mut setting =
            MailSetting { id: "ar".into(), description: "AR \"quoted\"".into(), ..MailSetting::default() };
        setting.smtp.server = "smtp.example.com".into();
        setting.tenant = Some("contoso.onmicrosoft.com".into());
        Config {
            mail_settings: vec![setting],
            companies: vec![Company {
                id: "acme".into(),
                name: "Acme".into(),
                default_mail_setting: Some("ar".into()),
            }],
            ..Config::default()
        }
    }

    #[test]
    fn round_trip_keeps_everything_and_starts_with_the_format() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::new(dir.path().join("config.toml"));
        assert_eq!(file.load().unwrap(), Config::default(), "missing file is empty");
        file.save(&sample()).unwrap();
        let text = fs::read_to_string(file.path()).unwrap();
        assert!(text.starts_with("format = \"mailsettings/1\"\n"), "{text}");
        assert!(text.contains("[[mail_setting]]") && text.contains("[mail_setting.smtp]"));
        assert!(text.contains("[[company]]"));
        let mut again = ConfigFile::new(file.path().to_owned());
        assert_eq!(again.load().unwrap(), sample());
    }

    /// A large config just saved is what the next start reads: the writer the save
    /// leaves keeps it in the parse cache, for exactly the bytes saved.
    #[test]
    fn a_saved_large_config_can_be_kept_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::new(dir.path().join("config.toml"));
        let mut config = sample();
        config
            .mail_settings
            .extend((0..4000).map(|n| MailSetting { id: format!("s{n}").into(), ..MailSetting::default() }));
        file.load().unwrap();
        file.save(&Config::default()).unwrap();
        assert!(file.parse_cache_writer(&Config::default()).is_none(), "a small file is not kept");
        file.save(&config).unwrap();
        let keep = file.parse_cache_writer(&config).expect("a large file is kept");
        keep();
        let saved = fs::read(file.path()).unwrap();
        assert!(saved.len() >= ParseCache::WORTH_CACHING_FROM);
        let cache = ParseCache::for_config(file.path()).unwrap();
        assert!(cache.read(&saved) == Some(config), "the entry holds what was saved");
        assert!(file.parse_cache_writer(&Config::default()).is_none(), "kept once");
    }

    #[test]
    fn the_previous_version_is_kept_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::new(dir.path().join("config.toml"));
        file.load().unwrap();
        file.save(&Config::default()).unwrap();
        let first = fs::read(file.path()).unwrap();
        file.save(&sample()).unwrap();
        assert_eq!(fs::read(file.backup_path()).unwrap(), first);
        assert_eq!(file.backup_path().file_name().unwrap(), "config.toml.bak");
    }

    #[test]
    fn a_relative_ca_file_is_the_config_files_neighbour_not_the_working_directorys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "format = \"mailsettings/1\"\n[tls]\nextra_ca_files = [\"corp-ca.pem\", \"/etc/ssl/a.pem\"]\n",
        )
        .unwrap();
        let config = ConfigFile::new(path).load().unwrap();
        assert_eq!(config.tls.extra_ca_files, [dir.path().join("corp-ca.pem"), PathBuf::from("/etc/ssl/a.pem")]);
    }

    #[test]
    fn malformed_file_names_line_and_column_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "format = \"mailsettings/1\"\n\n[[mail_setting]]\nid = \"a\"\nactive = maybe\n";
        fs::write(&path, text).unwrap();
        let mut file = ConfigFile::new(path.clone());
        let err = file.load().unwrap_err();
        assert!(err.makes_read_only());
        match &err {
            StoreError::Malformed { line, column, .. } => assert_eq!((*line, *column), (5, 10)),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("line 5, column 10"), "{err}");
        assert!(file.save(&Config::default()).is_err(), "never overwrites what it could not read");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_wrong_type_is_reported_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(
            &path,
            "format = \"mailsettings/1\"\n[[mail_setting]]\nid = \"a\"\n[mail_setting.smtp]\nport = 70000\n",
        )
        .unwrap();
        let err = ConfigFile::new(path).load().unwrap_err();
        match err {
            StoreError::Malformed { line, .. } => assert_eq!(line, 5),
            other => panic!("{other:?}"),
        }
    }

    /// Times are read as times and written back as they were; one that is not a time is
    /// the file's error at its line, and the file is left as it was.
    #[test]
    fn times_read_and_write_back_exactly_and_a_bad_one_is_named_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut file = ConfigFile::new(path.clone());
        let mut config = sample();
        config.migrations.push(crate::model::Migration {
            old: "ar".into(),
            new: "ar-oauth".into(),
            target: "microsoft365".into(),
            started_at: "2026-12-01T09:00:00.123456789Z".parse().unwrap(),
            finished_at: Some("2026-12-02T10:30:00Z".parse().unwrap()),
            ..crate::model::Migration::default()
        });
        file.save(&config).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("started_at = \"2026-12-01T09:00:00.123456789Z\""), "{text}");
        assert!(text.contains("finished_at = \"2026-12-02T10:30:00Z\""), "{text}");
        let loaded = ConfigFile::new(path.clone()).load().unwrap();
        assert_eq!(loaded, config);
        file.save(&loaded).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "written back byte for byte");

        let broken = text.replace("2026-12-02T10:30:00Z", "unknown time");
        fs::write(&path, &broken).unwrap();
        let line = broken.lines().position(|l| l.starts_with("finished_at")).unwrap() + 1;
        let err = ConfigFile::new(path.clone()).load().unwrap_err();
        match &err {
            StoreError::Malformed { line: at, .. } => assert_eq!(*at, line, "{err}"),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("\"unknown time\" is not a time"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), broken, "left alone");
    }

    #[test]
    fn newer_and_foreign_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "format = \"mailsettings/2\"\nnew_thing = 1\n").unwrap();
        let err = ConfigFile::new(path.clone()).load().unwrap_err();
        assert!(matches!(err, StoreError::NewerFormat { .. }));
        assert!(err.to_string().contains("newer version"));
        fs::write(&path, "[server]\nport = 1\n").unwrap();
        assert!(matches!(ConfigFile::new(path).load().unwrap_err(), StoreError::NotOurs { .. }));
    }

    #[test]
    fn invalid_utf8_is_malformed_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, b"format = \"mailsettings/1\"\n# \xff\xfe\n").unwrap();
        let err = ConfigFile::new(path).load().unwrap_err();
        assert!(matches!(err, StoreError::Malformed { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn a_change_by_another_program_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut ours = ConfigFile::new(path.clone());
        ours.load().unwrap();
        ours.save(&Config::default()).unwrap();
        let mut theirs = ConfigFile::new(path.clone());
        theirs.load().unwrap();
        theirs.save(&sample()).unwrap();
        let err = ours.save(&Config::default()).unwrap_err();
        assert!(matches!(err, StoreError::ChangedOnDisk { .. }));
        assert_eq!(ConfigFile::new(path).load().unwrap(), sample());
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_and_column("ab\ncdé\nf", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncdé\nf", 3), (2, 1));
        assert_eq!(line_and_column("ab\ncdé\nf", 7), (2, 4));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }

    #[test]
    fn the_option_wins_over_the_variable_which_wins_over_the_os_folder() {
        let option = PathBuf::from("/tmp/option.toml");
        let variable = Some(std::ffi::OsString::from("/tmp/variable.toml"));
        let os_folder = || Ok(PathBuf::from("/home/u/.config/mailsettings/config.toml"));
        assert_eq!(choose_config_path(Some(&option), variable.clone(), os_folder).unwrap(), option);
        assert_eq!(choose_config_path(None, variable, os_folder).unwrap(), PathBuf::from("/tmp/variable.toml"));
        assert_eq!(choose_config_path(None, Some("".into()), os_folder).unwrap(), os_folder().unwrap());
        assert_eq!(choose_config_path(None, None, os_folder).unwrap(), os_folder().unwrap());
        let no_home = || Err(StoreError::NoConfigDir("no home folder".into()));
        assert!(matches!(choose_config_path(None, None, no_home), Err(StoreError::NoConfigDir(_))));
    }
}
