//! The window while the config is still being read: a large config (thousands
//! of settings) can take longer to read than the window takes to appear, so the
//! window shows that it is reading instead of staying blank, then becomes the
//! app. A small config is read before the window is ready and never shows this.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, OnceLock};

use egui::Ui;

use super::app::{MailSettingsApp, Preferences};
use crate::store::Workspace;

/// The answer of the config-reading thread.
pub type Loaded = Result<Workspace, crate::store::WorkspaceError>;

/// The window's app: reading, then the Mail Settings app.
pub struct StartupApp {
    reading: Option<Reading>,
    app: Option<Box<MailSettingsApp>>,
}

impl std::fmt::Debug for StartupApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartupApp").field("reading", &self.reading.is_some()).finish_non_exhaustive()
    }
}

struct Reading {
    loading: Receiver<Loaded>,
    prefs: Preferences,
    launched: std::time::Instant,
    /// The file, for the fallback when the reading thread ended without an answer.
    config: Option<PathBuf>,
    failed: Option<String>,
}

impl StartupApp {
    /// The app for the window: ready at once when the config has been read.
    /// `woken` is where the reading thread finds the context to wake when it is done.
    pub fn new(
        ctx: &egui::Context,
        loading: Receiver<Loaded>,
        woken: &Arc<OnceLock<egui::Context>>,
        prefs: Preferences,
        launched: std::time::Instant,
        config: Option<PathBuf>,
    ) -> Result<Self, crate::store::WorkspaceError> {
        // Set before asking, so a reading that ends after the question wakes the window.
        let _ = woken.set(ctx.clone());
        let mut reading = Reading { loading, prefs, launched, config, failed: None };
        match reading.poll() {
            Some(Ok(workspace)) => Ok(Self { reading: None, app: Some(Box::new(reading.into_app(workspace, ctx))) }),
            Some(Err(err)) => Err(err),
            None => {
                super::theme::apply(ctx, reading.prefs.theme, reading.prefs.zoom);
                tracing::info!("the window is up before the config is read: it says it is reading");
                Ok(Self { reading: Some(reading), app: None })
            }
        }
    }
}

impl Reading {
    /// The thread's answer, once; a thread that ended without one is replaced by
    /// reading here.
    fn poll(&mut self) -> Option<Loaded> {
        if self.failed.is_some() {
            return None;
        }
        match self.loading.try_recv() {
            Ok(loaded) => Some(loaded),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(super::open_workspace(self.config.as_deref())),
        }
    }

    fn into_app(self, workspace: Workspace, ctx: &egui::Context) -> MailSettingsApp {
        tracing::info!(config = %workspace.path().display(), "config read");
        MailSettingsApp::with_preferences(workspace, self.prefs)
            .with_launch_time(self.launched)
            .on_cleared_background()
            .styled_for(ctx)
    }
}

impl eframe::App for StartupApp {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        match self.reading.as_mut().and_then(Reading::poll) {
            Some(Ok(workspace)) => {
                if let Some(reading) = self.reading.take() {
                    self.app = Some(Box::new(reading.into_app(workspace, ui.ctx())));
                }
            }
            Some(Err(err)) => {
                if let Some(reading) = &mut self.reading {
                    reading.failed = Some(err.to_string());
                }
            }
            None => {}
        }
        match (&mut self.app, &self.reading) {
            (Some(app), _) => app.ui(ui, frame),
            (None, Some(reading)) => reading_ui(ui, reading.failed.as_deref()),
            (None, None) => {}
        }
    }

    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        super::theme::panel_clear_colour(visuals)
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Some(app) = &mut self.app {
            app.save(storage);
        }
    }
}

fn reading_ui(ui: &mut Ui, failed: Option<&str>) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.centered_and_justified(|ui| match failed {
            Some(err) => ui.label(format!("The mail settings could not be read: {err}")),
            None => ui.label("Reading the mail settings…"),
        });
    });
    if failed.is_none() {
        // The reading thread wakes the window when it is done; this is only the fallback
        // (a frame drawn meanwhile would take the CPU the reading needs).
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
    }
}
