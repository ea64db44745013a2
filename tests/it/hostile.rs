//! Small hostile servers for the failure paths: each records every byte it
//! receives (decrypted, where TLS was set up) so a test can assert that no
//! credential was sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rcgen::{CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How the server misbehaves.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// SMTP that never offers STARTTLS (but happily offers AUTH).
    SmtpNoStarttls,
    /// SMTP that agrees to STARTTLS and then keeps talking plain text.
    SmtpStarttlsThenPlain,
    /// IMAP that never offers STARTTLS.
    ImapNoStarttls,
    /// TLS on connect with this certificate, then an SMTP greeting.
    Tls(Arc<rustls::ServerConfig>),
    /// Accepts and never says anything.
    Silent,
    /// Binary noise instead of a greeting.
    Garbage,
    /// A greeting line that never ends.
    EndlessLine,
    /// A web server.
    Http,
    /// Answers a TLS client with the start of a huge handshake record, then one
    /// byte every 100 ms: every socket read is "in time", the record never ends.
    Drip,
    /// Plain text: the start of a greeting, one byte every 100 ms for 2.5 s, then
    /// silence with the connection open — each read "in time", the line never ends.
    PlainTrickleThenSilent,
    /// IMAP whose greeting and replies carry terminal commands (clear screen,
    /// an OSC 52 clipboard write, BEL) and a bidi override.
    TerminalCommands,
    /// IMAP over TLS on connect (this certificate) that refuses every sign-in and
    /// repeats the client's whole command in its refusal — the password with it, in
    /// whatever quoting the client used.
    ImapEchoesLogin(Arc<rustls::ServerConfig>),
    /// IMAP over TLS on connect that refuses every sign-in as a provider does: these
    /// untagged lines first (`* NO [WEBALERT …]`), then the tagged refusal.
    ImapRefuses { tls: Arc<rustls::ServerConfig>, untagged: &'static str, refusal: &'static str },
}

pub struct Hostile {
    pub port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (received2, stop2) = (received.clone(), stop.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).ok();
                        let (behaviour, received, stop) = (behaviour.clone(), received2.clone(), stop2.clone());
                        thread::spawn(move || serve(stream, &behaviour, &received, &stop));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { port, received, stop }
    }

    /// Everything the client sent, as text.
    pub fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn record(received: &Mutex<Vec<u8>>, bytes: &[u8]) {
    received.lock().unwrap().extend_from_slice(bytes);
}

/// Reads one line (or whatever arrives before the peer closes).
fn read_line(stream: &mut impl Read, received: &Mutex<Vec<u8>>) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => {
                return if line.is_empty() { None } else { Some(String::from_utf8_lossy(&line).into_owned()) };
            }
            Ok(_) => {
                record(received, &byte);
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Some(String::from_utf8_lossy(&line).into_owned());
                }
            }
        }
    }
}

#[allow(clippy::too_many_lines, reason = "the test server: one arm per hostile behaviour")]
fn serve(mut stream: TcpStream, behaviour: &Behaviour, received: &Mutex<Vec<u8>>, stop: &AtomicBool) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    match behaviour {
        Behaviour::SmtpNoStarttls | Behaviour::SmtpStarttlsThenPlain => {
            let _ = stream.write_all(b"220 hostile.test ESMTP\r\n");
            while let Some(line) = read_line(&mut stream, received) {
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") {
                    if matches!(behaviour, Behaviour::SmtpNoStarttls) {
                        b"250-hostile.test\r\n250 AUTH PLAIN LOGIN\r\n"
                    } else {
                        b"250-hostile.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
                    }
                } else if upper.starts_with("STARTTLS") {
                    let _ = stream.write_all(b"220 go ahead\r\n250 but still plain text\r\n");
                    continue;
                } else if upper.starts_with("QUIT") {
                    let _ = stream.write_all(b"221 bye\r\n");
                    return;
                } else {
                    b"250 ok\r\n"
                };
                let _ = stream.write_all(reply);
            }
        }
        Behaviour::ImapNoStarttls => {
            let _ = stream.write_all(b"* OK hostile IMAP ready\r\n");
            while let Some(line) = read_line(&mut stream, received) {
                let tag = line.split(' ').next().unwrap_or("*").to_owned();
                if line.to_ascii_uppercase().contains("CAPABILITY") {
                    let _ =
                        stream.write_all(format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n").as_bytes());
                } else {
                    let _ = stream.write_all(format!("{tag} OK fine\r\n").as_bytes());
                }
            }
        }
        Behaviour::Tls(config) => {
            let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(connection, stream);
            if tls.write_all(b"220 tls hostile ESMTP\r\n").is_err() {
                return;
            }
            while let Some(line) = read_line(&mut tls, received) {
                let reply: &[u8] = if line.to_ascii_uppercase().starts_with("EHLO") {
                    b"250-hostile\r\n250 AUTH PLAIN LOGIN\r\n"
                } else {
                    b"250 ok\r\n"
                };
                if tls.write_all(reply).is_err() {
                    return;
                }
            }
        }
        Behaviour::ImapEchoesLogin(config) => imap_refusing_every_sign_in(stream, config, received, |tag, line| {
            format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials in: {line}\r\n")
        }),
        Behaviour::ImapRefuses { tls: config, untagged, refusal } => {
            imap_refusing_every_sign_in(stream, config, received, |tag, _| format!("{untagged}{tag} {refusal}\r\n"));
        }
        Behaviour::Silent => {
            let mut buf = [0u8; 1024];
            while !stop.load(Ordering::SeqCst) {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => record(received, &buf[..n]),
                }
            }
        }
        Behaviour::Drip => {
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]);
            while !stop.load(Ordering::SeqCst) && stream.write_all(&[0x02]).is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        Behaviour::PlainTrickleThenSilent => {
            let started = std::time::Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < std::time::Duration::from_millis(2500) {
                if stream.write_all(b"2").is_err() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let mut buf = [0u8; 1024];
            while !stop.load(Ordering::SeqCst) {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => record(received, &buf[..n]),
                }
            }
        }
        Behaviour::TerminalCommands => {
            // ESC sequences, an OSC 52 clipboard write, BEL, a bidi override, DEL, C1
            // controls (NEL, CSI) and U+2028.
            let _ = stream.write_all(
                b"* OK \x1b[2J\x1b]52;c;ZXZpbA==\x07 hostile \xe2\x80\xae ready\x7f \xc2\x85\xc2\x9b31m \xe2\x80\xa8end\r\n",
            );
            while let Some(line) = read_line(&mut stream, received) {
                let tag = line.split(' ').next().unwrap_or("*").to_owned();
                let _ = stream.write_all(format!("{tag} NO \x1b[31mdenied\x07\x7f\u{85}\u{2028}\r\n").as_bytes());
            }
        }
        Behaviour::Garbage => {
            let _ = stream.write_all(b"\x00\xff\x13\x37garbage\x1b[2J\xfe\r\n");
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    return;
                }
                record(received, &buf[..n]);
            }
        }
        Behaviour::EndlessLine => {
            let _ = stream.write_all(b"220-");
            let chunk = [b'A'; 8192];
            while !stop.load(Ordering::SeqCst) && stream.write_all(&chunk).is_ok() {}
        }
        Behaviour::Http => {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
        }
    }
}

/// A CA the probe is told to trust, and server certificates it signs.
/// IMAP over TLS on connect (this certificate) that answers CAPABILITY and LOGOUT and
/// refuses every other command — a sign-in above all — with `refusal(tag, line)`.
fn imap_refusing_every_sign_in(
    stream: TcpStream,
    config: &Arc<rustls::ServerConfig>,
    received: &Mutex<Vec<u8>>,
    refusal: impl Fn(&str, &str) -> String,
) {
    let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    if tls.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n").is_err() {
        return;
    }
    while let Some(line) = read_line(&mut tls, received) {
        let line = line.trim_end();
        let tag = line.split(' ').next().unwrap_or("*");
        let reply = match line.split(' ').nth(1).map(str::to_ascii_uppercase).as_deref() {
            Some("CAPABILITY") => format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"),
            Some("LOGOUT") => format!("* BYE\r\n{tag} OK bye\r\n"),
            _ => refusal(tag, line),
        };
        if tls.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

pub struct TestCa {
    pub pem_file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Hostile Test CA");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem_file = dir.path().join("ca.pem");
        std::fs::write(&pem_file, cert.pem()).unwrap();
        Self { pem_file, issuer: Issuer::new(params, key), _dir: dir }
    }

    /// A server config whose certificate names `host` and is valid from/until the given times.
    pub fn server(
        &self,
        host: &str,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> Arc<rustls::ServerConfig> {
        let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        server_config(cert.der().clone(), &key)
    }
}

pub fn self_signed_server(host: &str) -> Arc<rustls::ServerConfig> {
    let certified = rcgen::generate_simple_self_signed(vec![host.to_owned()]).unwrap();
    server_config(certified.cert.der().clone(), &certified.signing_key)
}

fn server_config(cert: CertificateDer<'static>, key: &KeyPair) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    Arc::new(config)
}
