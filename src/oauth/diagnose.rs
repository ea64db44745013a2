//! What the authorization server's refusals mean: `error=` on the redirect,
//! and error responses from the token endpoint (AADSTS codes, Google's
//! reasons), each with who acts and the next step.

use crate::diagnosis::{Actor, Diagnosis, mentions};

struct Known {
    id: &'static str,
    any: &'static [&'static str],
    cause: &'static str,
    who: Actor,
    next_step: &'static str,
}

const KNOWN: &[Known] = &[
    // Google's causes first: the reason also says invalid_grant.
    Known {
        id: "google-testing-expiry",
        any: &["google app is in testing"],
        cause: "The Google app is in Testing: Google ends its refresh tokens 7 days after sign-in, so this one is gone.",
        who: Actor::MailAdmin,
        next_step: "In Google Cloud console > OAuth consent screen, publish the app (In production) or make it Internal (Workspace); then Connect again. Until then every sign-in lasts 7 days.",
    },
    Known {
        id: "google-unused-expiry",
        any: &["unused for six months"],
        cause: "Google ended this sign-in because it went unused for six months.",
        who: Actor::You,
        next_step: "Press Connect again; keep the setting in use (a scheduled check does).",
    },
    Known {
        id: "google-revoked",
        any: &["the sign-in was revoked"],
        cause: "Google revoked this sign-in: the account's password changed, its access was removed, or the app has more than 100 sign-ins for the account.",
        who: Actor::You,
        next_step: "Press Connect again. If it keeps happening, remove old sign-ins of the app at myaccount.google.com > Security > Third-party access.",
    },
    Known {
        id: "aad-conditional-access",
        any: &["aadsts53003", "aadsts53000", "aadsts53001", "aadsts530033"],
        cause: "A Conditional Access policy of the organisation blocked this sign-in (this device, this way of signing in — Microsoft's own policies block signing in on another device in tenants that have not used it — or this location).",
        who: Actor::MailAdmin,
        next_step: "In the Microsoft Entra admin center > Sign-in logs, open this failed sign-in: its Conditional Access tab names the policy. The administrator excludes this app or account from it, or you sign in the way it allows (in the browser on this computer instead of on another device).",
    },
    Known {
        id: "scope-not-granted",
        any: &["invalid_scope", "aadsts70011", "aadsts65005"],
        cause: "The sign-in app was not granted the permission (scope) this side needs: for a side through Microsoft Graph, Graph's Mail.Send or Mail.ReadWrite; through the Gmail API, gmail.send or gmail.readonly.",
        who: Actor::MailAdmin,
        next_step: "An administrator adds that permission to the sign-in app and grants consent (Microsoft Entra admin center > App registrations > API permissions; Google Cloud console > OAuth consent screen > scopes); then press Connect again.",
    },
    Known {
        id: "aad-redirect-uri",
        any: &["aadsts50011", "aadsts500113", "aadsts900971"],
        cause: "The app registration does not list the loopback redirect address.",
        who: Actor::MailAdmin,
        next_step: "In Microsoft Entra ID, add http://localhost under Authentication > \"Mobile and desktop applications\" (any port is accepted for localhost).",
    },
    Known {
        id: "aad-confidential-client",
        any: &["aadsts7000218"],
        cause: "The app registration is set up as a web (confidential) app, so it expects a client secret.",
        who: Actor::MailAdmin,
        next_step: "Add the \"Mobile and desktop applications\" platform, or turn on \"Allow public client flows\" in the app registration.",
    },
    Known {
        id: "aad-secret-for-public-client",
        any: &["aadsts700025"],
        cause: "A client secret was sent for a public (desktop) app.",
        who: Actor::You,
        next_step: "Remove client_secret from the [[oauth_provider]] entry for Microsoft 365.",
    },
    Known {
        id: "aad-admin-approval",
        any: &["aadsts90094", "aadsts90095", "needs admin approval", "admin_consent_required"],
        cause: "This organisation lets only administrators approve apps that read and send mail, and nobody has approved this one yet.",
        who: Actor::MailAdmin,
        next_step: "Send your Microsoft 365 administrator the approval link (Copy request for your administrator); once they approve, press Connect again — nothing else changes.",
    },
    Known {
        id: "aad-no-tenant",
        any: &["aadsts50059"],
        cause: "Microsoft could not tell which organisation to sign in to: the request named none and the account did not say (a shared mailbox, which has no sign-in of its own, often ends here).",
        who: Actor::You,
        next_step: "Enter your organisation's domain (e.g. contoso.com) under Tenant, and for a shared mailbox enter the person with Full Access under Signed in by; then Connect again, signed in as that person.",
    },
    Known {
        id: "aad-account-disabled",
        any: &["aadsts50057"],
        cause: "The account that signed in is disabled for sign-in — as every shared mailbox's account is.",
        who: Actor::You,
        next_step: "For a shared mailbox, enter the person with Full Access to it under Signed in by and Connect again as them; otherwise ask your Microsoft 365 administrator to unblock the account.",
    },
    Known {
        id: "aad-consent-required",
        any: &["aadsts65001", "consent_required"],
        cause: "Nobody has consented to the app's mail permissions in this tenant, and users may not do it themselves.",
        who: Actor::MailAdmin,
        next_step: "Send your Microsoft 365 administrator the approval link (Copy request for your administrator); once they approve, press Connect again — nothing else changes.",
    },
    Known {
        id: "aad-client-secret-invalid",
        any: &["aadsts7000215", "aadsts7000222"],
        cause: "The app's client secret is wrong or has expired.",
        who: Actor::MailAdmin,
        next_step: "In Microsoft Entra ID, create a new client secret (the app's Certificates & secrets) and store it: mailsettings oauth-app set microsoft365 --client-id <id> --client-secret-stdin.",
    },
    Known {
        id: "aad-client-certificate-invalid",
        any: &["aadsts700027", "aadsts700024"],
        cause: "Microsoft refused the app's certificate: it is not uploaded to the app registration, has expired, or the signed assertion is outside its time (this computer's clock is off).",
        who: Actor::MailAdmin,
        next_step: "In Microsoft Entra ID, upload the certificate (.pem) under the app's Certificates & secrets and compare its thumbprint with mailsettings oauth-app show; check this computer's clock.",
    },
    Known {
        id: "device-code-declined",
        any: &["authorization_declined", "declined on the other device"],
        cause: "The sign-in was declined on the other device.",
        who: Actor::You,
        next_step: "Start the sign-in on another device again and approve it there, signed in as the mailbox.",
    },
    Known {
        id: "device-code-expired",
        any: &["expired_token", "aadsts70020", "code expired"],
        cause: "The sign-in code expired before anyone signed in with it.",
        who: Actor::You,
        next_step: "Start the sign-in on another device again and enter the new code within its time.",
    },
    Known {
        id: "aad-unknown-client",
        any: &["aadsts700016", "invalid_client", "unauthorized_client"],
        cause: "The authorization server does not know this app (wrong client id or tenant, or the app is single-tenant).",
        who: Actor::MailAdmin,
        next_step: "Check the client id in the config file and the tenant in the setting; make the app multi-tenant if it is used in several tenants.",
    },
    Known {
        id: "aad-refresh-expired",
        any: &["aadsts70043", "aadsts700082", "aadsts70008"],
        cause: "The sign-in has expired (sign-in frequency or inactivity policy).",
        who: Actor::You,
        next_step: "Press Connect and sign in again.",
    },
    Known {
        id: "aad-code-redeemed",
        any: &["aadsts54005"],
        cause: "This sign-in code was already used.",
        who: Actor::You,
        next_step: "Press Connect again.",
    },
    Known {
        id: "aad-mfa-required",
        any: &["aadsts50076", "aadsts50079", "interaction_required"],
        cause: "Multi-factor sign-in is required.",
        who: Actor::You,
        next_step: "Press Connect and complete the multi-factor sign-in in the browser.",
    },
    Known {
        id: "google-admin-policy",
        any: &["admin_policy_enforced"],
        cause: "The Google Workspace administrator blocks this app.",
        who: Actor::MailAdmin,
        next_step: "In the Google Admin console, trust the app under Security > API Controls.",
    },
    Known {
        id: "access-denied",
        any: &["access_denied"],
        cause: "The sign-in was declined in the browser (or by a policy).",
        who: Actor::You,
        next_step: "Press Connect again, sign in as the mailbox owner and accept the requested permissions.",
    },
    Known {
        id: "invalid-grant",
        any: &["invalid_grant"],
        cause: "The authorization server no longer accepts this sign-in (revoked, expired, or a password change; Google apps in \"Testing\" status expire after 7 days).",
        who: Actor::You,
        next_step: "Press Connect and sign in again.",
    },
    Known {
        id: "token-endpoint-busy",
        any: &["busy: http", "aadsts50196", "temporarily_unavailable", "server_error"],
        cause: "The provider's sign-in service is throttling or failing for now (HTTP 429 or 5xx). The sign-in is kept: nothing to reconnect.",
        who: Actor::You,
        next_step: "Try again in a few minutes (Mail Settings already retried, waiting as the provider asked); if it lasts, see the provider's service health page.",
    },
    Known {
        id: "proxy-failed",
        any: &["the proxy "],
        cause: "The proxy between this computer and the provider refused or failed the request (it is down, asks for a password, or does not allow the provider).",
        who: Actor::NetworkAdmin,
        next_step: "Check the proxy address (Network in the window, or [network] proxy / https_proxy) with your network administrator; the sign-in is kept.",
    },
    Known {
        id: "token-endpoint-unreachable",
        any: &["unreachable", "connection refused", "timed out", "dns"],
        cause: "The authorization server could not be reached.",
        who: Actor::NetworkAdmin,
        next_step: "Check this computer's network and proxy; then try again.",
    },
];

/// Google answers every dead refresh token with the same `invalid_grant: Token has
/// been expired or revoked.` The likely cause, from what this app recorded: a Testing
/// app's 7 days, six months unused, else a revocation (password change, access
/// removed, over 100 sign-ins for the app). Added to the reason the diagnosis reads.
pub(crate) fn google_invalid_grant_cause(
    issued: time::OffsetDateTime,
    last_used: time::OffsetDateTime,
    now: time::OffsetDateTime,
    may_be_testing: bool,
) -> String {
    let age = (now - issued).whole_days();
    if may_be_testing && age >= 7 {
        return format!(
            "likely cause: the Google app is in Testing, whose refresh tokens end 7 days after sign-in (this one was \
             issued {age} days ago)"
        );
    }
    let unused = (now - last_used).whole_days();
    if unused >= 182 {
        return format!(
            "likely cause: the sign-in went unused for six months ({unused} days), which ends it at Google"
        );
    }
    "likely cause: the sign-in was revoked — the account's password changed, its access was removed at \
     myaccount.google.com, or the app has more than 100 sign-ins for this account (Google drops the oldest)"
        .to_owned()
}

/// Whether a sign-in failed because the tenant's administrator must approve the app first.
pub(crate) fn needs_admin_consent(diagnosis: &Diagnosis) -> bool {
    matches!(diagnosis.signature, "aad-admin-approval" | "aad-consent-required")
}

/// A diagnosis for an OAuth error text (error code and description together).
pub(crate) fn diagnose(text: &str) -> Diagnosis {
    let lower = text.to_lowercase();
    match KNOWN.iter().find(|k| k.any.iter().any(|needle| mentions(&lower, needle))) {
        Some(known) => Diagnosis {
            signature: known.id,
            cause: known.cause.to_owned(),
            who: known.who,
            next_step: known.next_step.to_owned(),
        },
        None => Diagnosis {
            signature: "oauth-unrecognised",
            cause: format!("The authorization server refused: {text}"),
            who: Actor::Vendor,
            next_step: "Copy the message and send it to support.".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_fix() {
        let cases = [
            (
                "invalid_request: AADSTS50011: The redirect URI 'http://localhost:5000/' does not match",
                "aad-redirect-uri",
            ),
            (
                "invalid_client: AADSTS7000218: The request body must contain client_assertion or client_secret",
                "aad-confidential-client",
            ),
            (
                "invalid_client: AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented",
                "aad-secret-for-public-client",
            ),
            ("consent_required: AADSTS65001: The user or administrator has not consented", "aad-consent-required"),
            (
                "invalid_request: AADSTS50059: No tenant-identifying information found in either the request or implied by any provided credentials.",
                "aad-no-tenant",
            ),
            ("access_denied: AADSTS50057: The user account is disabled.", "aad-account-disabled"),
            ("unauthorized_client: AADSTS700016: Application with identifier 'x' was not found", "aad-unknown-client"),
            ("invalid_grant: AADSTS70043: The refresh token has expired", "aad-refresh-expired"),
            ("invalid_grant: AADSTS54005: OAuth2 Authorization code was already redeemed", "aad-code-redeemed"),
            ("interaction_required: AADSTS50076: you must use multi-factor authentication", "aad-mfa-required"),
            ("invalid_client: AADSTS7000215: Invalid client secret provided.", "aad-client-secret-invalid"),
            (
                "invalid_client: AADSTS7000222: The provided client secret keys for app 'x' are expired.",
                "aad-client-secret-invalid",
            ),
            (
                "invalid_client: AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
                "aad-client-certificate-invalid",
            ),
            (
                "invalid_client: AADSTS700024: Client assertion is not within its valid time range.",
                "aad-client-certificate-invalid",
            ),
            ("authorization_declined: AADSTS70000: The user declined the sign-in", "device-code-declined"),
            (
                "expired_token: AADSTS70020: The provided value for the input parameter 'device_code' is not valid.",
                "device-code-expired",
            ),
            ("admin_policy_enforced", "google-admin-policy"),
            (
                "access_denied: AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
                "aad-conditional-access",
            ),
            ("invalid_scope: refresh token missing requested scope", "scope-not-granted"),
            ("access_denied: The user declined", "access-denied"),
            ("invalid_grant: Token has been expired or revoked.", "invalid-grant"),
            ("the authorization server is unreachable: Connection refused", "token-endpoint-unreachable"),
            ("busy: HTTP 503 temporarily_unavailable", "token-endpoint-busy"),
        ];
        for (text, id) in cases {
            assert_eq!(diagnose(text).signature, id, "{text}");
        }
        assert_eq!(diagnose("weird").signature, "oauth-unrecognised");
    }

    #[test]
    fn googles_dead_refresh_tokens_are_explained_by_their_dates() {
        let now = time::OffsetDateTime::now_utc();
        let days = |n: i64| now - time::Duration::days(n);
        let testing = google_invalid_grant_cause(days(8), days(1), now, true);
        assert!(testing.contains("in Testing") && testing.contains("8 days ago"), "{testing}");
        assert_eq!(
            diagnose(&format!("invalid_grant: Token has been expired or revoked. ({testing})")).signature,
            "google-testing-expiry"
        );
        let unused = google_invalid_grant_cause(days(400), days(200), now, false);
        assert_eq!(diagnose(&format!("invalid_grant ({unused})")).signature, "google-unused-expiry");
        let revoked = google_invalid_grant_cause(days(3), days(1), now, true);
        assert_eq!(diagnose(&format!("invalid_grant ({revoked})")).signature, "google-revoked", "{revoked}");
    }
}
