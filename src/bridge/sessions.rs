//! The bridge's open sessions, so nobody else on a shared machine can starve it:
//! a session must sign in within [`SIGN_IN_DEADLINE`] of being accepted; at most
//! [`MAX_WAITING`] wait to sign in at once — a newcomer makes room by closing the
//! stranger that has waited longest (once it has had [`GRACE`] to sign in: a burst
//! of real programs signs in within milliseconds), so idle connections cannot hold
//! the slots real programs need; and Stop closes every session, signed in or not.

use std::net::{Shutdown, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a client has from being accepted to signing in.
pub const SIGN_IN_DEADLINE: Duration = Duration::from_secs(30);
/// Sessions that have not signed in yet, at most (the oldest is closed to make room).
pub const MAX_WAITING: usize = 128;
/// How long a waiting session is safe from being closed to make room.
pub const GRACE: Duration = Duration::from_secs(2);
/// Wrong sign-ins one session may make before it is closed.
pub const MAX_FAILED_SIGN_INS: u32 = 3;

struct Open {
    id: u64,
    socket: TcpStream,
    accepted: Instant,
    signed_in: bool,
}

/// Every session the bridge has open.
#[derive(Default)]
pub struct Registry {
    open: Mutex<Vec<Open>>,
    next: AtomicU64,
}

fn close(open: &Open) {
    let _ = open.socket.shutdown(Shutdown::Both);
}

impl Registry {
    /// Takes a new session in, closing the longest-waiting stranger (past its
    /// [`GRACE`]) when too many wait; its id, or `None` when there is no room now
    /// (the caller says "try again") or its socket cannot be watched.
    pub(crate) fn admit(&self, socket: &TcpStream) -> Option<u64> {
        let watched = socket.try_clone().ok()?;
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().ok()?;
        while open.iter().filter(|o| !o.signed_in).count() >= MAX_WAITING {
            let oldest = open
                .iter()
                .enumerate()
                .filter(|(_, o)| !o.signed_in && o.accepted.elapsed() >= GRACE)
                .min_by_key(|(_, o)| o.accepted)
                .map(|(i, _)| i);
            let oldest = oldest?;
            let evicted = open.remove(oldest);
            tracing::info!("bridge: closed a session that had not signed in, to make room");
            close(&evicted);
        }
        open.push(Open { id, socket: watched, accepted: Instant::now(), signed_in: false });
        Some(id)
    }

    /// The session signed in: no more deadline, and it no longer counts as waiting.
    pub fn signed_in(&self, id: u64) {
        if let Ok(mut open) = self.open.lock()
            && let Some(session) = open.iter_mut().find(|o| o.id == id)
        {
            session.signed_in = true;
        }
    }

    /// The session ended.
    pub(crate) fn leave(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|o| o.id != id);
        }
    }

    /// Closes every session still not signed in [`SIGN_IN_DEADLINE`] after it was accepted.
    pub(crate) fn reap(&self) {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|o| {
                let late = !o.signed_in && o.accepted.elapsed() >= SIGN_IN_DEADLINE;
                if late {
                    tracing::info!(
                        "bridge: closed a session that did not sign in within {} s",
                        SIGN_IN_DEADLINE.as_secs()
                    );
                    close(o);
                }
                !late
            });
        }
    }

    /// Stop: every session ends, signed in or not.
    pub(crate) fn close_all(&self) {
        if let Ok(mut open) = self.open.lock() {
            for session in open.drain(..) {
                close(&session);
            }
        }
    }

    /// Sessions open now, and how many of them wait to sign in.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        self.open.lock().map_or((0, 0), |open| (open.len(), open.iter().filter(|o| !o.signed_in).count()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strangers_waiting_make_room_for_a_newcomer_and_stop_closes_everyone() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let registry = Registry::default();
        let mut clients = Vec::new();
        let mut ends = Vec::new(); // the session threads' ends, kept open
        let mut ids = Vec::new();
        let mut accept = |registry: &Registry| {
            clients.push(TcpStream::connect(address).unwrap());
            let (accepted, _) = listener.accept().unwrap();
            let id = registry.admit(&accepted);
            ends.push(accepted);
            id
        };
        for _ in 0..MAX_WAITING {
            ids.push(accept(&registry).unwrap());
        }
        assert_eq!(accept(&registry), None, "full of fresh ones: the newcomer is asked to try again");
        std::thread::sleep(GRACE);
        for _ in 0..5 {
            ids.push(accept(&registry).unwrap());
        }
        assert_eq!(registry.counts(), (MAX_WAITING, MAX_WAITING), "the oldest strangers were closed");
        registry.signed_in(*ids.last().unwrap());
        assert_eq!(registry.counts(), (MAX_WAITING, MAX_WAITING - 1));
        // The first five were closed: their clients read the end.
        let mut first = clients.remove(0);
        first.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(std::io::Read::read(&mut first, &mut [0u8; 8]).unwrap_or(1), 0, "closed to make room");
        registry.close_all();
        assert_eq!(registry.counts(), (0, 0));
        let mut last = clients.pop().unwrap();
        last.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(std::io::Read::read(&mut last, &mut [0u8; 8]).unwrap_or(1), 0, "Stop closed the signed-in one too");
    }
}
