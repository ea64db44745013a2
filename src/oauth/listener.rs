//! The loopback listener that catches the browser's redirect.
//!
//! It serves any number of connections until the right request arrives: the
//! browser's `/favicon.ico`, wrong paths, a forged `state`, garbage and port
//! scans get a harmless answer and do not end the flow. An `error=` redirect
//! ends it with the provider's reason. The port closes when the listener is
//! dropped (done, timeout or cancel).
//!
//! Anything on this machine can connect, so no client can hold the flow up. The
//! waiting thread serves every connection itself, without ever blocking on one:
//! sockets are non-blocking, each connection gets a few seconds to send one
//! request head of at most 8 KB, one small answer with `Connection: close`, and
//! is closed; past 64 open at once the oldest is dropped ([`Limits`]), so idle sockets cannot lock the browser out (its request
//! arrives with its connection and is answered in the same turn). A small std::net
//! loop with `httparse` does this rather than tiny_http, whose `respond` writes on
//! the caller's thread with no write timeout, whose connections stay open for
//! pipelined requests, and which has no cap on connections.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::cancel::CancelToken;

pub const SUCCESS_PAGE: &str = "Authentication is complete. You may now close this page.";

/// What one client may take of the listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; a browser opens a handful.
    pub connections: usize,
    /// The longest request head read (request line and headers); the redirect's is well under 2 KB.
    pub request_head: usize,
    /// How long one connection may take from accept to answer.
    pub connection_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { connections: 64, request_head: 8 * 1024, connection_time: Duration::from_secs(5) }
    }
}
/// How long the waiting thread rests when nothing happened (new connections, cancel).
const POLL: Duration = Duration::from_millis(15);
/// Accept errors in a row after which the port is given up (the socket is broken).
const ACCEPT_ERRORS_TOLERATED: u32 = 50;

#[derive(Debug, Error)]
pub enum ListenError {
    #[error("could not open a local port for the sign-in redirect: {0}")]
    Bind(String),
    #[error("the local port for the sign-in redirect stopped accepting connections: {0}")]
    Accept(String),
    #[error("no sign-in arrived within {}; press Connect to try again", describe_wait(*.0))]
    TimedOut(Duration),
    #[error("the sign-in was cancelled")]
    Cancelled,
    #[error("the sign-in was refused: {error}{}", .description.as_deref().map(|d| format!(" — {d}")).unwrap_or_default())]
    Denied { error: String, description: Option<String> },
}

/// What came back on the redirect.
#[derive(Debug)]
pub struct Redirect {
    pub code: String,
}

/// A bound loopback listener (IPv4, plus IPv6 on the same port when possible,
/// because browsers may resolve `localhost` to `::1` first).
pub struct Listener {
    sockets: Vec<TcpListener>,
    port: u16,
    limits: Limits,
    /// Requests answered that were not the redirect, and connections dropped
    /// unanswered (for tests and logs).
    pub stray_requests: usize,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("port", &self.port).finish_non_exhaustive()
    }
}

/// One client connection, from accept to close.
struct Connection {
    stream: TcpStream,
    accepted: Instant,
    head: Vec<u8>,
    /// The answer's bytes, how many are written, and what the request meant.
    reply: Option<(Vec<u8>, usize, RedirectOutcome)>,
}

/// What became of a connection this turn.
enum Progress {
    Waiting,
    /// Answered (or given up): closed, with what the request meant.
    Closed(RedirectOutcome),
}

impl Connection {
    fn progress(&mut self, state: &str, limits: &Limits) -> Progress {
        if self.reply.is_none() {
            let mut buffer = [0u8; 2048];
            loop {
                match self.stream.read(&mut buffer) {
                    Ok(0) => return self.close(RedirectOutcome::Stray),
                    Ok(read) => self.head.extend_from_slice(&buffer[..read]),
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return self.close(RedirectOutcome::Stray),
                }
                if let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") {
                    self.head.truncate(end + 4);
                    let answer = answer(&self.head, state);
                    self.reply = Some((response_bytes(&answer), 0, answer.outcome));
                    break;
                }
                if self.head.len() > limits.request_head {
                    let answer = too_large();
                    self.reply = Some((response_bytes(&answer), 0, answer.outcome));
                    break;
                }
            }
        }
        if let Some((bytes, written, _)) = &mut self.reply {
            while *written < bytes.len() {
                match self.stream.write(&bytes[*written..]) {
                    Ok(0) => break,
                    Ok(n) => *written += n,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => return self.expire(limits),
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let outcome = self.reply.take().map_or(RedirectOutcome::Stray, |(_, _, outcome)| outcome);
            return self.close(outcome);
        }
        self.expire(limits)
    }

    fn expire(&mut self, limits: &Limits) -> Progress {
        if self.accepted.elapsed() >= limits.connection_time {
            // Too slow to ask or to read the answer. A redirect already understood still counts.
            let outcome = self.reply.take().map_or(RedirectOutcome::Stray, |(_, _, outcome)| outcome);
            return self.close(outcome);
        }
        Progress::Waiting
    }

    fn close(&mut self, outcome: RedirectOutcome) -> Progress {
        // Half-close, then discard what the client already sent (a pipelined request):
        // closing with unread data would reset the connection and could take the
        // answer with it.
        let _ = self.stream.shutdown(Shutdown::Write);
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if !matches!(self.stream.read(&mut sink), Ok(read) if read > 0) {
                break;
            }
        }
        Progress::Closed(outcome)
    }
}

/// What one request meant, as the serving thread reports it.
#[derive(Debug, PartialEq, Eq)]
pub enum RedirectOutcome {
    /// Not the redirect (answered, the flow goes on).
    Stray,
    Code(String),
    Denied {
        error: String,
        description: Option<String>,
    },
}

/// The answer to one request: status, page title and text, and what it meant.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub title: &'static str,
    pub text: String,
    pub outcome: RedirectOutcome,
}

/// 127.0.0.1 and [::1] on one port, both ours: the redirect says `localhost`, and
/// a browser may take either. When [::1] on the port 127.0.0.1 got is taken by
/// someone else (another local user waiting for a redirect), both are dropped and
/// another port tried; only a machine without IPv6 loopback gets 127.0.0.1 alone
/// (its browser cannot reach [::1] either).
fn bind_both(bind_v6: impl Fn(u16) -> std::io::Result<TcpListener>) -> Result<(Vec<TcpListener>, u16), ListenError> {
    let bind_error = |e: std::io::Error| ListenError::Bind(e.to_string());
    for _ in 0..20 {
        let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(bind_error)?;
        let port = v4.local_addr().map_err(bind_error)?.port();
        match bind_v6(port) {
            Ok(v6) => return Ok((vec![v4, v6], port)),
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                tracing::debug!("[::1]:{port} is taken; trying another port for the sign-in redirect");
            }
            Err(err) => {
                // Said, not only logged for debugging: the redirect says `localhost`, and a browser
                // that tries [::1] first falls back to 127.0.0.1 only after a refusal.
                tracing::warn!("no IPv6 loopback ({err}); the sign-in redirect listens on 127.0.0.1 only");
                return Ok((vec![v4], port));
            }
        }
    }
    Err(ListenError::Bind("no port was free on both 127.0.0.1 and [::1]".to_owned()))
}

impl Listener {
    pub fn bind() -> Result<Self, ListenError> {
        Self::bind_with(Limits::default())
    }

    pub(crate) fn bind_with(limits: Limits) -> Result<Self, ListenError> {
        let (sockets, port) = bind_both(|port| TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))))?;
        for socket in &sockets {
            socket.set_nonblocking(true).map_err(|e| ListenError::Bind(e.to_string()))?;
        }
        Ok(Self { sockets, port, limits, stray_requests: 0 })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves connections until the redirect carrying `state` arrives.
    pub fn wait(&mut self, state: &str, timeout: Duration, cancel: &CancelToken) -> Result<Redirect, ListenError> {
        // A timeout past what an Instant can hold waits "forever" (until cancelled), never panics.
        let deadline = Instant::now().checked_add(timeout);
        let mut connections: Vec<Connection> = Vec::new();
        let mut accept_errors = 0;
        loop {
            if cancel.is_cancelled() {
                return Err(ListenError::Cancelled);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(ListenError::TimedOut(timeout));
            }
            let mut busy = false;
            for socket in &self.sockets {
                loop {
                    match socket.accept() {
                        Ok((stream, _)) => {
                            accept_errors = 0;
                            busy = true;
                            if stream.set_nonblocking(true).is_err() {
                                continue;
                            }
                            if connections.len() >= self.limits.connections {
                                // The oldest first: idle sockets age out, a browser's request is answered at once.
                                connections.remove(0);
                                self.stray_requests += 1;
                            }
                            connections.push(Connection {
                                stream,
                                accepted: Instant::now(),
                                head: Vec::new(),
                                reply: None,
                            });
                        }
                        Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                        Err(error) => {
                            // Out of file descriptors, a connection reset before accept: worth a
                            // line in the log; only a socket that keeps failing ends the wait.
                            accept_errors += 1;
                            tracing::warn!("the sign-in redirect port could not accept a connection: {error}");
                            if accept_errors >= ACCEPT_ERRORS_TOLERATED {
                                return Err(ListenError::Accept(error.to_string()));
                            }
                            break;
                        }
                    }
                }
            }
            let mut index = 0;
            while index < connections.len() {
                match connections[index].progress(state, &self.limits) {
                    Progress::Waiting => index += 1,
                    Progress::Closed(outcome) => {
                        busy = true;
                        connections.remove(index);
                        match outcome {
                            RedirectOutcome::Stray => self.stray_requests += 1,
                            RedirectOutcome::Code(code) => return Ok(Redirect { code }),
                            RedirectOutcome::Denied { error, description } => {
                                return Err(ListenError::Denied { error, description });
                            }
                        }
                    }
                }
            }
            if !busy {
                std::thread::sleep(POLL);
            }
        }
    }
}

fn too_large() -> Answer {
    Answer {
        status: 431,
        title: "Request too large",
        text: "This address only receives the Mail Settings sign-in.".to_owned(),
        outcome: RedirectOutcome::Stray,
    }
}

/// What to answer to a request head, and what it means for the flow (pure: the
/// fuzz tests feed it arbitrary bytes).
pub fn answer(head: &[u8], state: &str) -> Answer {
    let stray =
        |status, title, text: &str| Answer { status, title, text: text.to_owned(), outcome: RedirectOutcome::Stray };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let target = match request.parse(head) {
        Ok(httparse::Status::Complete(_)) if request.method == Some("GET") => request.path.unwrap_or_default(),
        _ => return stray(400, "Bad request", "This address only receives the Mail Settings sign-in."),
    };
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
    let Some(url) = url.filter(|u| u.path() == "/" && target.starts_with('/')) else {
        return stray(404, "Not found", "This address only receives the Mail Settings sign-in.");
    };
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    if query.get("state").map(String::as_str) != Some(state) {
        // Not our sign-in (a stale tab, or a forged link): say so, keep waiting.
        return stray(
            400,
            "This sign-in is not the one Mail Settings is waiting for",
            "Go back to Mail Settings and use the link it shows, or press Connect again.",
        );
    }
    if let Some(error) = query.get("error") {
        // Anyone can open this address: what it says is shown, never run by a terminal.
        let error = crate::printable::printable(error);
        let description = query.get("error_description").map(|d| crate::printable::printable(d));
        return Answer {
            status: 200,
            title: "Sign-in was not completed",
            text: format!(
                "{error}: {}. You may close this page and return to Mail Settings.",
                description.clone().unwrap_or_default()
            ),
            outcome: RedirectOutcome::Denied { error, description },
        };
    }
    match query.get("code").filter(|c| !c.is_empty()) {
        Some(code) => Answer {
            status: 200,
            title: "Mail Settings",
            text: SUCCESS_PAGE.to_owned(),
            outcome: RedirectOutcome::Code(code.clone()),
        },
        None => stray(400, "No sign-in code", "The redirect carried no code. Press Connect again."),
    }
}

fn response_bytes(answer: &Answer) -> Vec<u8> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>",
        title = escape(answer.title),
        text = escape(&answer.text)
    );
    let reason = match answer.status {
        200 => "OK",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let mut bytes = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        answer.status,
        html.len()
    )
    .into_bytes();
    bytes.extend_from_slice(html.as_bytes());
    bytes
}

/// "2 seconds", "1 minute", "5 minutes": the wait in the unit a person would say.
fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs();
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if seconds < 120 { plural(seconds, "second") } else { plural(seconds.div_ceil(60), "minute") }
}

#[cfg(test)]
mod wait_tests {
    use super::*;

    #[test]
    fn waits_are_said_in_the_unit_a_person_would_use() {
        assert_eq!(describe_wait(Duration::from_secs(2)), "2 seconds");
        assert_eq!(describe_wait(Duration::from_secs(1)), "1 second");
        assert_eq!(describe_wait(Duration::from_secs(300)), "5 minutes");
        assert_eq!(describe_wait(Duration::from_secs(121)), "3 minutes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Someone holding [::1] on the port 127.0.0.1 got cannot receive the redirect:
    /// another port is taken for both; no IPv6 at all leaves 127.0.0.1 alone.
    #[test]
    fn a_taken_ipv6_loopback_port_is_never_shared() {
        let tries = std::cell::Cell::new(0);
        let (sockets, port) = bind_both(|_| {
            tries.set(tries.get() + 1);
            if tries.get() < 3 {
                Err(std::io::Error::from(std::io::ErrorKind::AddrInUse))
            } else {
                // A stand-in for the [::1] socket (the machine may have no IPv6).
                TcpListener::bind(("127.0.0.1", 0))
            }
        })
        .unwrap();
        assert_eq!((tries.get(), sockets.len()), (3, 2), "retried until both were ours");
        assert_eq!(sockets[0].local_addr().unwrap().port(), port);
        let (sockets, _) = bind_both(|_| Err(std::io::Error::from(std::io::ErrorKind::AddrNotAvailable))).unwrap();
        assert_eq!(sockets.len(), 1, "no IPv6 loopback: 127.0.0.1 alone");
        let all_taken = bind_both(|_| Err(std::io::Error::from(std::io::ErrorKind::AddrInUse)));
        assert!(all_taken.is_err(), "never 127.0.0.1 alone while [::1] is someone else's");
    }
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::thread;

    const STATE: &str = "s3cr3t-state";

    fn request(target: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
    }

    #[test]
    fn only_the_redirect_with_our_state_and_a_code_ends_the_flow() {
        let code = answer(&request(&format!("/?code=abc&state={STATE}")), STATE);
        assert_eq!((code.status, code.outcome), (200, RedirectOutcome::Code("abc".to_owned())));
        let denied =
            answer(&request(&format!("/?error=access_denied&error_description=No%1b[2J&state={STATE}")), STATE);
        assert_eq!(denied.status, 200);
        let RedirectOutcome::Denied { error, description } = denied.outcome else { panic!("{denied:?}") };
        assert_eq!(error, "access_denied");
        assert!(!description.unwrap().contains('\x1b'), "the reason is made printable");
        for (head, status) in [
            (request("/?code=abc&state=forged"), 400),
            (request(&format!("/?code=abc&state={}", &STATE[..STATE.len() - 1])), 400),
            (request(&format!("/?code=abc&state={STATE}x")), 400),
            (request("/?code=abc&state="), 400),
            (request("/?code=abc"), 400),
            (request(&format!("/?state={STATE}")), 400),
            (request(&format!("/?code=&state={STATE}")), 400),
            (request("/favicon.ico"), 404),
            (request(&format!("http://evil.example/?code=abc&state={STATE}")), 404),
            (format!("POST /?code=abc&state={STATE} HTTP/1.1\r\n\r\n").into_bytes(), 400),
            (b"\x16\x03\x01\x02\x00garbage\r\n\r\n".to_vec(), 400),
            (b"GET / HTTP/1.1\r\n".to_vec(), 400),
        ] {
            let answered = answer(&head, STATE);
            assert_eq!(
                (answered.status, &answered.outcome),
                (status, &RedirectOutcome::Stray),
                "{:?}",
                String::from_utf8_lossy(&head)
            );
        }
    }

    /// The wait's result and how many stray requests it saw.
    type Waited = (Result<Redirect, ListenError>, usize);

    /// Starts waiting on a thread; returns the port and the wait's result.
    fn waiting(limits: Limits) -> (u16, thread::JoinHandle<Waited>) {
        let mut listener = Listener::bind_with(limits).unwrap();
        let port = listener.port();
        let wait = thread::spawn(move || {
            let result = listener.wait(STATE, Duration::from_secs(30), &CancelToken::new());
            (result, listener.stray_requests)
        });
        (port, wait)
    }

    fn send(port: u16, bytes: &[u8]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(bytes).unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    }

    #[test]
    fn idle_pipelining_and_oversized_clients_neither_stall_nor_lock_out_the_browser() {
        let limits = Limits { connections: 8, request_head: 1024, connection_time: Duration::from_secs(2) };
        let (port, wait) = waiting(limits);
        // Twice the cap of sockets that never say anything.
        let idle: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
        // A client that pipelines stray requests and never reads an answer.
        let mut flood = TcpStream::connect(("127.0.0.1", port)).unwrap();
        flood.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        let stray = request("/?code=x&state=forged");
        let sent = (0..5_000).take_while(|_| flood.write_all(&stray).is_ok()).count();
        assert!(sent > 0);
        // A head past the limit is refused and the connection closed.
        let oversized = send(port, &[b"GET /?pad=".as_slice(), &[b'a'; 4096], b" HTTP/1.1\r\n\r\n"].concat());
        assert!(oversized.starts_with("HTTP/1.1 431 "), "{oversized}");
        // The browser's redirect is answered at once, despite all of them.
        let started = Instant::now();
        let reply = send(port, &request(&format!("/?code=the-code&state={STATE}")));
        assert!(started.elapsed() < Duration::from_secs(1), "answered in {:?}", started.elapsed());
        assert!(reply.starts_with("HTTP/1.1 200 OK") && reply.contains("Connection: close"), "{reply}");
        assert!(reply.contains(SUCCESS_PAGE));
        let (result, strays) = wait.join().unwrap();
        assert_eq!(result.unwrap().code, "the-code");
        assert!(strays >= 8, "idle sockets past the cap were dropped: {strays}");
        drop(idle);
    }

    #[test]
    fn a_connection_that_says_nothing_is_closed_after_its_time() {
        let limits = Limits { connection_time: Duration::from_millis(500), ..Limits::default() };
        let (port, wait) = waiting(limits);
        let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
        silent.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let started = Instant::now();
        let mut buffer = [0u8; 16];
        assert_eq!(silent.read(&mut buffer).unwrap_or(0), 0, "closed without an answer");
        assert!(started.elapsed() < Duration::from_secs(2), "closed after {:?}", started.elapsed());
        // One request per connection: the second on the same socket is never read.
        let mut keep_alive = TcpStream::connect(("127.0.0.1", port)).unwrap();
        keep_alive
            .write_all(&[request("/favicon.ico"), request(&format!("/?code=late&state={STATE}"))].concat())
            .unwrap();
        let mut reply = String::new();
        keep_alive.read_to_string(&mut reply).unwrap();
        assert_eq!(reply.matches("HTTP/1.1 ").count(), 1, "{reply}");
        send(port, &request(&format!("/?code=c&state={STATE}")));
        assert_eq!(wait.join().unwrap().0.unwrap().code, "c");
    }
}
