//! Which security mode a server's ports speak: IMAP 993/143 and SMTP 465/587
//! are probed in parallel, each both ways (a TLS handshake, and a plain
//! greeting with a look for STARTTLS), so a wrong mode is explained at once.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use super::ProbeOptions;
use super::diagnose::Protocol;
use super::inputs::Endpoint;
use super::net::{self, GuardedStream};
use super::report::{ProbeKind, Redactor, Report, StageName, StageOutcome};
use crate::cancel::CancelToken;
use crate::model::Security;
use crate::tls;

/// Whether `endpoint` completes (or gets as far as the certificate in) a TLS
/// handshake on a fresh connection — proof that the port speaks TLS at once.
pub(crate) fn answers_tls(endpoint: &Endpoint, options: &ProbeOptions, cancel: &CancelToken) -> bool {
    matches!(try_tls(endpoint, options, cancel), PortMode::Tls(_) | PortMode::TlsUntrusted(_))
}

/// What one port turned out to speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMode {
    /// TLS on connect works; the TLS summary.
    Tls(String),
    /// TLS on connect is spoken, but the certificate is not trusted (the reason).
    TlsUntrusted(String),
    /// A plain greeting with STARTTLS offered.
    Starttls,
    /// A plain greeting without STARTTLS (credentials would go unencrypted).
    PlainOnly,
    /// Nothing usable: refused, silent, or not a mail server (the reason).
    Nothing(String),
}

impl PortMode {
    fn describe(&self) -> String {
        match self {
            Self::Tls(summary) => format!("TLS on connect works ({summary})"),
            Self::TlsUntrusted(reason) => {
                format!("TLS on connect is spoken but the certificate is not trusted: {reason}")
            }
            Self::Starttls => "plain greeting, Start TLS offered".to_owned(),
            Self::PlainOnly => "plain greeting, no Start TLS: unsafe for passwords".to_owned(),
            Self::Nothing(reason) => reason.clone(),
        }
    }

    fn security(&self) -> Option<Security> {
        match self {
            Self::Tls(_) | Self::TlsUntrusted(_) => Some(Security::Tls),
            Self::Starttls => Some(Security::Starttls),
            Self::PlainOnly | Self::Nothing(_) => None,
        }
    }
}

fn quick(options: &ProbeOptions) -> Duration {
    options.wrong_mode_after.max(Duration::from_secs(2)) + Duration::from_secs(1)
}

/// A fresh connection for a quick look at a port.
fn connect_quickly(
    endpoint: &Endpoint,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<GuardedStream, PortMode> {
    let addrs = net::resolve(&endpoint.host, endpoint.port, options.connect_timeout, cancel)
        .map_err(|err| PortMode::Nothing(err.to_string()))?;
    let socket = net::connect(&addrs, quick(options), cancel).map_err(|err| PortMode::Nothing(err.to_string()))?;
    Ok(GuardedStream::new(socket, cancel.clone()))
}

fn try_tls(endpoint: &Endpoint, options: &ProbeOptions, cancel: &CancelToken) -> PortMode {
    let limit = quick(options);
    let mut stream = match connect_quickly(endpoint, options, cancel) {
        Ok(stream) => stream,
        Err(mode) => return mode,
    };
    stream.begin_step(limit);
    let Ok(name) = tls::server_name(&endpoint.host) else {
        return PortMode::Nothing("invalid host name".to_owned());
    };
    if stream.start_tls(options.tls.clone(), name).is_err() {
        return PortMode::Nothing("TLS could not start".to_owned());
    }
    match stream.handshake() {
        Ok(()) => PortMode::Tls(stream.tls_connection().map(|c| tls::summarize(c).describe()).unwrap_or_default()),
        Err(err) => {
            let failure = super::error::TlsFailure::from_io(&err);
            match failure.kind {
                super::error::TlsFailureKind::UnknownIssuer
                | super::error::TlsFailureKind::NameMismatch
                | super::error::TlsFailureKind::Expired
                | super::error::TlsFailureKind::NotYetValid => PortMode::TlsUntrusted(failure.message),
                _ => PortMode::Nothing(format!("no TLS on connect ({})", failure.message)),
            }
        }
    }
}

fn try_plain(endpoint: &Endpoint, protocol: Protocol, options: &ProbeOptions, cancel: &CancelToken) -> PortMode {
    let limit = quick(options);
    let mut stream = match connect_quickly(endpoint, options, cancel) {
        Ok(stream) => stream,
        Err(mode) => return mode,
    };
    stream.begin_step(options.wrong_mode_after);
    let offers_starttls = match protocol {
        Protocol::Smtp => {
            if super::smtp_dialogue::read_reply(&mut stream).is_err() {
                return PortMode::Nothing("no plain greeting".to_owned());
            }
            stream.begin_step(limit);
            let ehlo = format!("EHLO {}\r\n", options.client_name);
            if stream.write_all(ehlo.as_bytes()).is_err() {
                return PortMode::Nothing("closed after the greeting".to_owned());
            }
            match super::smtp_dialogue::read_reply(&mut stream) {
                Ok(reply) => reply.message().any(|line| line.eq_ignore_ascii_case("STARTTLS")),
                Err(_) => false,
            }
        }
        Protocol::Imap => {
            match super::imap_dialogue::read_untagged_greeting(&mut stream) {
                Ok(_) => {}
                Err(_) => return PortMode::Nothing("no plain greeting".to_owned()),
            }
            stream.begin_step(limit);
            super::imap::raw_capabilities(&mut stream)
                .is_ok_and(|caps| caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")))
        }
    };
    if offers_starttls { PortMode::Starttls } else { PortMode::PlainOnly }
}

/// Probes the standard ports of both servers of a setting, plus the ports
/// the setting names, in parallel.
pub fn detect(
    setting_id: &str,
    smtp: &Endpoint,
    imap: &Endpoint,
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Report {
    let target = format!("outgoing {}, incoming {}", smtp.host, imap.host);
    let mut report = Report::new(ProbeKind::Detect, setting_id, &target, Redactor::new());
    let mut cases = vec![
        (Protocol::Smtp, smtp.host.as_str(), 587_u16),
        (Protocol::Smtp, smtp.host.as_str(), 465),
        (Protocol::Imap, imap.host.as_str(), 993),
        (Protocol::Imap, imap.host.as_str(), 143),
    ];
    for (protocol, endpoint) in [(Protocol::Smtp, smtp), (Protocol::Imap, imap)] {
        if !cases.iter().any(|(p, _, port)| *p == protocol && *port == endpoint.port) {
            cases.push((protocol, endpoint.host.as_str(), endpoint.port));
        }
    }
    let configured = |protocol: Protocol| match protocol {
        Protocol::Smtp => smtp,
        Protocol::Imap => imap,
    };
    let results: Vec<(Protocol, u16, PortMode, Duration)> = thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|&(protocol, host, port)| {
                let cancel = cancel.clone();
                scope.spawn(move || {
                    let started = Instant::now();
                    let endpoint = Endpoint { host: host.to_owned(), port, security: Security::Tls };
                    let mode = match try_tls(&endpoint, options, &cancel) {
                        PortMode::Nothing(_) => try_plain(&endpoint, protocol, options, &cancel),
                        tls => tls,
                    };
                    (protocol, port, mode, started.elapsed())
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut recommended: [Option<(u16, Security)>; 2] = [None, None];
    for (protocol, port, mode, elapsed) in &results {
        let name = match protocol {
            Protocol::Smtp => "Outgoing (SMTP)",
            Protocol::Imap => "Incoming (IMAP)",
        };
        let outcome = match mode {
            PortMode::Tls(_) | PortMode::Starttls => StageOutcome::Passed,
            PortMode::TlsUntrusted(_) | PortMode::PlainOnly | PortMode::Nothing(_) => StageOutcome::Warning,
        };
        report.stage(
            StageName::PortCheck,
            *elapsed,
            outcome,
            &format!("{name} port {port}: {}", mode.describe()),
            None,
        );
        let slot = usize::from(*protocol == Protocol::Imap);
        if let (Some(security), PortMode::Tls(_) | PortMode::Starttls) = (mode.security(), mode) {
            // The setting's own port first, then the standard preference.
            let own = configured(*protocol).port == *port;
            let standard = matches!((protocol, port), (Protocol::Smtp, 587) | (Protocol::Imap, 993));
            let current_is_own = recommended[slot].is_some_and(|(p, _)| p == configured(*protocol).port);
            let preferred = own || (!current_is_own && (standard || recommended[slot].is_none()));
            if preferred {
                recommended[slot] = Some((*port, security));
            }
        }
    }
    for (slot, label, protocol) in [(0, "Use for outgoing", Protocol::Smtp), (1, "Use for incoming", Protocol::Imap)] {
        let current = configured(protocol);
        match recommended[slot] {
            Some((port, security)) => {
                let verdict = if (port, security) == (current.port, current.security) {
                    "(as configured)".to_owned()
                } else {
                    format!("(configured: port {}, {})", current.port, current.security.label())
                };
                report.fact(label, format!("port {port}, {} {verdict}", security.label()));
            }
            None => report.fact(label, "no port answered safely"),
        }
    }
    if recommended.iter().any(Option::is_none) {
        report.passed = false;
    }
    report
}
