//! The loopback listener that catches the browser's redirect.
//!
//! It serves any number of requests until the right one arrives: the
//! browser's `/favicon.ico`, wrong paths, a forged `state`, garbage and port
//! scans get a harmless answer and do not end the flow. An `error=` redirect
//! ends it with the provider's reason. The port closes when the listener is
//! dropped (done, timeout or cancel).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::cancel::CancelToken;

pub const SUCCESS_PAGE: &str = "Authentication is complete. You may now close this page.";

#[derive(Debug, Error)]
pub enum ListenError {
    #[error("could not open a local port for the sign-in redirect: {0}")]
    Bind(String),
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
    servers: Vec<tiny_http::Server>,
    port: u16,
    /// Requests answered that were not the redirect (for tests and logs).
    pub stray_requests: usize,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Listener {
    pub fn bind() -> Result<Self, ListenError> {
        let v4 = tiny_http::Server::http(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .map_err(|e| ListenError::Bind(e.to_string()))?;
        let port = v4.server_addr().to_ip().map(|a| a.port()).ok_or_else(|| ListenError::Bind("no port".to_owned()))?;
        let mut servers = vec![v4];
        if let Ok(v6) = tiny_http::Server::http(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            servers.push(v6);
        }
        Ok(Self { servers, port, stray_requests: 0 })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves requests until the redirect carrying `state` arrives.
    pub fn wait(&mut self, state: &str, timeout: Duration, cancel: &CancelToken) -> Result<Redirect, ListenError> {
        // A timeout past what an Instant can hold waits "forever" (until cancelled), never panics.
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if cancel.is_cancelled() {
                return Err(ListenError::Cancelled);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(ListenError::TimedOut(timeout));
            }
            let mut waited = false;
            for index in 0..self.servers.len() {
                let slice = if waited { Duration::ZERO } else { Duration::from_millis(50) };
                let Ok(Some(request)) = self.servers[index].recv_timeout(slice) else { continue };
                waited = true;
                if let Some(outcome) = self.handle(request, state) {
                    return outcome;
                }
            }
        }
    }

    /// Answers one request; `Some` ends the flow.
    fn handle(&mut self, request: tiny_http::Request, state: &str) -> Option<Result<Redirect, ListenError>> {
        let url = url::Url::parse(&format!("http://127.0.0.1{}", request.url())).ok();
        let Some(url) = url.filter(|u| u.path() == "/" && request.method() == &tiny_http::Method::Get) else {
            self.stray_requests += 1;
            let _ = request.respond(page(404, "Not found", "This address only receives the Mail Settings sign-in."));
            return None;
        };
        let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        if query.get("state").map(String::as_str) != Some(state) {
            // Not our sign-in (a stale tab, or a forged link): say so, keep waiting.
            self.stray_requests += 1;
            let _ = request.respond(page(
                400,
                "This sign-in is not the one Mail Settings is waiting for",
                "Go back to Mail Settings and use the link it shows, or press Connect again.",
            ));
            return None;
        }
        if let Some(error) = query.get("error") {
            // Anyone can open this address: what it says is shown, never run by a terminal.
            let error = &crate::printable::printable(error);
            let description = query.get("error_description").map(|d| crate::printable::printable(d));
            let _ = request.respond(page(
                200,
                "Sign-in was not completed",
                &format!(
                    "{error}: {}. You may close this page and return to Mail Settings.",
                    description.clone().unwrap_or_default()
                ),
            ));
            return Some(Err(ListenError::Denied { error: error.clone(), description }));
        }
        match query.get("code").filter(|c| !c.is_empty()) {
            Some(code) => {
                let _ = request.respond(page(200, "Mail Settings", SUCCESS_PAGE));
                Some(Ok(Redirect { code: code.clone() }))
            }
            None => {
                self.stray_requests += 1;
                let _ =
                    request.respond(page(400, "No sign-in code", "The redirect carried no code. Press Connect again."));
                None
            }
        }
    }
}

/// "2 seconds", "1 minute", "5 minutes": the wait in the unit a person would say.
fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs();
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if seconds < 120 { plural(seconds, "second") } else { plural(seconds.div_ceil(60), "minute") }
}

fn page(status: u16, title: &str, text: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{}</h1><p>{}</p></body></html>",
        escape(title),
        escape(title),
        escape(text)
    );
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/html; charset=utf-8"[..]).ok();
    let mut response = tiny_http::Response::from_data(html.into_bytes()).with_status_code(status);
    if let Some(header) = header {
        response.add_header(header);
    }
    response
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
