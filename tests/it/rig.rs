//! The mail rig started by scripts/test (tests/rig/rig): real Dovecot and
//! Postfix on loopback. Tests read its ports and users from `MAILSETTINGS_RIG`.
//!
//! Tests run in parallel against the one rig, so a mailbox whose contents a test
//! changes or counts belongs to that test alone: `plant`, `empty` and the counts
//! claim the user for the calling test and fail the second test that touches it.
//! Signing in (most tests, as "ar") needs no claim. "catchall" is shared: tests
//! count in it only by their own run id.

/// The rig's Entra-style daemon app (tests/rig/oauth/server.js): a GUID client id and
/// its client secret, for app-only access.
pub const DAEMON_APP_ID: &str = "5d3c2b1a-0f9e-4d8c-b7a6-112233445566";
pub const APP_ONLY_SECRET: &str = "rig-app-only-client-secret";

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use mailsettings::model::{Config, CredentialKind, MailSetting, Security};

#[derive(Debug, Clone)]
pub struct Rig {
    pub domain: String,
    pub password: String,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
    pub smtps_port: u16,
    pub oauth_port: u16,
    pub ca_file: PathBuf,
    pub dovecot_conf: PathBuf,
    /// The authorization server's log of token-endpoint requests.
    pub token_log: PathBuf,
    /// The app-only app's certificate and private key (rig client `mailsettings-app-cert`).
    pub app_certificate: PathBuf,
    pub app_key: PathBuf,
    /// The mailboxes whose tenant has switched Basic authentication for SMTP AUTH off.
    pub basic_smtp_off: PathBuf,
    /// The app password the Gmail-shaped mailbox takes (its account password is refused).
    pub gmail_app_password: String,
    /// The rig's Microsoft Graph and Gmail API (tests/rig/mailapi).
    pub graph_url: String,
    pub gmail_api_url: String,
    /// The mail APIs' log of requests that passed the token check ("OWNER METHOD PATH").
    pub api_log: PathBuf,
}

pub fn rig() -> &'static Rig {
    static RIG: OnceLock<Rig> = OnceLock::new();
    RIG.get_or_init(|| {
        let path = std::env::var("MAILSETTINGS_RIG").unwrap_or_else(|_| {
            panic!("these tests need the mail rig: run them through scripts/test, which starts Dovecot and Postfix")
        });
        let text = std::fs::read_to_string(&path).expect("read rig.env");
        let env: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let port = |key: &str| env[key].parse::<u16>().expect(key);
        Rig {
            domain: env["RIG_DOMAIN"].to_owned(),
            password: env["RIG_PASSWORD"].to_owned(),
            imap_port: port("RIG_IMAP_PORT"),
            imaps_port: port("RIG_IMAPS_PORT"),
            smtp_port: port("RIG_SMTP_PORT"),
            smtps_port: port("RIG_SMTPS_PORT"),
            oauth_port: port("RIG_OAUTH_PORT"),
            ca_file: PathBuf::from(env["RIG_CA_FILE"]),
            dovecot_conf: PathBuf::from(env["RIG_DOVECOT_CONF"]),
            token_log: PathBuf::from(env["RIG_TOKEN_LOG"]),
            app_certificate: PathBuf::from(env["RIG_APP_CERT"]),
            app_key: PathBuf::from(env["RIG_APP_KEY"]),
            basic_smtp_off: PathBuf::from(env["RIG_BASIC_SMTP_OFF"]),
            gmail_app_password: env["RIG_GMAIL_APP_PASSWORD"].to_owned(),
            graph_url: env["RIG_GRAPH_URL"].to_owned(),
            gmail_api_url: env["RIG_GMAIL_API_URL"].to_owned(),
            api_log: PathBuf::from(env["RIG_API_LOG"]),
        }
    })
}

impl Rig {
    /// How many token-endpoint requests presented `refresh_token`, and with what outcome.
    pub fn refresh_requests(&self, refresh_token: &str) -> Vec<String> {
        let log = std::fs::read_to_string(&self.token_log).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let mut words = line.split(' ');
                let (grant, token, outcome) = (words.next()?, words.next()?, words.next()?);
                (grant == "refresh_token" && token == refresh_token).then(|| outcome.to_owned())
            })
            .collect()
    }

    /// Microsoft's switch for `user`'s tenant turned: a password for sending is refused from
    /// now on (5.7.30), OAuth still signs in. For the one test that owns `user`.
    pub fn switch_off_basic_smtp(&self, user: &str) {
        use std::io::Write;
        claim(user);
        let mut list = std::fs::OpenOptions::new().append(true).open(&self.basic_smtp_off).expect("the rig's switch");
        writeln!(list, "{}", self.address(user)).expect("switch Basic SMTP off");
    }

    /// The switch as a tenant has it before the end of December 2026: on for `user`. A test that
    /// turns it off starts with this, so it runs again on the same rig.
    pub fn switch_on_basic_smtp(&self, user: &str) {
        claim(user);
        let list = std::fs::read_to_string(&self.basic_smtp_off).expect("the rig's switch");
        let address = self.address(user);
        let kept: String =
            list.lines().filter(|line| !line.eq_ignore_ascii_case(&address)).map(|l| format!("{l}\n")).collect();
        std::fs::write(&self.basic_smtp_off, kept).expect("switch Basic SMTP on");
    }

    /// The mail API requests `user`'s tokens made, as the rig logged them ("METHOD PATH").
    pub fn api_requests(&self, user: &str) -> Vec<String> {
        let owner = format!("{} ", self.address(user));
        std::fs::read_to_string(&self.api_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix(&owner).map(str::to_owned))
            .collect()
    }

    pub fn address(&self, user: &str) -> String {
        format!("{user}@{}", self.domain)
    }

    /// A Basic setting for `user` (STARTTLS SMTP, TLS IMAP) on the rig.
    pub fn basic_setting(&self, id: &str, user: &str) -> MailSetting {
        let mut setting = MailSetting {
            id: id.to_owned().into(),
            description: format!("Rig {user}"),
            subject_tag: "[RIG-AR]".to_owned(),
            credential: CredentialKind::Basic,
            ..MailSetting::default()
        };
        setting.smtp.server = "localhost".to_owned();
        setting.smtp.port = self.smtp_port;
        setting.smtp.security = Security::Starttls;
        setting.smtp.send_as = self.address(user);
        setting.smtp.from_name = "Rig AR Team".to_owned();
        setting.smtp.user_name = self.address(user);
        setting.smtp.user_domain = self.domain.clone();
        setting.imap.server = "localhost".to_owned();
        setting.imap.port = self.imaps_port;
        setting.imap.security = Security::Tls;
        setting.imap.user_name = self.address(user);
        setting.imap.user_domain = self.domain.clone();
        setting
    }

    /// A config that trusts the rig's CA.
    pub fn config_with(&self, settings: Vec<MailSetting>) -> Config {
        let mut config = Config { mail_settings: settings, ..Config::default() };
        config.tls.extra_ca_files = vec![self.ca_file.clone()];
        config
    }

    fn doveadm(&self, args: &[&str]) -> String {
        let output = Command::new("doveadm").arg("-c").arg(&self.dovecot_conf).args(args).output().expect("doveadm");
        assert!(output.status.success(), "doveadm {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Messages in `folder` of `user` whose header `name` contains `value`.
    pub fn count_with_header(&self, user: &str, folder: &str, name: &str, value: &str) -> usize {
        self.count_with_headers(user, folder, &[(name, value)])
    }

    /// Messages in `folder` of `user` matching every `(header, value)`.
    pub fn count_with_headers(&self, user: &str, folder: &str, headers: &[(&str, &str)]) -> usize {
        if user != "catchall" {
            claim(user);
        }
        let address = self.address(user);
        let mut args = vec!["search", "-u", address.as_str(), "mailbox", folder];
        for (name, value) in headers {
            args.extend(["header", name, value]);
        }
        self.doveadm(&args).lines().count()
    }

    /// The whole text (header and body) of the one message in `folder` of `user`
    /// whose header `name` contains `value`.
    pub fn message_text(&self, user: &str, folder: &str, name: &str, value: &str) -> String {
        claim(user);
        let address = self.address(user);
        let text = self.doveadm(&["fetch", "-u", &address, "text", "mailbox", folder, "header", name, value]);
        text.strip_prefix("text:\n").unwrap_or(&text).to_owned()
    }

    /// The size in bytes of the one message in `folder` of `user` whose header `name` contains `value`.
    pub fn message_size(&self, user: &str, folder: &str, name: &str, value: &str) -> u64 {
        claim(user);
        let address = self.address(user);
        let text = self.doveadm(&["fetch", "-u", &address, "size.physical", "mailbox", folder, "header", name, value]);
        text.trim().trim_start_matches("size.physical:").trim().parse().unwrap_or(0)
    }

    /// Puts a message into a folder of `user`.
    pub fn plant(&self, user: &str, folder: &str, subject: &str) {
        claim(user);
        let message = format!(
            "From: someone@example.org\r\nTo: {}\r\nSubject: {subject}\r\n\r\nplanted by a test\r\n",
            self.address(user)
        );
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(&self.dovecot_conf)
            .args(["save", "-u", &self.address(user), "-m", folder])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("doveadm save");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// Removes every message from `folder` of `user`.
    pub fn empty(&self, user: &str, folder: &str) {
        claim(user);
        self.doveadm(&["expunge", "-u", &self.address(user), "mailbox", folder, "all"]);
    }
}

/// Marks `user`'s mailbox as the calling test's (libtest names each test's thread
/// after the test); panics when another test has claimed it.
fn claim(user: &str) {
    static OWNERS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let test = std::thread::current().name().unwrap_or("unnamed").to_owned();
    let mut owners = OWNERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let owner = owners.entry(user.to_owned()).or_insert_with(|| test.clone());
    assert!(
        *owner == test,
        "rig mailbox \"{user}\" is used by {owner} and {test}: give each test whose mail it changes or counts its own rig user"
    );
}
