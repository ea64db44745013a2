//! `mailsettings bridge`: a loopback-only SMTP and IMAP bridge for programs that
//! only know a user name and password, to mailboxes that only take OAuth now.
//!
//! A client signs in to 127.0.0.1 with the setting's user name and a local
//! password made here (kept in the OS store, shown once). Nothing goes upstream
//! before that password matches. Then the bridge signs in upstream through the
//! probes' own SMTP and IMAP sessions (`probe::smtp`/`probe::imap`
//! `sign_in_to_pass_through`: always over TLS with full verification, XOAUTH2
//! with a fresh token from `checks::access_token`, the same stages, deadlines and
//! diagnoses as Test Outgoing/Incoming), answers the client's sign-in, and from
//! there passes the session through unchanged, byte for byte, both ways. A failed
//! upstream sign-in is logged as its staged report. Every session has its own
//! threads; at most [`MAX_SESSIONS`] run at once, an idle one (no traffic either
//! way) ends after [`IDLE`]. On a machine shared with other users: a session must
//! sign in within 30 s, only 128 wait to sign in at once (the longest-waiting
//! stranger makes room), three wrong sign-ins close it (each logged with its peer
//! port and the user tried, never the password), and Stop closes every session.
//! On Linux only the bridge's own user may connect at all (the socket's owner,
//! from the kernel's table: [`peer`]).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use thiserror::Error;

use crate::cancel::CancelToken;
use crate::model::{Config, MailSetting, Protocol, SettingId};
use crate::probe::ProbeOptions;
use crate::secret::Secret;
use crate::store::{SecretKind, SecretStoreError, Secrets};

mod api_side;
pub mod local_tls;
mod peer;
mod sessions;
mod splice;

pub use local_tls::LocalTls;
use sessions::{MAX_FAILED_SIGN_INS, Registry};
use splice::{End, Local, splice};

/// Sessions served at once.
pub const MAX_SESSIONS: usize = 200;
/// A session with no traffic either way this long is closed.
pub const IDLE: Duration = Duration::from_secs(300);
/// The longest line read from a client before it has signed in.
const MAX_LINE: usize = 8 * 1024;

#[derive(Debug, Error)]
pub enum BridgeError {
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: io::Error },
    #[error("\"{0}\" has no local password yet: run mailsettings bridge password {0}")]
    NoLocalPassword(String),
    #[error("\"{0}\" does not sign in with OAuth, so programs can use its own password; no bridge is needed")]
    NotOAuth(String),
    #[error("there is no mail setting with id \"{0}\"")]
    UnknownSetting(String),
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
    #[error(transparent)]
    Trust(#[from] crate::tls::TrustError),
    #[error("the bridge's local TLS could not be set up: {0}")]
    LocalTls(String),
}

/// Makes a new local password for `setting_id` (replacing the old one) and stores it.
pub(crate) fn new_local_password(secrets: &Secrets, setting_id: &str) -> Result<Secret, SecretStoreError> {
    let password = Secret::new(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()));
    secrets.set(setting_id, SecretKind::BridgePassword, &password)?;
    Ok(password)
}

/// One setting the bridge serves.
#[derive(Clone)]
struct Served {
    setting: MailSetting,
    local_password: Secret,
}

/// Everything a session needs.
struct Shared {
    config: Config,
    secrets: Secrets,
    options: ProbeOptions,
    served: Vec<Served>,
    sessions: Arc<AtomicUsize>,
    /// `--local-tls`: STARTTLS offered, and required before a sign-in.
    local_tls: Option<Arc<rustls::ServerConfig>>,
    /// Every open session (deadlines, room for newcomers, Stop).
    registry: Registry,
}

/// One accepted session: its place in the registry, and who connected.
#[derive(Debug, Clone, Copy)]
struct Session {
    id: u64,
    peer: SocketAddr,
}

/// How long a write to a client may take (a client that never reads cannot hold a session).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The ports the bridge listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub smtp: u16,
    pub imap: u16,
}

/// How the bridge listens.
#[derive(Debug, Clone)]
pub struct Listen {
    pub ports: Ports,
    /// STARTTLS for the programs, with the bridge's own certificate
    /// ([`local_tls::load_or_create`]); without it the programs talk plain
    /// text, which never leaves this machine.
    pub local_tls: Option<LocalTls>,
}

/// Serves `setting_ids` until `stop`; `ready` is told the ports once listening
/// (a port of 0 picks a free one).
pub fn run(
    config: &Config,
    secrets: &Secrets,
    setting_ids: &[SettingId],
    listen: &Listen,
    stop: &CancelToken,
    ready: impl FnOnce(Ports),
) -> Result<(), BridgeError> {
    run_counting(config, secrets, setting_ids, listen, stop, ready, &Arc::new(AtomicUsize::new(0)))
}

/// [`run`], keeping the number of sessions open in `sessions` (the window shows it).
pub(crate) fn run_counting(
    config: &Config,
    secrets: &Secrets,
    setting_ids: &[SettingId],
    listen: &Listen,
    stop: &CancelToken,
    ready: impl FnOnce(Ports),
    sessions: &Arc<AtomicUsize>,
) -> Result<(), BridgeError> {
    let ports = listen.ports;
    let mut served = Vec::new();
    for id in setting_ids {
        let setting = config.setting(id).ok_or_else(|| BridgeError::UnknownSetting(id.to_string()))?;
        if !setting.uses_oauth() {
            return Err(BridgeError::NotOAuth(id.to_string()));
        }
        let local_password = secrets
            .get(id, SecretKind::BridgePassword)?
            .filter(|p| !p.is_empty())
            .ok_or_else(|| BridgeError::NoLocalPassword(id.to_string()))?;
        served.push(Served { setting: setting.clone(), local_password });
    }
    let options = ProbeOptions::from_config(config)?;
    let bind = |port: u16| {
        TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).map_err(|source| BridgeError::Bind { port, source })
    };
    let (smtp, imap) = (bind(ports.smtp)?, bind(ports.imap)?);
    let local_port = |l: &TcpListener, asked: u16| l.local_addr().map_or(asked, |a| a.port());
    ready(Ports { smtp: local_port(&smtp, ports.smtp), imap: local_port(&imap, ports.imap) });
    for listener in [&smtp, &imap] {
        listener.set_nonblocking(true).map_err(|source| BridgeError::Bind { port: 0, source })?;
    }
    let shared = Arc::new(Shared {
        config: config.clone(),
        secrets: secrets.clone(),
        options,
        served,
        sessions: sessions.clone(),
        local_tls: listen.local_tls.as_ref().map(|tls| tls.server_config.clone()),
        registry: Registry::default(),
    });
    while !stop.is_cancelled() {
        let mut accepted = false;
        shared.registry.reap();
        for (listener, protocol) in [(&smtp, Protocol::Smtp), (&imap, Protocol::Imap)] {
            match listener.accept() {
                Ok((client, peer)) => {
                    accepted = true;
                    start_session(&shared, client, peer, protocol);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => tracing::warn!("the bridge could not accept a connection: {err}"),
            }
        }
        if !accepted {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Stop ends every session, not only the listening.
    shared.registry.close_all();
    Ok(())
}

fn start_session(shared: &Arc<Shared>, mut client: TcpStream, peer: SocketAddr, protocol: Protocol) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_write_timeout(Some(WRITE_TIMEOUT));
    // Only the bridge's own user may use it (where the OS says whose a socket is).
    if let Some(local) = client.local_addr().ok()
        && let peer::Owner::Other(uid) = peer::owner(local, peer)
    {
        tracing::warn!(peer_port = peer.port(), uid, "the bridge refused a connection from another user");
        let refusal: &[u8] = match protocol {
            Protocol::Smtp => b"554 5.7.1 this bridge serves only the user who started it\r\n",
            Protocol::Imap => b"* BYE this bridge serves only the user who started it\r\n",
        };
        let _ = client.write_all(refusal);
        return;
    }
    if shared.sessions.fetch_add(1, Ordering::SeqCst) >= MAX_SESSIONS {
        shared.sessions.fetch_sub(1, Ordering::SeqCst);
        let busy: &[u8] = match protocol {
            Protocol::Smtp => b"421 4.3.2 too many sessions, try again later\r\n",
            Protocol::Imap => b"* BYE too many sessions, try again later\r\n",
        };
        let _ = client.write_all(busy);
        return;
    }
    let Some(id) = shared.registry.admit(&client) else {
        shared.sessions.fetch_sub(1, Ordering::SeqCst);
        let busy: &[u8] = match protocol {
            Protocol::Smtp => b"421 4.3.2 too many sessions waiting to sign in, try again later\r\n",
            Protocol::Imap => b"* BYE too many sessions waiting to sign in, try again later\r\n",
        };
        let _ = client.write_all(busy);
        return;
    };
    let session = Session { id, peer };
    let shared_for_thread = shared.clone();
    let spawned = std::thread::Builder::new().name("bridge-session".to_owned()).spawn(move || {
        let _ = client.set_read_timeout(Some(IDLE));
        let client = Local::Plain(client);
        let result = match protocol {
            Protocol::Smtp => smtp_session(&shared_for_thread, session, client),
            Protocol::Imap => imap_session(&shared_for_thread, session, client),
        };
        if let Err(err) = result {
            tracing::debug!("bridge session ended: {err}");
        }
        shared_for_thread.registry.leave(session.id);
        shared_for_thread.sessions.fetch_sub(1, Ordering::SeqCst);
    });
    if let Err(err) = spawned {
        shared.registry.leave(id);
        shared.sessions.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!("could not start a bridge session: {err}");
    }
}

/// A wrong sign-in: logged (the peer's port and the user tried, never the password);
/// whether the session has now had too many.
fn wrong_sign_in(session: Session, protocol: Protocol, user: &str, failures: &mut u32) -> bool {
    *failures += 1;
    tracing::warn!(
        peer_port = session.peer.port(),
        user = %crate::printable::printable(user),
        protocol = ?protocol,
        failures = *failures,
        "bridge: wrong local sign-in"
    );
    *failures >= MAX_FAILED_SIGN_INS
}

/// The setting whose user name is `user` and whose local password is `password`.
fn authorised<'s>(shared: &'s Shared, user: &str, password: &str, protocol: Protocol) -> Option<&'s Served> {
    shared.served.iter().find(|served| {
        let names = match protocol {
            Protocol::Smtp => [served.setting.smtp.user_name.trim(), served.setting.smtp.send_as.trim()],
            Protocol::Imap => [served.setting.imap.user_name.trim(), served.setting.imap.user_name.trim()],
        };
        names.iter().any(|name| !name.is_empty() && name.eq_ignore_ascii_case(user.trim()))
            && same_secret(served.local_password.expose().as_bytes(), password.as_bytes())
    })
}

/// Compares without stopping at the first difference (the time says nothing of the password).
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let mut difference = expected.len() ^ given.len();
    for (index, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(index).copied().unwrap_or(0));
    }
    difference == 0
}

/// Reads one line (CRLF or LF) of at most [`MAX_LINE`] bytes, without the line end.
fn read_line(stream: &mut impl Read) -> io::Result<String> {
    let bytes = crate::probe::net::read_line(stream, MAX_LINE)?;
    if bytes.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the client closed the connection"));
    }
    Ok(String::from_utf8_lossy(&bytes).trim_end_matches(['\r', '\n']).to_owned())
}

fn decode_plain(payload: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload.trim()).ok()?;
    let mut parts = bytes.split(|b| *b == 0);
    let (_authzid, user, password) = (parts.next()?, parts.next()?, parts.next()?);
    Some((String::from_utf8_lossy(user).into_owned(), String::from_utf8_lossy(password).into_owned()))
}

fn decode_text(payload: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

// ---- SMTP --------------------------------------------------------------------

fn smtp_session(shared: &Shared, session: Session, mut client: Local) -> io::Result<()> {
    client.write_all(b"220 localhost ESMTP mailsettings bridge\r\n")?;
    let mut failures = 0;
    loop {
        let line = read_line(&mut client)?;
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        // With local TLS asked for, the sign-in waits for it (as a server's smtpd_tls_auth_only).
        let needs_tls = shared.local_tls.is_some() && !client.is_tls();
        let reply: &[u8] = match verb {
            "EHLO" if needs_tls => b"250-localhost\r\n250-STARTTLS\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n",
            "EHLO" => b"250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n",
            "HELO" => b"250 localhost\r\n",
            "STARTTLS" => match &shared.local_tls {
                Some(config) if needs_tls => {
                    client.write_all(b"220 2.0.0 ready to start TLS\r\n")?;
                    client = client.start_tls(config)?;
                    continue;
                }
                Some(_) => b"503 5.5.1 TLS is already on\r\n",
                None => b"502 5.5.1 STARTTLS is not offered (start the bridge with --local-tls)\r\n",
            },
            "AUTH" if needs_tls => b"530 5.7.0 Must issue a STARTTLS command first\r\n",
            "NOOP" | "RSET" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                client.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            "AUTH" => {
                let Some((user, password)) = smtp_credentials(&mut client, &line)? else {
                    client.write_all(b"501 5.5.2 could not read the sign-in\r\n")?;
                    continue;
                };
                let Some(served) = authorised(shared, &user, &password, Protocol::Smtp) else {
                    if wrong_sign_in(session, Protocol::Smtp, &user, &mut failures) {
                        client.write_all(b"421 4.7.0 too many wrong sign-ins, closing\r\n")?;
                        return Ok(());
                    }
                    client.write_all(b"535 5.7.8 the user name or local bridge password is wrong\r\n")?;
                    continue;
                };
                shared.registry.signed_in(session.id);
                // Through the provider's API: the bridge answers the session itself.
                if crate::checks::api_road(&served.setting, &shared.config, Protocol::Smtp).is_some() {
                    return match api_sign_in(shared, &served.setting) {
                        Ok(()) => {
                            client.write_all(
                                b"235 2.7.0 signed in through the bridge (sending through the mail API)\r\n",
                            )?;
                            api_side::serve(shared, &served.setting, &mut client)
                        }
                        Err(reason) => client
                            .write_all(format!("454 4.7.0 the mailbox could not be reached: {reason}\r\n").as_bytes()),
                    };
                }
                return match upstream_smtp(shared, &served.setting) {
                    Ok(upstream) => {
                        client.write_all(b"235 2.7.0 signed in through the bridge\r\n")?;
                        splice(client, upstream)
                    }
                    Err(reason) => {
                        client.write_all(format!("454 4.7.0 the mailbox could not be reached: {reason}\r\n").as_bytes())
                    }
                };
            }
            _ => b"530 5.7.0 sign in first (AUTH PLAIN or LOGIN with the local bridge password)\r\n",
        };
        client.write_all(reply)?;
    }
}

/// The user name and password of `AUTH PLAIN [payload]` or `AUTH LOGIN [user]`.
fn smtp_credentials(client: &mut Local, line: &str) -> io::Result<Option<(String, String)>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.get(1).map(|m| m.to_ascii_uppercase()).as_deref() {
        Some("PLAIN") => {
            let payload = match words.get(2) {
                Some(payload) => (*payload).to_owned(),
                None => {
                    client.write_all(b"334 \r\n")?;
                    read_line(client)?
                }
            };
            Ok(decode_plain(&payload))
        }
        Some("LOGIN") => {
            let user = match words.get(2) {
                Some(user) => decode_text(user),
                None => {
                    client.write_all(b"334 VXNlcm5hbWU6\r\n")?;
                    decode_text(&read_line(client)?)
                }
            };
            client.write_all(b"334 UGFzc3dvcmQ6\r\n")?;
            let password = decode_text(&read_line(client)?);
            Ok(user.zip(password))
        }
        _ => Ok(None),
    }
}

// ---- IMAP --------------------------------------------------------------------

fn imap_session(shared: &Shared, session: Session, mut client: Local) -> io::Result<()> {
    let mut failures = 0;
    // With local TLS asked for, the sign-in waits for it (RFC 3501's LOGINDISABLED).
    let needs_tls = |client: &Local| shared.local_tls.is_some() && !client.is_tls();
    let capabilities = |client: &Local| {
        if needs_tls(client) { "IMAP4rev1 STARTTLS LOGINDISABLED" } else { "IMAP4rev1 AUTH=PLAIN" }
    };
    client
        .write_all(format!("* OK [CAPABILITY {}] mailsettings bridge ready\r\n", capabilities(&client)).as_bytes())?;
    loop {
        let line = read_line(&mut client)?;
        let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let tag = tag.to_owned();
        let (command, arguments) = rest.split_once(' ').unwrap_or((rest, ""));
        let command = command.to_ascii_uppercase();
        if needs_tls(&client) && matches!(command.as_str(), "LOGIN" | "AUTHENTICATE") {
            client.write_all(format!("{tag} NO [PRIVACYREQUIRED] start TLS first (STARTTLS)\r\n").as_bytes())?;
            continue;
        }
        let credentials = match command.as_str() {
            "CAPABILITY" => {
                let reply = format!("* CAPABILITY {}\r\n{tag} OK done\r\n", capabilities(&client));
                client.write_all(reply.as_bytes())?;
                continue;
            }
            "STARTTLS" => {
                match &shared.local_tls {
                    Some(config) if needs_tls(&client) => {
                        client.write_all(format!("{tag} OK begin TLS now\r\n").as_bytes())?;
                        client = client.start_tls(config)?;
                    }
                    Some(_) => client.write_all(format!("{tag} BAD TLS is already on\r\n").as_bytes())?,
                    None => client.write_all(
                        format!("{tag} BAD STARTTLS is not offered (start the bridge with --local-tls)\r\n").as_bytes(),
                    )?,
                }
                continue;
            }
            "NOOP" => {
                client.write_all(format!("{tag} OK done\r\n").as_bytes())?;
                continue;
            }
            "LOGOUT" => {
                client.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())?;
                return Ok(());
            }
            "LOGIN" => imap_astrings(arguments),
            "AUTHENTICATE" if arguments.to_ascii_uppercase().starts_with("PLAIN") => {
                let payload = match arguments.split_whitespace().nth(1) {
                    Some(payload) => payload.to_owned(),
                    None => {
                        client.write_all(b"+ \r\n")?;
                        read_line(&mut client)?
                    }
                };
                decode_plain(&payload)
            }
            _ => {
                client.write_all(
                    format!("{tag} BAD sign in first (LOGIN with the local bridge password)\r\n").as_bytes(),
                )?;
                continue;
            }
        };
        let Some((user, password)) = credentials else {
            client.write_all(format!("{tag} BAD could not read the sign-in\r\n").as_bytes())?;
            continue;
        };
        let Some(served) = authorised(shared, &user, &password, Protocol::Imap) else {
            if wrong_sign_in(session, Protocol::Imap, &user, &mut failures) {
                client.write_all(b"* BYE too many wrong sign-ins\r\n")?;
                return Ok(());
            }
            client.write_all(
                format!("{tag} NO [AUTHENTICATIONFAILED] the user name or local bridge password is wrong\r\n")
                    .as_bytes(),
            )?;
            continue;
        };
        shared.registry.signed_in(session.id);
        return match upstream_imap(shared, &served.setting) {
            Ok(upstream) => {
                client.write_all(format!("{tag} OK signed in through the bridge\r\n").as_bytes())?;
                splice(client, upstream)
            }
            Err(reason) => client
                .write_all(format!("{tag} NO [UNAVAILABLE] the mailbox could not be reached: {reason}\r\n").as_bytes()),
        };
    }
}

/// `user password` as IMAP astrings (atoms or quoted strings; no literals).
fn imap_astrings(arguments: &str) -> Option<(String, String)> {
    let mut values = Vec::new();
    let mut chars = arguments.trim().chars().peekable();
    while values.len() < 2 {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut value = String::new();
        match chars.peek()? {
            '"' => {
                chars.next();
                loop {
                    match chars.next()? {
                        '\\' => value.push(chars.next()?),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            }
            '{' => return None,
            _ => {
                while let Some(c) = chars.peek().copied().filter(|c| *c != ' ') {
                    value.push(c);
                    chars.next();
                }
            }
        }
        values.push(value);
    }
    let password = values.pop()?;
    Some((values.pop()?, password))
}

// ---- upstream ------------------------------------------------------------------

/// Why the bridge could not sign in upstream: the staged report Test Outgoing or
/// Test Incoming would have given, logged for the admin (redacted, as every report).
/// The program is told the diagnosis's cause in a line of its own, never the
/// server's words (a server that echoes the sign-in would hand it the token).
fn refused(setting: &MailSetting, report: &crate::probe::Report) -> String {
    tracing::warn!("bridge: {} could not sign in upstream:\n{}", setting.id, report.to_text());
    let said = report
        .diagnosis
        .as_ref()
        .map_or_else(|| report.failure_summary(), |diagnosis| format!("{} {}", diagnosis.cause, diagnosis.next_step));
    crate::printable::printable(&said).replace(['\r', '\n'], " ")
}

/// Signs in upstream as Test Outgoing does (the probe's session: stages, deadlines,
/// diagnosis), with a fresh token; the connection is then the program's.
fn upstream_smtp(shared: &Shared, setting: &MailSetting) -> Result<End, String> {
    let (outgoing, _) = upstream_inputs(shared, setting)?;
    crate::probe::smtp::sign_in_to_pass_through(&outgoing, &shared.options, &CancelToken::new())
        .map(|signed_in| End::tls(signed_in.socket, rustls::Connection::Client(signed_in.tls)))
        .map_err(|report| refused(setting, &report))
}

/// For a setting that sends through its API: a token for sending can be had now (the
/// program hears at once when it cannot, as with a refused upstream sign-in).
fn api_sign_in(shared: &Shared, setting: &MailSetting) -> Result<(), String> {
    let (outgoing, _) = upstream_inputs(shared, setting)?;
    match outgoing.sign_in.unusable() {
        None => Ok(()),
        Some((err, diagnosis)) => {
            let words = diagnosis.map_or_else(|| err.to_string(), |d| format!("{} {}", d.cause, d.next_step));
            tracing::warn!("bridge: {} has no token for sending through its API: {words}", setting.id);
            Err(crate::printable::printable(&words).replace(['\r', '\n'], " "))
        }
    }
}

/// Signs in upstream as Test Incoming does; the connection is then the program's.
fn upstream_imap(shared: &Shared, setting: &MailSetting) -> Result<End, String> {
    // No IMAP server behind a setting that reads through its provider's API.
    if let Some(road) = crate::checks::api_road(setting, &shared.config, Protocol::Imap) {
        return Err(format!(
            "this setting reads through {} (Reads with), not IMAP: the bridge passes IMAP sessions only to an \
             IMAP server",
            road.transport.label(Protocol::Imap)
        ));
    }
    let (_, incoming) = upstream_inputs(shared, setting)?;
    crate::probe::imap::sign_in_to_pass_through(&incoming, &shared.options, &CancelToken::new())
        .map(|signed_in| End::tls(signed_in.socket, rustls::Connection::Client(signed_in.tls)))
        .map_err(|report| refused(setting, &report))
}

/// The setting's servers and a fresh token (the one way: `checks::access_token`).
fn upstream_inputs(
    shared: &Shared,
    setting: &MailSetting,
) -> Result<(crate::probe::OutgoingInput, crate::probe::IncomingInput), String> {
    if !setting.uses_oauth() {
        return Err("the setting does not sign in with OAuth".to_owned());
    }
    crate::checks::connection_inputs(setting, &shared.config, &shared.secrets, &shared.options)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_sign_in_arguments_are_read_as_astrings() {
        assert_eq!(imap_astrings("ar@rig.test secret"), Some(("ar@rig.test".into(), "secret".into())));
        assert_eq!(
            imap_astrings(r#""ar@rig.test" "pa\"ss\\word""#),
            Some(("ar@rig.test".into(), r#"pa"ss\word"#.into()))
        );
        assert_eq!(imap_astrings("{11}"), None, "literals are not taken");
        assert_eq!(imap_astrings("only-one"), None);
    }

    #[test]
    fn sasl_plain_is_decoded_and_secrets_compared_whole() {
        let payload = base64::engine::general_purpose::STANDARD.encode("\0ar@rig.test\0local-pw");
        assert_eq!(decode_plain(&payload), Some(("ar@rig.test".into(), "local-pw".into())));
        assert!(same_secret(b"local-pw", b"local-pw"));
        assert!(!same_secret(b"local-pw", b"local-p"));
        assert!(!same_secret(b"local-pw", b"local-px"));
        assert!(!same_secret(b"local-pw", b"local-pw-and-more"));
    }
}
