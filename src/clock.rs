//! The wall clock, read in one place, and the one type every written time has:
//! [`Timestamp`], a UTC instant kept as a time (compared, ordered, dated as one)
//! and written as RFC 3339 text (config, audit log, history, reports).

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A moment the app wrote down: in UTC, written as RFC 3339
/// (`2026-12-05T18:34:52.323073476Z`), read back from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self(OffsetDateTime::now_utc())
    }

    pub(crate) fn at(moment: OffsetDateTime) -> Self {
        Self(moment.to_offset(time::UtcOffset::UTC))
    }

    pub(crate) fn moment(self) -> OffsetDateTime {
        self.0
    }

    /// To the minute, for a person: `2026-12-05 18:34` (UTC).
    pub(crate) fn to_minute(self) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        self.0.format(&format).unwrap_or_else(|_| self.to_string())
    }

    /// The time of day, for a person: `18:34` (UTC).
    pub(crate) fn time_of_day(self) -> String {
        let format = time::macros::format_description!("[hour]:[minute]");
        self.0.format(&format).unwrap_or_else(|_| self.to_string())
    }
}

/// No time written (a field an older file left out): the Unix epoch.
impl Default for Timestamp {
    fn default() -> Self {
        Self(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A UTC time within years 0–9999 always formats; the fallback is never reached.
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0.unix_timestamp()),
        }
    }
}

/// Text that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a time: write it as RFC 3339, like 2026-12-05T18:34:52Z")]
pub struct NotATime(pub String);

impl FromStr for Timestamp {
    type Err = NotATime;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(text.trim(), &Rfc3339).map(Self::at).map_err(|_| NotATime(text.to_owned()))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_written_as_rfc3339_and_read_back_the_same() {
        let written = "2026-12-05T18:34:52.323073476Z";
        let at: Timestamp = written.parse().unwrap();
        assert_eq!(at.to_string(), written);
        assert_eq!(serde_json::to_string(&at).unwrap(), format!("\"{written}\""));
        assert_eq!(serde_json::from_str::<Timestamp>(&format!("\"{written}\"")).unwrap(), at);
        // Another offset is the same moment, kept in UTC.
        let paris: Timestamp = "2026-12-05T19:34:52.323073476+01:00".parse().unwrap();
        assert_eq!(paris, at);
        assert_eq!(paris.to_string(), written);
        assert_eq!((at.to_minute().as_str(), at.time_of_day().as_str()), ("2026-12-05 18:34", "18:34"));
        assert!(Timestamp::now() > "2026-01-01T00:00:00Z".parse().unwrap());
        let err = serde_json::from_str::<Timestamp>("\"unknown time\"").unwrap_err();
        assert!(err.to_string().contains("\"unknown time\" is not a time"), "{err}");
    }
}
