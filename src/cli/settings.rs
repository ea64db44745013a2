//! Commands on the settings themselves: list, show, validate, import/export,
//! passwords, active/inactive, company defaults, trash, the audit log and paths.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::args::SetPasswordArgs;
use super::failure::Failure;
use super::support::{find, print_json, read_password};
use crate::model::fields::{self, Field};
use crate::model::validate::{Severity, has_errors};
use crate::model::{Company, Finding, MailSetting, StoredPasswords, validate_setting};
use crate::store::{SecretKind, Workspace};

pub(super) fn import(
    workspace: &mut Workspace,
    file: &Path,
    yes: bool,
    keep_secrets: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let preview = workspace.preview_import(file)?;
    if !preview.trust_changes.is_empty() && !yes {
        let text = format!("Changes of trust:\n{}", preview.trust_text());
        out.write_all(crate::printable::printable(&text).as_bytes())?;
        return Err(Failure::check(
            "nothing imported: it changes what is trusted (above); run again with --yes to accept",
        ));
    }
    let summary = workspace.import(file)?;
    if !keep_secrets {
        crate::store::workspace::drop_after_import(workspace.secrets(), &summary);
        if !summary.secrets_dropped.is_empty() {
            let names = crate::printable::printable(&summary.secrets_dropped.join(", "));
            writeln!(
                out,
                "Dropped the stored passwords and sign-ins of {names}: their servers or sign-in changed, so nothing \
                 is sent to the new host until you enter them (mailsettings set-password ID, or connect ID)"
            )?;
        }
        if !summary.tokens_dropped.is_empty() {
            let names = crate::printable::printable(&summary.tokens_dropped.join(", "));
            writeln!(
                out,
                "Dropped the sign-ins of {names}: their sign-in app now signs in elsewhere or is another app, so no \
                 token goes to it until you connect again (mailsettings connect ID)"
            )?;
        }
    }
    writeln!(
        out,
        "Imported from {}: {} setting(s) added, {} replaced; {} company(ies) added, {} replaced",
        file.display(),
        summary.added.len(),
        summary.replaced.len(),
        summary.companies_added.len(),
        summary.companies_replaced.len()
    )?;
    if !summary.trust_changes.is_empty() {
        let text = format!("Changes of trust:\n{}", summary.trust_text());
        out.write_all(crate::printable::printable(&text).as_bytes())?;
    }
    // Errors would have refused the import; what is left to say are the warnings (a
    // Microsoft setting that signs in with a password, above all). Passwords are
    // entered after an import, so their absence is not repeated here.
    let config = workspace.config();
    for id in summary.added.iter().chain(&summary.replaced) {
        let Some(setting) = config.setting(id) else { continue };
        let findings = validate_setting(setting, config, StoredPasswords::default());
        for finding in findings.iter().filter(|f| f.severity == Severity::Warning) {
            out.write_all(crate::printable::printable(&format!("{id}: {finding}\n")).as_bytes())?;
        }
    }
    Ok(())
}

/// `deactivate ID [--switch-defaults-to NEW]`: the guide's step 10 before step 11.
pub(super) fn deactivate(
    workspace: &mut Workspace,
    id: &str,
    new: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(new) = new {
        let moved = workspace.deactivate_moving_defaults(id, &new.into())?;
        let config = workspace.config();
        let names: Vec<String> = moved.iter().map(|c| config.company_name(c)).collect();
        if !names.is_empty() {
            writeln!(out, "{} now use \"{}\"", names.join(", "), config.setting_name(new))?;
        }
    } else {
        workspace.deactivate(id)?;
    }
    Ok(writeln!(out, "\"{}\" is inactive", workspace.config().setting_name(id))?)
}

pub(super) fn paths(workspace: &Workspace, out: &mut dyn Write) -> Result<(), Failure> {
    let log = crate::folders::log_file();
    Ok(writeln!(
        out,
        "config file:  {}\nbackup:       {}\nwindow log:   {}\nsecret store: {}",
        workspace.path().display(),
        crate::store::file::backup_path_for(workspace.path()).display(),
        log.map_or_else(|| "unknown".to_owned(), |p| p.display().to_string()),
        workspace.secrets().describe()
    )?)
}

#[derive(Serialize)]
struct ListRow<'a> {
    id: &'a str,
    description: &'a str,
    credential: &'a str,
    /// How each side signs in (the same as `credential` unless a side overrides it).
    smtp_credential: &'a str,
    imap_credential: &'a str,
    active: bool,
    default_for: Vec<String>,
}

pub(super) fn list(workspace: &Workspace, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let config = workspace.config();
    let rows: Vec<ListRow<'_>> = config
        .mail_settings
        .iter()
        .map(|s| ListRow {
            id: &s.id,
            description: &s.description,
            credential: s.credential.config_name(),
            smtp_credential: s.smtp_credential().config_name(),
            imap_credential: s.imap_credential().config_name(),
            active: s.active,
            default_for: config.companies_defaulting_to(&s.id),
        })
        .collect();
    if json {
        let text = crate::printable::json_text(&rows).map_err(std::io::Error::other)?;
        return writeln!(out, "{text}");
    }
    if rows.is_empty() {
        return writeln!(out, "No mail settings yet. Add one in the window, or: mailsettings import FILE");
    }
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    writeln!(out, "{:id_width$}  {:8}  {:12}  {:30}  DEFAULT FOR", "ID", "ACTIVE", "CREDENTIAL", "DESCRIPTION")?;
    for row in rows {
        let line = format!(
            "{:id_width$}  {:8}  {:12}  {:30}  {}",
            row.id,
            if row.active { "active" } else { "inactive" },
            row.credential,
            row.description,
            row.default_for.join(", ")
        );
        // The description may come from an imported file: printed, never run.
        writeln!(out, "{}", crate::printable::printable(&line))?;
    }
    Ok(())
}

pub(super) fn print_log(workspace: &Workspace, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let entries = crate::store::audit::read(&workspace.audit_path());
    if json {
        return print_json(&entries, out);
    }
    for entry in entries {
        let subject = match (&entry.setting, &entry.company) {
            (Some(setting), Some(company)) => format!("{company} → {setting}"),
            (Some(setting), None) => setting.clone(),
            (None, Some(company)) => company.clone(),
            (None, None) => entry.provider.clone().or_else(|| entry.trust.clone()).unwrap_or_default(),
        };
        let line = format!("{}  {:<12} {:<40} {subject}", entry.time, entry.user, entry.action);
        writeln!(out, "{}", crate::printable::printable(&line))?;
    }
    Ok(())
}

pub(super) fn show(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let config = workspace.config();
    let setting = find(config, id)?;
    let passwords = workspace.secrets().stored_passwords(id);
    let default_for = config.companies_defaulting_to(id);
    if json {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            setting: &'a MailSetting,
            default_for: Vec<String>,
            smtp_password_stored: Option<bool>,
            imap_password_stored: Option<bool>,
        }
        let (smtp, imap) = passwords.as_ref().map_or((None, None), |p| (Some(p.smtp), Some(p.imap)));
        let shown = Shown { setting, default_for, smtp_password_stored: smtp, imap_password_stored: imap };
        return print_json(&shown, out);
    }
    let stored = |present: fn(&StoredPasswords) -> bool| match &passwords {
        Ok(p) if present(p) => format!("stored in the {}", workspace.secrets().describe()),
        Ok(_) => "not set".to_owned(),
        Err(err) => format!("unknown ({err})"),
    };
    let (smtp, imap) = (&setting.smtp, &setting.imap);
    let password = |credential: crate::model::CredentialKind, present: fn(&StoredPasswords) -> bool| {
        if credential.uses_oauth() {
            format!("not used (signs in with {})", credential.label())
        } else {
            stored(present)
        }
    };
    let default_for = if default_for.is_empty() { "-".to_owned() } else { default_for.join(", ") };
    // Each line in the form's words (model::fields), so what is read aloud is found on screen.
    let rows: [(Option<&str>, Field, String); 19] = [
        (None, Field::CredentialType, setting.credential_label()),
        (None, Field::Active, (if setting.active { "Active" } else { "Inactive" }).to_owned()),
        (None, Field::SubjectTag, setting.subject_tag.clone()),
        (Some(fields::OUTGOING), Field::SmtpServer, smtp.server.clone()),
        (None, Field::SmtpPort, smtp.port.to_string()),
        (None, Field::SmtpSecurity, smtp.security.label().to_owned()),
        (None, Field::SmtpSendAs, smtp.send_as.clone()),
        (None, Field::SmtpFromName, smtp.from_name.clone()),
        (None, Field::SmtpUserName, smtp.user_name.clone()),
        (None, Field::SmtpUserDomain, smtp.user_domain.clone()),
        (None, Field::SmtpPassword, password(setting.smtp_credential(), |p| p.smtp)),
        (Some(fields::INCOMING), Field::ImapServer, imap.server.clone()),
        (None, Field::ImapPort, imap.port.to_string()),
        (None, Field::ImapSecurity, imap.security.label().to_owned()),
        (None, Field::ImapInboxFolder, imap.inbox_folder.clone()),
        (None, Field::ImapSentFolder, imap.sent_folder.clone()),
        (None, Field::ImapUserName, imap.user_name.clone()),
        (None, Field::ImapUserDomain, imap.user_domain.clone()),
        (None, Field::ImapPassword, password(setting.imap_credential(), |p| p.imap)),
    ];
    let width = rows.iter().map(|(_, field, _)| field.label().len()).max().unwrap_or(0) + 1;
    let mut text = format!("{} ({id})\n", setting.description);
    for (section, field, value) in &rows {
        if let Some(section) = section {
            text.push_str(section);
            text.push('\n');
        }
        text.push_str(&format!("  {:width$} {value}\n", format!("{}:", field.label())));
        if *field == Field::SubjectTag {
            text.push_str(&format!("  {:width$} {default_for}\n", "Default for:"));
        }
    }
    let today = time::OffsetDateTime::now_utc().date();
    if let Some((_, words)) = crate::model::providers::basic_smtp_ending(setting, today) {
        text.push_str(&format!("Note: {words} (mailsettings migrate start {id} --to microsoft365)\n"));
    }
    // Values come from the config file, which may have been imported: printed, never run.
    out.write_all(crate::printable::printable(&text).as_bytes()).map_err(Failure::from)
}

pub(super) fn validate(workspace: &Workspace, id: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
    let config = workspace.config();
    let settings: Vec<&MailSetting> = match id {
        Some(id) => vec![find(config, id)?],
        None => config.mail_settings.iter().collect(),
    };
    let mut failed = false;
    let mut warned = 0;
    for setting in settings {
        // The store is asked only when a side signs in with a password.
        let passwords = if !setting.smtp_credential().uses_oauth() || !setting.imap_credential().uses_oauth() {
            workspace.secrets().stored_passwords(&setting.id).map_err(|e| Failure::check(e.to_string()))?
        } else {
            StoredPasswords::default()
        };
        let findings: Vec<Finding> = validate_setting(setting, config, passwords);
        failed |= has_errors(&findings);
        warned += findings.iter().filter(|f| f.severity == Severity::Warning).count();
        if findings.is_empty() {
            writeln!(out, "{}: OK", setting.id).map_err(Failure::from)?;
        }
        for finding in findings {
            writeln!(out, "{}: {finding}", setting.id).map_err(Failure::from)?;
        }
    }
    if id.is_none() {
        for problem in config.consistency_problems() {
            failed = true;
            writeln!(out, "error: {problem}").map_err(Failure::from)?;
        }
    }
    if failed {
        Err(Failure::check("validation found errors"))
    } else {
        if warned > 0 {
            writeln!(out, "{warned} warning(s); nothing blocks saving").map_err(Failure::from)?;
        }
        Ok(())
    }
}

pub(super) fn set_password(workspace: &Workspace, args: &SetPasswordArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), &args.id)?;
    let kinds: &[SecretKind] = match (args.smtp, args.imap) {
        (true, _) => &[SecretKind::SmtpPassword],
        (_, true) => &[SecretKind::ImapPassword],
        _ => &[SecretKind::SmtpPassword, SecretKind::ImapPassword],
    };
    let oauth_sides: Vec<&str> = kinds
        .iter()
        .filter(|kind| match kind {
            SecretKind::SmtpPassword => setting.smtp_credential().uses_oauth(),
            _ => setting.imap_credential().uses_oauth(),
        })
        .map(|kind| if *kind == SecretKind::SmtpPassword { "outgoing" } else { "incoming" })
        .collect();
    if !oauth_sides.is_empty() {
        writeln!(
            out,
            "Note: the {} side of \"{}\" signs in with OAuth; the password is kept but not used there",
            oauth_sides.join(" and "),
            args.id
        )
        .map_err(|e| Failure::check(e.to_string()))?;
    }
    let password = read_password()?;
    for kind in kinds {
        workspace.set_password(&args.id, *kind, &password)?;
    }
    let which = match kinds {
        [SecretKind::SmtpPassword] => "outgoing password",
        [SecretKind::ImapPassword] => "incoming password",
        _ => "outgoing and incoming passwords",
    };
    writeln!(out, "Stored the {which} of \"{}\" in the {}", args.id, workspace.secrets().describe())
        .map_err(|e| Failure::check(e.to_string()))
}

pub(super) fn export(workspace: &Workspace, file: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    workspace.export(file)?;
    let count = workspace.config().mail_settings.len();
    Ok(writeln!(out, "Exported {count} setting(s) to {} (no passwords or tokens)", file.display())?)
}

/// `activate ID [--untested]`: a migration's new setting is tested before it goes
/// Active, as the guide orders, unless the admin says otherwise (audited).
pub(super) fn activate(
    workspace: &mut Workspace,
    id: &str,
    untested: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let blocker = crate::migration::untested_activation(workspace.config(), workspace.secrets(), id);
    if let Some(reason) = &blocker
        && !untested
    {
        return Err(Failure::check(format!("{reason}; or, to go on anyway: mailsettings activate {id} --untested")));
    }
    workspace.activate(id)?;
    if blocker.is_some() {
        workspace.log_event("activate-untested", id);
        return Ok(writeln!(out, "\"{id}\" is active (untested)")?);
    }
    Ok(writeln!(out, "\"{id}\" is active")?)
}

/// `set-transport ID`: how the setting sends and reads, saved (validated, audited) as the form saves.
pub(super) fn set_transport(
    workspace: &mut Workspace,
    id: &str,
    (sends_with, reads_with): (Option<crate::model::setting::Transport>, Option<crate::model::setting::Transport>),
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use crate::model::Protocol;
    let mut setting = find(workspace.config(), id)?.clone();
    if sends_with.is_none() && reads_with.is_none() {
        return Ok(writeln!(
            out,
            "\"{id}\" sends with {} and reads with {}",
            setting.smtp.sends_with.label(Protocol::Smtp),
            setting.imap.reads_with.label(Protocol::Imap)
        )?);
    }
    if let Some(road) = sends_with {
        setting.smtp.sends_with = road;
    }
    if let Some(road) = reads_with {
        setting.imap.reads_with = road;
    }
    let (sends, reads) = (setting.smtp.sends_with, setting.imap.reads_with);
    workspace.save_setting(setting, &crate::store::PasswordChanges::default())?;
    Ok(writeln!(
        out,
        "\"{id}\" now sends with {} and reads with {} (if a test then names a permission missing, connect again)",
        sends.label(Protocol::Smtp),
        reads.label(Protocol::Imap)
    )?)
}

pub(super) fn set_default(
    workspace: &mut Workspace,
    company: &str,
    id: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    workspace.set_default(company, &id.into())?;
    Ok(writeln!(out, "Company \"{company}\" now uses \"{id}\"")?)
}

pub(super) fn add_company(workspace: &mut Workspace, id: &str, name: &str, out: &mut dyn Write) -> Result<(), Failure> {
    workspace.add_company(Company { id: id.to_owned(), name: name.to_owned(), default_mail_setting: None })?;
    Ok(writeln!(out, "Added company \"{id}\"")?)
}

pub(super) fn delete(workspace: &mut Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    workspace.delete(id)?;
    Ok(writeln!(out, "Moved \"{id}\" to the trash; bring it back with: mailsettings restore {id}")?)
}

pub(super) fn restore(workspace: &mut Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    workspace.restore(id)?;
    Ok(writeln!(out, "Restored \"{id}\"")?)
}

/// `support show`: the contact diagnoses and copied reports name.
pub(super) fn support_show(workspace: &Workspace, out: &mut dyn Write) -> Result<(), Failure> {
    let contact = workspace.config().support_contact();
    let from = if workspace.config().support.contact.is_some() { " (set in the config)" } else { "" };
    Ok(writeln!(out, "Support: {contact}{from}")?)
}

/// `support set --contact TEXT`: audited like every change; an empty text removes it.
pub(super) fn support_set(workspace: &mut Workspace, contact: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let contact = contact.trim();
    if contact.contains(['\r', '\n']) {
        return Err(Failure::usage("the support contact is one line"));
    }
    let kept = (!contact.is_empty()).then(|| contact.to_owned());
    workspace.apply("set-support-contact", |config| {
        config.support.contact = kept;
        Ok(())
    })?;
    Ok(writeln!(out, "Support: {}", workspace.config().support_contact())?)
}

/// `network show|set`: the proxy sign-in and token requests go through.
pub(super) fn network(
    workspace: &mut Workspace,
    command: &super::args::NetworkCommand,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use super::args::NetworkCommand;
    if let NetworkCommand::Set { proxy, no_proxy, proxy_password_stdin, clear } = command {
        let proxy = proxy.as_deref().map(str::trim);
        if let Some(proxy) = proxy.filter(|p| !p.is_empty()) {
            let parsed = url::Url::parse(proxy).map_err(|e| Failure::usage(format!("--proxy \"{proxy}\": {e}")))?;
            if parsed.scheme() != "http" || parsed.password().is_some() {
                return Err(Failure::usage(
                    "--proxy takes an address like http://proxy.corp.example:3128 (or http://name@proxy…:3128), \
                     without a password: give that with --proxy-password-stdin",
                ));
            }
        }
        let secrets = workspace.secrets().clone();
        if *proxy_password_stdin {
            let password = super::support::read_password()?;
            secrets
                .set(crate::store::SecretOwner::Proxy, crate::store::SecretKind::ProxyPassword, &password)
                .map_err(|e| Failure::check(format!("the proxy's password was not stored: {e}")))?;
        } else if *clear {
            secrets
                .delete(crate::store::SecretOwner::Proxy, crate::store::SecretKind::ProxyPassword)
                .map_err(|e| Failure::check(format!("the proxy's password was not removed: {e}")))?;
        }
        workspace.apply("set-network", |config| {
            if *clear {
                config.network = crate::model::NetworkConfig::default();
            }
            if let Some(proxy) = proxy {
                config.network.proxy = (!proxy.is_empty()).then(|| proxy.to_owned());
            }
            if let Some(list) = no_proxy {
                config.network.no_proxy = (!list.trim().is_empty()).then(|| list.trim().to_owned());
            }
            Ok(())
        })?;
    }
    let route = crate::oauth::http::route_for(&workspace.config().network, workspace.secrets());
    let from = if workspace.config().network.proxy.is_some() { "the config" } else { "the environment" };
    match &route.proxy {
        Some(proxy) => {
            let user = url::Url::parse(proxy).map(|url| url.username().to_owned()).unwrap_or_default();
            let shown = crate::secret::without_userinfo(proxy);
            let signs_in = match (user.is_empty(), route.password.is_some()) {
                (true, _) => String::new(),
                (false, true) => format!(", signing in as {user} with the password in the OS credential store"),
                (false, false) => {
                    format!(", signing in as {user} — no password stored yet (network set --proxy-password-stdin)")
                }
            };
            writeln!(out, "Proxy: {shown} (from {from}){signs_in}")?;
        }
        None => writeln!(out, "Proxy: none (sign-in and token requests go direct)")?,
    }
    if !route.no_proxy.is_empty() {
        writeln!(out, "Direct: {}", route.no_proxy.join(", "))?;
    }
    Ok(())
}
