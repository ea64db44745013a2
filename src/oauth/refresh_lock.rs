//! One token refresh at a time per setting, across the threads of this process
//! and the other Mail Settings processes of the same user (the window, the CLI,
//! scripts): an OS file lock in the data folder, named after the secret store
//! (however its path is spelled) and the setting. Refresh, Connect and Disconnect
//! all write tokens under it: a rotated refresh token is then never used twice, and
//! a newer token set never overwritten by an older one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::store::Secrets;

/// Why the refresh lock could not be taken.
#[derive(Debug, Error)]
pub enum LockError {
    #[error("there is no data folder for the refresh locks (set HOME, or XDG_DATA_HOME)")]
    NoFolder,
    #[error("could not open the refresh lock {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("another Mail Settings is still refreshing this setting's sign-in; try again")]
    Busy,
    #[error("could not lock {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
}

/// Held while refreshing; the lock is released when it is dropped.
#[derive(Debug)]
pub struct RefreshLock {
    _file: File,
}

/// Waits (up to `timeout`) for the refresh lock of `setting_id` in `secrets`.
pub(crate) fn acquire(secrets: &Secrets, setting_id: &str, timeout: Duration) -> Result<RefreshLock, LockError> {
    let path = lock_path(secrets, setting_id).ok_or(LockError::NoFolder)?;
    if let Some(dir) = path.parent() {
        crate::folders::create_private_dir(dir).map_err(|source| LockError::Open { path: dir.to_owned(), source })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Open { path: path.clone(), source })?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RefreshLock { _file: file }),
            Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Busy);
            }
            Err(TryLockError::Error(err)) => {
                return Err(LockError::Lock { path, source: err });
            }
        }
    }
}

/// `DATA/locks/refresh-<store and setting>.lock`: the same file for every
/// process using the same secret store and setting.
fn lock_path(secrets: &Secrets, setting_id: &str) -> Option<PathBuf> {
    let dir = crate::folders::locks_dir()?;
    let key = format!("{}|{setting_id}", secrets.lock_identity());
    Some(dir.join(format!("refresh-{:016x}.lock", fnv1a(key.as_bytes()))))
}

/// A stable 64-bit hash for file names (FNV-1a): the same in every build and process.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_then_gives_up_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("s.json"));
        let held = acquire(&secrets, "lock-test", Duration::from_secs(1)).unwrap();
        let started = Instant::now();
        let err = acquire(&secrets, "lock-test", Duration::from_millis(200)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(err.to_string().contains("still refreshing"), "{err}");
        assert!(acquire(&secrets, "other-setting", Duration::from_millis(10)).is_ok(), "per setting");
        drop(held);
        assert!(acquire(&secrets, "lock-test", Duration::from_millis(10)).is_ok(), "free again");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let dir = crate::folders::locks_dir().unwrap();
            assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o077, 0, "the user's own");
        }
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a as specified");
    }

    #[test]
    fn the_lock_names_the_store_however_its_path_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let plain = Secrets::file(dir.path().join("s.json"));
        let dotted = Secrets::file(dir.path().join(".").join("sub").join("..").join("s.json"));
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        assert_eq!(lock_path(&plain, "ar"), lock_path(&dotted, "ar"));
        assert_ne!(lock_path(&plain, "ar"), lock_path(&plain, "other"));
    }
}
