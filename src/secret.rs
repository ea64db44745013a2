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

/// An address as it may be named on screen, in a report or in a log: its scheme,
/// host and port, built from those parts alone — never the text it came as, which
/// can hold `user:password@` in forms a URL parser does not take apart (no scheme:
/// `arteam:Winter2026@proxy:3128`; a `#` or `/` in the password) while an HTTP
/// client still signs in with them.
pub(crate) fn without_userinfo(address: &str) -> String {
    let address = address.trim();
    let (scheme, rest) = match address.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (scheme.to_ascii_lowercase(), rest)
        }
        _ => ("http".to_owned(), address),
    };
    // The host follows the last '@' (a host holds none; an unencoded password may).
    let after_userinfo = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host_port = after_userinfo.split(['/', '?', '#']).next().unwrap_or_default();
    let plain = !host_port.is_empty() && host_port.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:[]%".contains(c));
    if plain { format!("{scheme}://{host_port}") } else { format!("{scheme}://(an address that is not shown)") }
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
    fn an_address_is_shown_by_its_parts_and_never_with_a_password() {
        let password = "Winter2026";
        for (address, shown) in [
            ("http://arteam:Winter2026@proxy.example:3128", "http://proxy.example:3128"),
            ("arteam:Winter2026@proxy.example:3128", "http://proxy.example:3128"),
            ("http://arteam:Win#ter2026@proxy.example:3128/", "http://proxy.example:3128"),
            ("http://arteam:Win/ter2026@proxy.example:3128", "http://proxy.example:3128"),
            ("socks5://arteam:Winter2026@@proxy.example:1080", "socks5://proxy.example:1080"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("proxy.example:3128", "http://proxy.example:3128"),
            ("  HTTP://arteam:Winter2026@proxy  ", "http://proxy"),
            ("http://arteam:Winter2026@", "http://(an address that is not shown)"),
            ("Winter2026 proxy", "http://(an address that is not shown)"),
        ] {
            let displayed = without_userinfo(address);
            assert_eq!(displayed, shown, "{address}");
            assert!(!displayed.contains(password) && !displayed.contains("arteam"));
        }
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
