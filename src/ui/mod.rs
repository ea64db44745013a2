//! The Mail Settings window (eframe). Views read the workspace and send
//! [`commands::Command`]s; the app runs them once per frame. Nothing here
//! opens a socket or writes a file except through the core.

pub mod alerts_panel;
pub mod app;
pub mod bridge_view;
pub mod commands;
pub mod companies;
pub mod form;
pub mod health_view;
pub mod jobs;
pub mod log_view;
pub mod migration_view;
pub mod report_view;
pub mod sign_in_apps;
pub mod startup;
pub mod table;
pub mod theme;
pub mod welcome;
pub mod widgets;

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

pub use app::MailSettingsApp;

use crate::store::{Secrets, Workspace, resolve_config_path};

/// The app id: the desktop file's name, so the window groups with its launcher.
pub const APP_ID: &str = "mailsettings";
pub const WINDOW_TITLE: &str = "Mail Settings";

/// The window and taskbar icon, from `assets/`.
const ICON_PNG: &[u8] = include_bytes!("../../assets/icon-256.png");

pub fn native_options() -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default();
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(err) => tracing::warn!("the window icon could not be decoded: {err}"),
    }
    eframe::NativeOptions {
        // glow: on software GL (remote desktops, VMs) frames are ~4x faster than wgpu, and the binary smaller.
        renderer: eframe::Renderer::Glow,
        viewport: viewport
            .with_title(WINDOW_TITLE)
            .with_app_id(APP_ID)
            .with_inner_size([1280.0, 720.0])
            // Every control stays reachable with the mouse down to this size.
            .with_min_inner_size([1024.0, 640.0]),
        ..Default::default()
    }
}

/// Whether the config file is big enough (about 2,000 settings) that reading it
/// can take longer than making the window — the size from which it is also kept
/// in the parse cache.
fn config_is_large(config: Option<&Path>) -> bool {
    let large = crate::store::parse_cache::ParseCache::WORTH_CACHING_FROM as u64;
    resolve_config_path(config).ok().and_then(|path| std::fs::metadata(path).ok()).is_some_and(|m| m.len() >= large)
}

/// Opens the workspace for the window: a file that cannot be read opens
/// read-only, with the reason on screen.
pub(crate) fn open_workspace(config: Option<&Path>) -> Result<Workspace, crate::store::WorkspaceError> {
    let path = resolve_config_path(config)?;
    let secrets = Secrets::from_env()?;
    Ok(Workspace::open_or_read_only(&path, secrets))
}

/// Runs the window until it is closed. The config is read on its own thread
/// while the window and its GL context are created: only the first frame waits for it.
pub fn run(config: Option<&Path>, log_file: Option<&Path>, launched: std::time::Instant) -> ExitCode {
    let config = config.map(Path::to_path_buf);
    let (loaded, loading) = std::sync::mpsc::sync_channel(1);
    let woken: Arc<OnceLock<egui::Context>> = Arc::default();
    let (config_for_thread, woken_by_thread) = (config.clone(), woken.clone());
    let read_config = move || {
        let spawned = std::thread::Builder::new().name("config-load".to_owned()).spawn(move || {
            let _ = loaded.send(open_workspace(config_for_thread.as_deref()));
            if let Some(ctx) = woken_by_thread.get() {
                ctx.request_repaint();
            }
        });
        if let Err(err) = spawned {
            tracing::warn!("the config is read on the main thread: {err}");
        }
    };
    let mut options = native_options();
    // When the reading starts (both measured under Xvfb): a small config is read
    // once the event loop exists, as the window is made — while a process has one
    // thread, glibc skips locking in stdio and malloc, and opening the X input
    // method reads the locale's Compose file a character at a time (10 ms more with
    // a second thread alive). A large one (thousands of settings) is read from the
    // start: its parse is then the longest step, and those 20 ms of overlap count more.
    if config_is_large(config.as_deref()) {
        read_config();
    } else {
        options.window_builder = Some(Box::new(move |viewport| {
            read_config();
            viewport
        }));
    }
    tracing::info!(log = ?log_file, "starting the window");
    let result = eframe::run_native(
        WINDOW_TITLE,
        options,
        Box::new(move |creation| {
            let prefs = app::load_preferences(creation.storage);
            let app = startup::StartupApp::new(&creation.egui_ctx, loading, &woken, prefs, launched, config)?;
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("the window could not start: {err}");
            eprintln!("mailsettings: the window could not start: {err}");
            if cfg!(windows) {
                tell_the_window_could_not_start(&err.to_string(), log_file);
            }
            ExitCode::from(1)
        }
    }
}

/// What tells a second start of this program to show why the window could not open, and nothing else.
const START_FAILURE_ENV: &str = "MAILSETTINGS_START_FAILURE";

/// On Windows the window binary has no console: a window that cannot open would
/// otherwise end without a word after a double-click. The usual cause there is a
/// computer without OpenGL 2 (a remote desktop or a virtual machine without a
/// graphics driver): say so in a message box, with the way that still works. The box
/// is shown by a second start of this program: in this process the failed window
/// stays behind, and a message box made beside it waits for it forever (seen under Wine).
fn tell_the_window_could_not_start(reason: &str, log_file: Option<&Path>) {
    // glutin's own words list its whole config template: the log keeps them.
    let reason = if reason.contains("glutin") {
        "the graphics driver offers no OpenGL configuration to draw with"
    } else {
        reason
    };
    let log = log_file.map(|path| format!("\n\nDetails are in {}.", path.display())).unwrap_or_default();
    let text = format!(
        "Mail Settings could not open its window: {reason}\n\nThe window needs OpenGL 2 or later. On a remote \
         desktop or a virtual machine without a graphics driver, install the graphics driver or open Mail Settings \
         on the computer itself. The commands work without a window: mailsettings-cli --help.{log}"
    );
    let shown = std::env::current_exe()
        .and_then(|program| std::process::Command::new(program).env(START_FAILURE_ENV, text).status());
    if let Err(err) = shown {
        tracing::warn!("the message that the window could not start was not shown: {err}");
    }
}

/// When this start is only to show why the window could not open: shows it and says so.
pub(crate) fn show_start_failure_if_asked() -> bool {
    let Some(text) = std::env::var_os(START_FAILURE_ENV) else { return false };
    rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Mail Settings could not start")
        .set_description(text.to_string_lossy())
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
    true
}
