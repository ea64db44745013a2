//! The one type every password, token and AUTH payload travels in.
//!
//! `Secret` owns its bytes, wipes them on drop, and prints `(redacted)` through
//! both `Debug` and `Display`, so a secret cannot reach a log line, a panic
//! message or a report by accident. Reading the value is a deliberate call to
//! [`Secret::expose`], which is easy to find in review.

use std::fmt;

use zeroize::Zeroizing;

/// A password, token or other credential. Never printed, wiped on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

/// What `Debug` and `Display` print instead of the value.
pub const REDACTED: &str = "(redacted)";

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value itself. Call only where the secret must leave the process
    /// (the OS credential store, a TLS-protected AUTH command).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secret being typed (a password field) or held to be shown masked (a new
/// local bridge password): editable as a `String`, wiped on drop, and `Debug`
/// prints `(redacted)` — a `{:?}` of the form's or a view's state shows no secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }
}

impl std::ops::Deref for SecretText {
    type Target = String;

    fn deref(&self) -> &String {
        &self.0
    }
}

impl std::ops::DerefMut for SecretText {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// An address without the `user:password@` part, to name it on screen or in a log.
pub fn without_userinfo(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_being_typed_is_editable_but_never_debug_printed() {
        let mut typed = SecretText::default();
        typed.push_str("canary-typed-password");
        assert_eq!(typed.as_str(), "canary-typed-password");
        let state = (String::from("form"), typed);
        assert!(!format!("{state:?} {state:#?}").contains("canary"), "a {{:?}} of UI state shows no secret");
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-canary");
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(format!("{:#?}", Some(&secret)), format!("Some(\n    {REDACTED},\n)"));
        assert_eq!(secret.expose(), "hunter2-canary");
    }

    #[test]
    fn a_struct_holding_a_secret_stays_redacted_in_debug() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Secret,
        }
        let login = Login { user: "ar@example.com".into(), password: Secret::new("canary-pw") };
        let printed = format!("{login:?}");
        assert!(printed.contains("ar@example.com"));
        assert!(!printed.contains("canary-pw"));
    }
}
