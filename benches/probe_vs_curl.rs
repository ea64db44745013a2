//! Benchmark: Test Incoming and Test Outgoing against the rig, side by side
//! with curl doing the same work, through a loopback proxy that adds 50 ms
//! of round-trip latency, in alternating rounds. Prints medians and ratios.
//!
//! What each side does on the wire:
//! - Test Incoming: TLS, LOGIN (capabilities from the greeting), STATUS of the
//!   inbox and of the sent folder, LOGOUT without waiting for the goodbye.
//!   curl: TLS, CAPABILITY, LOGIN, EXAMINE INBOX, LOGOUT.
//! - Test Outgoing: one session — EHLO, STARTTLS, EHLO, AUTH PLAIN, two messages
//!   with MAIL/RCPT/DATA pipelined, QUIT. curl: one whole session per message
//!   (curl sends one message per run), each with the same steps unpipelined.
//!
//! - Test Outgoing through Microsoft Graph against through SMTP (app-only XOAUTH2): the
//!   same two messages; Graph: TLS, two POSTs on one kept-alive connection.
//!
//! - check --all at scale: `check --all --at-once 16` over 200 settings of one
//!   server against the same over one (at most 16 at once on a server, so about
//!   13 rounds of one check's time; one after another would be 200×).
//!
//! Run with `scripts/bench` (starts the rig, release build). `-- --quick`
//! runs three rounds instead of ten (CI uses it to keep the benchmark working).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark fails loudly

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const ONE_WAY_DELAY: Duration = Duration::from_millis(25);

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 10 };
    let rig = Rig::load();
    let imap_proxy = start_delay_proxy(rig.imaps_port);
    let smtp_proxy = start_delay_proxy(rig.smtp_port);

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.toml");
    let secrets = dir.path().join("secrets.json");
    std::fs::write(
        &config,
        format!(
            "format = \"mailsettings/1\"\n\n[tls]\nextra_ca_files = [\"{ca}\"]\n\n[[mail_setting]]\nid = \"bench\"\n\
             description = \"Bench\"\nsubject_tag = \"[BENCH]\"\ncredential = \"basic\"\nactive = true\n\n\
             [mail_setting.smtp]\nserver = \"localhost\"\nport = {smtp}\nsecurity = \"starttls\"\nsend_as = \"ar@rig.test\"\n\
             from_name = \"Bench\"\nuser_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\n\n[mail_setting.imap]\n\
             server = \"localhost\"\nport = {imap}\nsecurity = \"tls\"\nuser_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\n",
            ca = rig.ca_file,
            smtp = smtp_proxy,
            imap = imap_proxy
        ),
    )
    .expect("write config");
    let ours = |args: &[&str], stdin: &str| {
        mailsettings_cli(&config, &secrets, args, stdin);
    };
    ours(&["set-password", "bench"], &format!("{}\n", rig.password));

    let message = |n: u32| {
        let path = dir.path().join(format!("m{n}.eml"));
        std::fs::write(
            &path,
            format!("From: ar@rig.test\r\nTo: admin@example.org\r\nSubject: curl bench {n}\r\n\r\nThe same work, done by curl.\r\n"),
        )
        .expect("write message");
        path
    };
    let (m1, m2) = (message(1), message(2));
    let curl = |args: &[&str]| {
        let status = Command::new("curl")
            .args(["-sS", "--cacert", &rig.ca_file])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run curl");
        assert!(status.success(), "curl {args:?} failed");
    };
    let user = format!("ar@rig.test:{}", rig.password);
    let imap_url = format!("imaps://localhost:{imap_proxy}/INBOX");
    let smtp_url = format!("smtp://localhost:{smtp_proxy}");

    let incoming_ours = || ours(&["test", "incoming", "bench"], "");
    let incoming_curl = || curl(&["--user", &user, &imap_url, "-X", "EXAMINE INBOX"]);
    let outgoing_ours = || ours(&["test", "outgoing", "bench", "--to", "admin@example.org"], "");
    let outgoing_curl = || {
        for file in [&m1, &m2] {
            let file = file.to_str().expect("path");
            curl(&[
                "--ssl-reqd",
                "--url",
                &smtp_url,
                "--user",
                &user,
                "--mail-from",
                "ar@rig.test",
                "--mail-rcpt",
                "admin@example.org",
                "-T",
                file,
            ]);
        }
    };
    let (incoming_ours, incoming_curl) = interleaved_medians(rounds, incoming_ours, incoming_curl);
    let (outgoing_ours, outgoing_curl) = interleaved_medians(rounds, outgoing_ours, outgoing_curl);

    let (bridge_direct, bridge_through) = bridge_overhead(&rig, dir.path(), smtp_proxy, rounds);
    let (through_smtp, through_graph) = graph_against_smtp(&rig, dir.path(), smtp_proxy, rounds);
    let (check_one, check_many) =
        check_all_at_scale(&rig, dir.path(), (imap_proxy, smtp_proxy), if quick { 1 } else { 3 });

    println!("Probe vs curl (and check --all at scale), 50 ms round-trip latency added, median of {rounds} rounds");
    println!("{:<46} {:>9} {:>9} {:>7}", "work", "ours", "baseline", "ratio");
    for (work, ours, curl, aim) in [
        ("Test Incoming vs curl IMAPS login + EXAMINE", incoming_ours, incoming_curl, 1.0),
        ("Test Outgoing (2 msgs, 1 session) vs curl x2", outgoing_ours, outgoing_curl, 0.6),
        ("smtplib through the bridge vs straight (XOAUTH2)", bridge_through, bridge_direct, 1.1),
        ("Test Outgoing through Graph vs through SMTP", through_graph, through_smtp, 1.2),
        ("check --all: 200 settings on one server vs 1", check_many, check_one, 20.0),
    ] {
        let ratio = ours.as_secs_f64() / curl.as_secs_f64();
        println!(
            "{:<46} {:>7.0}ms {:>7.0}ms {:>6.2}x (aim <= {aim:.1}x){}",
            work,
            ours.as_secs_f64() * 1000.0,
            curl.as_secs_f64() * 1000.0,
            ratio,
            if ratio <= aim { "" } else { "  ABOVE AIM" }
        );
    }
}

/// `check --all --at-once 16` over 200 settings of one server (the rig's mailbox through the
/// 50 ms proxies: Test Incoming and a sign-in for sending each) against the same command over
/// one of them: one after another would be 200×; the aim is within 20×. Medians of `rounds` runs each.
fn check_all_at_scale(rig: &Rig, dir: &std::path::Path, proxies: (u16, u16), rounds: usize) -> (Duration, Duration) {
    let (imap_proxy, smtp_proxy) = proxies;
    const SETTINGS: usize = 200;
    let setting = |n: usize| {
        format!(
            "[[mail_setting]]\nid = \"scale-{n:03}\"\ndescription = \"Scale {n:03}\"\nsubject_tag = \"[SCALE]\"\n\
             credential = \"basic\"\nactive = true\n\n[mail_setting.smtp]\nserver = \"localhost\"\nport = {smtp_proxy}\n\
             security = \"starttls\"\nsend_as = \"ar@rig.test\"\nfrom_name = \"Scale\"\nuser_name = \"ar@rig.test\"\n\
             user_domain = \"rig.test\"\n\n[mail_setting.imap]\nserver = \"localhost\"\nport = {imap_proxy}\n\
             security = \"tls\"\nuser_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\n\n"
        )
    };
    let head = format!("format = \"mailsettings/1\"\n\n[tls]\nextra_ca_files = [\"{}\"]\n\n", rig.ca_file);
    let one = dir.join("scale-one.toml");
    let many = dir.join("scale-many.toml");
    std::fs::write(&one, format!("{head}{}", setting(0))).expect("write config");
    std::fs::write(&many, format!("{head}{}", (0..SETTINGS).map(setting).collect::<String>())).expect("write config");
    let secrets = dir.join("scale-secrets.json");
    for n in 0..SETTINGS {
        mailsettings_cli(&many, &secrets, &["set-password", &format!("scale-{n:03}")], &format!("{}\n", rig.password));
    }
    let check = |config: &std::path::Path| {
        let started = Instant::now();
        let printed = mailsettings_cli(config, &secrets, &["check", "--all", "--at-once", "16"], "");
        assert!(!printed.contains("FAILING"), "a check failed: {printed}");
        started.elapsed()
    };
    let one_times: Vec<Duration> = (0..rounds).map(|_| check(&one)).collect();
    let many_times: Vec<Duration> = (0..rounds).map(|_| check(&many)).collect();
    (median(one_times), median(many_times))
}

/// The bridge's cost: Python's smtplib sending one message through `mailsettings
/// bridge` (password in over the bridge's local TLS, XOAUTH2 out) against smtplib sending it straight to the
/// server with XOAUTH2 and the same kind of token — both through the delay proxy.
/// The setting uses app-only access, so no browser sign-in is needed here; the
/// bridge asks for the app's token per session, as it would in use.
fn bridge_overhead(rig: &Rig, dir: &std::path::Path, smtp_proxy: u16, rounds: usize) -> (Duration, Duration) {
    let config = dir.join("bridge.toml");
    let secrets = dir.join("bridge-secrets.json");
    std::fs::write(
        &config,
        format!(
            "format = \"mailsettings/1\"\n\n[tls]\nextra_ca_files = [\"{ca}\"]\n\n[[mail_setting]]\nid = \"bridged\"\n\
             description = \"Bridged\"\nsubject_tag = \"[BENCH]\"\ncredential = \"oauth2\"\noauth_provider = \"rigapp\"\n\
             oauth_flow = \"app\"\nactive = true\n\n[mail_setting.smtp]\nserver = \"localhost\"\nport = {smtp}\n\
             security = \"starttls\"\nsend_as = \"ar@rig.test\"\nfrom_name = \"Bench\"\nuser_name = \"ar@rig.test\"\n\
             user_domain = \"rig.test\"\n\n[mail_setting.imap]\nserver = \"localhost\"\nport = {imap}\nsecurity = \"tls\"\n\
             user_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\n\n[[oauth_provider]]\nid = \"rigapp\"\n\
             authorize_url = \"https://127.0.0.1:{oauth}/auth\"\ntoken_url = \"https://127.0.0.1:{oauth}/token\"\n\
             client_id = \"mailsettings-app\"\napp_scopes = [\"mail\"]\n",
            ca = rig.ca_file,
            smtp = smtp_proxy,
            imap = rig.imaps_port,
            oauth = rig.oauth_port
        ),
    )
    .expect("write the bridge config");
    let cli = |args: &[&str], stdin: &str| mailsettings_cli(&config, &secrets, args, stdin);
    cli(
        &["oauth-app", "set", "rigapp", "--client-id", "mailsettings-app", "--client-secret-stdin"],
        "rig-app-only-client-secret\n",
    );
    let password = cli(&["bridge", "password", "bridged"], "").lines().last().expect("password").trim().to_owned();
    let mut bridge = Command::new(env!("CARGO_BIN_EXE_mailsettings"))
        .arg("--config")
        .arg(&config)
        .args(["bridge", "run", "--smtp-port", "0", "--imap-port", "0", "bridged"])
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", secrets.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the bridge");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(bridge.stdout.take().expect("stdout")), &mut line)
        .expect("the bridge's ports");
    let bridge_port: u16 = line
        .split("SMTP on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|port| port.parse().ok())
        .expect("the bridge's SMTP port");
    // Local TLS is on by default: the program trusts the bridge's own certificate.
    let certificate = line
        .split("the certificate is ")
        .nth(1)
        .and_then(|rest| rest.split(" (SHA-256").next())
        .expect("the bridge's certificate")
        .to_owned();
    let message = "Subject: bridge bench\r\n\r\nhello\r\n";
    let python = |script: String| {
        let status =
            Command::new("/usr/bin/python3").args(["-c", &script]).stdout(Stdio::null()).status().expect("python3");
        assert!(status.success(), "python3 failed");
    };
    let through = || {
        python(format!(
            "import smtplib, ssl\ns = smtplib.SMTP('127.0.0.1', {bridge_port})\n\
             s.starttls(context=ssl.create_default_context(cafile={certificate:?}))\ns.login('ar@rig.test', '{password}')\n\
             s.sendmail('ar@rig.test', ['admin@example.org'], {message:?})\ns.quit()\n"
        ));
    };
    // The straight client has its token already (as a program using `mailsettings token` would).
    let token = cli(&["token", "bridged"], "");
    let straight = || {
        python(format!(
            "import base64, smtplib, ssl\ns = smtplib.SMTP('localhost', {smtp_proxy})\n\
             s.starttls(context=ssl.create_default_context(cafile={ca:?}))\ns.ehlo()\n\
             code, _ = s.docmd('AUTH', 'XOAUTH2 ' + base64.b64encode(b'user=ar@rig.test\\x01auth=Bearer {token}\\x01\\x01').decode())\n\
             assert code == 235, code\ns.sendmail('ar@rig.test', ['admin@example.org'], {message:?})\ns.quit()\n",
            token = token.trim(),
            ca = rig.ca_file,
        ));
    };
    let result = interleaved_medians(rounds, through, straight);
    let _ = bridge.kill();
    let _ = bridge.wait();
    result
}

/// Test Outgoing through Microsoft Graph against Test Outgoing through SMTP (XOAUTH2),
/// the same two messages, the same app-only sign-in (an Entra daemon app with Outlook's
/// and Graph's application permissions on the rig), the SMTP server and the rig's Graph
/// each behind a 50 ms delay proxy; the token endpoint is not delayed for either.
fn graph_against_smtp(rig: &Rig, dir: &std::path::Path, smtp_proxy: u16, rounds: usize) -> (Duration, Duration) {
    let graph_proxy = start_delay_proxy(rig.api_port);
    let setting = |id: &str, sends_with: &str| {
        format!(
            "[[mail_setting]]\nid = \"{id}\"\ndescription = \"{id}\"\nsubject_tag = \"[BENCH]\"\n\
             credential = \"microsoft365\"\noauth_flow = \"app\"\nactive = true\n\n[mail_setting.smtp]\n\
             server = \"localhost\"\nport = {smtp_proxy}\nsecurity = \"starttls\"\nsend_as = \"ar@rig.test\"\n\
             from_name = \"Bench\"\nuser_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\nsends_with = \"{sends_with}\"\n\n\
             [mail_setting.imap]\nserver = \"localhost\"\nport = {imap}\nsecurity = \"tls\"\n\
             sent_folder = \"Sent\"\nuser_name = \"ar@rig.test\"\nuser_domain = \"rig.test\"\n\n",
            imap = rig.imaps_port
        )
    };
    let config = dir.join("graph.toml");
    let secrets = dir.join("graph-secrets.json");
    std::fs::write(
        &config,
        format!(
            "format = \"mailsettings/1\"\n\n[tls]\nextra_ca_files = [\"{ca}\"]\n\n{smtp}{graph}[[oauth_provider]]\n\
             id = \"microsoft365\"\nauthorize_url = \"https://127.0.0.1:{oauth}/auth\"\n\
             token_url = \"https://127.0.0.1:{oauth}/token\"\napi_url = \"https://127.0.0.1:{graph_proxy}/v1.0\"\n\
             client_id = \"5d3c2b1a-0f9e-4d8c-b7a6-112233445566\"\napp_scopes = [\"mail\"]\n",
            ca = rig.ca_file,
            smtp = setting("by-smtp", "smtp"),
            graph = setting("by-graph", "graph"),
            oauth = rig.oauth_port
        ),
    )
    .expect("write the Graph config");
    let cli = |args: &[&str], stdin: &str| mailsettings_cli(&config, &secrets, args, stdin);
    cli(
        &[
            "oauth-app",
            "set",
            "microsoft365",
            "--client-id",
            "5d3c2b1a-0f9e-4d8c-b7a6-112233445566",
            "--client-secret-stdin",
        ],
        "rig-app-only-client-secret\n",
    );
    let graph = || {
        cli(&["test", "outgoing", "by-graph", "--to", "admin@example.org"], "");
    };
    let smtp = || {
        cli(&["test", "outgoing", "by-smtp", "--to", "admin@example.org"], "");
    };
    interleaved_medians(rounds, smtp, graph)
}

/// Medians of `ours` and `theirs` run in alternating rounds (ours first in even
/// rounds, theirs first in odd ones), so a slow moment of the machine or the rig
/// lands on both sides rather than on one.
fn interleaved_medians(rounds: usize, mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (Duration, Duration) {
    ours(); // warm-up: page cache, first TLS session
    theirs();
    let time = |work: &mut dyn FnMut()| {
        let started = Instant::now();
        work();
        started.elapsed()
    };
    let (mut our_times, mut their_times) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        if round % 2 == 0 {
            our_times.push(time(&mut ours));
            their_times.push(time(&mut theirs));
        } else {
            their_times.push(time(&mut theirs));
            our_times.push(time(&mut ours));
        }
    }
    (median(our_times), median(their_times))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Rig {
    password: String,
    imaps_port: u16,
    smtp_port: u16,
    oauth_port: u16,
    /// The rig's Graph- and Gmail-API-shaped service.
    api_port: u16,
    ca_file: String,
}

impl Rig {
    fn load() -> Self {
        let path = std::env::var("MAILSETTINGS_RIG")
            .expect("MAILSETTINGS_RIG: run through scripts/bench, which starts the rig");
        let text = std::fs::read_to_string(path).expect("read rig.env");
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{key} missing"))
                .to_owned()
        };
        Self {
            password: get("RIG_PASSWORD"),
            imaps_port: get("RIG_IMAPS_PORT").parse().expect("port"),
            smtp_port: get("RIG_SMTP_PORT").parse().expect("port"),
            oauth_port: get("RIG_OAUTH_PORT").parse().expect("port"),
            api_port: get("RIG_GRAPH_URL")
                .rsplit(':')
                .next()
                .and_then(|rest| rest.split('/').next())
                .and_then(|port| port.parse().ok())
                .expect("the Graph port"),
            ca_file: get("RIG_CA_FILE"),
        }
    }
}

/// A TCP proxy on 127.0.0.1 that delays every chunk by `ONE_WAY_DELAY` in each direction.
fn start_delay_proxy(upstream_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (c2, s2) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            pump(client, server);
            pump(s2, c2);
        }
    });
    port
}

/// Copies `from` → `to`, each chunk delivered `ONE_WAY_DELAY` after it was read.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let (sender, receiver) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = sender.send((Instant::now() + ONE_WAY_DELAY, Vec::new()));
                    return;
                }
                Ok(n) => {
                    if sender.send((Instant::now() + ONE_WAY_DELAY, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        for (due, bytes) in receiver {
            let wait = due.saturating_duration_since(Instant::now());
            thread::sleep(wait);
            if bytes.is_empty() {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            if to.write_all(&bytes).is_err() {
                return;
            }
        }
    });
}

/// Runs `mailsettings ARGS` on `config` (secrets in the file store `secrets`), `stdin` as its
/// input; its standard output. A failure stops the benchmark.
fn mailsettings_cli(config: &std::path::Path, secrets: &std::path::Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailsettings"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", secrets.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run mailsettings");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "mailsettings {args:?} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
