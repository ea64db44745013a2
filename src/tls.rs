//! Which certificates are trusted, and what a server's certificate says.
//!
//! Trust = the webpki roots (Mozilla's list, built in) + the OS store + the
//! PEM files in `[tls] extra_ca_files` (on-premises CAs, test rigs). There is
//! deliberately no switch that turns verification off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrustError {
    #[error("the CA certificate file {path} could not be read: {reason}", path = .path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the CA certificate file {path} holds no PEM certificate", path = .path.display())]
    Empty { path: PathBuf },
    #[error("the CA certificate in {path} was not accepted: {reason}", path = .path.display())]
    Rejected { path: PathBuf, reason: String },
    #[error(
        "the CA certificate file {path} can be changed by other users of this computer: anyone could add a \
         certificate to it and read your mail; make it writable by its owner only (chmod go-w)",
        path = .path.display()
    )]
    WritableByOthers { path: PathBuf },
    #[error("TLS could not be set up: {0}")]
    Config(String),
}

/// Builds the TLS client configuration every probe uses.
pub fn client_config(extra_ca_files: &[PathBuf]) -> Result<Arc<ClientConfig>, TrustError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "OS trust roots loaded");
    for path in extra_ca_files {
        for cert in read_pem_certificates(path)? {
            roots.add(cert).map_err(|e| TrustError::Rejected { path: path.clone(), reason: e.to_string() })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    // A CA file others can write is a way into every TLS connection the app makes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path)
            .map_err(|e| TrustError::Unreadable { path: path.to_owned(), reason: e.to_string() })?;
        if meta.permissions().mode() & 0o002 != 0 {
            return Err(TrustError::WritableByOthers { path: path.to_owned() });
        }
    }
    let bytes =
        std::fs::read(path).map_err(|e| TrustError::Unreadable { path: path.to_owned(), reason: e.to_string() })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TrustError::Unreadable { path: path.to_owned(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TrustError::Empty { path: path.to_owned() });
    }
    Ok(certs)
}

pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|_| format!("\"{host}\" is not a valid server name for TLS"))
}

/// What the TLS stage reports about the session and the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSummary {
    pub version: String,
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    pub days_left: i64,
}

impl TlsSummary {
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}, certificate for {} issued by {}, valid until {} ({} days left)",
            self.version, self.subject, self.issuer, self.not_after, self.days_left
        )
    }
}

/// Reads version and certificate facts from an established session.
pub(crate) fn summarize(connection: &rustls::ClientConnection) -> TlsSummary {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "TLS".to_owned(),
    };
    let leaf = connection.peer_certificates().and_then(|certs| certs.first());
    let parsed = leaf.and_then(|der| x509_parser::parse_x509_certificate(der.as_ref()).ok());
    match parsed {
        Some((_, cert)) => {
            let not_after = cert.validity().not_after.to_datetime();
            let now = time::OffsetDateTime::now_utc();
            TlsSummary {
                version,
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_after: not_after.date().to_string(),
                days_left: (not_after - now).whole_days(),
            }
        }
        None => TlsSummary {
            version,
            subject: "unknown".to_owned(),
            issuer: "unknown".to_owned(),
            not_after: "unknown".to_owned(),
            days_left: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_ca_file_anyone_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corp-ca.pem");
        let ca = rcgen::generate_simple_self_signed(vec!["corp-ca.example".to_owned()]).unwrap();
        std::fs::write(&path, ca.cert.pem()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(client_config(std::slice::from_ref(&path)).is_ok());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let refused = client_config(std::slice::from_ref(&path)).unwrap_err();
        assert!(matches!(refused, TrustError::WritableByOthers { .. }), "{refused}");
    }
}
