//! Benchmark of the window: frame time with 10,000 settings while scrolling
//! and per filter keystroke (egui_kittest, no display), repaints while idle,
//! and — with a display — start-up to first frame against a bare eframe window.
//!
//! Run with `scripts/bench`. `-- --quick` runs fewer rounds.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark fails loudly

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailsettings::model::{Config, MailSetting};
use mailsettings::store::{Secrets, Workspace};
use mailsettings::ui::MailSettingsApp;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, mailsettings::store::file::to_toml(&many_settings(10_000)).unwrap()).unwrap();
    let workspace = Workspace::open(&config_path, Secrets::file(dir.path().join("secrets.json"))).unwrap();
    let mut harness =
        Harness::builder().with_size(egui::vec2(1280.0, 720.0)).build_eframe(move |_| MailSettingsApp::new(workspace));
    harness.run();

    let frames = if quick { 30 } else { 200 };
    // Scrolling: a wheel notch per frame over the table.
    harness.hover_at(egui::pos2(300.0, 400.0));
    let scroll = measure(frames, || {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Line,
            delta: egui::vec2(0.0, -3.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
        harness.step();
    });
    // Filtering: one keystroke per frame into the filter box (the 10,000 rows are filtered each time).
    harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter").focus();
    harness.step();
    let keys = ["5", "1", "2", "\u{8}", "\u{8}", "\u{8}"];
    let mut index = 0;
    let filter = measure(frames, || {
        let key = keys[index % keys.len()];
        index += 1;
        if key == "\u{8}" {
            harness.key_press(egui::Key::Backspace);
        } else {
            harness.event(egui::Event::Text(key.to_owned()));
        }
        harness.step();
    });
    // Idle: once settled, nothing asks for another frame.
    let settled = harness.run();
    let idle_requests = (0..20)
        .filter(|_| {
            harness.step();
            let asked = harness.ctx.has_requested_repaint();
            if asked && std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!("{:?}", harness.ctx.repaint_causes());
            }
            asked
        })
        .count();

    println!("Window benchmark (egui_kittest, 1280x720, 10,000 mail settings)");
    println!("  (the egui pass of a frame: layout and input, without GPU rendering)");
    println!("  frame while scrolling      median {:>6.2} ms   p95 {:>6.2} ms   (aim <= 4 ms)", scroll.0, scroll.1);
    println!("  frame per filter keystroke median {:>6.2} ms   p95 {:>6.2} ms   (aim <= 8 ms)", filter.0, filter.1);
    println!("  repaints requested while idle: {idle_requests} of 20 frames (settled after {settled} steps; aim 0)");

    if std::env::var_os("DISPLAY").is_some() {
        let rounds = if quick { 2 } else { 7 };
        let typical = tempfile::tempdir().unwrap();
        std::fs::write(
            typical.path().join("config.toml"),
            mailsettings::store::file::to_toml(&many_settings(20)).unwrap(),
        )
        .unwrap();
        let ours_10k = median_ms((0..rounds).filter_map(|_| first_frame_ours(dir.path())).collect());
        let ours = median_ms((0..rounds).filter_map(|_| first_frame_ours(typical.path())).collect());
        let bare = std::env::var("MAILSETTINGS_BARE_WINDOW")
            .ok()
            .map(|path| median_ms((0..rounds).filter_map(|_| first_frame_bare(&path)).collect()));
        match (ours, bare) {
            (Some(ours), Some(Some(bare))) => println!(
                "  start-up to first frame: ours {ours:.0} ms, bare eframe window {bare:.0} ms, ratio {:.2}x (aim <= 1.2x)",
                ours / bare
            ),
            (Some(ours), _) => {
                println!(
                    "  start-up to first frame: ours {ours:.0} ms (set MAILSETTINGS_BARE_WINDOW for the baseline)"
                );
            }
            _ => println!("  start-up: the window did not report a first frame"),
        }
        if let Some(ours_10k) = ours_10k {
            println!("  start-up to first frame with 10,000 settings: {ours_10k:.0} ms");
        }
    } else {
        println!("  start-up: skipped (no DISPLAY; scripts/bench runs it under Xvfb)");
    }
}

fn many_settings(count: usize) -> Config {
    let mut config = Config::default();
    for n in 0..count {
        let mut setting = MailSetting {
            id: format!("s{n}"),
            description: format!("Mailbox {n} of company {}", n % 97),
            ..MailSetting::default()
        };
        setting.smtp.server = format!("smtp{}.example.com", n % 13);
        setting.imap.server = format!("imap{}.example.com", n % 11);
        setting.smtp.send_as = format!("ar{n}@example.com");
        setting.active = n % 5 != 0;
        config.mail_settings.push(setting);
    }
    config
}

/// Median and 95th percentile, in ms.
fn measure(frames: usize, mut frame: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..frames)
        .map(|_| {
            let started = Instant::now();
            frame();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[(times.len() * 95 / 100).min(times.len() - 1)])
}

fn median_ms(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// Launches the app and reads "first frame after N ms" from its log.
fn first_frame_ours(dir: &std::path::Path) -> Option<f64> {
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailsettings"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", dir.join("secrets.json").display()))
        .env("XDG_DATA_HOME", &data)
        .env("MAILSETTINGS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let log = data.join("mailsettings/mailsettings.log");
    let started = Instant::now();
    let mut found = None;
    while started.elapsed() < Duration::from_secs(20) && found.is_none() {
        std::thread::sleep(Duration::from_millis(20));
        found = std::fs::read_to_string(&log).ok().and_then(|text| parse_first_frame(&text));
    }
    let _ = child.kill();
    let _ = child.wait();
    found
}

fn first_frame_bare(path: &str) -> Option<f64> {
    let output = Command::new(path).output().ok()?;
    parse_first_frame(&String::from_utf8_lossy(&output.stderr))
}

fn parse_first_frame(text: &str) -> Option<f64> {
    let rest = text.split("first frame after ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}
