//! What a mail API's refusal means: Microsoft Graph's error codes
//! (`ErrorAccessDenied`, `MailboxNotEnabledForRESTAPI`, `ErrorSendAsDenied`,
//! throttling) and the Gmail API's reasons (`insufficientPermissions`,
//! `accessNotConfigured`, rate limits), read from their JSON error bodies and
//! told as who acts and what to do — by meaning, not by the words around them.

use std::time::Duration;

use crate::diagnosis::{Actor, Diagnosis};
use crate::model::Protocol;
use crate::model::setting::Transport;
use crate::oauth::http::HttpError;
use crate::probe::error::ProbeError;
use crate::probe::report::FailureKind;

/// Why an API request did not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error: its status, its code (Graph's `code`,
    /// Google's first `reason`), its message, and how long it asked to wait.
    #[error("HTTP {status} {code}: {message}")]
    Answered { status: u16, code: String, message: String, retry_after: Option<Duration> },
    /// No answer: the connection, TLS, the proxy or a deadline.
    #[error("no answer: {0}")]
    Transport(#[source] HttpError),
    #[error("the answer was not the API's JSON: {0}")]
    Garbled(String),
    #[error("cancelled")]
    Cancelled,
}

impl ApiError {
    /// Reads Graph's `{"error": {"code", "message"}}` or Google's
    /// `{"error": {"code", "message", "errors": [{"reason"}], "status"}}`.
    pub(crate) fn from_answer(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Self {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let error = &json["error"];
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let code = text(&error["code"])
            .or_else(|| text(&error["errors"][0]["reason"]))
            .or_else(|| text(&error["status"]))
            .unwrap_or_else(|| "(no code)".to_owned());
        let message = text(&error["message"]).unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            crate::printable::printable(raw.chars().take(300).collect::<String>().trim())
        });
        Self::Answered { status, code, message, retry_after }
    }

    /// The API's own words for the report's "server said".
    pub(crate) fn server_words(&self) -> Option<String> {
        match self {
            Self::Answered { status, code, message, retry_after } => Some(match retry_after {
                Some(wait) => format!("HTTP {status} {code}: {message} (Retry-After: {} s)", wait.as_secs()),
                None => format!("HTTP {status} {code}: {message}"),
            }),
            _ => None,
        }
    }

    pub(crate) fn failure_kind(&self) -> FailureKind {
        match self {
            Self::Answered { status, .. } if *status == 401 || *status == 403 => FailureKind::Refused,
            Self::Answered { .. } | Self::Garbled(_) => FailureKind::Refused,
            Self::Transport(_) | Self::Cancelled => FailureKind::Unavailable,
        }
    }

    /// The same failure as the probes name theirs, for the stage's detail.
    pub(crate) fn as_probe_error(&self) -> ProbeError {
        match self {
            Self::Answered { .. } => ProbeError::Refused { reply: self.to_string() },
            Self::Transport(err) => ProbeError::Io(format!("no answer from the API: {err}")),
            Self::Garbled(words) => ProbeError::Garbage { protocol: "JSON", text: words.clone() },
            Self::Cancelled => ProbeError::Cancelled,
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Answered { code, .. } => code,
            _ => "",
        }
    }
}

/// A limit reached or a passing problem at the provider: worth trying again, the
/// sign-in kept.
pub(crate) fn is_temporary(err: &ApiError) -> bool {
    match err {
        ApiError::Answered { status, code, .. } => {
            *status == 429
                || *status >= 500
                || ["rateLimitExceeded", "userRateLimitExceeded", "ApplicationThrottled"].contains(&code.as_str())
        }
        ApiError::Transport(_) => true,
        ApiError::Garbled(_) | ApiError::Cancelled => false,
    }
}

/// The diagnosis of an API refusal; `None` for a failure the probes' own engine
/// explains (no answer at all: the network, TLS, the proxy).
pub(crate) fn diagnose(err: &ApiError, transport: Transport, side: Protocol, mailbox: &str) -> Option<Diagnosis> {
    let ApiError::Answered { status, message, retry_after, .. } = err else { return None };
    let api = transport.label(side);
    let permission = match (transport, side) {
        (Transport::GmailApi, Protocol::Smtp) => "gmail.send",
        (Transport::GmailApi, Protocol::Imap) => "gmail.readonly",
        (_, Protocol::Smtp) => "Mail.Send",
        (_, Protocol::Imap) => "Mail.ReadWrite",
    };
    let found = |signature, cause: String, who, next_step: String| Some(Diagnosis { signature, cause, who, next_step });
    match (err.code(), *status) {
        (_, 429) | ("ApplicationThrottled" | "rateLimitExceeded" | "userRateLimitExceeded", _) => {
            let wait = retry_after.map_or_else(|| "a minute".to_owned(), |w| format!("{} s", w.as_secs().max(1)));
            found(
                "api-throttled",
                format!("{api} is limiting requests for this mailbox or app just now: {message}"),
                Actor::You,
                format!("Nothing to change: try again after {wait} (the provider's own wait). The sign-in is kept."),
            )
        }
        ("ErrorSendAsDenied", _) => found(
            "send-as-denied",
            format!("{api} refused to send as this address: {message}"),
            Actor::MailAdmin,
            "Grant Send As on the Default Send as Email to the account that signed in.".to_owned(),
        ),
        ("MailboxNotEnabledForRESTAPI" | "MailboxNotSupportedForRESTAPI", _) => found(
            "graph-mailbox-not-in-cloud",
            format!(
                "{mailbox} is not an Exchange Online mailbox that Microsoft Graph can reach (hosted on-premises, \
                 inactive or soft-deleted): {message}"
            ),
            Actor::MailAdmin,
            format!(
                "Use SMTP/IMAP for {mailbox} (Sends with: SMTP, Reads with: IMAP), or have it moved to Exchange \
                 Online; Graph cannot send or read an on-premises mailbox."
            ),
        ),
        ("ErrorInvalidUser" | "ResourceNotFound" | "notFound", 404) => found(
            "api-unknown-mailbox",
            format!("{api} does not know the mailbox {mailbox}: {message}"),
            Actor::You,
            "Check the user name (the mailbox's address) in this setting.".to_owned(),
        ),
        // Graph's InvalidAuthenticationToken, Google's authError: any 401 is the token.
        (_, 401) => found(
            "api-token-rejected",
            format!("{api} did not accept the access token: {message}"),
            Actor::You,
            format!(
                "Press Connect again. If it keeps failing, the sign-in app was not given {api}'s permissions: \
                 the administrator adds {permission} to the app and grants consent."
            ),
        ),
        ("accessNotConfigured" | "SERVICE_DISABLED", _) => found(
            "gmail-api-disabled",
            format!("The Gmail API is not switched on for the sign-in app's Google Cloud project: {message}"),
            Actor::MailAdmin,
            "In Google Cloud console > APIs & Services > Library, enable the Gmail API for the app's project; it \
             applies within minutes, no new Connect needed."
                .to_owned(),
        ),
        // Graph's ErrorAccessDenied, Google's insufficientPermissions / forbidden (the
        // Gmail API's switch-off is told apart above).
        (_, 403) => found(
            "api-permission-missing",
            format!(
                "{api} refused: the sign-in was not granted {permission}, or the account that signed in has no \
                 access to {mailbox}: {message}"
            ),
            Actor::MailAdmin,
            match transport {
                Transport::GmailApi => format!(
                    "Add the scope {permission} to the app's OAuth consent screen, then press Connect again (and \
                     accept the new permission)."
                ),
                _ => format!(
                    "In the Microsoft Entra admin center > App registrations > the app > API permissions: add \
                     Microsoft Graph {permission} (delegated) and grant admin consent, then press Connect again. For \
                     a mailbox other than the signed-in person's own: Add-MailboxPermission -Identity {mailbox} \
                     -User <who signs in> -AccessRights FullAccess."
                ),
            },
        ),
        (_, 500..) => found(
            "api-unavailable",
            format!("{api} had a problem of its own: {message}"),
            Actor::You,
            "Nothing to change: try again in a few minutes. The sign-in is kept.".to_owned(),
        ),
        _ => found(
            "api-refused",
            format!("{api} refused the request: {message}"),
            Actor::Vendor,
            "Copy the report and send it to support: the API's words above say what it refused.".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> ApiError {
        ApiError::from_answer(status, Some(Duration::from_secs(2)), body.as_bytes())
    }

    #[test]
    fn graph_and_google_errors_are_read_from_their_own_bodies() {
        let graph = answered(
            403,
            r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again.","innerError":{"date":"2026-12-05T10:00:00"}}}"#,
        );
        assert_eq!(graph.code(), "ErrorAccessDenied");
        let google = answered(
            403,
            r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}"#,
        );
        assert_eq!(google.code(), "insufficientPermissions");
        assert!(google.server_words().unwrap().contains("Request had insufficient authentication scopes."));
        let html = answered(502, "<html>Bad gateway</html>");
        assert!(html.to_string().contains("Bad gateway"), "{html}");
    }

    #[test]
    fn each_refusal_is_told_by_meaning() {
        let sig = |status, body: &str, transport, side| {
            diagnose(&answered(status, body), transport, side, "ar@contoso.com").unwrap().signature
        };
        let graph = |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"words"}}}}"#);
        assert_eq!(sig(403, &graph("ErrorAccessDenied"), Transport::Graph, Protocol::Smtp), "api-permission-missing");
        assert_eq!(sig(403, &graph("ErrorSendAsDenied"), Transport::Graph, Protocol::Smtp), "send-as-denied");
        assert_eq!(
            sig(404, &graph("MailboxNotEnabledForRESTAPI"), Transport::Graph, Protocol::Imap),
            "graph-mailbox-not-in-cloud"
        );
        assert_eq!(sig(429, &graph("ApplicationThrottled"), Transport::Graph, Protocol::Smtp), "api-throttled");
        assert_eq!(
            sig(401, &graph("InvalidAuthenticationToken"), Transport::Graph, Protocol::Imap),
            "api-token-rejected"
        );
        assert_eq!(sig(503, &graph("ServiceUnavailable"), Transport::Graph, Protocol::Imap), "api-unavailable");
        let google = |reason: &str| {
            format!(
                r#"{{"error":{{"code":403,"message":"words","errors":[{{"reason":"{reason}"}}],"status":"PERMISSION_DENIED"}}}}"#
            )
        };
        assert_eq!(sig(403, &google("accessNotConfigured"), Transport::GmailApi, Protocol::Smtp), "gmail-api-disabled");
        let missing = diagnose(
            &answered(403, &google("insufficientPermissions")),
            Transport::GmailApi,
            Protocol::Smtp,
            "ar@example.com",
        )
        .unwrap();
        assert_eq!(missing.signature, "api-permission-missing");
        assert!(missing.next_step.contains("gmail.send"), "{}", missing.next_step);
        assert!(is_temporary(&answered(429, &graph("ApplicationThrottled"))));
        assert!(!is_temporary(&answered(403, &graph("ErrorAccessDenied"))));
    }
}
