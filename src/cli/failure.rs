//! How a command fails: the message printed on stderr and the exit code
//! (1 a check or guard failed, 2 bad usage; `send` uses sendmail's sysexits).

use crate::model::GuardError;
use crate::store::WorkspaceError;

/// A command's failure: what to print, and which exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn check(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Self::check(format!("could not write the output: {err}"))
    }
}

impl From<crate::migration::MigrationError> for Failure {
    fn from(err: crate::migration::MigrationError) -> Self {
        use crate::migration::MigrationError;
        match err {
            MigrationError::UnknownSetting(_)
            | MigrationError::UnknownTarget { .. }
            | MigrationError::NotStarted(_) => Self::usage(err.to_string()),
            MigrationError::Workspace(inner) => Self::from(inner),
            other => Self::check(other.to_string()),
        }
    }
}

impl From<WorkspaceError> for Failure {
    fn from(err: WorkspaceError) -> Self {
        match err {
            // Naming something that does not exist is a usage mistake.
            WorkspaceError::Guard(
                GuardError::UnknownSetting(_) | GuardError::UnknownCompany(_) | GuardError::NotInTrash(_),
            ) => Self::usage(err.to_string()),
            other => Self::check(other.to_string()),
        }
    }
}
