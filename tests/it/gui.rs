//! The real app, driven headless by egui_kittest through its accessible
//! labels, as an admin would: add a record through the form, see validation,
//! save, find it in the table.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mailsettings::store::{Secrets, Workspace};
use mailsettings::ui::MailSettingsApp;

use crate::support::{CANARY, SAMPLE, Sandbox, all_files_text};

fn harness(sandbox: &Sandbox) -> Harness<'static, MailSettingsApp> {
    let workspace = Workspace::open_or_read_only(&sandbox.config(), Secrets::file(sandbox.secrets_file()));
    let mut harness =
        Harness::builder().with_size(egui::vec2(1280.0, 720.0)).build_eframe(move |_| MailSettingsApp::new(workspace));
    harness.run();
    harness
}

/// The text or password input labelled `label`.
fn input<'h>(harness: &'h Harness<'_, MailSettingsApp>, label: &'h str) -> egui_kittest::Node<'h> {
    harness.get_by(move |node| {
        matches!(node.role(), Role::TextInput | Role::PasswordInput)
            && node.labelled_by().any(|labeller| labeller.value().as_deref() == Some(label))
    })
}

/// Focuses the input labelled `label` and types `text` into it.
fn fill(harness: &mut Harness<'_, MailSettingsApp>, label: &str, text: &str) {
    input(harness, label).focus();
    harness.run();
    input(harness, label).type_text(text);
    harness.run();
}

fn click(harness: &mut Harness<'_, MailSettingsApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.run();
}

fn fill_valid_basic_record(harness: &mut Harness<'_, MailSettingsApp>) {
    fill(harness, "Description", "Collections test");
    fill(harness, "Subject Tag", "[TEST-AR]");
    fill(harness, "Outgoing server", "smtp.example.com");
    fill(harness, "Send-as address", "collections@example.com");
    fill(harness, "From name", "Example AR Team");
    fill(harness, "Outgoing user name", "collections@example.com");
    fill(harness, "Outgoing user domain", "example.com");
    fill(harness, "Outgoing password", CANARY);
    fill(harness, "Incoming server", "imap.example.com");
    fill(harness, "Incoming user name", "replies@example.com");
    fill(harness, "Incoming user domain", "example.com");
    fill(harness, "Incoming password", CANARY);
}

#[test]
fn add_a_record_through_the_form_save_and_see_it_in_the_table() {
    let sandbox = Sandbox::new();
    let mut harness = harness(&sandbox);
    assert!(harness.query_by_label_contains("No mail settings yet").is_some());
    click(&mut harness, "+ Add new record Ctrl+N");
    fill_valid_basic_record(&mut harness);
    click(&mut harness, "Save Ctrl+S");

    assert!(harness.query_by_label_contains("Saved \"Collections test\"").is_some(), "a saved notice");
    assert!(harness.query_by_role_and_label(Role::TextInput, "Description").is_none(), "the form closed");
    harness.get_by_label("Collections test"); // the row in the table
    assert!(harness.query_by_label("smtp.example.com").is_some());
    assert!(harness.query_by_label("1 mail setting(s)").is_some());

    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(config.contains("id = \"collections-test\""), "{config}");
    assert!(config.contains("inbox_folder = \"Inbox\""));
    for (path, text) in all_files_text(sandbox.dir.path()) {
        if path != sandbox.secrets_file() {
            assert!(!text.contains(CANARY), "canary in {}", path.display());
        }
    }
    let stored = Secrets::file(sandbox.secrets_file()).stored_passwords("collections-test").unwrap();
    assert!(stored.smtp && stored.imap);
}

#[test]
fn validation_messages_appear_beside_the_fields_and_block_save() {
    let sandbox = Sandbox::new();
    let mut harness = harness(&sandbox);
    click(&mut harness, "+ Add new record Ctrl+N");
    fill(&mut harness, "Send-as address", "collections@example.com");
    fill(&mut harness, "Outgoing user domain", "other.com");
    assert!(
        harness
            .query_by_label("User domain \"other.com\" must match the domain of the send-as address, \"example.com\"")
            .is_some(),
        "a live domain-mismatch message"
    );
    fill(&mut harness, "Outgoing port", "x");
    assert!(harness.query_by_label_contains("between 1 and 65535").is_some());
    assert!(harness.query_by_label("Description is required").is_none(), "no noise before the first Save");

    click(&mut harness, "Save Ctrl+S");
    assert!(harness.query_by_label("Description is required").is_some());
    assert!(harness.query_by_label_contains("problem(s) marked above").is_some());
    assert!(!sandbox.config().exists(), "nothing was written");
}

#[test]
fn a_company_default_cannot_be_made_inactive_and_the_message_names_the_companies() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    click(&mut harness, "Cancel Esc");
    click(&mut harness, "Collections (Basic)");
    fill(&mut harness, "Outgoing password", CANARY);
    fill(&mut harness, "Incoming password", CANARY);
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    harness.run();
    click(&mut harness, "Save Ctrl+S");
    assert!(
        harness.query_by_label_contains("default mail setting for companies \"acme\" and \"globex\"").is_some(),
        "the guard's message is shown"
    );
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE);
}

#[test]
fn delete_then_undo_brings_the_setting_back() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    click(&mut harness, "Delete");
    assert!(harness.query_by_label("Collections (Microsoft 365)").is_none());
    assert!(harness.query_by_label("Deleted \"new-m365\"").is_some());
    click(&mut harness, "Undo");
    harness.get_by_label("Collections (Microsoft 365)");
    assert!(std::fs::read_to_string(sandbox.config()).unwrap().contains("new-m365"));
}

#[test]
fn unsaved_changes_are_not_dropped_without_asking() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    fill(&mut harness, "From name", " changed");
    click(&mut harness, "Cancel Esc");
    assert!(harness.query_by_label("Discard your changes?").is_some());
    click(&mut harness, "Keep editing");
    assert!(harness.query_by_role_and_label(Role::TextInput, "From name").is_some());
    click(&mut harness, "Cancel Esc");
    click(&mut harness, "Discard changes");
    assert!(harness.query_by_role_and_label(Role::TextInput, "From name").is_none());
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE);
}

#[test]
fn a_malformed_file_opens_read_only_with_line_and_column() {
    let sandbox = Sandbox::new();
    let broken = "format = \"mailsettings/1\"\n[[mail_setting]]\nid = 5 5\n";
    std::fs::write(sandbox.config(), broken).unwrap();
    let mut harness = harness(&sandbox);
    assert!(harness.query_by_label_contains("Read-only").is_some());
    assert!(harness.query_by_label_contains("line 3, column").is_some());
    harness.get_by_label("+ Add new record Ctrl+N").click();
    harness.run();
    assert!(harness.query_by_role_and_label(Role::TextInput, "Description").is_none(), "no form in read-only mode");
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), broken);
}

#[test]
fn stored_passwords_are_never_put_on_screen() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let secrets = Secrets::file(sandbox.secrets_file());
    secrets
        .set("old-basic", mailsettings::store::SecretKind::SmtpPassword, &mailsettings::Secret::new(CANARY))
        .unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Basic)");
    let password = input(&harness, "Outgoing password");
    assert_eq!(password.accesskit_node().role(), Role::PasswordInput);
    assert_ne!(password.value().as_deref(), Some(CANARY));
    assert!(harness.query_by_label_contains(CANARY).is_none());
    assert!(harness.query_by_value(CANARY).is_none());
}
