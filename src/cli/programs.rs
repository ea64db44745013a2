//! Commands for other programs: `send` (sendmail through a setting) and the
//! loopback bridge (its local password, and running it).

use std::io::Write;

use super::failure::Failure;
use super::support::{find, interrupted};
use crate::store::Workspace;

/// `send ID`: sendmail through a setting. Quiet on success, as sendmail is.
pub(super) fn send(
    workspace: &Workspace,
    id: &str,
    extract: bool,
    envelope_from: Option<&str>,
    recipients: &[String],
    input: &mut dyn std::io::BufRead,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use crate::sysexits::{EX_DATAERR, EX_NOPERM, EX_UNAVAILABLE};
    let data_error = |message: String| Failure { code: EX_DATAERR, message };
    let setting = find(workspace.config(), id)?;
    let send_as: lettre::Address = setting
        .smtp
        .send_as
        .trim()
        .parse()
        .map_err(|e| data_error(format!("the setting's send-as address is not valid: {e}")))?;
    let from_name = setting.smtp.from_name.trim();
    let sender = lettre::message::Mailbox::new((!from_name.is_empty()).then(|| from_name.to_owned()), send_as.clone());
    let head = crate::send::read_head(input).map_err(|e| data_error(e.to_string()))?;
    let prepared = crate::send::prepare(&head, recipients, extract, &sender, time::OffsetDateTime::now_utc())
        .map_err(|e| data_error(e.to_string()))?;
    let envelope_from = envelope_from.map_or_else(|| send_as.to_string(), str::to_owned);
    let mut message = std::io::Read::chain(prepared.head.as_slice(), input);
    // SMTP, or the provider's API for a setting that sends through it.
    let report = crate::checks::deliver(
        setting,
        workspace.config(),
        workspace.secrets(),
        (&envelope_from, &prepared.recipients),
        &mut message,
        &interrupted(),
    )
    .map_err(|e| match e {
        crate::checks::CheckError::Trust(err) => Failure { code: EX_UNAVAILABLE, message: err.to_string() },
        crate::checks::CheckError::Secrets(err) => Failure { code: EX_NOPERM, message: err.to_string() },
    })?;
    let mut report = crate::checks::setting_diagnosis(report, setting);
    report.name_support(&workspace.config().support_contact());
    let code = crate::send::exit_code(&report);
    if code == crate::sysexits::EX_OK {
        return Ok(out.flush()?);
    }
    let mut message = format!("not sent: {}", report.failure_summary());
    if let Some(diagnosis) = &report.diagnosis {
        message.push_str(&format!("\n  next step: {}", diagnosis.next_step));
    }
    if let Some(reply) = report.stages.iter().rev().find_map(|s| s.server_reply.as_deref()) {
        message.push_str(&format!("\n  the server said: {}", reply.replace('\n', "\n    ")));
    }
    Err(Failure { code, message })
}

/// `bridge password ID`: a new local password for the bridge, printed once.
pub(super) fn bridge_password(workspace: &Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    if !setting.uses_oauth() {
        return Err(Failure::check(crate::bridge::BridgeError::NotOAuth(id.to_owned()).to_string()));
    }
    let password =
        crate::bridge::new_local_password(workspace.secrets(), id).map_err(|e| Failure::check(e.to_string()))?;
    workspace.log_event("bridge-password", id);
    writeln!(
        out,
        "Local bridge password of \"{}\" (shown once; sign in with user {} / {}):\n{}",
        // From the config file, which may have been imported: printed, never run.
        crate::printable::printable(&workspace.config().setting_name(id)),
        crate::printable::printable(setting.smtp.user_name.trim()),
        crate::printable::printable(setting.imap.user_name.trim()),
        password.expose()
    )
    .map_err(Failure::from)
}

/// `bridge run IDS`: serves the settings until Ctrl+C or SIGTERM.
pub(super) fn bridge_run(
    workspace: &Workspace,
    ports: crate::bridge::Ports,
    local_tls: bool,
    ids: &[String],
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let local_tls = if local_tls {
        let tls = crate::bridge::local_tls::load_or_create(workspace.secrets(), workspace.path())
            .map_err(|e| Failure::check(e.to_string()))?;
        Some(tls)
    } else {
        None
    };
    let tls_note = local_tls.as_ref().map_or_else(
        || " Plain text on loopback (--no-local-tls).".to_owned(),
        |tls| {
            format!(
                " STARTTLS required; the certificate is {} (SHA-256 {}); pin it: msmtp tls_fingerprint {}, \
                 curl --pinnedpubkey {}.",
                tls.certificate_path.display(),
                tls.fingerprint,
                tls.fingerprint,
                tls.public_key_pin
            )
        },
    );
    let listen = crate::bridge::Listen { ports, local_tls };
    let mut announced: Result<(), Failure> = Ok(());
    let ids: Vec<crate::model::SettingId> = ids.iter().map(crate::model::SettingId::from).collect();
    let result = crate::bridge::run(workspace.config(), workspace.secrets(), &ids, &listen, &interrupted(), |ports| {
        announced = writeln!(
            out,
            "Bridge for {}: SMTP on 127.0.0.1:{}, IMAP on 127.0.0.1:{}.{tls_note} Ctrl+C stops it.",
            ids.join(", "),
            ports.smtp,
            ports.imap
        )
        .and_then(|()| out.flush())
        .map_err(Failure::from);
    });
    announced?;
    result.map_err(|e| Failure::check(e.to_string()))
}
