//! Name lookup, TCP connect and the guarded stream every probe reads through.
//!
//! The guarded stream enforces a deadline per step (a server that trickles
//! bytes forever cannot keep a read alive past it), a byte budget per step (a
//! server that sends endless lines cannot exhaust memory), and cancellation.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

use super::error::ProbeError;
use crate::cancel::CancelToken;

/// Most bytes a server may send in one step (a greeting, a reply, a folder list).
pub const STEP_BYTE_BUDGET: usize = 4 * 1024 * 1024;

/// Resolves `host` with a timeout (the OS resolver has none of its own).
pub fn resolve(host: &str, port: u16, timeout: Duration, cancel: &CancelToken) -> Result<Vec<SocketAddr>, ProbeError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let query = format!("{host}:{port}");
    let spawned = std::thread::Builder::new().name("dns-lookup".to_owned()).spawn(move || {
        let _ = sender.send(query.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    if spawned.is_err() {
        return Err(ProbeError::Dns { host: host.to_owned(), reason: "could not start the lookup".to_owned() });
    }
    let started = Instant::now();
    loop {
        if cancel.is_cancelled() {
            return Err(ProbeError::Cancelled);
        }
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(addrs)) if !addrs.is_empty() => return Ok(addrs),
            Ok(Ok(_)) => {
                return Err(ProbeError::Dns { host: host.to_owned(), reason: "the name has no addresses".to_owned() });
            }
            Ok(Err(err)) => {
                return Err(ProbeError::Dns { host: host.to_owned(), reason: err.to_string() });
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if started.elapsed() < timeout => {}
            Err(_) => {
                return Err(ProbeError::Dns {
                    host: host.to_owned(),
                    reason: format!("no answer within {} s", timeout.as_secs()),
                });
            }
        }
    }
}

/// Connects to the first address that answers.
pub fn connect(addrs: &[SocketAddr], timeout: Duration, cancel: &CancelToken) -> Result<TcpStream, ProbeError> {
    let mut last = None;
    for addr in addrs {
        if cancel.is_cancelled() {
            return Err(ProbeError::Cancelled);
        }
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                cancel.watch(&stream);
                return Ok(stream);
            }
            Err(err) => last = Some((addr, err)),
        }
    }
    match last {
        Some((addr, err)) => Err(ProbeError::Connect { addr: *addr, kind: err.kind(), reason: err.to_string() }),
        None => Err(ProbeError::Dns { host: String::new(), reason: "no addresses".to_owned() }),
    }
}

/// Plain TCP, or TLS over it.
#[derive(Debug)]
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, DeadlineSocket>>),
    /// Only while swapping plain for TLS.
    Taken,
}

/// The deadline and byte budget of the current step. Shared, so a step can be
/// started while the stream itself is owned by a protocol library (imap).
#[derive(Debug, Clone)]
pub struct StepClock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    origin: Instant,
    deadline_micros: AtomicU64,
    bytes_left: AtomicUsize,
    /// Every byte read since the connection opened (a server that said anything is not silent).
    bytes_read: AtomicUsize,
}

impl Default for StepClock {
    fn default() -> Self {
        Self::new()
    }
}

impl StepClock {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ClockInner {
                origin: Instant::now(),
                deadline_micros: AtomicU64::new(0),
                bytes_left: AtomicUsize::new(STEP_BYTE_BUDGET),
                bytes_read: AtomicUsize::new(0),
            }),
        }
    }

    /// Starts a new step: `timeout` from now, a fresh byte budget.
    pub(crate) fn begin(&self, timeout: Duration) {
        let deadline = self.inner.origin.elapsed().saturating_add(timeout);
        let micros = u64::try_from(deadline.as_micros()).unwrap_or(u64::MAX);
        self.inner.deadline_micros.store(micros, Ordering::SeqCst);
        self.inner.bytes_left.store(STEP_BYTE_BUDGET, Ordering::SeqCst);
    }

    fn remaining(&self) -> Duration {
        let deadline = Duration::from_micros(self.inner.deadline_micros.load(Ordering::SeqCst));
        deadline.saturating_sub(self.inner.origin.elapsed())
    }

    fn bytes_left(&self) -> usize {
        self.inner.bytes_left.load(Ordering::SeqCst)
    }

    fn spend(&self, bytes: usize) {
        let left = self.bytes_left().saturating_sub(bytes);
        self.inner.bytes_left.store(left, Ordering::SeqCst);
        self.inner.bytes_read.fetch_add(bytes, Ordering::SeqCst);
    }

    /// Whether the server has sent anything at all on this connection.
    pub(crate) fn heard_anything(&self) -> bool {
        self.inner.bytes_read.load(Ordering::SeqCst) > 0
    }
}

/// The socket under TLS: every read and write checks the step's deadline and
/// cancellation first. rustls reads a record (or a handshake flight) in many
/// socket reads; a server dripping one byte a second would otherwise keep one
/// TLS read alive far past the deadline, each socket read being "in time".
#[derive(Debug)]
pub struct DeadlineSocket {
    socket: TcpStream,
    clock: StepClock,
    cancel: CancelToken,
}

impl DeadlineSocket {
    /// `socket`, every read and write checked against `clock` and `cancel`.
    pub fn new(socket: TcpStream, clock: StepClock, cancel: CancelToken) -> Self {
        Self { socket, clock, cancel }
    }

    /// The socket itself, unguarded again.
    pub fn into_inner(self) -> TcpStream {
        self.socket
    }

    fn arm(&self) -> io::Result<()> {
        // Not `Interrupted`: readers retry on that, and a cancelled read must end.
        if self.cancel.is_cancelled() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, CANCELLED));
        }
        let remaining = self.clock.remaining();
        if remaining.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, STEP_TIMED_OUT));
        }
        self.socket.set_read_timeout(Some(remaining))?;
        self.socket.set_write_timeout(Some(remaining))
    }
}

impl Read for DeadlineSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.socket.read(buf)
    }
}

impl Write for DeadlineSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.socket.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.socket.flush()
    }
}

/// A connection with a per-step deadline, byte budget and cancellation.
#[derive(Debug)]
pub struct GuardedStream {
    pub transport: Transport,
    clock: StepClock,
    cancel: CancelToken,
    /// The last bytes the server sent (at most [`HEARD_KEPT`]): the lines a protocol
    /// library reads past — IMAP's untagged `* NO [ALERT] …` before a refusal — are
    /// taken from here for the report.
    heard: Vec<u8>,
}

/// How much of what the server sent last is kept (a refusal and the lines before it).
const HEARD_KEPT: usize = 16 * 1024;

impl GuardedStream {
    pub fn new(socket: TcpStream, cancel: CancelToken) -> Self {
        Self { transport: Transport::Plain(socket), clock: StepClock::new(), cancel, heard: Vec::new() }
    }

    /// A stream that reads `bytes` through a real loopback socket and then the end,
    /// as a server that said exactly this would (tests of the reply readers).
    #[cfg(test)]
    #[allow(clippy::expect_used)]
    pub(crate) fn replaying(bytes: &[u8]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut writer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (reader, _) = listener.accept().expect("accept");
        writer.write_all(bytes).expect("write");
        drop(writer); // the reader then sees the end, never waits
        let mut stream = Self::new(reader, CancelToken::new());
        stream.begin_step(Duration::from_secs(5));
        stream
    }

    /// Starts a new step: `timeout` from now, a fresh byte budget.
    pub(crate) fn begin_step(&mut self, timeout: Duration) {
        self.clock.begin(timeout);
    }

    /// Whether the server has sent anything at all on this connection.
    pub(crate) fn heard_anything(&self) -> bool {
        self.clock.heard_anything()
    }

    /// The last bytes the server sent (see [`HEARD_KEPT`]).
    pub(crate) fn heard(&self) -> &[u8] {
        &self.heard
    }

    /// A handle to start steps after the stream has been handed to a library.
    pub fn clock(&self) -> StepClock {
        self.clock.clone()
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    pub fn socket(&self) -> Option<&TcpStream> {
        match &self.transport {
            Transport::Plain(socket) => Some(socket),
            Transport::Tls(tls) => Some(&tls.sock.socket),
            Transport::Taken => None,
        }
    }

    /// Replaces the plain socket with a TLS session over it (not yet handshaken).
    pub(crate) fn start_tls(
        &mut self,
        config: Arc<rustls::ClientConfig>,
        server_name: rustls::pki_types::ServerName<'static>,
    ) -> Result<(), ProbeError> {
        let Transport::Plain(socket) = std::mem::replace(&mut self.transport, Transport::Taken) else {
            return Err(ProbeError::Protocol("TLS was already started".to_owned()));
        };
        let connection =
            ClientConnection::new(config, server_name).map_err(|e| ProbeError::Tls(e.to_string().into()))?;
        let socket = DeadlineSocket { socket, clock: self.clock.clone(), cancel: self.cancel.clone() };
        self.transport = Transport::Tls(Box::new(StreamOwned::new(connection, socket)));
        Ok(())
    }

    /// Runs the TLS handshake to completion within the step's deadline.
    pub fn handshake(&mut self) -> Result<(), io::Error> {
        loop {
            self.arm_timeouts()?;
            let Transport::Tls(tls) = &mut self.transport else {
                return Ok(());
            };
            if !tls.conn.is_handshaking() {
                return Ok(());
            }
            let (read, _) = match tls.conn.complete_io(&mut tls.sock) {
                Ok(done) => done,
                Err(_) if self.cancel.is_cancelled() => {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, CANCELLED));
                }
                Err(err) if matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, STEP_TIMED_OUT));
                }
                Err(err) => return Err(err),
            };
            if read == 0 && tls.conn.is_handshaking() && tls.conn.wants_read() {
                if self.cancel.is_cancelled() {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, CANCELLED));
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the TLS handshake",
                ));
            }
        }
    }

    /// The socket and the TLS session, once nothing more is to be checked: a
    /// signed-in connection handed on to be passed through (the bridge). `None`
    /// before TLS is up.
    pub(crate) fn into_tls(self) -> Option<(TcpStream, ClientConnection)> {
        match self.transport {
            Transport::Tls(tls) => {
                let StreamOwned { conn, sock } = *tls;
                Some((sock.into_inner(), conn))
            }
            Transport::Plain(_) | Transport::Taken => None,
        }
    }

    pub(crate) fn tls_connection(&self) -> Option<&ClientConnection> {
        match &self.transport {
            Transport::Tls(tls) => Some(&tls.conn),
            _ => None,
        }
    }

    fn arm_timeouts(&self) -> io::Result<()> {
        if self.cancel.is_cancelled() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, CANCELLED));
        }
        let remaining = self.clock.remaining();
        if remaining.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, STEP_TIMED_OUT));
        }
        if let Some(socket) = self.socket() {
            socket.set_read_timeout(Some(remaining))?;
            socket.set_write_timeout(Some(remaining))?;
        }
        Ok(())
    }
}

/// Error texts the probe recognises when mapping io errors.
pub const CANCELLED: &str = "cancelled";
pub const STEP_TIMED_OUT: &str = "the server did not answer in time";
pub const TOO_MUCH: &str = "the server sent far more data than this step needs";

impl Read for GuardedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm_timeouts()?;
        let bytes_left = self.clock.bytes_left();
        if bytes_left == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TOO_MUCH));
        }
        let limit = buf.len().min(bytes_left);
        let result = match &mut self.transport {
            Transport::Plain(socket) => socket.read(&mut buf[..limit]),
            Transport::Tls(tls) => tls.read(&mut buf[..limit]),
            Transport::Taken => Err(io::Error::new(io::ErrorKind::NotConnected, "no connection")),
        };
        match result {
            Ok(n) => {
                self.clock.spend(n);
                self.heard.extend_from_slice(&buf[..n]);
                if self.heard.len() > HEARD_KEPT {
                    self.heard.drain(..self.heard.len() - HEARD_KEPT);
                }
                Ok(n)
            }
            Err(err) if matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                Err(io::Error::new(io::ErrorKind::TimedOut, STEP_TIMED_OUT))
            }
            Err(err) if self.cancel.is_cancelled() => {
                Err(io::Error::new(io::ErrorKind::Interrupted, format!("{CANCELLED} ({err})")))
            }
            Err(err) => Err(err),
        }
    }
}

impl Write for GuardedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm_timeouts()?;
        match &mut self.transport {
            Transport::Plain(socket) => socket.write(buf),
            Transport::Tls(tls) => tls.write(buf),
            Transport::Taken => Err(io::Error::new(io::ErrorKind::NotConnected, "no connection")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.transport {
            Transport::Plain(socket) => socket.flush(),
            Transport::Tls(tls) => tls.flush(),
            Transport::Taken => Ok(()),
        }
    }
}

/// Reads one line ending in `\n` (at most `max` bytes), byte by byte so that
/// nothing after the line is consumed (STARTTLS needs the socket clean).
pub fn read_line(stream: &mut impl Read, max: usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte)? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    if line.is_empty() {
                        "the server closed the connection"
                    } else {
                        "the server closed the connection mid-line"
                    },
                ));
            }
            _ => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Ok(line);
                }
                if line.len() >= max {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the server sent a line far longer than the protocol allows",
                    ));
                }
            }
        }
    }
}
