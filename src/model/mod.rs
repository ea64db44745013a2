//! Plain data and the rules it must follow: mail settings, companies, OAuth
//! provider entries, presets, validation and the guards that protect company
//! defaults. Pure: no I/O, no network, no UI.

pub mod config;
pub mod endpoints;
pub mod fields;
mod ids;
mod import;
mod options;
pub mod presets;
pub mod providers;
pub mod setting;
pub mod validate;

pub use config::{
    AlertsConfig, Company, Config, DeletedSetting, GuardError, LeftoverCheck, LeftoverRoute, Migration, MissingFolder,
    NetworkConfig, OAuthProvider, PreviousDefault, SupportConfig, TlsConfig,
};
pub use ids::SettingId;
pub use import::ImportSummary;
pub use presets::Preset;
pub use setting::{CredentialKind, ImapSettings, MailSetting, OAuthFlow, Protocol, Security, SmtpSettings};
pub use validate::{Field, Finding, Rule, Severity, StoredPasswords, validate_setting};
