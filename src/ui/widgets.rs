//! Small reusable widgets: labelled fields with their validation messages,
//! the masked password field, and table stripes.

use crate::secret::SecretText;
use egui::{Response, RichText, Ui};

use super::theme;
use crate::model::{Field, Finding, Severity};

/// Whether a field must be filled in; required ones are marked with `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
}

/// The label cell of a form row. Required fields get a separate `*` so the
/// accessible name stays the plain label. Returns the label's response so the
/// input can be `labelled_by` it.
pub(crate) fn field_label_ui(ui: &mut Ui, label: &str, need: Need) -> Response {
    ui.horizontal(|ui| match need {
        Need::Required => {
            let response = ui.label(label);
            ui.label(RichText::new("*").color(theme::error_color(ui.visuals()))).on_hover_text("Required");
            response
        }
        Need::Optional => ui.label(label),
    })
    .inner
}

/// The messages for `field`, under its input.
pub(crate) fn findings_ui(ui: &mut Ui, findings: &[Finding], field: Field) {
    for finding in findings.iter().filter(|f| f.field == field) {
        let color = match finding.severity {
            Severity::Error => theme::error_color(ui.visuals()),
            Severity::Warning => theme::warning_color(ui.visuals()),
        };
        ui.label(RichText::new(&finding.message).color(color));
    }
}

/// A one-line text input labelled for screen readers and tests.
pub(crate) fn text_row_ui(ui: &mut Ui, label: &str, need: Need, value: &mut String, hint: &str) -> Response {
    let label_response = field_label_ui(ui, label, need);
    hinted_input_ui(ui, egui::TextEdit::singleline(value).desired_width(f32::INFINITY), hint, &label_response)
}

/// Adds a text input labelled by `label`, with `hint` shown while it is empty and
/// also given to screen readers (egui draws a hint but does not expose it).
pub(crate) fn hinted_input_ui(ui: &mut Ui, edit: egui::TextEdit<'_>, hint: &str, label: &Response) -> Response {
    let response = ui.add(edit.hint_text(hint.to_owned())).labelled_by(label.id);
    ui.ctx().accesskit_node_builder(response.id, |node| node.set_placeholder(hint.to_owned()));
    response
}

/// A masked password input. The text is shown only while "Show" is held
/// down, so a screen-share never sees it by accident. Stored passwords are
/// never loaded into it: `stored` only changes the hint (`None`: the secret
/// store has not answered yet).
pub(crate) fn password_row_ui(
    ui: &mut Ui,
    label: &str,
    need: Need,
    value: &mut SecretText,
    stored: Option<bool>,
) -> Response {
    let label_response = field_label_ui(ui, label, need);
    let hint = match stored {
        Some(true) => "Stored — type to replace",
        Some(false) => "Not set",
        None => "Checking the secret store…",
    };
    ui.horizontal(|ui| {
        let reveal_id = ui.make_persistent_id(("reveal", label));
        let revealing = ui.data(|d| d.get_temp::<bool>(reveal_id).unwrap_or(false));
        // Leaves room for "Show" at any text size, so the grid column never grows frame after frame.
        let width = (ui.available_width() - 100.0).max(80.0);
        let edit = hinted_input_ui(
            ui,
            egui::TextEdit::singleline(&mut **value).password(!revealing).desired_width(width),
            hint,
            &label_response,
        );
        let show = ui
            .add_enabled(!value.is_empty(), egui::Button::new("Show"))
            .on_hover_text("Hold to show the password you typed");
        // Revealed only while the pointer is held down on the button.
        let held = show.is_pointer_button_down_on();
        ui.data_mut(|d| d.insert_temp(reveal_id, held));
        if held != revealing {
            ui.ctx().request_repaint();
        }
        edit
    })
    .inner
}

/// Every other row's background, for the eye to follow a row across the table:
/// one rectangle a visible row, under the cells (egui_extras stripes each cell
/// on its own — 90 rectangles for a screen of the table, ~2 ms of every frame on
/// software GL). Rows are placed as egui_extras places them: every
/// `row_height` + item spacing from the top of the body, the first one striped.
pub(crate) fn table_stripes_ui(body: &mut egui_extras::TableBody<'_>, row_height: f32, rows: usize) {
    let width: f32 = body.widths().iter().sum::<f32>();
    let columns = body.widths().len();
    let ui = body.ui_mut();
    let spacing = ui.spacing().item_spacing;
    let width = width + spacing.x * columns.saturating_sub(1) as f32;
    let step = row_height + spacing.y;
    let content = ui.available_rect_before_wrap();
    let visible = ui.clip_rect();
    let first = ((visible.top() - content.top()) / step).floor().max(0.0) as usize;
    let last = (((visible.bottom() - content.top()) / step).ceil().max(0.0) as usize + 1).min(rows);
    let fill = ui.visuals().faint_bg_color;
    for index in (first..last).filter(|index| index % 2 == 0) {
        let top = content.top() + index as f32 * step;
        let row = egui::Rect::from_min_size(egui::pos2(content.left(), top), egui::vec2(width, row_height));
        ui.painter().rect_filled(egui::emath::GuiRounding::round_ui(row.expand2(0.5 * spacing)), 0.0, fill);
    }
}
