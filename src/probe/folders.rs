//! Folders on an IMAP server as a test or the leftover check meets them: the
//! server's spelling of a configured folder, the server's folders closest to a
//! name it does not have, and its own sent folder (SPECIAL-USE `\Sent`, else a
//! name providers use) — so a misspelt or provider-specific folder is named,
//! never taken for an empty one.

use serde::Serialize;

/// One folder of the server's LIST answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// Marked `\Sent` (RFC 6154 SPECIAL-USE).
    pub sent: bool,
    /// `\Noselect`: a folder that only holds others (Gmail's "[Gmail]").
    pub no_select: bool,
}

impl Listed {
    pub(crate) fn from_name(name: &imap::types::Name) -> Self {
        use imap_proto::NameAttribute;
        let has = |wanted: &NameAttribute<'_>| name.attributes().iter().any(|a| a == wanted);
        Self { name: name.name().to_owned(), sent: has(&NameAttribute::Sent), no_select: has(&NameAttribute::NoSelect) }
    }
}

/// A configured folder's role in a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FolderRole {
    Inbox,
    Sent,
}

impl FolderRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Sent => "sent",
        }
    }
}

/// A configured folder the server does not have, and the server's own folder
/// for that role: what "Use …" (window) and `test incoming --fix-sent` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderFix {
    pub role: FolderRole,
    pub configured: String,
    pub server_folder: String,
}

/// Names providers give the sent folder, for servers that do not mark it `\Sent`.
const SENT_NAMES: [&str; 5] = ["Sent Items", "[Gmail]/Sent Mail", "Sent Mail", "Sent Messages", "Sent"];

/// INBOX is case-insensitive (RFC 3501) and servers answer with "INBOX".
pub(crate) fn imap_name(folder: &str) -> &str {
    if folder.eq_ignore_ascii_case("inbox") { "INBOX" } else { folder }
}

/// The server's name for `wanted` (INBOX is case-insensitive by RFC 3501).
pub fn find(listed: &[Listed], wanted: &str) -> Option<String> {
    let wanted = wanted.trim();
    listed
        .iter()
        .filter(|l| !l.no_select)
        .find(|l| l.name == wanted || (wanted.eq_ignore_ascii_case("inbox") && l.name.eq_ignore_ascii_case("inbox")))
        .map(|l| l.name.clone())
}

/// The server's folders that can hold mail, those closest to `wanted` first
/// (a case or spacing slip before a different word).
pub(crate) fn closest_first(listed: &[Listed], wanted: &str) -> Vec<String> {
    let key = |name: &str| name.trim().to_lowercase();
    let wanted = key(wanted);
    let mut scored: Vec<(f64, &str)> = listed
        .iter()
        .filter(|l| !l.no_select)
        .map(|l| (strsim::normalized_damerau_levenshtein(&wanted, &key(&l.name)), l.name.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().map(|(_, name)| name.to_owned()).collect()
}

/// The server's own sent folder: the one marked `\Sent`, else the first name
/// providers use for it.
pub(crate) fn server_sent_folder(listed: &[Listed]) -> Option<String> {
    let selectable = || listed.iter().filter(|l| !l.no_select);
    selectable()
        .find(|l| l.sent)
        .or_else(|| SENT_NAMES.iter().find_map(|name| selectable().find(|l| l.name == *name)))
        .map(|l| l.name.clone())
}

/// The server's folder for `role` in place of a configured one it does not have.
pub(crate) fn fix_for(listed: &[Listed], role: FolderRole, configured: &str) -> Option<FolderFix> {
    let server_folder = match role {
        FolderRole::Inbox => find(listed, "INBOX"),
        FolderRole::Sent => server_sent_folder(listed),
    }?;
    (server_folder != configured).then(|| FolderFix { role, configured: configured.to_owned(), server_folder })
}

/// A configured folder the server does not have, as a failed Folders stage tells it:
/// the error (naming the place's own folder for the role), the words listing its
/// folders closest first, and the fix to offer. `place` names where the folders are
/// ("server", "mailbox"); `within` how the list is placed ("on the server").
pub(crate) fn missing(
    listed: &[Listed],
    role: FolderRole,
    wanted: &str,
    (place, within): (&str, &str),
) -> (super::ProbeError, String, Option<FolderFix>) {
    let fix = fix_for(listed, role, wanted);
    let hint = fix.as_ref().map_or_else(String::new, |fix| {
        format!("; the {place}'s {} folder is \"{}\"", role.as_str(), fix.server_folder)
    });
    let err = super::ProbeError::FolderMissing { folder: wanted.to_owned(), suggestion: hint };
    let closest = closest_first(listed, wanted).join(", ");
    (err, format!("folders {within}, closest first: {closest}"), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(names: &[&str]) -> Vec<Listed> {
        names.iter().map(|n| Listed { name: (*n).to_owned(), sent: false, no_select: *n == "[Gmail]" }).collect()
    }

    #[test]
    fn microsoft_and_gmail_sent_folders_are_found_by_name_when_not_marked() {
        let microsoft = listed(&["INBOX", "Deleted Items", "Drafts", "Junk Email", "Sent Items", "Archive"]);
        assert_eq!(server_sent_folder(&microsoft).as_deref(), Some("Sent Items"));
        let gmail = listed(&["INBOX", "[Gmail]", "[Gmail]/All Mail", "[Gmail]/Sent Mail", "[Gmail]/Spam"]);
        let fix = fix_for(&gmail, FolderRole::Sent, "Sent").expect("a fix");
        assert_eq!(fix.server_folder, "[Gmail]/Sent Mail");
        assert_eq!(fix_for(&gmail, FolderRole::Sent, "[Gmail]/Sent Mail"), None, "nothing to fix");
    }

    #[test]
    fn the_special_use_mark_outranks_a_name() {
        let mut folders = listed(&["INBOX", "Sent", "Gesendete Elemente"]);
        folders[2].sent = true;
        assert_eq!(server_sent_folder(&folders).as_deref(), Some("Gesendete Elemente"), "localised, marked \\Sent");
    }

    #[test]
    fn a_misspelt_folder_is_named_with_the_closest_first_and_never_a_holder() {
        let folders = listed(&["INBOX", "[Gmail]", "Mail Not Filed", "Mail not read", "Archive"]);
        assert_eq!(find(&folders, "Mail Not Read"), None, "IMAP names are exact");
        assert_eq!(find(&folders, "inbox").as_deref(), Some("INBOX"));
        let closest = closest_first(&folders, "Mail Not Read");
        assert_eq!(closest[0], "Mail not read");
        assert!(!closest.contains(&"[Gmail]".to_owned()), "a \\Noselect folder holds no mail: {closest:?}");
    }
}
