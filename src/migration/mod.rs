//! The migration assistant: from an old (Basic) setting to a new OAuth one,
//! following the customer's procedure with guard rails — the new setting is
//! created from the old, connected and verified; company defaults switch;
//! the old setting goes inactive; its folders are checked for mail not yet
//! retrieved; only then may it be deleted. Rollback restores the old setting
//! and the previous defaults in one action. Every change goes through the
//! workspace, so it lands in the audit log. Knows nothing of egui.

mod error;
mod leftover;
mod start;

use serde::Serialize;

pub use error::MigrationError;
use error::migration_of;
pub use leftover::{
    LeftoverFailure, LeftoverSignIn, acknowledge_leftover, describe_route, leftover_failure, leftover_folders,
    leftover_routes, leftover_sign_in, record_leftover, same_mailbox, set_leftover_folders,
};
pub use start::{
    AlreadyPassed, RelayCopy, Started, Target, adoptable_for, copy_mailbox_fields, could_replace, new_setting_from,
    replacement_description, replacements, replaces, start, start_with_existing,
};

use crate::clock::Timestamp;
use crate::model::{Config, LeftoverRoute, Migration, PreviousDefault};
use crate::oauth::ConnectionState;
use crate::probe::imap::Leftover;
use crate::store::{Secrets, Workspace};

/// Where one step of the procedure stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum StepState {
    Done(String),
    ToDo(String),
    Blocked(String),
}

/// The steps of the procedure, in the setup guide's order (its step 10 —
/// new Active, old Inactive — before step 11, company defaults). Code matches
/// on these; [`StepId::label`] is only for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    NewSaved,
    Connected,
    OutgoingTested,
    IncomingTested,
    NewActive,
    OldInactive,
    DefaultsSwitched,
    LeftoverChecked,
    OldDeleted,
}

impl StepId {
    pub fn label(self) -> &'static str {
        match self {
            Self::NewSaved => "New setting saved",
            Self::Connected => "Connected",
            Self::OutgoingTested => "Test Outgoing Settings passed",
            Self::IncomingTested => "Test Incoming Settings passed",
            Self::NewActive => "New setting Active",
            Self::OldInactive => "Old setting Inactive",
            Self::DefaultsSwitched => "Company defaults switched",
            Self::LeftoverChecked => "No mail left in the old folders",
            Self::OldDeleted => "Old setting deleted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: StepId,
    /// The label, for people and the JSON output.
    pub name: &'static str,
    #[serde(flatten)]
    pub state: StepState,
}

impl Step {
    fn new(id: StepId, state: StepState) -> Self {
        Self { id, name: id.label(), state }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, StepState::Done(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub old: String,
    pub new: String,
    pub steps: Vec<Step>,
    /// Why the old setting cannot be deleted yet (empty when it can).
    pub delete_blockers: Vec<String>,
    /// The folders the leftover check counts (see [`leftover_folders`]).
    pub leftover_folders: Vec<String>,
}

impl Checklist {
    pub fn to_text(&self) -> String {
        let mut out = format!("Migration of \"{}\" to \"{}\"\n", self.old, self.new);
        for step in &self.steps {
            let (mark, detail) = match &step.state {
                StepState::Done(d) => ("done   ", d),
                StepState::ToDo(d) => ("to do  ", d),
                StepState::Blocked(d) => ("blocked", d),
            };
            out.push_str(&format!("[{mark}] {:<30} {detail}\n", step.name));
        }
        out
    }

    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The first step not done yet (the one to highlight); `None` when finished.
    pub fn current(&self) -> Option<StepId> {
        self.steps.iter().find(|s| !s.is_done()).map(|s| s.id)
    }

    /// Every step done: the guide's "Congratulations! You are now set up!".
    pub(crate) fn is_finished(&self) -> bool {
        self.current().is_none()
    }
}

/// The connection state of the new setting of `old_id`'s migration, read
/// from the secret store (can be slow: the window calls it on a job thread).
pub(crate) fn connection_of(config: &Config, secrets: &Secrets, old_id: &str) -> ConnectionState {
    match config.migration(old_id).and_then(|m| config.setting(&m.new)) {
        Some(new) => crate::oauth::tokens::status(secrets, &new.id, true)
            .map(|s| s.state)
            .unwrap_or(ConnectionState::Unknown { reason: "the secret store could not be read".to_owned() }),
        None => ConnectionState::NotConnected,
    }
}

/// The checklist: a pure function of the config and the new setting's
/// connection state (which the caller reads, off the UI thread).
pub fn checklist(config: &Config, old_id: &str, connection: &ConnectionState) -> Result<Checklist, MigrationError> {
    let migration = migration_of(config, old_id)?;
    let old = config.setting(old_id);
    let new = config.setting(&migration.new);
    let (old_name, new_name) = (config.setting_name(old_id), config.setting_name(&migration.new));
    let defaults = config.company_names_defaulting_to(old_id);
    let mut steps = Vec::new();
    steps.push(Step::new(
        StepId::NewSaved,
        match new {
            Some(_) => StepState::Done(format!("\"{new_name}\"")),
            None => {
                StepState::Blocked(format!("the new setting \"{new_name}\" was deleted; roll back and start again"))
            }
        },
    ));
    // App-only access has nobody to connect: the app's token is proven by the tests below.
    let app_only = new.is_some_and(|n| n.oauth_flow == crate::model::OAuthFlow::App);
    let connected = app_only || matches!(connection, ConnectionState::Connected { .. });
    steps.push(Step::new(
        StepId::Connected,
        match connection {
            _ if app_only => StepState::Done("app-only access: nobody signs in".to_owned()),
            ConnectionState::Connected { .. } => StepState::Done(connection.label()),
            ConnectionState::NeedsReconnect { reason } => StepState::ToDo(format!("needs reconnect: {reason}")),
            _ => StepState::ToDo(format!("press Connect on \"{new_name}\"")),
        },
    ));
    let passed = |at: &Option<Timestamp>, what: &str| match at {
        Some(at) => StepState::Done(format!("passed at {}", at.to_minute())),
        None if connected => StepState::ToDo(format!("run {what} on \"{new_name}\"")),
        None => StepState::Blocked("connect first".to_owned()),
    };
    steps.push(Step::new(StepId::OutgoingTested, passed(&migration.outgoing_passed_at, "Test Outgoing Settings")));
    steps.push(Step::new(StepId::IncomingTested, passed(&migration.incoming_passed_at, "Test Incoming Settings")));
    let new_active = new.is_some_and(|n| n.active);
    steps.push(Step::new(
        StepId::NewActive,
        if new_active {
            StepState::Done("Active".to_owned())
        } else if !is_verified(connected, migration) {
            StepState::Blocked(UNTESTED.to_owned())
        } else {
            StepState::ToDo(format!("set \"{new_name}\" Active"))
        },
    ));
    let old_inactive = old.is_none_or(|o| !o.active);
    let names = (old_name.as_str(), new_name.as_str());
    steps.push(Step::new(StepId::OldInactive, old_inactive_state(old_inactive, new_active, &defaults, names)));
    steps.push(Step::new(StepId::DefaultsSwitched, defaults_state(migration, new_active, &defaults, &new_name)));
    let leftover_state = leftover_state(migration);
    let leftover_clean = matches!(leftover_state, StepState::Done(_));
    steps.push(Step::new(StepId::LeftoverChecked, leftover_state));

    let blockers = if old.is_some() {
        delete_blockers(&defaults, old_inactive, is_verified(connected, migration), leftover_clean)
    } else {
        Vec::new()
    };
    steps.push(Step::new(
        StepId::OldDeleted,
        if old.is_none() {
            StepState::Done("moved to the trash".to_owned())
        } else if migration.kept_old_inactive && migration.finished_at.is_some() {
            StepState::Done("kept Inactive, as the guide allows: check its folders again now and then".to_owned())
        } else if blockers.is_empty() {
            StepState::ToDo("delete the old setting (its folders are checked once more first)".to_owned())
        } else {
            StepState::Blocked(blockers.join("; "))
        },
    ));
    Ok(Checklist {
        old: old_id.to_owned(),
        new: migration.new.clone().into(),
        steps,
        delete_blockers: blockers,
        leftover_folders: leftover_folders(config, old_id),
    })
}

/// Where the check of the old folders stands: mail found blocks, whatever was accepted earlier.
/// Setting the old setting Inactive: its companies move along, once the new one is Active.
fn old_inactive_state(old_inactive: bool, new_active: bool, defaults: &[String], names: (&str, &str)) -> StepState {
    let (old_name, new_name) = names;
    if old_inactive {
        StepState::Done("Inactive".to_owned())
    } else if defaults.is_empty() {
        StepState::ToDo(format!("set \"{old_name}\" Inactive"))
    } else if !new_active {
        StepState::Blocked(format!(
            "{} still use the old setting: set the new setting Active first, so they can move to it",
            defaults.join(", ")
        ))
    } else {
        StepState::ToDo(format!(
            "set \"{old_name}\" Inactive; {} move to \"{new_name}\" in the same step",
            defaults.join(", ")
        ))
    }
}

/// The companies' defaults: moved to the new setting, or why not yet.
fn defaults_state(migration: &Migration, new_active: bool, defaults: &[String], new_name: &str) -> StepState {
    if defaults.is_empty() {
        StepState::Done(if migration.previous_defaults.is_empty() {
            "no company used the old setting".to_owned()
        } else {
            format!("{} company(ies) use \"{new_name}\"", migration.previous_defaults.len())
        })
    } else if !new_active {
        StepState::Blocked(format!("set the new setting Active first ({} still use the old one)", defaults.join(", ")))
    } else {
        StepState::ToDo(format!("switch {} to \"{new_name}\"", defaults.join(", ")))
    }
}

/// The leftover step: found mail first (nothing outranks it), then folders not
/// found, then an accepted "cannot check"; each blocked state names the one
/// action that unblocks it.
fn leftover_state(migration: &Migration) -> StepState {
    match (&migration.leftover, &migration.leftover_acknowledged) {
        (Some(check), _) if check.total > 0 => StepState::Blocked(format!(
            "{} message(s) ({} unseen) still in {}: retrieve them (Messages, then Mail), then check again",
            check.total,
            check.unseen,
            check.folders.join(", ")
        )),
        (Some(check), _) if !check.missing.is_empty() => {
            let missing: Vec<String> = check.missing.iter().map(crate::model::MissingFolder::describe).collect();
            StepState::Blocked(format!(
                "not found on the old server: {}; correct the folder names to check (or remove one this mailbox \
                 never had), then check again",
                missing.join("; ")
            ))
        }
        (_, Some(reason)) => StepState::Done(format!("accepted: {reason}")),
        (Some(check), None) => {
            StepState::Done(format!("no mail left in {} (checked {})", check.folders.join(", "), check.checked_at))
        }
        (None, None) => StepState::ToDo("check the old folders for mail not yet retrieved".to_owned()),
    }
}

/// Why the old setting (still there) cannot be deleted yet.
fn delete_blockers(defaults: &[String], old_inactive: bool, verified: bool, leftover_clean: bool) -> Vec<String> {
    let mut blockers = Vec::new();
    if !defaults.is_empty() {
        blockers.push(format!("it is still the default for {}", defaults.join(", ")));
    }
    if !old_inactive {
        blockers.push("it is still Active".to_owned());
    }
    if !verified {
        blockers.push(
            "the new setting is not verified (connected, Test Outgoing and Test Incoming Settings passed)".to_owned(),
        );
    }
    if !leftover_clean {
        blockers.push(LEFTOVER_BLOCKER.to_owned());
    }
    blockers
}

/// The delete blocker that the delete's own re-check of the old folders can lift.
const LEFTOVER_BLOCKER: &str = "mail may be left in the old folders (check them first)";

/// What blocks the delete apart from the old folders (which the delete checks
/// itself): callers check this before spending a network round on the re-check.
pub(crate) fn blockers_before_recheck(
    config: &Config,
    old_id: &str,
    connection: &ConnectionState,
) -> Result<Vec<String>, MigrationError> {
    let list = checklist(config, old_id, connection)?;
    Ok(list.delete_blockers.into_iter().filter(|b| b != LEFTOVER_BLOCKER).collect())
}

/// The new setting counts as verified when it is connected and both tests passed.
/// The guide tests before it sets Active.
const UNTESTED: &str = "connect it and pass Test Outgoing and Test Incoming first (the guide tests before Active)";

/// Why a migration's new setting should not be made Active yet: it is not
/// connected, or a test has not passed. `None` when it may be, or when `id` is no
/// running migration's new setting. The front ends refuse unless the admin says
/// "untested" (audited).
pub(crate) fn untested_activation(config: &Config, secrets: &Secrets, id: &str) -> Option<String> {
    let migration = running_migration_to(config, id)?;
    untested_with(config, id, &connection_of(config, secrets, &migration.old))
}

/// [`untested_activation`] with the new setting's connection state as the caller
/// knows it (the window's, read off its thread): no secret store read here.
pub(crate) fn untested_with(config: &Config, id: &str, connection: &ConnectionState) -> Option<String> {
    let migration = running_migration_to(config, id)?;
    let app_only = config.setting(id).is_some_and(|n| n.oauth_flow == crate::model::OAuthFlow::App);
    let connected = app_only || matches!(connection, ConnectionState::Connected { .. });
    (!is_verified(connected, migration))
        .then(|| format!("\"{}\" is not tested yet: {UNTESTED}", config.setting_name(id)))
}

/// The running migration whose new setting `id` is.
fn running_migration_to<'c>(config: &'c Config, id: &str) -> Option<&'c Migration> {
    config.migrations.iter().find(|m| {
        m.new == id && m.rolled_back_at.is_none() && m.finished_at.is_none() && config.setting(&m.old).is_some()
    })
}

fn is_verified(connected: bool, migration: &Migration) -> bool {
    connected && migration.outgoing_passed_at.is_some() && migration.incoming_passed_at.is_some()
}

/// The guide's two tests, whose passing a migration's new setting needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuideTest {
    /// "Test Outgoing Settings": the two test emails sent.
    Outgoing,
    /// "Test Incoming Settings": signed in, the folders found.
    Incoming,
}

/// Notes a finished check of a setting for its migration: Test Outgoing and Test
/// Incoming of a migration's new setting count (other checks record nothing). The CLI
/// and the window both record through here.
pub(crate) fn record_check(
    workspace: &mut Workspace,
    setting_id: &str,
    check: &crate::checks::Check,
    report: &crate::probe::Report,
) {
    use crate::checks::Check;
    match check {
        Check::Outgoing { .. } => record_test(workspace, setting_id, GuideTest::Outgoing, report.passed),
        Check::Incoming => record_test(workspace, setting_id, GuideTest::Incoming, report.passed),
        Check::SendingSignIn | Check::RoundTrip | Check::Detect | Check::Leftover { .. } => {}
    }
}

/// Records a test of a migrated-to setting (passed sets the time, failed clears it).
pub(crate) fn record_test(workspace: &mut Workspace, setting_id: &str, test: GuideTest, passed: bool) {
    let involved = workspace.config().migrations.iter().any(|m| m.new == setting_id && m.rolled_back_at.is_none());
    if !involved {
        return;
    }
    let at = passed.then(crate::clock::Timestamp::now);
    let result = workspace.apply("migrate-record-test", |config| {
        for migration in config.migrations.iter_mut().filter(|m| m.new == setting_id && m.rolled_back_at.is_none()) {
            match test {
                GuideTest::Outgoing => migration.outgoing_passed_at = at,
                GuideTest::Incoming => migration.incoming_passed_at = at,
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        tracing::warn!("could not record the test result for the migration: {err}");
    }
}

/// Switches the companies (all, or the chosen ones) whose default is the old
/// setting to the new one, remembering the old defaults for rollback.
pub(crate) fn switch_defaults(
    workspace: &mut Workspace,
    old_id: &str,
    only: Option<&[String]>,
) -> Result<Vec<String>, MigrationError> {
    let migration = migration_of(workspace.config(), old_id)?.clone();
    let companies: Vec<String> = workspace
        .config()
        .companies_defaulting_to(old_id)
        .into_iter()
        .filter(|c| only.is_none_or(|chosen| chosen.contains(c)))
        .collect();
    workspace.apply("migrate-switch-defaults", |config| {
        for company in &companies {
            config.set_default(company, &migration.new)?;
        }
        if let Some(entry) = config.migration_mut(old_id) {
            remember_previous_defaults(entry, &companies, old_id);
        }
        Ok(())
    })?;
    Ok(companies)
}

/// The guide's step 10 for the old setting: Inactive, with the companies that
/// still use it moved to the new setting in the same change (remembered for
/// rollback). Returns the companies moved.
pub(crate) fn deactivate_old(workspace: &mut Workspace, old_id: &str) -> Result<Vec<String>, MigrationError> {
    let migration = migration_of(workspace.config(), old_id)?.clone();
    let moved = workspace.apply("migrate-deactivate-old", |config| {
        let moved = config.deactivate_moving_defaults(old_id, &migration.new)?;
        if let Some(entry) = config.migration_mut(old_id) {
            remember_previous_defaults(entry, &moved, old_id);
        }
        Ok(moved)
    })?;
    Ok(moved)
}

fn remember_previous_defaults(entry: &mut Migration, companies: &[String], old_id: &str) {
    for company in companies {
        if !entry.previous_defaults.iter().any(|p| &p.company == company) {
            entry.previous_defaults.push(PreviousDefault { company: company.clone(), setting: old_id.into() });
        }
    }
}

/// Deletes the old setting (to the trash) when every guard holds. The old
/// folders are checked again at this moment (`recheck`, signed in along `route`):
/// a clean check from earlier is no proof that nothing arrived since.
pub fn finish(
    workspace: &mut Workspace,
    old_id: &str,
    connection: &ConnectionState,
    recheck: &Leftover,
    route: LeftoverRoute,
) -> Result<(), MigrationError> {
    migration_of(workspace.config(), old_id)?;
    if workspace.config().setting(old_id).is_none() {
        return Ok(());
    }
    ready_to_finish(workspace, old_id, connection, recheck, route)?;
    let now = crate::clock::Timestamp::now();
    workspace.apply("migrate-finish", |config| {
        config.delete_after_recheck(old_id, now)?;
        if let Some(entry) = config.migration_mut(old_id) {
            entry.finished_at = Some(now);
        }
        Ok(())
    })?;
    Ok(())
}

/// The guide's other ending: every guard of [`finish`] holds (the old folders
/// checked once more), and the old setting stays, Inactive, instead of being deleted.
pub(crate) fn finish_keeping_old(
    workspace: &mut Workspace,
    old_id: &str,
    connection: &ConnectionState,
    recheck: &Leftover,
    route: LeftoverRoute,
) -> Result<(), MigrationError> {
    if workspace.config().setting(old_id).is_none() {
        return Err(MigrationError::UnknownSetting(old_id.to_owned()));
    }
    ready_to_finish(workspace, old_id, connection, recheck, route)?;
    let now = crate::clock::Timestamp::now();
    workspace.apply("migrate-finish-keep-inactive", |config| {
        if let Some(entry) = config.migration_mut(old_id) {
            entry.finished_at = Some(now);
            entry.kept_old_inactive = true;
        }
        Ok(())
    })?;
    Ok(())
}

/// Every guard before the old setting may go: the others first, then the old
/// folders checked once more (or a failed check acknowledged).
fn ready_to_finish(
    workspace: &mut Workspace,
    old_id: &str,
    connection: &ConnectionState,
    recheck: &Leftover,
    route: LeftoverRoute,
) -> Result<(), MigrationError> {
    let others = blockers_before_recheck(workspace.config(), old_id, connection)?;
    if !others.is_empty() {
        return Err(MigrationError::DeleteBlocked(others));
    }
    if record_leftover(workspace, old_id, recheck, route)?.is_none() {
        let acknowledged = migration_of(workspace.config(), old_id)?.leftover_acknowledged.is_some();
        if !acknowledged {
            return Err(MigrationError::DeleteBlocked(vec![format!(
                "the old folders could not be checked again ({}); accept that with a reason to delete anyway",
                recheck.report.failure_summary()
            )]));
        }
    }
    let list = checklist(workspace.config(), old_id, connection)?;
    if !list.delete_blockers.is_empty() {
        return Err(MigrationError::DeleteBlocked(list.delete_blockers));
    }
    Ok(())
}

/// Old setting back (restored from the trash if deleted) and active, the
/// previous company defaults restored, the migration marked rolled back.
pub fn rollback(workspace: &mut Workspace, old_id: &str) -> Result<Vec<String>, MigrationError> {
    let migration = migration_of(workspace.config(), old_id)?.clone();
    let now = crate::clock::Timestamp::now();
    let restored: Vec<String> = migration.previous_defaults.iter().map(|p| p.company.clone()).collect();
    workspace.apply("migrate-rollback", |config| {
        if config.setting(old_id).is_none() {
            config.restore_setting(old_id)?;
        }
        config.activate(old_id)?;
        for previous in &migration.previous_defaults {
            config.set_default(&previous.company, &previous.setting)?;
        }
        if let Some(entry) = config.migration_mut(old_id) {
            entry.rolled_back_at = Some(now);
        }
        Ok(())
    })?;
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Company, CredentialKind, MailSetting};
    use crate::probe::Report;

    /// A complete Basic setting on contoso.com (the one the start's tests use too).
    fn basic() -> MailSetting {
        start::example_basic()
    }

    #[test]
    fn an_app_only_migration_has_nobody_to_connect_and_is_verified_by_its_tests() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::file(dir.path().join("s.json"));
        let mut ws = Workspace::open(&dir.path().join("c.toml"), secrets).unwrap();
        ws.save_setting(basic(), &Default::default()).unwrap();
        let new = start(&mut ws, "old-basic", &Target::MICROSOFT_365_APP).unwrap().new;
        let list = checklist(ws.config(), "old-basic", &ConnectionState::NotConnected).unwrap();
        assert!(matches!(list.step(StepId::Connected).unwrap().state, StepState::Done(_)));
        assert!(matches!(list.step(StepId::OutgoingTested).unwrap().state, StepState::ToDo(_)), "the tests come next");
        record_test(&mut ws, &new, GuideTest::Outgoing, true);
        record_test(&mut ws, &new, GuideTest::Incoming, true);
        let list = checklist(ws.config(), "old-basic", &ConnectionState::NotConnected).unwrap();
        assert!(!list.delete_blockers.iter().any(|b| b.contains("not verified")), "{:?}", list.delete_blockers);
    }

    #[test]
    fn app_only_access_is_a_migration_target() {
        let config = Config { mail_settings: vec![basic()], ..Config::default() };
        let target = Target::parse("microsoft365-app", &config).unwrap();
        let new = new_setting_from(&basic(), &target, &config);
        assert_eq!((new.credential, new.oauth_flow), (CredentialKind::Microsoft365, crate::model::OAuthFlow::App));
        assert_eq!(new.description, "Collections (Microsoft 365 app-only)");
        assert_eq!(new.imap.server, "outlook.office365.com");
    }

    #[test]
    fn targets_parse() {
        let config = Config {
            oauth_providers: vec![crate::model::OAuthProvider { id: "corp".into(), ..Default::default() }],
            ..Config::default()
        };
        assert_eq!(Target::parse("microsoft365", &config).unwrap(), Target::MICROSOFT_365);
        assert_eq!(Target::parse("gmail", &config).unwrap(), Target::GMAIL);
        assert_eq!(Target::parse("corp", &config).unwrap(), Target::Provider("corp".into()));
        assert!(Target::parse("yahoo", &config).is_err());
    }

    fn leftover(counts: Option<u32>) -> Leftover {
        let report = crate::probe::Report::new(
            crate::probe::ProbeKind::Leftover,
            "old-basic",
            "imap.test:993",
            crate::probe::report::Redactor::default(),
        );
        let counts = counts.map(|total| {
            vec![crate::probe::imap::FolderCount {
                folder: "Mail Not Read".into(),
                exists: true,
                total,
                unseen: total,
                closest: Vec::new(),
            }]
        });
        Leftover { report, counts }
    }

    /// A check that found "Mail Not Read" empty and no "Mail Not Filed" at all.
    fn leftover_with_a_folder_missing() -> Leftover {
        let mut found = leftover(Some(0));
        if let Some(counts) = &mut found.counts {
            counts.push(crate::probe::imap::FolderCount {
                folder: "Mail Not Filed".into(),
                exists: false,
                total: 0,
                unseen: 0,
                closest: vec!["Mail not filed".into(), "Archive".into()],
            });
        }
        found
    }

    #[test]
    fn found_mail_outranks_an_acknowledgement_and_a_missing_folder_is_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, _new) = started_workspace(dir.path());
        acknowledge_leftover(&mut ws, "old-basic", "the old password is switched off").unwrap();
        let state = |ws: &Workspace| {
            checklist(ws.config(), "old-basic", &connected())
                .unwrap()
                .step(StepId::LeftoverChecked)
                .unwrap()
                .state
                .clone()
        };
        assert!(matches!(state(&ws), StepState::Done(_)), "accepted");
        // Then a check gets through after all, and finds mail: the acknowledgement no longer counts.
        assert_eq!(
            record_leftover(&mut ws, "old-basic", &leftover(Some(2)), LeftoverRoute::OldSignIn).unwrap(),
            Some(false)
        );
        let StepState::Blocked(why) = state(&ws) else { panic!("found mail blocks: {:?}", state(&ws)) };
        assert!(why.contains("2 message(s)") && why.contains("retrieve them"), "{why}");
        let blockers = checklist(ws.config(), "old-basic", &connected()).unwrap().delete_blockers;
        assert!(blockers.iter().any(|b| b.contains("mail may be left")), "{blockers:?}");
        // A folder the server does not have: not clean, named with what the server has instead.
        let missing = leftover_with_a_folder_missing();
        assert_eq!(record_leftover(&mut ws, "old-basic", &missing, LeftoverRoute::OldSignIn).unwrap(), Some(false));
        let StepState::Blocked(why) = state(&ws) else { panic!("a missing folder blocks: {:?}", state(&ws)) };
        assert!(why.contains("\"Mail Not Filed\" (the server has \"Mail not filed\", \"Archive\")"), "{why}");
        assert!(why.contains("correct the folder names"), "the one action that unblocks it: {why}");
        // Named right, the check is clean.
        set_leftover_folders(&mut ws, "old-basic", &["Mail Not Read".into(), "  ".into()]).unwrap();
        assert_eq!(ws.config().migration("old-basic").unwrap().leftover_folders, vec!["Mail Not Read".to_owned()]);
        assert_eq!(
            record_leftover(&mut ws, "old-basic", &leftover(Some(0)), LeftoverRoute::OldSignIn).unwrap(),
            Some(true)
        );
        assert!(matches!(state(&ws), StepState::Done(_)));
    }

    #[test]
    fn the_old_inbox_counts_only_when_it_is_not_the_new_settings_mailbox() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        // Basic on contoso's own server, OAuth at Gmail: two mailboxes, so the old inbox is left behind.
        assert_eq!(leftover_folders(ws.config(), "old-basic"), ["INBOX", "Mail Not Read", "Mail Not Filed"]);
        // The same mailbox (server and user name): its inbox is live, read by the new setting.
        let old = ws.config().setting("old-basic").unwrap().imap.clone();
        ws.apply("test", |config| {
            let setting = config.setting_mut(&new).unwrap();
            setting.imap.server = old.server.to_uppercase();
            setting.imap.user_name.clone_from(&old.user_name);
            Ok(())
        })
        .unwrap();
        assert_eq!(leftover_folders(ws.config(), "old-basic"), ["Mail Not Read", "Mail Not Filed"]);
        set_leftover_folders(&mut ws, "old-basic", &["Mail Not Read".into(), "Mail Not Filed".into()]).unwrap();
        assert!(
            ws.config().migration("old-basic").unwrap().leftover_folders.is_empty(),
            "the guide's two: the default"
        );
    }

    fn connected() -> ConnectionState {
        ConnectionState::Connected { account: Some("replies@contoso.com".into()) }
    }

    fn started_workspace(dir: &std::path::Path) -> (Workspace, String) {
        let secrets = Secrets::file(dir.join("s.json"));
        let mut ws = Workspace::open(&dir.join("c.toml"), secrets).unwrap();
        ws.save_setting(basic(), &Default::default()).unwrap();
        ws.add_company(Company { id: "acme".into(), name: "Acme Ltd".into(), default_mail_setting: None }).unwrap();
        ws.set_default("acme", &"old-basic".into()).unwrap();
        let new = start(&mut ws, "old-basic", &Target::GMAIL).unwrap().new;
        (ws, new)
    }

    /// The guide's other ending: the old setting kept Inactive, every guard of the
    /// delete held, "Congratulations" all the same.
    #[test]
    fn a_migration_may_finish_keeping_the_old_setting_inactive() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        let early =
            finish_keeping_old(&mut ws, "old-basic", &connected(), &leftover(Some(0)), LeftoverRoute::OldSignIn);
        assert!(matches!(early, Err(MigrationError::DeleteBlocked(_))), "the same guards as the delete");
        record_test(&mut ws, &new, GuideTest::Outgoing, true);
        record_test(&mut ws, &new, GuideTest::Incoming, true);
        ws.activate(&new).unwrap();
        deactivate_old(&mut ws, "old-basic").unwrap();
        let mail_left =
            finish_keeping_old(&mut ws, "old-basic", &connected(), &leftover(Some(2)), LeftoverRoute::OldSignIn);
        assert!(matches!(mail_left, Err(MigrationError::DeleteBlocked(_))), "mail left blocks it too");
        finish_keeping_old(&mut ws, "old-basic", &connected(), &leftover(Some(0)), LeftoverRoute::OldSignIn).unwrap();
        let old = ws.config().setting("old-basic").expect("kept");
        assert!(!old.active, "kept Inactive");
        let list = checklist(ws.config(), "old-basic", &connected()).unwrap();
        assert!(list.is_finished(), "Congratulations: {}", list.to_text());
        assert!(list.to_text().contains("kept Inactive"), "{}", list.to_text());
    }

    /// Tests before Active, as the guide orders: the step is blocked (with the way
    /// on) until the new setting is connected and both tests passed.
    #[test]
    fn setting_the_new_one_active_waits_for_its_tests() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        let state = |ws: &Workspace, connection: &ConnectionState| {
            checklist(ws.config(), "old-basic", connection).unwrap().step(StepId::NewActive).unwrap().state.clone()
        };
        assert!(matches!(state(&ws, &connected()), StepState::Blocked(why) if why.contains("tests before Active")));
        record_test(&mut ws, &new, GuideTest::Outgoing, true);
        record_test(&mut ws, &new, GuideTest::Incoming, true);
        assert!(matches!(state(&ws, &ConnectionState::NotConnected), StepState::Blocked(_)), "not connected");
        assert!(matches!(state(&ws, &connected()), StepState::ToDo(_)));
        assert!(untested_activation(ws.config(), ws.secrets(), &new).is_some(), "no tokens stored here");
        assert!(untested_activation(ws.config(), ws.secrets(), "old-basic").is_none(), "not a new setting");
    }

    #[test]
    fn the_checklist_follows_the_guide_and_blocks_delete_until_every_guard_holds() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        assert!(matches!(start(&mut ws, "old-basic", &Target::GMAIL), Err(MigrationError::AlreadyStarted(..))));
        let list = checklist(ws.config(), "old-basic", &ConnectionState::NotConnected).unwrap();
        let ids: Vec<StepId> = list.steps.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                StepId::NewSaved,
                StepId::Connected,
                StepId::OutgoingTested,
                StepId::IncomingTested,
                StepId::NewActive,
                StepId::OldInactive,
                StepId::DefaultsSwitched,
                StepId::LeftoverChecked,
                StepId::OldDeleted,
            ],
            "the guide's order: step 10 (Active / Inactive) before step 11 (company defaults)"
        );
        assert_eq!(list.current(), Some(StepId::Connected));
        assert!(matches!(list.step(StepId::OldInactive).unwrap().state, StepState::Blocked(_)), "new is inactive");
        assert_eq!(list.delete_blockers.len(), 4, "{:?}", list.delete_blockers);
        assert!(list.delete_blockers[0].contains("Acme Ltd"), "companies by name: {:?}", list.delete_blockers);
        let err = finish(&mut ws, "old-basic", &connected(), &leftover(Some(0)), LeftoverRoute::OldSignIn).unwrap_err();
        assert!(matches!(err, MigrationError::DeleteBlocked(_)));
        ws.activate(&new).unwrap();
        // The guide's order: the old setting goes Inactive first, its companies moving with it.
        let list = checklist(ws.config(), "old-basic", &ConnectionState::NotConnected).unwrap();
        assert!(matches!(list.step(StepId::OldInactive).unwrap().state, StepState::ToDo(_)));
        assert_eq!(deactivate_old(&mut ws, "old-basic").unwrap(), vec!["acme".to_owned()]);
        assert_eq!(ws.config().company("acme").unwrap().default_mail_setting.as_deref(), Some(new.as_str()));
        assert!(!ws.config().setting("old-basic").unwrap().active);
        acknowledge_leftover(&mut ws, "old-basic", "Basic sign-in already off").unwrap();
        let list = checklist(ws.config(), "old-basic", &connected()).unwrap();
        assert_eq!(
            list.delete_blockers,
            vec![
                "the new setting is not verified (connected, Test Outgoing and Test Incoming Settings passed)"
                    .to_owned()
            ]
        );
        // Rollback restores the exact previous state of the old setting and the defaults.
        rollback(&mut ws, "old-basic").unwrap();
        assert!(ws.config().setting("old-basic").unwrap().active);
        assert_eq!(ws.config().company("acme").unwrap().default_mail_setting.as_deref(), Some("old-basic"));
        assert!(ws.config().migration("old-basic").is_none());
    }

    /// Each part of "verified" alone is not enough (the gate is an AND of three).
    #[test]
    fn verified_needs_the_connection_and_both_tests() {
        let base = Migration { old: "o".into(), new: "n".into(), ..Migration::default() };
        let passed = Some("2026-11-26T00:00:00Z".parse().unwrap());
        for (connected, outgoing, incoming) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (true, true, false),
            (true, false, true),
            (false, true, true),
        ] {
            let m = Migration {
                outgoing_passed_at: outgoing.then_some(passed).flatten(),
                incoming_passed_at: incoming.then_some(passed).flatten(),
                ..base.clone()
            };
            assert!(!is_verified(connected, &m), "{connected} {outgoing} {incoming}");
        }
        let all = Migration { outgoing_passed_at: passed, incoming_passed_at: passed, ..base };
        assert!(is_verified(true, &all));
    }

    fn ready_to_delete(dir: &std::path::Path) -> Workspace {
        let (mut ws, new) = started_workspace(dir);
        ws.activate(&new).unwrap();
        deactivate_old(&mut ws, "old-basic").unwrap();
        record_test(&mut ws, &new, GuideTest::Outgoing, true);
        record_test(&mut ws, &new, GuideTest::Incoming, true);
        assert_eq!(
            record_leftover(&mut ws, "old-basic", &leftover(Some(0)), LeftoverRoute::OldSignIn).unwrap(),
            Some(true)
        );
        ws
    }

    /// A clean check from earlier is no proof: the delete checks again, and mail
    /// that arrived since blocks it.
    #[test]
    fn the_delete_checks_the_old_folders_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = ready_to_delete(dir.path());
        let list = checklist(ws.config(), "old-basic", &connected()).unwrap();
        assert!(list.delete_blockers.is_empty(), "{:?}", list.delete_blockers);
        let err = finish(&mut ws, "old-basic", &connected(), &leftover(Some(3)), LeftoverRoute::OldSignIn).unwrap_err();
        assert!(err.to_string().contains("mail may be left in the old folders"), "{err}");
        assert!(ws.config().setting("old-basic").is_some(), "not deleted");
        // A re-check that cannot sign in, with nothing accepted, blocks too.
        let err = finish(&mut ws, "old-basic", &connected(), &leftover(None), LeftoverRoute::OldSignIn).unwrap_err();
        assert!(err.to_string().contains("could not be checked again"), "{err}");
        // Retrieved: the re-check is clean and the delete goes through.
        finish(&mut ws, "old-basic", &connected(), &leftover(Some(0)), LeftoverRoute::OldSignIn).unwrap();
        assert!(ws.config().setting("old-basic").is_none());
        let list = checklist(ws.config(), "old-basic", &connected()).unwrap();
        assert!(list.is_finished(), "{}", list.to_text());
    }

    #[test]
    fn the_leftover_check_signs_in_the_way_that_works_and_offers_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        let route_of = |config: &Config, wanted| leftover_sign_in(config, "old-basic", wanted).unwrap();
        // Gmail's preset moved the servers: the new sign-in cannot reach the old mailbox.
        assert_eq!(leftover_routes(ws.config(), "old-basic"), vec![LeftoverRoute::OldSignIn]);
        let only = route_of(ws.config(), Some(LeftoverRoute::NewSignIn));
        assert_eq!((only.route, only.setting.id.as_str(), only.other), (LeftoverRoute::OldSignIn, "old-basic", None));
        let set_servers = |ws: &mut Workspace, old_user: &str| {
            ws.apply("t", |c| {
                for (id, server) in [("old-basic", "mail.contoso.com"), (new.as_str(), "MAIL.contoso.com")] {
                    if let Some(s) = c.setting_mut(id) {
                        s.imap.server = server.into();
                    }
                }
                let user = c.setting(&new).unwrap().imap.user_name.clone();
                let old = c.setting_mut("old-basic").unwrap();
                old.imap.user_name = if old_user.is_empty() { user } else { old_user.to_owned() };
                Ok(())
            })
            .unwrap();
        };
        // Same server and user: the new sign-in first (Basic is usually off by now), the old offered.
        set_servers(&mut ws, "");
        let first = route_of(ws.config(), None);
        assert_eq!((first.route, first.setting.id.as_str()), (LeftoverRoute::NewSignIn, new.as_str()));
        assert_eq!(first.other, Some(LeftoverRoute::OldSignIn));
        let old = route_of(ws.config(), Some(LeftoverRoute::OldSignIn));
        assert_eq!((old.setting.id.as_str(), old.other), ("old-basic", Some(LeftoverRoute::NewSignIn)));
        // Same server, another mailbox: the old sign-in first; the new one opens the old mailbox by its name.
        set_servers(&mut ws, "shared@contoso.com");
        assert_eq!(route_of(ws.config(), None).route, LeftoverRoute::OldSignIn);
        let other = route_of(ws.config(), Some(LeftoverRoute::NewSignIn));
        assert_eq!(
            (other.setting.id.as_str(), other.setting.imap.user_name.as_str()),
            (new.as_str(), "shared@contoso.com")
        );
        // A clean check along a route is remembered: the delete's re-check signs in the same way.
        record_leftover(&mut ws, "old-basic", &leftover(Some(0)), LeftoverRoute::NewSignIn).unwrap();
        assert_eq!(route_of(ws.config(), None).route, LeftoverRoute::NewSignIn);
        assert!(leftover_sign_in(ws.config(), "nope", None).is_none());
        assert_eq!(
            describe_route(ws.config(), "old-basic", LeftoverRoute::OldSignIn),
            "the old setting's password as shared@contoso.com"
        );
    }

    #[test]
    fn a_refused_leftover_sign_in_names_it_and_offers_the_other_way() {
        use crate::probe::report::{StageName, StageOutcome};
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, new) = started_workspace(dir.path());
        ws.apply("t", |c| {
            let server = c.setting("old-basic").unwrap().imap.server.clone();
            let user = c.setting("old-basic").unwrap().imap.user_name.clone();
            let s = c.setting_mut(&new).unwrap();
            s.imap.server = server;
            s.imap.user_name = user;
            Ok(())
        })
        .unwrap();
        let failed_at = |stage: StageName, detail: &str| {
            let mut report =
                Report::new(crate::probe::report::ProbeKind::Leftover, "old-basic", "imap", Default::default());
            report.stage(stage, std::time::Duration::ZERO, StageOutcome::Failed, detail, None);
            report
        };
        let refused = failed_at(StageName::Authentication, "AUTHENTICATE failed");
        let failure = leftover_failure(ws.config(), "old-basic", LeftoverRoute::NewSignIn, &refused);
        assert!(failure.text.starts_with("The server refused the new setting's Gmail sign-in as "), "{}", failure.text);
        let (other, words) = failure.other.unwrap();
        assert_eq!(other, LeftoverRoute::OldSignIn);
        assert!(words.starts_with("the old setting's password as "), "{words}");
        // Never reached: no sign-in was refused, so nothing else is offered.
        let unreachable = failed_at(StageName::Connect, "connection refused");
        let failure = leftover_failure(ws.config(), "old-basic", LeftoverRoute::NewSignIn, &unreachable);
        assert!(
            failure.text.starts_with("The old folders could not be opened with the new setting's"),
            "{}",
            failure.text
        );
        assert_eq!(failure.other, None);
    }
}
