//! Microsoft 365's real shapes on the rig: a shared mailbox opened with a delegate's
//! sign-in (Full Access, Send As, an unlicensed mailbox that cannot use SMTP AUTH
//! itself) and a mailbox whose Authenticated SMTP is switched off — each failure
//! ends in the server's words and the Exchange line for whoever must grant what.

use mailsettings::model::{CredentialKind, MailSetting};

use crate::oauth::{Browser, OAuthSandbox, provider_entry};
use crate::rig::{Rig, rig};
use crate::support::{Sandbox, assert_exit, stdout};

/// A Microsoft 365 setting for the rig's shared mailbox collections@, signed in by `delegate`
/// (who also signs in to send, as the shared mailbox with Send As).
fn shared_setting(rig: &Rig, id: &str, delegate: &str) -> MailSetting {
    let mut setting = rig.basic_setting(id, "collections");
    setting.credential = CredentialKind::Microsoft365;
    setting.delegate = Some(rig.address(delegate));
    setting.smtp.user_name = rig.address(delegate);
    setting.imap.sent_folder = "Sent Items".to_owned();
    setting
}

fn sandbox(setting: MailSetting) -> OAuthSandbox {
    let rig = rig();
    let mut config = rig.config_with(vec![setting]);
    config.oauth_providers.push(provider_entry(rig, "microsoft365"));
    let sandbox = OAuthSandbox { dir: tempfile::tempdir().unwrap(), config };
    sandbox.write_config();
    sandbox
}

#[test]
fn a_shared_mailbox_opens_with_its_delegates_sign_in_and_sends_with_send_as() {
    let rig = rig();
    let mut shared = sandbox(shared_setting(rig, "shared", "m365"));
    let connect = shared.run(Browser::SignIn, &["connect", "shared"]);
    assert_exit(&connect, 0);
    let said = stdout(&connect);
    assert!(said.contains("login_hint=m365%40rig.test"), "the delegate is asked to sign in: {said}");
    assert!(said.contains("Connected as m365@rig.test"), "{said}");
    assert!(!said.contains("You signed in as"), "the delegate is who this setting expects: {said}");

    let incoming = shared.run(Browser::Idle, &["test", "incoming", "shared"]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("signed in as collections@rig.test with XOAUTH2"), "{}", stdout(&incoming));
    let outgoing = shared.run(Browser::Idle, &["test", "outgoing", "shared", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);

    // Sending signs in as the (unlicensed) shared mailbox itself: refused, and the way round it named.
    shared.config.mail_settings[0].smtp.user_name = rig.address("collections");
    shared.write_config();
    let itself = shared.run(Browser::Idle, &["test", "outgoing", "shared", "--to", "admin@example.org"]);
    assert_exit(&itself, 1);
    let said = stdout(&itself);
    assert!(said.contains("the user credentials were incorrect"), "the server's words: {said}");
    assert!(said.contains("Enter m365@rig.test as the outgoing (From) User Name"), "{said}");
    assert!(said.contains("Add-RecipientPermission -Identity collections@rig.test -Trustee m365@rig.test"), "{said}");
}

#[test]
fn a_delegate_without_full_access_or_send_as_is_told_what_to_grant() {
    let rig = rig();
    let sandbox = sandbox(shared_setting(rig, "no-access", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "no-access"]), 0);

    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "no-access"]);
    assert_exit(&incoming, 1);
    let said = stdout(&incoming);
    assert!(
        said.contains(
            "Add-MailboxPermission -Identity collections@rig.test -User ar@rig.test -AccessRights FullAccess"
        ),
        "{said}"
    );
    assert!(said.contains("no new Connect is needed"), "{said}");

    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "no-access", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 1);
    let said = stdout(&outgoing);
    assert!(said.contains("Client does not have permissions to send as this sender"), "the server's words: {said}");
    assert!(
        said.contains(
            "Add-RecipientPermission -Identity collections@rig.test -Trustee ar@rig.test -AccessRights SendAs"
        ),
        "{said}"
    );
}

/// A mailbox whose Authenticated SMTP is off (Set-CASMailbox -SmtpClientAuthenticationDisabled
/// $true): sending is refused in Microsoft's words, and the line to run names it. (Its IMAP takes
/// no password either — Microsoft's rule since 2022 — with "LOGIN failed.")
#[test]
fn smtp_auth_switched_off_for_one_mailbox_names_the_line_to_turn_it_on() {
    let rig = rig();
    let sandbox = Sandbox::new();
    let mut setting = rig.basic_setting("smtp-off", "smtpoff");
    setting.imap.sent_folder = "Sent Items".to_owned();
    let config = rig.config_with(vec![setting]);
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "smtp-off"], &format!("{}\n", rig.password)), 0);
    let incoming = sandbox.run(&["test", "incoming", "smtp-off"]);
    assert_exit(&incoming, 1);
    assert!(stdout(&incoming).contains("LOGIN failed."), "Microsoft's words: {}", stdout(&incoming));
    let outgoing = sandbox.run(&["test", "outgoing", "smtp-off", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 1);
    let said = stdout(&outgoing);
    assert!(said.contains("SmtpClientAuthentication is disabled for the Mailbox"), "the server's words: {said}");
    assert!(said.contains("Set-CASMailbox smtpoff@rig.test -SmtpClientAuthenticationDisabled $false"), "{said}");
}

/// Readiness of that mailbox once it moved to OAuth: the sending sign-in is refused, so the
/// mailbox is not ready, and the step for the IT admin is the line that turns SMTP AUTH on.
#[test]
fn readiness_of_a_mailbox_with_smtp_auth_off_is_no_with_the_line_to_run() {
    let rig = rig();
    let mut setting = rig.basic_setting("smtp-off-oauth", "smtpoff");
    setting.credential = CredentialKind::Microsoft365;
    setting.imap.sent_folder = "Sent Items".to_owned();
    let sandbox = sandbox(setting);
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "smtp-off-oauth"]), 0);
    let answer = sandbox.run(Browser::Idle, &["readiness", "smtp-off-oauth"]);
    assert_exit(&answer, 1);
    let said = stdout(&answer);
    assert!(said.contains("IMAP sign-in works"), "{said}");
    assert!(said.contains("SmtpClientAuthentication is disabled for the Mailbox"), "{said}");
    assert!(said.contains("Set-CASMailbox smtpoff@rig.test -SmtpClientAuthenticationDisabled $false"), "{said}");
    // Reading the switch: empty is "the organisation's setting", not "off"; and no way around it.
    assert!(said.contains("empty ($null) means the mailbox follows the organisation's setting"), "{said}");
    assert!(said.contains("High Volume Email and Direct Send reach only recipients inside your own organisation"));
}

/// The day Microsoft switches Basic authentication for SMTP AUTH off (the end of December
/// 2026, on by default until then): a Basic setting that worked yesterday is refused a
/// password for sending while its IMAP (over OAuth) still works. The scheduled check signs in to send
/// on every run (no test email), so it notices that day: the setting is FAILING with
/// Microsoft's words and the migration as the next step, one alert says so (a second
/// run, none), readiness says it too — and an OAuth setting on the same mailbox sends.
#[test]
fn the_day_basic_smtp_is_switched_off_the_scheduled_check_alerts_once_with_the_migration() {
    let rig = rig();
    rig.switch_on_basic_smtp("cutover");
    // As Microsoft 365 settings are in 2026: receiving over OAuth (IMAP has refused passwords
    // since 2022), sending still with the password.
    let mut basic = rig.basic_setting("cutover-basic", "cutover");
    basic.description = "Collections (Basic)".to_owned();
    basic.imap.sent_folder = "Sent Items".to_owned();
    basic.imap.credential = Some(CredentialKind::Microsoft365);
    let mut oauth = basic.clone();
    oauth.id = ("cutover-oauth".to_owned()).into();
    oauth.description = "Collections (OAuth)".to_owned();
    oauth.credential = CredentialKind::Microsoft365;
    oauth.imap.credential = None;
    oauth.active = false;
    let mut watch = sandbox(basic);
    watch.config.mail_settings.push(oauth);
    watch.write_config();
    let password = mailsettings::Secret::new(rig.password.clone());
    watch.secrets().set("cutover-basic", mailsettings::store::SecretKind::SmtpPassword, &password).unwrap();
    assert_exit(&watch.run(Browser::SignIn, &["connect", "cutover-basic"]), 0);
    let told = watch.dir.path().join("alerts.txt");
    let command = format!(
        "printf '%s|%s\\n' \"$MAILSETTINGS_ALERT_STATE\" \"$MAILSETTINGS_ALERT_NEXT_STEP\" >> '{}'",
        told.display()
    );
    assert_exit(&watch.run(Browser::Idle, &["alerts", "set", "--command", &command]), 0);
    let check = || watch.run(Browser::Idle, &["check", "--all", "--alert"]);

    let before = check();
    assert_exit(&before, 0);
    assert!(stdout(&before).contains("OK  Collections (Basic)"), "{}", stdout(&before));
    assert!(!told.exists(), "all well: no alert");

    rig.switch_off_basic_smtp("cutover");
    let after = check();
    assert_exit(&after, 1);
    let said = stdout(&after);
    assert!(said.contains("FAILING  Collections (Basic)"), "{said}");
    assert!(said.contains("no longer accepts a password (Basic authentication) for sending"), "{said}");
    assert!(said.contains("Next: Move this setting to Microsoft 365 OAuth"), "{said}");
    assert_exit(&check(), 1);
    let alerts = std::fs::read_to_string(&told).unwrap();
    assert_eq!(alerts.lines().count(), 1, "one alert for the change, none for the run after: {alerts}");
    assert!(alerts.starts_with("failing|Move this setting to Microsoft 365 OAuth"), "{alerts}");

    // Receiving still works; readiness says what stopped and what to do, in the server's words.
    assert_exit(&watch.run(Browser::Idle, &["test", "incoming", "cutover-basic"]), 0);
    let ready = watch.run(Browser::Idle, &["readiness", "cutover-basic"]);
    assert_exit(&ready, 1);
    let said = stdout(&ready);
    assert!(said.contains("5.7.30 Basic authentication is not supported for Client Submission"), "{said}");
    assert!(said.contains("migration assistant"), "{said}");

    // The way out: the same mailbox over OAuth still signs in and sends.
    assert_exit(&watch.run(Browser::SignIn, &["connect", "cutover-oauth"]), 0);
    let sent = watch.run(Browser::Idle, &["test", "outgoing", "cutover-oauth", "--to", "admin@example.org"]);
    assert_exit(&sent, 0);
    assert!(stdout(&sent).contains("XOAUTH2"), "{}", stdout(&sent));
}

/// A Microsoft 365 setting typed from the guide: a password for IMAP is refused whatever it is
/// (Basic authentication for IMAP has been off at Microsoft since 2022), in Microsoft's words and
/// never echoing the password. Over OAuth the mailbox opens; the guide's "Sent" is not there, so
/// Test Incoming names Microsoft's "Sent Items" and `--fix-sent` takes it, saved.
#[test]
fn microsoft_imap_takes_no_password_and_over_oauth_its_sent_items_is_found() {
    let rig = rig();
    let basic = rig.basic_setting("m365-basic", "m365");
    let mut oauth = rig.basic_setting("m365-oauth", "m365");
    oauth.credential = CredentialKind::Microsoft365;
    assert_eq!(oauth.imap.sent_folder, "Sent", "the guide's general default");
    let mut sandbox = sandbox(basic);
    sandbox.config.mail_settings.push(oauth);
    sandbox.write_config();
    let password = mailsettings::Secret::new(rig.password.clone());
    sandbox.secrets().set("m365-basic", mailsettings::store::SecretKind::ImapPassword, &password).unwrap();

    let refused = sandbox.run(Browser::Idle, &["test", "incoming", "m365-basic"]);
    assert_exit(&refused, 1);
    let said = stdout(&refused);
    assert!(said.contains("LOGIN failed."), "Microsoft's words: {said}");
    assert!(!said.contains(&rig.password) && !crate::support::stderr(&refused).contains(&rig.password));

    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "m365-oauth"]), 0);
    let missing = sandbox.run(Browser::Idle, &["test", "incoming", "m365-oauth"]);
    assert_exit(&missing, 1);
    assert!(stdout(&missing).contains("the server's sent folder is \"Sent Items\""), "{}", stdout(&missing));
    let fixed = sandbox.run(Browser::Idle, &["test", "incoming", "m365-oauth", "--fix-sent"]);
    assert_exit(&fixed, 0);
    assert!(stdout(&fixed).contains("now \"Sent Items\""), "{}", stdout(&fixed));
    let saved = std::fs::read_to_string(sandbox.config_path()).unwrap();
    assert!(saved.contains("sent_folder = \"Sent Items\""), "{saved}");
}
