//! How a migration step can fail.

use thiserror::Error;

use crate::model::{Config, GuardError, Migration};
use crate::store::WorkspaceError;

#[derive(Debug, Error)]
pub enum MigrationError {
    #[error("there is no mail setting with id \"{0}\"")]
    UnknownSetting(String),
    #[error("\"{0}\" already signs in with OAuth; a migration starts from a Basic (password) setting")]
    NotBasic(String),
    #[error("\"{0}\" is already being migrated to \"{1}\"; use `migrate status {0}` (or roll it back first)")]
    AlreadyStarted(String, String),
    #[error("\"{0}\" cannot be the new setting: it must sign in with OAuth and take part in no other migration")]
    NotAdoptable(String),
    #[error("no migration of \"{0}\" has been started; start one with `migrate start {0} --to …`")]
    NotStarted(String),
    #[error("\"{target}\" is not a target: use microsoft365, gmail, or the id of an [[oauth_provider]]")]
    UnknownTarget { target: String },
    #[error("the old setting cannot be deleted yet:\n{}", .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    DeleteBlocked(Vec<String>),
    #[error("{0}")]
    Workspace(#[from] WorkspaceError),
}

impl From<GuardError> for MigrationError {
    fn from(err: GuardError) -> Self {
        Self::Workspace(WorkspaceError::Guard(err))
    }
}

/// The migration of `old_id`, or why there is none.
pub(super) fn migration_of<'c>(config: &'c Config, old_id: &str) -> Result<&'c Migration, MigrationError> {
    config.migration(old_id).ok_or_else(|| MigrationError::NotStarted(old_id.to_owned()))
}
