//! The bridge's SMTP side for a setting that sends through its provider's API
//! (Microsoft Graph, the Gmail API): a program speaking SMTP to the bridge never
//! learns that SMTP AUTH is off at the provider. After the local sign-in the bridge
//! answers the session itself — MAIL, RCPT, DATA — and hands each message to
//! `checks::deliver`, the one way a setting sends (the API's refusal comes back as
//! an SMTP reply in plain words: 4xx when trying again can help, 5xx when not).

use std::io::{self, Write};

use super::splice::Local;
use super::{Shared, read_line, refused};
use crate::cancel::CancelToken;
use crate::checks::MAX_API_MESSAGE;
use crate::model::MailSetting;
use crate::probe::report::FailureKind;

/// The longest line of a message's content (RFC 5322 says 998; programs send longer).
const MAX_DATA_LINE: usize = 1024 * 1024;

/// The address in `MAIL FROM:<…>` or `RCPT TO:<…>` (parameters after it ignored).
fn address_of(argument: &str) -> Option<String> {
    let (_, rest) = argument.split_once(':')?;
    let rest = rest.trim_start();
    let address = match rest.strip_prefix('<') {
        Some(inside) => inside.split_once('>')?.0,
        None => rest.split_whitespace().next()?,
    };
    Some(address.trim().to_owned())
}

/// Serves the signed-in session until QUIT or the client goes.
pub(super) fn serve(shared: &Shared, setting: &MailSetting, client: &mut Local) -> io::Result<()> {
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    loop {
        let line = read_line(client)?;
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        match verb {
            "EHLO" => client.write_all(
                format!("250-localhost\r\n250-8BITMIME\r\n250-SIZE {MAX_API_MESSAGE}\r\n250 ENHANCEDSTATUSCODES\r\n")
                    .as_bytes(),
            )?,
            "HELO" => client.write_all(b"250 localhost\r\n")?,
            "NOOP" => client.write_all(b"250 2.0.0 OK\r\n")?,
            "RSET" => {
                from = None;
                recipients.clear();
                client.write_all(b"250 2.0.0 OK\r\n")?;
            }
            "QUIT" => {
                client.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            "MAIL" => match address_of(&line) {
                Some(address) => {
                    from = Some(address);
                    recipients.clear();
                    client.write_all(b"250 2.1.0 OK\r\n")?;
                }
                None => client.write_all(b"501 5.5.4 MAIL FROM:<address> expected\r\n")?,
            },
            "RCPT" if from.is_none() => client.write_all(b"503 5.5.1 MAIL first\r\n")?,
            "RCPT" => match address_of(&line).filter(|a| a.parse::<lettre::Address>().is_ok()) {
                Some(address) => {
                    recipients.push(address);
                    client.write_all(b"250 2.1.5 OK\r\n")?;
                }
                None => client.write_all(b"501 5.5.4 RCPT TO:<address> expected\r\n")?,
            },
            "DATA" if recipients.is_empty() => client.write_all(b"503 5.5.1 RCPT first\r\n")?,
            "DATA" => {
                client.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let Some(message) = read_data(client)? else {
                    client.write_all(b"552 5.3.4 the message is larger than the mail API takes\r\n")?;
                    continue;
                };
                let reply = deliver(shared, setting, from.as_deref().unwrap_or_default(), &recipients, &message);
                client.write_all(reply.as_bytes())?;
                from = None;
                recipients.clear();
            }
            _ => client.write_all(b"502 5.5.2 not offered here\r\n")?,
        }
    }
}

/// The message up to the lone ".", its dots unstuffed and its lines ending in CRLF;
/// `None` when it grows past [`MAX_API_MESSAGE`] (read to its end all the same, so
/// the session can go on).
fn read_data(client: &mut Local) -> io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    loop {
        let line = crate::probe::net::read_line(client, MAX_DATA_LINE)?;
        if line.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the client closed the connection in DATA"));
        }
        let bare = line.strip_suffix(b"\n").unwrap_or(&line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if bare == b"." {
            return Ok((!too_large).then_some(message));
        }
        let bare = bare.strip_prefix(b".").unwrap_or(bare);
        if message.len() + bare.len() + 2 > MAX_API_MESSAGE as usize {
            too_large = true;
            message.clear();
        }
        if !too_large {
            message.extend_from_slice(bare);
            message.extend_from_slice(b"\r\n");
        }
    }
}

/// Sends through the setting's API; the SMTP reply that tells the program how it went.
fn deliver(shared: &Shared, setting: &MailSetting, from: &str, recipients: &[String], message: &[u8]) -> String {
    let result = crate::checks::deliver(
        setting,
        &shared.config,
        &shared.secrets,
        (from, recipients),
        &mut &message[..],
        &CancelToken::new(),
    );
    match result {
        Ok(report) if report.passed => "250 2.0.0 sent through the mail API\r\n".to_owned(),
        Ok(report) => {
            let words = refused(setting, &report);
            if report.failure == Some(FailureKind::Temporary) {
                format!("451 4.3.0 not sent, try again later: {words}\r\n")
            } else {
                format!("554 5.7.0 not sent: {words}\r\n")
            }
        }
        Err(err) => format!("451 4.3.0 not sent: {}\r\n", crate::printable::printable(&err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn envelope_addresses_are_read_with_or_without_brackets_and_parameters() {
        assert_eq!(super::address_of("MAIL FROM:<ar@example.com> SIZE=100").as_deref(), Some("ar@example.com"));
        assert_eq!(super::address_of("RCPT TO: <one@example.org>").as_deref(), Some("one@example.org"));
        assert_eq!(super::address_of("RCPT TO:two@example.org").as_deref(), Some("two@example.org"));
        assert_eq!(super::address_of("MAIL FROM:<>").as_deref(), Some(""));
        assert_eq!(super::address_of("MAIL FROM").as_deref(), None);
    }
}
