//! A mail setting's id as its own type: the slug that names a `[[mail_setting]]`,
//! keys its secrets in the OS store and is what a company's default points at. A
//! company id, a provider id or a job's key is a plain `&str`; where a setting id is
//! meant, the compiler now says so — `set_default(company, setting)` cannot be called
//! the wrong way round.
//!
//! It reads as a `&str` wherever one is asked for (lookups, messages, file names);
//! it is written in the config exactly as before (a TOML string).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SettingId(String);

impl SettingId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SettingId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SettingId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SettingId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for SettingId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for SettingId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<&String> for SettingId {
    fn from(id: &String) -> Self {
        Self(id.clone())
    }
}

impl From<SettingId> for String {
    fn from(id: SettingId) -> Self {
        id.0
    }
}

impl PartialEq<str> for SettingId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SettingId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for SettingId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<SettingId> for str {
    fn eq(&self, other: &SettingId) -> bool {
        self == other.0
    }
}

impl PartialEq<SettingId> for &str {
    fn eq(&self, other: &SettingId) -> bool {
        *self == other.0
    }
}

impl PartialEq<SettingId> for String {
    fn eq(&self, other: &SettingId) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_id_is_written_as_the_plain_string_and_looked_up_by_str() {
        #[derive(Serialize, Deserialize)]
        struct Row {
            id: SettingId,
            default: Option<SettingId>,
        }
        let text = "id = \"ar-oauth\"\ndefault = \"ar-basic\"\n";
        let row: Row = toml::from_str(text).unwrap();
        assert_eq!(toml::to_string(&row).unwrap(), text, "the config file is as before");
        assert_eq!(row.id, "ar-oauth");
        assert_eq!(row.id.as_str(), "ar-oauth");
        assert_eq!(row.default.as_deref(), Some("ar-basic"));
        let mut by_id = std::collections::HashMap::new();
        by_id.insert(row.id.clone(), 1);
        assert_eq!(by_id.get("ar-oauth"), Some(&1), "a map of ids is asked by a typed-in &str");
        assert_eq!(format!("{}", row.id), "ar-oauth");
        assert_eq!(String::from(row.id), "ar-oauth");
    }
}
