//! The headless commands support staff script: the same core as the window,
//! no GUI. Exit codes: 0 success, 1 a check or guard failed, 2 bad usage.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::checks::{Check, Outcome};
use crate::model::validate::{Severity, has_errors};
use crate::model::{Company, Config, Finding, GuardError, MailSetting, StoredPasswords, validate_setting};
use crate::probe::{self, ProbeOptions};
use crate::secret::Secret;
use crate::store::{SecretKind, Secrets, Workspace, WorkspaceError, resolve_config_path};

#[derive(Debug, Parser)]
#[command(
    name = "mailsettings",
    version,
    about = "Set up, test and migrate the mailboxes your receivables automation sends and receives mail through.",
    long_about = "Set up, test and migrate the mailboxes your receivables automation sends and receives mail \
                  through.\n\nWith no command, opens the Mail Settings window."
)]
pub struct Cli {
    /// Config file to use (default: MAILSETTINGS_CONFIG, else the OS config folder)
    #[arg(long, global = false, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every mail setting
    List(JsonFlag),
    /// Show one mail setting (passwords are never shown, only whether they are stored)
    Show {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Check one setting, or all settings and company defaults
    Validate { id: Option<String> },
    /// Add or replace settings, companies and providers from a file (by id)
    Import { file: PathBuf },
    /// Write settings, companies and providers to a file (never passwords or tokens)
    Export { file: PathBuf },
    /// Store a password, read from standard input (never from the command line)
    SetPassword(SetPasswordArgs),
    /// Make a setting active
    Activate { id: String },
    /// Make a setting inactive (refused while it is a company's default, unless they move)
    Deactivate {
        id: String,
        /// First move the companies that use it as their default to this (active) setting
        #[arg(long, value_name = "ID")]
        switch_defaults_to: Option<String>,
    },
    /// Make a setting the default of a company (it must be active)
    SetDefault { company: String, id: String },
    /// Add a company
    AddCompany {
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Move a setting to the trash (refused while it is a company's default)
    Delete { id: String },
    /// Bring a deleted setting back from the trash
    Restore { id: String },
    /// Connection tests: outgoing (two test messages), incoming (sign-in and folders), roundtrip
    #[command(subcommand)]
    Test(TestCommand),
    /// Find which security mode each standard port of a setting's servers speaks
    Detect {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Count messages left in a setting's inbox and folders (default "Mail Not Read", "Mail Not Filed")
    Leftover {
        id: String,
        /// A folder to count (repeat for more); replaces the default folders
        #[arg(long = "folder", value_name = "NAME")]
        folders: Vec<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Sign in with OAuth2 in the browser (loopback redirect); tokens go to the OS secret store
    Connect {
        id: String,
        /// Print the link instead of opening a browser
        #[arg(long)]
        no_browser: bool,
        /// Sign in on another device with a short code (for a machine without a browser)
        #[arg(long, conflicts_with = "no_browser")]
        device: bool,
        /// Give up after this many seconds (1 to 86400)
        #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        timeout: u64,
    },
    /// The sign-in apps (client ids) Connect uses: show them, or set one
    #[command(subcommand)]
    OauthApp(OauthAppCommand),
    /// Revoke (where the provider supports it) and delete a setting's tokens
    Disconnect { id: String },
    /// Send the message on standard input through a setting, as sendmail does (sysexits codes;
    /// the diagnosis on stderr)
    Send {
        id: String,
        /// Take the recipients from the To, Cc and Bcc headers too (Bcc is removed from the message)
        #[arg(short = 't')]
        extract_recipients: bool,
        /// The envelope sender (default: the setting's send-as address)
        #[arg(short = 'f', value_name = "ADDR")]
        from: Option<String>,
        /// Accepted for sendmail compatibility and ignored: a line with a single '.' never ends the message
        #[arg(short = 'i')]
        ignore_dots: bool,
        /// sendmail's -o options (-oi, -oem …), accepted and ignored
        #[arg(short = 'o', value_name = "OPTION")]
        sendmail_options: Vec<String>,
        /// Recipients
        recipients: Vec<String>,
    },
    /// A loopback SMTP and IMAP bridge for programs that only know a user name and password
    #[command(subcommand)]
    Bridge(BridgeCommand),
    /// Print a fresh access token of a connected setting on standard output and nothing
    /// else (refreshing it first when needed), for other programs: msmtp's passwordeval,
    /// curl --oauth2-bearer, mbsync's PassCmd
    Token {
        id: String,
        /// Print JSON with the token, its type, expiry and the signed-in account instead
        #[arg(long)]
        json: bool,
    },
    /// Connection state and token health of a setting (never the tokens)
    TokenStatus {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The migration assistant: Basic → OAuth with guard rails
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Every change to settings and company defaults (the audit log)
    Log(JsonFlag),
    /// Print where the config file, its backup, the log and the secrets are
    Paths,
    /// Open the window (the same as giving no command)
    Gui,
}

#[derive(Debug, Subcommand)]
pub enum BridgeCommand {
    /// Make (or replace) the local password programs sign in to the bridge with; printed once
    Password { id: String },
    /// Serve these settings on 127.0.0.1 until stopped (Ctrl+C or SIGTERM)
    Run {
        /// Port for SMTP (0: any free port)
        #[arg(long, default_value_t = 1587)]
        smtp_port: u16,
        /// Port for IMAP (0: any free port)
        #[arg(long, default_value_t = 1993)]
        imap_port: u16,
        /// Offer STARTTLS to the programs, with the bridge's own certificate for localhost
        /// (made once; its key in the OS store, the certificate written beside the config),
        /// and take a sign-in only after it
        #[arg(long)]
        local_tls: bool,
        /// The settings to serve
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OauthAppCommand {
    /// The client id set for each provider (built in, in the config, or missing)
    Show,
    /// Set the client id of your organisation's registered app
    Set {
        /// microsoft365, gmail, or the id of an [[oauth_provider]]
        provider: String,
        #[arg(long, value_name = "ID")]
        client_id: String,
        /// Microsoft 365: the tenant (id or domain) of settings that name none
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// Also store the app's client secret (Google desktop apps), read from standard input,
        /// in the OS credential store — never in the config file or an export
        #[arg(long)]
        client_secret_stdin: bool,
        /// When the client secret expires (YYYY-MM-DD): app-only settings warn before it does
        #[arg(long, value_name = "DATE")]
        client_secret_expires: Option<String>,
        /// App-only access with a certificate instead of a client secret (Microsoft): the
        /// certificate uploaded to the app registration (PEM)
        #[arg(long, value_name = "FILE", requires = "private_key")]
        certificate: Option<PathBuf>,
        /// The certificate's RSA private key (PEM); kept in the OS credential store —
        /// delete the file afterwards
        #[arg(long, value_name = "FILE", requires = "certificate")]
        private_key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Send two test messages to ADDR in one session (Test Outgoing)
    Outgoing {
        id: String,
        /// The address the two test messages go to
        #[arg(long, value_name = "ADDR")]
        to: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Sign in over IMAP and check the inbox and sent folders (Test Incoming)
    Incoming {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Send a message to the incoming mailbox and wait until it arrives
    Roundtrip {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Create the new OAuth setting from an old Basic one
    Start {
        old: String,
        /// microsoft365, gmail, or the id of an [[oauth_provider]]
        #[arg(long, value_name = "TARGET")]
        to: String,
    },
    /// The checklist: what is done, what is next, what blocks
    Status {
        old: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Switch the companies whose default is the old setting to the new one
    SwitchDefaults {
        old: String,
        /// Only this company (repeat for more); all of them when absent
        #[arg(long = "company", value_name = "ID")]
        companies: Vec<String>,
    },
    /// Count mail left in the old setting's folders ("Mail Not Read", "Mail Not Filed"), signing in
    /// with the new setting when both reach the same mailbox; or accept with a reason that they
    /// cannot be checked
    #[command(alias = "audit")]
    Leftover {
        old: String,
        #[arg(long = "folder", value_name = "NAME")]
        folders: Vec<String>,
        /// Which sign-in opens the old folders: old-sign-in (the old setting's password) or
        /// new-sign-in (the new setting's OAuth, same server); by default the one that works
        #[arg(long, value_name = "SIGN-IN")]
        via: Option<crate::model::LeftoverRoute>,
        /// Accept that the folders cannot be checked (e.g. no sign-in reaches them any more)
        #[arg(long, value_name = "REASON")]
        acknowledge: Option<String>,
    },
    /// Check the old folders once more, then delete the old setting when every guard holds
    Finish { old: String },
    /// Old setting active again, previous company defaults restored
    Rollback { old: String },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    pub id: String,
    /// Only the outgoing (SMTP) password
    #[arg(long, conflicts_with = "imap")]
    pub smtp: bool,
    /// Only the incoming (IMAP) password
    #[arg(long)]
    pub imap: bool,
}

/// A command's failure: what to print, and which exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn check(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Self::check(format!("could not write the output: {err}"))
    }
}

impl From<crate::migration::MigrationError> for Failure {
    fn from(err: crate::migration::MigrationError) -> Self {
        use crate::migration::MigrationError;
        match err {
            MigrationError::UnknownSetting(_)
            | MigrationError::UnknownTarget { .. }
            | MigrationError::NotStarted(_) => Self::usage(err.to_string()),
            MigrationError::Workspace(inner) => Self::from(inner),
            other => Self::check(other.to_string()),
        }
    }
}

impl From<WorkspaceError> for Failure {
    fn from(err: WorkspaceError) -> Self {
        match err {
            // Naming something that does not exist is a usage mistake.
            WorkspaceError::Guard(
                GuardError::UnknownSetting(_) | GuardError::UnknownCompany(_) | GuardError::NotInTrash(_),
            ) => Self::usage(err.to_string()),
            other => Self::check(other.to_string()),
        }
    }
}

/// The whole program: parses the arguments, then opens the window (no
/// command) or runs the command. Both binaries (`mailsettings`, and the
/// console `mailsettings-cli` for Windows) call this.
pub fn main_with(launched: std::time::Instant) -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        None | Some(Command::Gui) => {
            let log_file = crate::logging::init_gui();
            crate::ui::run(cli.config.as_deref(), log_file.as_deref(), launched)
        }
        Some(command) => {
            crate::logging::init_cli();
            run(&cli, command)
        }
    }
}

/// Runs a parsed command. `None` means "open the window" and is handled by main.
pub fn run(cli: &Cli, command: &Command) -> ExitCode {
    let result = execute(cli.config.as_deref(), command, &mut std::io::stdout().lock());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                // Errors name settings, users and servers from a possibly imported file: shown, never run.
                eprintln!("mailsettings: {}", crate::printable::printable(&failure.message));
            }
            ExitCode::from(failure.code)
        }
    }
}

fn open(config: Option<&Path>) -> Result<Workspace, Failure> {
    let path = resolve_config_path(config).map_err(|e| Failure::check(e.to_string()))?;
    let secrets = Secrets::from_env().map_err(|e| Failure::usage(e.to_string()))?;
    Workspace::open(&path, secrets).map_err(|e| Failure::check(e.to_string()))
}

fn execute(config: Option<&Path>, command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    let mut workspace = open(config)?;
    let done = execute_in(&mut workspace, command, out);
    // A large config read the slow way, or saved by this command, is kept parsed for
    // the next start — once, after the command, so its answer is not delayed (and
    // an entry for what a save replaced is never written).
    if let Some(keep_parsed) = workspace.parse_cache_writer() {
        keep_parsed();
    }
    done
}

fn execute_in(workspace: &mut Workspace, command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    match command {
        Command::List(flag) => list(workspace, flag.json, out).map_err(Failure::from),
        Command::Show { id, json } => show(workspace, id, json.json, out),
        Command::Validate { id } => validate(workspace, id.as_deref(), out),
        Command::Import { file } => import(workspace, file, out),
        Command::Export { file } => {
            workspace.export(file)?;
            let count = workspace.config().mail_settings.len();
            Ok(writeln!(out, "Exported {count} setting(s) to {} (no passwords or tokens)", file.display())?)
        }
        Command::SetPassword(args) => set_password(workspace, args, out),
        Command::Activate { id } => {
            workspace.activate(id)?;
            Ok(writeln!(out, "\"{id}\" is active")?)
        }
        Command::Deactivate { id, switch_defaults_to } => deactivate(workspace, id, switch_defaults_to.as_deref(), out),
        Command::SetDefault { company, id } => {
            workspace.set_default(company, id)?;
            Ok(writeln!(out, "Company \"{company}\" now uses \"{id}\"")?)
        }
        Command::AddCompany { id, name } => {
            workspace.add_company(Company { id: id.clone(), name: name.clone(), default_mail_setting: None })?;
            Ok(writeln!(out, "Added company \"{id}\"")?)
        }
        Command::Delete { id } => {
            workspace.delete(id)?;
            Ok(writeln!(out, "Moved \"{id}\" to the trash; bring it back with: mailsettings restore {id}")?)
        }
        Command::Restore { id } => {
            workspace.restore(id)?;
            Ok(writeln!(out, "Restored \"{id}\"")?)
        }
        Command::Test(test) => run_probe(workspace, test, out),
        Command::Migrate(migrate) => run_migrate(workspace, migrate, out),
        Command::Log(flag) => print_log(workspace, flag.json, out),
        Command::Detect { id, json } => {
            let report = run_check(workspace, id, &Check::Detect)?;
            print_report(report.report(), json.json, out)
        }
        Command::Leftover { id, folders, json } => leftover(workspace, id, folders, json.json, out),
        Command::Connect { id, .. } if find(workspace.config(), id)?.oauth_flow == crate::model::OAuthFlow::App => {
            check_app_access(workspace, id, out)
        }
        Command::Connect { id, device: true, .. } => connect_on_another_device(workspace, id, out),
        Command::Connect { id, no_browser, timeout, .. } => connect(workspace, id, *no_browser, *timeout, out),
        Command::Disconnect { id } => disconnect(workspace, id, out),
        Command::Send { id, extract_recipients, from, recipients, .. } => {
            send(workspace, id, *extract_recipients, from.as_deref(), recipients, &mut std::io::stdin().lock(), out)
        }
        Command::Token { id, json } => print_token(workspace, id, *json, out),
        Command::Bridge(BridgeCommand::Password { id }) => {
            let setting = find(workspace.config(), id)?;
            if !setting.uses_oauth() {
                return Err(Failure::check(crate::bridge::BridgeError::NotOAuth(id.clone()).to_string()));
            }
            let password = crate::bridge::new_local_password(workspace.secrets(), id)
                .map_err(|e| Failure::check(e.to_string()))?;
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
        Command::Bridge(BridgeCommand::Run { smtp_port, imap_port, local_tls, ids }) => {
            let ports = crate::bridge::Ports { smtp: *smtp_port, imap: *imap_port };
            let local_tls = if *local_tls {
                let tls = crate::bridge::local_tls::load_or_create(workspace.secrets(), workspace.path())
                    .map_err(|e| Failure::check(e.to_string()))?;
                Some(tls)
            } else {
                None
            };
            let tls_note = local_tls.as_ref().map_or_else(String::new, |tls| {
                format!(
                    " STARTTLS required; the certificate is {} (SHA-256 {}).",
                    tls.certificate_path.display(),
                    tls.fingerprint
                )
            });
            let listen = crate::bridge::Listen { ports, local_tls };
            let mut announced: Result<(), Failure> = Ok(());
            let result =
                crate::bridge::run(workspace.config(), workspace.secrets(), ids, &listen, &interrupted(), |ports| {
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
        Command::TokenStatus { id, json } => token_status(workspace, id, json.json, out),
        Command::OauthApp(OauthAppCommand::Show) => oauth_app_show(workspace.config(), workspace.secrets(), out),
        Command::OauthApp(OauthAppCommand::Set {
            provider,
            client_id,
            tenant,
            client_secret_stdin,
            client_secret_expires,
            certificate,
            private_key,
        }) => {
            let certificate = match certificate.as_deref().zip(private_key.as_deref()) {
                Some((certificate, key)) => Some(read_app_certificate(certificate, key)?),
                None => None,
            };
            let change = crate::store::SignInAppChange {
                provider: provider.clone(),
                client_id: client_id.clone(),
                tenant: tenant.clone(),
                client_secret_expires: client_secret_expires.clone(),
            };
            let secret = if *client_secret_stdin { Some(read_password()?) } else { None };
            workspace.set_sign_in_app(change, secret.as_ref(), certificate.as_ref())?;
            let kept = match (&secret, &certificate) {
                (_, Some(certificate)) => {
                    let facts = certificate.facts().map_err(|e| Failure::check(e.to_string()))?;
                    format!(
                        " (certificate {} valid until {}, with its key, in the OS credential store; the key file can \
                         be deleted now)",
                        facts.thumbprint, facts.expires
                    )
                }
                (Some(_), None) => " (client secret in the OS credential store)".to_owned(),
                (None, None) => String::new(),
            };
            Ok(writeln!(out, "Saved the sign-in app for {provider}{kept}; Connect uses it now")?)
        }
        Command::Paths => paths(workspace, out),
        Command::Gui => Err(Failure::usage("the window is opened by main, not by the CLI")),
    }
}

fn import(workspace: &mut Workspace, file: &Path, out: &mut dyn Write) -> Result<(), Failure> {
    let summary = workspace.import(file)?;
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
    Ok(())
}

/// `deactivate ID [--switch-defaults-to NEW]`: the guide's step 10 before step 11.
fn deactivate(workspace: &mut Workspace, id: &str, new: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
    if let Some(new) = new {
        let moved = workspace.deactivate_moving_defaults(id, new)?;
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

fn leftover(
    workspace: &Workspace,
    id: &str,
    folders: &[String],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let folders = if folders.is_empty() { probe::imap::default_leftover_folders() } else { folders.to_vec() };
    let result = leftover_outcome(run_check(workspace, id, &Check::Leftover { folders })?);
    if !json {
        return print_report(&result.report, false, out);
    }
    #[derive(Serialize)]
    struct LeftoverJson<'a> {
        #[serde(flatten)]
        report: &'a probe::Report,
        counts: &'a Option<Vec<probe::imap::FolderCount>>,
        total: Option<u32>,
    }
    let shown = LeftoverJson { report: &result.report, counts: &result.counts, total: result.total() };
    serde_json::to_writer_pretty(&mut *out, &shown).map_err(|e| Failure::check(e.to_string()))?;
    writeln!(out)?;
    if result.report.passed { Ok(()) } else { Err(Failure::check("")) }
}

fn disconnect(workspace: &Workspace, id: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    let provider = crate::oauth::provider::resolve(setting, workspace.config()).ok();
    let options = probe_options(workspace)?;
    let revoked = crate::oauth::tokens::disconnect(
        workspace.secrets(),
        id,
        provider.as_ref(),
        options.tls,
        options.connect_timeout,
    )
    .map_err(|e| Failure::check(e.to_string()))?;
    Ok(writeln!(out, "Disconnected \"{id}\": {}", revoked.summary())?)
}

/// `send ID`: sendmail through a setting. Quiet on success, as sendmail is.
fn send(
    workspace: &Workspace,
    id: &str,
    extract: bool,
    envelope_from: Option<&str>,
    recipients: &[String],
    input: &mut dyn std::io::BufRead,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use crate::send::{EX_DATAERR, EX_NOPERM, EX_UNAVAILABLE};
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
    let options = probe_options(workspace).map_err(|f| Failure { code: EX_UNAVAILABLE, message: f.message })?;
    let bearer = crate::oauth::bearer_for_probe(setting, workspace.config(), workspace.secrets(), &options);
    let (outgoing, _) = probe::inputs_for(setting, workspace.secrets(), bearer.as_ref())
        .map_err(|e| Failure { code: EX_NOPERM, message: e.to_string() })?;
    let envelope_from = envelope_from.map_or_else(|| send_as.to_string(), str::to_owned);
    let mut message = std::io::Read::chain(prepared.head.as_slice(), input);
    let report = probe::smtp::relay_message(
        &outgoing,
        &envelope_from,
        &prepared.recipients,
        &mut message,
        &options,
        &interrupted(),
    );
    let code = crate::send::exit_code(&report);
    if code == crate::send::EX_OK {
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

/// `token ID`: the access token alone on stdout, so `$(mailsettings token ID)` is the token.
fn print_token(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    if !setting.uses_oauth() {
        return Err(Failure::check(format!(
            "\"{}\" signs in with a password (Basic), so it has no token; give programs its password instead",
            workspace.config().setting_name(id)
        )));
    }
    let options = probe_options(workspace)?;
    let token = match crate::oauth::bearer_for_probe(setting, workspace.config(), workspace.secrets(), &options) {
        Some(Ok(token)) => token,
        Some(Err(reason)) => return Err(Failure::check(reason)),
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
    serde_json::to_writer_pretty(&mut *out, &answer).map_err(|e| Failure::check(e.to_string()))?;
    Ok(writeln!(out)?)
}

fn token_status(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let setting = find(workspace.config(), id)?;
    if setting.uses_oauth() && setting.oauth_flow == crate::model::OAuthFlow::App {
        // Nothing is kept for app-only access: say so rather than "Not connected".
        if json {
            let expires = crate::oauth::provider::app_secret_expires(setting, workspace.config());
            let answer = serde_json::json!({ "flow": "app", "state": "app_only", "client_secret_expires": expires });
            serde_json::to_writer_pretty(&mut *out, &answer).map_err(|e| Failure::check(e.to_string()))?;
            return Ok(writeln!(out)?);
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
        serde_json::to_writer_pretty(&mut *out, &status).map_err(|e| Failure::check(e.to_string()))?;
        return Ok(writeln!(out)?);
    }
    writeln!(out, "{}", status.state.label())?;
    if let crate::oauth::ConnectionState::NeedsReconnect { reason } = &status.state {
        writeln!(out, "  reason:               {reason}")?;
    }
    for (label, value) in [
        ("provider", &status.provider),
        ("connected at", &status.connected_at),
        ("access token expires", &status.access_token_expires_at),
        ("last refresh", &status.last_refresh),
    ] {
        if let Some(value) = value {
            writeln!(out, "  {label:<21} {value}")?;
        }
    }
    Ok(())
}

/// The sign-in apps: configured, built into this copy, or missing (with the command that sets one).
/// Reads and checks an app's certificate and private key (PEM files).
fn read_app_certificate(certificate: &Path, key: &Path) -> Result<crate::oauth::assertion::ClientCertificate, Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{} cannot be read: {e}", path.display())))
    };
    let (certificate_pem, key_pem) = (read(certificate)?, Secret::new(read(key)?));
    crate::oauth::assertion::ClientCertificate::from_pem(&certificate_pem, &key_pem)
        .map_err(|e| Failure::check(format!("{} and {}: {e}", certificate.display(), key.display())))
}

fn oauth_app_show(config: &Config, secrets: &Secrets, out: &mut dyn Write) -> Result<(), Failure> {
    use crate::oauth::provider::{builtin_label, embedded_client_id};
    for id in ["microsoft365", "gmail"] {
        let label = builtin_label(id).unwrap_or(id);
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
        let owner = crate::store::client_secret_owner(id);
        if secrets.get(&owner, crate::store::SecretKind::ClientSecret).is_ok_and(|s| s.is_some()) {
            writeln!(out, "{:<14} client secret stored in the OS credential store", "")?;
        } else if config.oauth_provider(id).is_some_and(|p| p.client_secret.is_some()) {
            writeln!(out, "{:<14} client secret in the config file: move it with --client-secret-stdin", "")?;
        }
        certificate_line(config, id, out)?;
    }
    for provider in config.oauth_providers.iter().filter(|p| builtin_label(&p.id).is_none()) {
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

fn paths(workspace: &Workspace, out: &mut dyn Write) -> Result<(), Failure> {
    let log = crate::logging::data_dir().map(|d| d.join("mailsettings.log"));
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

fn list(workspace: &Workspace, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
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
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        return writeln!(out);
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
    let sign_in = crate::oauth::device::DeviceSignIn::start(
        setting,
        workspace.config(),
        workspace.secrets(),
        options.tls.clone(),
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
    connected_or_failure(sign_in.finish(workspace.secrets(), options.tls.clone(), &interrupted()), out)
}

fn connected_or_failure(
    result: Result<crate::oauth::Connected, crate::oauth::ConnectError>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
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
            if let Some(diagnosis) = err.diagnosis() {
                for line in diagnosis.to_string().lines() {
                    message.push_str("\n  ");
                    message.push_str(line);
                }
            }
            Err(Failure::check(message))
        }
    }
}

fn connect(
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
    let result = flow.finish(
        workspace.secrets(),
        options.tls.clone(),
        std::time::Duration::from_secs(timeout_secs),
        &interrupted(),
    );
    connected_or_failure(result, out)
}

/// A cancel token that Ctrl+C (SIGINT) sets: a probe or a sign-in then ends at
/// once, cleanly, with its report, instead of the process being killed mid-step.
fn interrupted() -> CancelToken {
    static TOKEN: std::sync::OnceLock<CancelToken> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            let handler_token = token.clone();
            if let Err(err) = ctrlc::set_handler(move || handler_token.cancel()) {
                tracing::warn!("Ctrl+C will stop the program without a report: {err}");
            }
            token
        })
        .clone()
}

fn probe_options(workspace: &Workspace) -> Result<ProbeOptions, Failure> {
    ProbeOptions::from_config(workspace.config()).map_err(|e| Failure::check(e.to_string()))
}

/// Runs a check with `sign_in`'s servers and credentials, reported under `subject` (see [`crate::checks`]).
fn run_check(workspace: &Workspace, id: &str, check: &Check) -> Result<Outcome, Failure> {
    run_check_as(workspace, find(workspace.config(), id)?, id, check)
}

/// Runs `check` signing in with `sign_in`, the result belonging to `subject`.
fn run_check_as(
    workspace: &Workspace,
    sign_in: &MailSetting,
    subject: &str,
    check: &Check,
) -> Result<Outcome, Failure> {
    crate::checks::run(check, sign_in, subject, workspace.config(), workspace.secrets(), &interrupted())
        .map_err(|e| Failure::check(e.to_string()))
}

fn leftover_outcome(outcome: Outcome) -> probe::imap::Leftover {
    match outcome {
        Outcome::Leftover(leftover) => *leftover,
        Outcome::Report(report) => probe::imap::Leftover { report: *report, counts: None },
    }
}

fn run_probe(workspace: &mut Workspace, test: &TestCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let (id, check, json) = match test {
        TestCommand::Outgoing { id, to, json } => {
            if !crate::model::validate::is_well_formed_address(to.trim()) {
                return Err(Failure::usage(format!("--to \"{to}\" is not an e-mail address")));
            }
            (id, Check::Outgoing { to: to.trim().to_owned() }, json.json)
        }
        TestCommand::Incoming { id, json } => (id, Check::Incoming, json.json),
        TestCommand::Roundtrip { id, json } => (id, Check::RoundTrip, json.json),
    };
    let outcome = run_check(workspace, id, &check)?;
    crate::checks::record(workspace, id, &check, outcome.report());
    print_report(outcome.report(), json, out)
}

fn run_migrate(workspace: &mut Workspace, command: &MigrateCommand, out: &mut dyn Write) -> Result<(), Failure> {
    use crate::migration;
    let print_status = |workspace: &Workspace, old: &str, json: bool, out: &mut dyn Write| -> Result<(), Failure> {
        let connection = migration::connection_of(workspace.config(), workspace.secrets(), old);
        let list = migration::checklist(workspace.config(), old, &connection)?;
        if json {
            serde_json::to_writer_pretty(&mut *out, &list).map_err(|e| Failure::check(e.to_string()))?;
            writeln!(out).map_err(Failure::from)
        } else {
            out.write_all(list.to_text().as_bytes()).map_err(Failure::from)
        }
    };
    match command {
        MigrateCommand::Start { old, to } => {
            let target = migration::Target::parse(to, workspace.config())?;
            let new = migration::start(workspace, old, &target)?;
            writeln!(out, "Created \"{new}\" from \"{old}\" (inactive). Next: mailsettings connect {new}")
                .map_err(Failure::from)?;
            if let Some(created) = workspace.config().setting(&new).filter(|s| migration::keeps_relay(s)) {
                let copied = migration::copy_relay_password(workspace.secrets(), old, created)
                    .map_err(|e| Failure::check(e.to_string()))?;
                writeln!(
                    out,
                    "Sending stays with the relay {} (password or API key{}); replies move to {}.",
                    crate::printable::printable(&created.smtp.server),
                    if copied { " copied" } else { " not stored yet: mailsettings set-password --smtp NEW" },
                    created.imap_credential().label()
                )
                .map_err(Failure::from)?;
            }
            print_status(workspace, old, false, out)
        }
        MigrateCommand::Status { old, json } => print_status(workspace, old, json.json, out),
        MigrateCommand::SwitchDefaults { old, companies } => {
            let only = (!companies.is_empty()).then_some(companies.as_slice());
            let switched = migration::switch_defaults(workspace, old, only)?;
            if switched.is_empty() {
                writeln!(out, "No company uses \"{old}\" as its default").map_err(Failure::from)
            } else {
                writeln!(out, "Switched {} to the new setting", switched.join(", ")).map_err(Failure::from)
            }
        }
        MigrateCommand::Leftover { old, folders, acknowledge, via } => {
            if let Some(reason) = acknowledge {
                if reason.trim().is_empty() {
                    return Err(Failure::usage("--acknowledge needs a reason"));
                }
                migration::acknowledge_leftover(workspace, old, reason)?;
                return Ok(writeln!(out, "Accepted without a check of the old folders: {reason}")?);
            }
            let folders = if folders.is_empty() { probe::imap::default_leftover_folders() } else { folders.clone() };
            let (leftover, route) = check_leftover(workspace, old, &folders, *via)?;
            out.write_all(leftover.report.to_text().as_bytes())?;
            match migration::record_leftover(workspace, old, &leftover, route)? {
                Some(true) => Ok(writeln!(out, "No mail left in the old folders")?),
                Some(false) => Err(Failure::check(format!(
                    "{} message(s) are still in the old folders; retrieve them and check again",
                    leftover.total().unwrap_or(0)
                ))),
                None => {
                    let failure = migration::leftover_failure(workspace.config(), old, route, &leftover.report);
                    let next = match failure.other {
                        Some((other, words)) => {
                            format!(
                                "try the other way, {words}: mailsettings migrate leftover {old} --via {}",
                                other.as_str()
                            )
                        }
                        None => "if no sign-in reaches them any more, accept with --acknowledge \"REASON\"".to_owned(),
                    };
                    Err(Failure::check(format!("{}; {next}", failure.text.trim_end_matches('.'))))
                }
            }
        }
        MigrateCommand::Finish { old } => {
            let name = workspace.config().setting_name(old);
            let connection = migration::connection_of(workspace.config(), workspace.secrets(), old);
            let blockers = migration::blockers_before_recheck(workspace.config(), old, &connection)?;
            if !blockers.is_empty() {
                return Err(migration::MigrationError::DeleteBlocked(blockers).into());
            }
            let (recheck, route) = check_leftover(workspace, old, &probe::imap::default_leftover_folders(), None)?;
            migration::finish(workspace, old, &connection, &recheck, route)?;
            Ok(writeln!(out, "Deleted \"{name}\" (it stays restorable with: mailsettings restore {old})")?)
        }
        MigrateCommand::Rollback { old } => {
            let restored = migration::rollback(workspace, old)?;
            writeln!(
                out,
                "Rolled back: \"{old}\" is active again; defaults restored for: {}",
                if restored.is_empty() { "-".to_owned() } else { restored.join(", ") }
            )
            .map_err(Failure::from)
        }
    }
}

/// Counts the mail in the old setting's folders, signing in the way that works
/// (see [`crate::migration::leftover_sign_in`]).
fn check_leftover(
    workspace: &Workspace,
    old: &str,
    folders: &[String],
    via: Option<crate::model::LeftoverRoute>,
) -> Result<(probe::imap::Leftover, crate::model::LeftoverRoute), Failure> {
    let sign_in = crate::migration::leftover_sign_in(workspace.config(), old, via)
        .ok_or_else(|| Failure::usage(GuardError::UnknownSetting(old.to_owned()).to_string()))?;
    if let Some(wanted) = via.filter(|wanted| *wanted != sign_in.route) {
        return Err(Failure::usage(format!(
            "the old folders cannot be opened with --via {}: the new setting does not sign in with OAuth on the old setting's IMAP server",
            wanted.as_str()
        )));
    }
    let check = Check::Leftover { folders: folders.to_vec() };
    let outcome = run_check_as(workspace, &sign_in.setting, old, &check)?;
    Ok((leftover_outcome(outcome), sign_in.route))
}

fn print_log(workspace: &Workspace, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let entries = crate::store::audit::read(&workspace.audit_path());
    if json {
        serde_json::to_writer_pretty(&mut *out, &entries).map_err(|e| Failure::check(e.to_string()))?;
        return writeln!(out).map_err(Failure::from);
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

/// The report on stdout; exit 1 (with no extra message) when it failed.
fn print_report(report: &probe::Report, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let written = if json {
        serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other).and_then(|()| writeln!(out))
    } else {
        out.write_all(report.to_text().as_bytes())
    };
    written.map_err(|e| Failure::check(format!("could not write the output: {e}")))?;
    if report.passed { Ok(()) } else { Err(Failure::check("")) }
}

fn find<'a>(config: &'a Config, id: &str) -> Result<&'a MailSetting, Failure> {
    config.setting(id).ok_or_else(|| Failure::usage(GuardError::UnknownSetting(id.to_owned()).to_string()))
}

fn show(workspace: &Workspace, id: &str, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
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
        serde_json::to_writer_pretty(&mut *out, &shown).map_err(|e| Failure::check(e.to_string()))?;
        return writeln!(out).map_err(Failure::from);
    }
    let stored = |present: fn(&StoredPasswords) -> bool| match &passwords {
        Ok(p) if present(p) => format!("stored in the {}", workspace.secrets().describe()),
        Ok(_) => "not set".to_owned(),
        Err(err) => format!("unknown ({err})"),
    };
    let (smtp, imap) = (&setting.smtp, &setting.imap);
    let text = format!(
        "{description} ({id})\n\
         \x20 Credential type:  {credential}\n\
         \x20 Status:           {status}\n\
         \x20 Subject tag:      {tag}\n\
         \x20 Default for:      {default_for}\n\
         Outgoing (SMTP)\n\
         \x20 Server:           {smtp_server}:{smtp_port} ({smtp_security})\n\
         \x20 Send as:          {send_as}\n\
         \x20 From name:        {from_name}\n\
         \x20 User name:        {smtp_user}\n\
         \x20 User domain:      {smtp_domain}\n\
         \x20 Password:         {smtp_password}\n\
         Incoming (IMAP)\n\
         \x20 Server:           {imap_server}:{imap_port} ({imap_security})\n\
         \x20 Inbox folder:     {inbox}\n\
         \x20 Sent folder:      {sent}\n\
         \x20 User name:        {imap_user}\n\
         \x20 User domain:      {imap_domain}\n\
         \x20 Password:         {imap_password}\n",
        description = setting.description,
        credential = setting.credential_label(),
        status = if setting.active { "Active" } else { "Inactive" },
        tag = setting.subject_tag,
        default_for = if default_for.is_empty() { "-".to_owned() } else { default_for.join(", ") },
        smtp_server = smtp.server,
        smtp_port = smtp.port,
        smtp_security = smtp.security.label(),
        send_as = smtp.send_as,
        from_name = smtp.from_name,
        smtp_user = smtp.user_name,
        smtp_domain = smtp.user_domain,
        smtp_password = if setting.smtp_credential().uses_oauth() {
            format!("not used (signs in with {})", setting.smtp_credential().label())
        } else {
            stored(|p| p.smtp)
        },
        imap_server = imap.server,
        imap_port = imap.port,
        imap_security = imap.security.label(),
        inbox = imap.inbox_folder,
        sent = imap.sent_folder,
        imap_user = imap.user_name,
        imap_domain = imap.user_domain,
        imap_password = if setting.imap_credential().uses_oauth() {
            format!("not used (signs in with {})", setting.imap_credential().label())
        } else {
            stored(|p| p.imap)
        },
    );
    // Values come from the config file, which may have been imported: printed, never run.
    out.write_all(crate::printable::printable(&text).as_bytes()).map_err(Failure::from)
}

fn validate(workspace: &Workspace, id: Option<&str>, out: &mut dyn Write) -> Result<(), Failure> {
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

fn set_password(workspace: &Workspace, args: &SetPasswordArgs, out: &mut dyn Write) -> Result<(), Failure> {
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

/// One line from stdin; at a terminal, asked for without echo.
fn read_password() -> Result<Secret, Failure> {
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        zeroize::Zeroizing::new(
            rpassword::prompt_password("Password: ")
                .map_err(|e| Failure::check(format!("could not read the password: {e}")))?,
        )
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        stdin.lock().read_line(&mut line).map_err(|e| Failure::check(format!("could not read the password: {e}")))?;
        line
    };
    let password = Secret::new(line.trim_end_matches(['\r', '\n']));
    if password.is_empty() {
        return Err(Failure::check("no password was given on standard input"));
    }
    Ok(password)
}
