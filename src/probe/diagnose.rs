//! From a failure to a plain-language diagnosis: what went wrong, who can fix
//! it, and what to do next.
//!
//! A failure is first reduced to a [`Symptom`]: the stage, the protocol, and
//! one line of text — the server's reply, or for local failures a tag such as
//! `tls:unknown-issuer` followed by the error. Signatures are tried in order,
//! most specific first; each carries an example symptom, and a unit test
//! checks that every example is recognised by its own signature.

use super::error::{ProbeError, TlsFailureKind};
use super::report::StageName;
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

struct Signature {
    id: &'static str,
    protocol: Option<Protocol>,
    /// Any of these (case-insensitive) in the symptom text.
    any: &'static [&'static str],
    /// And, when not empty, also one of these.
    and_any: &'static [&'static str],
    /// And, when not empty, the server's name ends with one of these (a provider's
    /// bare reply means something particular there).
    hosts: &'static [&'static str],
    cause: &'static str,
    who: Actor,
    next_step: &'static str,
    /// A symptom text this signature must recognise (checked by a test).
    #[cfg_attr(not(test), allow(dead_code))]
    example: (Protocol, &'static str),
}

const SMTP: Option<Protocol> = Some(Protocol::Smtp);
const IMAP: Option<Protocol> = Some(Protocol::Imap);

/// Most specific first.
const SIGNATURES: &[Signature] = &[
    Signature {
        id: "cancelled",
        protocol: None,
        any: &["cancelled"],
        and_any: &[],
        hosts: &[],
        cause: "The test was cancelled before it finished.",
        who: Actor::You,
        next_step: "Run the test again when you are ready.",
        example: (Protocol::Smtp, "cancelled"),
    },
    // Microsoft sends 5.7.139 for several causes; the words after the code tell them apart.
    Signature {
        id: "m365-smtp-auth-disabled-tenant",
        protocol: SMTP,
        any: &["smtpclientauthentication is disabled for the tenant"],
        and_any: &[],
        hosts: &[],
        cause: "SMTP AUTH (authenticated sending) is turned off for the whole Microsoft 365 organisation.",
        who: Actor::MailAdmin,
        next_step: "In Exchange Online PowerShell, turn it on for this mailbox only: Set-CASMailbox <mailbox> \
                    -SmtpClientAuthenticationDisabled $false (a mailbox setting wins over the organisation's, which \
                    Set-TransportConfig -SmtpClientAuthenticationDisabled changes for everyone).",
        example: (
            Protocol::Smtp,
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
        ),
    },
    Signature {
        id: "m365-smtp-auth-disabled",
        protocol: SMTP,
        any: &["smtpclientauthentication is disabled"],
        and_any: &[],
        hosts: &[],
        cause: "SMTP AUTH (authenticated sending) is turned off for this mailbox.",
        who: Actor::MailAdmin,
        next_step: "In Exchange Online PowerShell run: Set-CASMailbox <mailbox> -SmtpClientAuthenticationDisabled $false \
                    (or tick Authenticated SMTP under the mailbox's Mail apps in the Microsoft 365 admin center).",
        example: (
            Protocol::Smtp,
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
        ),
    },
    Signature {
        id: "m365-basic-auth-disabled",
        protocol: SMTP,
        any: &["5.7.139"],
        and_any: &["basic authentication is disabled"],
        hosts: &[],
        cause: "Microsoft 365 does not accept a password (Basic authentication) for this account any more.",
        who: Actor::You,
        next_step: "Move this setting to Microsoft 365 OAuth: use the migration assistant, then Connect.",
        example: (Protocol::Smtp, "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."),
    },
    Signature {
        id: "m365-credentials-incorrect",
        protocol: SMTP,
        any: &["5.7.139"],
        and_any: &["credentials were incorrect"],
        hosts: &[],
        cause: "Microsoft 365 did not accept the user name and password.",
        who: Actor::You,
        next_step: "Check the outgoing user name (the full mailbox address) and enter the password again; better, move the \
                    setting to Microsoft 365 OAuth with the migration assistant.",
        example: (Protocol::Smtp, "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."),
    },
    Signature {
        id: "m365-sign-in-policy",
        protocol: SMTP,
        any: &["5.7.139"],
        and_any: &["did not meet the criteria", "security defaults", "locked by your organization"],
        hosts: &[],
        cause: "A sign-in policy of the Microsoft 365 organisation blocked this sign-in: security defaults or a \
                Conditional Access rule that blocks passwords for mail programs, or multi-factor sign-in the \
                account needs — or SMTP AUTH is off for the mailbox.",
        who: Actor::MailAdmin,
        next_step: "Move this setting to Microsoft 365 OAuth (the migration assistant), which these policies allow. Otherwise \
                    the administrator checks the account's sign-in log in Entra ID and runs Set-CASMailbox <mailbox> \
                    -SmtpClientAuthenticationDisabled $false.",
        example: (
            Protocol::Smtp,
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
        ),
    },
    Signature {
        id: "m365-smtp-auth-refused",
        protocol: SMTP,
        any: &["5.7.139"],
        and_any: &[],
        hosts: &[],
        cause: "Microsoft 365 refused the sign-in for sending (SMTP AUTH off, a sign-in policy, or the credentials).",
        who: Actor::MailAdmin,
        next_step: "The server's words above say which; for SMTP AUTH run Set-CASMailbox <mailbox> \
                    -SmtpClientAuthenticationDisabled $false; for a policy or a password, move to Microsoft 365 OAuth.",
        example: (Protocol::Smtp, "535 5.7.139 Authentication unsuccessful"),
    },
    Signature {
        id: "m365-basic-auth-retired",
        protocol: SMTP,
        any: &["5.7.30", "basic authentication is not supported"],
        and_any: &[],
        hosts: &[],
        cause: "Microsoft 365 no longer accepts a password (Basic authentication) for sending.",
        who: Actor::You,
        next_step: "Move this setting to Microsoft 365 OAuth: use the migration assistant, then Connect. Until \
                    then the tenant's Microsoft 365 administrator can switch Basic authentication for SMTP AUTH \
                    back on for a while (Microsoft turns it off by default at the end of December 2026).",
        example: (Protocol::Smtp, "550 5.7.30 Basic authentication is not supported for Client Submission."),
    },
    Signature {
        id: "send-as-denied",
        protocol: SMTP,
        any: &[
            "5.7.60",
            "sendasdenied",
            "not allowed to send as",
            "sender address rejected: not owned",
            "5.7.1 sender",
        ],
        and_any: &[],
        hosts: &[],
        cause: "The signed-in account is not allowed to send as the send-as address.",
        who: Actor::MailAdmin,
        next_step: "Grant the signed-in account \"Send As\" permission on the send-as mailbox, or use the mailbox's own address as the send-as address.",
        example: (
            Protocol::Smtp,
            "554 5.2.252 SendAsDenied; collections@contoso.com not allowed to send as ar@contoso.com",
        ),
    },
    Signature {
        id: "m365-sender-restricted",
        protocol: SMTP,
        any: &["outboundspamexception", "bad outbound sender", "5.7.708", "5.7.750"],
        and_any: &[],
        hosts: &[],
        cause: "Microsoft has stopped this mailbox from sending: it was flagged for sending spam (often after its password leaked). The sign-in works; sending is blocked.",
        who: Actor::MailAdmin,
        next_step: "The tenant's administrator secures the account, then releases it in the Microsoft Defender portal (Email & collaboration > Review > Restricted entities); test again after.",
        example: (
            Protocol::Smtp,
            "554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a permanent exception with message WASCL UserAction verdict is not None. Actual verdict is Suspend, ShowTierUpgrade.",
        ),
    },
    Signature {
        id: "m365-sending-limit",
        protocol: SMTP,
        any: &[
            "submissionquotaexceeded",
            "recipientthresholdexceeded",
            "sender thread limit exceeded",
            "message submission rate",
        ],
        and_any: &[],
        hosts: &[],
        cause: "This mailbox reached Microsoft's sending limits (about 10,000 recipients a day, 30 messages a minute). The sign-in works; sending waits for the limit.",
        who: Actor::You,
        next_step: "Wait: the daily limit frees up within 24 hours, the rate limit within a minute. Spread the automation's sending, or send bulk mail through a relay.",
        example: (
            Protocol::Smtp,
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.",
        ),
    },
    Signature {
        id: "gmail-sending-limit",
        protocol: SMTP,
        any: &["daily user sending limit exceeded", "daily user sending quota exceeded", "5.4.5 daily"],
        and_any: &[],
        hosts: &[],
        cause: "This Google account reached its daily sending limit (2,000 messages a day for Workspace, 500 for consumer Gmail). The sign-in works; sending waits for the limit.",
        who: Actor::You,
        next_step: "Wait up to 24 hours for the limit to free up; spread the automation's sending, or send bulk mail through a relay.",
        example: (
            Protocol::Smtp,
            "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 d2e1a72fcca58-7f0ad3f7b3dsm1234567b3a.1 - gsmtp",
        ),
    },
    Signature {
        id: "gmail-rate-limited",
        protocol: SMTP,
        any: &["4.7.28", "unusual rate of unsolicited mail", "4.7.0 try again later, closing connection"],
        and_any: &[],
        hosts: &[],
        cause: "Google is holding back this account's sending for now (an unusual rate of mail).",
        who: Actor::You,
        next_step: "Try again later; if it keeps happening, slow the automation's sending down.",
        example: (
            Protocol::Smtp,
            "421 4.7.0 Try again later, closing connection. (MAIL) d2e1a72fcca58-7f0ad3f7b3dsm1234567b3a.1 - gsmtp",
        ),
    },
    Signature {
        id: "m365-auth-unsuccessful",
        protocol: SMTP,
        any: &["5.7.3 authentication unsuccessful", "5.7.3 "],
        and_any: &[],
        hosts: &[],
        cause: "Microsoft 365 refused the sign-in: the user or token is wrong, the mailbox lacks rights, or SMTP AUTH is off for the mailbox.",
        who: Actor::MailAdmin,
        next_step: "Check that the signed-in account is the sending mailbox (or has Send As on it) and that SMTP AUTH is enabled for that mailbox; then Connect again.",
        example: (Protocol::Smtp, "535 5.7.3 Authentication unsuccessful [SN4PR0501CA0054.namprd05.prod.outlook.com]"),
    },
    // Before the Gmail password signatures: Google ends a refused XOAUTH2 with the same
    // "Username and Password not accepted" it sends for a wrong password.
    Signature {
        id: "oauth-token-rejected",
        protocol: None,
        any: &["\"status\":\"401\"", "invalid_token", "\"status\":\"400\"", "xoauth2 rejected"],
        and_any: &[],
        hosts: &[],
        cause: "The server did not accept the sign-in token (expired, revoked, for another account, or without mail permissions).",
        who: Actor::You,
        next_step: "Press Connect again and sign in as the mailbox owner; if it keeps failing, ask your mail administrator to check the app's IMAP/SMTP permissions.",
        example: (Protocol::Imap, "xoauth2 rejected: {\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\"}"),
    },
    Signature {
        id: "gmail-app-password-required",
        protocol: None,
        any: &["5.7.9", "application-specific password required"],
        and_any: &[],
        hosts: &[],
        cause: "Google refuses the account's normal password for mail programs.",
        who: Actor::You,
        next_step: "Change the credential type to Gmail OAuth and Connect (recommended), or use an app password.",
        example: (Protocol::Smtp, "534-5.7.9 Application-specific password required."),
    },
    Signature {
        id: "gmail-web-login-required",
        protocol: None,
        any: &["5.7.14", "log in via your web browser", "web login required", "[webalert"],
        and_any: &[],
        hosts: &[],
        cause: "Google blocked the sign-in and wants it confirmed in a browser.",
        who: Actor::You,
        next_step: "Use Gmail OAuth (Connect signs in through the browser); with a password, open the link the \
                    server gave (in the report, after WEBALERT) signed in as the mailbox, or sign in at \
                    mail.google.com once, and test again.",
        example: (
            Protocol::Smtp,
            "534-5.7.14 <https://accounts.google.com/signin/continue?...> Please log in via your web browser",
        ),
    },
    Signature {
        id: "gmail-credentials-rejected",
        protocol: None,
        any: &["username and password not accepted"],
        and_any: &[],
        hosts: &[],
        cause: "Google did not accept the user name and password.",
        who: Actor::You,
        next_step: "Use Gmail OAuth instead of a password; if you must use a password, check it and that the account allows it.",
        example: (Protocol::Smtp, "535-5.7.8 Username and Password not accepted. For more information, go to"),
    },
    Signature {
        id: "gmail-imap-disabled",
        protocol: IMAP,
        any: &["not enabled for imap"],
        and_any: &[],
        hosts: &[],
        cause: "IMAP access is turned off for this Google account.",
        who: Actor::MailAdmin,
        next_step: "Turn on IMAP in Gmail settings (Forwarding and POP/IMAP) or in the Workspace admin console.",
        example: (Protocol::Imap, "a1 NO [ALERT] Your account is not enabled for IMAP use."),
    },
    Signature {
        id: "m365-imap-authenticate-failed",
        protocol: IMAP,
        any: &["authenticate failed"],
        and_any: &[],
        hosts: &[],
        cause: "Microsoft 365 refused the IMAP sign-in: wrong scopes (a Graph token), wrong user name, or IMAP disabled for the mailbox.",
        who: Actor::MailAdmin,
        next_step: "Check the incoming user name is the mailbox, that the app has the outlook.office.com IMAP.AccessAsUser.All permission, and run Set-CASMailbox <mailbox> -ImapEnabled $true.",
        example: (Protocol::Imap, "a1 NO AUTHENTICATE failed."),
    },
    Signature {
        id: "m365-imap-password-refused",
        protocol: IMAP,
        any: &["login failed"],
        and_any: &[],
        hosts: &["office365.com", "outlook.com"],
        cause: "Microsoft 365 refused the password: it no longer accepts passwords (Basic authentication) for \
                IMAP, whatever the password.",
        who: Actor::You,
        next_step: "Move this setting to Microsoft 365 OAuth: use the migration assistant, then Connect.",
        example: (Protocol::Imap, "NO LOGIN failed."),
    },
    Signature {
        id: "m365-authenticated-not-connected",
        protocol: IMAP,
        any: &["authenticated but not connected"],
        and_any: &[],
        hosts: &[],
        cause: "The account that signed in is not the mailbox being opened and has no access to it.",
        who: Actor::MailAdmin,
        next_step: "Connect again signed in as the mailbox owner, or grant the signed-in account Full Access to the mailbox.",
        example: (Protocol::Imap, "a2 BAD User is authenticated but not connected."),
    },
    Signature {
        id: "imap-plaintext-login-refused",
        protocol: IMAP,
        any: &[
            "logindisabled",
            "privacyrequired",
            "plaintext authentication disallowed",
            "plaintext authentication disabled",
        ],
        and_any: &[],
        hosts: &[],
        cause: "The server refuses sign-in before the connection is encrypted.",
        who: Actor::You,
        next_step: "Set incoming Security to TLS on connect (SSL) (port 993) or Start TLS (port 143).",
        example: (
            Protocol::Imap,
            "* BAD [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
        ),
    },
    // The limits a provider puts on a mailbox, told apart: each says who acts and when to try again.
    Signature {
        id: "imap-too-many-connections",
        protocol: IMAP,
        any: &["too many simultaneous connections", "maximum number of connections", "too many connections"],
        and_any: &[],
        hosts: &[],
        cause: "The mailbox already has as many connections open as the server allows at once (other mail \
                programs, phones, or the automation itself reading it).",
        who: Actor::You,
        next_step: "Close other programs reading this mailbox, or wait a few minutes for their connections to end, \
                    then test again.",
        example: (Protocol::Imap, "* NO [ALERT] Too many simultaneous connections. (Failure)"),
    },
    Signature {
        id: "imap-too-many-sign-ins",
        protocol: IMAP,
        any: &["too many login failures", "too many failed login", "too many authentication failures", "login rate"],
        and_any: &[],
        hosts: &[],
        cause: "The server refuses sign-ins for a while after too many attempts (a wrong password retried, or many \
                programs signing in at once).",
        who: Actor::You,
        next_step: "Fix the password first if it may be wrong, then wait 15 to 60 minutes before testing again: each \
                    new attempt can extend the block.",
        example: (Protocol::Imap, "a1 NO [ALERT] Too many login failures, try again later"),
    },
    Signature {
        id: "imap-daily-quota",
        protocol: IMAP,
        any: &["exceeded command or bandwidth limits", "bandwidth limit exceeded", "daily limit"],
        and_any: &[],
        hosts: &[],
        cause: "The mailbox used up the provider's daily allowance of downloads or commands (Gmail counts IMAP \
                traffic per day).",
        who: Actor::You,
        next_step: "Wait until the allowance renews (Gmail: within 24 hours) and test again; meanwhile let other \
                    programs that read this mailbox download less.",
        example: (Protocol::Imap, "a1 NO [ALERT] Account exceeded command or bandwidth limits. (Failure)"),
    },
    Signature {
        id: "imap-server-unavailable",
        protocol: IMAP,
        any: &["[unavailable]", "temporarily unavailable", "temporary system problem", "[systemerror]"],
        and_any: &[],
        hosts: &[],
        cause: "The mail server is temporarily unable to open the mailbox.",
        who: Actor::MailAdmin,
        next_step: "Wait a few minutes and test again; if it persists, ask the mail administrator about the server's health.",
        example: (Protocol::Imap, "a1 NO [UNAVAILABLE] Temporary authentication failure."),
    },
    Signature {
        id: "imap-authentication-failed",
        protocol: IMAP,
        any: &["[authenticationfailed]", "login failed", "authentication failed", "invalid credentials", "[auth]"],
        and_any: &[],
        hosts: &[],
        cause: "The incoming server did not accept the user name and password.",
        who: Actor::You,
        next_step: "Check the incoming user name (the full mailbox address) and enter the password again.",
        example: (Protocol::Imap, "a1 NO [AUTHENTICATIONFAILED] Authentication failed."),
    },
    Signature {
        id: "smtp-temporary-auth-failure",
        protocol: SMTP,
        any: &["454 4.7.0", "4.7.0 temporary authentication failure", "454 "],
        and_any: &[],
        hosts: &[],
        cause: "The outgoing server had a temporary problem checking the sign-in.",
        who: Actor::MailAdmin,
        next_step: "Test again in a minute; if it persists, the mail administrator should check the server's authentication service.",
        example: (Protocol::Smtp, "454 4.7.0 Temporary authentication failure"),
    },
    Signature {
        id: "smtp-starttls-required",
        protocol: SMTP,
        any: &["must issue a starttls", "5.7.0 must issue", "530 5.7.0"],
        and_any: &[],
        hosts: &[],
        cause: "The outgoing server requires Start TLS (STARTTLS) before anything else.",
        who: Actor::You,
        next_step: "Set outgoing Security to Start TLS (port 587).",
        example: (Protocol::Smtp, "530 5.7.0 Must issue a STARTTLS command first"),
    },
    Signature {
        id: "smtp-authentication-failed",
        protocol: SMTP,
        any: &["535", "authentication failed", "authentication credentials invalid"],
        and_any: &[],
        hosts: &[],
        cause: "The outgoing server did not accept the sign-in.",
        who: Actor::You,
        next_step: "Check the outgoing user name and enter the password again (for OAuth settings, Connect again).",
        example: (Protocol::Smtp, "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6"),
    },
    Signature {
        id: "smtp-relay-denied",
        protocol: SMTP,
        any: &["relay access denied", "relaying denied", "relay not permitted", "5.7.1 unable to relay"],
        and_any: &[],
        hosts: &[],
        cause: "The outgoing server will not pass the message on for this account.",
        who: Actor::MailAdmin,
        next_step: "Make sure the setting signs in (user name and password or Connect) and that the account may send to outside addresses.",
        example: (Protocol::Smtp, "554 5.7.1 <x@example.org>: Relay access denied"),
    },
    Signature {
        id: "smtp-recipient-rejected",
        protocol: SMTP,
        any: &["5.1.1", "recipient address rejected", "user unknown", "mailbox unavailable"],
        and_any: &[],
        hosts: &[],
        cause: "The server refused the test recipient address.",
        who: Actor::You,
        next_step: "Check the address you typed for the test messages.",
        example: (Protocol::Smtp, "550 5.1.1 <nobody@rig.test>: Recipient address rejected: User unknown"),
    },
    Signature {
        id: "smtp-sender-rejected",
        protocol: SMTP,
        any: &["5.1.8", "sender address rejected", "5.1.7", "553 "],
        and_any: &[],
        hosts: &[],
        cause: "The server refused the send-as address.",
        who: Actor::MailAdmin,
        next_step: "Use an address of a domain the server accepts mail from, or ask the mail administrator to allow this one.",
        example: (Protocol::Smtp, "553 5.1.8 <ar@unknown.invalid>: Sender address rejected: Domain not found"),
    },
    Signature {
        id: "smtp-message-rejected",
        protocol: SMTP,
        any: &["5.3.4", "5.7.1 message rejected", "554 5.7.1"],
        and_any: &[],
        hosts: &[],
        cause: "The server refused the test message itself (size or content policy).",
        who: Actor::MailAdmin,
        next_step: "Ask the mail administrator which policy refused it; the server's words are above.",
        example: (Protocol::Smtp, "554 5.7.1 Message rejected due to content restrictions"),
    },
    Signature {
        id: "starttls-not-offered",
        protocol: None,
        any: &["starttls-not-offered", "starttls not available", "does not offer starttls"],
        and_any: &[],
        hosts: &[],
        cause: "The server does not offer Start TLS (STARTTLS) on this port, so the password or token was not sent.",
        who: Actor::You,
        next_step: "Use TLS on connect (port 465 for outgoing, 993 for incoming), or check the server name and port.",
        example: (Protocol::Smtp, "starttls-not-offered"),
    },
    Signature {
        id: "no-usable-sign-in-method",
        protocol: None,
        any: &["no-mechanism"],
        and_any: &[],
        hosts: &[],
        cause: "The server offers no sign-in method this credential type can use (for example, no XOAUTH2 for an OAuth setting, or only OAuth for a password).",
        who: Actor::You,
        next_step: "Check the credential type: Microsoft 365 and Gmail need their OAuth type; a password needs PLAIN or LOGIN.",
        example: (Protocol::Smtp, "no-mechanism: XOAUTH2"),
    },
    Signature {
        id: "tls-plain-reply",
        protocol: None,
        any: &["tls:plain-reply"],
        and_any: &[],
        hosts: &[],
        cause: "The server answered in plain text: this port uses Start TLS, not TLS on connect (SSL).",
        who: Actor::You,
        next_step: "Set Security to Start TLS for port {port}, or use the TLS on connect (SSL) port ({tls_port}).",
        example: (Protocol::Imap, "tls:plain-reply: received corrupt message of type InvalidContentType"),
    },
    Signature {
        id: "silent-tls-port",
        protocol: None,
        any: &["silent", "wrong-mode"],
        and_any: &[],
        hosts: &[],
        cause: "The server waited silently: this port expects TLS from the first byte (TLS on connect (SSL)), not Start TLS.",
        who: Actor::You,
        next_step: "Set Security to TLS on connect (SSL) for port {port}, or use the Start TLS port ({starttls_port}).",
        example: (Protocol::Smtp, "silent: nothing within 2 s"),
    },
    Signature {
        id: "tls-unknown-issuer",
        protocol: None,
        any: &["tls:unknown-issuer"],
        and_any: &[],
        hosts: &[],
        cause: "The server's certificate is signed by an authority this computer does not trust (an on-premises CA, or a proxy that inspects traffic).",
        who: Actor::NetworkAdmin,
        next_step: "Get your organisation's CA certificate (PEM) and add it under Trusted CA certificates ([tls] extra_ca_files).",
        example: (Protocol::Smtp, "tls:unknown-issuer: invalid peer certificate: UnknownIssuer"),
    },
    Signature {
        id: "tls-name-mismatch",
        protocol: None,
        any: &["tls:name-mismatch"],
        and_any: &[],
        hosts: &[],
        cause: "The server's certificate is for a different host name than \"{host}\".",
        who: Actor::You,
        next_step: "Use the host name the certificate is for (for Microsoft 365: outlook.office365.com and smtp.office365.com).",
        example: (Protocol::Imap, "tls:name-mismatch: invalid peer certificate: NotValidForName"),
    },
    Signature {
        id: "tls-expired",
        protocol: None,
        any: &["tls:expired"],
        and_any: &[],
        hosts: &[],
        cause: "The server's certificate has expired.",
        who: Actor::MailAdmin,
        next_step: "The server's administrator must renew its certificate; until then the connection is not safe.",
        example: (Protocol::Smtp, "tls:expired: invalid peer certificate: Expired"),
    },
    Signature {
        id: "tls-not-yet-valid",
        protocol: None,
        any: &["tls:not-yet-valid"],
        and_any: &[],
        hosts: &[],
        cause: "The server's certificate is not valid yet — usually this computer's clock is wrong.",
        who: Actor::You,
        next_step: "Check this computer's date, time and time zone.",
        example: (Protocol::Smtp, "tls:not-yet-valid: invalid peer certificate: NotValidYet"),
    },
    Signature {
        id: "tls-failed",
        protocol: None,
        any: &["tls:other"],
        and_any: &[],
        hosts: &[],
        cause: "The encrypted connection could not be set up.",
        who: Actor::MailAdmin,
        next_step: "Check the security setting for this port; if it is right, the server's TLS configuration may be too old (TLS 1.2 or newer is required).",
        example: (Protocol::Smtp, "tls:other: peer is incompatible: no shared cipher suites"),
    },
    Signature {
        id: "dns-failed",
        protocol: None,
        any: &["dns:"],
        and_any: &[],
        hosts: &[],
        cause: "The server name \"{host}\" could not be found.",
        who: Actor::You,
        next_step: "Check the spelling of the server name and that this computer is online.",
        example: (Protocol::Smtp, "dns: failed to lookup address information: Name or service not known"),
    },
    Signature {
        id: "connection-refused",
        protocol: None,
        any: &["connect-refused"],
        and_any: &[],
        hosts: &[],
        cause: "Nothing accepts connections on port {port} of {host}.",
        who: Actor::You,
        next_step: "Check the port (usually 587 or 465 for outgoing, 993 or 143 for incoming) and the server name.",
        example: (Protocol::Smtp, "connect-refused: Connection refused (os error 111)"),
    },
    Signature {
        id: "connection-timed-out",
        protocol: None,
        any: &["connect-timeout"],
        and_any: &[],
        hosts: &[],
        cause: "The server did not answer the connection — often a firewall blocks outgoing port {port}.",
        who: Actor::NetworkAdmin,
        next_step: "Ask IT whether outgoing connections to port {port} are allowed; try from another network to compare.",
        example: (Protocol::Imap, "connect-timeout: connection timed out"),
    },
    Signature {
        id: "network-unreachable",
        protocol: None,
        any: &["connect-unreachable", "connect-failed"],
        and_any: &[],
        hosts: &[],
        cause: "This computer has no route to the server.",
        who: Actor::NetworkAdmin,
        next_step: "Check the network connection, VPN and proxy settings.",
        example: (Protocol::Imap, "connect-unreachable: Network is unreachable (os error 101)"),
    },
    Signature {
        id: "not-a-mail-server",
        protocol: None,
        any: &["http/1.", "http/2", "<html", "ssh-2.0"],
        and_any: &[],
        hosts: &[],
        cause: "Something other than a mail server answered on port {port}.",
        who: Actor::You,
        next_step: "Check the server name and port.",
        example: (Protocol::Smtp, "garbage: HTTP/1.1 400 Bad Request"),
    },
    Signature {
        id: "garbled-reply",
        protocol: None,
        any: &["garbage:", "too much data", "far longer than the protocol allows", "far more data"],
        and_any: &[],
        hosts: &[],
        cause: "The server's answer did not follow the mail protocol.",
        who: Actor::You,
        next_step: "Check the server name, port and security mode; a proxy or the wrong service may be answering.",
        example: (Protocol::Imap, "garbage: \u{1}\u{2}binary"),
    },
    Signature {
        id: "folder-missing",
        protocol: IMAP,
        any: &["folder-missing"],
        and_any: &[],
        hosts: &[],
        cause: "A folder named in the setting does not exist on the server.",
        who: Actor::You,
        next_step: "Use one of the folder names the server lists (see the Folders stage).",
        example: (Protocol::Imap, "folder-missing: Sent Items"),
    },
    Signature {
        id: "not-delivered",
        protocol: None,
        any: &["not-delivered"],
        and_any: &[],
        hosts: &[],
        cause: "The test message was accepted for sending but did not arrive in the inbox in time.",
        who: Actor::MailAdmin,
        next_step: "Look in the mailbox's junk folder and any mail-flow rules; check the incoming user name is where replies should arrive.",
        example: (Protocol::Imap, "not-delivered: not in Inbox after 60 s"),
    },
    Signature {
        id: "credentials-missing",
        protocol: None,
        any: &["missing-credentials"],
        and_any: &[],
        hosts: &[],
        cause: "This setting has no password or sign-in token stored.",
        who: Actor::You,
        next_step: "Enter the password in the form (Basic) or press Connect (OAuth).",
        example: (Protocol::Smtp, "missing-credentials: no outgoing password is stored"),
    },
    Signature {
        id: "token-unavailable",
        protocol: None,
        any: &["token-unavailable"],
        and_any: &[],
        hosts: &[],
        cause: "The sign-in is kept, but the provider's sign-in service was busy or out of reach, so no fresh token could be had just now.",
        who: Actor::You,
        next_step: "Nothing to reconnect: try the test again in a few minutes; if it lasts, check this computer's network or proxy to the provider's sign-in service.",
        example: (Protocol::Smtp, "token-unavailable: the authorization server could not be reached"),
    },
    Signature {
        id: "connection-dropped",
        protocol: None,
        any: &["closed the connection", "connection reset", "broken pipe", "unexpected eof"],
        and_any: &[],
        hosts: &[],
        cause: "The server closed the connection unexpectedly.",
        who: Actor::MailAdmin,
        next_step: "Test again; if it repeats, the server may be refusing this computer's address or this security mode.",
        example: (Protocol::Smtp, "io: the server closed the connection"),
    },
    Signature {
        id: "step-timed-out",
        protocol: None,
        any: &["timeout:", "did not answer in time"],
        and_any: &[],
        hosts: &[],
        cause: "The server stopped answering part-way.",
        who: Actor::NetworkAdmin,
        next_step: "Test again; if it repeats, check the network and the server's load, or raise the step timeout.",
        example: (Protocol::Imap, "timeout: the server did not answer in time"),
    },
];

/// Signatures of a failure worth trying again later without changing anything: a
/// limit reached, a passing problem at the server (a scheduled check calls them
/// temporary, and alerts wait for them to last).
const TEMPORARY: &[&str] = &[
    "imap-too-many-connections",
    "imap-too-many-sign-ins",
    "imap-daily-quota",
    "imap-server-unavailable",
    "smtp-temporary-auth-failure",
    "gmail-rate-limited",
];

/// Whether the diagnosis `signature` is a failure to try again later (see [`TEMPORARY`]).
pub fn is_temporary(signature: &str) -> bool {
    TEMPORARY.contains(&signature)
}

/// The diagnosis for a symptom; a generic one when no signature matches.
pub fn diagnose(symptom: &Symptom) -> Diagnosis {
    let text = symptom.text.to_lowercase();
    let host = symptom.host.trim_end_matches('.').to_ascii_lowercase();
    let found = SIGNATURES.iter().find(|signature| {
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
        assert!(SIGNATURES.len() >= 30, "{} signatures", SIGNATURES.len());
        for signature in SIGNATURES {
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
            let reply =
                crate::probe::smtp::read_reply(&mut crate::probe::net::GuardedStream::replaying(wire.as_bytes()))
                    .unwrap_or_else(|e| panic!("{wire:?}: {e}"));
            let text = crate::probe::smtp::reply_text(&reply);
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
            let error = crate::probe::imap::refusal("NO", code.as_ref(), information.as_deref().unwrap_or_default());
            let symptom = Symptom::of(&error, StageName::Authentication, Protocol::Imap, host, 993, Security::Tls);
            assert_eq!(diagnose(&symptom).signature, *expected, "{wire:?} from {host}: {}", symptom.text);
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = SIGNATURES.iter().map(|s| s.id).collect();
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
