//! Passing a signed-in session through, both ways: the client's side plain or
//! under the bridge's local TLS, the server's side always under TLS. Each
//! direction has its own thread; a TLS connection is shared between them behind a
//! lock that is never held while waiting for the network to deliver.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustls::{Connection, ServerConfig, ServerConnection, StreamOwned};

use super::IDLE;

/// How long a client has for its TLS handshake after STARTTLS.
const HANDSHAKE: Duration = Duration::from_secs(30);

/// The client's side before the sign-in: plain text, or TLS after STARTTLS.
pub enum Local {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Local {
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// STARTTLS: the handshake with the client, held to [`HANDSHAKE`].
    pub(crate) fn start_tls(self, config: &Arc<ServerConfig>) -> io::Result<Self> {
        let Self::Plain(mut socket) = self else { return Ok(self) };
        let mut connection = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
        socket.set_read_timeout(Some(HANDSHAKE))?;
        while connection.is_handshaking() {
            connection.complete_io(&mut socket)?;
        }
        socket.set_read_timeout(Some(IDLE))?;
        Ok(Self::Tls(Box::new(StreamOwned::new(connection, socket))))
    }

    fn into_end(self) -> End {
        match self {
            Self::Plain(socket) => End { socket, tls: None },
            Self::Tls(stream) => {
                let StreamOwned { conn, sock } = *stream;
                End::tls(sock, Connection::Server(conn))
            }
        }
    }
}

impl Read for Local {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(socket) => socket.read(buffer),
            Self::Tls(stream) => stream.read(buffer),
        }
    }
}

impl Write for Local {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(socket) => socket.write(bytes),
            Self::Tls(stream) => stream.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(socket) => socket.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

/// One side of a session being passed through (a handle per thread; clones
/// share the socket and the TLS connection).
pub struct End {
    socket: TcpStream,
    tls: Option<Arc<Mutex<Connection>>>,
}

impl End {
    pub fn tls(socket: TcpStream, connection: Connection) -> Self {
        Self { socket, tls: Some(Arc::new(Mutex::new(connection))) }
    }

    fn try_clone(&self) -> io::Result<Self> {
        Ok(Self { socket: self.socket.try_clone()?, tls: self.tls.clone() })
    }

    /// What the peer sent, decrypted; 0 when it has finished.
    fn read(&mut self, buffer: &mut [u8], raw: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.clone() else { return self.socket.read(buffer) };
        loop {
            match lock(&tls)?.reader().read(buffer) {
                Ok(read) => return Ok(read),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
            // Waits for the network without the lock: the other direction keeps writing.
            let read = self.socket.read(raw)?;
            if read == 0 {
                return Ok(0);
            }
            let mut connection = lock(&tls)?;
            let mut incoming = &raw[..read];
            while !incoming.is_empty() {
                connection.read_tls(&mut incoming)?;
                connection.process_new_packets().map_err(io::Error::other)?;
            }
            while connection.wants_write() {
                connection.write_tls(&mut self.socket)?;
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some(tls) = &self.tls else { return self.socket.write_all(bytes) };
        let mut connection = lock(tls)?;
        connection.writer().write_all(bytes)?;
        while connection.wants_write() {
            connection.write_tls(&mut self.socket)?;
        }
        Ok(())
    }

    /// Ends this side: a TLS goodbye when the connection is free to say it, then
    /// the socket is shut (which also wakes the thread reading it).
    fn close(&mut self) {
        if let Some(mut connection) = self.tls.as_ref().and_then(|tls| tls.try_lock().ok()) {
            connection.send_close_notify();
            let _ = connection.write_tls(&mut self.socket);
        }
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

fn lock(tls: &Mutex<Connection>) -> io::Result<MutexGuard<'_, Connection>> {
    tls.lock().map_err(|_| io::Error::other("a session thread stopped while holding the TLS connection"))
}

/// How often a waiting direction looks at the session's one idle clock.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// When either direction last carried a byte: one idle clock for the session, so a
/// client quiet while the server talks (IMAP IDLE) is not cut.
#[derive(Debug)]
struct Activity {
    started: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        self.started.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Passes bytes both ways until either side finishes or the session — both ways —
/// is idle for [`IDLE`].
pub(crate) fn splice(client: Local, upstream: End) -> io::Result<()> {
    splice_idle(client, upstream, IDLE)
}

fn splice_idle(client: Local, upstream: End, idle: Duration) -> io::Result<()> {
    let mut client = client.into_end();
    let mut upstream = upstream;
    for end in [&client, &upstream] {
        end.socket.set_read_timeout(Some(IDLE_CHECK.min(idle)))?;
        end.socket.set_write_timeout(Some(idle))?;
    }
    let activity = Arc::new(Activity { started: Instant::now(), last_ms: AtomicU64::new(0) });
    let (mut from_server, mut to_client) = (upstream.try_clone()?, client.try_clone()?);
    let down_activity = activity.clone();
    let downstream = std::thread::Builder::new().name("bridge-down".to_owned()).spawn(move || {
        let result = pass(&mut from_server, &mut to_client, &down_activity, idle);
        // The server is done (or gone): so is the client's side, which ends the other direction.
        to_client.close();
        result
    })?;
    let upstream_result = pass(&mut client, &mut upstream, &activity, idle);
    // The client is done (or gone): close upstream too, which ends the other direction.
    upstream.close();
    client.close();
    let _ = downstream.join();
    upstream_result
}

fn pass(from: &mut End, to: &mut End, activity: &Activity, idle: Duration) -> io::Result<()> {
    let (mut buffer, mut raw) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let read = match from.read(&mut buffer, &mut raw) {
            Ok(read) => read,
            // Quiet this way: the session ends only when it was quiet both ways.
            Err(err) if matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                if activity.idle_for() >= idle {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "the session was idle both ways"));
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        if read == 0 {
            return Ok(());
        }
        activity.touch();
        to.write_all(&buffer[..read])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected pair of loopback sockets.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        (near, listener.accept().unwrap().0)
    }

    #[test]
    fn a_client_quiet_while_the_server_talks_is_not_cut_and_quiet_both_ways_ends() {
        let (program, bridge_client_side) = pair();
        let (bridge_server_side, mut server) = pair();
        let idle = Duration::from_millis(400);
        let started = Instant::now();
        let session = std::thread::spawn(move || {
            splice_idle(Local::Plain(bridge_client_side), End { socket: bridge_server_side, tls: None }, idle)
        });
        // The server talks for 1.2 s (as IMAP IDLE's updates); the program never writes.
        let mut program = program;
        program.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for _ in 0..12 {
            server.write_all(b"* 1 EXISTS\r\n").unwrap();
            let mut line = [0u8; 12];
            program.read_exact(&mut line).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!session.is_finished(), "cut while the server was talking");
        // Now quiet both ways: it ends, closing the program's side.
        let _ = session.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(4), "ended {:?} after starting", started.elapsed());
        assert_eq!(program.read(&mut [0u8; 4]).unwrap_or(0), 0, "the program sees the session end");
    }
}
