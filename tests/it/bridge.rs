//! `mailsettings bridge` with real password-only clients (Python's smtplib and
//! imaplib) in front and the rig behind: sending and reading through an OAuth
//! mailbox with a local password, and a wrong local password refused before
//! anything goes upstream.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::oauth::{Browser, OAuthSandbox, oauth_setting};
use crate::rig::rig;
use crate::support::{assert_exit, stdout};

/// `bridge password ID`: the password it printed.
fn local_password(sandbox: &OAuthSandbox, id: &str) -> String {
    let output = sandbox.run(Browser::Idle, &["bridge", "password", id]);
    assert_exit(&output, 0);
    stdout(&output).lines().last().unwrap().trim().to_owned()
}

/// `bridge run` on free ports; returns the process and its SMTP and IMAP ports.
/// Plain text on loopback (`--no-local-tls`), as password-only programs without TLS speak.
fn start_bridge(sandbox: &OAuthSandbox, id: &str) -> (Child, u16, u16) {
    start_bridge_with(sandbox, id, &["--no-local-tls"]).0
}

/// [`start_bridge`] with more options; also returns the line it announced itself with.
fn start_bridge_with(sandbox: &OAuthSandbox, id: &str, options: &[&str]) -> ((Child, u16, u16), String) {
    let mut args = vec!["bridge", "run", "--smtp-port", "0", "--imap-port", "0"];
    args.extend_from_slice(options);
    args.push(id);
    let mut child =
        sandbox.command(Browser::Idle, &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = |after: &str| -> u16 {
        line.split(after).nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let (smtp, imap) = (port("SMTP on 127.0.0.1:"), port("IMAP on 127.0.0.1:"));
    ((child, smtp, imap), line)
}

/// Waits (10 s at most) for the message marked `run_id` in `user`'s inbox; `never` says what did not arrive.
fn wait_for_arrival(user: &str, run_id: &str, never: &str) {
    let started = Instant::now();
    while rig().count_with_header(user, "INBOX", "X-Helper-Run", run_id) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "{never}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn python(script: &str) -> std::process::Output {
    Command::new("/usr/bin/python3").args(["-c", script]).output().unwrap()
}

fn stop(mut bridge: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").args(["-TERM", &bridge.id().to_string()]).status();
    let started = Instant::now();
    loop {
        if let Some(status) = bridge.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the bridge did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_password_only_client_sends_and_reads_through_an_oauth_mailbox() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridged", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridged"]), 0);
    let password = local_password(&sandbox, "bridged");
    assert_eq!(password.len(), 64);
    let (bridge, smtp, imap) = start_bridge(&sandbox, "bridged");
    let run_id = format!("bridge-{}", std::process::id());
    let script = format!(
        r#"
import imaplib, smtplib
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
s.ehlo()
s.login("ar@rig.test", "{password}")
s.sendmail("ar@rig.test", ["admin@example.org"], "From: ar@rig.test\r\nTo: admin@example.org\r\nSubject: through the bridge\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n")
s.quit()
m = imaplib.IMAP4("127.0.0.1", {imap}, timeout=20)
m.login("ar@rig.test", "{password}")
typ, data = m.select("INBOX")
assert typ == "OK", (typ, data)
typ, data = m.search(None, "ALL")
assert typ == "OK", (typ, data)
m.logout()
print("passed")
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("passed"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    wait_for_arrival("catchall", &run_id, "the message sent through the bridge never arrived");
    // curl as the password-only program, sending and reading.
    let curl_run = format!("{run_id}-curl");
    let sent = curl_through_bridge(smtp, imap, &password, &curl_run, &[]);
    assert!(sent.contains("EXISTS"), "curl read the mailbox through the bridge: {sent}");
    wait_for_arrival("catchall", &curl_run, "the message curl sent through the bridge never arrived");
    assert!(stop(bridge).success(), "SIGTERM stops the bridge cleanly");
}

/// curl sends one message (user name and local password) through the bridge's SMTP
/// port, then examines INBOX through its IMAP port; returns what the IMAP side said.
fn curl_through_bridge(smtp: u16, imap: u16, password: &str, run_id: &str, tls: &[&str]) -> String {
    let message = format!(
        "From: ar@rig.test\r\nTo: admin@example.org\r\nSubject: curl through the bridge\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n"
    );
    let mut send = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(tls)
        .arg(format!("smtp://127.0.0.1:{smtp}"))
        .args(["--user", &format!("ar@rig.test:{password}")])
        .args(["--mail-from", "ar@rig.test", "--mail-rcpt", "admin@example.org", "--upload-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    send.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
    let sent = send.wait_with_output().unwrap();
    assert!(sent.status.success(), "curl smtp: {}", String::from_utf8_lossy(&sent.stderr));
    let read = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(tls)
        .arg(format!("imap://127.0.0.1:{imap}/INBOX"))
        .args(["--user", &format!("ar@rig.test:{password}")])
        .args(["-X", "EXAMINE INBOX"])
        .output()
        .unwrap();
    assert!(read.status.success(), "curl imap: {}", String::from_utf8_lossy(&read.stderr));
    stdout(&read)
}

/// Local TLS, the default: programs get STARTTLS with the bridge's own certificate
/// (verified by the client against the file it wrote, or pinned by its fingerprint or
/// public key as announced), and no sign-in is taken before it. A wrong pin — a program
/// talking to whatever else holds the port — fails before the password is sent.
#[test]
fn with_local_tls_programs_sign_in_only_after_starttls_and_verify_the_bridges_certificate() {
    let rig = rig();
    rig.empty("bridgetls", "INBOX");
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridge-tls", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-tls"]), 0);
    let password = local_password(&sandbox, "bridge-tls");
    let ((bridge, smtp, imap), announced) = start_bridge_with(&sandbox, "bridge-tls", &[]);
    let certificate = sandbox.dir.path().join("bridge-localhost.pem");
    assert!(announced.contains(&format!("the certificate is {}", certificate.display())), "{announced}");
    let pem = std::fs::read_to_string(&certificate).unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE") && !pem.contains("PRIVATE KEY"), "{pem}");
    let run_id = format!("bridge-tls-{}", std::process::id());
    let to = rig.address("bridgetls");
    let cafile = certificate.display();
    let script = format!(
        r#"
import base64, imaplib, smtplib, ssl
context = ssl.create_default_context(cafile="{cafile}")
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
s.ehlo()
assert s.has_extn("starttls") and not s.has_extn("auth"), s.esmtp_features
plain = base64.b64encode(b"\x00ar@rig.test\x00{password}").decode()
code, _ = s.docmd("AUTH", "PLAIN " + plain)
assert code == 530, ("a sign-in before STARTTLS", code)
s.starttls(context=context)
s.ehlo()
assert s.has_extn("auth"), s.esmtp_features
s.login("ar@rig.test", "{password}")
s.sendmail("ar@rig.test", ["{to}"], "From: ar@rig.test\r\nTo: {to}\r\nSubject: through local TLS\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n")
s.quit()
m = imaplib.IMAP4("127.0.0.1", {imap}, timeout=20)
assert "LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities, m.capabilities
try:
    m.login("ar@rig.test", "{password}")
    raise SystemExit("imap took a sign-in before STARTTLS")
except imaplib.IMAP4.error as e:
    assert "PRIVACYREQUIRED" in str(e), e
m.starttls(ssl_context=context)
m.login("ar@rig.test", "{password}")
typ, data = m.select("INBOX")
assert typ == "OK", (typ, data)
m.logout()
print("passed")
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("passed"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    wait_for_arrival("bridgetls", &run_id, "the message sent through local TLS never arrived");
    // curl, requiring TLS and verifying the bridge's certificate.
    let cacert = certificate.display().to_string();
    let examined =
        curl_through_bridge(smtp, imap, &password, &format!("{run_id}-curl"), &["--ssl-reqd", "--cacert", &cacert]);
    assert!(examined.contains("EXISTS"), "{examined}");
    // A client that asks for STARTTLS and then sends no TLS has its session closed (at
    // most a TLS alert, nothing read as SMTP); the bridge goes on serving.
    let junk = format!(
        r#"
import socket
s = socket.create_connection(("127.0.0.1", {smtp}), timeout=20)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO junk\r\n")
while not f.readline().startswith(b"250 "):
    pass
s.sendall(b"STARTTLS\r\n")
assert f.readline().startswith(b"220"), "STARTTLS accepted"
s.sendall(b"this is not a TLS handshake\r\n" * 4)
answer = b""
while True:
    chunk = s.recv(100)
    if not chunk:
        break
    answer += chunk
assert not answer.startswith((b"250", b"5")), ("read as SMTP commands", answer)
s.close()
print("junk sent")
"#
    );
    let output = python(&junk);
    assert!(stdout(&output).contains("junk sent"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    let again =
        curl_through_bridge(smtp, imap, &password, &format!("{run_id}-after"), &["--ssl-reqd", "--cacert", &cacert]);
    assert!(again.contains("EXISTS"), "still serving after a broken handshake: {again}");
    programs_pin_the_bridge(&sandbox, (smtp, imap), &password, &run_id, &announced);
    assert!(stop(bridge).success());
    // The certificate is kept: the next run serves the same one, so programs keep trusting it.
    let ((again, _, _), _) = start_bridge_with(&sandbox, "bridge-tls", &["--local-tls"]);
    assert_eq!(std::fs::read_to_string(&certificate).unwrap(), pem);
    assert!(stop(again).success());
    // With --no-local-tls, STARTTLS is not offered.
    let (plain, smtp, _) = start_bridge(&sandbox, "bridge-tls");
    let script = format!(
        r#"
import smtplib
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
s.ehlo()
assert not s.has_extn("starttls"), s.esmtp_features
code, _ = s.docmd("STARTTLS")
assert code == 502, code
print("plain")
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("plain"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    assert!(stop(plain).success());
}

/// Pinned instead of trusted: curl with the public key `bridge run` announced (a wrong pin
/// fails before any sign-in), msmtp with the fingerprint.
fn programs_pin_the_bridge(
    sandbox: &OAuthSandbox,
    (smtp, imap): (u16, u16),
    password: &str,
    run_id: &str,
    announced: &str,
) {
    let announced_after = |marker: &str| {
        announced
            .split(marker)
            .nth(1)
            .unwrap()
            .split([',', ' '])
            .find(|w| !w.is_empty())
            .unwrap()
            .trim_end_matches('.')
            .to_owned()
    };
    let (fingerprint, pin) = (announced_after("tls_fingerprint "), announced_after("--pinnedpubkey "));
    assert!(pin.starts_with("sha256//") && fingerprint.len() == 95, "{announced}");
    let pinned = curl_through_bridge(
        smtp,
        imap,
        password,
        &format!("{run_id}-pin"),
        &["--ssl-reqd", "-k", "--pinnedpubkey", &pin],
    );
    assert!(pinned.contains("EXISTS"), "{pinned}");
    let wrong_pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let refused = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--ssl-reqd", "-k", "--pinnedpubkey", wrong_pin])
        .arg(format!("imap://127.0.0.1:{imap}/INBOX"))
        .args(["--user", &format!("ar@rig.test:{password}"), "-X", "EXAMINE INBOX"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a wrong pin is refused before the sign-in");
    let msmtp_config = sandbox.dir.path().join("msmtprc");
    std::fs::write(
        &msmtp_config,
        format!(
            "account bridge\nhost 127.0.0.1\nport {smtp}\nauth plain\nuser ar@rig.test\npassword {password}\n\
             from ar@rig.test\ntls on\ntls_starttls on\ntls_fingerprint {fingerprint}\naccount default : bridge\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&msmtp_config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut msmtp = Command::new("msmtp")
        .args(["-C", msmtp_config.to_str().unwrap(), "admin@example.org"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    msmtp
        .stdin
        .take()
        .unwrap()
        .write_all(format!("Subject: pinned\r\nX-Helper-Run: {run_id}-msmtp\r\n\r\nhello\r\n").as_bytes())
        .unwrap();
    let sent = msmtp.wait_with_output().unwrap();
    assert!(sent.status.success(), "msmtp with tls_fingerprint: {}", String::from_utf8_lossy(&sent.stderr));
    wait_for_arrival(
        "catchall",
        &format!("{run_id}-msmtp"),
        "the message msmtp sent with a pinned fingerprint never arrived",
    );
}

#[test]
fn a_wrong_local_password_is_refused_before_anything_goes_upstream() {
    use crate::hostile::{Behaviour, Hostile};
    let rig = rig();
    let upstream = Hostile::start(Behaviour::Silent);
    let mut setting = oauth_setting(rig, "bridge-guard", "ar");
    setting.smtp.server = "127.0.0.1".to_owned();
    setting.smtp.port = upstream.port;
    setting.imap.server = "127.0.0.1".to_owned();
    setting.imap.port = upstream.port;
    let sandbox = OAuthSandbox::new(setting);
    // Connected: were a wrong local password let through, the bridge could reach upstream —
    // so this test fails if a password or user-name check goes missing.
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-guard"]), 0);
    let password = local_password(&sandbox, "bridge-guard");
    let (bridge, smtp, imap) = start_bridge(&sandbox, "bridge-guard");
    let script = format!(
        r#"
import imaplib, smtplib
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
try:
    s.login("ar@rig.test", "{password}-wrong")
    raise SystemExit("smtp accepted a wrong password")
except smtplib.SMTPAuthenticationError as e:
    assert e.smtp_code == 535, e
m = imaplib.IMAP4("127.0.0.1", {imap}, timeout=20)
try:
    m.login("ar@rig.test", "wrong")
    raise SystemExit("imap accepted a wrong password")
except imaplib.IMAP4.error:
    pass
try:
    m.login("someone-else@rig.test", "{password}")
    raise SystemExit("imap accepted another user's name")
except imaplib.IMAP4.error:
    pass
print("refused")
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("refused"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(upstream.received(), "", "nothing reached the mailbox's server");
    assert!(stop(bridge).success());
}

#[test]
fn a_hundred_programs_at_once_each_get_their_own_session() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridge-many", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-many"]), 0);
    let password = local_password(&sandbox, "bridge-many");
    let (bridge, smtp, _) = start_bridge(&sandbox, "bridge-many");
    let run_id = format!("bridge-many-{}", std::process::id());
    let script = format!(
        r#"
import smtplib, threading
errors = []
def one(n):
    try:
        s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=60)
        s.login("ar@rig.test", "{password}")
        s.sendmail("ar@rig.test", ["admin@example.org"], "Subject: many %d\r\nX-Helper-Run: {run_id}\r\n\r\nhello\r\n" % n)
        s.quit()
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=one, args=(n,)) for n in range(100)]
[t.start() for t in threads]
[t.join() for t in threads]
print("errors:", errors)
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("errors: []"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    let started = Instant::now();
    while rig.count_with_header("catchall", "INBOX", "X-Helper-Run", &run_id) < 100 {
        assert!(started.elapsed() < Duration::from_secs(60), "not all 100 messages arrived");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(stop(bridge).success());
}

#[test]
fn when_the_server_ends_the_session_the_client_sees_it_end_at_once() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridge-end", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-end"]), 0);
    let password = local_password(&sandbox, "bridge-end");
    let (bridge, smtp, _) = start_bridge(&sandbox, "bridge-end");
    let script = format!(
        r#"
import base64, socket, time
c = socket.create_connection(("127.0.0.1", {smtp}), timeout=20)
f = c.makefile("rb")
def reply(code):
    while True:
        line = f.readline().decode()
        if line[3:4] != "-":
            assert line.startswith(code), line
            return line
reply("220")
c.sendall(b"EHLO client\r\n"); reply("250")
c.sendall(b"AUTH PLAIN " + base64.b64encode(b"\x00ar@rig.test\x00{password}") + b"\r\n")
reply("235")
c.sendall(b"QUIT\r\n"); reply("221")
started = time.time()
c.settimeout(5)
assert f.read(1) == b"", "the connection stayed open"
print("closed after %.2f s" % (time.time() - started))
"#
    );
    let output = python(&script);
    assert!(
        stdout(&output).contains("closed after 0."),
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stop(bridge).success());
}

#[test]
fn a_server_that_trickles_bytes_cannot_hold_a_sign_in_past_its_deadline() {
    use crate::hostile::{Behaviour, Hostile};
    let rig = rig();
    let drip = Hostile::start(Behaviour::Drip);
    let mut setting = oauth_setting(rig, "bridge-drip", "ar");
    setting.imap.server = "127.0.0.1".to_owned();
    setting.imap.port = drip.port;
    let mut sandbox = OAuthSandbox::new(setting);
    sandbox.config.probe.step_timeout_secs = 2;
    sandbox.write_config();
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-drip"]), 0);
    let password = local_password(&sandbox, "bridge-drip");
    let (bridge, _, imap) = start_bridge(&sandbox, "bridge-drip");
    let script = format!(
        r#"
import imaplib, time
m = imaplib.IMAP4("127.0.0.1", {imap}, timeout=60)
started = time.time()
try:
    m.login("ar@rig.test", "{password}")
    raise SystemExit("signed in through a dripping server")
except imaplib.IMAP4.error as e:
    print("refused after %.1f s: %s" % (time.time() - started, e))
"#
    );
    let output = python(&script);
    let text = stdout(&output);
    assert!(text.contains("could not be reached"), "{text}{}", String::from_utf8_lossy(&output.stderr));
    let seconds: f64 = text.split("after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(seconds < 6.0, "the sign-in ended {seconds} s later (step deadline 2 s)");
    assert!(stop(bridge).success());
}

/// On a machine shared with other users: 210 connections that never say anything
/// cannot keep a real program out (only 32 wait at once, the longest-waiting making
/// room), and three wrong sign-ins close a session.
#[test]
fn idle_strangers_cannot_starve_the_bridge_and_wrong_sign_ins_close_the_session() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridge-crowded", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-crowded"]), 0);
    let password = local_password(&sandbox, "bridge-crowded");
    let (bridge, smtp, _imap) = start_bridge(&sandbox, "bridge-crowded");
    let strangers: Vec<std::net::TcpStream> =
        (0..210).map(|_| std::net::TcpStream::connect(("127.0.0.1", smtp)).unwrap()).collect();
    // They have idled past the few seconds a real program needs to sign in.
    std::thread::sleep(Duration::from_millis(2500));
    let started = Instant::now();
    let script = format!(
        r#"
import smtplib
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=45)
s.login("ar@rig.test", "{password}")
s.noop()
s.quit()
print("signed in")
w = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
for attempt in range(3):
    try:
        w.login("ar@rig.test", "wrong-" + str(attempt))
    except smtplib.SMTPAuthenticationError as e:
        print("refused", e.smtp_code)
    except smtplib.SMTPServerDisconnected:
        print("closed")
        break
else:
    try:
        w.noop()
        print("still open")
    except smtplib.SMTPServerDisconnected:
        print("closed")
"#
    );
    let output = python(&script);
    let text = stdout(&output);
    assert!(text.contains("signed in"), "{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(started.elapsed() < Duration::from_secs(45), "the real program waited {:?}", started.elapsed());
    assert!(text.contains("closed") && !text.contains("still open"), "three wrong sign-ins close the session: {text}");
    assert!(text.matches("refused 535").count() <= 2, "{text}");
    drop(strangers);
    assert!(stop(bridge).success());
}

/// On a machine shared with other users, only the bridge's own user may use it: a
/// connection from another account (here `nobody`, through setpriv) is refused before
/// it can sign in or wait for a session, while the owner's own programs go on.
#[test]
fn another_users_connection_is_refused_before_it_can_sign_in() {
    let rig = rig();
    let sandbox = OAuthSandbox::new(oauth_setting(rig, "bridge-own", "ar"));
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridge-own"]), 0);
    let password = local_password(&sandbox, "bridge-own");
    let (bridge, smtp, imap) = start_bridge(&sandbox, "bridge-own");
    let own = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
    assert_eq!(own, 0, "the test switches to another user with setpriv, which needs root (as scripts/test runs)");
    let greeting = |port: u16| {
        let output = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c"])
            .arg(format!(
                "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=10)\nprint(s.recv(200).decode())"
            ))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        stdout(&output)
    };
    assert!(greeting(smtp).starts_with("554 5.7.1 this bridge serves only the user who started it"));
    assert!(greeting(imap).starts_with("* BYE this bridge serves only the user who started it"));
    let script = format!(
        "import smtplib\ns = smtplib.SMTP('127.0.0.1', {smtp}, timeout=20)\ns.login('ar@rig.test', '{password}')\n\
         s.noop()\ns.quit()\nprint('signed in')\n"
    );
    let output = python(&script);
    assert!(
        stdout(&output).contains("signed in"),
        "the owner's own program: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stop(bridge).success());
}

/// A password-only program speaking SMTP to the bridge, for a mailbox whose SMTP AUTH is
/// off and that sends through Microsoft Graph: the bridge answers MAIL, RCPT and DATA
/// itself and delivers each message through Graph — two in one session — and the
/// program never learns SMTP AUTH is off.
#[test]
fn a_program_speaking_smtp_sends_through_graph_via_the_bridge() {
    let rig = rig();
    let sandbox =
        crate::mailapi::sandbox(crate::mailapi::graph_setting(rig, "bridged-graph", "smtpoff"), "microsoft365");
    assert_exit(&sandbox.run(Browser::SignIn, &["connect", "bridged-graph"]), 0);
    let password = local_password(&sandbox, "bridged-graph");
    let (bridge, smtp, _) = start_bridge(&sandbox, "bridged-graph");
    let run_id = format!("bridge-graph-{}", std::process::id());
    let script = format!(
        r#"
import smtplib
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
s.ehlo()
s.login("smtpoff@rig.test", "{password}")
for n in (1, 2):
    refused = s.sendmail("smtpoff@rig.test", ["admin@example.org", "graphbridge@rig.test"], "From: smtpoff@rig.test\r\nTo: admin@example.org\r\nSubject: through the bridge and Graph %d\r\nX-Helper-Run: {run_id}\r\n\r\n.leading dot kept\r\n" % n)
    assert refused == {{}}, refused
s.quit()
print("passed")
"#
    );
    let output = python(&script);
    assert!(stdout(&output).contains("passed"), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    let started = Instant::now();
    let arrived = |user| rig.count_with_header(user, "INBOX", "X-Helper-Run", &run_id);
    while arrived("catchall") < 2 || arrived("graphbridge") < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "two messages, two recipients each, through Graph");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(rig.api_requests("smtpoff").iter().filter(|r| *r == "POST /v1.0/me/sendMail").count() >= 2);
    let text = rig.message_text("graphbridge", "INBOX", "Subject", "through the bridge and Graph 1");
    assert!(text.contains("\n.leading dot kept"), "the program's dot-stuffing undone, once: {text}");
    assert!(stop(bridge).success());
}
