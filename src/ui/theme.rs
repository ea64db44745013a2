//! Colours, text sizes and the look chosen in the View menu, in one place;
//! views never write a colour or a size inline. Every text colour here meets
//! WCAG AA (4.5:1) on every background it is drawn on, in both themes — the
//! unit tests below compute it — and no text is smaller than 15 px at 100 %,
//! so a viewer of a screen-share can read it.

use egui::{Color32, FontFamily, FontId, TextStyle, Visuals};
use serde::{Deserialize, Serialize};

/// Light, dark, or whatever the OS says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    FollowSystem,
    Light,
    Dark,
}

impl ThemeChoice {
    pub const ALL: [(Self, &'static str); 3] =
        [(Self::FollowSystem, "Follow the system"), (Self::Light, "Light"), (Self::Dark, "Dark")];

    fn preference(self) -> egui::ThemePreference {
        match self {
            Self::FollowSystem => egui::ThemePreference::System,
            Self::Light => egui::ThemePreference::Light,
            Self::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// Zoom steps of the View menu; "Presentation" is the large one for screen-sharing.
pub const ZOOM_NORMAL: f32 = 1.0;
pub const ZOOM_PRESENTATION: f32 = 1.4;
pub const ZOOM_MIN: f32 = 0.8;
pub const ZOOM_MAX: f32 = 2.0;
pub const ZOOM_STEP: f32 = 0.1;

/// Sizes in points (= pixels at 100 %). The smallest is 15.
pub const BODY_SIZE: f32 = 16.0;
pub const SMALL_SIZE: f32 = 15.0;
pub const HEADING_SIZE: f32 = 22.0;
/// A large, readable line (the device code, the closing message).
pub const LARGE_SIZE: f32 = 26.0;

/// Height of one table row (fits 16 px text with room to click).
pub const ROW_HEIGHT: f32 = 28.0;
/// Width of the edit form beside the table.
pub const FORM_WIDTH: f32 = 540.0;

/// Applies sizes, both themes' colours, the theme choice and the zoom.
pub fn apply(ctx: &egui::Context, theme: ThemeChoice, zoom: f32) {
    ctx.set_theme(theme.preference());
    ctx.set_zoom_factor(zoom.clamp(ZOOM_MIN, ZOOM_MAX));
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Small, FontId::new(SMALL_SIZE, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(BODY_SIZE, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(BODY_SIZE, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(SMALL_SIZE, FontFamily::Monospace)),
            (TextStyle::Heading, FontId::new(HEADING_SIZE, FontFamily::Proportional)),
        ]
        .into();
        style.spacing.interact_size.y = 26.0;
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
        // No animations: each animated frame is a whole repaint, which on software GL
        // (remote desktops, VMs — where this app is used) costs tens of milliseconds
        // of CPU, and a screen-share shows the motion only as stutter. (The scroll
        // bars' fade-in under the pointer alone drew 8 frames after the window opened.)
        style.animation_time = 0.0;
    });
    // Colours only: what the host chose for the text cursor (e.g. no blinking) is kept.
    for (theme, mut visuals) in [(egui::Theme::Dark, dark()), (egui::Theme::Light, light())] {
        visuals.text_cursor = ctx.style_of(theme).visuals.text_cursor.clone();
        ctx.set_visuals_of(theme, visuals);
    }
}

/// The dark theme: egui's, with text colours raised to AA contrast.
pub(crate) fn dark() -> Visuals {
    let mut v = Visuals::dark();
    v.panel_fill = Color32::from_gray(30);
    v.window_fill = Color32::from_gray(30);
    v.extreme_bg_color = Color32::from_gray(16);
    v.faint_bg_color = Color32::from_gray(38);
    v.widgets.noninteractive.fg_stroke.color = Color32::from_gray(225);
    v.widgets.inactive.fg_stroke.color = Color32::from_gray(235);
    v.widgets.inactive.weak_bg_fill = Color32::from_gray(62);
    v.widgets.inactive.bg_fill = Color32::from_gray(62);
    v.widgets.hovered.fg_stroke.color = Color32::WHITE;
    v.widgets.active.fg_stroke.color = Color32::WHITE;
    v.weak_text_color = Some(Color32::from_gray(175));
    v.hyperlink_color = Color32::from_rgb(120, 185, 255);
    v.warn_fg_color = Color32::from_rgb(255, 190, 90);
    v.error_fg_color = Color32::from_rgb(255, 130, 125);
    v.selection.bg_fill = Color32::from_rgb(30, 80, 140);
    v.selection.stroke.color = Color32::WHITE;
    v
}

/// The light theme: egui's, with text colours darkened to AA contrast.
pub(crate) fn light() -> Visuals {
    let mut v = Visuals::light();
    v.panel_fill = Color32::from_gray(248);
    v.window_fill = Color32::from_gray(248);
    v.extreme_bg_color = Color32::WHITE;
    v.faint_bg_color = Color32::from_gray(238);
    v.widgets.noninteractive.fg_stroke.color = Color32::from_gray(25);
    v.widgets.inactive.fg_stroke.color = Color32::from_gray(15);
    v.widgets.inactive.weak_bg_fill = Color32::from_gray(222);
    v.widgets.inactive.bg_fill = Color32::from_gray(222);
    v.widgets.hovered.fg_stroke.color = Color32::BLACK;
    v.widgets.active.fg_stroke.color = Color32::BLACK;
    v.weak_text_color = Some(Color32::from_gray(80));
    v.hyperlink_color = Color32::from_rgb(0, 80, 170);
    v.warn_fg_color = Color32::from_rgb(140, 70, 0);
    v.error_fg_color = Color32::from_rgb(175, 0, 0);
    v.selection.bg_fill = Color32::from_rgb(190, 215, 250);
    v.selection.stroke.color = Color32::BLACK;
    v
}

/// What the window clears to before each frame: the panels' colour, so the
/// panels can leave their own fill out (eframe's default is a translucent
/// near-black, for transparent windows, which this app does not use).
pub fn panel_clear_colour(visuals: &Visuals) -> [f32; 4] {
    visuals.panel_fill.to_normalized_gamma_f32()
}

pub(crate) fn error_color(visuals: &Visuals) -> Color32 {
    visuals.error_fg_color
}

pub(crate) fn warning_color(visuals: &Visuals) -> Color32 {
    visuals.warn_fg_color
}

pub(crate) fn pass_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(110, 215, 135) } else { Color32::from_rgb(0, 110, 40) }
}

pub(crate) fn inactive_color(visuals: &Visuals) -> Color32 {
    visuals.weak_text_color()
}

/// Background of a side-by-side field that differs from the form.
pub(crate) fn differs_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(70, 60, 15) } else { Color32::from_rgb(255, 245, 200) }
}

/// Background of an error or read-only banner.
pub(crate) fn banner_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(75, 25, 25) } else { Color32::from_rgb(255, 232, 230) }
}

/// Background of the step to do next in the migration checklist.
pub(crate) fn current_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(25, 55, 90) } else { Color32::from_rgb(222, 236, 255) }
}

/// Background of a success message ("Congratulations").
pub(crate) fn success_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(20, 60, 35) } else { Color32::from_rgb(225, 245, 230) }
}

/// WCAG 2 relative luminance of an sRGB colour.
#[cfg(test)]
pub(crate) fn relative_luminance(color: Color32) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(color.r()) + 0.7152 * channel(color.g()) + 0.0722 * channel(color.b())
}

/// WCAG 2 contrast ratio (1–21) between two opaque colours.
#[cfg(test)]
pub(crate) fn contrast_ratio(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_the_wcag_examples() {
        assert!((contrast_ratio(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast_ratio(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic "just passes AA" grey.
        assert!((contrast_ratio(Color32::from_gray(0x76), Color32::WHITE) - 4.54).abs() < 0.01);
    }

    /// Every text colour on every background it is drawn on, in both themes.
    #[test]
    fn every_text_colour_has_aa_contrast_on_every_background_in_both_themes() {
        for visuals in [dark(), light()] {
            let texts = [
                ("text", visuals.text_color()),
                ("weak text", visuals.weak_text_color()),
                ("button text", visuals.widgets.inactive.fg_stroke.color),
                ("error", error_color(&visuals)),
                ("warning", warning_color(&visuals)),
                ("passed", pass_color(&visuals)),
                ("link", visuals.hyperlink_color),
            ];
            let backgrounds = [
                ("panel", visuals.panel_fill),
                ("window", visuals.window_fill),
                ("text field", visuals.extreme_bg_color),
                ("striped row", visuals.faint_bg_color),
                ("differs", differs_fill(&visuals)),
                ("banner", banner_fill(&visuals)),
                ("current step", current_fill(&visuals)),
                ("success", success_fill(&visuals)),
            ];
            for (text_name, text) in texts {
                for (background_name, background) in backgrounds {
                    let ratio = contrast_ratio(text, background);
                    assert!(
                        ratio >= 4.5,
                        "{} theme: {text_name} on {background_name} is {ratio:.2}:1",
                        if visuals.dark_mode { "dark" } else { "light" }
                    );
                }
            }
            let button =
                contrast_ratio(visuals.widgets.inactive.fg_stroke.color, visuals.widgets.inactive.weak_bg_fill);
            assert!(button >= 4.5, "button label on button: {button:.2}:1");
            let selected = contrast_ratio(visuals.selection.stroke.color, visuals.selection.bg_fill);
            assert!(selected >= 4.5, "selected text: {selected:.2}:1");
        }
    }

    /// Each animated frame is a whole repaint — tens of milliseconds of CPU on
    /// software GL. (egui_kittest switches animations off itself, so this is checked
    /// on a plain context, frames 1/60 s apart as on a screen.)
    #[test]
    fn animations_end_in_the_frame_they_start() {
        let ctx = egui::Context::default();
        apply(&ctx, ThemeChoice::Light, ZOOM_NORMAL);
        let id = egui::Id::unique("an animation");
        let mut shown = Vec::new();
        for (frame, target) in [false, true, true].into_iter().enumerate() {
            let input = egui::RawInput { time: Some(frame as f64 / 60.0), ..Default::default() };
            ctx.run_ui(input, |ui| shown.push(ui.ctx().animate_bool(id, target))).textures_delta.clear();
        }
        assert_eq!(shown, [0.0, 1.0, 1.0], "an animation takes more than one frame");
        assert!(!ctx.has_requested_repaint(), "{:?}", ctx.repaint_causes());
    }

    #[test]
    fn no_text_style_is_below_15_px() {
        let ctx = egui::Context::default();
        apply(&ctx, ThemeChoice::Light, ZOOM_NORMAL);
        ctx.style_of(egui::Theme::Light).text_styles.values().for_each(|font| {
            assert!(font.size >= 15.0, "{font:?}");
        });
        ctx.style_of(egui::Theme::Dark).text_styles.values().for_each(|font| {
            assert!(font.size >= 15.0, "{font:?}");
        });
    }
}
