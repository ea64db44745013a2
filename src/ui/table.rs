//! The Mail Settings table: every setting, sortable, filterable, virtualised
//! so that 10,000 rows scroll as smoothly as ten.

use super::widgets::hinted_input_ui;
use crate::clock::Timestamp;
use std::collections::HashMap;
use std::fmt::Write as _;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::commands::{Command, CommandQueue, FormCommand, MigrationAction, View};
use super::jobs::JobKind;
use super::theme;
use crate::model::{Config, MailSetting, SettingId};
use crate::oauth::ConnectionState;
use crate::ui::commands::{JobCommand, MigrationCommand, WindowCommand};

/// What the table shows about a setting besides its config: the connection
/// state and the last test results (pass/fail, time of day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowExtras {
    pub connection: Option<ConnectionState>,
    pub last_outgoing: Option<(bool, String)>,
    pub last_incoming: Option<(bool, String)>,
    /// When the last Test Outgoing / Incoming passed (RFC 3339), while it is the last one.
    pub outgoing_passed_at: Option<Timestamp>,
    pub incoming_passed_at: Option<Timestamp>,
    /// When the OAuth sign-in's refresh token was issued (a Google Testing app's 7-day clock).
    pub refresh_issued: Option<time::OffsetDateTime>,
}

impl RowExtras {
    fn tests_summary(&self) -> String {
        let one = |label: &str, result: &Option<(bool, String)>| {
            result.as_ref().map(|(passed, at)| format!("{label} {} {at}", if *passed { "OK" } else { "FAILED" }))
        };
        [one("Out", &self.last_outgoing), one("In", &self.last_incoming)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    #[default]
    Description,
    Credential,
    Active,
    DefaultFor,
    Connection,
    LastTests,
    SmtpServer,
    ImapServer,
}

impl SortColumn {
    const ALL: [(Self, &'static str); 8] = [
        (Self::Description, "Description"),
        // Beside the name, so a migration's note button stays in view beside the form.
        (Self::Active, "Status"),
        (Self::Credential, "Credential type"),
        (Self::DefaultFor, "Default for"),
        (Self::Connection, "Connection"),
        (Self::LastTests, "Last tests"),
        (Self::SmtpServer, "SMTP server"),
        (Self::ImapServer, "IMAP server"),
    ];
}

/// Each column's preferred and smallest width: Edit, then the sortable columns
/// (the last takes what is left of the window).
/// The Active column: its state, and a migration's note as a button.
const STATUS_COLUMN: usize = 2;

const COLUMN_WIDTHS: [(f32, f32); 9] = [
    (64.0, 60.0),
    (220.0, 120.0),
    (70.0, 60.0),
    (180.0, 80.0),
    (130.0, 80.0),
    (150.0, 80.0),
    (150.0, 80.0),
    (170.0, 80.0),
    (150.0, 80.0),
];

/// Table view state: filter, sort, selection, and the row order derived
/// from them (recomputed only when one of them or the config changes).
#[derive(Debug)]
pub struct SettingsTable {
    pub filter: String,
    sort: SortColumn,
    descending: bool,
    pub selected: Option<String>,
    /// Indices into `config.mail_settings`, filtered and sorted.
    rows: Vec<usize>,
    /// Setting id → "Acme, Globex".
    default_for: HashMap<String, String>,
    /// Setting id → what its migration asks of it (shown in the Active column).
    notes: HashMap<SettingId, RowNote>,
    /// Filter or sort changed since the rows were computed.
    stale: bool,
    /// The (workspace, extras) generations the rows were computed from.
    computed_for: Option<(u64, u64)>,
    /// The day the notes were worked out on.
    notes_day: Option<time::Date>,
    /// Set to focus the filter box on the next frame (Ctrl+F).
    pub focus_filter: bool,
    /// The widths the columns would like: the defaults, or where the admin dragged them.
    preferred_widths: Vec<f32>,
    /// The width the columns were last fitted into, and the widths they got then.
    fitted: Option<(f32, Vec<f32>)>,
    /// The Active column's narrowest width that shows its state and its widest note
    /// button whole (worked out again when the notes change).
    status_width: Option<f32>,
}

/// The same as [`SettingsTable::new`]: a default with no column widths would lay
/// the table out with none.
impl Default for SettingsTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SettingsTable {
    pub fn new() -> Self {
        Self {
            filter: String::new(),
            sort: SortColumn::default(),
            descending: false,
            selected: None,
            rows: Vec::new(),
            default_for: HashMap::new(),
            notes: HashMap::new(),
            stale: true,
            computed_for: None,
            notes_day: None,
            focus_filter: false,
            preferred_widths: COLUMN_WIDTHS.iter().map(|&(preferred, _)| preferred).collect(),
            fitted: None,
            status_width: None,
        }
    }

    pub(crate) fn visible_count(&self) -> usize {
        self.rows.len()
    }

    /// `config_moved`: the settings, their extras or the day changed, not only the
    /// filter or the sort — only then are the notes and company names worked out
    /// again (a keystroke does not change them).
    fn refresh(&mut self, config: &Config, extras: &HashMap<SettingId, RowExtras>, config_moved: bool) {
        if config_moved {
            self.notes = row_notes(config);
            self.default_for = default_for(config);
            self.status_width = None;
        }
        let needle = self.filter.trim().to_lowercase();
        let default_for = &self.default_for;
        let matches = |s: &MailSetting| {
            needle.is_empty()
                || [
                    s.description.as_str(),
                    s.id.as_str(),
                    &s.smtp.server,
                    &s.imap.server,
                    &s.smtp.send_as,
                    &s.imap.user_name,
                ]
                .iter()
                .any(|field| field.to_lowercase().contains(&needle))
                || s.credential_label().to_lowercase().contains(&needle)
                || default_for.get(s.id.as_str()).is_some_and(|d| d.to_lowercase().contains(&needle))
        };
        self.rows = config.mail_settings.iter().enumerate().filter(|(_, s)| matches(s)).map(|(i, _)| i).collect();
        let key = |s: &MailSetting| -> String {
            match self.sort {
                SortColumn::Description => natural_sort_key(&s.description),
                SortColumn::Credential => s.credential_label(),
                SortColumn::Active => if s.active { "0" } else { "1" }.to_owned(),
                SortColumn::DefaultFor => default_for
                    .get(s.id.as_str())
                    .map_or_else(|| "\u{10FFFF}".to_owned(), |names| natural_sort_key(names)),
                SortColumn::Connection => connection_label(s, extras),
                SortColumn::LastTests => extras.get(&s.id).map(RowExtras::tests_summary).unwrap_or_default(),
                SortColumn::SmtpServer => natural_sort_key(&s.smtp.server),
                SortColumn::ImapServer => natural_sort_key(&s.imap.server),
            }
        };
        let settings = &config.mail_settings;
        self.rows.sort_by_cached_key(|&i| key(&settings[i]));
        if self.descending {
            self.rows.reverse();
        }
        self.stale = false;
    }

    /// `generation`: the workspace's and the extras' generations; the rows are
    /// recomputed when either moves (never by hand-placed invalidations).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        generation: (u64, u64),
        extras: &HashMap<SettingId, RowExtras>,
        commands: &mut CommandQueue,
    ) {
        self.filter_ui(ui);
        // The notes count days down to a provider's date: a window left open overnight
        // works them out again on the new day.
        let today = time::OffsetDateTime::now_utc().date();
        let config_moved = self.computed_for != Some(generation) || self.notes_day != Some(today);
        self.notes_day = Some(today);
        if self.stale || config_moved {
            self.refresh(config, extras, config_moved);
            self.computed_for = Some(generation);
        }
        if config.mail_settings.is_empty() {
            ui.add_space(24.0);
            ui.label("No mail settings yet. Choose \"+ Add new record\" to create the first one.");
            return;
        }
        if self.rows.is_empty() {
            ui.label(format!("No mail setting matches \"{}\".", self.filter));
            return;
        }
        // Columns at their narrowest can still be wider than the space beside the form
        // (1024 px): then the table scrolls sideways instead of cutting its right edge off.
        egui::ScrollArea::horizontal()
            .id_salt("mail_settings_table_sideways")
            .auto_shrink([false, false])
            .show(ui, |ui| self.rows_ui(ui, config, extras, commands));
    }

    /// The table itself: header and rows, fitted to the width there is.
    fn rows_ui(
        &mut self,
        ui: &mut Ui,
        config: &Config,
        extras: &HashMap<SettingId, RowExtras>,
        commands: &mut CommandQueue,
    ) {
        let mut clicked_sort = None;
        let selected = self.selected.clone();
        // Text longer than its column ends in "…" (the whole text on hover and for
        // screen readers) instead of being clipped: a clipped cell has a clip rectangle
        // of its own, which makes each cell a draw call of its own — on software GL
        // (remote desktops, VMs) 180 of them made the window's first frame 9 ms slower.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        let available = ui.available_width();
        let (widths, refit) = self.fitted_widths(ui, available);
        let mut builder = TableBuilder::new(ui)
            .id_salt("mail_settings_table")
            // Striped by `table_stripes_ui`, one rectangle a row.
            .striped(false)
            .resizable(true)
            .sense(egui::Sense::click())
            // Labels and buttons on one line: centred in the row, as a reader scans it.
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        // Fixed widths, never auto-sized: an auto-sized column costs a sizing pass, which
        // draws the first frame of the window without its rows.
        let last = COLUMN_WIDTHS.len() - 1;
        for (index, (&width, &(_, minimum))) in widths.iter().zip(&COLUMN_WIDTHS).enumerate() {
            let column = if index == last { Column::remainder() } else { Column::initial(width) };
            builder = builder.column(column.at_least(minimum));
        }
        if refit {
            // egui_extras keeps the widths it was given first; the fitted ones replace them.
            builder.reset();
        }
        let mut dragged_to = None;
        builder
            .header(theme::ROW_HEIGHT + 4.0, |mut header| {
                header.col(|ui| {
                    ui.label(RichText::new("Edit").strong());
                });
                for (column, title) in SortColumn::ALL {
                    header.col(|ui| {
                        let sorted = (self.sort == column).then_some(self.descending);
                        if sort_header_ui(ui, title, sorted) {
                            clicked_sort = Some(column);
                        }
                    });
                }
            })
            .body(|mut body| {
                // Widths other than those fitted: the admin dragged a column's edge.
                let now = body.widths();
                if now.len() == widths.len()
                    && now.iter().zip(&widths).take(last).any(|(now, was)| (now - was).abs() > 0.5)
                {
                    dragged_to = Some(now.to_vec());
                }
                super::widgets::table_stripes_ui(&mut body, theme::ROW_HEIGHT, self.rows.len());
                body.rows(theme::ROW_HEIGHT, self.rows.len(), |mut row| {
                    let Some(setting) = self.rows.get(row.index()).and_then(|&i| config.mail_settings.get(i)) else {
                        return;
                    };
                    let is_selected = selected.as_deref() == Some(setting.id.as_str());
                    let default_for = self.default_for.get(setting.id.as_str()).map_or("", String::as_str);
                    let cells = RowCells { default_for, note: self.notes.get(&setting.id) };
                    row_ui(&mut row, setting, is_selected, &cells, extras, commands);
                });
            });
        if let Some(dragged) = dragged_to {
            self.keep_dragged(dragged, &widths, available);
        }
        if let Some(column) = clicked_sort {
            self.sort_by(column);
        }
    }

    /// Every column in view, from the smallest window (1024 px) up: the columns are
    /// fitted to the width they have whenever it changes, shrunk in proportion from
    /// the widths they would like (the admin's own after a drag). Whether they were
    /// fitted again this frame, too.
    fn fitted_widths(&mut self, ui: &Ui, available: f32) -> (Vec<f32>, bool) {
        let status = match self.status_width {
            Some(width) => width,
            None => {
                let width = self.widest_status(ui);
                self.status_width = Some(width);
                // The notes changed: fit again, to the new minimum.
                self.fitted = None;
                width
            }
        };
        let refit = self.fitted.as_ref().is_none_or(|(fitted_to, _)| (fitted_to - available).abs() > 0.5);
        if refit {
            let spacing = ui.spacing().item_spacing.x * (COLUMN_WIDTHS.len() - 1) as f32;
            let mut minimums = COLUMN_WIDTHS.map(|(_, minimum)| minimum);
            minimums[STATUS_COLUMN] = minimums[STATUS_COLUMN].max(status);
            let mut preferred = self.preferred_widths.clone();
            preferred[STATUS_COLUMN] = preferred[STATUS_COLUMN].max(status);
            self.fitted = Some((available, fit_column_widths(&preferred, &minimums, available - spacing)));
        }
        (self.fitted.as_ref().map_or(&self.preferred_widths, |(_, widths)| widths).clone(), refit)
    }

    /// "Inactive" beside the widest note button any row shows, measured in the body font
    /// (only the distinct labels: 10,000 rows share a handful).
    fn widest_status(&self, ui: &Ui) -> f32 {
        let labels: std::collections::BTreeSet<String> = self.notes.values().map(RowNote::button_label).collect();
        if labels.is_empty() {
            return COLUMN_WIDTHS[STATUS_COLUMN].1;
        }
        let font = egui::TextStyle::Button.resolve(ui.style());
        let width = |text: &str| {
            ui.painter().layout_no_wrap(text.to_owned(), font.clone(), egui::Color32::PLACEHOLDER).size().x
        };
        let button = ui.spacing().button_padding.x * 2.0;
        let widest = labels.iter().map(|label| width(label) + button).fold(0.0, f32::max);
        width("Inactive") + ui.spacing().item_spacing.x + widest + 2.0
    }

    /// Only the dragged column's width becomes its preferred one: the others keep
    /// theirs, so they grow back when the window does.
    fn keep_dragged(&mut self, dragged: Vec<f32>, widths: &[f32], available: f32) {
        let last = COLUMN_WIDTHS.len() - 1;
        for (index, (now, was)) in dragged.iter().zip(widths).enumerate().take(last) {
            if (now - was).abs() > 0.5 {
                self.preferred_widths[index] = *now;
            }
        }
        self.fitted = Some((available, dragged));
    }

    /// A click on a column's title: sort by it, or the other way round.
    fn sort_by(&mut self, column: SortColumn) {
        if self.sort == column {
            self.descending = !self.descending;
        } else {
            self.sort = column;
            self.descending = false;
        }
        self.stale = true;
    }

    fn filter_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let filter = hinted_input_ui(
                ui,
                egui::TextEdit::singleline(&mut self.filter).desired_width(280.0),
                "description, server, address… (Ctrl+F)",
                &label,
            );
            if self.focus_filter {
                filter.request_focus();
                self.focus_filter = false;
            }
            if filter.changed() {
                self.stale = true;
            }
            if !self.filter.is_empty() && ui.button("Clear filter").clicked() {
                self.filter.clear();
                self.stale = true;
            }
        });
    }
}

/// A key that sorts text as people read it: case aside, and numbers by their value
/// ("Mailbox 2" before "Mailbox 10", "smtp9" before "smtp10"). Each run of digits is
/// written as its length (four digits) and then its digits, so the keys compare as
/// plain strings — the table sorts up to 10,000 rows on every filter keystroke, and a
/// comparison that parses numbers on each call would be several times slower.
fn natural_sort_key(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut key = String::with_capacity(lower.len() + 8);
    let mut rest = lower.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        key.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let digits = rest[..end].trim_start_matches('0');
        // (A number of 10,000 digits or more sorts as if it had 9,999: no mail server has one.)
        let _ = write!(key, "{:04}", digits.len().min(9999));
        key.push_str(digits);
        rest = &rest[end..];
    }
    key.push_str(rest);
    key
}

/// Sorts (id, name) pairs by name, in the order the table sorts text; for the lists
/// that offer settings by name. Called when a list is opened, not on every frame.
pub(crate) fn sort_by_name<Id, Name: AsRef<str>>(items: &mut [(Id, Name)]) {
    items.sort_by_cached_key(|(_, name)| natural_sort_key(name.as_ref()));
}

/// Columns are shrunk to fit down to this share of the widths they would like; in
/// less room (the edit form open beside the table) the last ones are cut off at the
/// edge instead, and the first ones, which name the settings, stay readable.
const SMALLEST_SCALE: f32 = 0.7;

/// `preferred` column widths made to fit `available` (the spacing between columns
/// taken off): unchanged when they fit, else each shrunk in the same proportion —
/// but not below [`SMALLEST_SCALE`] — and none below its `minimum` (what those take
/// is shared among the others).
fn fit_column_widths(preferred: &[f32], minimums: &[f32], available: f32) -> Vec<f32> {
    let mut widths = preferred.to_vec();
    if preferred.iter().sum::<f32>() <= available {
        return widths;
    }
    // Columns at their minimum leave the rest to the others; each pass pins at least
    // one more column, so there are at most as many passes as columns.
    let mut pinned = vec![false; widths.len()];
    for _ in 0..widths.len() {
        let pinned_width: f32 = minimums.iter().zip(&pinned).filter(|(_, pinned)| **pinned).map(|(m, _)| m).sum();
        let free_preferred: f32 = preferred.iter().zip(&pinned).filter(|(_, pinned)| !**pinned).map(|(p, _)| p).sum();
        let scale = ((available - pinned_width) / free_preferred).max(SMALLEST_SCALE);
        let mut pinned_more = false;
        for (index, width) in widths.iter_mut().enumerate() {
            if pinned[index] {
                *width = minimums[index];
            } else if preferred[index] * scale < minimums[index] {
                pinned[index] = true;
                pinned_more = true;
                *width = minimums[index];
            } else {
                *width = preferred[index] * scale;
            }
        }
        if !pinned_more {
            break;
        }
    }
    widths
}

/// One row: Edit, the description (click to open), and the columns; right-click for more.
/// What a migration asks of a setting, said in its row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowNote {
    /// An OAuth setting made for this Basic setting's mailbox, not migrated to yet.
    Replaces { old: SettingId, old_name: String },
    /// The old setting of a finished migration, kept Inactive: its folders are worth a look now and then.
    KeptInactive,
    /// Sends with a password through Microsoft, which switches that off by default on a
    /// known day: the days left (negative after), and it in words.
    BasicEnding { days: i64, words: String },
}

impl RowNote {
    /// The words on the note's button, as [`status_ui`] draws it.
    fn button_label(&self) -> String {
        match self {
            Self::Replaces { .. } => "Replaces Basic".to_owned(),
            Self::KeptInactive => "Check folders".to_owned(),
            Self::BasicEnding { days, .. } => migrate_label(*days),
        }
    }
}

fn migrate_label(days: i64) -> String {
    if days > 0 { format!("Migrate ({days} days left)") } else { "Migrate now".to_owned() }
}

/// Setting id → the companies it is the default for, as the Default for column shows them.
fn default_for(config: &Config) -> HashMap<String, String> {
    let mut names_by_setting: HashMap<String, String> = HashMap::new();
    for company in &config.companies {
        if let Some(id) = &company.default_mail_setting {
            let names = names_by_setting.entry(id.clone().into()).or_default();
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(if company.name.is_empty() { &company.id } else { &company.name });
        }
    }
    names_by_setting
}

fn row_notes(config: &Config) -> HashMap<SettingId, RowNote> {
    let mut notes: HashMap<SettingId, RowNote> = crate::migration::replacements(config)
        .into_iter()
        .map(|(new, old)| (new, RowNote::Replaces { old_name: config.setting_name(&old), old }))
        .collect();
    let kept = config.migrations.iter().filter(|m| m.kept_old_inactive && m.rolled_back_at.is_none());
    for migration in kept.filter(|m| config.setting(&m.old).is_some_and(|s| !s.active)) {
        notes.insert(migration.old.clone(), RowNote::KeptInactive);
    }
    let today = time::OffsetDateTime::now_utc().date();
    for setting in config.mail_settings.iter().filter(|s| s.active && config.migration(&s.id).is_none()) {
        if let Some((days, words)) = crate::model::providers::basic_smtp_ending(setting, today) {
            notes.insert(setting.id.clone(), RowNote::BasicEnding { days, words });
        }
    }
    notes
}

/// The texts of a row that come from more than its setting.
struct RowCells<'a> {
    default_for: &'a str,
    note: Option<&'a RowNote>,
}

/// The Active column: Active or Inactive, and what a migration asks of the setting
/// as a button that does it (the kept old setting's folder check; the checklist
/// for a setting made to replace a Basic one).
fn status_ui(ui: &mut Ui, setting: &MailSetting, note: Option<&RowNote>, commands: &mut CommandQueue) {
    let status = if setting.active { "Active" } else { "Inactive" };
    let mut rich = RichText::new(status);
    if !setting.active {
        rich = rich.color(theme::inactive_color(ui.visuals()));
    }
    ui.label(rich);
    match note {
        Some(RowNote::KeptInactive) => {
            let button = ui.button("Check folders").on_hover_text(
                "Kept Inactive after its migration: check its folders for mail not yet retrieved now and then",
            );
            if button.clicked() {
                commands.send(Command::Job(JobCommand::Start(setting.id.clone().into(), JobKind::Leftover)));
            }
        }
        Some(RowNote::Replaces { old, old_name }) => {
            let button = ui.button("Replaces Basic").on_hover_text(format!(
                "Made for the same mailbox as \"{old_name}\": opens the migration checklist with both"
            ));
            if button.clicked() {
                commands.send(Command::Migration(MigrationCommand::Step(
                    old.clone(),
                    MigrationAction::Adopt(setting.id.clone()),
                )));
                commands.send(Command::Window(WindowCommand::Show(View::Migration)));
            }
        }
        Some(RowNote::BasicEnding { days, words })
            if ui.button(migrate_label(*days)).on_hover_text(words.as_str()).clicked() =>
        {
            commands.send(Command::Migration(MigrationCommand::Replace(setting.id.clone())));
        }
        Some(RowNote::BasicEnding { .. }) | None => {}
    }
}

fn row_ui(
    row: &mut egui_extras::TableRow<'_, '_>,
    setting: &MailSetting,
    is_selected: bool,
    cells: &RowCells<'_>,
    extras: &HashMap<SettingId, RowExtras>,
    commands: &mut CommandQueue,
) {
    row.set_selected(is_selected);
    let mut open = false;
    row.col(|ui| {
        // The guide's "Edit" beside each setting.
        open |= ui.button("Edit").on_hover_text(format!("Edit \"{}\"", setting.description)).clicked();
    });
    row.col(|ui| {
        let text = if setting.description.is_empty() { setting.id.as_str() } else { setting.description.as_str() };
        let mut rich = RichText::new(text);
        if !setting.active {
            rich = rich.color(theme::inactive_color(ui.visuals()));
        }
        open |= ui.add(egui::Button::selectable(is_selected, rich)).clicked();
    });
    let tests = extras.get(&setting.id).map(RowExtras::tests_summary).unwrap_or_default();
    row.col(|ui| status_ui(ui, setting, cells.note, commands));
    row.col(|ui| {
        ui.label(setting.credential_label());
    });
    for text in
        [cells.default_for, &connection_label(setting, extras), &tests, &setting.smtp.server, &setting.imap.server]
    {
        row.col(|ui| {
            ui.label(text);
        });
    }
    let response = row.response();
    response.context_menu(|ui| {
        if ui.button("Edit").clicked() {
            commands.send(Command::Form(FormCommand::Edit(setting.id.clone())));
        }
        if ui.button("Check leftover mail").clicked() {
            commands.send(Command::Job(JobCommand::Start(setting.id.clone().into(), JobKind::Leftover)));
        }
    });
    if open || response.clicked() {
        commands.send(Command::Form(FormCommand::Edit(setting.id.clone())));
    }
}

/// A column title that sorts by it when clicked; returns whether it was.
fn sort_header_ui(ui: &mut Ui, title: &str, sorted: Option<bool>) -> bool {
    ui.horizontal(|ui| {
        let button = egui::Button::new(RichText::new(title).strong()).frame(false);
        let clicked = ui.add(button).on_hover_text(format!("Sort by {title}")).clicked();
        if let Some(descending) = sorted {
            sort_arrow_ui(ui, descending);
        }
        clicked
    })
    .inner
}

/// A small triangle after the sorted column's title (the bundled fonts have no arrow glyphs).
fn sort_arrow_ui(ui: &mut Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    let color = ui.visuals().strong_text_color();
    let (top, bottom) = (rect.top() + 2.0, rect.bottom() - 2.0);
    let points = if descending {
        vec![egui::pos2(rect.left(), top), egui::pos2(rect.right(), top), egui::pos2(rect.center().x, bottom)]
    } else {
        vec![egui::pos2(rect.left(), bottom), egui::pos2(rect.right(), bottom), egui::pos2(rect.center().x, top)]
    };
    ui.painter().add(egui::Shape::convex_polygon(points, color, egui::Stroke::NONE));
}

fn connection_label(setting: &MailSetting, extras: &HashMap<SettingId, RowExtras>) -> String {
    if !setting.uses_oauth() {
        return ConnectionState::Basic.label();
    }
    if setting.oauth_flow == crate::model::OAuthFlow::App {
        return "App-only access".to_owned();
    }
    extras
        .get(&setting.id)
        .and_then(|e| e.connection.as_ref())
        .map_or_else(|| "Not connected".to_owned(), ConnectionState::label)
}

#[cfg(test)]
mod tests {
    use super::{fit_column_widths, natural_sort_key};

    #[test]
    fn text_sorts_as_people_read_it() {
        let mut names =
            ["Mailbox 10", "mailbox 2", "Mailbox 1", "smtp10.example.com", "smtp9.example.com", "Mailbox 02b"];
        names.sort_by_cached_key(|name| natural_sort_key(name));
        assert_eq!(
            names,
            ["Mailbox 1", "mailbox 2", "Mailbox 02b", "Mailbox 10", "smtp9.example.com", "smtp10.example.com"]
        );
        assert!(natural_sort_key("a") < natural_sort_key("B"), "case aside");
        assert!(natural_sort_key("x") < natural_sort_key("x1"));
        assert!(natural_sort_key("v2.9") < natural_sort_key("v2.10"), "each number on its own");
        // Longer than a u64: still ordered by length first, never a panic.
        assert!(natural_sort_key("n99999999999999999999") < natural_sort_key("n100000000000000000000"));
    }

    #[test]
    fn widths_that_fit_are_kept() {
        assert_eq!(fit_column_widths(&[100.0, 200.0], &[50.0, 50.0], 400.0), vec![100.0, 200.0]);
        assert_eq!(fit_column_widths(&[100.0, 200.0], &[50.0, 50.0], 300.0), vec![100.0, 200.0]);
    }

    #[test]
    fn widths_too_wide_shrink_in_proportion() {
        let widths = fit_column_widths(&[100.0, 300.0], &[10.0, 10.0], 320.0);
        assert_eq!(widths, vec![80.0, 240.0]);
    }

    #[test]
    fn a_column_stops_at_its_minimum_and_the_others_share_the_rest() {
        // In proportion the first would get 75 (below its 90): it keeps 90, the others share 660.
        let widths = fit_column_widths(&[100.0, 400.0, 500.0], &[90.0, 10.0, 10.0], 750.0);
        assert_eq!(widths[0], 90.0);
        assert!((widths[1] + widths[2] - 660.0).abs() < 1e-3, "{widths:?}");
        assert!((widths[2] / widths[1] - 500.0 / 400.0).abs() < 1e-3, "{widths:?}");
    }

    #[test]
    fn columns_shrink_no_further_than_the_smallest_scale_and_no_column_below_its_minimum() {
        let widths = fit_column_widths(&[100.0, 300.0], &[10.0, 10.0], 100.0);
        assert_eq!(widths, vec![100.0 * super::SMALLEST_SCALE, 300.0 * super::SMALLEST_SCALE]);
        let widths = fit_column_widths(&[100.0, 100.0], &[80.0, 70.0], 50.0);
        assert_eq!(widths, vec![80.0, 70.0]);
    }

    #[test]
    fn the_mail_settings_columns_fit_the_smallest_window() {
        let preferred = super::COLUMN_WIDTHS.map(|(preferred, _)| preferred);
        let minimums = super::COLUMN_WIDTHS.map(|(_, minimum)| minimum);
        // 1024 px less the window's margins and the spacing between columns.
        let widths = fit_column_widths(&preferred, &minimums, 940.0);
        assert!((widths.iter().sum::<f32>() - 940.0).abs() < 1e-2, "{widths:?}");
        assert!(widths.iter().zip(&minimums).all(|(width, minimum)| width >= minimum), "{widths:?}");
    }
}
