//! Diagnoses that need the setting, not only the server's words: who was
//! meant to sign in (a person, the app, a shared mailbox's delegate) decides
//! what a refusal means and what to grant whom — with the Exchange Online
//! PowerShell line filled in, so the IT admin can run it as it stands.

use crate::diagnosis::{Actor, Diagnosis};
use crate::model::{MailSetting, OAuthFlow};
use crate::probe::{ProbeKind, Report};

/// Signatures of a refused sign-in, whichever words the server used.
const SIGN_IN_REFUSED: &[&str] = &[
    "oauth-token-rejected",
    "m365-imap-authenticate-failed",
    "m365-authenticated-not-connected",
    "imap-authentication-failed",
    "m365-auth-unsuccessful",
    "m365-credentials-incorrect",
    "m365-smtp-auth-refused",
    "smtp-authentication-failed",
];

/// Which side a report's failure is on, where the report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Sending,
    Receiving,
}

fn side(report: &Report, signature: &str) -> Option<Side> {
    match report.kind {
        ProbeKind::Outgoing | ProbeKind::Send | ProbeKind::SendingSignIn => Some(Side::Sending),
        ProbeKind::Incoming | ProbeKind::Leftover => Some(Side::Receiving),
        _ if signature.starts_with("smtp-") || signature == "send-as-denied" => Some(Side::Sending),
        _ if signature.starts_with("imap-") || signature.starts_with("m365-imap") => Some(Side::Receiving),
        _ => None,
    }
}

/// The report with its diagnosis made specific to `setting`, where it can be.
pub fn diagnosis(mut report: Report, setting: &MailSetting) -> Report {
    let Some(found) = report.diagnosis.as_ref() else {
        return report;
    };
    let signature = found.signature;
    let refused = SIGN_IN_REFUSED.contains(&signature);
    let side = side(&report, signature);
    let better = if setting.oauth_flow == OAuthFlow::App && refused {
        Some(app_not_granted(setting))
    } else if let Some(delegate) = setting.shared_mailbox_delegate() {
        shared_mailbox(setting, delegate, side, refused)
    } else {
        None
    };
    let better = better.or_else(|| (signature == "send-as-denied").then(|| send_as_denied(setting)));
    if better.is_some() {
        report.diagnosis = better;
    }
    report
}

/// With app-only access nobody signs in, so a refused token means the app was not
/// granted this mailbox — the fix is in Exchange, not a new Connect.
fn app_not_granted(setting: &MailSetting) -> Diagnosis {
    let mailbox = setting.imap.user_name.trim();
    Diagnosis {
        signature: "app-not-granted-on-mailbox",
        cause: format!("The app's token was refused for {mailbox}: the app has not been granted this mailbox."),
        who: Actor::MailAdmin,
        next_step: format!(
            "In Exchange Online PowerShell: New-ServicePrincipal for the app (once), then Add-MailboxPermission \
             -Identity {mailbox} -User <service principal id> -AccessRights FullAccess (and Add-RecipientPermission \
             … -AccessRights SendAs for sending); the app needs IMAP.AccessAsApp and SMTP.SendAsApp with admin consent."
        ),
    }
}

/// A shared mailbox's refusals: reading needs the delegate's Full Access; sending
/// as the (unlicensed) mailbox itself is refused, sending as the delegate needs Send As.
fn shared_mailbox(setting: &MailSetting, delegate: &str, side: Option<Side>, refused: bool) -> Option<Diagnosis> {
    let mailbox = setting.imap.user_name.trim();
    let outgoing_user = setting.smtp.user_name.trim();
    match side? {
        Side::Receiving if refused => Some(Diagnosis {
            signature: "shared-mailbox-no-full-access",
            cause: format!(
                "{delegate} signed in, but the server would not open the shared mailbox {mailbox} with that \
                 sign-in: {delegate} has no Full Access to it (or the access was granted minutes ago and has not \
                 reached the server yet)."
            ),
            who: Actor::MailAdmin,
            next_step: format!(
                "In Exchange Online PowerShell: Add-MailboxPermission -Identity {mailbox} -User {delegate} \
                 -AccessRights FullAccess -InheritanceType All (or Exchange admin center > Recipients > Mailboxes > \
                 {mailbox} > Delegation > Read and manage); then Test Incoming again — no new Connect is needed."
            ),
        }),
        Side::Sending if refused && outgoing_user.eq_ignore_ascii_case(mailbox) => Some(Diagnosis {
            signature: "shared-mailbox-cannot-sign-in-to-send",
            cause: format!(
                "Sending signs in as the shared mailbox {mailbox} itself; a shared mailbox without a licence (the \
                 usual kind) cannot use SMTP AUTH."
            ),
            who: Actor::You,
            next_step: format!(
                "Enter {delegate} as the outgoing (From) User Name, so {delegate} sends as {mailbox}; the IT admin \
                 grants Send As once: Add-RecipientPermission -Identity {mailbox} -Trustee {delegate} -AccessRights \
                 SendAs. (Or license {mailbox} and run Set-CASMailbox {mailbox} -SmtpClientAuthenticationDisabled $false.)"
            ),
        }),
        _ => None,
    }
}

/// The signed-in account may not send as the send-as address: grant Send As to
/// exactly that account on exactly that mailbox.
fn send_as_denied(setting: &MailSetting) -> Diagnosis {
    let send_as = setting.smtp.send_as.trim();
    let trustee = setting.smtp.user_name.trim();
    Diagnosis {
        signature: "send-as-denied",
        cause: format!("{trustee} signed in, but is not allowed to send as {send_as}."),
        who: Actor::MailAdmin,
        next_step: format!(
            "In Exchange Online PowerShell: Add-RecipientPermission -Identity {send_as} -Trustee {trustee} \
             -AccessRights SendAs (or Exchange admin center > Recipients > Mailboxes > {send_as} > Delegation > Send \
             as); it can take up to an hour to apply. Or set Default Send as Email to {trustee}'s own address."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CredentialKind;
    use crate::probe::report::Redactor;

    fn failed(kind: ProbeKind, signature: &'static str) -> Report {
        let mut report = Report::new(kind, "shared", "host:993 (TLS) as collections@contoso.com", Redactor::default());
        report.set_diagnosis(Diagnosis {
            signature,
            cause: "generic".into(),
            who: Actor::MailAdmin,
            next_step: "generic".into(),
        });
        report
    }

    fn shared() -> MailSetting {
        let mut setting = MailSetting::example("shared");
        setting.credential = CredentialKind::Microsoft365;
        setting.imap.user_name = "collections@contoso.com".into();
        setting.smtp.send_as = "collections@contoso.com".into();
        setting.smtp.user_name = "pat@contoso.com".into();
        setting.delegate = Some("pat@contoso.com".into());
        setting
    }

    fn next_step(report: Report, setting: &MailSetting) -> (String, &'static str) {
        let d = diagnosis(report, setting).diagnosis.unwrap();
        (d.next_step, d.signature)
    }

    #[test]
    fn a_shared_mailbox_refusal_names_what_to_grant_whom() {
        let setting = shared();
        let (step, id) = next_step(failed(ProbeKind::Incoming, "imap-authentication-failed"), &setting);
        assert_eq!(id, "shared-mailbox-no-full-access");
        assert!(
            step.contains(
                "Add-MailboxPermission -Identity collections@contoso.com -User pat@contoso.com -AccessRights FullAccess"
            ),
            "{step}"
        );
        let (step, id) = next_step(failed(ProbeKind::Outgoing, "send-as-denied"), &setting);
        assert_eq!(id, "send-as-denied");
        assert!(
            step.contains("Add-RecipientPermission -Identity collections@contoso.com -Trustee pat@contoso.com -AccessRights SendAs"),
            "{step}"
        );
        let mut itself = setting.clone();
        itself.smtp.user_name = "collections@contoso.com".into();
        let (step, id) = next_step(failed(ProbeKind::Outgoing, "smtp-authentication-failed"), &itself);
        assert_eq!(id, "shared-mailbox-cannot-sign-in-to-send");
        assert!(step.contains("Enter pat@contoso.com as the outgoing (From) User Name"), "{step}");
        // The delegate's own SMTP refusal stays the server's diagnosis (e.g. SMTP AUTH off for the delegate).
        let (_, id) = next_step(failed(ProbeKind::Outgoing, "smtp-authentication-failed"), &setting);
        assert_eq!(id, "smtp-authentication-failed");
        // A failure that is not a refusal keeps its own diagnosis.
        let (_, id) = next_step(failed(ProbeKind::Incoming, "tls-expired"), &setting);
        assert_eq!(id, "tls-expired");
    }

    #[test]
    fn app_only_and_plain_settings_keep_their_own_readings() {
        let mut app = shared();
        app.delegate = None;
        app.oauth_flow = OAuthFlow::App;
        let (_, id) = next_step(failed(ProbeKind::Incoming, "m365-imap-authenticate-failed"), &app);
        assert_eq!(id, "app-not-granted-on-mailbox");
        let plain = MailSetting::example("plain");
        let (_, id) = next_step(failed(ProbeKind::Incoming, "imap-authentication-failed"), &plain);
        assert_eq!(id, "imap-authentication-failed", "no delegate: nothing to grant");
        let (step, _) = next_step(failed(ProbeKind::Send, "send-as-denied"), &plain);
        assert!(step.contains("-Identity ar@example.com -Trustee ar@example.com"), "{step}");
    }
}
