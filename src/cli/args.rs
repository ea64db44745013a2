//! The command line's words: every command, its arguments and their help, as clap
//! reads them. What a command does is in the handler files beside this one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    Import {
        file: PathBuf,
        /// Accept its changes of trust (new sign-in apps or CA files, settings whose servers or
        /// sign-in change); without it they are listed and nothing is imported
        #[arg(long)]
        yes: bool,
        /// Keep the stored passwords and sign-ins of settings whose servers or sign-in change
        /// (by default they are dropped: a password is never sent to a host it was not typed for)
        #[arg(long)]
        keep_secrets: bool,
    },
    /// Write settings, companies and providers to a file (never passwords or tokens)
    Export { file: PathBuf },
    /// Store a password, read from standard input (never from the command line)
    SetPassword(SetPasswordArgs),
    /// Make a setting active (a migration's new setting only once connected and tested)
    Activate {
        id: String,
        /// Make a migration's new setting active before it passed its tests (audited)
        #[arg(long)]
        untested: bool,
    },
    /// Make a setting inactive (refused while it is a company's default, unless they move)
    Deactivate {
        id: String,
        /// First move the companies that use it as their default to this (active) setting
        #[arg(long, value_name = "ID")]
        switch_defaults_to: Option<String>,
    },
    /// Make a setting the default of a company (it must be active)
    SetDefault { company: String, id: String },
    /// Choose how a setting sends and reads: SMTP and IMAP, or its provider's API (Microsoft
    /// Graph, the Gmail API) where the organisation switched SMTP AUTH or IMAP off
    SetTransport {
        id: String,
        /// How it sends
        #[arg(long, value_enum, value_name = "ROAD")]
        sends_with: Option<SendsWith>,
        /// How it reads the folders
        #[arg(long, value_enum, value_name = "ROAD")]
        reads_with: Option<ReadsWith>,
    },
    /// Add a company
    AddCompany {
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Move a setting to the trash (refused while it is a company's default, or while an OAuth setting
    /// replaces its mailbox: `migrate finish` deletes it after checking its folders)
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
    /// Check every Active setting at once: its sign-in's health (and dates that end something)
    /// and Test Incoming, worst first; exit 0 all well, 1 something failed, 75 only temporary failures
    Check {
        /// Every Active setting (the only way for now)
        #[arg(long, required = true)]
        all: bool,
        /// Also Test Outgoing: the two test emails to this address
        #[arg(long, value_name = "ADDR")]
        outgoing: Option<String>,
        /// Checks at once on any one server (at most 16; other servers alongside)
        #[arg(long, value_name = "N", default_value_t = 8)]
        at_once: usize,
        /// Tell a change of state to the configured alerts (see `alerts`): one alert per change
        #[arg(long)]
        alert: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The proxy sign-in and token requests go through (else https_proxy / no_proxy)
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Where a change of a mailbox's state is told (`check --all --alert`)
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Run `check --all --alert` on a schedule (a per-user timer of the OS)
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Ask the servers whether a mailbox is ready for the end of Basic SMTP AUTH: sending and
    /// receiving sign-ins, the permissions granted, and for each "no" the step for the IT admin
    Readiness {
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
    /// Who failures the admin cannot fix go to: named in diagnoses and copied reports
    #[command(subcommand)]
    Support(SupportCommand),
    /// Open the window (the same as giving no command)
    Gui,
    /// Print shell completions (bash, zsh, fish, powershell, elvish), e.g.
    /// `mailsettings completions bash > /etc/bash_completion.d/mailsettings`
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `mailsettings manual > mailsettings.1`
    Manual,
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
        /// STARTTLS for the programs, with the bridge's own certificate for localhost (made
        /// once; its key in the OS store, the certificate written beside the config), a sign-in
        /// taken only after it — the default; kept for scripts that name it
        #[arg(long)]
        local_tls: bool,
        /// Plain text on loopback instead (any local program could then pose as the bridge
        /// while it is down and collect the local password)
        #[arg(long, conflicts_with = "local_tls")]
        no_local_tls: bool,
        /// The settings to serve
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// The proxy in effect, and where it comes from
    Show,
    /// Set the proxy (an http:// address, with a user name if it asks for one) and the hosts
    /// reached without it
    Set {
        #[arg(long, value_name = "URL")]
        proxy: Option<String>,
        /// Comma-separated hosts or domains (.corp.example) reached directly
        #[arg(long, value_name = "LIST")]
        no_proxy: Option<String>,
        /// Read the proxy's password from standard input into the OS credential store (never
        /// the config file or the command line)
        #[arg(long)]
        proxy_password_stdin: bool,
        /// Remove all three (the environment's https_proxy / no_proxy apply again)
        #[arg(long, conflicts_with_all = ["proxy", "no_proxy", "proxy_password_stdin"])]
        clear: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// The channels alerts go to
    Show,
    /// Add or change channels (the others stay); --clear removes them all
    Set {
        /// An https address that gets {"text": …} (Teams or Slack incoming webhooks take it); `-`
        /// reads it from standard input, off the command line. Kept in the OS credential store
        /// (its path is the webhook's key); the config shows only its scheme and host
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// The admin's address for alert emails
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
        /// The setting alert emails are sent through (else the first other working one)
        #[arg(long, value_name = "ID", requires = "email")]
        via: Option<String>,
        /// A command run with MAILSETTINGS_ALERT_TEXT, _SETTING, _NAME, _STATE, _REASON set and the
        /// alert as JSON on its input (on Windows the program itself, never through cmd)
        #[arg(long, value_name = "CMD")]
        command: Option<String>,
        /// A desktop notification
        #[arg(long)]
        desktop: bool,
        /// Remove every channel
        #[arg(long, conflicts_with_all = ["webhook", "email", "via", "command", "desktop"])]
        clear: bool,
    },
    /// Send a test alert on every channel
    Test,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Install the timer (systemd user timer, LaunchAgent, or Task Scheduler task)
    Install {
        /// How often: 30m, 1h, 6h … (5 minutes to a day)
        #[arg(long, value_name = "INTERVAL", default_value = "1h")]
        every: String,
    },
    /// Whether checks are scheduled, and when the last one ran
    Status,
    /// Stop and remove the timer
    Remove,
}

#[derive(Debug, Subcommand)]
pub enum SupportCommand {
    /// The support contact in use (the config's, a vendor build's, or none)
    Show,
    /// Set the support contact (an address, a phone number, a portal); an empty one removes it
    Set {
        #[arg(long, value_name = "TEXT")]
        contact: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OauthAppCommand {
    /// The client id set for each provider (built in, in the config, or missing)
    Show,
    /// Set the client id of your organisation's registered app
    Set(SetAppArgs),
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
        /// When the setting's sent (or inbox) folder does not exist, use the server's own
        /// (e.g. "Sent Items") and test again
        #[arg(long)]
        fix_sent: bool,
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
    #[command(group(clap::ArgGroup::new("new_setting").required(true).args(["to", "to_existing"])))]
    Start {
        old: String,
        /// Create the new setting: microsoft365, gmail, or the id of an [[oauth_provider]]
        #[arg(long, value_name = "TARGET")]
        to: Option<String>,
        /// Use an OAuth setting made already (the guide's "+ Add new record") as the new setting
        #[arg(long, value_name = "NEW")]
        to_existing: Option<String>,
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
    Finish {
        old: String,
        /// Keep the old setting Inactive instead of deleting it (the guide allows both)
        #[arg(long)]
        keep_inactive: bool,
    },
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

#[derive(Debug, Args)]
pub struct SetAppArgs {
    /// microsoft365, gmail, or the id of an [[oauth_provider]]
    pub provider: String,
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Microsoft 365: the tenant (id or domain) of settings that name none
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Also store the app's client secret (Google desktop apps), read from standard input,
    /// in the OS credential store — never in the config file or an export
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// When the client secret expires (YYYY-MM-DD): app-only settings warn before it does
    #[arg(long, value_name = "DATE")]
    pub client_secret_expires: Option<String>,
    /// App-only access with a certificate instead of a client secret (Microsoft): the
    /// certificate uploaded to the app registration (PEM)
    #[arg(long, value_name = "FILE", requires = "private_key")]
    pub certificate: Option<PathBuf>,
    /// The certificate's RSA private key (PEM); kept in the OS credential store —
    /// delete the file afterwards
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub private_key: Option<PathBuf>,
    /// Google: the app's publishing status on its OAuth consent screen. In Testing, Google ends
    /// refresh tokens 7 days after sign-in; until you say otherwise that clock is shown
    #[arg(long, value_enum, value_name = "STATUS")]
    pub publishing_status: Option<PublishingStatus>,
}

/// How a setting sends (`set-transport --sends-with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SendsWith {
    Smtp,
    Graph,
    GmailApi,
}

/// How a setting reads (`set-transport --reads-with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadsWith {
    Imap,
    Graph,
    GmailApi,
}

impl SendsWith {
    pub fn transport(self) -> crate::model::setting::Transport {
        use crate::model::setting::Transport;
        match self {
            Self::Smtp => Transport::Protocol,
            Self::Graph => Transport::Graph,
            Self::GmailApi => Transport::GmailApi,
        }
    }
}

impl ReadsWith {
    pub fn transport(self) -> crate::model::setting::Transport {
        use crate::model::setting::Transport;
        match self {
            Self::Imap => Transport::Protocol,
            Self::Graph => Transport::Graph,
            Self::GmailApi => Transport::GmailApi,
        }
    }
}

/// A Google app's publishing status (its OAuth consent screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PublishingStatus {
    Testing,
    Production,
    Internal,
}

impl PublishingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Testing => "testing",
            Self::Production => "production",
            Self::Internal => "internal",
        }
    }
}
