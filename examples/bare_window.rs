//! The baseline for the start-up benchmark: a bare eframe window with the
//! same renderer and options as Mail Settings. The benchmark times it from
//! launch to its first painted pixel, then closes it; it prints the time to
//! its first frame for a quick look by hand.
#![allow(clippy::print_stderr)]

use std::time::Instant;

fn main() -> eframe::Result {
    let started = Instant::now();
    let mut reported = false;
    eframe::run_ui_native("Bare window", mailsettings::ui::native_options(), move |ui, _frame| {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("A bare eframe window");
        });
        if !reported {
            reported = true;
            eprintln!("first frame after {} ms", started.elapsed().as_millis());
        }
    })
}
