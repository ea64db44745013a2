//! Google's real shapes on the rig: since password-only IMAP and SMTP ended (2024/25), a
//! Gmail mailbox refuses the account's own password — in Google's words, on both sides —
//! and takes an app password (or OAuth). An admin who types the Google password into a
//! Basic setting, as the guide's password field invites, must learn why and what to do.

use crate::rig::rig;
use crate::support::{Sandbox, assert_exit, stdout};

#[test]
fn gmail_refuses_the_account_password_in_googles_words_and_takes_an_app_password() {
    let rig = rig();
    let sandbox = Sandbox::new();
    let mut setting = rig.basic_setting("gmail-basic", "gmail");
    setting.imap.sent_folder = "[Gmail]/Sent Mail".to_owned();
    let config = rig.config_with(vec![setting]);
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let set_password = |password: &str| {
        assert_exit(&sandbox.run_with_stdin(&["set-password", "gmail-basic"], &format!("{password}\n")), 0);
    };

    set_password(&rig.password);
    let incoming = sandbox.run(&["test", "incoming", "gmail-basic"]);
    assert_exit(&incoming, 1);
    let said = stdout(&incoming);
    assert!(
        said.contains(
            "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"
        ),
        "Google's words, as the server said them: {said}"
    );
    assert!(said.contains("Google refuses the account's normal password"), "{said}");
    assert!(said.contains("Gmail OAuth"), "the way out: {said}");
    let outgoing = sandbox.run(&["test", "outgoing", "gmail-basic", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 1);
    let said_out = stdout(&outgoing);
    assert!(said_out.contains("5.7.9 Application-specific password required"), "{said_out}");
    assert!(said_out.contains("Google refuses the account's normal password"), "{said_out}");
    for output in [&incoming, &outgoing] {
        let all = format!("{}{}", stdout(output), String::from_utf8_lossy(&output.stderr));
        assert!(!all.contains(&rig.password), "the refused password is never shown");
    }

    // An app password, as Google's account page makes one: both sides work.
    set_password(&rig.gmail_app_password);
    assert_exit(&sandbox.run(&["test", "incoming", "gmail-basic"]), 0);
    assert_exit(&sandbox.run(&["test", "outgoing", "gmail-basic", "--to", "admin@example.org"]), 0);
}
