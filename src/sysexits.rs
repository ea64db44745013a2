//! The exit codes of sysexits.h that the app's commands share: `send` answers as
//! sendmail does, `check --all` and `token` say "try again later" the same way, so a
//! program or a scheduler that calls them reads one vocabulary.

/// sysexits.h: all went well.
pub const EX_OK: u8 = 0;
/// The message or its addresses are wrong (fix the input).
pub const EX_DATAERR: u8 = 65;
/// The server or the network cannot take it (a permanent failure).
pub const EX_UNAVAILABLE: u8 = 69;
/// Try again later (a temporary reply, a timeout, a dropped connection).
pub const EX_TEMPFAIL: u8 = 75;
/// The sign-in or the server's policy refused it (credentials, send-as rights).
pub const EX_NOPERM: u8 = 77;
