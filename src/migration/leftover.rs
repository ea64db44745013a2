//! The leftover check of a migration's old setting (the guide's step 12): which
//! folders it counts — the guide's "Mail Not Read" and "Mail Not Filed" (names
//! the admin can change, remembered), and the old inbox only when it is not the
//! mailbox the new setting goes on reading — which sign-in opens them, and what
//! its result means for the checklist: found mail and folders not found block,
//! and an acknowledgement never outranks mail that was found.

use super::error::{MigrationError, migration_of};
use crate::model::{Config, LeftoverCheck, LeftoverRoute, MailSetting, MissingFolder};
use crate::probe::Report;
use crate::probe::imap::{Leftover, default_leftover_folders, saturating_sum};
use crate::store::Workspace;

/// The ways a leftover check can open a setting's folders, the one to try first
/// first. For a migration's old setting: the new setting's OAuth sign-in when it
/// reaches the same mailbox (same IMAP server and user name) — by the time of the
/// check Microsoft has usually switched the old Basic password off — else the old
/// setting's own sign-in; the other way is offered when it can work at all (the
/// new side signs in with OAuth on the same server). A setting outside a
/// migration has only its own sign-in.
pub fn leftover_routes(config: &Config, old_id: &str) -> Vec<LeftoverRoute> {
    let Some(old) = config.setting(old_id) else { return Vec::new() };
    let new = config.migration(old_id).and_then(|m| config.setting(&m.new));
    let same_server = |new: &MailSetting| new.imap.server.trim().eq_ignore_ascii_case(old.imap.server.trim());
    let Some(new) = new.filter(|new| new.imap_credential().uses_oauth() && same_server(new)) else {
        return vec![LeftoverRoute::OldSignIn];
    };
    if new.imap.user_name.trim().eq_ignore_ascii_case(old.imap.user_name.trim()) {
        vec![LeftoverRoute::NewSignIn, LeftoverRoute::OldSignIn]
    } else {
        vec![LeftoverRoute::OldSignIn, LeftoverRoute::NewSignIn]
    }
}

/// What signs in to read `old_id`'s folders along `route` (`None`: the way that
/// last gave a clean check, else the first of [`leftover_routes`]). For the new
/// sign-in that is the new setting opening the old mailbox (its user name), so
/// the report names the mailbox it counted.
pub fn leftover_sign_in(config: &Config, old_id: &str, route: Option<LeftoverRoute>) -> Option<LeftoverSignIn> {
    let routes = leftover_routes(config, old_id);
    let last_worked = config.migration(old_id).and_then(|m| m.leftover.as_ref()).and_then(|check| check.signed_in_with);
    let route = route.or(last_worked).filter(|r| routes.contains(r)).or_else(|| routes.first().copied())?;
    let old = config.setting(old_id)?;
    let setting = match route {
        LeftoverRoute::OldSignIn => old.clone(),
        LeftoverRoute::NewSignIn => {
            let mut new = config.migration(old_id).and_then(|m| config.setting(&m.new))?.clone();
            new.imap.user_name.clone_from(&old.imap.user_name);
            new
        }
    };
    let other = routes.into_iter().find(|r| *r != route);
    Some(LeftoverSignIn { route, setting, other })
}

/// How a leftover check signs in: see [`leftover_sign_in`].
#[derive(Debug, Clone)]
pub struct LeftoverSignIn {
    pub route: LeftoverRoute,
    /// The setting whose servers and sign-in the check uses.
    pub setting: MailSetting,
    /// The other way, when there is one.
    pub other: Option<LeftoverRoute>,
}

/// The sign-in along `route`, in words: "the old setting's password as
/// ar@contoso.com", "the new setting's Gmail sign-in as ar@contoso.com".
pub fn describe_route(config: &Config, old_id: &str, route: LeftoverRoute) -> String {
    let Some(sign_in) = leftover_sign_in(config, old_id, Some(route)) else { return route.as_str().to_owned() };
    let credential = sign_in.setting.imap_credential();
    let how = if credential.uses_oauth() { format!("{} sign-in", credential.label()) } else { "password".to_owned() };
    let whose = match route {
        LeftoverRoute::OldSignIn => "the old setting's",
        LeftoverRoute::NewSignIn => "the new setting's",
    };
    format!("{whose} {how} as {}", sign_in.setting.imap.user_name.trim())
}

/// Why a leftover check of `old_id` along `route` could not open the folders:
/// which sign-in the server refused, and the other way when there is one (the
/// CLI offers it as `--via`, the window as a button).
pub fn leftover_failure(config: &Config, old_id: &str, route: LeftoverRoute, report: &Report) -> LeftoverFailure {
    let used = describe_route(config, old_id, route);
    let summary = report.failure_summary();
    let summary = summary.trim_end_matches('.');
    if !report.sign_in_refused() {
        return LeftoverFailure {
            text: format!("The old folders could not be opened with {used}: {summary}"),
            other: None,
        };
    }
    let other = leftover_routes(config, old_id).into_iter().find(|r| *r != route);
    LeftoverFailure {
        text: format!("The server refused {used}: {summary}."),
        other: other.map(|other| (other, describe_route(config, old_id, other))),
    }
}

/// See [`leftover_failure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftoverFailure {
    /// What happened, naming the sign-in that was tried.
    pub text: String,
    /// After a refused sign-in: the other way, and it in words.
    pub other: Option<(LeftoverRoute, String)>,
}

/// Stores the result of a leftover check of the old setting (`Leftover` from
/// `probe::imap::leftover`); returns whether it was clean — no mail, and every
/// folder found (`None`: the mailbox could not be opened, nothing stored).
pub fn record_leftover(
    workspace: &mut Workspace,
    old_id: &str,
    leftover: &Leftover,
    route: LeftoverRoute,
) -> Result<Option<bool>, MigrationError> {
    migration_of(workspace.config(), old_id)?;
    let Some(counts) = &leftover.counts else { return Ok(None) };
    let found = || counts.iter().filter(|c| c.exists);
    let check = LeftoverCheck {
        checked_at: crate::clock::Timestamp::now(),
        total: saturating_sum(found().map(|c| c.total)),
        unseen: saturating_sum(found().map(|c| c.unseen)),
        folders: found().map(|c| c.folder.clone()).collect(),
        missing: leftover
            .missing()
            .into_iter()
            .map(|c| MissingFolder { folder: c.folder.clone(), closest: c.closest.iter().take(3).cloned().collect() })
            .collect(),
        signed_in_with: Some(route),
    };
    let clean = check.total == 0 && check.missing.is_empty();
    workspace.apply("migrate-leftover", |config| {
        if let Some(entry) = config.migration_mut(old_id) {
            entry.leftover = Some(check);
        }
        Ok(())
    })?;
    Ok(Some(clean))
}

/// The folders a leftover check of `old_id` counts: the migration's named folders
/// (the guide's two unless the admin named others), after the old inbox when the
/// old setting reaches another mailbox than the new one. When both reach the same
/// mailbox its inbox is live — the new setting goes on reading it, the test emails
/// land there — so mail in it is not left behind.
pub fn leftover_folders(config: &Config, old_id: &str) -> Vec<String> {
    let migration = config.migration(old_id);
    let named = migration.map(|m| m.leftover_folders.clone()).filter(|f| !f.is_empty());
    let mut folders = Vec::new();
    if let Some(old) = config.setting(old_id) {
        let new = migration.and_then(|m| config.setting(&m.new));
        if !new.is_some_and(|new| same_mailbox(old, new)) {
            folders.push(old.imap.inbox_folder.trim().to_owned());
        }
    }
    folders.extend(named.unwrap_or_else(default_leftover_folders));
    folders
}

/// Whether two settings read the same mailbox: the same IMAP server and user name.
pub fn same_mailbox(a: &MailSetting, b: &MailSetting) -> bool {
    a.imap.server.trim().eq_ignore_ascii_case(b.imap.server.trim())
        && a.imap.user_name.trim().eq_ignore_ascii_case(b.imap.user_name.trim())
}

/// Names the folders the leftover check of `old_id` counts from now on (an empty
/// list, or the guide's two, goes back to the default).
pub fn set_leftover_folders(workspace: &mut Workspace, old_id: &str, folders: &[String]) -> Result<(), MigrationError> {
    migration_of(workspace.config(), old_id)?;
    let mut named: Vec<String> = Vec::new();
    for folder in folders.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        if !named.iter().any(|n| n == folder) {
            named.push(folder.to_owned());
        }
    }
    if named == default_leftover_folders() {
        named.clear();
    }
    if migration_of(workspace.config(), old_id)?.leftover_folders == named {
        return Ok(());
    }
    workspace.apply("migrate-leftover-folders", |config| {
        if let Some(entry) = config.migration_mut(old_id) {
            entry.leftover_folders = named;
        }
        Ok(())
    })?;
    Ok(())
}

/// Accepts that the old folders cannot be checked (for example when no
/// sign-in reaches them any more), with a reason.
pub fn acknowledge_leftover(workspace: &mut Workspace, old_id: &str, reason: &str) -> Result<(), MigrationError> {
    migration_of(workspace.config(), old_id)?;
    let reason = reason.trim().to_owned();
    workspace.apply("migrate-acknowledge-leftover", |config| {
        if let Some(entry) = config.migration_mut(old_id) {
            entry.leftover_acknowledged = Some(reason);
        }
        Ok(())
    })?;
    Ok(())
}
