//! The wall clock, read in one place: every timestamp the app writes (config,
//! audit log, reports) is RFC 3339 in UTC.

/// The current time as RFC 3339 (UTC).
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown time".to_owned())
}
