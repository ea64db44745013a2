//! Other programs using a mailbox connected here: `mailsettings token ID` as the
//! token helper of curl and msmtp (real programs, against the rig), its refresh
//! under concurrent callers, and what it says when there is no token to give.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailsettings::oauth::tokens::TokenSet;

use crate::oauth::{Browser, OAuthSandbox, is_active, oauth_setting};
use crate::rig::rig;
use crate::support::{BIN, assert_exit, run_command, stderr, stdout};

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

/// The shell command a mail program runs for a token: `mailsettings token ID` with this sandbox's files.
fn token_helper(sandbox: &OAuthSandbox, id: &str) -> String {
    format!(
        "MAILSETTINGS_SECRET_STORE=file:{} {BIN} --config {} token {id}",
        sandbox.dir.path().join("secrets.json").display(),
        sandbox.config_path().display()
    )
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
    // The recipe from the README, with this sandbox's paths.
    let msmtprc = sandbox.dir.path().join("msmtprc");
    std::fs::write(
        &msmtprc,
        format!(
            "account rig\nhost localhost\nport {port}\nfrom ar@rig.test\nauth xoauth2\nuser ar@rig.test\n\
             passwordeval \"{helper}\"\ntls on\ntls_starttls on\ntls_trust_file {ca}\naccount default : rig\n",
            port = rig.smtp_port,
            helper = token_helper(&sandbox, id),
            ca = rig.ca_file.display(),
        ),
    )
    .unwrap();
    let run_id = format!("msmtp-{}", std::process::id());
    let mut msmtp = Command::new("msmtp");
    msmtp.arg("-C").arg(&msmtprc).arg("admin@example.org");
    let output = run_command(msmtp, &message(&run_id));
    assert!(output.status.success(), "msmtp: {}", String::from_utf8_lossy(&output.stderr));
    assert!(delivered(&run_id), "the message msmtp sent arrived");
}

/// neomutt's own XOAUTH2 with the helper as its `smtp_oauth_refresh_command` (the
/// README's recipe), sending in batch mode — its IMAP side takes the same command
/// but needs neomutt's terminal screen, so only sending is run here.
#[test]
fn neomutt_sends_with_the_helper_as_its_oauth_refresh_command() {
    let id = "helper-neomutt";
    let sandbox = connected(id);
    expire(&sandbox, id); // neomutt's call refreshes it
    let rig = rig();
    let muttrc = sandbox.dir.path().join("neomuttrc");
    std::fs::write(
        &muttrc,
        format!(
            "set smtp_url=\"smtp://ar%40rig.test@localhost:{port}/\"\n\
             set smtp_authenticators=\"xoauth2\"\n\
             set smtp_oauth_refresh_command=\"{helper}\"\n\
             set ssl_starttls=yes\nset ssl_force_tls=yes\nset ssl_ca_certificates_file=\"{ca}\"\n\
             set from=\"ar@rig.test\"\nset use_from=yes\nset record=\"\"\nset copy=no\n",
            port = rig.smtp_port,
            helper = token_helper(&sandbox, id),
            ca = rig.ca_file.display(),
        ),
    )
    .unwrap();
    let run_id = format!("neomutt-{}", std::process::id());
    let mut neomutt = Command::new("neomutt");
    neomutt
        .args(["-n", "-F"])
        .arg(&muttrc)
        .args(["-s", "sent by neomutt with the token helper", "-e"])
        .arg(format!("my_hdr X-Helper-Run: {run_id}"))
        .args(["--", "admin@example.org"])
        .env("HOME", sandbox.dir.path());
    let output = run_command(neomutt, "hello from neomutt\n");
    assert!(
        output.status.success(),
        "neomutt: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(delivered(&run_id), "the message neomutt sent arrived");
}

// ---- mailsettings send: sendmail through a setting ------------------------------

/// A Basic setting on the rig (its password stored) for `send`.
fn basic_sandbox(id: &str, password: &str) -> crate::support::Sandbox {
    let rig = rig();
    let sandbox = crate::support::Sandbox::new();
    let config = rig.config_with(vec![rig.basic_setting(id, "ar")]);
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let secrets = mailsettings::store::Secrets::file(sandbox.secrets_file());
    secrets.set(id, mailsettings::store::SecretKind::SmtpPassword, &mailsettings::Secret::new(password)).unwrap();
    sandbox
}

fn send(sandbox: &crate::support::Sandbox, id: &str, args: &[&str], message: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .args(["send", id])
        .args(args)
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let message = message.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&message);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn delivered_to(user: &str, run_id: &str) -> usize {
    let started = Instant::now();
    loop {
        let count = rig().count_with_header(user, "INBOX", "X-Helper-Run", run_id);
        if count > 0 || started.elapsed() > Duration::from_secs(10) {
            // A moment more, so a second copy would have arrived too.
            std::thread::sleep(Duration::from_millis(300));
            return rig().count_with_header(user, "INBOX", "X-Helper-Run", run_id);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn send_delivers_once_adds_date_and_message_id_and_keeps_every_line() {
    let rig = rig();
    let sandbox = basic_sandbox("send-plain", &rig.password);
    let run_id = format!("send-{}", std::process::id());
    // LF line ends, as scripts write them; a line that is a lone dot is data, not the end.
    let message = format!(
        "To: sendplain@rig.test\nSubject: from a script\nX-Helper-Run: {run_id}\n\nfirst line\n.\n.hidden\nlast line\n"
    );
    let output = send(&sandbox, "send-plain", &[&rig.address("sendplain")], message.as_bytes());
    assert_exit(&output, 0);
    assert_eq!((stdout(&output), stderr(&output)), (String::new(), String::new()), "quiet on success, as sendmail");
    assert_eq!(delivered_to("sendplain", &run_id), 1, "delivered exactly once");
    let text = rig.message_text("sendplain", "INBOX", "X-Helper-Run", &run_id);
    assert!(text.contains("\nDate: ") && text.contains("\nMessage-ID: <"), "{text}");
    assert!(text.contains("From: \"Rig AR Team\" <ar@rig.test>"), "{text}");
    assert!(text.contains("first line\n.\n.hidden\nlast line"), "the body arrived whole: {text}");
}

#[test]
fn send_t_takes_to_cc_and_bcc_and_strips_bcc() {
    let rig = rig();
    let sandbox = basic_sandbox("send-t", &rig.password);
    let run_id = format!("send-t-{}", std::process::id());
    let message = format!(
        "From: ar@rig.test\r\nTo: Someone <{}>\r\nCc: {}\r\nBcc: {}\r\nSubject: three ways\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n",
        rig.address("sendto"),
        rig.address("sendcc"),
        rig.address("sendbcc")
    );
    // sendmail's usual flags from mail programs: -i and -oi are accepted.
    let output = send(&sandbox, "send-t", &["-t", "-i", "-oi"], message.as_bytes());
    assert_exit(&output, 0);
    for user in ["sendto", "sendcc", "sendbcc"] {
        assert_eq!(delivered_to(user, &run_id), 1, "{user}");
        let text = rig.message_text(user, "INBOX", "X-Helper-Run", &run_id);
        // Header lines only: ids the servers add (Message-ID, queue ids) are random text.
        let bcc_header = text.lines().any(|line| line.to_ascii_lowercase().starts_with("bcc:"));
        assert!(!bcc_header && !text.contains("sendbcc"), "{user} sees no Bcc: {text}");
    }
}

#[test]
fn send_exits_with_the_sysexits_code_of_what_went_wrong() {
    let rig = rig();
    let message = b"Subject: s\n\nbody\n";
    // A recipient the server refuses: a data error.
    let sandbox = basic_sandbox("send-codes", &rig.password);
    let refused = send(&sandbox, "send-codes", &[&rig.address("unknown-user")], message);
    assert_exit(&refused, 65);
    assert!(stderr(&refused).contains("the server said: 550"), "{}", stderr(&refused));
    // No recipients at all: a data error before any connection.
    assert_exit(&send(&sandbox, "send-codes", &[], message), 65);
    // A wrong password: permission.
    let wrong = basic_sandbox("send-codes", "not-the-password");
    let output = send(&wrong, "send-codes", &[&rig.address("unknown-user")], message);
    assert_exit(&output, 77);
    assert!(
        stderr(&output).contains("next step:") && !stderr(&output).contains("not-the-password"),
        "{}",
        stderr(&output)
    );
    // A server that is not there: unavailable.
    let dead = crate::support::Sandbox::new();
    let mut setting = rig.basic_setting("send-dead", "ar");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    setting.smtp.port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(dead.config(), mailsettings::store::file::to_toml(&rig.config_with(vec![setting])).unwrap())
        .unwrap();
    mailsettings::store::Secrets::file(dead.secrets_file())
        .set(
            "send-dead",
            mailsettings::store::SecretKind::SmtpPassword,
            &mailsettings::Secret::new(rig.password.clone()),
        )
        .unwrap();
    let output = send(&dead, "send-dead", &[&rig.address("unknown-user")], message);
    assert_exit(&output, 69);
    assert!(stderr(&output).contains("Nothing accepts connections"), "{}", stderr(&output));
}

#[test]
fn send_streams_a_25_mb_message_in_bounded_memory() {
    let rig = rig();
    let sandbox = basic_sandbox("send-big", &rig.password);
    let run_id = format!("send-big-{}", std::process::id());
    let mut message = format!("Subject: big\nX-Helper-Run: {run_id}\nContent-Type: text/plain\n\n").into_bytes();
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\n";
    while message.len() < 25 * 1024 * 1024 {
        message.extend_from_slice(line);
    }
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(sandbox.config())
        .args(["send", "send-big", &rig.address("bigmail")])
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let total = message.len();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&message).unwrap();
    });
    // The peak resident memory, read while it runs (VmHWM only grows).
    let mut peak_kb = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next());
            peak_kb = peak_kb.max(hwm.and_then(|v| v.parse().ok()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    writer.join().unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0);
    assert_eq!(delivered_to("bigmail", &run_id), 1);
    let size = rig.message_size("bigmail", "INBOX", "X-Helper-Run", &run_id);
    assert!(size as usize > total, "all of it arrived (CRLF line ends): {size} of {total} bytes");
    assert!(peak_kb > 0, "the peak memory was read");
    assert!(peak_kb < 24 * 1024, "peak resident memory {peak_kb} KB for a {} MB message", total / (1024 * 1024));
}

#[test]
fn mbsync_reads_the_mailbox_with_the_helper_as_its_passcmd() {
    let id = "helper-mbsync";
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, id, "mbsync"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", id]), 0);
    let subject = format!("for mbsync {}", std::process::id());
    rig.empty("mbsync", "INBOX");
    rig.plant("mbsync", "INBOX", &subject);
    let maildir = sandbox.dir.path().join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    // The recipe from the README, with this sandbox's paths (XOAUTH2 through Cyrus SASL's plugin).
    let rc = sandbox.dir.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount rig\nHost localhost\nPort {port}\nUser {user}\n\
             PassCmd \"{helper}\"\n\
             AuthMechs XOAUTH2\nSSLType IMAPS\nCertificateFile {ca}\n\n\
             IMAPStore rig-remote\nAccount rig\n\n\
             MaildirStore local\nPath {maildir}/\nInbox {maildir}/INBOX\n\n\
             Channel rig\nFar :rig-remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSyncState *\n",
            port = rig.imaps_port,
            user = rig.address("mbsync"),
            helper = token_helper(&sandbox, id),
            ca = rig.ca_file.display(),
            maildir = maildir.display(),
        ),
    )
    .unwrap();
    let output = Command::new("mbsync").arg("-c").arg(&rc).arg("rig").output().expect("mbsync (install-test-deps)");
    assert!(
        output.status.success(),
        "mbsync: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let fetched: Vec<String> = ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(maildir.join("INBOX").join(sub)).into_iter().flatten().flatten())
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect();
    assert!(fetched.iter().any(|text| text.contains(&subject)), "the planted message was fetched: {fetched:?}");
}

/// git send-email with `mailsettings send` as its sendmail command (git passes `-i`
/// and the recipients; the patch arrives as git wrote it).
#[test]
fn git_send_email_sends_a_patch_through_mailsettings_send() {
    let rig = rig();
    let sandbox = basic_sandbox("send-git", &rig.password);
    let repo = sandbox.path("repo");
    let git = |args: &[&str]| {
        let output = Command::new("/usr/bin/git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=Rig AR", "-c", "user.email=ar@rig.test"])
            .args(args)
            .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", sandbox.dir.path())
            .output()
            .expect("git (install-test-deps)");
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    std::fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q"]);
    let marker = format!("patch-{}", std::process::id());
    std::fs::write(repo.join("README"), format!("{marker}\n")).unwrap();
    git(&["add", "README"]);
    git(&["commit", "-q", "-m", &format!("Add the readme {marker}")]);
    let patch = git(&["format-patch", "-1", "--stdout"]);
    let patch_file = sandbox.write("0001.patch", &patch);
    let sendmail = format!("{BIN} --config {} send send-git", sandbox.config().display());
    git(&[
        "send-email",
        "--sendmail-cmd",
        &sendmail,
        "--to",
        &rig.address("sendgit"),
        "--from",
        "ar@rig.test",
        "--confirm=never",
        "--quiet",
        patch_file.to_str().unwrap(),
    ]);
    let started = Instant::now();
    while rig.count_with_header("sendgit", "INBOX", "Subject", &marker) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the patch never arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = rig.message_text("sendgit", "INBOX", "Subject", &marker);
    assert!(text.contains(&format!("+{marker}")), "the diff arrived whole: {text}");
}
