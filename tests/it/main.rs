//! Integration tests, one crate (one link step) with a module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod bridge; // the loopback bridge with Python's smtplib and imaplib as password-only clients
mod cli; // the headless commands: exit codes, messages, secrets never in files
mod crash; // a config write killed midway leaves the old file intact
mod desktop; // alerts told to a real notification daemon (dunst) on a private session bus
mod google; // Google's shapes on the rig: the account's own password refused in Google's words, an app password taken
mod gui; // the real app driven by egui_kittest through its accessible labels
mod helpers; // other programs (curl, msmtp) using a connected mailbox through `mailsettings token`
mod hostile; // small misbehaving servers for the failure paths
mod keyring; // the real Secret Service (GNOME Keyring on a private session bus)
mod mailapi; // Microsoft Graph and the Gmail API on the rig, where SMTP AUTH or IMAP is off
mod microsoft; // Microsoft 365's shapes on the rig: a shared mailbox and its delegate, SMTP AUTH off per mailbox, Basic SMTP switched off
mod migration; // a whole Basic → OAuth migration by CLI against the rig
mod oauth; // Connect against the real authorization server with a scripted browser
mod probe; // connection tests against the real rig and the hostile servers
mod rig; // the Dovecot + Postfix rig started by scripts/test
mod structure; // the code's shape: no files or parts importing each other, no file over 800 lines
mod support; // helpers: temp workspaces, running the binary
mod window; // the binary in a real X window under Xvfb
mod windows; // the Windows build under Wine: the CLI on the rig, Credential Manager, Task Scheduler, the window, the installer
