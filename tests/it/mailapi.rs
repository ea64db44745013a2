//! Settings that send or read through a provider's API instead of SMTP AUTH or IMAP —
//! Microsoft Graph and the Gmail API, as the rig serves them (tests/rig/mailapi: real
//! token checks against the rig's authorization server, delivery through its Postfix,
//! folders from its Dovecot). The same tests and the same "OK" as by SMTP/IMAP; the
//! mail really arrives; a permission missing gives the provider's own error and the
//! step that grants it.

use mailsettings::model::setting::Transport;
use mailsettings::model::{CredentialKind, MailSetting};

use crate::oauth::{Browser, OAuthSandbox, provider_entry};
use crate::rig::{Rig, rig};
use crate::support::{assert_exit, run_command, stdout};

/// A sandbox whose `provider`'s sign-in and API are the rig's, asking for the scopes
/// the setting's roads need (the catalogue's, not the test IdP's "mail").
pub(crate) fn sandbox(setting: MailSetting, provider: &str) -> OAuthSandbox {
    let rig = rig();
    let mut config = rig.config_with(vec![setting]);
    let mut entry = provider_entry(rig, provider);
    entry.scopes.clear();
    entry.api_url = Some(if provider == "gmail" { rig.gmail_api_url.clone() } else { rig.graph_url.clone() });
    config.oauth_providers.push(entry);
    let sandbox = OAuthSandbox { dir: tempfile::tempdir().unwrap(), config };
    sandbox.write_config();
    sandbox
}

pub(crate) fn graph_setting(rig: &Rig, id: &str, user: &str) -> MailSetting {
    let mut setting = rig.basic_setting(id, user);
    setting.credential = CredentialKind::Microsoft365;
    setting.smtp.sends_with = Transport::Graph;
    setting.imap.reads_with = Transport::Graph;
    setting.imap.sent_folder = "Sent Items".to_owned();
    setting
}

/// The run id Test Outgoing reported (its messages carry it in X-Mailsettings-Run).
fn run_id(json: &serde_json::Value) -> String {
    json["facts"]
        .as_array()
        .and_then(|facts| facts.iter().find(|f| f[0] == "Test run"))
        .and_then(|f| f[1].as_str())
        .unwrap_or_else(|| panic!("no test run in {json}"))
        .to_owned()
}

/// The rig's smtpoff@ mailbox has SMTP AUTH switched off (Microsoft's words refuse it);
/// through Graph the same sign-in sends the guide's two test messages, which arrive with
/// the Subject Tag and Reply-To, are kept in "Sent Items", and Test Incoming finds both
/// folders by name — "OK" as by SMTP. Without Mail.Send granted, Graph's own refusal
/// and the permission to add.
#[test]
fn with_smtp_auth_off_a_mailbox_sends_and_reads_through_microsoft_graph() {
    let rig = rig();
    let mut sandbox = sandbox(graph_setting(rig, "graph", "smtpoff"), "microsoft365");
    let validate = sandbox.run(Browser::Idle, &["validate", "graph"]);
    assert_exit(&validate, 0);
    let connect = sandbox.run(Browser::SignIn, &["connect", "graph"]);
    assert_exit(&connect, 0);
    let said = stdout(&connect);
    assert!(said.contains("Connected as smtpoff@rig.test"), "{said}");
    assert!(said.contains("Mail.Send") && said.contains("Mail.ReadWrite"), "Graph's scopes asked for: {said}");
    assert!(!said.contains("SMTP.Send"), "no Outlook scope for a setting that uses none: {said}");

    let outgoing =
        sandbox.run(Browser::Idle, &["test", "outgoing", "graph", "--to", &rig.address("smtpoff"), "--json"]);
    assert_exit(&outgoing, 0);
    let report: serde_json::Value = serde_json::from_slice(&outgoing.stdout).unwrap();
    assert_eq!(report["passed"], true, "{report}");
    assert!(report["target"].as_str().unwrap().contains("(Microsoft Graph) as smtpoff@rig.test"), "{report}");
    let run = run_id(&report);
    assert_eq!(rig.count_with_header("smtpoff", "INBOX", "X-Mailsettings-Run", &run), 2, "both arrived");
    assert_eq!(rig.count_with_header("smtpoff", "Sent Items", "X-Mailsettings-Run", &run), 2, "kept as Graph keeps");
    let second = rig.count_with_headers(
        "smtpoff",
        "INBOX",
        &[("X-Mailsettings-Run", &run), ("Subject", "[RIG-AR] Test message 2 of 2"), ("Reply-To", "smtpoff@rig.test")],
    );
    assert_eq!(second, 1, "the automation-shaped message keeps its tag and Reply-To");

    let human = sandbox.run(Browser::Idle, &["test", "outgoing", "graph", "--to", &rig.address("smtpoff")]);
    assert_exit(&human, 0);
    assert!(stdout(&human).contains("OK"), "{}", stdout(&human));
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "graph"]);
    assert_exit(&incoming, 0);
    let said = stdout(&incoming);
    assert!(said.contains("OK") && said.contains("Sent Items:") && said.contains("Inbox:"), "{said}");

    // A misspelt sent folder: Graph's folders are listed and the mailbox's own named.
    sandbox.config.mail_settings[0].imap.sent_folder = "Sent".to_owned();
    sandbox.write_config();
    let misspelt = sandbox.run(Browser::Idle, &["test", "incoming", "graph"]);
    assert_exit(&misspelt, 1);
    assert!(stdout(&misspelt).contains("the mailbox's sent folder is \"Sent Items\""), "{}", stdout(&misspelt));
    sandbox.config.mail_settings[0].imap.sent_folder = "Sent Items".to_owned();

    // The tenant granted Graph's reading but not Mail.Send: Graph refuses in its own words.
    let read_only = ["https://graph.microsoft.com/Mail.ReadWrite", "offline_access", "openid", "email"];
    sandbox.config.oauth_providers[0].scopes = read_only.iter().map(|s| (*s).to_owned()).collect();
    sandbox.write_config();
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "graph"]), 0);
    let refused = sandbox.run(Browser::Idle, &["test", "outgoing", "graph", "--to", &rig.address("smtpoff")]);
    assert_exit(&refused, 1);
    let said = stdout(&refused);
    assert!(said.contains("Access is denied. Check credentials and try again."), "Graph's words: {said}");
    assert!(said.contains("Microsoft Graph Mail.Send (delegated)"), "the permission to add: {said}");
    assert!(said.contains("api-permission-missing"), "{said}");

    // Only Outlook's permissions granted: no Graph token can be had, and that is what the report says.
    let outlook_only = ["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access", "openid", "email"];
    sandbox.config.oauth_providers[0].scopes = outlook_only.iter().map(|s| (*s).to_owned()).collect();
    sandbox.write_config();
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "graph"]), 0);
    let no_token = sandbox.run(Browser::Idle, &["test", "outgoing", "graph", "--to", &rig.address("smtpoff")]);
    assert_exit(&no_token, 1);
    let said = stdout(&no_token);
    assert!(said.contains("invalid_scope"), "the authorization server's words: {said}");
    assert!(said.contains("scope-not-granted") && said.contains("grants consent"), "{said}");
    assert!(!said.contains("no password or sign-in token stored"), "a refusal is not a missing sign-in: {said}");
}

/// SMTP AUTH off, IMAP on: sending through Graph, reading by IMAP, one Connect.
/// Microsoft issues a token per API, so the setting holds Outlook's (for IMAP) and
/// Graph's (had by refresh with Graph's scopes) — the rig's Graph refuses an Outlook
/// token as Microsoft does ("Invalid audience").
#[test]
fn sending_through_graph_and_reading_by_imap_hold_a_token_for_each() {
    let rig = rig();
    let mut setting = graph_setting(rig, "graph-imap", "smtpoff");
    setting.imap.reads_with = Transport::Protocol;
    let sandbox = sandbox(setting, "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "graph-imap"]), 0);
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "graph-imap"]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("with XOAUTH2"), "{}", stdout(&incoming));
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "graph-imap", "--to", &rig.address("smtpoff")]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("Microsoft Graph"), "{}", stdout(&outgoing));
    let tokens = mailsettings::oauth::tokens::TokenSet::load(&sandbox.secrets(), "graph-imap").unwrap().unwrap();
    assert_eq!(tokens.resource.as_deref(), Some("https://outlook.office.com"), "Connect's token is Outlook's");
    let graph = &tokens.other_resources["https://graph.microsoft.com"];
    assert_ne!(graph.access_token.expose(), tokens.access_token.expose(), "Graph has its own token");
    // Both still work after the refresh rotated the refresh token.
    assert_exit(&sandbox.run(Browser::Idle, &["test", "incoming", "graph-imap"]), 0);
}

/// Graph's refusals as Microsoft words them, each told by meaning: a mailbox hosted
/// on-premises (not reachable by Graph), and throttling (temporary, the provider's
/// wait named, the sign-in kept).
#[test]
fn graph_refusals_are_told_by_meaning() {
    let rig = rig();
    let mut onprem = graph_setting(rig, "onprem", "onprem");
    onprem.imap.sent_folder = "Sent".to_owned();
    let sandbox = sandbox(onprem, "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "onprem"]), 0);
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "onprem"]);
    assert_exit(&incoming, 1);
    let said = stdout(&incoming);
    assert!(said.contains("The mailbox is either inactive, soft-deleted, or is hosted on-premise."), "{said}");
    assert!(said.contains("Use SMTP/IMAP for onprem@rig.test"), "{said}");

    let throttled = sandbox_for_throttled(rig);
    let outgoing = throttled.run(Browser::Idle, &["test", "outgoing", "busy", "--to", &rig.address("catchall")]);
    assert_exit(&outgoing, 1);
    let said = stdout(&outgoing);
    assert!(said.contains("Application is over its MailboxConcurrency limit."), "{said}");
    assert!(said.contains("try again after 2 s"), "{said}");
    let json = throttled.run(Browser::Idle, &["test", "outgoing", "busy", "--to", &rig.address("catchall"), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["failure"], "temporary", "a limit, not a refusal: {report}");
    let status = throttled.run(Browser::Idle, &["token-status", "busy", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["state"], "connected", "throttling never costs the sign-in: {json}");
}

fn sandbox_for_throttled(rig: &Rig) -> OAuthSandbox {
    let setting = graph_setting(rig, "busy", "throttled");
    let sandbox = sandbox(setting, "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "busy"]), 0);
    sandbox
}

/// The Gmail API: the guide's two messages through `users.messages.send`, the
/// folders as labels under their IMAP names ("[Gmail]/Sent Mail"), with the narrow
/// gmail.send / gmail.readonly scopes instead of https://mail.google.com/.
#[test]
fn a_gmail_mailbox_sends_and_reads_through_the_gmail_api() {
    let rig = rig();
    let mut setting = rig.basic_setting("gmail-api", "gmail");
    setting.credential = CredentialKind::Gmail;
    setting.smtp.sends_with = Transport::GmailApi;
    setting.imap.reads_with = Transport::GmailApi;
    setting.imap.sent_folder = "[Gmail]/Sent Mail".to_owned();
    let sandbox = sandbox(setting, "gmail");
    let set = ["oauth-app", "set", "gmail", "--client-id", "mailsettings-confidential", "--client-secret-stdin"];
    assert_exit(&run_command(sandbox.command(Browser::Idle, &set), "rig-desktop-client-secret\n"), 0);
    let connect = sandbox.run(Browser::SignIn, &["connect", "gmail-api"]);
    assert_exit(&connect, 0);
    let said = stdout(&connect);
    assert!(said.contains("gmail.send") && !said.contains("mail.google.com"), "the narrow scopes: {said}");
    let outgoing =
        sandbox.run(Browser::Idle, &["test", "outgoing", "gmail-api", "--to", &rig.address("gmail"), "--json"]);
    assert_exit(&outgoing, 0);
    let report: serde_json::Value = serde_json::from_slice(&outgoing.stdout).unwrap();
    let run = run_id(&report);
    assert_eq!(rig.count_with_header("gmail", "INBOX", "X-Mailsettings-Run", &run), 2);
    assert_eq!(rig.count_with_header("gmail", "[Gmail]/Sent Mail", "X-Mailsettings-Run", &run), 2);
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "gmail-api"]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("[Gmail]/Sent Mail:"), "{}", stdout(&incoming));
}

/// `mailsettings send` through a setting that sends with Graph: a sendmail caller's
/// message (To, and a Bcc taken out of the header as sendmail does) reaches every
/// recipient, and no delivered copy shows the Bcc.
#[test]
fn send_delivers_through_graph_to_every_recipient_and_keeps_bcc_hidden() {
    let rig = rig();
    let sandbox = sandbox(graph_setting(rig, "graph-send", "smtpoff"), "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "graph-send"]), 0);
    let run = format!("graph-send-{}", std::process::id());
    let message = format!(
        "To: graphto@rig.test\nBcc: graphbcc@rig.test\nSubject: invoice through Graph\nX-Helper-Run: {run}\n\nPlease pay.\n"
    );
    let sent = run_command(sandbox.command(Browser::Idle, &["send", "graph-send", "-t"]), &message);
    assert_exit(&sent, 0);
    for user in ["graphto", "graphbcc"] {
        assert_eq!(rig.count_with_header(user, "INBOX", "X-Helper-Run", &run), 1, "{user} has it");
        let shown = rig.count_with_headers(user, "INBOX", &[("X-Helper-Run", &run), ("Bcc", "graphbcc")]);
        assert_eq!(shown, 0, "no copy shows the Bcc");
    }
    assert!(rig.api_requests("smtpoff").iter().any(|r| r == "POST /v1.0/me/sendMail"), "it went through Graph");
}

/// Readiness of a Microsoft mailbox asks every road: with SMTP AUTH off for the mailbox
/// (Microsoft's words) and Graph allowed, the answer is yes — through Graph — with the
/// line that turns SMTP AUTH on for whoever prefers it, and the command that sets the
/// recommended road; set-transport takes it and Test Outgoing then goes through Graph.
#[test]
fn readiness_recommends_graph_where_smtp_auth_is_off_and_set_transport_takes_it() {
    let rig = rig();
    let mut setting = graph_setting(rig, "ready-graph", "smtpoff");
    setting.smtp.sends_with = Transport::Protocol;
    setting.imap.reads_with = Transport::Protocol;
    let sandbox = sandbox(setting, "microsoft365");
    // Connect asks for Outlook's scopes (the setting's roads); Graph's come by refresh (the rig
    // grants what the app asks, as a tenant whose admin consented to the app's permissions).
    let mut both = sandbox.config.clone();
    both.oauth_providers[0].scopes = [
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "https://graph.microsoft.com/Mail.Send",
        "https://graph.microsoft.com/Mail.ReadWrite",
        "offline_access",
        "openid",
        "email",
    ]
    .map(str::to_owned)
    .to_vec();
    let sandbox = OAuthSandbox { dir: sandbox.dir, config: both };
    sandbox.write_config();
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "ready-graph"]), 0);
    let answer = sandbox.run(Browser::Idle, &["readiness", "ready-graph"]);
    let said = stdout(&answer);
    assert_exit(&answer, 0);
    assert!(said.contains("SmtpClientAuthentication is disabled for the Mailbox"), "SMTP AUTH's no: {said}");
    assert!(said.contains("Microsoft Graph would send (nothing was sent)"), "{said}");
    assert!(said.contains("Microsoft Graph opens the inbox"), "{said}");
    assert!(said.contains("IMAP sign-in works"), "{said}");
    assert!(
        said.contains("Sends with: Microsoft Graph; Reads with: IMAP")
            && said.contains("mailsettings set-transport ready-graph --sends-with graph"),
        "{said}"
    );
    assert!(said.contains("Set-CASMailbox smtpoff@rig.test -SmtpClientAuthenticationDisabled $false"), "{said}");

    let set = sandbox.run(Browser::Idle, &["set-transport", "ready-graph", "--sends-with", "graph"]);
    assert_exit(&set, 0);
    assert!(stdout(&set).contains("now sends with Microsoft Graph and reads with IMAP"), "{}", stdout(&set));
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "ready-graph", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("(Microsoft Graph) as smtpoff@rig.test"), "{}", stdout(&outgoing));
    let audit = sandbox.run(Browser::Idle, &["log"]);
    assert!(stdout(&audit).contains("ready-graph"), "saved through the workspace, audited: {}", stdout(&audit));
}

/// The round trip where SMTP AUTH is off and IMAP on: the message goes through Graph and
/// is awaited (and removed again) by IMAP; a setting reading through Graph too is told
/// the round trip waits by IMAP only, and what shows the same.
#[test]
fn the_round_trip_sends_through_graph_and_waits_by_imap() {
    let rig = rig();
    let mut setting = graph_setting(rig, "graph-trip", "nosmtp");
    setting.imap.reads_with = Transport::Protocol;
    let mut sandbox = sandbox(setting, "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "graph-trip"]), 0);
    let trip = sandbox.run(Browser::Idle, &["test", "roundtrip", "graph-trip"]);
    assert_exit(&trip, 0);
    let said = stdout(&trip);
    assert!(said.contains("accepted by Microsoft Graph") && said.contains("arrived in Inbox"), "{said}");
    assert!(said.contains("removed from the inbox again"), "{said}");

    sandbox.config.mail_settings[0].imap.reads_with = Transport::Graph;
    sandbox.write_config();
    let told = sandbox.run(Browser::Idle, &["test", "roundtrip", "graph-trip"]);
    assert_exit(&told, 1);
    assert!(stdout(&told).contains("waits for its message by IMAP"), "{}", stdout(&told));
}

/// App-only access through Graph: an Entra daemon app (client credentials, its Graph
/// token asked for with ".default") sends and reads the one mailbox it was granted, by
/// name (`/users/{mailbox}`), with no person signing in.
#[test]
fn app_only_access_sends_and_reads_through_graph_by_the_mailboxs_name() {
    let rig = rig();
    let mut setting = graph_setting(rig, "graph-app", "ar");
    setting.oauth_flow = mailsettings::model::OAuthFlow::App;
    setting.imap.sent_folder = "Sent".to_owned();
    let mut sandbox = sandbox(setting, "microsoft365");
    sandbox.config.oauth_providers[0].client_id = crate::rig::DAEMON_APP_ID.to_owned();
    sandbox.write_config();
    let set = ["oauth-app", "set", "microsoft365", "--client-id", crate::rig::DAEMON_APP_ID, "--client-secret-stdin"];
    assert_exit(&run_command(sandbox.command(Browser::Idle, &set), &format!("{}\n", crate::rig::APP_ONLY_SECRET)), 0);
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "graph-app", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "graph-app"]);
    assert_exit(&incoming, 0);
    let requests = rig.api_requests("ar");
    assert!(requests.iter().any(|r| r == "POST /v1.0/users/ar@rig.test/sendMail"), "{requests:?}");
    assert!(requests.iter().any(|r| r.starts_with("GET /v1.0/users/ar@rig.test/mailFolders")), "{requests:?}");
}

/// A tenant whose Conditional Access policy blocks the sign-in (AADSTS53003): Connect
/// ends with what blocked it and where the administrator finds the policy — nothing stored.
#[test]
fn a_sign_in_blocked_by_conditional_access_says_so_and_where_to_look() {
    let rig = rig();
    let mut setting = graph_setting(rig, "blocked", "smtpoff");
    setting.imap.user_name = "blocked@rig.test".to_owned();
    setting.smtp.send_as = "blocked@rig.test".to_owned();
    setting.smtp.user_name = "blocked@rig.test".to_owned();
    let sandbox = sandbox(setting, "microsoft365");
    let refused = sandbox.run(Browser::SignIn, &["connect", "blocked"]);
    assert_exit(&refused, 1);
    let err = crate::support::stderr(&refused);
    assert!(err.contains("AADSTS53003") && err.contains("Conditional Access"), "{err}");
    assert!(err.contains("Sign-in logs") && err.contains("names the policy"), "{err}");
    assert!(mailsettings::oauth::tokens::TokenSet::load(&sandbox.secrets(), "blocked").unwrap().is_none());
}
