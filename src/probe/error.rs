//! What can go wrong in a probe, before it is turned into a stage outcome and
//! a diagnosis.

use std::net::SocketAddr;

use thiserror::Error;

/// Why a stage failed. The messages are the raw facts; [`super::diagnose`]
/// adds the plain-language cause and next step.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProbeError {
    #[error("could not look up \"{host}\": {reason}")]
    Dns { host: String, reason: String },
    #[error("could not connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, kind: std::io::ErrorKind, reason: String },
    #[error("TLS failed: {0}")]
    Tls(TlsFailure),
    #[error("the server sent nothing within {secs} s")]
    Silent { secs: u64 },
    #[error("{0}")]
    Io(String),
    #[error("the server's answer was not valid {protocol}: {text}")]
    Garbage { protocol: &'static str, text: String },
    #[error("the server refused: {reply}")]
    Refused { reply: String },
    #[error(
        "the server does not offer Start TLS (STARTTLS), so signing in would send the credentials unencrypted; nothing was sent"
    )]
    StarttlsNotOffered,
    #[error("the server offers none of the sign-in methods this setting can use (it offers: {offered})")]
    NoUsableMechanism { offered: String },
    #[error("{0}")]
    Protocol(String),
    #[error("the wrong security mode for this port: {0}")]
    WrongSecurityMode(String),
    #[error("no credentials: {0}")]
    MissingCredentials(String),
    /// The OAuth sign-in is kept, but no fresh token could be had now.
    #[error("no fresh token just now (the sign-in is kept): {0}")]
    TokenUnavailable(String),
    #[error("the folder \"{folder}\" does not exist{suggestion}")]
    FolderMissing { folder: String, suggestion: String },
    #[error("the test message did not arrive within {secs} s")]
    NotDelivered { secs: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The message or its addresses cannot be sent as given (`send`): the caller's data, not the server.
    #[error("the message cannot be sent: {0}")]
    BadMessage(String),
}

impl ProbeError {
    /// What kind of failure this is, for a caller that acts on it (`send`'s exit code).
    pub(crate) fn failure_kind(&self) -> super::report::FailureKind {
        use super::report::FailureKind;
        match self {
            Self::BadMessage(_) => FailureKind::BadMessage,
            Self::MissingCredentials(_) => FailureKind::Credentials,
            Self::Refused { .. } | Self::NoUsableMechanism { .. } => FailureKind::Refused,
            Self::Silent { .. }
            | Self::TimedOut(_)
            | Self::Io(_)
            | Self::WrongSecurityMode(_)
            | Self::Cancelled
            | Self::TokenUnavailable(_)
            | Self::Connect { kind: std::io::ErrorKind::TimedOut, .. } => FailureKind::Temporary,
            Self::Dns { .. }
            | Self::Connect { .. }
            | Self::Tls(_)
            | Self::Garbage { .. }
            | Self::StarttlsNotOffered
            | Self::Protocol(_)
            | Self::FolderMissing { .. }
            | Self::NotDelivered { .. } => FailureKind::Unavailable,
        }
    }
}

/// A TLS failure, keeping rustls' classification where there is one.
#[derive(Debug)]
pub struct TlsFailure {
    pub message: String,
    pub kind: TlsFailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureKind {
    UnknownIssuer,
    NameMismatch,
    Expired,
    NotYetValid,
    /// The server answered the TLS hello with plain text (a STARTTLS port).
    PlainTextReply,
    Other,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for TlsFailure {
    fn from(message: String) -> Self {
        Self { message, kind: TlsFailureKind::Other }
    }
}

impl TlsFailure {
    /// Classifies an io error from a TLS stream (rustls errors travel inside io errors).
    pub(crate) fn from_io(err: &std::io::Error) -> Self {
        let rustls_error = err.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let kind = match rustls_error {
            Some(rustls::Error::InvalidCertificate(cert)) => match cert {
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature => {
                    TlsFailureKind::UnknownIssuer
                }
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. } => {
                    TlsFailureKind::NameMismatch
                }
                rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                    TlsFailureKind::Expired
                }
                rustls::CertificateError::NotValidYet | rustls::CertificateError::NotValidYetContext { .. } => {
                    TlsFailureKind::NotYetValid
                }
                _ => TlsFailureKind::Other,
            },
            Some(rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. }) => {
                TlsFailureKind::PlainTextReply
            }
            _ => TlsFailureKind::Other,
        };
        Self { message: err.to_string(), kind }
    }
}

impl ProbeError {
    /// Maps an io error from a guarded stream (cancel and deadline are marked by text).
    pub(crate) fn from_io(err: &std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::Interrupted => Self::Cancelled,
            std::io::ErrorKind::TimedOut => Self::TimedOut(err.to_string()),
            _ => Self::Io(err.to_string()),
        }
    }
}
