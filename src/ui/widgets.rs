//! Small reusable widgets: labelled fields with their validation messages,
//! and the masked password field.

use egui::{Response, RichText, Ui};
use zeroize::Zeroizing;

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
pub fn field_label_ui(ui: &mut Ui, label: &str, need: Need) -> Response {
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
pub fn findings_ui(ui: &mut Ui, findings: &[Finding], field: Field) {
    for finding in findings.iter().filter(|f| f.field == field) {
        let color = match finding.severity {
            Severity::Error => theme::error_color(ui.visuals()),
            Severity::Warning => theme::warning_color(ui.visuals()),
        };
        ui.label(RichText::new(&finding.message).color(color));
    }
}

/// A one-line text input labelled for screen readers and tests.
pub fn text_row_ui(ui: &mut Ui, label: &str, need: Need, value: &mut String, hint: &str) -> Response {
    let label_response = field_label_ui(ui, label, need);
    hinted_input_ui(ui, egui::TextEdit::singleline(value).desired_width(f32::INFINITY), hint, &label_response)
}

/// Adds a text input labelled by `label`, with `hint` shown while it is empty and
/// also given to screen readers (egui draws a hint but does not expose it).
pub fn hinted_input_ui(ui: &mut Ui, edit: egui::TextEdit<'_>, hint: &str, label: &Response) -> Response {
    let response = ui.add(edit.hint_text(hint.to_owned())).labelled_by(label.id);
    ui.ctx().accesskit_node_builder(response.id, |node| node.set_placeholder(hint.to_owned()));
    response
}

/// A masked password input. The text is shown only while "Show" is held
/// down, so a screen-share never sees it by accident. Stored passwords are
/// never loaded into it: `stored` only changes the hint (`None`: the secret
/// store has not answered yet).
pub fn password_row_ui(
    ui: &mut Ui,
    label: &str,
    need: Need,
    value: &mut Zeroizing<String>,
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
