//! "Compare with": the setting being replaced, read-only beside the form, with
//! differing fields marked, "Use" to copy a value across and "Use all" for the whole
//! mailbox; and on a new record, "Copy from" an Active Basic setting — nothing the
//! old setting holds is typed twice.

use egui::{RichText, Ui};

use super::EditForm;
use crate::model::{Config, Field, MailSetting};
use crate::ui::commands::FormCommand;
use crate::ui::commands::{Command, CommandQueue};

/// One row of the side-by-side comparison.
struct CompareField {
    field: Field,
    get: fn(&MailSetting) -> String,
    set: fn(&mut MailSetting, &MailSetting),
}

const COMPARE_FIELDS: &[CompareField] = &[
    CompareField {
        field: Field::SubjectTag,
        get: |s| s.subject_tag.clone(),
        set: |d, o| d.subject_tag = o.subject_tag.clone(),
    },
    CompareField {
        field: Field::SmtpServer,
        get: |s| s.smtp.server.clone(),
        set: |d, o| d.smtp.server = o.smtp.server.clone(),
    },
    CompareField { field: Field::SmtpPort, get: |s| s.smtp.port.to_string(), set: |d, o| d.smtp.port = o.smtp.port },
    CompareField {
        field: Field::SmtpSecurity,
        get: |s| s.smtp.security.label().to_owned(),
        set: |d, o| d.smtp.security = o.smtp.security,
    },
    CompareField {
        field: Field::SmtpSendAs,
        get: |s| s.smtp.send_as.clone(),
        set: |d, o| d.smtp.send_as = o.smtp.send_as.clone(),
    },
    CompareField {
        field: Field::SmtpFromName,
        get: |s| s.smtp.from_name.clone(),
        set: |d, o| d.smtp.from_name = o.smtp.from_name.clone(),
    },
    CompareField {
        field: Field::SmtpUserName,
        get: |s| s.smtp.user_name.clone(),
        set: |d, o| d.smtp.user_name = o.smtp.user_name.clone(),
    },
    CompareField {
        field: Field::SmtpUserDomain,
        get: |s| s.smtp.user_domain.clone(),
        set: |d, o| d.smtp.user_domain = o.smtp.user_domain.clone(),
    },
    CompareField {
        field: Field::ImapServer,
        get: |s| s.imap.server.clone(),
        set: |d, o| d.imap.server = o.imap.server.clone(),
    },
    CompareField { field: Field::ImapPort, get: |s| s.imap.port.to_string(), set: |d, o| d.imap.port = o.imap.port },
    CompareField {
        field: Field::ImapSecurity,
        get: |s| s.imap.security.label().to_owned(),
        set: |d, o| d.imap.security = o.imap.security,
    },
    CompareField {
        field: Field::ImapInboxFolder,
        get: |s| s.imap.inbox_folder.clone(),
        set: |d, o| d.imap.inbox_folder = o.imap.inbox_folder.clone(),
    },
    CompareField {
        field: Field::ImapSentFolder,
        get: |s| s.imap.sent_folder.clone(),
        set: |d, o| d.imap.sent_folder = o.imap.sent_folder.clone(),
    },
    CompareField {
        field: Field::ImapUserName,
        get: |s| s.imap.user_name.clone(),
        set: |d, o| d.imap.user_name = o.imap.user_name.clone(),
    },
    CompareField {
        field: Field::ImapUserDomain,
        get: |s| s.imap.user_domain.clone(),
        set: |d, o| d.imap.user_domain = o.imap.user_domain.clone(),
    },
];

impl EditForm {
    /// "Compare with": the setting being replaced, shown read-only beside the form.
    pub(super) fn compare_picker_ui(
        &self,
        ui: &mut Ui,
        config: &Config,
        commands: &mut CommandQueue,
        current: Option<&str>,
    ) {
        let own = self.editing_id();
        ui.horizontal(|ui| {
            let label = ui.label("Compare with");
            let selected = current
                .and_then(|id| config.setting(id))
                .map_or_else(|| "Nothing".to_owned(), |s| s.description.clone());
            egui::ComboBox::from_id_salt("compare_with")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(current.is_none(), "Nothing").clicked() {
                        commands.send(Command::Form(FormCommand::CompareWith(None)));
                    }
                    let mut others: Vec<(&str, &str)> = config
                        .mail_settings
                        .iter()
                        .filter(|s| Some(s.id.as_str()) != own)
                        .map(|s| (s.id.as_str(), s.description.as_str()))
                        .collect();
                    crate::ui::table::sort_by_name(&mut others);
                    for (id, description) in others {
                        if ui.selectable_label(current == Some(id), description).clicked() {
                            commands.send(Command::Form(FormCommand::CompareWith(Some(id.into()))));
                        }
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text("Show the setting being replaced beside this one, to copy its values across");
        });
    }

    /// On a new record, while Basic settings exist: their mailbox fields copied in
    /// one click (the guide's "+ Add new record" beside the old setting), the
    /// description renamed for the new sign-in; servers and sign-in stay the new ones.
    pub(super) fn copy_from_ui(&mut self, ui: &mut Ui, config: &Config) {
        if !self.is_new() {
            return;
        }
        let mut basic: Vec<&MailSetting> = config.mail_settings.iter().filter(|s| !s.uses_oauth()).collect();
        basic.sort_by_key(|s| (!s.active, s.description.to_lowercase()));
        if basic.is_empty() {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Replacing a Basic setting?");
            ui.menu_button("Copy from…", |ui| {
                for old in basic {
                    let state = if old.active { "" } else { " (Inactive)" };
                    if ui.button(format!("{}{state}", old.description)).clicked() {
                        self.copy_mailbox_from(old);
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Copies its subject tag, addresses, names, user names, domains and folders — not its servers or sign-in");
        });
    }

    /// `old`'s mailbox into the draft; a new record also takes its description, renamed.
    fn copy_mailbox_from(&mut self, old: &MailSetting) {
        crate::migration::copy_mailbox_fields(&mut self.draft, old);
        if self.is_new() {
            let sign_in = crate::model::providers::for_credential(self.draft.credential)
                .filter(|_| self.draft.uses_oauth())
                .map_or("OAuth", |provider| provider.name);
            self.draft.description = crate::migration::replacement_description(old, sign_in);
        }
        self.smtp_port_text = self.draft.smtp.port.to_string();
        self.imap_port_text = self.draft.imap.port.to_string();
    }

    /// The setting being replaced, read-only, with differing fields marked and
    /// a "Use" button per field that copies its value into the form.
    pub(crate) fn compare_ui(&mut self, ui: &mut Ui, old: &MailSetting) {
        ui.heading(format!("Compare: \"{}\"", old.description));
        ui.add(
            egui::Label::new(
                RichText::new("Read-only. Fields that differ are marked; \"Use\" copies a value into the form.").weak(),
            )
            .wrap(),
        );
        let use_all = ui.button("Use all").on_hover_text(
            "Copies the mailbox: subject tag, addresses, names, user names, domains and folders — not servers or sign-in",
        );
        if use_all.clicked() {
            self.copy_mailbox_from(old);
        }
        ui.separator();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            egui::Grid::new("compare").num_columns(3).spacing([10.0, 6.0]).show(ui, |ui| {
                let mut section = None;
                for field in COMPARE_FIELDS {
                    // Grouped as the form is, so each row says the form's words.
                    if field.field.section() != section {
                        section = field.field.section();
                        if let Some(title) = section {
                            ui.label(RichText::new(title).strong());
                            ui.end_row();
                        }
                    }
                    let theirs = (field.get)(old);
                    let ours = (field.get)(&self.draft);
                    let differs = theirs != ours;
                    ui.label(field.field.label());
                    let text = if theirs.is_empty() { "—".to_owned() } else { theirs.clone() };
                    if differs {
                        egui::Frame::new().fill(crate::ui::theme::differs_fill(ui.visuals())).inner_margin(2.0).show(
                            ui,
                            |ui| {
                                ui.label(RichText::new(text).strong()).on_hover_text("Differs from the form");
                            },
                        );
                    } else {
                        ui.label(text);
                    }
                    let copy = ui.add_enabled(differs, egui::Button::new("Use"));
                    let copy = copy.on_hover_text(format!("Copy the old {} into the form", field.field.name()));
                    if copy.clicked() {
                        (field.set)(&mut self.draft, old);
                        self.smtp_port_text = self.draft.smtp.port.to_string();
                        self.imap_port_text = self.draft.imap.port.to_string();
                    }
                    ui.end_row();
                }
            });
        });
    }
}
