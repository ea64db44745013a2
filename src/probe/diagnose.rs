//! From a failure to a plain-language diagnosis: what went wrong, who can fix
//! it, and what to do next.
//!
//! A failure is first reduced to a [`Symptom`]: the stage, the protocol, and
//! one line of text — the server's reply, or for local failures a tag such as
//! `tls:unknown-issuer` followed by the error. Signatures are tried in order,
//! most specific first (the table is `probe::signatures`, this is the engine); each
//! carries an example symptom, and a unit test checks that every example is
//! recognised by its own signature.

use super::error::{ProbeError, TlsFailureKind};
use super::report::StageName;
use super::signatures;
use crate::diagnosis::{Actor, Diagnosis, mentions};
use crate::model::Security;

pub use crate::model::Protocol;

/// A failure, reduced to what the signatures look at.
#[derive(Debug, Clone)]
pub struct Symptom {
    pub stage: StageName,
    pub protocol: Protocol,
    pub text: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Symptom {
    /// The symptom of a probe error at a stage.
    pub fn of(
        error: &ProbeError,
        stage: StageName,
        protocol: Protocol,
        host: &str,
        port: u16,
        security: Security,
    ) -> Self {
        let text = match error {
            ProbeError::Dns { reason, .. } => format!("dns: {reason}"),
            ProbeError::Connect { kind, reason, .. } => match kind {
                std::io::ErrorKind::ConnectionRefused => format!("connect-refused: {reason}"),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    format!("connect-timeout: {reason}")
                }
                std::io::ErrorKind::NetworkUnreachable | std::io::ErrorKind::HostUnreachable => {
                    format!("connect-unreachable: {reason}")
                }
                _ => format!("connect-failed: {reason}"),
            },
            ProbeError::Tls(failure) => {
                let tag = match failure.kind {
                    TlsFailureKind::UnknownIssuer => "tls:unknown-issuer",
                    TlsFailureKind::NameMismatch => "tls:name-mismatch",
                    TlsFailureKind::Expired => "tls:expired",
                    TlsFailureKind::NotYetValid => "tls:not-yet-valid",
                    TlsFailureKind::PlainTextReply => "tls:plain-reply",
                    TlsFailureKind::Other => "tls:other",
                };
                format!("{tag}: {}", failure.message)
            }
            ProbeError::Silent { secs } => format!("silent: nothing within {secs} s"),
            ProbeError::Io(reason) => format!("io: {reason}"),
            ProbeError::Garbage { text, .. } => format!("garbage: {text}"),
            ProbeError::Refused { reply } => reply.clone(),
            ProbeError::StarttlsNotOffered => "starttls-not-offered".to_owned(),
            ProbeError::NoUsableMechanism { offered } => format!("no-mechanism: {offered}"),
            ProbeError::Protocol(text) => format!("protocol: {text}"),
            ProbeError::BadMessage(text) => format!("bad-message: {text}"),
            ProbeError::WrongSecurityMode(text) => format!("wrong-mode: {text}"),
            ProbeError::MissingCredentials(text) => format!("missing-credentials: {text}"),
            ProbeError::TokenUnavailable(text) => format!("token-unavailable: {text}"),
            ProbeError::FolderMissing { folder, suggestion } => {
                format!("folder-missing: {folder}{suggestion}")
            }
            ProbeError::NotDelivered { secs } => {
                format!("not-delivered: not in the inbox after {secs} s")
            }
            ProbeError::Cancelled => "cancelled".to_owned(),
            ProbeError::TimedOut(text) => format!("timeout: {text}"),
        };
        Self { stage, protocol, text, host: host.to_owned(), port, security }
    }
}

/// Whether the diagnosis `signature` is a failure to try again later (see [`signatures::TEMPORARY`]).
pub(crate) fn is_temporary(signature: &str) -> bool {
    signatures::TEMPORARY.contains(&signature)
}

/// The diagnosis for a symptom; a generic one when no signature matches.
pub(crate) fn diagnose(symptom: &Symptom) -> Diagnosis {
    let text = symptom.text.to_lowercase();
    let host = symptom.host.trim_end_matches('.').to_ascii_lowercase();
    let found = signatures::SIGNATURES.iter().find(|signature| {
        signature.protocol.is_none_or(|p| p == symptom.protocol)
            && signature.any.iter().any(|needle| mentions(&text, needle))
            && (signature.and_any.is_empty() || signature.and_any.iter().any(|needle| mentions(&text, needle)))
            && (signature.hosts.is_empty() || signature.hosts.iter().any(|suffix| host.ends_with(suffix)))
    });
    match found {
        Some(signature) => Diagnosis {
            signature: signature.id,
            cause: fill(signature.cause, symptom),
            who: signature.who,
            next_step: fill(signature.next_step, symptom),
        },
        None => Diagnosis {
            signature: "unrecognised",
            cause: format!("The {} stage failed with a reply Mail Settings does not recognise.", symptom.stage.label()),
            who: Actor::Vendor,
            next_step: "Copy the report (it contains no passwords) and send it to support.".to_owned(),
        },
    }
}

fn fill(template: &str, symptom: &Symptom) -> String {
    let (tls_port, starttls_port) = match symptom.protocol {
        Protocol::Smtp => (465, 587),
        Protocol::Imap => (993, 143),
    };
    let _ = symptom.security;
    template
        .replace("{host}", &symptom.host)
        .replace("{port}", &symptom.port.to_string())
        .replace("{tls_port}", &tls_port.to_string())
        .replace("{starttls_port}", &starttls_port.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symptom(protocol: Protocol, text: &str) -> Symptom {
        Symptom {
            stage: StageName::Authentication,
            protocol,
            text: text.to_owned(),
            host: "mail.example.com".to_owned(),
            port: 587,
            security: Security::Starttls,
        }
    }

    #[test]
    fn every_signature_recognises_its_own_example() {
        assert!(signatures::SIGNATURES.len() >= 30, "{} signatures", signatures::SIGNATURES.len());
        for signature in signatures::SIGNATURES {
            let (protocol, text) = signature.example;
            let mut example = symptom(protocol, text);
            if let Some(suffix) = signature.hosts.first() {
                example.host = format!("mail.{suffix}");
            }
            let diagnosis = diagnose(&example);
            assert_eq!(diagnosis.signature, signature.id, "example {text:?}");
            assert!(!diagnosis.cause.contains('{') && !diagnosis.next_step.contains('{'), "{}", signature.id);
        }
    }

    /// Replies exactly as providers send them (continuation lines, trailing trace ids),
    /// read by the same readers the probes use, diagnosed by their words.
    #[test]
    #[allow(clippy::too_many_lines, reason = "a table of real replies, one row each")]
    fn real_replies_are_diagnosed_by_their_words() {
        let smtp: &[(&str, &str)] = &[
            (
                "535-5.7.8 Username and Password not accepted. For more information, go to\r\n\
                 535 5.7.8  https://support.google.com/mail/?p=BadCredentials 5b1f17b1804b1-43b2f6f4c1fsm1234568f8f.12 - gsmtp\r\n",
                "gmail-credentials-rejected",
            ),
            (
                "534-5.7.9 Application-specific password required. For more information, go to\r\n\
                 534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2e1a72fcca58-7f0ad3f7b3dsm1234567b3a.1 - gsmtp\r\n",
                "gmail-app-password-required",
            ),
            (
                "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbt>\r\n\
                 534-5.7.14 Please log in via your web browser and then try again.\r\n\
                 534-5.7.14  Learn more at\r\n\
                 534 5.7.14  https://support.google.com/mail/answer/78754 a640c23a62f3a-aa6b5b1c4c4sm1234566b.7 - gsmtp\r\n",
                "gmail-web-login-required",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit \
                 https://aka.ms/smtp_auth_disabled for more information. [MN2PR20CA0031.namprd20.prod.outlook.com \
                 2026-11-26T10:12:41.613Z 08DD0F1B2C3D4E5F]\r\n",
                "m365-smtp-auth-disabled-tenant",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit \
                 https://aka.ms/smtp_auth_disabled for more information. [BL1PR13CA0082.namprd13.prod.outlook.com \
                 2026-11-26T10:14:02.220Z 08DD0F1B2C3D4E60]\r\n",
                "m365-smtp-auth-disabled",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. \
                 [BN0PR04CA0172.namprd04.prod.outlook.com 2026-11-26T10:15:11.001Z 08DD0F1B2C3D4E61]\r\n",
                "m365-basic-auth-disabled",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. \
                 [SA0PR11CA0013.namprd11.prod.outlook.com 2026-11-26T10:16:40.550Z 08DD0F1B2C3D4E62]\r\n",
                "m365-credentials-incorrect",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated \
                 successfully. Contact your administrator. [DM6PR02CA0101.namprd02.prod.outlook.com \
                 2026-11-26T10:17:03.331Z 08DD0F1B2C3D4E63]\r\n",
                "m365-sign-in-policy",
            ),
            (
                "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults \
                 policy. Contact your administrator. [CH2PR05CA0044.namprd05.prod.outlook.com]\r\n",
                "m365-sign-in-policy",
            ),
            (
                "535 5.7.3 Authentication unsuccessful [SN4PR0501CA0054.namprd05.prod.outlook.com]\r\n",
                "m365-auth-unsuccessful",
            ),
            (
                "550 5.7.30 Basic authentication is not supported for Client Submission. \
                 [PH8PR07CA0012.namprd07.prod.outlook.com]\r\n",
                "m365-basic-auth-retired",
            ),
            ("535 5.7.8 Error: authentication failed: authentication failure\r\n", "smtp-authentication-failed"),
            ("530 5.7.0 Must issue a STARTTLS command first\r\n", "smtp-starttls-required"),
        ];
        for (wire, expected) in smtp {
            let reply = crate::probe::smtp_dialogue::read_reply(&mut crate::probe::net::GuardedStream::replaying(
                wire.as_bytes(),
            ))
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
            let text = crate::probe::smtp_dialogue::reply_text(&reply);
            let symptom = Symptom::of(
                &ProbeError::Refused { reply: text.clone() },
                StageName::Authentication,
                Protocol::Smtp,
                "smtp.office365.com",
                587,
                Security::Starttls,
            );
            assert_eq!(diagnose(&symptom).signature, *expected, "{text}");
        }

        // Google ends a refused XOAUTH2 with the words it uses for a wrong password: the
        // challenge (JSON) says it was the token.
        let gmail_xoauth2 = format!(
            "xoauth2 rejected: {}\n{}",
            r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
            "535 5.7.8 Username and Password not accepted. For more information, go to"
        );
        assert_eq!(diagnose(&symptom(Protocol::Smtp, &gmail_xoauth2)).signature, "oauth-token-rejected");

        let imap: &[(&str, &str, &str)] = &[
            (
                "a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n",
                "imap.gmail.com",
                "imap-authentication-failed",
            ),
            (
                "a1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)\r\n",
                "imap.gmail.com",
                "gmail-app-password-required",
            ),
            (
                "a1 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)\r\n",
                "imap.gmail.com",
                "gmail-web-login-required",
            ),
            (
                "a1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)\r\n",
                "imap.gmail.com",
                "gmail-imap-disabled",
            ),
            ("a1 NO AUTHENTICATE failed.\r\n", "outlook.office365.com", "m365-imap-authenticate-failed"),
            ("a1 NO LOGIN failed.\r\n", "outlook.office365.com", "m365-imap-password-refused"),
            ("a1 NO LOGIN failed.\r\n", "imap.example.com", "imap-authentication-failed"),
            (
                "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
                "imap.example.com",
                "imap-authentication-failed",
            ),
            (
                "a1 NO [UNAVAILABLE] Temporary authentication failure. [mail1:2026-11-26 10:20:11]\r\n",
                "imap.example.com",
                "imap-server-unavailable",
            ),
        ];
        for (wire, host, expected) in imap {
            let Ok((_, imap_proto::Response::Done { code, information, .. })) =
                imap_proto::parser::parse_response(wire.as_bytes())
            else {
                panic!("not a tagged reply: {wire:?}");
            };
            let error =
                crate::probe::imap_replies::refusal("NO", code.as_ref(), information.as_deref().unwrap_or_default());
            let symptom = Symptom::of(&error, StageName::Authentication, Protocol::Imap, host, 993, Security::Tls);
            assert_eq!(diagnose(&symptom).signature, *expected, "{wire:?} from {host}: {}", symptom.text);
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = signatures::SIGNATURES.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }

    #[test]
    fn the_commonest_field_failure_names_the_powershell_fix() {
        let d = diagnose(&symptom(
            Protocol::Smtp,
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.",
        ));
        assert_eq!(d.signature, "m365-smtp-auth-disabled");
        assert_eq!(d.who, Actor::MailAdmin);
        assert!(d.next_step.contains("Set-CASMailbox <mailbox> -SmtpClientAuthenticationDisabled $false"));
    }

    #[test]
    fn placeholders_are_filled_from_the_setting() {
        let mut s = symptom(Protocol::Imap, "connect-refused: Connection refused");
        s.port = 9993;
        let d = diagnose(&s);
        assert_eq!(d.cause, "Nothing accepts connections on port 9993 of mail.example.com.");
        let d = diagnose(&symptom(Protocol::Imap, "tls:plain-reply: corrupt"));
        assert!(d.next_step.contains("(993)"), "{}", d.next_step);
        let d = diagnose(&symptom(Protocol::Smtp, "silent: nothing"));
        assert!(d.next_step.contains("(587)"), "{}", d.next_step);
    }

    #[test]
    fn protocol_specific_signatures_do_not_cross_over() {
        let d = diagnose(&symptom(Protocol::Imap, "a1 NO AUTHENTICATE failed."));
        assert_eq!(d.signature, "m365-imap-authenticate-failed");
        let d = diagnose(&symptom(Protocol::Smtp, "535 AUTHENTICATE failed."));
        assert_eq!(d.signature, "smtp-authentication-failed");
    }

    #[test]
    fn unknown_replies_get_a_generic_diagnosis_pointing_to_support() {
        let d = diagnose(&symptom(Protocol::Smtp, "421 4.3.2 weird thing"));
        assert_eq!(d.signature, "unrecognised");
        assert_eq!(d.who, Actor::Vendor);
    }

    #[test]
    fn symptoms_are_built_from_errors() {
        let refused = ProbeError::Connect {
            addr: "127.0.0.1:1".parse().unwrap(),
            kind: std::io::ErrorKind::ConnectionRefused,
            reason: "refused".into(),
        };
        let s = Symptom::of(&refused, StageName::Connect, Protocol::Smtp, "h", 1, Security::Tls);
        assert_eq!(diagnose(&s).signature, "connection-refused");
        let s = Symptom::of(
            &ProbeError::StarttlsNotOffered,
            StageName::Starttls,
            Protocol::Imap,
            "h",
            143,
            Security::Starttls,
        );
        assert_eq!(diagnose(&s).signature, "starttls-not-offered");
        let s = Symptom::of(
            &ProbeError::Silent { secs: 2 },
            StageName::Greeting,
            Protocol::Imap,
            "h",
            993,
            Security::Starttls,
        );
        assert_eq!(diagnose(&s).signature, "silent-tls-port");
    }

    /// The clock's digits are not a reply code: an expired certificate checked at a time
    /// whose seconds contain "535" was diagnosed as a refused sign-in (seen 2026-12-04).
    #[test]
    fn a_reply_code_inside_a_timestamp_is_not_a_reply() {
        let expired = ProbeError::Tls(super::super::error::TlsFailure {
            kind: TlsFailureKind::Expired,
            message: "invalid peer certificate: certificate expired: verification time 1796358535 (UNIX), but \
                      certificate is not valid after 1796272135 (86400 seconds ago)"
                .into(),
        });
        let s = Symptom::of(&expired, StageName::Tls, Protocol::Smtp, "h", 587, Security::Starttls);
        assert_eq!(diagnose(&s).signature, "tls-expired");
    }
}
