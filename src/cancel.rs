//! Cancelling a running probe from another thread (the window's Cancel
//! button). Setting the flag alone would wait for the next timeout; shutting
//! the socket down makes a blocked read return at once.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Shared between the job and whoever may cancel it. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    /// Clones of the sockets in use, so `cancel` can shut them down.
    sockets: Mutex<Vec<TcpStream>>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let sockets = self.inner.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        for socket in sockets.iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Registers a socket to shut down on cancel (and shuts it at once when
    /// the job was already cancelled).
    pub(crate) fn watch(&self, socket: &TcpStream) {
        let Ok(clone) = socket.try_clone() else {
            return;
        };
        if self.is_cancelled() {
            let _ = clone.shutdown(Shutdown::Both);
        }
        self.inner.sockets.lock().unwrap_or_else(PoisonError::into_inner).push(clone);
    }
}
