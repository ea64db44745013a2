//! Passwords and OAuth tokens, kept in the OS credential store and nowhere else.
//!
//! The OS store is reached through `keyring` (Windows Credential Manager,
//! macOS Keychain, Secret Service on Linux). When it cannot be reached the
//! caller gets [`SecretStoreError::Unavailable`] with a plain explanation; a
//! file store is used only when the admin opts in explicitly with
//! `MAILSETTINGS_SECRET_STORE=file:PATH` — never as a silent fallback.
//!
//! Windows caps one credential at 2,560 bytes (UTF-16, so 1,280 characters),
//! and Microsoft tokens can be longer, so values above [`CHUNK_CHARS`] are split
//! across numbered entries on every platform (the same code runs everywhere,
//! so it is tested everywhere).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use thiserror::Error;

use crate::model::StoredPasswords;
use crate::secret::Secret;

/// Chooses the secret store: unset or `os` for the OS store, `file:PATH` for the opt-in file.
pub const SECRET_STORE_ENV: &str = "MAILSETTINGS_SECRET_STORE";
/// The service name every entry is filed under in the OS store.
pub const SERVICE: &str = "mailsettings";
/// Longest piece stored in one OS entry (Windows: 2,560 bytes of UTF-16).
pub const CHUNK_CHARS: usize = 1000;
const CHUNK_HEADER: &str = "\u{1}mailsettings-chunks:";

/// What a secret is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    SmtpPassword,
    ImapPassword,
    /// The OAuth token set (refresh token, access token, expiry) as one JSON value.
    OAuthTokens,
    /// A sign-in app's client secret (Google desktop apps), kept under
    /// [`SecretOwner::SignInApp`] instead of a setting id.
    ClientSecret,
    /// A sign-in app's certificate and private key (app-only access), kept
    /// under [`SecretOwner::SignInApp`] like its client secret.
    ClientCertificate,
    /// The local password programs use to sign in to `mailsettings bridge`.
    BridgePassword,
    /// The private key (and certificate) of the bridge's local STARTTLS, kept
    /// under [`SecretOwner::BridgeTls`] instead of a setting id.
    BridgeTlsKey,
    /// The password of the proxy the config's `[network]` names, kept under
    /// [`SecretOwner::Proxy`] (the proxy's user name is in the config, its password never).
    ProxyPassword,
    /// The alert webhook's address, kept under [`SecretOwner::Alerts`]: Slack and Teams carry
    /// the webhook's key in its path, so whoever has the address can post as it.
    WebhookUrl,
}

/// Who a secret belongs to, named in one place: a mail setting (by its id), a sign-in
/// app (its client secret or certificate), or one of the app's own — the proxy's
/// password, the alert webhook's address, the bridge's local TLS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOwner {
    Setting(crate::model::SettingId),
    SignInApp(String),
    Proxy,
    Alerts,
    BridgeTls,
}

impl SecretOwner {
    /// The owner's part of an entry's name (`SETTING-ID`, `oauth-app-PROVIDER`, …).
    fn key(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Setting(id) => std::borrow::Cow::Borrowed(id),
            Self::SignInApp(provider) => std::borrow::Cow::Owned(format!("oauth-app-{provider}")),
            Self::Proxy => std::borrow::Cow::Borrowed("network-proxy"),
            Self::Alerts => std::borrow::Cow::Borrowed("alerts"),
            Self::BridgeTls => std::borrow::Cow::Borrowed("bridge-local-tls"),
        }
    }
}

/// The owner as the store names it (an audit entry names it so too).
impl std::fmt::Display for SecretOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// A setting id is the common owner: `secrets.get(&setting.id, kind)`.
impl From<&str> for SecretOwner {
    fn from(setting_id: &str) -> Self {
        Self::Setting(setting_id.into())
    }
}

impl From<&crate::model::SettingId> for SecretOwner {
    fn from(setting_id: &crate::model::SettingId) -> Self {
        Self::Setting(setting_id.clone())
    }
}

impl From<&String> for SecretOwner {
    fn from(setting_id: &String) -> Self {
        Self::Setting(setting_id.into())
    }
}

impl From<&SecretOwner> for SecretOwner {
    fn from(owner: &SecretOwner) -> Self {
        owner.clone()
    }
}

impl SecretKind {
    /// What a mail setting can own (a client secret belongs to a sign-in app).
    pub const ALL: [Self; 4] = [Self::SmtpPassword, Self::ImapPassword, Self::OAuthTokens, Self::BridgePassword];

    fn entry_suffix(self) -> &'static str {
        match self {
            Self::SmtpPassword => "smtp-password",
            Self::ImapPassword => "imap-password",
            Self::OAuthTokens => "oauth-tokens",
            Self::ClientSecret => "client-secret",
            Self::ClientCertificate => "client-certificate",
            Self::BridgePassword => "bridge-password",
            Self::BridgeTlsKey => "bridge-tls-key",
            Self::ProxyPassword => "proxy-password",
            Self::WebhookUrl => "webhook-url",
        }
    }
}

#[derive(Debug, Error)]
pub enum SecretStoreError {
    #[error(
        "the {store} cannot be reached ({reason}). Passwords and tokens are kept only there, so they cannot be \
         saved or read now. Unlock or start your system keyring and try again. If this computer has none, you \
         can choose a file instead by setting {SECRET_STORE_ENV}=file:PATH (that file is protected only by your \
         account's file permissions)"
    )]
    Unavailable { store: String, reason: String },
    #[error("the {store} refused to {action} the {what} of \"{setting}\": {reason}")]
    Failed { store: String, action: &'static str, what: &'static str, setting: String, reason: String },
    #[error("{SECRET_STORE_ENV} must be \"os\" or \"file:PATH\", not \"{0}\"")]
    BadChoice(String),
    #[error("the secret file {path}: {reason}", path = .path.display())]
    File { path: PathBuf, reason: String },
}

/// A place that keeps named strings. Names are `SETTING-ID/KIND[#N]`.
trait Backend: Send + Sync {
    fn describe(&self) -> String;
    /// What names this store the same way however its path was spelled (locks key on it).
    fn identity(&self) -> String {
        self.describe()
    }
    fn get(&self, name: &str) -> Result<Option<String>, BackendError>;
    fn set(&self, name: &str, value: &str) -> Result<(), BackendError>;
    fn delete(&self, name: &str) -> Result<(), BackendError>;
}

/// A backend failure; `unavailable` means the store itself could not be reached.
struct BackendError {
    unavailable: bool,
    reason: String,
}

/// The secret store the app uses. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Secrets {
    backend: Arc<dyn Backend>,
    /// Values read with [`Secrets::get_remembered`], by entry name, shared by every clone;
    /// a write or delete through this store forgets the entry.
    remembered: Arc<Mutex<std::collections::HashMap<String, Option<Secret>>>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets").field("store", &self.backend.describe()).finish()
    }
}

impl Secrets {
    /// The store chosen by `MAILSETTINGS_SECRET_STORE` (the OS store by default).
    pub(crate) fn from_env() -> Result<Self, SecretStoreError> {
        match std::env::var(SECRET_STORE_ENV) {
            Ok(choice) => Self::from_choice(&choice),
            Err(_) => Ok(Self::os()),
        }
    }

    pub(crate) fn from_choice(choice: &str) -> Result<Self, SecretStoreError> {
        let choice = choice.trim();
        if choice.is_empty() || choice == "os" {
            Ok(Self::os())
        } else if let Some(path) = choice.strip_prefix("file:").filter(|p| !p.is_empty()) {
            Ok(Self::file(PathBuf::from(path)))
        } else {
            Err(SecretStoreError::BadChoice(choice.to_owned()))
        }
    }

    /// The OS credential store.
    pub fn os() -> Self {
        Self { backend: Arc::new(OsBackend), remembered: Arc::default() }
    }

    /// The explicit opt-in file store (created with mode 0600).
    pub fn file(path: PathBuf) -> Self {
        Self { backend: Arc::new(FileBackend { path, lock: Mutex::new(()) }), remembered: Arc::default() }
    }

    /// Human words for the store in use (About box, error messages).
    pub(crate) fn describe(&self) -> String {
        self.backend.describe()
    }

    /// The store's identity for locks: the same for every spelling of a secret file's path.
    pub(crate) fn lock_identity(&self) -> String {
        self.backend.identity()
    }

    /// Checks that the store can be reached, by reading an entry that need not exist.
    pub fn check_available(&self) -> Result<(), SecretStoreError> {
        self.backend
            .get("mailsettings-probe/availability")
            .map(drop)
            .map_err(|e| self.error(e, "read", "availability probe", "-"))
    }

    pub fn get(&self, owner: impl Into<SecretOwner>, kind: SecretKind) -> Result<Option<Secret>, SecretStoreError> {
        let owner = owner.into();
        let setting_id: &str = &owner.key();
        let name = entry_name(setting_id, kind);
        let read = |name: &str| self.backend.get(name).map_err(|e| self.error(e, "read", what(kind), setting_id));
        let Some(head) = read(&name)? else {
            return Ok(None);
        };
        let Some(parts) = Parts::of(&head) else {
            return Ok(Some(Secret::new(head)));
        };
        let mut value = String::new();
        for index in 1..=parts.count {
            match read(&parts.name(&name, index))? {
                Some(chunk) => value.push_str(&chunk),
                None => {
                    return Err(SecretStoreError::Failed {
                        store: self.describe(),
                        action: "read",
                        what: what(kind),
                        setting: setting_id.to_owned(),
                        reason: format!("part {index} of {} is missing; enter it again", parts.count),
                    });
                }
            }
        }
        Ok(Some(Secret::new(value)))
    }

    /// [`Secrets::get`], read from the store once per process and then remembered: for a
    /// value every connection needs and that changes rarely (the proxy's password, asked
    /// for by each of `check --all`'s checks), so the OS store is not asked — or a locked
    /// keyring does not prompt — once per check. A change through this store is seen at
    /// once; one made by another process, at the next start.
    pub(crate) fn get_remembered(
        &self,
        owner: impl Into<SecretOwner>,
        kind: SecretKind,
    ) -> Result<Option<Secret>, SecretStoreError> {
        let owner = owner.into();
        let name = entry_name(&owner.key(), kind);
        if let Some(known) = self.remembered.lock().ok().and_then(|kept| kept.get(&name).cloned()) {
            return Ok(known);
        }
        let value = self.get(owner, kind)?;
        if let Ok(mut kept) = self.remembered.lock() {
            kept.insert(name, value.clone());
        }
        Ok(value)
    }

    fn forget(&self, name: &str) {
        if let Ok(mut kept) = self.remembered.lock() {
            kept.remove(name);
        }
    }

    /// Stores the secret so that a failure at any step leaves the old value or
    /// the new one, never a mix: a long value's parts go under names of a new
    /// generation, the header (one entry, replaced at once) switches to them, and
    /// only then are the old parts removed.
    pub fn set(
        &self,
        owner: impl Into<SecretOwner>,
        kind: SecretKind,
        secret: &Secret,
    ) -> Result<(), SecretStoreError> {
        let owner = owner.into();
        let setting_id: &str = &owner.key();
        let name = entry_name(setting_id, kind);
        self.forget(&name);
        let fail = |e| self.error(e, "save", what(kind), setting_id);
        let old = self.backend.get(&name).map_err(fail)?.as_deref().and_then(Parts::of);
        let value = secret.expose();
        let chunks = split_chunks(value, CHUNK_CHARS);
        if chunks.len() > 1 {
            let new = Parts { count: chunks.len(), generation: old.map_or(1, |old| old.next_generation()) };
            for (index, chunk) in chunks.iter().enumerate() {
                self.backend.set(&new.name(&name, index + 1), chunk).map_err(fail)?;
            }
            self.backend.set(&name, &new.header()).map_err(fail)?;
        } else {
            self.backend.set(&name, value).map_err(fail)?;
        }
        if let Some(old) = old {
            for index in 1..=old.count {
                self.backend.delete(&old.name(&name, index)).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Removes the secret; removing one that does not exist is not an error.
    pub fn delete(&self, owner: impl Into<SecretOwner>, kind: SecretKind) -> Result<(), SecretStoreError> {
        let owner = owner.into();
        let setting_id: &str = &owner.key();
        let name = entry_name(setting_id, kind);
        self.forget(&name);
        let fail = |e| self.error(e, "delete", what(kind), setting_id);
        let parts = self.backend.get(&name).map_err(fail)?.as_deref().and_then(Parts::of);
        self.backend.delete(&name).map_err(fail)?;
        if let Some(parts) = parts {
            for index in 1..=parts.count {
                self.backend.delete(&parts.name(&name, index)).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Removes every secret of a setting (after it is purged from the trash).
    pub fn delete_all(&self, setting_id: &str) -> Result<(), SecretStoreError> {
        SecretKind::ALL.iter().try_for_each(|kind| self.delete(setting_id, *kind))
    }

    /// Which passwords exist, without reading them into the caller.
    pub fn stored_passwords(&self, setting_id: &str) -> Result<StoredPasswords, SecretStoreError> {
        let has = |kind| self.get(setting_id, kind).map(|s| s.is_some_and(|s| !s.is_empty()));
        Ok(StoredPasswords { smtp: has(SecretKind::SmtpPassword)?, imap: has(SecretKind::ImapPassword)? })
    }

    fn error(&self, err: BackendError, action: &'static str, what: &'static str, setting: &str) -> SecretStoreError {
        if err.unavailable {
            SecretStoreError::Unavailable { store: self.describe(), reason: err.reason }
        } else {
            SecretStoreError::Failed {
                store: self.describe(),
                action,
                what,
                setting: setting.to_owned(),
                reason: err.reason,
            }
        }
    }
}

fn what(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::SmtpPassword => "outgoing password",
        SecretKind::ImapPassword => "incoming password",
        SecretKind::OAuthTokens => "sign-in tokens",
        SecretKind::ClientSecret => "client secret",
        SecretKind::ClientCertificate => "app certificate",
        SecretKind::BridgePassword => "local bridge password",
        SecretKind::BridgeTlsKey => "bridge's local TLS key",
        SecretKind::ProxyPassword => "proxy password",
        SecretKind::WebhookUrl => "alert webhook address",
    }
}

fn entry_name(setting_id: &str, kind: SecretKind) -> String {
    format!("{setting_id}/{}", kind.entry_suffix())
}

/// The most chunks a value may claim (2,560 bytes each: far more than any token).
const MAX_CHUNKS: usize = 4096;

/// Where a long value's parts are: how many, under which generation of names.
/// The header reads `\u{1}mailsettings-chunks:COUNT` (generation 0, the first
/// format: parts `NAME#I`) or `…:COUNT@G` (parts `NAME#G.I`, G = 1 or 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts {
    pub count: usize,
    pub generation: u8,
}

impl Parts {
    pub(crate) fn of(head: &str) -> Option<Self> {
        let rest = head.strip_prefix(CHUNK_HEADER)?;
        let (count, generation) = match rest.split_once('@') {
            Some((count, generation)) => (count, generation.parse().ok().filter(|g| matches!(g, 1 | 2))?),
            None => (rest, 0),
        };
        let count = count.parse().ok().filter(|count| *count <= MAX_CHUNKS)?;
        Some(Self { count, generation })
    }

    fn next_generation(self) -> u8 {
        if self.generation == 1 { 2 } else { 1 }
    }

    fn header(self) -> String {
        format!("{CHUNK_HEADER}{}@{}", self.count, self.generation)
    }

    fn name(self, name: &str, index: usize) -> String {
        match self.generation {
            0 => format!("{name}#{index}"),
            generation => format!("{name}#{generation}.{index}"),
        }
    }
}

/// Splits on character boundaries into pieces of at most `max_chars` characters.
fn split_chunks(value: &str, max_chars: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = value;
    while rest.chars().count() > max_chars {
        let cut = rest.char_indices().nth(max_chars).map_or(rest.len(), |(i, _)| i);
        let (chunk, tail) = rest.split_at(cut);
        chunks.push(chunk);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}

/// The OS credential store through `keyring`.
struct OsBackend;

impl OsBackend {
    fn entry(name: &str) -> Result<keyring::Entry, BackendError> {
        keyring::Entry::new(SERVICE, name).map_err(|e| keyring_error(&e))
    }
}

fn keyring_error(err: &keyring::Error) -> BackendError {
    let unavailable = matches!(
        *err,
        keyring::Error::NoDefaultStore | keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_)
    );
    BackendError { unavailable, reason: err.to_string() }
}

impl Backend for OsBackend {
    fn describe(&self) -> String {
        if cfg!(target_os = "windows") {
            "Windows Credential Manager".to_owned()
        } else if cfg!(target_os = "macos") {
            "macOS Keychain".to_owned()
        } else {
            "system keyring (Secret Service)".to_owned()
        }
    }

    fn get(&self, name: &str) -> Result<Option<String>, BackendError> {
        match Self::entry(name)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(&err)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), BackendError> {
        Self::entry(name)?.set_password(value).map_err(|e| keyring_error(&e))
    }

    fn delete(&self, name: &str) -> Result<(), BackendError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(&err)),
        }
    }
}

/// The opt-in file store: a JSON object of names to values, mode 0600,
/// rewritten atomically.
struct FileBackend {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileBackend {
    fn read(&self) -> Result<BTreeMap<String, String>, BackendError> {
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.is_empty() => Ok(BTreeMap::new()),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| BackendError {
                unavailable: true,
                reason: format!("{} is not a secret file written by Mail Settings: {e}", self.path.display()),
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(err) => Err(BackendError { unavailable: true, reason: format!("{}: {err}", self.path.display()) }),
        }
    }

    fn write(&self, entries: &BTreeMap<String, String>) -> Result<(), BackendError> {
        let bytes = serde_json::to_vec_pretty(entries)
            .map_err(|e| BackendError { unavailable: false, reason: e.to_string() })?;
        // tempfile creates the file with mode 0600, and the rename keeps it.
        super::file::write_atomically(&self.path, &bytes)
            .map_err(|e| BackendError { unavailable: false, reason: e.to_string() })?;
        restrict_permissions(&self.path)
    }

    fn update(&self, change: impl FnOnce(&mut BTreeMap<String, String>)) -> Result<(), BackendError> {
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Across processes too (the window, the CLI, the bridge): a read-change-write of one
        // never drops the other's write — a rotated refresh token saved between them included.
        let _file_lock = self.lock_file()?;
        let mut entries = self.read()?;
        change(&mut entries);
        self.write(&entries)
    }

    /// An OS lock on `<file>.lock` beside the secret file, held while it is rewritten.
    fn lock_file(&self) -> Result<std::fs::File, BackendError> {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        let path = self.path.with_file_name(name);
        let fail = |e: std::io::Error| BackendError { unavailable: false, reason: format!("{}: {e}", path.display()) };
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(fail)?;
        restrict_permissions(&path)?;
        file.lock().map_err(fail)?;
        Ok(file)
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<(), BackendError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| BackendError { unavailable: false, reason: format!("{}: {e}", path.display()) })
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<(), BackendError> {
    Ok(())
}

impl Backend for FileBackend {
    fn describe(&self) -> String {
        format!("secret file {}", self.path.display())
    }

    fn identity(&self) -> String {
        // The file may not exist yet: its folder, resolved, and its name.
        let folder = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
        let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_owned());
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        format!("secret file {}", folder.join(name).display())
    }

    fn get(&self, name: &str) -> Result<Option<String>, BackendError> {
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(self.read()?.remove(name))
    }

    fn set(&self, name: &str, value: &str) -> Result<(), BackendError> {
        self.update(|entries| {
            entries.insert(name.to_owned(), value.to_owned());
        })
    }

    fn delete(&self, name: &str) -> Result<(), BackendError> {
        self.update(|entries| {
            entries.remove(name);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in memory that fails every write after the first `writes_allowed`.
    struct Flaky {
        entries: Mutex<BTreeMap<String, String>>,
        writes_allowed: std::sync::atomic::AtomicUsize,
    }

    impl Backend for Flaky {
        fn describe(&self) -> String {
            "flaky store".to_owned()
        }
        fn get(&self, name: &str) -> Result<Option<String>, BackendError> {
            Ok(self.entries.lock().unwrap().get(name).cloned())
        }
        fn set(&self, name: &str, value: &str) -> Result<(), BackendError> {
            self.write()?;
            self.entries.lock().unwrap().insert(name.to_owned(), value.to_owned());
            Ok(())
        }
        fn delete(&self, name: &str) -> Result<(), BackendError> {
            self.write()?;
            self.entries.lock().unwrap().remove(name);
            Ok(())
        }
    }

    impl Flaky {
        fn write(&self) -> Result<(), BackendError> {
            use std::sync::atomic::Ordering;
            let left = self.writes_allowed.load(Ordering::SeqCst);
            if left == 0 {
                return Err(BackendError { unavailable: false, reason: "injected failure".to_owned() });
            }
            self.writes_allowed.store(left - 1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn a_write_failing_at_any_step_leaves_the_old_value_or_the_new_never_a_mix() {
        let long = |c: &str| c.repeat(CHUNK_CHARS * 2 + 5); // three parts
        let olds = [long("o"), "short-old".to_owned(), long("p")];
        let news = [long("n"), "short-new".to_owned(), "x".repeat(CHUNK_CHARS * 4)];
        for old in &olds {
            for new in &news {
                for writes_allowed in 0..12 {
                    let flaky =
                        Arc::new(Flaky { entries: Mutex::new(BTreeMap::new()), writes_allowed: usize::MAX.into() });
                    let secrets = Secrets { backend: flaky.clone(), remembered: Arc::default() };
                    secrets.set("s", SecretKind::OAuthTokens, &Secret::new(old.clone())).unwrap();
                    // Twice, so the parts of both generations have been in use.
                    secrets.set("s", SecretKind::OAuthTokens, &Secret::new(old.clone())).unwrap();
                    flaky.writes_allowed.store(writes_allowed, std::sync::atomic::Ordering::SeqCst);
                    let result = secrets.set("s", SecretKind::OAuthTokens, &Secret::new(new.clone()));
                    let now = secrets.get("s", SecretKind::OAuthTokens).unwrap().unwrap();
                    assert!(
                        now.expose() == old || now.expose() == new,
                        "failed after {writes_allowed} writes ({result:?}): a mix of {} chars",
                        now.expose().len()
                    );
                    if result.is_ok() {
                        assert_eq!(now.expose(), new);
                    }
                }
            }
        }
    }

    /// The proxy's password is read from the store once for every check of a run; a
    /// change through this store (the window's field, `network set`) is seen at once.
    #[test]
    fn a_remembered_value_is_read_once_and_forgotten_when_this_store_changes_it() {
        let flaky = Arc::new(Flaky { entries: Mutex::new(BTreeMap::new()), writes_allowed: usize::MAX.into() });
        let secrets = Secrets { backend: flaky.clone(), remembered: Arc::default() };
        let read = |s: &Secrets| s.get_remembered(SecretOwner::Proxy, SecretKind::ProxyPassword).unwrap();
        assert!(read(&secrets).is_none(), "none stored, and that is remembered too");
        secrets.set(SecretOwner::Proxy, SecretKind::ProxyPassword, &Secret::new("first")).unwrap();
        assert_eq!(read(&secrets).unwrap().expose(), "first");
        // Another process changing it underneath: not asked again in this one.
        flaky
            .entries
            .lock()
            .unwrap()
            .insert(entry_name(&SecretOwner::Proxy.key(), SecretKind::ProxyPassword), "x".into());
        let clone = secrets.clone();
        assert_eq!(read(&clone).unwrap().expose(), "first", "clones share what was read");
        secrets.set(SecretOwner::Proxy, SecretKind::ProxyPassword, &Secret::new("second")).unwrap();
        assert_eq!(read(&clone).unwrap().expose(), "second");
        secrets.delete(SecretOwner::Proxy, SecretKind::ProxyPassword).unwrap();
        assert!(read(&secrets).is_none());
    }

    #[test]
    fn parts_written_by_the_first_format_are_still_read() {
        let flaky = Arc::new(Flaky { entries: Mutex::new(BTreeMap::new()), writes_allowed: usize::MAX.into() });
        let secrets = Secrets { backend: flaky.clone(), remembered: Arc::default() };
        {
            let mut entries = flaky.entries.lock().unwrap();
            entries.insert("s/oauth-tokens".to_owned(), format!("{CHUNK_HEADER}2"));
            entries.insert("s/oauth-tokens#1".to_owned(), "ab".to_owned());
            entries.insert("s/oauth-tokens#2".to_owned(), "cd".to_owned());
        }
        assert_eq!(secrets.get("s", SecretKind::OAuthTokens).unwrap().unwrap().expose(), "abcd");
        secrets.set("s", SecretKind::OAuthTokens, &Secret::new("z".repeat(CHUNK_CHARS + 1))).unwrap();
        let names: Vec<String> = flaky.entries.lock().unwrap().keys().cloned().collect();
        assert_eq!(names, ["s/oauth-tokens", "s/oauth-tokens#1.1", "s/oauth-tokens#1.2"], "the old parts are gone");
    }

    #[test]
    fn chunks_split_on_character_boundaries() {
        assert_eq!(split_chunks("abc", 10), vec!["abc"]);
        assert_eq!(split_chunks("", 10), vec![""]);
        assert_eq!(split_chunks("abcdef", 2), vec!["ab", "cd", "ef"]);
        assert_eq!(split_chunks("ééé", 2), vec!["éé", "é"]);
    }

    #[test]
    fn file_store_round_trips_long_values_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let secrets = Secrets::from_choice(&format!("file:{}", path.display())).unwrap();
        let long = "t".repeat(CHUNK_CHARS * 3 + 7);
        secrets.set("m365", SecretKind::OAuthTokens, &Secret::new(long.clone())).unwrap();
        assert_eq!(secrets.get("m365", SecretKind::OAuthTokens).unwrap().unwrap().expose(), long);
        let stored: BTreeMap<String, String> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(stored.len(), 5, "header + 4 parts: {:?}", stored.keys());
        assert!(stored.values().all(|v| v.chars().count() <= CHUNK_CHARS + CHUNK_HEADER.len()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Shrinking removes the parts that are no longer used.
        secrets.set("m365", SecretKind::OAuthTokens, &Secret::new("short")).unwrap();
        let stored: BTreeMap<String, String> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(stored.len(), 1);
        secrets.delete("m365", SecretKind::OAuthTokens).unwrap();
        assert!(secrets.get("m365", SecretKind::OAuthTokens).unwrap().is_none());
        secrets.delete("m365", SecretKind::OAuthTokens).unwrap();
    }

    #[test]
    fn stored_passwords_reports_presence_only() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("s.json"));
        assert_eq!(secrets.stored_passwords("a").unwrap(), StoredPasswords::default());
        secrets.set("a", SecretKind::ImapPassword, &Secret::new("pw")).unwrap();
        assert_eq!(secrets.stored_passwords("a").unwrap(), StoredPasswords { smtp: false, imap: true });
        secrets.delete_all("a").unwrap();
        assert_eq!(secrets.stored_passwords("a").unwrap(), StoredPasswords::default());
    }

    #[test]
    fn a_corrupt_secret_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "not json").unwrap();
        let secrets = Secrets::file(path.clone());
        let err = secrets.set("a", SecretKind::SmtpPassword, &Secret::new("pw")).unwrap_err();
        assert!(matches!(err, SecretStoreError::Unavailable { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json");
    }

    #[test]
    fn bad_choices_are_explained() {
        assert!(matches!(Secrets::from_choice("vault"), Err(SecretStoreError::BadChoice(_))));
        assert!(matches!(Secrets::from_choice("file:"), Err(SecretStoreError::BadChoice(_))));
        assert!(Secrets::from_choice("os").is_ok());
    }

    #[test]
    fn two_stores_on_one_file_never_lose_each_others_writes() {
        // Two Secrets on the same file stand in for two processes (each has its own in-process lock).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let store = Secrets::file(path.clone());
                std::thread::spawn(move || {
                    for n in 0..40 {
                        store.set(&format!("w{writer}-{n}"), SecretKind::SmtpPassword, &Secret::new("x")).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let store = Secrets::file(path);
        for writer in 0..2 {
            for n in 0..40 {
                assert!(
                    store.get(&format!("w{writer}-{n}"), SecretKind::SmtpPassword).unwrap().is_some(),
                    "w{writer}-{n} lost"
                );
            }
        }
    }
}
