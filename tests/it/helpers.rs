//! Other programs using a mailbox connected here: `mailsettings token ID` as the
//! token helper of curl and msmtp (real programs, against the rig), its refresh
//! under concurrent callers, and what it says when there is no token to give.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailsettings::oauth::tokens::TokenSet;

use crate::oauth::{Browser, OAuthSandbox, is_active, oauth_setting};
use crate::rig::rig;
use crate::support::{BIN, assert_exit, stderr, stdout};

fn connected(id: &str) -> OAuthSandbox {
    let sandbox = OAuthSandbox::new(oauth_setting(rig(), id, "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", id]), 0);
    sandbox
}

/// Makes the stored access token due for a refresh; returns the refresh token it had.
fn expire(sandbox: &OAuthSandbox, id: &str) -> String {
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, id).unwrap().unwrap();
    tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(30)); // inside the margin
    tokens.save(&secrets, id).unwrap();
    tokens.refresh_token.unwrap().expose().to_owned()
}

fn delivered(run_id: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if rig().count_with_header("catchall", "INBOX", "X-Helper-Run", run_id) == 1 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn message(run_id: &str) -> String {
    format!(
        "From: ar@rig.test\r\nTo: admin@example.org\r\nSubject: sent with the token helper\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n"
    )
}

#[test]
fn token_prints_the_access_token_alone_and_concurrent_callers_share_one_refresh() {
    let id = "helper-token";
    let sandbox = connected(id);
    let stored = TokenSet::load(&sandbox.secrets(), id).unwrap().unwrap();
    let output = sandbox.run(Browser::Idle, &["token", id]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("{}\n", stored.access_token.expose()),
        "the token and a line break, nothing else"
    );
    assert_eq!(stderr(&output), "");

    let old_refresh = expire(&sandbox, id);
    let callers: Vec<_> = (0..3)
        .map(|_| {
            sandbox
                .command(Browser::Idle, &["token", id])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let printed: Vec<String> = callers
        .into_iter()
        .map(|caller| {
            let output = caller.wait_with_output().unwrap();
            assert_exit(&output, 0);
            stdout(&output).trim_end().to_owned()
        })
        .collect();
    assert!(printed.iter().all(|token| *token == printed[0]), "all callers got the same fresh token");
    assert_ne!(printed[0], stored.access_token.expose(), "a refreshed token");
    assert_eq!(rig().refresh_requests(&old_refresh), ["ok"], "one refresh for three callers");
    let now = TokenSet::load(&sandbox.secrets(), id).unwrap().unwrap();
    assert_eq!(now.access_token.expose(), printed[0], "the printed token is the saved one");
    assert!(is_active(&printed[0]));

    let json = sandbox.run(Browser::Idle, &["token", id, "--json"]);
    assert_exit(&json, 0);
    let answer: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(answer["access_token"], printed[0].as_str());
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["account"], "ar@rig.test");
    assert!(answer["expires_at"].as_str().is_some_and(|at| at.starts_with("20")), "{answer}");
}

#[test]
fn token_says_why_there_is_none_on_stderr_and_prints_nothing() {
    let id = "helper-none";
    let sandbox = OAuthSandbox::new(oauth_setting(rig(), id, "ar"));
    let output = sandbox.run(Browser::Idle, &["token", id]);
    assert_exit(&output, 1);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("press Connect"), "{}", stderr(&output));

    let mut basic = sandbox.config.clone();
    basic.mail_settings[0].credential = mailsettings::model::CredentialKind::Basic;
    std::fs::write(sandbox.config_path(), mailsettings::store::file::to_toml(&basic).unwrap()).unwrap();
    let output = sandbox.run(Browser::Idle, &["token", id]);
    assert_exit(&output, 1);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("signs in with a password (Basic), so it has no token"), "{}", stderr(&output));
}

#[test]
fn curl_reads_imap_and_sends_smtp_with_the_helpers_token() {
    let id = "helper-curl";
    let sandbox = connected(id);
    let token = stdout(&sandbox.run(Browser::Idle, &["token", id])).trim_end().to_owned();
    let rig = rig();
    let ca = rig.ca_file.to_str().unwrap();
    let examine = Command::new("curl")
        .args(["-sS", "--cacert", ca, "--user", "ar@rig.test:", "--oauth2-bearer", &token])
        .arg(format!("imaps://localhost:{}/INBOX", rig.imaps_port))
        .args(["-X", "EXAMINE INBOX"])
        .output()
        .unwrap();
    assert!(examine.status.success(), "curl IMAP: {}", String::from_utf8_lossy(&examine.stderr));
    assert!(
        String::from_utf8_lossy(&examine.stdout).contains("EXISTS"),
        "{}",
        String::from_utf8_lossy(&examine.stdout)
    );

    let run_id = format!("curl-{}", std::process::id());
    let file = sandbox.dir.path().join("message.eml");
    std::fs::write(&file, message(&run_id)).unwrap();
    let send = Command::new("curl")
        .args(["-sS", "--cacert", ca, "--ssl-reqd", "--user", "ar@rig.test:", "--oauth2-bearer", &token])
        .arg(format!("smtp://localhost:{}", rig.smtp_port))
        .args(["--mail-from", "ar@rig.test", "--mail-rcpt", "admin@example.org", "-T"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(send.status.success(), "curl SMTP: {}", String::from_utf8_lossy(&send.stderr));
    assert!(delivered(&run_id), "the message curl sent arrived");
}

#[test]
fn msmtp_sends_with_the_helper_as_its_passwordeval() {
    let id = "helper-msmtp";
    let sandbox = connected(id);
    expire(&sandbox, id); // msmtp's call refreshes it
    let rig = rig();
    let store = format!("file:{}", sandbox.dir.path().join("secrets.json").display());
    // The recipe from the README, with this sandbox's paths.
    let msmtprc = sandbox.dir.path().join("msmtprc");
    std::fs::write(
        &msmtprc,
        format!(
            "account rig\nhost localhost\nport {port}\nfrom ar@rig.test\nauth xoauth2\nuser ar@rig.test\n\
             passwordeval \"MAILSETTINGS_SECRET_STORE={store} {BIN} --config {config} token {id}\"\n\
             tls on\ntls_starttls on\ntls_trust_file {ca}\naccount default : rig\n",
            port = rig.smtp_port,
            config = sandbox.config_path().display(),
            ca = rig.ca_file.display(),
        ),
    )
    .unwrap();
    let run_id = format!("msmtp-{}", std::process::id());
    let mut child = Command::new("msmtp")
        .arg("-C")
        .arg(&msmtprc)
        .arg("admin@example.org")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("msmtp (scripts/install-test-deps installs it)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(message(&run_id).as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "msmtp: {}", String::from_utf8_lossy(&output.stderr));
    assert!(delivered(&run_id), "the message msmtp sent arrived");
}
