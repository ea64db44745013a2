//! The top-level app, split the way rerun splits its viewer: the state lives
//! here; `chrome` draws the menu, toolbar, status bar and dialogs;
//! `views` lays out the central views; `handle` runs the commands the panels
//! sent (once per frame, after drawing); `events` takes what the background
//! jobs reported. Nothing here waits on the network or the secret store.

mod chrome;
mod events;
mod form_flow;
mod handle;
mod views;
mod watch;

use std::collections::HashMap;

use egui::Ui;
use serde::{Deserialize, Serialize};

use super::commands::{CommandQueue, View};
use super::companies::CompaniesView;
use super::form::{EditForm, FormOutput};
use super::jobs::{JobKind, Jobs};
use super::migration_view::MigrationView;
use super::sign_in_apps::SignInAppsView;
use super::table::{RowExtras, SettingsTable};
use super::theme::{self, ThemeChoice};
use crate::model::MailSetting;
use crate::oauth::ConnectionState;
use crate::probe::Report;
use crate::store::Workspace;

/// A message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// The id a "Undo" button would restore.
    pub undo_delete: Option<String>,
}

impl Notice {
    fn info(text: impl Into<String>) -> Self {
        Self { text: text.into(), is_error: false, undo_delete: None }
    }

    fn error(text: impl Into<String>) -> Self {
        Self { text: text.into(), is_error: true, undo_delete: None }
    }
}

/// What the window remembers between runs (eframe persistence; the window's
/// size and position eframe keeps itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub view: View,
    pub zoom: f32,
    pub theme: ThemeChoice,
    /// Test Outgoing's recipient (an address, never a secret).
    pub recipient: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            view: View::default(),
            zoom: theme::ZOOM_NORMAL,
            theme: ThemeChoice::default(),
            recipient: String::new(),
        }
    }
}

/// A question the window asks before it acts.
#[derive(Debug)]
pub enum Dialog {
    /// "Delete this setting?" (with what happens).
    ConfirmDelete { id: crate::model::SettingId },
    /// Saving makes a company default Inactive: move its companies to `to` first.
    /// Holds what Save would write (the typed passwords too) until the answer.
    MoveDefaults { output: Box<FormOutput>, companies: Vec<String>, to: Option<String> },
    /// Saving makes a migration's new setting Active before its tests passed: only when confirmed.
    ActivateUntested { output: Box<FormOutput>, reason: String },
    /// An import that changes trust (sign-in apps, CA files): listed, applied only when confirmed.
    ConfirmImport { path: std::path::PathBuf, trust_changes: Vec<String> },
}

/// A Save waiting for its passwords to reach the OS store (on a job thread).
#[derive(Debug)]
struct PendingSave {
    setting: MailSetting,
    move_defaults_to: Option<crate::model::SettingId>,
}

/// What the window does once the form's Save has landed: one of these, never two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum AfterSave {
    /// Stay on the saved setting, so Connect and the tests are one click away.
    #[default]
    OpenForm,
    /// "Save and test": this test starts on the saved setting.
    Test(JobKind),
    /// The form holds the old setting typed in from the welcome: Migration follows its Save.
    Migrate,
}

impl AfterSave {
    /// A save that failed: a test asked for with it is not run; the welcome's
    /// migration still follows the next Save.
    fn after_failed_save(self) -> Self {
        if matches!(self, Self::Test(_)) { Self::OpenForm } else { self }
    }
}

/// The edit form and what hangs on it.
#[derive(Debug, Default)]
struct Editing {
    form: Option<EditForm>,
    /// The setting shown beside the form ("Compare with").
    compare_with: Option<String>,
    /// A Save waiting for its passwords to be stored first.
    pending_save: Option<PendingSave>,
    /// What follows once the form's Save has landed.
    after_save: AfterSave,
    /// Set when Test Outgoing was pressed with no address: the field takes focus.
    ask_recipient: bool,
}

/// What sign-ins said, per setting, and a Connect waiting for its sign-in app.
#[derive(Debug, Default)]
struct SignInState {
    /// What the last Connect / Disconnect said.
    messages: HashMap<String, Vec<String>>,
    /// After a sign-in that needs the tenant administrator's approval, the request to forward.
    consent_requests: HashMap<String, String>,
    /// Connect was pressed with no sign-in app: once one is saved, go back to
    /// this view and connect this setting, as the admin asked.
    resume_connect: Option<(String, super::commands::View)>,
}

/// What the window's frames have done so far.
#[derive(Debug, Default)]
struct FrameState {
    /// The look in `prefs` has been applied to the context.
    styled: Option<(ThemeChoice, f32)>,
    connections_scanned: bool,
    /// Whether this app has drawn its first frame (the connection scan and the
    /// parse cache's writing wait for the next one).
    drew_a_frame: bool,
    /// When the process started; logged once with the first frame (start-up benchmark).
    launched: Option<std::time::Instant>,
    /// The window clears every frame to the panel colour, so panels need no fill of their own.
    cleared_to_panel_colour: bool,
}

/// The Health view's state: its rows, the kept history, the alerts section.
#[derive(Debug, Default)]
struct HealthState {
    /// The rows (the last Check all, else the kept history).
    rows: Vec<crate::ui::health_view::HealthRow>,
    history: Vec<crate::store::history::HistoryEntry>,
    /// "Scheduled every 1 h · last check 19:10" (read once, again after Check all).
    schedule_note: Option<String>,
    alerts: crate::ui::alerts_panel::AlertsPanel,
    /// A test alert on its way, and how to stop it.
    test_alert: Option<crate::cancel::CancelToken>,
}

/// The About box's own state.
#[derive(Debug, Default)]
pub(crate) struct AboutBox {
    /// The support contact as typed, until saved.
    support_contact: String,
}

#[derive(Debug)]
pub struct MailSettingsApp {
    workspace: Workspace,
    prefs: Preferences,
    table: SettingsTable,
    /// The edit form and what hangs on it.
    editing: Editing,
    companies: CompaniesView,
    sign_in_apps: SignInAppsView,
    bridge: crate::ui::bridge_view::BridgeView,
    notice: Option<Notice>,
    commands: CommandQueue,
    jobs: Jobs,
    /// The report shown in the result panel.
    report: Option<Report>,
    /// Per setting: connection state, last test results (for the table).
    extras: HashMap<crate::model::SettingId, RowExtras>,
    /// Goes up whenever `extras` changes (the table re-sorts on it and the workspace's generation).
    extras_generation: u64,
    /// What sign-ins said, and a Connect waiting for its sign-in app.
    sign_ins: SignInState,
    show_trust: bool,
    /// What the window's frames have done so far (start-up work, the look applied).
    frames: FrameState,
    migration: MigrationView,
    log_entries: Vec<crate::store::audit::AuditEntry>,
    /// The Health view's state.
    health: HealthState,
    /// The About box, when open: what is typed in its Support contact field.
    about: Option<AboutBox>,
    dialog: Option<Dialog>,
    /// Companies without an active default, for the status bar, and the
    /// workspace generation they were computed at (not recomputed every frame).
    companies_without_default: Option<(u64, Vec<String>)>,
}

impl MailSettingsApp {
    pub fn new(workspace: Workspace) -> Self {
        Self::with_preferences(workspace, Preferences::default())
    }

    pub fn with_preferences(workspace: Workspace, prefs: Preferences) -> Self {
        Self {
            workspace,
            prefs,
            table: SettingsTable::new(),
            editing: Editing::default(),
            companies: CompaniesView::default(),
            sign_in_apps: SignInAppsView::default(),
            bridge: crate::ui::bridge_view::BridgeView::default(),
            notice: None,
            commands: CommandQueue::default(),
            jobs: Jobs::default(),
            report: None,
            extras: HashMap::new(),
            extras_generation: 0,
            sign_ins: SignInState::default(),
            show_trust: false,
            frames: FrameState::default(),
            migration: MigrationView::default(),
            log_entries: Vec::new(),
            health: HealthState::default(),
            about: None,
            dialog: None,
            companies_without_default: None,
        }
    }

    pub(crate) fn with_launch_time(mut self, launched: std::time::Instant) -> Self {
        self.frames.launched = Some(launched);
        self
    }

    /// For a window that clears each frame to the panel colour (see
    /// [`panel_clear_colour`](crate::ui::theme::panel_clear_colour)): panels then
    /// draw no fill of their own. On software GL (remote desktops, VMs) a fill over
    /// the whole window costs about 3 ms of every frame, the first one included.
    pub fn on_cleared_background(mut self) -> Self {
        self.frames.cleared_to_panel_colour = true;
        self
    }

    fn panels_ui(&mut self, ui: &mut Ui) {
        self.edge_panel(egui::Panel::top("toolbar"), ui).show(ui, |ui| {
            self.menu_ui(ui);
            self.toolbar_ui(ui);
        });
        self.edge_panel(egui::Panel::bottom("status"), ui).show(ui, |ui| self.status_ui(ui));
        self.view_ui(ui);
    }

    /// A panel's frame: no fill where the window's clear colour already is it.
    fn panel_frame(&self, frame: egui::Frame) -> egui::Frame {
        if self.frames.cleared_to_panel_colour { frame.fill(egui::Color32::TRANSPARENT) } else { frame }
    }

    fn central_panel(&self, ui: &Ui) -> egui::CentralPanel {
        egui::CentralPanel::default().frame(self.panel_frame(egui::Frame::central_panel(ui.style())))
    }

    fn edge_panel(&self, panel: egui::Panel, ui: &Ui) -> egui::Panel {
        panel.frame(self.panel_frame(egui::Frame::side_top_panel(ui.style())))
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn preferences(&self) -> &Preferences {
        &self.prefs
    }

    /// The report in the result panel (tests read it).
    pub fn shown_report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Whether any background job is running (tests wait on it).
    pub fn is_busy(&self) -> bool {
        !self.jobs.running.is_empty() || self.jobs.scanning
    }

    fn read_only(&self) -> bool {
        self.workspace.read_only_reason().is_some()
    }

    /// The table's extras for `id`, marked changed.
    fn extras_mut(&mut self, id: &str) -> &mut RowExtras {
        self.extras_generation += 1;
        self.extras.entry(id.into()).or_default()
    }

    fn connection(&self, id: &str) -> ConnectionState {
        match self.workspace.config().setting(id) {
            Some(s) if !s.uses_oauth() => ConnectionState::Basic,
            _ => self.extras.get(id).and_then(|e| e.connection.clone()).unwrap_or(ConnectionState::NotConnected),
        }
    }

    /// The names of the companies without an active default, recomputed only after a change.
    fn companies_without_default(&mut self) -> &[String] {
        let generation = self.workspace.generation();
        if self.companies_without_default.as_ref().is_none_or(|(at, _)| *at != generation) {
            let names = self.workspace.config().companies_without_active_default();
            self.companies_without_default = Some((generation, names));
        }
        self.companies_without_default.as_ref().map_or(&[], |(_, names)| names.as_slice())
    }

    /// Applies the look before the first frame, so that frame is already drawn
    /// at the right sizes (a style change mid-frame costs a second pass).
    pub(crate) fn styled_for(mut self, ctx: &egui::Context) -> Self {
        self.apply_look(ctx);
        self
    }

    /// Applies the theme and zoom when they changed (and on the first frame).
    fn apply_look(&mut self, ctx: &egui::Context) {
        let wanted = (self.prefs.theme, self.prefs.zoom);
        if self.frames.styled != Some(wanted) {
            theme::apply(ctx, wanted.0, wanted.1);
            self.frames.styled = Some(wanted);
        }
    }
}

impl eframe::App for MailSettingsApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let first_frame = self.frames.launched.take().map(|launched| {
            tracing::info!("first frame after {} ms", launched.elapsed().as_millis());
            (launched, std::time::Instant::now())
        });
        self.apply_look(&ctx);
        // The connection scan starts once the first frame is on screen: on a small
        // machine its thread (and the secret store) would compete with that paint.
        // (The app's first frame, not the window's: a window up before its config was
        // read drew "Reading the mail settings…" first.)
        if !self.frames.connections_scanned {
            if !self.frames.drew_a_frame {
                self.frames.drew_a_frame = true;
                ctx.request_repaint();
            } else {
                self.frames.connections_scanned = true;
                self.jobs.scan_connections(&ctx, self.workspace.config(), self.workspace.secrets());
            }
        }
        // A large config read the slow way, or just saved, is kept parsed for the next
        // start — once this app's first frame is on screen.
        if self.frames.connections_scanned
            && let Some(keep_parsed) = self.workspace.parse_cache_writer()
        {
            let spawned = std::thread::Builder::new().name("config-cache".to_owned()).spawn(keep_parsed);
            if let Err(err) = spawned {
                tracing::debug!("no parse cache entry: {err}");
            }
        }
        self.poll_jobs(&ctx);
        self.shortcuts(ui);
        if self.frames.cleared_to_panel_colour {
            // The panels paint no fill, but what is drawn on them still asks for their
            // colour (a scroll area's fading edge blends into it): this scope says it.
            let behind = egui::UiStackInfo::default().with_frame(egui::Frame::NONE.fill(ui.visuals().panel_fill));
            ui.scope_builder(egui::UiBuilder::new().ui_stack_info(behind), |ui| self.panels_ui(ui));
        } else {
            self.panels_ui(ui);
        }
        if self.show_trust {
            self.trust_window_ui(&ctx);
        }
        if self.about.is_some() {
            self.about_window_ui(&ctx);
        }
        self.discard_question_ui(ui);
        self.dialog_ui(ui);
        self.run_commands(&ctx);
        if let Some((launched, started)) = first_frame {
            tracing::info!(
                "first frame drawn in {:.1} ms, {} ms after launch (another pass asked for: {})",
                started.elapsed().as_secs_f64() * 1000.0,
                launched.elapsed().as_millis(),
                ctx.will_discard()
            );
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
    }
}

/// The preferences saved by the last run, if any.
pub fn load_preferences(storage: Option<&dyn eframe::Storage>) -> Preferences {
    storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default()
}
