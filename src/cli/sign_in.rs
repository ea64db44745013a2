//! Signing in from the command line: Connect (browser, another device, app-only),
//! Disconnect, the token for other programs, token health, and the sign-in apps.

use std::io::Write;
use std::path::Path;

use super::args::SetAppArgs;
use super::failure::Failure;
use super::support::{find, interrupted, print_json, print_report, probe_options, read_password, run_check};
use crate::checks::Check;
use crate::model::Config;
use crate::secret::Secret;
use crate::store::{Secrets, Workspace};

pub(super) fn disconnect(workspace: &Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    let provider = crate::oauth::provider::resolve(setting, workspace.config()).ok();
    let options = probe_options(workspace)?;
    let revoked = crate::oauth::tokens::disconnect(
        workspace.secrets(),
        id,
        provider.as_ref(),
        (options.tls, &crate::oauth::http::route_for(&workspace.config().network, workspace.secrets())),
        options.connect_timeout,
    )
    .map_err(|e| Failure::check(e.to_string()))?;
    Ok(writeln!(out, "Disconnected \"{id}\": {}", revoked.summary())?)
}

/// `token ID`: the access token alone on stdout, so `$(mailsettings token ID)` is the token.
pub(super) fn print_token(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    if !setting.uses_oauth() {
        return Err(Failure::check(format!(
            "\"{}\" signs in with a password (Basic), so it has no token; give programs its password instead",
            workspace.config().setting_name(id)
        )));
    }
    let options = probe_options(workspace)?;
    let token = match crate::checks::access_token(setting, workspace.config(), workspace.secrets(), &options) {
        Some(Ok(token)) => token,
        // Busy or out of reach: sendmail's EX_TEMPFAIL, so a program's caller tries again later.
        Some(Err(failure)) if failure.temporary => {
            return Err(Failure { code: crate::sysexits::EX_TEMPFAIL, message: failure.reason });
        }
        Some(Err(failure)) => return Err(Failure::check(failure.reason)),
        None => return Err(Failure::check("this setting has no token")),
    };
    if !json {
        return Ok(writeln!(out, "{}", token.expose())?);
    }
    let tokens = crate::oauth::tokens::TokenSet::load(workspace.secrets(), id)
        .map_err(|e| Failure::check(e.to_string()))?
        .ok_or_else(|| Failure::check("the token was removed while it was read; run the command again"))?;
    let answer = serde_json::json!({
        "access_token": token.expose(),
        "token_type": "Bearer",
        "expires_at": tokens.expires_at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()),
        "account": tokens.account,
        "user": setting.imap.user_name,
    });
    print_json(&answer, out)
}

pub(super) fn token_status(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    if setting.uses_oauth() && setting.oauth_flow == crate::model::OAuthFlow::App {
        // Nothing is kept for app-only access: say so rather than "Not connected".
        if json {
            let expires = crate::oauth::provider::app_secret_expires(setting, workspace.config());
            let answer = serde_json::json!({ "flow": "app", "state": "app_only", "client_secret_expires": expires });
            return print_json(&answer, out);
        }
        writeln!(
            out,
            "App-only access (client credentials): no person's tokens are kept; the app asks for a token on each use"
        )?;
        let today = time::OffsetDateTime::now_utc().date();
        if let Some((note, _)) = crate::oauth::provider::app_credential_expiry(setting, workspace.config(), today) {
            writeln!(out, "  {note}")?;
        }
        return Ok(());
    }
    let status = crate::oauth::tokens::status(workspace.secrets(), id, setting.uses_oauth())
        .map_err(|e| Failure::check(e.to_string()))?;
    if json {
        return print_json(&status, out);
    }
    writeln!(out, "{}", status.state.label())?;
    if let crate::oauth::ConnectionState::NeedsReconnect { reason } = &status.state {
        writeln!(out, "  reason:               {reason}")?;
    }
    let time = |at: Option<crate::clock::Timestamp>| at.map(|at| at.to_string());
    for (label, value) in [
        ("provider", &status.provider),
        ("connected at", &time(status.connected_at)),
        ("access token expires", &time(status.access_token_expires_at)),
        ("last refresh", &time(status.last_refresh)),
        ("refresh token issued", &time(status.refresh_token_issued_at)),
    ] {
        if let Some(value) = value {
            writeln!(out, "  {label:<21} {value}")?;
        }
    }
    let provider = crate::oauth::provider::resolve(setting, workspace.config()).ok();
    let today = time::OffsetDateTime::now_utc().date();
    let clock = status
        .refresh_token_issued_at
        .map(crate::clock::Timestamp::moment)
        .zip(provider)
        .and_then(|(issued, p)| crate::oauth::tokens::testing_clock(issued, &p, today));
    if let Some(clock) = clock {
        writeln!(out, "  {clock}")?;
    }
    Ok(())
}

/// Reads and checks an app's certificate and private key (PEM files).
fn read_app_certificate(certificate: &Path, key: &Path) -> Result<crate::oauth::assertion::ClientCertificate, Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{} cannot be read: {e}", path.display())))
    };
    let (certificate_pem, key_pem) = (read(certificate)?, Secret::new(read(key)?));
    crate::oauth::assertion::ClientCertificate::from_pem(&certificate_pem, &key_pem)
        .map_err(|e| Failure::check(format!("{} and {}: {e}", certificate.display(), key.display())))
}

/// The sign-in apps: configured, built into this copy, or missing (with the command that sets one).
pub(super) fn oauth_app_show(config: &Config, secrets: &Secrets, out: &mut dyn Write) -> Result<(), Failure> {
    use crate::model::providers::{self, embedded_client_id};
    for provider in providers::signing_in() {
        let (id, label) = (provider.id, provider.label);
        let configured = config.oauth_provider(id).map(|p| p.client_id.trim()).filter(|c| !c.is_empty());
        let shown = match (configured, embedded_client_id(id)) {
            (Some(client), _) => client.to_owned(),
            (None, Some(client)) => format!("{client} (built into this copy)"),
            (None, None) => format!("not set: mailsettings oauth-app set {id} --client-id …"),
        };
        writeln!(out, "{label:<14} {shown}")?;
        if let Some(tenant) = config.oauth_provider(id).and_then(|p| p.tenant.as_deref()) {
            writeln!(out, "{:<14} tenant {tenant}", "")?;
        }
        let owner = crate::store::SecretOwner::SignInApp(id.to_owned());
        if secrets.get(&owner, crate::store::SecretKind::ClientSecret).is_ok_and(|s| s.is_some()) {
            writeln!(out, "{:<14} client secret stored in the OS credential store", "")?;
        } else if config.oauth_provider(id).is_some_and(|p| p.client_secret.is_some()) {
            writeln!(out, "{:<14} client secret in the config file: move it with --client-secret-stdin", "")?;
        }
        certificate_line(config, id, out)?;
    }
    for provider in config.oauth_providers.iter().filter(|p| providers::by_id(&p.id).is_none()) {
        writeln!(out, "{:<14} {}", provider.id, crate::printable::printable(&provider.client_id))?;
        certificate_line(config, &provider.id, out)?;
    }
    Ok(())
}

/// "certificate THUMBPRINT, valid until DATE" for a sign-in app with a certificate.
fn certificate_line(config: &Config, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let Some(provider) = config.oauth_provider(id) else { return Ok(()) };
    if let Some(thumbprint) = &provider.client_certificate {
        let until = provider.client_secret_expires.as_deref().unwrap_or("?");
        let line = format!("{:<14} certificate {thumbprint}, valid until {until} (key in the OS credential store)", "");
        writeln!(out, "{}", crate::printable::printable(&line))?;
    }
    Ok(())
}

/// `connect ID` of an app-only setting: nobody signs in; get the app's token and
/// open the mailbox with it (Test Incoming), which proves the access was granted.
fn check_app_access(workspace: &Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(out, "App-only access: nobody signs in; checking that the app can open the mailbox…")
        .map_err(Failure::from)?;
    let outcome = run_check(workspace, id, &Check::Incoming)?;
    let report = outcome.report();
    print_report(report, false, out)?;
    let mailbox = &find(workspace.config(), id)?.imap.user_name;
    Ok(writeln!(out, "App access works: the app opened {mailbox}")?)
}

/// `connect ID --device`: the code and where to enter it, then wait for the sign-in there.
fn connect_on_another_device(workspace: &Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    let options = probe_options(workspace)?;
    let route = crate::oauth::http::route_for(&workspace.config().network, workspace.secrets());
    let sign_in = crate::oauth::device::DeviceSignIn::start(
        setting,
        workspace.config(),
        workspace.secrets(),
        (options.tls.clone(), &route),
    )
    .map_err(|e| Failure::check(format!("Connect failed: {e}")))?;
    let code = sign_in.code();
    writeln!(
        out,
        "On any device, open {}\nand enter the code {}\n(it is good for {} minutes; Ctrl+C stops waiting)",
        code.verification_uri,
        code.user_code,
        code.expires_in.as_secs().div_ceil(60)
    )
    .map_err(Failure::from)?;
    out.flush().map_err(Failure::from)?;
    let result = sign_in.finish(workspace.secrets(), (options.tls.clone(), &route), &interrupted());
    connected_or_failure(result, setting, workspace.config(), out)
}

fn connected_or_failure(
    result: Result<crate::oauth::Connected, crate::oauth::ConnectError>,
    setting: &crate::model::MailSetting,
    config: &crate::model::Config,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let support = &config.support_contact();
    match result {
        Ok(connected) => {
            writeln!(out, "{}", connected.status.state.label()).map_err(Failure::from)?;
            for warning in &connected.warnings {
                writeln!(out, "Warning: {warning}").map_err(Failure::from)?;
            }
            Ok(())
        }
        Err(err) => {
            let mut message = format!("Connect failed: {err}");
            if let Some(diagnosis) = err.diagnosis().map(|d| d.naming_support(support)) {
                for line in diagnosis.to_string().lines() {
                    message.push_str("\n  ");
                    message.push_str(line);
                }
                // Users may not consent here: the request to forward, approval link included.
                let request = crate::oauth::diagnose::needs_admin_consent(&diagnosis)
                    .then(|| crate::oauth::provider::resolve(setting, config).ok())
                    .flatten()
                    .and_then(|provider| crate::oauth::provider::admin_consent_request(&provider));
                if let Some(request) = request {
                    message.push_str("\n\nSend this to your Microsoft 365 administrator:\n");
                    message.push_str(&request);
                }
            }
            Err(Failure::check(message))
        }
    }
}

/// How `connect` was asked to sign in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Way {
    pub no_browser: bool,
    pub device: bool,
    /// Seconds to wait for the browser's sign-in.
    pub timeout: u64,
}

/// `connect ID`: app-only settings check their access, `--device` signs in on another
/// device, else the browser.
pub(super) fn connect(workspace: &Workspace, id: &str, way: Way, out: &mut dyn Write) -> Result<(), Failure> {
    if find(workspace.config(), id)?.oauth_flow == crate::model::OAuthFlow::App {
        check_app_access(workspace, id, out)
    } else if way.device {
        connect_on_another_device(workspace, id, out)
    } else {
        connect_in_browser(workspace, id, way.no_browser, way.timeout, out)
    }
}

fn connect_in_browser(
    workspace: &Workspace,
    id: &str,
    no_browser: bool,
    timeout_secs: u64,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    let options = probe_options(workspace)?;
    let flow =
        crate::oauth::ConnectFlow::start(setting, workspace.config()).map_err(|e| Failure::check(e.to_string()))?;
    writeln!(
        out,
        "Sign in to {} in your browser. If it does not open, open this link:\n{}",
        flow.provider_label(),
        flow.url()
    )
    .map_err(Failure::from)?;
    out.flush().map_err(Failure::from)?;
    if !no_browser && let Err(reason) = flow.open_browser() {
        eprintln!("mailsettings: {reason}");
    }
    let route = crate::oauth::http::route_for(&workspace.config().network, workspace.secrets());
    let result = flow.finish(
        workspace.secrets(),
        (options.tls.clone(), &route),
        std::time::Duration::from_secs(timeout_secs),
        &interrupted(),
    );
    connected_or_failure(result, setting, workspace.config(), out)
}

/// `oauth-app set PROVIDER --client-id …`: the organisation's registered app, with its
/// client secret or certificate kept in the OS credential store.
pub(super) fn set_app(workspace: &mut Workspace, args: &SetAppArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let certificate = match args.certificate.as_deref().zip(args.private_key.as_deref()) {
        Some((certificate, key)) => {
            let certificate = read_app_certificate(certificate, key)?;
            let facts = certificate.facts().map_err(|e| Failure::check(e.to_string()))?;
            Some(crate::store::AppCertificate {
                stored: certificate.to_stored(),
                thumbprint: facts.thumbprint,
                expires: facts.expires,
            })
        }
        None => None,
    };
    let change = crate::store::SignInAppChange {
        provider: args.provider.clone(),
        client_id: args.client_id.clone(),
        tenant: args.tenant.clone(),
        client_secret_expires: args.client_secret_expires.clone(),
        client_secret_stored: false,
        publishing_status: args.publishing_status.map(|status| status.as_str().to_owned()),
    };
    let secret = if args.client_secret_stdin { Some(read_password()?) } else { None };
    workspace.set_sign_in_app(change, secret.as_ref(), certificate.as_ref())?;
    let kept = match (&secret, &certificate) {
        (_, Some(certificate)) => format!(
            " (certificate {} valid until {}, with its key, in the OS credential store; the key file can be deleted \
             now)",
            certificate.thumbprint, certificate.expires
        ),
        (Some(_), None) => " (client secret in the OS credential store)".to_owned(),
        (None, None) => String::new(),
    };
    Ok(writeln!(out, "Saved the sign-in app for {}{kept}; Connect uses it now", args.provider)?)
}
