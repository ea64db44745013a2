//! Where the app keeps its files, in one place: the config file's default
//! location (chosen by confy), the data folder (the window's log, the refresh
//! locks), the cache folder (the parse cache), and how a private file in them is
//! opened. Everything that writes outside the config file asks here.

use std::fs;
use std::path::{Path, PathBuf};

/// The app's name in the OS folders and the credential store.
pub const APP_NAME: &str = "mailsettings";

fn strategy() -> Option<impl etcetera::AppStrategy> {
    etcetera::choose_app_strategy(etcetera::AppStrategyArgs {
        top_level_domain: "rs".to_owned(),
        author: String::new(),
        app_name: APP_NAME.to_owned(),
    })
    .ok()
}

/// The default config file: `config.toml` in the OS config folder (confy's choice).
pub(crate) fn default_config_file() -> Result<PathBuf, confy::ConfyError> {
    confy::get_configuration_file_path(APP_NAME, "config")
}

/// The data folder (`~/.local/share/mailsettings` on Linux).
pub(crate) fn data_dir() -> Option<PathBuf> {
    use etcetera::AppStrategy;
    Some(strategy()?.data_dir())
}

/// The cache folder (`~/.cache/mailsettings` on Linux): safe to delete.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    use etcetera::AppStrategy;
    Some(strategy()?.cache_dir())
}

/// The window's log file, in the data folder.
pub(crate) fn log_file() -> Option<PathBuf> {
    Some(data_dir()?.join("mailsettings.log"))
}

/// The folder of the cross-process locks: the data folder's `locks`. Never a shared
/// temporary folder — another user could hold (or pre-create) the lock files there.
pub(crate) fn locks_dir() -> Option<PathBuf> {
    Some(data_dir()?.join("locks"))
}

/// Creates `dir` (and its parents) if missing, the folder itself readable by its owner
/// only (0700 on Unix); an existing one of another user's, or a link, is refused.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let meta = fs::symlink_metadata(dir)?;
        if !meta.is_dir() || meta.uid() != rustix::process::getuid().as_raw() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{} is not a folder of yours", dir.display()),
            ));
        }
        // A folder an older version made with the default mask is tightened.
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Opens `path` for appending, creating it readable by its owner only (0600 on
/// Unix), like the config: the log and the audit log name mailboxes and people.
pub(crate) fn open_private_append(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
