//! App-only access with a certificate instead of a client secret (what
//! Microsoft recommends for daemons): the app proves itself with a short-lived
//! JWT signed by the certificate's private key (RFC 7523 client assertion,
//! `x5t` naming the certificate), sent with the client-credentials request.
//! The certificate and its key live in the OS store; this module checks a
//! pair before it is stored and signs assertions from it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secret::Secret;

/// How long an assertion is good for (Microsoft accepts up to 10 minutes).
const LIFETIME_SECONDS: i64 = 5 * 60;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("the certificate file holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")")]
    NoCertificate,
    #[error("the certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("the private key cannot be read as an RSA key in PEM (PKCS#8 or PKCS#1): {0}")]
    BadKey(String),
    #[error("the private key does not belong to the certificate (their public keys differ)")]
    Mismatch,
    #[error("the client assertion could not be signed: {0}")]
    Signing(String),
}

/// An app's certificate and its private key.
#[derive(Clone)]
pub struct ClientCertificate {
    certificate_pem: String,
    key_pem: Secret,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate").field("thumbprint", &self.thumbprint_sha1()).finish_non_exhaustive()
    }
}

/// What `oauth-app show` and the window say of a stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// SHA-1 thumbprint in hex, as Entra's "Certificates & secrets" lists it.
    pub thumbprint: String,
    pub subject: String,
    /// The last day it is valid (YYYY-MM-DD).
    pub expires: String,
}

/// The JSON shape in the OS store (one value, so the two never part).
#[derive(Serialize, Deserialize)]
struct Stored {
    certificate_pem: String,
    key_pem: String,
}

impl ClientCertificate {
    /// The value kept in the OS store.
    pub(crate) fn to_stored(&self) -> Secret {
        let stored =
            Stored { certificate_pem: self.certificate_pem.clone(), key_pem: self.key_pem.expose().to_owned() };
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Reads the value kept in the OS store, checking it as when it was stored.
    pub(crate) fn from_stored(value: &Secret) -> Result<Self, CertificateError> {
        let stored: Stored =
            serde_json::from_str(value.expose()).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        Self::from_pem(&stored.certificate_pem, &Secret::new(stored.key_pem))
    }
    /// Checks that `certificate_pem` is a certificate and `key_pem` its RSA private key.
    pub(crate) fn from_pem(certificate_pem: &str, key_pem: &Secret) -> Result<Self, CertificateError> {
        let der = first_certificate_der(certificate_pem)?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        let key = rsa_key(key_pem)?;
        use ring::signature::KeyPair as _;
        if key.public_key().as_ref() != parsed.public_key().subject_public_key.data.as_ref() {
            return Err(CertificateError::Mismatch);
        }
        let certificate_pem = pem_of(&der);
        Ok(Self { certificate_pem, key_pem: key_pem.clone() })
    }

    /// Thumbprint, subject and expiry.
    pub fn facts(&self) -> Result<CertificateFacts, CertificateError> {
        let der = first_certificate_der(&self.certificate_pem)?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        let expires = parsed.validity().not_after.to_datetime();
        Ok(CertificateFacts {
            thumbprint: self.thumbprint_sha1(),
            subject: parsed.subject().to_string(),
            expires: format!("{:04}-{:02}-{:02}", expires.year(), u8::from(expires.month()), expires.day()),
        })
    }

    fn thumbprint_sha1(&self) -> String {
        first_certificate_der(&self.certificate_pem)
            .map(|der| hex::encode_upper(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref()))
            .unwrap_or_default()
    }

    /// A signed client assertion for `client_id` at `token_url`: RS256, the
    /// certificate named by its SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) thumbprints.
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Result<Secret, CertificateError> {
        use base64::Engine as _;
        let der = first_certificate_der(&self.certificate_pem)?;
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(url_safe.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der)));
        header.x5t_s256 = Some(url_safe.encode(ring::digest::digest(&ring::digest::SHA256, &der)));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + LIFETIME_SECONDS,
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.key_pem.expose().as_bytes())
            .map_err(|e| CertificateError::BadKey(e.to_string()))?;
        jsonwebtoken::encode(&header, &claims, &key)
            .map(Secret::new)
            .map_err(|e| CertificateError::Signing(e.to_string()))
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

fn first_certificate_der(pem: &str) -> Result<Vec<u8>, CertificateError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    match CertificateDer::pem_slice_iter(pem.as_bytes()).next() {
        Some(Ok(der)) => Ok(der.as_ref().to_vec()),
        Some(Err(err)) => Err(CertificateError::BadCertificate(err.to_string())),
        None => Err(CertificateError::NoCertificate),
    }
}

fn rsa_key(key_pem: &Secret) -> Result<ring::rsa::KeyPair, CertificateError> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject as _;
    let key = PrivateKeyDer::from_pem_slice(key_pem.expose().as_bytes())
        .map_err(|e| CertificateError::BadKey(e.to_string()))?;
    match &key {
        PrivateKeyDer::Pkcs8(der) => ring::rsa::KeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => ring::rsa::KeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err(CertificateError::BadKey("not an RSA key (Microsoft takes RSA certificates)".to_owned())),
    }
    .map_err(|e| CertificateError::BadKey(e.to_string()))
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|chunk| std::str::from_utf8(chunk).ok()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RSA certificate and key made by openssl (rcgen cannot make RSA keys with ring).
    fn openssl_pair(dir: &std::path::Path, name: &str) -> (String, Secret) {
        let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=mailsettings test app",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        (std::fs::read_to_string(cert).unwrap(), Secret::new(std::fs::read_to_string(key).unwrap()))
    }

    #[test]
    fn a_certificate_and_its_key_sign_an_assertion_that_verifies_with_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = openssl_pair(dir.path(), "app");
        let pair = ClientCertificate::from_pem(&cert, &key).unwrap();
        let facts = pair.facts().unwrap();
        assert_eq!(facts.thumbprint.len(), 40);
        assert!(facts.subject.contains("mailsettings test app"), "{}", facts.subject);
        let assertion = pair.assertion("the-client", "https://login.example/token").unwrap();
        // Verified with the certificate's public key, as the authorization server does.
        let der = first_certificate_der(&cert).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        let public = jsonwebtoken::DecodingKey::from_rsa_der(parsed.public_key().subject_public_key.data.as_ref());
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["https://login.example/token"]);
        validation.set_issuer(&["the-client"]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(assertion.expose(), &public, &validation).unwrap();
        assert_eq!(decoded.claims["sub"], "the-client");
        assert!(decoded.claims["exp"].as_i64().unwrap() - decoded.claims["iat"].as_i64().unwrap() <= 600);
        assert!(decoded.header.x5t.is_some() && decoded.header.x5t_s256.is_some());
        let second = pair.assertion("the-client", "https://login.example/token").unwrap();
        assert_ne!(second.expose(), assertion.expose(), "a fresh jti each time");
    }

    #[test]
    fn a_key_of_another_certificate_and_junk_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = openssl_pair(dir.path(), "one");
        let (_, other_key) = openssl_pair(dir.path(), "two");
        assert_eq!(ClientCertificate::from_pem(&cert, &other_key).unwrap_err(), CertificateError::Mismatch);
        assert_eq!(
            ClientCertificate::from_pem("not a certificate", &other_key).unwrap_err(),
            CertificateError::NoCertificate
        );
        assert!(matches!(
            ClientCertificate::from_pem(
                &cert,
                &Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            ),
            Err(CertificateError::BadKey(_))
        ));
    }
}
