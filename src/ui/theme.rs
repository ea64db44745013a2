//! Colours and sizes in one place; views never write a colour inline.

use egui::{Color32, Visuals};

pub fn error_color(visuals: &Visuals) -> Color32 {
    visuals.error_fg_color
}

pub fn warning_color(visuals: &Visuals) -> Color32 {
    visuals.warn_fg_color
}

pub fn pass_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(90, 200, 120) } else { Color32::from_rgb(20, 130, 50) }
}

pub fn inactive_color(visuals: &Visuals) -> Color32 {
    visuals.weak_text_color()
}

/// Background of a side-by-side field that differs from the form.
pub fn differs_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(80, 70, 20) } else { Color32::from_rgb(255, 245, 200) }
}

pub fn banner_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(90, 30, 30) } else { Color32::from_rgb(255, 228, 225) }
}

/// Height of one table row.
pub const ROW_HEIGHT: f32 = 22.0;
/// Width of the edit form beside the table.
pub const FORM_WIDTH: f32 = 520.0;
