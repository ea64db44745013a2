//! Connect against the rig's real authorization server (oidc-provider), with
//! a scripted browser (curl following the redirects) set through `BROWSER`:
//! success, denial, forged state, junk and stray connections, timeout,
//! cancel, token endpoint down, refresh, revocation, Disconnect, and the
//! whole chain into Dovecot and Postfix with XOAUTH2.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mailsettings::cancel::CancelToken;
use mailsettings::model::{Config, CredentialKind, MailSetting, OAuthProvider};
use mailsettings::oauth::tokens::TokenSet;
use mailsettings::probe::{self, ProbeOptions};
use mailsettings::store::{SecretKind, Secrets};

use crate::rig::{Rig, rig};
use crate::support::{BIN, all_files_text, assert_exit, run_command, stderr, stdout};

/// What the scripted browser does before (or instead of) signing in.
#[derive(Clone, Copy)]
pub(crate) enum Browser {
    SignIn,
    /// Sends a redirect with a forged state first.
    ForgedStateFirst,
    /// Asks for /favicon.ico and sends garbage bytes first.
    JunkFirst,
    /// Opens 100 connections to the listener first.
    StrayConnectionsFirst,
    /// Never signs in.
    Idle,
}

/// A shell script playing the user in a browser: curl follows every redirect
/// with a cookie jar, as a browser would.
pub(crate) fn browser_script(dir: &Path, mode: Browser) -> PathBuf {
    let before = match mode {
        Browser::SignIn | Browser::Idle => "",
        Browser::ForgedStateFirst => "curl -s -o /dev/null \"$redirect?code=forged-code&state=forged-state\"\n",
        Browser::JunkFirst => {
            "curl -s -o /dev/null \"${redirect}favicon.ico\"\ncurl -s -o /dev/null \"${redirect}some/other/path\"\n\
             printf '\\001\\002 not http at all\\r\\n\\r\\n' > /dev/tcp/127.0.0.1/$port || true\n"
        }
        Browser::StrayConnectionsFirst => {
            "for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port; exec 3>&-) 2>/dev/null || true; done\n"
        }
    };
    let sign_in = if matches!(mode, Browser::Idle) {
        "exit 0\n"
    } else {
        "jar=$(mktemp)\ncurl -sS -L --cacert \"$RIG_CA_FILE\" -b \"$jar\" -c \"$jar\" -o \"$0.page\" \"$url\"\nrm -f \"$jar\"\n"
    };
    let script = format!(
        "#!/bin/bash\n# Plays the user in the browser for the tests.\nurl=\"$1\"\n\
         redirect=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)[\"redirect_uri\"][0])' \"$url\")\n\
         port=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).port)' \"$redirect\")\n{before}{sign_in}"
    );
    let path = dir.join(format!("browser-{}.sh", mode as u8));
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

pub(crate) fn provider_entry(rig: &Rig, id: &str) -> OAuthProvider {
    let base = format!("https://127.0.0.1:{}", rig.oauth_port);
    let mut entry = OAuthProvider {
        id: id.to_owned(),
        authorize_url: format!("{base}/auth"),
        token_url: format!("{base}/token"),
        revoke_url: Some(format!("{base}/token/revocation")),
        userinfo_url: Some(format!("{base}/me")),
        device_authorization_url: Some(format!("{base}/device/auth")),
        client_id: "mailsettings-test".to_owned(),
        scopes: vec!["openid".into(), "email".into(), "offline_access".into(), "mail".into()],
        redirect_host: Some("127.0.0.1".to_owned()),
        ..OAuthProvider::default()
    };
    entry.authorize_params.insert("prompt".into(), "consent".into());
    entry
}

pub(crate) fn oauth_setting(rig: &Rig, id: &str, user: &str) -> MailSetting {
    let mut setting = rig.basic_setting(id, user);
    setting.credential = CredentialKind::Oauth2;
    setting.oauth_provider = Some("rigidp".to_owned());
    setting
}

/// A temp folder with a config (the rig's provider and one OAuth setting) and a secret file.
pub(crate) struct OAuthSandbox {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) config: Config,
}

impl OAuthSandbox {
    pub(crate) fn new(setting: MailSetting) -> Self {
        let rig = rig();
        let mut config = rig.config_with(vec![setting]);
        config.oauth_providers.push(provider_entry(rig, "rigidp"));
        let sandbox = Self { dir: tempfile::tempdir().unwrap(), config };
        sandbox.write_config();
        sandbox
    }

    pub(crate) fn write_config(&self) {
        std::fs::write(self.config_path(), mailsettings::store::file::to_toml(&self.config).unwrap()).unwrap();
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub(crate) fn secrets(&self) -> Secrets {
        Secrets::file(self.dir.path().join("secrets.json"))
    }

    pub(crate) fn command(&self, browser: Browser, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", self.dir.path().join("secrets.json").display()))
            .env("BROWSER", browser_script(self.dir.path(), browser))
            .env("RIG_CA_FILE", &rig().ca_file);
        command
    }

    pub(crate) fn run(&self, browser: Browser, args: &[&str]) -> Output {
        run_command(self.command(browser, args), "")
    }

    pub(crate) fn options(&self) -> ProbeOptions {
        ProbeOptions::from_config(&self.config).unwrap()
    }
}

fn access_token(sandbox: &OAuthSandbox, id: &str) -> String {
    TokenSet::load(&sandbox.secrets(), id).unwrap().expect("connected").access_token.expose().to_owned()
}

/// Asks the authorization server whether a token is still active (as Dovecot does);
/// panics unless the server answered the question.
pub(crate) fn is_active(token: &str) -> bool {
    let url = format!("https://127.0.0.1:{}/token/introspection", rig().oauth_port);
    // The rig's introspection client is Dovecot's; the test reads its secret from the Dovecot config.
    let conf = std::fs::read_to_string(rig().dovecot_conf.with_file_name("oauth2.conf")).unwrap();
    let credentials = conf.lines().find_map(|l| l.strip_prefix("introspection_url = https://")).unwrap();
    let (user_pass, _) = credentials.split_once('@').unwrap();
    let ca = rig().ca_file.to_str().unwrap();
    let output = Command::new("curl")
        .args(["-s", "--cacert", ca, "-u", user_pass, &url, "-d", &format!("token={token}")])
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("introspection did not answer ({e}): {}", String::from_utf8_lossy(&output.stdout)));
    answer["active"].as_bool().unwrap_or_else(|| panic!("introspection answered without \"active\": {answer}"))
}

#[test]
fn connect_then_test_incoming_and_outgoing_with_xoauth2() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "m-oauth", "ar"));
    let connect = sandbox.run(Browser::SignIn, &["connect", "m-oauth"]);
    assert_exit(&connect, 0);
    assert!(stdout(&connect).contains("Connected as ar@rig.test"), "{}", stdout(&connect));
    let page =
        std::fs::read_to_string(sandbox.dir.path().join(format!("browser-{}.sh.page", Browser::SignIn as u8))).unwrap();
    assert!(page.contains("Authentication is complete. You may now close this page."), "{page}");

    let status = sandbox.run(Browser::Idle, &["token-status", "m-oauth", "--json"]);
    assert_exit(&status, 0);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["state"], "connected");
    assert_eq!(json["account"], "ar@rig.test");
    assert_eq!(json["has_refresh_token"], true);

    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "m-oauth"]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("with XOAUTH2"), "{}", stdout(&incoming));
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "m-oauth", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("with XOAUTH2"));

    // The tokens are in the secret store and nowhere else.
    let token = access_token(&sandbox, "m-oauth");
    let refresh =
        TokenSet::load(&sandbox.secrets(), "m-oauth").unwrap().unwrap().refresh_token.unwrap().expose().to_owned();
    assert_exit(&sandbox.run(Browser::Idle, &["activate", "m-oauth"]), 0); // a save, so a backup exists
    for (path, text) in all_files_text(sandbox.dir.path()) {
        if path.ends_with("secrets.json") {
            continue;
        }
        assert!(!text.contains(&token) && !text.contains(&refresh), "a token leaked into {}", path.display());
    }
    for output in [&connect, &status, &incoming, &outgoing] {
        for text in [stdout(output), stderr(output)] {
            assert!(!text.contains(&token) && !text.contains(&refresh));
        }
    }
}

#[test]
fn the_microsoft_path_uses_localhost_and_the_tenant_override() {
    let rig = rig();
    let mut setting = rig.basic_setting("m365-rig", "ar");
    setting.credential = CredentialKind::Microsoft365;
    setting.tenant = Some("rig.test".to_owned());
    let mut sandbox = OAuthSandbox::new(setting);
    let mut microsoft = provider_entry(rig, "microsoft365");
    microsoft.redirect_host = None; // Microsoft's default: http://localhost:PORT/
    sandbox.config.oauth_providers.push(microsoft);
    sandbox.write_config();
    let connect = sandbox.run(Browser::SignIn, &["connect", "m365-rig"]);
    assert_exit(&connect, 0);
    assert!(stdout(&connect).contains("redirect_uri=http%3A%2F%2Flocalhost%3A"), "{}", stdout(&connect));
    assert!(stdout(&connect).contains("login_hint=ar%40rig.test"));
    assert_exit(&sandbox.run(Browser::Idle, &["test", "incoming", "m365-rig"]), 0);
}

#[test]
fn a_denied_sign_in_is_diagnosed() {
    let rig = rig();
    let mut setting = oauth_setting(rig, "denied", "ar");
    setting.imap.user_name = "deny@rig.test".to_owned(); // the rig's user declines
    let sandbox = OAuthSandbox::new(setting);
    let output = sandbox.run(Browser::SignIn, &["connect", "denied"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("access_denied") && err.contains("declined"), "{err}");
    assert!(err.contains("Press Connect again"), "{err}");
    assert!(TokenSet::load(&sandbox.secrets(), "denied").unwrap().is_none());
}

#[test]
fn forged_state_junk_and_stray_connections_do_not_end_the_flow() {
    let rig = rig();
    for mode in [Browser::ForgedStateFirst, Browser::JunkFirst, Browser::StrayConnectionsFirst] {
        let sandbox = OAuthSandbox::new(oauth_setting(rig, "sturdy", "ar"));
        let output = sandbox.run(mode, &["connect", "sturdy", "--timeout", "60"]);
        assert_exit(&output, 0);
        assert!(stdout(&output).contains("Connected as ar@rig.test"));
    }
}

#[test]
fn the_listener_survives_a_forged_redirect_in_process() {
    // The same, checked inside: the forged request is answered and counted, then the real one wins.
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "inproc", "ar"));
    let setting = sandbox.config.setting("inproc").unwrap().clone();
    let flow = mailsettings::oauth::ConnectFlow::start(&setting, &sandbox.config).unwrap();
    let (redirect, url) = (flow.redirect_uri().to_owned(), flow.url().to_owned());
    let (secrets, tls) = (sandbox.secrets(), sandbox.options().tls.clone());
    let waiting = std::thread::spawn(move || {
        flow.finish(
            &secrets,
            (tls, &mailsettings::oauth::http::ProxyRoute::default()),
            Duration::from_secs(30),
            &CancelToken::new(),
        )
    });
    let forged = Command::new("curl").args(["-s", &format!("{redirect}?code=x&state=forged")]).output().unwrap();
    assert!(String::from_utf8_lossy(&forged.stdout).contains("not the one Mail Settings is waiting for"));
    let script = browser_script(sandbox.dir.path(), Browser::SignIn);
    let status = Command::new(&script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap();
    assert!(status.success());
    let connected = waiting.join().unwrap().unwrap();
    assert_eq!(connected.account.as_deref(), Some("ar@rig.test"));
    assert!(connected.warnings.is_empty(), "{:?}", connected.warnings);
}

fn port_of(redirect_uri: &str) -> u16 {
    redirect_uri.trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn timeout_and_cancel_end_the_wait_and_close_the_port() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "waiting", "ar"));
    let started = Instant::now();
    let output = sandbox.run(Browser::Idle, &["connect", "waiting", "--timeout", "2"]);
    assert_exit(&output, 1);
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    assert!(stderr(&output).contains("no sign-in arrived within 2 seconds"), "{}", stderr(&output));

    let setting = sandbox.config.setting("waiting").unwrap().clone();
    let flow = mailsettings::oauth::ConnectFlow::start(&setting, &sandbox.config).unwrap();
    let port = port_of(flow.redirect_uri());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "listening while waiting");
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let (secrets, tls) = (sandbox.secrets(), sandbox.options().tls.clone());
    let started = Instant::now();
    let job = std::thread::spawn(move || {
        flow.finish(
            &secrets,
            (tls, &mailsettings::oauth::http::ProxyRoute::default()),
            Duration::from_secs(60),
            &cancel,
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    canceller.cancel();
    let result = job.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(
        result,
        Err(mailsettings::oauth::ConnectError::Listen(mailsettings::oauth::listener::ListenError::Cancelled))
    ));
    std::thread::sleep(Duration::from_millis(200));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the port is closed after cancel");
}

#[test]
fn a_token_endpoint_that_is_down_is_diagnosed() {
    let rig = rig();
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig, "down", "ar"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    sandbox.config.oauth_providers[0].token_url = format!("http://127.0.0.1:{closed_port}/token");
    sandbox.write_config();
    let output = sandbox.run(Browser::SignIn, &["connect", "down", "--timeout", "30"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("could not be reached") && err.contains("network"), "{err}");
}

#[test]
fn an_expiring_token_is_refreshed_and_the_rotated_refresh_token_saved() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "refresh", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "refresh"]), 0);
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, "refresh").unwrap().unwrap();
    let (old_access, old_refresh) = (tokens.access_token.expose().to_owned(), tokens.refresh_token.clone().unwrap());
    tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(30)); // inside the margin
    tokens.save(&secrets, "refresh").unwrap();

    let setting = sandbox.config.setting("refresh").unwrap().clone();
    let bearer =
        mailsettings::checks::access_token(&setting, &sandbox.config, &secrets, &sandbox.options()).unwrap().unwrap();
    assert_ne!(bearer.expose(), old_access, "a new access token");
    let refreshed = TokenSet::load(&secrets, "refresh").unwrap().unwrap();
    assert_ne!(refreshed.refresh_token.as_ref().unwrap().expose(), old_refresh.expose(), "the refresh token rotated");
    assert!(refreshed.last_refresh.is_some());
    assert_eq!(refreshed.account.as_deref(), Some("ar@rig.test"));
    // The refreshed token signs in to Dovecot.
    let (_, incoming) =
        probe::inputs_for(&setting, probe::SignIn::Bearer(bearer.clone()), probe::SignIn::Bearer(bearer));
    let report = probe::imap::test_incoming(&incoming, &sandbox.options(), &CancelToken::new());
    assert!(report.passed, "{}", report.to_text());
}

#[test]
fn a_revoked_refresh_token_turns_into_needs_reconnect() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "revoked", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "revoked"]), 0);
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, "revoked").unwrap().unwrap();
    let refresh = tokens.refresh_token.clone().unwrap();
    let revoke = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--cacert", rig.ca_file.to_str().unwrap()])
        .arg(format!("https://127.0.0.1:{}/token/revocation", rig.oauth_port))
        .args(["-d", "client_id=mailsettings-test", "-d", &format!("token={}", refresh.expose())])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&revoke.stdout), "200");
    tokens.expires_at = Some(time::OffsetDateTime::now_utc());
    tokens.save(&secrets, "revoked").unwrap();

    let test = sandbox.run(Browser::Idle, &["test", "incoming", "revoked"]);
    assert_exit(&test, 1);
    assert!(
        stdout(&test).contains("needs to be connected again") && stdout(&test).contains("invalid_grant"),
        "{}",
        stdout(&test)
    );
    assert_eq!(rig.refresh_requests(refresh.expose()), ["invalid_grant"], "asked once, refused once");
    let status = sandbox.run(Browser::Idle, &["token-status", "revoked"]);
    assert!(stdout(&status).starts_with("Needs reconnect"), "{}", stdout(&status));
    // Not retried: the second attempt reports the stored reason without asking the server.
    let again = sandbox.run(Browser::Idle, &["test", "outgoing", "revoked", "--to", "admin@example.org"]);
    assert_exit(&again, 1);
    assert!(stdout(&again).contains("needs to be connected again"), "{}", stdout(&again));
    assert_eq!(rig.refresh_requests(refresh.expose()).len(), 1, "the revoked refresh token was not sent again");
    // Connecting again clears it.
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "revoked"]), 0);
    assert!(stdout(&sandbox.run(Browser::Idle, &["token-status", "revoked"])).starts_with("Connected as ar@rig.test"));
}

#[test]
fn disconnect_revokes_and_deletes_the_tokens() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bye", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bye"]), 0);
    let token = access_token(&sandbox, "bye");
    let refresh = TokenSet::load(&sandbox.secrets(), "bye").unwrap().unwrap().refresh_token.unwrap();
    assert!(is_active(&token));
    let output = sandbox.run(Browser::Idle, &["disconnect", "bye"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("revoked at the provider"), "{}", stdout(&output));
    assert!(sandbox.secrets().get("bye", SecretKind::OAuthTokens).unwrap().is_none());
    assert!(stdout(&sandbox.run(Browser::Idle, &["token-status", "bye"])).starts_with("Not connected"));
    assert!(!is_active(refresh.expose()), "the refresh token is revoked at the provider");
    let test = sandbox.run(Browser::Idle, &["test", "incoming", "bye"]);
    assert_exit(&test, 1);
    assert!(stdout(&test).contains("press Connect"), "{}", stdout(&test));
}

#[test]
fn a_token_the_server_rejects_is_diagnosed_on_the_wire() {
    // A made-up bearer token: Dovecot's introspection says inactive; the XOAUTH2
    // error challenge is answered and diagnosed, the token never echoed.
    let rig = rig();
    let setting = oauth_setting(rig, "bogus", "ar");
    let sandbox = OAuthSandbox::new(setting.clone());
    let fake = mailsettings::Secret::new("canary-bogus-token-0000");
    let (outgoing, incoming) =
        probe::inputs_for(&setting, probe::SignIn::Bearer(fake.clone()), probe::SignIn::Bearer(fake));
    let imap = probe::imap::test_incoming(&incoming, &sandbox.options(), &CancelToken::new());
    assert_eq!(imap.diagnosis.as_ref().unwrap().signature, "oauth-token-rejected", "{}", imap.to_text());
    let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &sandbox.options(), &CancelToken::new());
    assert_eq!(smtp.diagnosis.as_ref().unwrap().signature, "oauth-token-rejected", "{}", smtp.to_text());
    for report in [&imap, &smtp] {
        assert!(!report.to_text().contains("canary-bogus-token"));
    }
}

#[test]
fn tokens_live_in_the_real_secret_service() {
    // The default store: GNOME Keyring on the test session bus.
    assert!(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(), "run through scripts/test");
    let rig = rig();
    let id = format!("os-oauth-{}", std::process::id());
    let sandbox = OAuthSandbox::new(oauth_setting(rig, &id, "ar"));
    let mut command = sandbox.command(Browser::SignIn, &["connect", &id]);
    command.env_remove("MAILSETTINGS_SECRET_STORE");
    let output = run_command(command, "");
    assert_exit(&output, 0);
    let tokens = TokenSet::load(&Secrets::os(), &id).unwrap().expect("in the Secret Service");
    let token = tokens.access_token.expose().to_owned();
    for (path, text) in all_files_text(sandbox.dir.path()) {
        assert!(!text.contains(&token), "token in {}", path.display());
    }
    let mut disconnect = sandbox.command(Browser::Idle, &["disconnect", &id]);
    disconnect.env_remove("MAILSETTINGS_SECRET_STORE");
    assert_exit(&run_command(disconnect, ""), 0);
    assert!(TokenSet::load(&Secrets::os(), &id).unwrap().is_none());
    let _ = std::io::stdout().flush();
}

#[test]
fn connect_without_a_browser_prints_the_link_and_waits_for_it() {
    use std::io::{BufRead, BufReader};
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "headless", "ar"));
    let mut command = sandbox.command(Browser::Idle, &["connect", "headless", "--no-browser", "--timeout", "60"]);
    // Were a browser started, this one would fail the test: it must not be.
    command.env("BROWSER", "false").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.by_ref().map(|l| l.unwrap()).find(|l| l.starts_with("https://")).expect("the link is printed");
    // Support staff paste the link into a browser elsewhere (here: the scripted browser).
    let script = browser_script(sandbox.dir.path(), Browser::SignIn);
    assert!(Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success());
    assert!(rest.iter().any(|l| l == "Connected as ar@rig.test"), "{rest:?}");
}

/// A sign-in app's client secret (Google desktop apps have one) goes from stdin
/// to the secret store, never to the config, an export or the audit log — and
/// Connect sends it: the rig's confidential client refuses the code exchange
/// without it.
#[test]
fn a_client_secret_from_stdin_is_kept_in_the_secret_store_and_used_by_connect() {
    let rig = rig();
    let mut setting = oauth_setting(rig, "m-confidential", "ar");
    setting.oauth_provider = Some("rigsecret".to_owned());
    let mut sandbox = OAuthSandbox::new(setting);
    let mut provider = provider_entry(rig, "rigsecret");
    provider.client_id = "mailsettings-confidential".to_owned();
    sandbox.config.oauth_providers.push(provider);
    sandbox.write_config();

    let refused = sandbox.run(Browser::SignIn, &["connect", "m-confidential"]);
    assert_exit(&refused, 1);

    let secret = "rig-desktop-client-secret";
    let set = sandbox.command(
        Browser::Idle,
        &["oauth-app", "set", "rigsecret", "--client-id", "mailsettings-confidential", "--client-secret-stdin"],
    );
    let output = crate::support::run_command(set, &format!("{secret}\n"));
    assert_exit(&output, 0);
    let connect = sandbox.run(Browser::SignIn, &["connect", "m-confidential"]);
    assert_exit(&connect, 0);
    assert!(stdout(&connect).contains("Connected as ar@rig.test"), "{}", stdout(&connect));

    let export = sandbox.dir.path().join("export.toml");
    assert_exit(&sandbox.run(Browser::Idle, &["export", export.to_str().unwrap()]), 0);
    let log = sandbox.dir.path().join("audit.jsonl");
    for path in [sandbox.config_path(), export, log.clone()] {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(secret), "the client secret is in {}", path.display());
    }
    assert!(std::fs::read_to_string(&log).unwrap().contains("set-client-secret"), "the change is audited");
    let stored = sandbox
        .secrets()
        .get(mailsettings::store::SecretOwner::SignInApp("rigsecret".to_owned()), SecretKind::ClientSecret)
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), secret);
}

/// A local client that pipelines thousands of requests and never reads the
/// answers, plus idle sockets that say nothing, does not stall Connect: the
/// real redirect still gets through and the flow finishes.
#[test]
fn a_flooding_never_reading_local_client_does_not_stall_connect() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "flooded", "ar"));
    let setting = sandbox.config.setting("flooded").unwrap().clone();
    let flow = mailsettings::oauth::ConnectFlow::start(&setting, &sandbox.config).unwrap();
    let (port, url) = (port_of(flow.redirect_uri()), flow.url().to_owned());
    let (secrets, tls) = (sandbox.secrets(), sandbox.options().tls.clone());
    let waiting = std::thread::spawn(move || {
        flow.finish(
            &secrets,
            (tls, &mailsettings::oauth::http::ProxyRoute::default()),
            Duration::from_secs(40),
            &CancelToken::new(),
        )
    });
    let idle: Vec<TcpStream> = (0..50).filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok()).collect();
    let flood = std::thread::spawn(move || {
        let Ok(mut socket) = TcpStream::connect(("127.0.0.1", port)) else { return 0 };
        let _ = socket.set_write_timeout(Some(Duration::from_secs(5)));
        let request = b"GET /?code=x&state=flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        (0..20_000).take_while(|_| socket.write_all(request).is_ok()).count()
    });
    std::thread::sleep(Duration::from_millis(500));
    let script = browser_script(sandbox.dir.path(), Browser::SignIn);
    let status = Command::new(&script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap();
    assert!(status.success(), "the browser's redirect was answered");
    let connected = waiting.join().unwrap().expect("connected despite the flood");
    assert_eq!(connected.account.as_deref(), Some("ar@rig.test"));
    let sent = flood.join().unwrap();
    assert!(sent > 0, "the flood really ran");
    drop(idle);
}

/// Two processes that both find the access token expiring refresh it one at a
/// time: the second uses the rotated token the first saved, both sign in, and
/// the setting stays connected with one valid token set.
#[test]
fn two_processes_refreshing_at_once_leave_one_valid_token_set() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "twice", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "twice"]), 0);
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, "twice").unwrap().unwrap();
    tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(30)); // inside the margin
    tokens.save(&secrets, "twice").unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            sandbox
                .command(Browser::Idle, &["test", "incoming", "twice"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_exit(&output, 0);
    }
    let status = sandbox.run(Browser::Idle, &["token-status", "twice"]);
    assert!(stdout(&status).contains("Connected as ar@rig.test"), "{}", stdout(&status));
    let now = TokenSet::load(&secrets, "twice").unwrap().unwrap();
    assert!(now.needs_reconnect.is_none());
    assert!(is_active(now.access_token.expose()), "the saved access token is the live one");
}

/// The guide's relay customers: replies in an OAuth mailbox, mail sent through a
/// relay with a password. Each side signs in its own way against the rig.
#[test]
fn oauth_incoming_and_a_password_relay_outgoing_each_sign_in_their_own_way() {
    let rig = rig();
    let mut setting = oauth_setting(rig, "mixed", "ar");
    setting.smtp.credential = Some(mailsettings::model::CredentialKind::Basic);
    let sandbox = OAuthSandbox::new(setting);
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "mixed"]), 0);
    let stored = run_command(
        sandbox.command(Browser::Idle, &["set-password", "mixed", "--smtp"]),
        &format!("{}\n", rig.password),
    );
    assert_exit(&stored, 0);
    assert!(!stdout(&stored).contains("Note:"), "the outgoing side uses its password: {}", stdout(&stored));

    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "mixed", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("signed in as ar@rig.test with PLAIN"), "{}", stdout(&outgoing));
    assert!(!stdout(&outgoing).contains("with XOAUTH2"), "no bearer token went to the relay: {}", stdout(&outgoing));
    let incoming = sandbox.run(Browser::Idle, &["test", "incoming", "mixed"]);
    assert_exit(&incoming, 0);
    assert!(stdout(&incoming).contains("with XOAUTH2"), "{}", stdout(&incoming));

    let list = sandbox.run(Browser::Idle, &["list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(
        (rows[0]["smtp_credential"].as_str(), rows[0]["imap_credential"].as_str()),
        (Some("basic"), Some("oauth2"))
    );
    let show = stdout(&sandbox.run(Browser::Idle, &["show", "mixed"]));
    assert!(show.contains("Custom OAuth2 provider in / Basic (password) out"), "{show}");
    assert!(show.contains("not used (signs in with Custom OAuth2 provider)"), "the incoming password: {show}");
}

/// Starts `connect ID --device`, reads the code it prints, and has "another
/// device" approve or decline it (tests/rig/device-approve); returns the output.
fn connect_on_another_device(sandbox: &OAuthSandbox, id: &str, action: &str) -> Output {
    use std::io::{BufRead, BufReader};
    let mut child = sandbox
        .command(Browser::Idle, &["connect", id, "--device"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let (mut uri, mut code) = (None, None);
    while uri.is_none() || code.is_none() {
        let line = lines.next().expect("the code is printed").unwrap();
        if let Some(rest) = line.strip_prefix("On any device, open ") {
            uri = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("and enter the code ") {
            code = Some(rest.trim().to_owned());
        }
        printed.push(line);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rig/device-approve");
    let approve = Command::new(script)
        .args([uri.unwrap().as_str(), code.unwrap().as_str(), action])
        .env("RIG_CA_FILE", &rig().ca_file)
        .output()
        .unwrap();
    assert!(approve.status.success(), "device-approve: {}", String::from_utf8_lossy(&approve.stderr));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut output = child.wait_with_output().unwrap();
    output.stdout = [printed, rest].concat().join("\n").into_bytes();
    output
}

#[test]
fn connect_on_another_device_with_a_code_then_test_incoming() {
    let sandbox = OAuthSandbox::new(oauth_setting(rig(), "device", "ar"));
    let output = connect_on_another_device(&sandbox, "device", "approve");
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("minutes; Ctrl+C stops waiting"), "{text}");
    assert!(text.contains("Connected as ar@rig.test"), "{text}");
    let tokens = TokenSet::load(&sandbox.secrets(), "device").unwrap().expect("tokens stored");
    assert!(tokens.refresh_token.is_some(), "a refresh token for the automation");
    assert!(!text.contains(tokens.access_token.expose()));
    assert_exit(&sandbox.run(Browser::Idle, &["test", "incoming", "device"]), 0);
}

#[test]
fn a_code_declined_on_the_other_device_says_so() {
    let sandbox = OAuthSandbox::new(oauth_setting(rig(), "device-no", "ar"));
    let output = connect_on_another_device(&sandbox, "device-no", "decline");
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("the sign-in was declined on the other device"), "{}", stderr(&output));
    assert!(TokenSet::load(&sandbox.secrets(), "device-no").unwrap().is_none());
}

/// RFC 8628: a server that says `slow_down` gets its polls 5 s further apart. The
/// rig's server never says it, so a proxy in front of it does, on the first poll
/// (tests/rig/slow-down-proxy, which also hands out a 1 s interval).
#[test]
fn polling_too_fast_is_slowed_down_as_the_server_asks() {
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig(), "device-slow", "ar"));
    let (mut proxy, polls) = slow_down_proxy(&mut sandbox, 1);
    let output = connect_on_another_device(&sandbox, "device-slow", "approve");
    let _ = proxy.kill();
    let _ = proxy.wait();
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("Connected as ar@rig.test"), "{}", stdout(&output));
    let times: Vec<f64> = std::fs::read_to_string(&polls).unwrap().lines().map(|line| line.parse().unwrap()).collect();
    assert!(times.len() >= 2, "polled again after slow_down: {times:?}");
    let gap = times[1] - times[0];
    assert!(gap >= 5.5, "the 1 s interval plus 5 s after slow_down, not {gap:.1} s");
}

/// A device endpoint asking for an interval near u64::MAX (the oauth2 crate adds 5 s
/// on slow_down, unchecked) is refused before the first poll, in words.
#[test]
fn a_huge_polling_interval_is_refused_before_any_poll() {
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig(), "device-huge", "ar"));
    let (mut proxy, polls) = slow_down_proxy(&mut sandbox, u64::MAX);
    let output = sandbox.run(Browser::Idle, &["connect", "device-huge", "--device"]);
    let _ = proxy.kill();
    let _ = proxy.wait();
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("asks to wait 18446744073709551615 s between checks for the sign-in"),
        "{}",
        stderr(&output)
    );
    assert!(!polls.exists(), "not polled once");
}

/// tests/rig/slow-down-proxy in front of the rig's authorization server, handing out
/// `interval`; the sandbox's sign-in app pointed at it. The proxy and its poll log.
fn slow_down_proxy(sandbox: &mut OAuthSandbox, interval: u64) -> (std::process::Child, PathBuf) {
    use std::io::{BufRead, BufReader};
    let rig = rig();
    let certs = rig.ca_file.parent().unwrap();
    let polls = sandbox.dir.path().join("polls.log");
    let mut proxy = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rig/slow-down-proxy"))
        .arg(format!("https://127.0.0.1:{}", rig.oauth_port))
        .args([certs.join("server.pem"), certs.join("server.key"), rig.ca_file.clone(), polls.clone()])
        .arg(interval.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(proxy.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let proxied = format!("https://127.0.0.1:{}", port.trim());
    sandbox.config.oauth_providers[0].token_url = format!("{proxied}/token");
    sandbox.config.oauth_providers[0].device_authorization_url = Some(format!("{proxied}/device/auth"));
    sandbox.write_config();
    (proxy, polls)
}

#[test]
fn a_provider_without_device_sign_in_says_so_before_any_request() {
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig(), "device-none", "ar"));
    sandbox.config.oauth_providers[0].device_authorization_url = None;
    sandbox.write_config();
    let output = sandbox.run(Browser::Idle, &["connect", "device-none", "--device"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("offers no sign-in on another device"), "{}", stderr(&output));
}

/// App-only access (client credentials) against the rig: the app's service
/// principal was granted the mailbox ar@rig.test only.
fn app_only_sandbox(id: &str, user: &str) -> OAuthSandbox {
    let rig = rig();
    let mut setting = oauth_setting(rig, id, user);
    setting.oauth_provider = Some("rigapp".to_owned());
    setting.oauth_flow = mailsettings::model::OAuthFlow::App;
    let mut sandbox = OAuthSandbox::new(setting);
    let mut app = provider_entry(rig, "rigapp");
    app.client_id = "mailsettings-app".to_owned();
    app.app_scopes = vec!["mail".to_owned()];
    sandbox.config.oauth_providers.push(app);
    sandbox.write_config();
    sandbox
}

fn store_app_secret(sandbox: &OAuthSandbox, secret: &str) {
    let set = sandbox.command(
        Browser::Idle,
        &["oauth-app", "set", "rigapp", "--client-id", "mailsettings-app", "--client-secret-stdin"],
    );
    assert_exit(&run_command(set, &format!("{secret}\n")), 0);
}

#[test]
fn app_only_access_opens_and_sends_from_the_granted_mailbox_with_no_persons_token() {
    let sandbox = app_only_sandbox("app-only", "ar");
    store_app_secret(&sandbox, crate::rig::APP_ONLY_SECRET);
    let check = sandbox.run(Browser::Idle, &["connect", "app-only"]);
    assert_exit(&check, 0);
    assert!(stdout(&check).contains("App access works: the app opened ar@rig.test"), "{}", stdout(&check));
    assert!(stdout(&check).contains("with XOAUTH2"), "{}", stdout(&check));
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "app-only", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "app-only"]));
    assert!(status.starts_with("App-only access (client credentials)"), "{status}");
    // The admin notes when the secret expires; token-status counts the days.
    let bad = sandbox.run(
        Browser::Idle,
        &["oauth-app", "set", "rigapp", "--client-id", "mailsettings-app", "--client-secret-expires", "soon"],
    );
    assert_exit(&bad, 1);
    assert!(stderr(&bad).contains("is not a date like 2027-06-30"), "{}", stderr(&bad));
    let set =
        ["oauth-app", "set", "rigapp", "--client-id", "mailsettings-app", "--client-secret-expires", "2099-01-01"];
    assert_exit(&sandbox.run(Browser::Idle, &set), 0);
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "app-only"]));
    assert!(status.contains("The app's client secret expires on 2099-01-01 (in "), "{status}");
    assert!(TokenSet::load(&sandbox.secrets(), "app-only").unwrap().is_none(), "no person's tokens are kept");
    let token = stdout(&sandbox.run(Browser::Idle, &["token", "app-only"]));
    assert!(is_active(token.trim()), "the helper hands out the app's token too");
    // The client secret is in the secret store only.
    let export = sandbox.dir.path().join("export.toml");
    assert_exit(&sandbox.run(Browser::Idle, &["export", export.to_str().unwrap()]), 0);
    for (path, text) in all_files_text(sandbox.dir.path()) {
        if !path.ends_with("secrets.json") {
            assert!(!text.contains(crate::rig::APP_ONLY_SECRET), "the client secret in {}", path.display());
        }
    }
}

#[test]
fn app_only_access_to_a_mailbox_not_granted_or_with_a_wrong_secret_is_diagnosed() {
    let other = app_only_sandbox("app-other", "old");
    store_app_secret(&other, crate::rig::APP_ONLY_SECRET);
    let refused = other.run(Browser::Idle, &["connect", "app-other"]);
    assert_exit(&refused, 1);
    assert!(stdout(&refused).contains("FAILED"), "the mailbox refuses the app's token: {}", stdout(&refused));
    assert!(stdout(&refused).contains("the app has not been granted this mailbox"), "{}", stdout(&refused));
    assert!(stdout(&refused).contains("Add-MailboxPermission -Identity old@rig.test"), "{}", stdout(&refused));

    let wrong = app_only_sandbox("app-wrong", "ar");
    store_app_secret(&wrong, "not-the-secret");
    let output = wrong.run(Browser::Idle, &["connect", "app-wrong"]);
    assert_exit(&output, 1);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
}

/// App-only access with a certificate (a signed client assertion) instead of a
/// secret: the rig's app client `mailsettings-app-cert` knows only its public key.
#[test]
fn app_only_access_with_a_certificate_signs_in_without_a_secret() {
    let rig = rig();
    let sandbox = app_only_sandbox("app-cert", "ar");
    let dir = sandbox.dir.path();
    // The admin's files: copies of the rig's certificate and key (the key file is deleted afterwards).
    let (certificate, key) = (dir.join("app-cert.pem"), dir.join("app-cert.key"));
    std::fs::copy(&rig.app_certificate, &certificate).unwrap();
    std::fs::copy(&rig.app_key, &key).unwrap();
    let set = |certificate: &Path, key: &Path| {
        let args = ["oauth-app", "set", "rigapp", "--client-id", "mailsettings-app-cert", "--certificate"];
        let mut command = sandbox.command(Browser::Idle, &args);
        command.arg(certificate).arg("--private-key").arg(key);
        run_command(command, "")
    };
    // A key that is not the certificate's is refused before anything is stored.
    let stray = dir.join("stray.key");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
        .arg(&stray)
        .output()
        .unwrap();
    assert!(made.status.success());
    let refused = set(&certificate, &stray);
    assert_exit(&refused, 1);
    assert!(stderr(&refused).contains("does not belong to the certificate"), "{}", stderr(&refused));
    let saved = set(&certificate, &key);
    assert_exit(&saved, 0);
    assert!(stdout(&saved).contains("the key file can be deleted now"), "{}", stdout(&saved));
    let key_text = std::fs::read_to_string(&key).unwrap();
    std::fs::remove_file(&key).unwrap();

    let check = sandbox.run(Browser::Idle, &["connect", "app-cert"]);
    assert_exit(&check, 0);
    assert!(stdout(&check).contains("App access works: the app opened ar@rig.test"), "{}", stdout(&check));
    let outgoing = sandbox.run(Browser::Idle, &["test", "outgoing", "app-cert", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    let shown = stdout(&sandbox.run(Browser::Idle, &["oauth-app", "show"]));
    assert!(shown.contains("certificate ") && shown.contains(", valid until "), "{shown}");
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "app-cert"]));
    assert!(status.contains("The app's certificate expires on "), "its last day is counted down: {status}");
    // The private key is in the secret store only.
    let key_body: String = key_text.lines().filter(|l| !l.starts_with("-----")).collect();
    let export = dir.join("export.toml");
    assert_exit(&sandbox.run(Browser::Idle, &["export", export.to_str().unwrap()]), 0);
    for (path, text) in all_files_text(dir) {
        if !path.ends_with("secrets.json") && !path.ends_with("stray.key") {
            let flat: String = text.lines().collect();
            assert!(!flat.contains(&key_body[..64]), "the private key in {}", path.display());
        }
    }
    // A certificate the app registration does not know is refused by the authorization server.
    let (unknown, unknown_key) = (dir.join("unknown.pem"), dir.join("unknown.key"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=not registered"])
        .arg("-keyout")
        .arg(&unknown_key)
        .arg("-out")
        .arg(&unknown)
        .output()
        .unwrap();
    assert!(made.status.success());
    assert_exit(&set(&unknown, &unknown_key), 0);
    let output = sandbox.run(Browser::Idle, &["connect", "app-cert"]);
    assert_exit(&output, 1);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("invalid_client"), "{text}");
}

#[test]
fn a_device_code_nobody_enters_expires_with_a_clear_message() {
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig(), "device-late", "ar"));
    sandbox.config.oauth_providers[0].client_id = "mailsettings-device-short".to_owned();
    sandbox.write_config();
    let started = Instant::now();
    let output = sandbox.run(Browser::Idle, &["connect", "device-late", "--device"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).contains("and enter the code"), "{}", stdout(&output));
    assert!(stderr(&output).contains("the code expired before anyone signed in with it"), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(30), "ended at the code's expiry: {:?}", started.elapsed());
}

/// What the plain-HTTP front of the rig's token endpoint does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Front {
    /// Passes it to the rig's authorization server.
    Up,
    /// Answers 503 with `Retry-After: 1` this many more times, then passes requests on.
    Busy(u32),
}

/// A loopback HTTP front for the rig's token endpoint, as a provider's edge: the
/// test stops it (connections refused, as a server that went away) and starts it
/// again on the same port, or makes it answer 503 with Retry-After first.
struct TokenFront {
    port: u16,
    mode: std::sync::Arc<std::sync::Mutex<Front>>,
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl TokenFront {
    fn start() -> Self {
        let mut front = Self { port: 0, mode: std::sync::Arc::new(std::sync::Mutex::new(Front::Up)), stop: None };
        front.listen(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        front
    }

    fn listen(&mut self, listener: std::net::TcpListener) {
        use std::sync::atomic::{AtomicBool, Ordering};
        self.port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        self.stop = Some(stop.clone());
        let mode = self.mode.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return; // the listener goes with the thread: connections are refused
                }
                let Ok(stream) = stream else { continue };
                let mode = mode.clone();
                std::thread::spawn(move || serve_token_request(stream, &mode));
            }
        });
    }

    /// Goes away: the port refuses connections.
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Comes back on the same port.
    fn restart(&mut self) {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.listen(listener);
    }

    fn set(&self, mode: Front) {
        *self.mode.lock().unwrap() = mode;
    }
}

fn serve_token_request(mut stream: std::net::TcpStream, mode: &std::sync::Mutex<Front>) {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let busy = {
        let mut mode = mode.lock().unwrap();
        match *mode {
            Front::Busy(left) if left > 0 => {
                *mode = Front::Busy(left - 1);
                true
            }
            _ => false,
        }
    };
    let (status, content_type, answer) = if busy {
        let json =
            br#"{"error":"temporarily_unavailable","error_description":"The service is busy. Try again later."}"#;
        (503, "application/json".to_owned(), json.to_vec())
    } else {
        let rig = rig();
        let tls = mailsettings::tls::client_config(std::slice::from_ref(&rig.ca_file)).unwrap();
        let agent = ureq::AgentBuilder::new().tls_config(tls).build();
        let mut call = agent.post(&format!("https://127.0.0.1:{}/token", rig.oauth_port));
        for line in head.iter().skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim();
                if ["content-type", "authorization", "accept"].contains(&name.to_ascii_lowercase().as_str()) {
                    call = call.set(name, value.trim());
                }
            }
        }
        let (Ok(response) | Err(ureq::Error::Status(_, response))) = call.send_bytes(&body) else { return };
        let status = response.status();
        let content_type = response.header("content-type").unwrap_or("application/json").to_owned();
        let mut answer = Vec::new();
        response.into_reader().read_to_end(&mut answer).unwrap();
        (status, content_type, answer)
    };
    let retry = if busy { "Retry-After: 1\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n{retry}Content-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&answer);
}

/// A provider that goes away during a refresh costs no reconnect: the tokens are
/// kept, `token` exits 75 (try again later) and the setting stays Connected; a 503
/// with Retry-After is waited out and tried again; once the server is back the
/// refresh works and the mailbox opens — without anyone signing in again.
#[test]
fn an_authorization_server_that_goes_away_and_comes_back_costs_no_reconnect() {
    let rig = rig();
    let mut sandbox = OAuthSandbox::new(oauth_setting(rig, "away", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "away"]), 0);
    let mut front = TokenFront::start();
    sandbox.config.oauth_providers[0].token_url = format!("http://127.0.0.1:{}/token", front.port);
    sandbox.write_config();
    let secrets = sandbox.secrets();
    let expire_soon = || {
        let mut tokens = TokenSet::load(&secrets, "away").unwrap().unwrap();
        tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(10));
        tokens.save(&secrets, "away").unwrap();
    };

    expire_soon();
    front.stop();
    let away = sandbox.run(Browser::Idle, &["token", "away"]);
    assert_exit(&away, 75);
    assert!(stderr(&away).contains("could not be reached"), "{}", stderr(&away));
    let kept = TokenSet::load(&secrets, "away").unwrap().expect("the tokens are kept");
    assert!(kept.needs_reconnect.is_none(), "no reconnect for a server that went away: {:?}", kept.needs_reconnect);
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "away"]));
    assert!(status.contains("Connected"), "{status}");
    let test = sandbox.run(Browser::Idle, &["test", "incoming", "away"]);
    assert!(stdout(&test).contains("token-unavailable"), "the test says the sign-in is kept: {}", stdout(&test));

    // Back, but busy once: the 503's Retry-After is waited out, then the refresh goes through.
    front.restart();
    front.set(Front::Busy(1));
    let started = std::time::Instant::now();
    let back = sandbox.run(Browser::Idle, &["token", "away"]);
    assert_exit(&back, 0);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "the Retry-After was honoured");
    assert_eq!(*front.mode.lock().unwrap(), Front::Busy(0), "the busy answer was met, then retried");
    let refreshed = TokenSet::load(&secrets, "away").unwrap().unwrap();
    assert_ne!(refreshed.refresh_token.as_ref().unwrap().expose(), kept.refresh_token.as_ref().unwrap().expose());
    assert_exit(&sandbox.run(Browser::Idle, &["test", "incoming", "away"]), 0);
}

/// A tenant where users may not consent to mail permissions (AADSTS65001): Connect
/// ends with the request to forward — the tenant's admin-consent link for the app's
/// client id and the mailbox's tenant — and once the administrator has approved,
/// Connect works with nothing changed.
#[test]
fn a_tenant_that_needs_admin_approval_gets_the_link_to_forward() {
    let rig = rig();
    let mut setting = rig.basic_setting("consent", "ar");
    setting.credential = CredentialKind::Microsoft365;
    setting.imap.user_name = "consent@rig.test".to_owned();
    let mut config = rig.config_with(vec![setting]);
    let mut entry = provider_entry(rig, "microsoft365");
    entry.client_id = "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".to_owned();
    let microsoft = mailsettings::model::providers::MICROSOFT_365.sign_in.unwrap();
    entry.scopes = microsoft.protocol_scopes().into_iter().map(str::to_owned).collect();
    entry.admin_consent_url =
        Some(format!("https://127.0.0.1:{}/adminconsent?client_id={{client_id}}&tenant={{tenant}}", rig.oauth_port));
    config.oauth_providers.push(entry);
    let sandbox = OAuthSandbox { dir: tempfile::tempdir().unwrap(), config };
    sandbox.write_config();
    // A tenant nobody has approved the app in yet, also on a rig an earlier run approved it on.
    let withdraw = format!(
        "https://127.0.0.1:{}/rig/withdraw-consent?client_id=0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab",
        rig.oauth_port
    );
    let open_as_admin = |link: &str| {
        let page = Command::new("curl").args(["-sS", "--cacert"]).arg(&rig.ca_file).arg(link).output().unwrap();
        String::from_utf8_lossy(&page.stdout).into_owned()
    };
    assert!(open_as_admin(&withdraw).contains("Approval withdrawn"));

    let refused = sandbox.run(Browser::SignIn, &["connect", "consent"]);
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(err.contains("AADSTS65001") && err.contains("Send your Microsoft 365 administrator"), "{err}");
    assert!(err.contains("Send this to your Microsoft 365 administrator:"), "{err}");
    let link = format!(
        "https://127.0.0.1:{}/adminconsent?client_id=0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab&tenant=rig.test",
        rig.oauth_port
    );
    assert!(err.contains(&link), "the link names the app and the mailbox's tenant: {err}");
    assert!(TokenSet::load(&sandbox.secrets(), "consent").unwrap().is_none());

    // The administrator opens the link and approves.
    assert!(open_as_admin(&link).contains("Permissions granted"));
    let connected = sandbox.run(Browser::SignIn, &["connect", "consent"]);
    assert_exit(&connected, 0);
    assert!(stdout(&connected).contains("Connected as consent@rig.test"), "{}", stdout(&connected));
}

/// `readiness ID` asks the servers, question by question: a connected mailbox signs in
/// to send and to receive; a sign-in that was not granted SMTP.Send says so and hands
/// on the request for the tenant's administrator.
#[test]
fn readiness_asks_the_servers_and_names_the_step_for_each_no() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "ready", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "ready"]), 0);
    let ready = sandbox.run(Browser::Idle, &["readiness", "ready"]);
    assert_exit(&ready, 0);
    let text = stdout(&ready);
    assert!(text.contains("Readiness") && text.contains("OAuth sign-in for sending (SMTP AUTH) works"), "{text}");
    assert!(text.contains("IMAP sign-in works"), "{text}");

    // Microsoft 365 whose sign-in was granted IMAP but not SMTP.Send.
    let mut setting = rig.basic_setting("half", "ar");
    setting.credential = CredentialKind::Microsoft365;
    let mut config = rig.config_with(vec![setting]);
    let mut entry = provider_entry(rig, "microsoft365");
    entry.client_id = "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".to_owned();
    entry.scopes = ["openid", "email", "offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All"]
        .map(str::to_owned)
        .to_vec();
    config.oauth_providers.push(entry);
    let half = OAuthSandbox { dir: tempfile::tempdir().unwrap(), config };
    half.write_config();
    assert_exit(&half.run(Browser::SignIn, &["connect", "half"]), 0);
    let answer = half.run(Browser::Idle, &["readiness", "half", "--json"]);
    assert_exit(&answer, 1);
    let report: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap();
    let stage = |name: &str| report["stages"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned();
    let permissions = stage("permissions").expect("the permissions question");
    assert_eq!(permissions["outcome"], "failed");
    assert!(permissions["detail"].as_str().unwrap().contains("SMTP.Send"), "{permissions}");
    let facts = report["facts"].to_string();
    assert!(facts.contains("To do (mail administrator)") && facts.contains("/adminconsent?client_id="), "{facts}");
}

/// Google's token lifetimes: the sign-in's refresh token is dated; while the Google app
/// may be in Testing, token-status shows the 7-day clock; a refresh token Google no
/// longer takes after those 7 days is explained by that cause, with the fix — not a
/// bare invalid_grant. Once the app is said to be in production, no clock.
#[test]
fn a_google_testing_apps_seven_days_are_counted_and_explained() {
    let rig = rig();
    let mut setting = rig.basic_setting("google", "gmail");
    setting.credential = CredentialKind::Gmail;
    let mut config = rig.config_with(vec![setting]);
    let mut entry = provider_entry(rig, "gmail");
    entry.client_id = "mailsettings-confidential".to_owned();
    entry.scopes = vec!["openid".into(), "email".into(), "offline_access".into(), "https://mail.google.com/".into()];
    config.oauth_providers.push(entry);
    let sandbox = OAuthSandbox { dir: tempfile::tempdir().unwrap(), config };
    sandbox.write_config();
    let set = ["oauth-app", "set", "gmail", "--client-id", "mailsettings-confidential", "--client-secret-stdin"];
    assert_exit(&run_command(sandbox.command(Browser::Idle, &set), "rig-desktop-client-secret\n"), 0);
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "google"]), 0);
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "google"]));
    assert!(status.contains("refresh token issued"), "{status}");
    assert!(
        status.contains("If your Google app is in Testing, this sign-in ends on") && status.contains("(in 7 days)"),
        "{status}"
    );

    // Eight days on, Google (the rig) no longer takes the refresh token.
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, "google").unwrap().unwrap();
    let refresh = tokens.refresh_token.clone().unwrap();
    let revoked = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&rig.ca_file)
        .args(["-u", "mailsettings-confidential:rig-desktop-client-secret", "-d"])
        .arg(format!("token={}", refresh.expose()))
        .arg(format!("https://127.0.0.1:{}/token/revocation", rig.oauth_port))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&revoked.stdout), "200");
    let now = time::OffsetDateTime::now_utc();
    tokens.refresh_issued_at = Some(now - time::Duration::days(8));
    tokens.expires_at = Some(now + time::Duration::seconds(5));
    tokens.save(&secrets, "google").unwrap();
    let ended = sandbox.run(Browser::Idle, &["token", "google"]);
    assert_exit(&ended, 1);
    let err = stderr(&ended);
    assert!(err.contains("the Google app is in Testing, whose refresh tokens end 7 days after sign-in"), "{err}");
    assert!(err.contains("publish the app"), "the fix comes with it: {err}");

    // Published: no clock.
    let publish =
        ["oauth-app", "set", "gmail", "--client-id", "mailsettings-confidential", "--publishing-status", "production"];
    assert_exit(&sandbox.run(Browser::Idle, &publish), 0);
    let status = stdout(&sandbox.run(Browser::Idle, &["token-status", "google"]));
    assert!(!status.contains("If your Google app is in Testing"), "{status}");
}

/// `check --all`: every Active setting checked at once, worst first, one line each;
/// exit 1 when something failed, 75 when only temporary failures; the outcomes kept
/// in the check history beside the audit log.
#[test]
fn check_all_checks_every_active_setting_worst_first() {
    let rig = rig();
    let good = rig.basic_setting("all-good", "ar");
    let mut wrong = rig.basic_setting("all-wrong", "ar");
    wrong.description = "Rig wrong password".to_owned();
    let mut unconnected = oauth_setting(rig, "all-unconnected", "ar");
    unconnected.description = "Rig not connected".to_owned();
    let mut off = rig.basic_setting("all-off", "ar");
    off.active = false;
    let mut sandbox = OAuthSandbox::new(good);
    sandbox.config.mail_settings.extend([wrong, unconnected, off]);
    sandbox.write_config();
    let secrets = sandbox.secrets();
    for (id, password) in [("all-good", rig.password.as_str()), ("all-wrong", "not-the-password")] {
        for kind in [SecretKind::SmtpPassword, SecretKind::ImapPassword] {
            secrets.set(id, kind, &mailsettings::Secret::new(password)).unwrap();
        }
    }
    let checked = sandbox.run(Browser::Idle, &["check", "--all"]);
    assert_exit(&checked, 1);
    let lines: Vec<String> = stdout(&checked).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "Active settings only: {lines:?}");
    assert!(lines[0].starts_with("FAILING") && lines[1].starts_with("FAILING"), "worst first: {lines:?}");
    assert!(lines[2].starts_with("OK") && lines[2].contains("Rig ar"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("Rig not connected") && l.contains("not connected")), "{lines:?}");
    let history = std::fs::read_to_string(sandbox.dir.path().join("checks.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    assert!(history.contains("\"outcome\":\"failing\"") && history.contains("\"outcome\":\"ok\""), "{history}");

    // Only a temporary failure (the provider out of reach while the token must refresh): 75.
    let mut temporary = OAuthSandbox::new(oauth_setting(rig, "all-away", "ar"));
    assert_exit(&temporary.run(Browser::SignIn, &["connect", "all-away"]), 0);
    let mut tokens = TokenSet::load(&temporary.secrets(), "all-away").unwrap().unwrap();
    tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(5));
    tokens.save(&temporary.secrets(), "all-away").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    temporary.config.oauth_providers[0].token_url =
        format!("http://127.0.0.1:{}/token", closed.local_addr().unwrap().port());
    drop(closed);
    temporary.write_config();
    let away = temporary.run(Browser::Idle, &["check", "--all", "--json"]);
    assert_exit(&away, 75);
    let results: serde_json::Value = serde_json::from_slice(&away.stdout).unwrap();
    assert_eq!(results[0]["health"], "temporary", "{results}");
}

/// A local HTTP server that records the bodies POSTed to it (a webhook's receiver).
pub(crate) fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // The path is the webhook's key, as in Slack's and Teams' addresses.
    let url = format!("http://127.0.0.1:{}/services/T0001/B0001/WEBHOOKKEY", listener.local_addr().unwrap().port());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let received = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                received.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = (&stream).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (url, bodies)
}

/// Alerts on a change, never per run: a mailbox whose password changes between two
/// checks produces exactly one alert on each channel (a webhook received by a local
/// HTTP server, an email arriving in a rig mailbox through another working setting, a
/// command), a second failing check none, and the fix one recovery alert.
#[test]
fn a_mailbox_that_stops_working_is_alerted_once_on_each_channel_and_once_when_fixed() {
    let rig = rig();
    let mut watched = rig.basic_setting("alert-watched", "ar");
    watched.description = "Watched mailbox".to_owned();
    let sender = rig.basic_setting("alert-sender", "sendto");
    let mut sandbox = OAuthSandbox::new(watched);
    sandbox.config.mail_settings.push(sender);
    sandbox.write_config();
    let secrets = sandbox.secrets();
    let set_password = |id: &str, password: &str| {
        for kind in [SecretKind::SmtpPassword, SecretKind::ImapPassword] {
            secrets.set(id, kind, &mailsettings::Secret::new(password)).unwrap();
        }
    };
    set_password("alert-watched", &rig.password);
    set_password("alert-sender", &rig.password);
    let (url, bodies) = webhook_receiver();
    let commands = sandbox.dir.path().join("alerts.txt");
    let command = format!(
        "printf '%s|%s\\n' \"$MAILSETTINGS_ALERT_STATE\" \"$MAILSETTINGS_ALERT_TEXT\" >> '{}'",
        commands.display()
    );
    let address = rig.address("alerts-inbox");
    let set = ["alerts", "set", "--webhook", &url, "--email", &address, "--via", "alert-sender", "--command", &command];
    let shown = sandbox.run(Browser::Idle, &set);
    assert_exit(&shown, 0);
    // The webhook's key (its path) is in the credential store only: not in the config,
    // not in `alerts show`, not in an export.
    assert!(stdout(&shown).contains("webhook http://127.0.0.1/…"), "{}", stdout(&shown));
    let exported = sandbox.dir.path().join("exported.toml");
    assert_exit(&sandbox.run(Browser::Idle, &["export", exported.to_str().unwrap()]), 0);
    let exported = std::fs::read_to_string(&exported).unwrap();
    assert!(!exported.contains("[alerts]") && !exported.contains("[network]"), "{exported}");
    for text in [stdout(&shown), std::fs::read_to_string(sandbox.config_path()).unwrap()] {
        assert!(!text.contains("WEBHOOKKEY"), "{text}");
    }
    let test = sandbox.run(Browser::Idle, &["alerts", "test"]);
    assert_exit(&test, 0);
    assert!(stdout(&test).contains("webhook: sent") && stdout(&test).contains("email: sent"), "{}", stdout(&test));
    bodies.lock().unwrap().clear();
    std::fs::remove_file(&commands).unwrap();
    // The test alert's email arrives (delivery is queued), then the inbox is emptied for the count below.
    let deadline = Instant::now() + Duration::from_secs(20);
    while rig.count_with_header("alerts-inbox", "INBOX", "X-Mailsettings-Alert", "test") < 1
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    rig.empty("alerts-inbox", "INBOX");

    let check = || sandbox.run(Browser::Idle, &["check", "--all", "--alert"]);
    assert_exit(&check(), 0);
    assert!(bodies.lock().unwrap().is_empty(), "all well: no alert");
    set_password("alert-watched", "the-password-was-changed");
    let failing = check();
    assert_exit(&failing, 1);
    assert!(
        stderr(&failing).contains("Alert: Mail Settings: \"Watched mailbox\" stopped working"),
        "{}",
        stderr(&failing)
    );
    assert_exit(&check(), 1);
    set_password("alert-watched", &rig.password);
    assert_exit(&check(), 0);

    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one alert per change: {bodies:?}");
    assert!(bodies[0].contains("stopped working") && bodies[1].contains("works again"), "{bodies:?}");
    let ran = std::fs::read_to_string(&commands).unwrap();
    assert_eq!(ran.lines().collect::<Vec<_>>().len(), 2, "{ran}");
    assert!(ran.starts_with("failing|") && ran.lines().nth(1).unwrap().starts_with("ok|"), "{ran}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while rig.count_with_header("alerts-inbox", "INBOX", "X-Mailsettings-Alert", "alert-watched") < 2
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        rig.count_with_header("alerts-inbox", "INBOX", "X-Mailsettings-Alert", "alert-watched"),
        2,
        "two alert emails"
    );
    for body in &bodies {
        assert!(!body.contains(&rig.password) && !body.contains("the-password-was-changed"), "no secret in an alert");
    }
}

/// `schedule install|status|remove` writes a systemd user timer into the user's systemd
/// folder (under XDG_CONFIG_HOME), which systemd-analyze accepts where systemd is present.
#[test]
fn a_schedule_is_installed_as_a_user_timer_and_removed_again() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(rig.basic_setting("scheduled", "ar"));
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut command = sandbox.command(Browser::Idle, args);
        // The temporary folder is the test's own: wherever the checkout is, the program is not in it.
        command.env("XDG_CONFIG_HOME", home.path()).env("TMPDIR", home.path()).env_remove("DBUS_SESSION_BUS_ADDRESS");
        run_command(command, "")
    };
    let installed = run(&["schedule", "install", "--every", "30m"]);
    assert_exit(&installed, 0);
    let folder = home.path().join("systemd/user");
    let service = std::fs::read_to_string(folder.join("mailsettings-check.service")).unwrap();
    assert!(
        service.contains("check --all --alert") && service.contains(&sandbox.config_path().display().to_string()),
        "{service}"
    );
    let timer = std::fs::read_to_string(folder.join("mailsettings-check.timer")).unwrap();
    assert!(timer.contains("OnUnitActiveSec=1800s"), "{timer}");
    if std::path::Path::new("/usr/bin/systemd-analyze").exists() {
        let verified = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(folder.join("mailsettings-check.service"))
            .arg(folder.join("mailsettings-check.timer"))
            .output()
            .unwrap();
        assert!(verified.status.success(), "systemd-analyze verify: {}", String::from_utf8_lossy(&verified.stderr));
    }
    let status = stdout(&run(&["schedule", "status"]));
    assert!(status.contains("Scheduled: every 30 min") && status.contains("Last check:"), "{status}");
    let removed = run(&["schedule", "remove"]);
    assert_exit(&removed, 0);
    assert!(!folder.join("mailsettings-check.timer").exists());
    assert!(stdout(&run(&["schedule", "status"])).contains("Not scheduled"));
}

/// A real HTTP proxy (tinyproxy, from Debian) on loopback, logging every CONNECT.
struct Tinyproxy {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    fn start() -> Self {
        Self::start_with("")
    }

    /// One that asks for a user name and password (HTTP Basic, 407 without them).
    fn start_with_sign_in(user: &str, password: &str) -> Self {
        Self::start_with(&format!("BasicAuth {user} {password}\n"))
    }

    fn start_with(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 20\nAllow 127.0.0.1\n{extra}",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .spawn()
            .expect("tinyproxy (scripts/install-test-deps)");
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, log, _dir: dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The CONNECTs it passed to `port`.
    fn connects_to(&self, port: u16) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains(&format!("CONNECT 127.0.0.1:{port} "))).count()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Behind a corporate proxy: sign-in and token requests go through it, from the
/// environment (`https_proxy`) or from the config (`network set --proxy`), hosts in
/// `no_proxy` go direct, and a proxy that is down is named as the proxy — the
/// sign-in kept (exit 75).
#[test]
fn sign_in_and_tokens_go_through_a_real_proxy() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "proxied", "ar"));
    let mut proxy = Tinyproxy::start();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = sandbox.command(Browser::SignIn, args);
        for name in ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        run_command(command, "")
    };
    let expire = || {
        let secrets = sandbox.secrets();
        let mut tokens = TokenSet::load(&secrets, "proxied").unwrap().unwrap();
        tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(5));
        tokens.save(&secrets, "proxied").unwrap();
    };
    let url = proxy.url();
    assert_exit(&run(&["connect", "proxied"], &[("https_proxy", url.as_str())]), 0);
    let through_env = proxy.connects_to(rig.oauth_port);
    assert!(through_env >= 1, "the token request went through the proxy");

    // From the config, with no environment.
    assert_exit(&run(&["network", "set", "--proxy", &url], &[]), 0);
    expire();
    assert_exit(&run(&["token", "proxied"], &[]), 0);
    let through_config = proxy.connects_to(rig.oauth_port);
    assert!(through_config > through_env, "the refresh went through the config's proxy");

    // no_proxy: direct.
    assert_exit(&run(&["network", "set", "--no-proxy", "127.0.0.1"], &[]), 0);
    expire();
    assert_exit(&run(&["token", "proxied"], &[]), 0);
    assert_eq!(proxy.connects_to(rig.oauth_port), through_config, "no_proxy went direct");

    // The alert webhook goes through the proxy too (any https address the rig answers:
    // its 404 is the webhook's refusal, and its words carry no key).
    assert_exit(&run(&["network", "set", "--no-proxy", ""], &[]), 0);
    let hook = format!("https://127.0.0.1:{}/hooks/T0/B0/WEBHOOKKEY", rig.oauth_port);
    assert_exit(&run(&["alerts", "set", "--webhook", &hook], &[]), 0);
    let before = proxy.connects_to(rig.oauth_port);
    let told = run(&["alerts", "test"], &[]);
    assert_exit(&told, 1);
    assert!(stdout(&told).contains("webhook: the webhook https://127.0.0.1/… answered HTTP 404"), "{}", stdout(&told));
    assert!(!stdout(&told).contains("WEBHOOKKEY") && !stderr(&told).contains("WEBHOOKKEY"));
    assert_eq!(proxy.connects_to(rig.oauth_port), before + 1, "the webhook went through the proxy");
    assert_exit(&run(&["alerts", "set", "--clear"], &[]), 0);

    // The proxy goes down: named as the proxy, the sign-in kept.
    drop(std::mem::replace(&mut proxy, Tinyproxy::start()));
    expire();
    let down = run(&["token", "proxied"], &[]);
    assert_exit(&down, 75);
    let named = [format!("the proxy {url}/ failed"), format!("the proxy {url} failed")];
    assert!(named.iter().any(|n| stderr(&down).contains(n.as_str())), "{}", stderr(&down));
    assert!(TokenSet::load(&sandbox.secrets(), "proxied").unwrap().unwrap().needs_reconnect.is_none());
}

/// A proxy that asks for a password: the config names it with its user name, the password
/// goes to the OS credential store (read from stdin), never to the config file, the output
/// or the log; without it the proxy's refusal is named as the proxy's.
#[test]
fn a_proxy_that_asks_for_a_password_gets_it_from_the_credential_store() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "proxy-auth", "ar"));
    let proxy_password = "proxy-Pa55-canary-41d";
    let proxy = Tinyproxy::start_with_sign_in("arteam", proxy_password);
    let run = |args: &[&str], stdin: &str| {
        let mut command = sandbox.command(Browser::SignIn, args);
        for name in ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] {
            command.env_remove(name);
        }
        command.env("MAILSETTINGS_LOG", "trace");
        run_command(command, stdin)
    };
    let with_user = format!("http://arteam@127.0.0.1:{}", proxy.port);
    let refused = run(&["network", "set", "--proxy", &format!("http://arteam:{proxy_password}@127.0.0.1:1")], "");
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("--proxy-password-stdin"), "{}", stderr(&refused));
    let set = run(&["network", "set", "--proxy", &with_user], "");
    assert_exit(&set, 0);
    assert!(stdout(&set).contains("no password stored yet"), "{}", stdout(&set));
    let without = run(&["connect", "proxy-auth"], "");
    assert_ne!(without.status.code(), Some(0), "the proxy refuses without its password");
    let said = format!("{}{}", stdout(&without), stderr(&without));
    assert!(said.contains(&format!("the proxy http://127.0.0.1:{}", proxy.port)), "named as the proxy: {said}");

    let stored = run(&["network", "set", "--proxy-password-stdin"], &format!("{proxy_password}\n"));
    assert_exit(&stored, 0);
    assert!(stdout(&stored).contains("signing in as arteam with the password in the OS credential store"));
    let connect = run(&["connect", "proxy-auth"], "");
    assert_exit(&connect, 0);
    assert!(proxy.connects_to(rig.oauth_port) >= 1, "the token request went through the proxy");
    for output in [&refused, &set, &without, &stored, &connect] {
        assert!(!stdout(output).contains(proxy_password) && !stderr(output).contains(proxy_password));
    }
    for (path, text) in all_files_text(sandbox.dir.path()) {
        if !path.ends_with("secrets.json") {
            assert!(!text.contains(proxy_password), "the proxy's password in {}", path.display());
        }
    }
    let cleared = run(&["network", "set", "--clear"], "");
    assert_exit(&cleared, 0);
    let store = std::fs::read_to_string(sandbox.dir.path().join("secrets.json")).unwrap();
    assert!(!store.contains("proxy-password"), "--clear removes the stored password too");

    // The environment's proxy, as shells set it: no scheme, or a '#' in the password. The
    // client signs in with it; nothing the app prints or logs shows it.
    for (raw, password) in [
        (format!("arteam:{proxy_password}@127.0.0.1:1"), proxy_password.to_owned()),
        (format!("http://arteam:Win#{proxy_password}@127.0.0.1:1"), format!("Win#{proxy_password}")),
    ] {
        let through_env = |args: &[&str]| {
            let mut command = sandbox.command(Browser::SignIn, args);
            for name in ["HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] {
                command.env_remove(name);
            }
            command.env("https_proxy", &raw).env("MAILSETTINGS_LOG", "trace");
            run_command(command, "")
        };
        let show = through_env(&["network", "show"]);
        assert!(stdout(&show).contains("Proxy: http://127.0.0.1:1 (from the environment)"), "{}", stdout(&show));
        // The device sign-in's first request goes through the (closed) proxy: it fails at once.
        let down = through_env(&["connect", "proxy-auth", "--device"]);
        assert_ne!(down.status.code(), Some(0));
        for output in [&show, &down] {
            let said = format!("{}{}", stdout(output), stderr(output));
            assert!(!said.contains(&password) && !said.contains(proxy_password), "{said}");
        }
    }
}

/// A refresh under trace logging: neither the tokens it used nor the ones it got reach the
/// command's output, its log (stderr) or any file of the run but the secret store.
#[test]
fn a_refresh_logged_at_trace_level_leaves_no_token_anywhere() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "traced", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "traced"]), 0);
    let secrets = sandbox.secrets();
    let mut tokens = TokenSet::load(&secrets, "traced").unwrap().unwrap();
    let old_refresh = tokens.refresh_token.clone().unwrap().expose().to_owned();
    tokens.expires_at = Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(5));
    tokens.save(&secrets, "traced").unwrap();
    let mut command = sandbox.command(Browser::Idle, &["test", "incoming", "traced"]);
    command.env("MAILSETTINGS_LOG", "trace");
    let output = run_command(command, "");
    assert_exit(&output, 0);
    let refreshed = TokenSet::load(&secrets, "traced").unwrap().unwrap();
    let secrets_seen =
        [old_refresh, refreshed.access_token.expose().to_owned(), refreshed.refresh_token.unwrap().expose().to_owned()];
    assert_ne!(secrets_seen[0], secrets_seen[2], "the refresh happened (the token rotated)");
    for secret in &secrets_seen {
        assert!(
            !stdout(&output).contains(secret.as_str()) && !stderr(&output).contains(secret.as_str()),
            "a token in the output or log"
        );
        for (path, text) in all_files_text(sandbox.dir.path()) {
            if !path.ends_with("secrets.json") {
                assert!(!text.contains(secret.as_str()), "a token in {}", path.display());
            }
        }
    }
}
