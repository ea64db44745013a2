//! The bridge's own TLS, on by default (`bridge run --no-local-tls` turns it
//! off): a self-signed certificate for `localhost` and `127.0.0.1`, made once
//! and then kept — its private key in the OS store, the certificate written
//! beside the config. Programs trust that file or pin the certificate (its
//! SHA-256 fingerprint for msmtp's `tls_fingerprint`, its public key for curl's
//! `--pinnedpubkey`), so a program that pins it never sends its local password
//! to whoever else holds the port while the bridge is down.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use super::BridgeError;
use crate::secret::Secret;
use crate::store::{SecretKind, SecretOwner, Secrets};

/// The certificate's file, beside the config.
pub const CERTIFICATE_FILE: &str = "bridge-localhost.pem";

/// The key and its certificate, as kept in the OS store (one value, so they
/// never part).
#[derive(Serialize, Deserialize)]
struct Stored {
    key_pem: String,
    certificate_pem: String,
}

/// What `bridge run --local-tls` serves with.
#[derive(Clone)]
pub struct LocalTls {
    pub server_config: Arc<ServerConfig>,
    /// Where the certificate was written for the programs to trust.
    pub certificate_path: PathBuf,
    /// SHA-256 of the certificate, as `AB:CD:…` (what mail programs show; msmtp's `tls_fingerprint`).
    pub fingerprint: String,
    /// `sha256//BASE64` of the certificate's public key (curl's `--pinnedpubkey`).
    pub public_key_pin: String,
}

/// What programs need to trust the bridge: the certificate's file and its pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    pub certificate_path: PathBuf,
    pub fingerprint: String,
    pub public_key_pin: String,
}

impl LocalTls {
    pub(crate) fn pins(&self) -> Pins {
        Pins {
            certificate_path: self.certificate_path.clone(),
            fingerprint: self.fingerprint.clone(),
            public_key_pin: self.public_key_pin.clone(),
        }
    }
}

impl std::fmt::Debug for LocalTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTls").field("certificate_path", &self.certificate_path).finish_non_exhaustive()
    }
}

/// The local certificate: the stored one, else a new one (stored at once).
/// Writes the certificate beside the config file `config_file`.
pub(crate) fn load_or_create(secrets: &Secrets, config_file: &Path) -> Result<LocalTls, BridgeError> {
    let stored = match secrets.get(SecretOwner::BridgeTls, SecretKind::BridgeTlsKey)? {
        Some(value) => serde_json::from_str::<Stored>(value.expose()).ok(),
        None => None,
    };
    let stored = match stored {
        Some(stored) => stored,
        None => {
            let made = make_certificate()?;
            let json = serde_json::to_string(&made).map_err(|e| BridgeError::LocalTls(e.to_string()))?;
            secrets.set(SecretOwner::BridgeTls, SecretKind::BridgeTlsKey, &Secret::new(json))?;
            made
        }
    };
    let certificate = CertificateDer::from_pem_slice(stored.certificate_pem.as_bytes())
        .map_err(|e| BridgeError::LocalTls(format!("the stored certificate cannot be read: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(stored.key_pem.as_bytes())
        .map_err(|e| BridgeError::LocalTls(format!("the stored key cannot be read: {e}")))?;
    let fingerprint = fingerprint(&certificate);
    let public_key_pin = public_key_pin(&certificate)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(vec![certificate], key))
        .map_err(|e| BridgeError::LocalTls(e.to_string()))?;
    let certificate_path = config_file.with_file_name(CERTIFICATE_FILE);
    crate::store::file::write_atomically(&certificate_path, stored.certificate_pem.as_bytes())
        .map_err(|e| BridgeError::LocalTls(format!("{}: {e}", certificate_path.display())))?;
    Ok(LocalTls { server_config: Arc::new(server_config), certificate_path, fingerprint, public_key_pin })
}

fn make_certificate() -> Result<Stored, BridgeError> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| BridgeError::LocalTls(e.to_string()))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "mailsettings bridge (localhost)");
    // Long-lived: it names only this machine's loopback, and renewing it would make
    // every program that trusts it ask again.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let key = rcgen::KeyPair::generate().map_err(|e| BridgeError::LocalTls(e.to_string()))?;
    let certificate = params.self_signed(&key).map_err(|e| BridgeError::LocalTls(e.to_string()))?;
    Ok(Stored { key_pem: key.serialize_pem(), certificate_pem: certificate.pem() })
}

fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, certificate.as_ref());
    digest.as_ref().iter().map(|byte| format!("{byte:02X}")).collect::<Vec<_>>().join(":")
}

fn public_key_pin(certificate: &CertificateDer<'_>) -> Result<String, BridgeError> {
    use base64::Engine as _;
    use x509_parser::prelude::FromDer as _;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(certificate.as_ref())
        .map_err(|e| BridgeError::LocalTls(format!("the stored certificate cannot be read: {e}")))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, parsed.public_key().raw);
    Ok(format!("sha256//{}", base64::engine::general_purpose::STANDARD.encode(digest.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_made_once_then_kept_and_its_key_never_written_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("secrets.json"));
        let config_file = dir.path().join("config.toml");
        let first = load_or_create(&secrets, &config_file).unwrap();
        let written = std::fs::read_to_string(&first.certificate_path).unwrap();
        assert!(written.starts_with("-----BEGIN CERTIFICATE-----"), "{written}");
        assert!(!written.contains("PRIVATE KEY"), "the key stays in the secret store");
        let again = load_or_create(&secrets, &config_file).unwrap();
        assert_eq!(first.fingerprint, again.fingerprint, "kept, so programs that trust it keep working");
        assert_eq!(std::fs::read_to_string(&again.certificate_path).unwrap(), written);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        assert!(first.public_key_pin.starts_with("sha256//") && first.public_key_pin.len() == 8 + 44);
        assert_eq!(first.public_key_pin, again.public_key_pin);
        // A store that lost it gets a new one.
        secrets.delete(SecretOwner::BridgeTls, SecretKind::BridgeTlsKey).unwrap();
        assert_ne!(load_or_create(&secrets, &config_file).unwrap().fingerprint, first.fingerprint);
    }
}
