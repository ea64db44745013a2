//! The real app, driven headless by egui_kittest through its accessible
//! labels, as an admin would: add a record through the form, see validation,
//! save, find it in the table.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mailsettings::model::setting::Transport;
use mailsettings::store::{Secrets, Workspace};
use mailsettings::ui::MailSettingsApp;

use crate::support::{CANARY, SAMPLE, Sandbox, all_files_text};

fn harness(sandbox: &Sandbox) -> Harness<'static, MailSettingsApp> {
    harness_for(Workspace::open_or_read_only(&sandbox.config(), Secrets::file(sandbox.secrets_file())))
}

fn harness_for(workspace: Workspace) -> Harness<'static, MailSettingsApp> {
    harness_at(workspace, egui::vec2(1280.0, 720.0))
}

/// The window at `size` (1024×640 is the smallest it allows).
fn harness_at(workspace: Workspace, size: egui::Vec2) -> Harness<'static, MailSettingsApp> {
    let mut harness = Harness::builder()
        .with_size(size)
        // kittest's default budget: a UI that needs more frames than this to settle
        // is animating or waiting, and `settle` waits for jobs in real time instead.
        .with_max_steps(4)
        .build_eframe(move |_| MailSettingsApp::new(workspace));
    // Let the start-up connection scan (a background thread, started once the first
    // frame is painted) report before the test clicks.
    harness.step();
    settle(&mut harness);
    harness
}

/// Lets the background jobs an action started finish in real time (their threads do
/// not run on the harness's steps, and a slow machine needs more frames than a fast
/// one), then runs the UI until it is idle. A job's last event can come in while the
/// frames run (a loaded machine): then it waits and runs them again.
fn settle(harness: &mut Harness<'_, MailSettingsApp>) {
    harness.step();
    let started = std::time::Instant::now();
    loop {
        while harness.state().is_busy() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "background jobs still running after 30 s");
            std::thread::sleep(std::time::Duration::from_millis(10));
            harness.step();
        }
        match harness.try_run() {
            Ok(_) if !harness.state().is_busy() => return,
            outcome => assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the window did not settle within 30 s: {outcome:?}"
            ),
        }
    }
}

/// The form's sections, as the guide names them: fields such as "Server Name"
/// and "Port" are found under their section.
pub const OUTGOING: &str = "Outgoing SMTP Settings";
pub const INCOMING: &str = "Incoming IMAP Settings";

fn is_input_labelled(node: &egui_kittest::kittest::AccessKitNode<'_>, label: &str) -> bool {
    matches!(node.role(), Role::TextInput | Role::PasswordInput)
        && node.labelled_by().any(|labeller| labeller.value().as_deref() == Some(label))
}

/// The text or password input labelled `label` (a label used once in the window).
fn input<'h>(harness: &'h Harness<'_, MailSettingsApp>, label: &'h str) -> egui_kittest::Node<'h> {
    harness.get_by(move |node| is_input_labelled(node, label))
}

/// The section (a named group) of the form.
fn section<'h>(harness: &'h Harness<'_, MailSettingsApp>, name: &'h str) -> egui_kittest::Node<'h> {
    harness.get_by(move |node| node.role() == Role::Group && node.label().as_deref() == Some(name))
}

/// The input labelled `label` in the form's section `name`.
fn input_in<'h>(harness: &'h Harness<'_, MailSettingsApp>, name: &'h str, label: &'h str) -> egui_kittest::Node<'h> {
    section(harness, name).get_by(move |node| is_input_labelled(node, label))
}

/// Focuses the input labelled `label` and types `text` into it.
fn fill(harness: &mut Harness<'_, MailSettingsApp>, label: &str, text: &str) {
    input(harness, label).focus();
    settle(harness);
    input(harness, label).type_text(text);
    settle(harness);
}

/// Like [`fill`], for a field of a form section.
fn fill_in(harness: &mut Harness<'_, MailSettingsApp>, name: &str, label: &str, text: &str) {
    input_in(harness, name, label).focus();
    settle(harness);
    input_in(harness, name, label).type_text(text);
    settle(harness);
}

fn click(harness: &mut Harness<'_, MailSettingsApp>, label: &str) {
    harness.get_by_label(label).click();
    settle(harness);
}

/// Presses a button through AccessKit (works while it is scrolled out of view).
fn press(harness: &mut Harness<'_, MailSettingsApp>, label: &str) {
    harness.get_by_role_and_label(Role::Button, label).click_accesskit();
    harness.step();
}

/// Chooses `credential` in the form's Credential Type drop-down.
fn choose_credential(harness: &mut Harness<'_, MailSettingsApp>, credential: &str) {
    choose(harness, "Credential Type", credential);
}

/// Chooses `option` in the form's drop-down labelled `label`.
fn choose(harness: &mut Harness<'_, MailSettingsApp>, label: &str, option: &str) {
    let combo = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == Role::ComboBox && n.labelled_by().any(|l| l.value().as_deref() == Some(label))
    };
    // Scrolled into view first, as a person scrolls the form to the row.
    harness.get_by(combo).scroll_to_me();
    settle(harness);
    harness.get_by(combo).click();
    settle(harness);
    harness.get_all_by_label(option).last().unwrap().click();
    settle(harness);
}

fn fill_valid_basic_record(harness: &mut Harness<'_, MailSettingsApp>) {
    choose_credential(harness, "Basic (password)");
    fill(harness, "Description", "Collections test");
    fill(harness, "Subject Tag", "[TEST-AR]");
    fill_in(harness, OUTGOING, "Server Name", "smtp.example.com");
    fill(harness, "Default Send as Email", "collections@example.com");
    fill(harness, "From Name", "Example AR Team");
    fill(harness, "(From) User Name", "collections@example.com");
    fill(harness, "(From) User Domain", "example.com");
    fill_in(harness, OUTGOING, "Password", CANARY);
    fill_in(harness, INCOMING, "Server Name", "imap.example.com");
    fill(harness, "User Name", "replies@example.com");
    fill(harness, "User Domain", "example.com");
    fill_in(harness, INCOMING, "Password", CANARY);
}

#[test]
fn add_a_record_through_the_form_save_and_see_it_in_the_table() {
    let sandbox = Sandbox::new();
    let mut harness = harness(&sandbox);
    assert!(harness.query_by_label("Welcome to Mail Settings").is_some(), "an empty config opens on the welcome");
    click(&mut harness, "+ Add new record Ctrl+N");
    fill_valid_basic_record(&mut harness);
    click(&mut harness, "Save Ctrl+S");

    assert!(harness.query_by_label_contains("Saved \"Collections test\"").is_some(), "a saved notice");
    // The form stays on the saved setting (Connect and the tests are one click away).
    assert!(harness.query_by_label("Edit \"Collections test\"").is_some(), "the form shows the saved setting");
    harness.get_by_role_and_label(Role::Button, "Collections test"); // the row in the table
    assert!(harness.query_all_by_label("Basic (password)").count() >= 1, "the credential type in the table and form");
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
    fill(&mut harness, "Default Send as Email", "collections@example.com");
    fill(&mut harness, "(From) User Domain", "other.com");
    assert!(
        harness
            .query_by_label(
                "(From) User Domain \"other.com\" must match the domain of the Default Send as Email, \"example.com\"",
            )
            .is_some(),
        "a live domain-mismatch message"
    );
    fill_in(&mut harness, OUTGOING, "Port", "x");
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
    fill_in(&mut harness, OUTGOING, "Password", CANARY);
    fill_in(&mut harness, INCOMING, "Password", CANARY);
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    settle(&mut harness);
    click(&mut harness, "Save Ctrl+S");
    // The guide's order (Inactive before the defaults move) is offered, naming the companies.
    assert!(harness.query_by_label("Set \"Collections (Basic)\" Inactive?").is_some(), "asked before saving");
    assert!(harness.query_by_label_contains("default mail setting for Acme Ltd, Globex").is_some());
    click(&mut harness, "Cancel");
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "nothing saved when cancelled");
}

#[test]
fn delete_then_undo_brings_the_setting_back() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    click(&mut harness, "Delete");
    assert!(harness.query_by_label("Delete \"Collections (Microsoft 365)\"?").is_some(), "asked first");
    click(&mut harness, "Delete setting");
    assert!(harness.query_by_label("Collections (Microsoft 365)").is_none());
    assert!(harness.query_by_label("Deleted \"Collections (Microsoft 365)\"").is_some());
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
    fill(&mut harness, "From Name", " changed");
    click(&mut harness, "Cancel Esc");
    assert!(harness.query_by_label("Discard your changes?").is_some());
    click(&mut harness, "Keep editing");
    assert!(harness.query_by_role_and_label(Role::TextInput, "From Name").is_some());
    click(&mut harness, "Cancel Esc");
    click(&mut harness, "Discard changes");
    assert!(harness.query_by_role_and_label(Role::TextInput, "From Name").is_none());
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
    settle(&mut harness);
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
    let password = input_in(&harness, OUTGOING, "Password");
    assert_eq!(password.accesskit_node().role(), Role::PasswordInput);
    // Masked fields never show their text, so comparing with the canary proves nothing: the
    // stored password is never read into the form at all — the field is empty, and the
    // window says it is stored.
    assert_eq!(password.value().as_deref().unwrap_or(""), "", "the form holds no stored password");
    wait_until(&mut harness, "the secret store's answer", |h| !h.state().is_busy());
    let password = input_in(&harness, OUTGOING, "Password");
    assert_eq!(password.value().as_deref().unwrap_or(""), "", "still not read in");
    // The hint a sighted user reads is what a screen reader says, too.
    assert_eq!(password.accesskit_node().placeholder(), Some("Stored — type to replace"), "it says it is stored");
    assert!(harness.query_by_label_contains(CANARY).is_none());
    assert!(harness.query_by_value(CANARY).is_none());
}

// ---- the window against the rig --------------------------------------------

use std::time::{Duration, Instant};

/// Steps the app until `done` holds (jobs run on real threads), or panics.
fn wait_until(
    harness: &mut Harness<'_, MailSettingsApp>,
    what: &str,
    done: impl Fn(&Harness<'_, MailSettingsApp>) -> bool,
) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        harness.step();
        if done(harness) {
            harness.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let shown: Vec<String> = harness
        .query_all_by(|n| n.value().is_some() || n.label().is_some())
        .filter_map(|n| n.accesskit_node().value().or_else(|| n.accesskit_node().label()))
        .collect();
    panic!("timed out waiting for: {what}; on screen: {}", shown.join(" | "));
}

fn copied_text(harness: &Harness<'_, MailSettingsApp>) -> Option<String> {
    harness.output().platform_output.commands.iter().find_map(|c| match c {
        egui::OutputCommand::CopyText(text) => Some(text.clone()),
        _ => None,
    })
}

/// Presses a button and returns what it put on the clipboard.
fn press_and_copy(harness: &mut Harness<'_, MailSettingsApp>, label: &str) -> String {
    harness.get_by_role_and_label(Role::Button, label).click_accesskit();
    for _ in 0..5 {
        harness.step();
        if let Some(text) = copied_text(harness) {
            return text;
        }
    }
    panic!("\"{label}\" copied nothing");
}

/// The window on one OAuth setting for the rig user "ar", signing in at the rig's authorization server.
fn rig_oauth_harness(sandbox: &Sandbox, id: &str) -> Harness<'static, MailSettingsApp> {
    let rig = crate::rig::rig();
    let mut config = rig.config_with(vec![crate::oauth::oauth_setting(rig, id, "ar")]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    rig_harness(sandbox, &config)
}

fn rig_harness(sandbox: &Sandbox, config: &mailsettings::model::Config) -> Harness<'static, MailSettingsApp> {
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(config).unwrap()).unwrap();
    let mut harness = harness(sandbox);
    harness.step();
    harness
}

#[test]
fn connect_in_the_window_then_test_outgoing_and_incoming_and_copy_the_report() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut harness = rig_oauth_harness(&sandbox, "win-oauth");
    click(&mut harness, "Rig ar");
    assert_eq!(harness.query_all_by_label("Not connected").count(), 2, "in the table and in the form");
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    assert!(harness.query_by_label("Waiting for sign-in in your browser…").is_some());
    // The user copies the link into a browser (here: the scripted browser).
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    let status = std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap();
    assert!(status.success());
    wait_until(&mut harness, "the Disconnect button", |h| {
        h.query_by_role_and_label(Role::Button, "Disconnect").is_some()
    });
    assert!(harness.query_all_by_label("Connected as ar@rig.test").count() >= 2, "in the table and in the form");

    fill(&mut harness, "Send test emails to", "admin@example.org");
    press(&mut harness, "Test Outgoing Settings");
    wait_until(&mut harness, "the outgoing report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    let report = harness.state().shown_report().unwrap().clone();
    assert!(report.passed, "{}", report.to_text());
    assert!(harness.query_by_label_contains("Test Outgoing Settings: OK").is_some(), "the guide's \"OK\"");
    assert!(harness.query_by_label("Send test messages").is_some(), "the stage timeline is drawn");
    assert!(harness.query_by_label_contains("signed in as ar@rig.test with XOAUTH2").is_some());

    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the incoming report", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Incoming)
    });
    assert!(harness.state().shown_report().unwrap().passed);
    let copied = press_and_copy(&mut harness, "Copy report");
    assert!(copied.contains("Test Incoming — OK"), "{copied}");
    let tokens = mailsettings::oauth::tokens::TokenSet::load(&Secrets::file(sandbox.secrets_file()), "win-oauth")
        .unwrap()
        .unwrap();
    assert!(!copied.contains(tokens.access_token.expose()));
    assert!(harness.query_by_label_contains(tokens.access_token.expose()).is_none(), "no token on screen");

    press(&mut harness, "Disconnect");
    wait_until(&mut harness, "the Connect button again", |h| {
        h.query_by_role_and_label(Role::Button, "Connect").is_some()
    });
    assert_eq!(harness.query_all_by_label("Not connected").count(), 2);
}

#[test]
fn a_wrong_port_shows_its_diagnosis() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut setting = rig.basic_setting("wrong-port", "ar");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    setting.imap.port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut harness = rig_harness(&sandbox, &rig.config_with(vec![setting]));
    click(&mut harness, "Rig ar");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    assert!(harness.query_by_label("FAILED").is_some());
    assert!(harness.query_by_label_contains("What went wrong: Nothing accepts connections on port").is_some());
    let copied = press_and_copy(&mut harness, "Copy report");
    assert!(copied.contains("connection-refused"), "{copied}");
}

/// The guide's "Sent" on the Gmail-shaped mailbox (signed in with the app password
/// Google requires): Test Incoming fails naming the server's "[Gmail]/Sent Mail", and
/// one click takes it — saved, the open form
/// following without unsaved changes — and tests again, passing.
#[test]
fn a_missing_sent_folder_is_fixed_with_one_click() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let setting = rig.basic_setting("gmail-sent", "gmail");
    Secrets::file(sandbox.secrets_file())
        .set(
            "gmail-sent",
            mailsettings::store::SecretKind::ImapPassword,
            &mailsettings::Secret::new(rig.gmail_app_password.clone()),
        )
        .unwrap();
    let mut harness = rig_harness(&sandbox, &rig.config_with(vec![setting]));
    click(&mut harness, "Rig gmail");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    assert!(harness.query_by_label("FAILED").is_some());
    assert!(harness.query_by_label_contains("the server's sent folder is \"[Gmail]/Sent Mail\"").is_some());
    press(&mut harness, "Use \"[Gmail]/Sent Mail\"");
    wait_until(&mut harness, "the second test", |h| {
        !h.state().is_busy() && h.state().shown_report().is_some_and(|r| r.passed)
    });
    let saved = harness.state().workspace().config().setting("gmail-sent").unwrap().imap.sent_folder.clone();
    assert_eq!(saved, "[Gmail]/Sent Mail");
    assert!(std::fs::read_to_string(sandbox.config()).unwrap().contains("sent_folder = \"[Gmail]/Sent Mail\""));
    assert!(harness.query_all_by_label("OK").count() > 0, "the guide's OK");
    press(&mut harness, "Close");
    harness.run_steps(3);
    let field = input(&harness, "Sent Items Folder");
    assert_eq!(field.accesskit_node().value().as_deref(), Some("[Gmail]/Sent Mail"), "the open form follows");
    assert!(harness.query_by_label_contains("unsaved changes").is_none(), "and has nothing left to save");
}

/// The password really passes through the report path here: the server repeats
/// the client's LOGIN command — password and all, in IMAP's quoting — in its
/// refusal, and the report keeps the server's words.
#[test]
fn a_server_echoing_the_password_gets_it_neither_on_screen_nor_into_the_copied_report() {
    use crate::hostile::{Behaviour, Hostile, TestCa};
    let ca = TestCa::new();
    let now = time::OffsetDateTime::now_utc();
    let echo = Hostile::start(Behaviour::ImapEchoesLogin(ca.server(
        "localhost",
        now - time::Duration::DAY,
        now + time::Duration::DAY,
    )));
    // Quotes and a backslash: IMAP sends them escaped, so the echo differs from the value.
    let password = r#"canary-"Echo\Pa55"-9d2e"#;
    let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
    let sandbox = Sandbox::new();
    let mut setting = crate::rig::rig().basic_setting("echo", "ar");
    setting.imap.port = echo.port;
    let mut config = crate::rig::rig().config_with(vec![setting]);
    config.tls.extra_ca_files = vec![ca.pem_file.clone()];
    Secrets::file(sandbox.secrets_file())
        .set("echo", mailsettings::store::SecretKind::ImapPassword, &mailsettings::Secret::new(password))
        .unwrap();
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Rig ar");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    assert!(echo.received().contains(&quoted), "the password went to the server, quoted: {}", echo.received());
    let copied = press_and_copy(&mut harness, "Copy report");
    assert!(copied.contains("Invalid credentials in:"), "the server's words are in the report: {copied}");
    for form in [password, quoted.as_str(), "Echo"] {
        assert!(!copied.contains(form), "{form:?} in the copied report: {copied}");
        assert!(harness.query_by_label_contains(form).is_none(), "{form:?} on screen");
    }
}

#[test]
fn copy_across_from_the_old_setting_fills_the_form() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    harness.get_by_label("Compare with").click();
    settle(&mut harness);
    // The choice in the drop-down, which opens over the form (the table row of the same name is on the left).
    harness
        .get_all_by_label("Collections (Basic)")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .unwrap()
        .click();
    settle(&mut harness);
    assert!(
        harness.query_by_label("Compare: \"Collections (Basic)\"").is_some(),
        "the old setting is shown beside the form"
    );
    assert_eq!(input_in(&harness, OUTGOING, "Server Name").value().as_deref(), Some("smtp.office365.com"));
    // The first "Use" belongs to the first differing field in order: Outgoing server.
    harness.get_all_by_label("Use").find(|n| !n.accesskit_node().is_disabled()).unwrap().click();
    settle(&mut harness);
    assert_eq!(input_in(&harness, OUTGOING, "Server Name").value().as_deref(), Some("smtp.example.com"));
}

/// Nothing typed twice, at 1024×640: a new record copies the Basic setting's mailbox
/// in one click (its description renamed for the new sign-in, its servers left to the
/// new type), and "Compare with" — in the table's place, the window being narrow —
/// offers "Use all" for the rest.
#[test]
fn a_new_record_copies_the_old_mailbox_in_one_click_and_compares_at_1024() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let mut harness = harness_at(workspace, egui::vec2(1024.0, 640.0));
    click(&mut harness, "+ Add new record Ctrl+N"); // Microsoft 365, the guide's first choice
    click(&mut harness, "Copy from…");
    // The menu's entry, over the form (the table row of the same name is on the left).
    harness
        .get_all_by_role_and_label(Role::Button, "Collections (Basic)")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .unwrap()
        .click();
    settle(&mut harness);
    let value =
        |h: &Harness<'_, MailSettingsApp>, label: &str| input(h, label).accesskit_node().value().unwrap_or_default();
    assert_eq!(value(&harness, "Description"), "Collections (Microsoft 365)");
    assert_eq!(value(&harness, "Subject Tag"), "[ACME-AR]");
    assert_eq!(value(&harness, "Default Send as Email"), "collections@example.com");
    assert_eq!(input_in(&harness, INCOMING, "User Name").value().as_deref(), Some("replies@example.com"));
    assert_eq!(
        input_in(&harness, OUTGOING, "Server Name").value().as_deref(),
        Some("smtp.office365.com"),
        "the servers stay the new type's"
    );

    // An existing record: "Compare with" takes the table's place at this width, "Use all" copies the mailbox.
    click(&mut harness, "Cancel Esc");
    if harness.query_by_label("Discard changes").is_some() {
        click(&mut harness, "Discard changes");
    }
    click(&mut harness, "Collections (Microsoft 365)");
    fill(&mut harness, "Subject Tag", "X");
    harness.get_by_label("Compare with").click();
    settle(&mut harness);
    harness
        .get_all_by_label("Collections (Basic)")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .unwrap()
        .click();
    settle(&mut harness);
    let compare = harness.get_by_label("Compare: \"Collections (Basic)\"").rect();
    assert!(
        compare.right() <= 1024.0 - mailsettings::ui::theme::FORM_WIDTH + 1.0,
        "beside the form, in the table's place: {compare:?}"
    );
    press(&mut harness, "Use all");
    settle(&mut harness);
    assert_eq!(value(&harness, "Subject Tag"), "[ACME-AR]");
    assert_eq!(value(&harness, "Description"), "Collections (Microsoft 365)", "an existing record keeps its name");
}

/// What a shared screen shows wrong: two controls drawn over each other, or a button
/// whose words do not fit (egui shortens them with "…"). Read from egui's own record of
/// the last frame's widgets — each with its rectangle as clipped by its panel or scroll
/// area, its layer and its words — so a row scrolled out of sight or under a panel is
/// no defect, nor is a notice floating above the window. `data` are words a table shows
/// as data (descriptions), which may end in "…" with the whole text on hover.
fn layout_defects(harness: &Harness<'_, MailSettingsApp>, view: &str, data: &[String]) -> Vec<String> {
    let style = harness.ctx.global_style();
    let font = egui::TextStyle::Button.resolve(&style);
    let controls = [Role::Button, Role::CheckBox, Role::TextInput, Role::ComboBox, Role::Label];
    let widgets: Vec<(egui::LayerId, Role, String, egui::Rect, egui::Rect)> = harness.ctx.viewport(|viewport| {
        let rects = &viewport.prev_pass.widgets;
        rects
            .layers()
            .flat_map(|(layer, widgets)| widgets.iter().map(move |w| (*layer, w)))
            .filter_map(|(layer, w)| {
                let info = rects.info(w.id)?;
                let label = info.label.clone().unwrap_or_default();
                controls.contains(&info.role).then_some((layer, info.role, label, w.rect, w.interact_rect))
            })
            .filter(|(.., shown)| shown.width() > 1.0 && shown.height() > 1.0)
            .collect()
    });
    assert!(widgets.len() > 10, "{view}: egui recorded only {} widgets", widgets.len());
    let mut defects = Vec::new();
    for (_, typ, label, rect, shown) in &widgets {
        let whole = (rect.width() - shown.width()).abs() < 0.5 && (rect.height() - shown.height()).abs() < 0.5;
        if *typ == Role::Button && whole && !label.is_empty() && !data.contains(label) {
            let needed =
                harness.ctx.fonts_mut(|f| f.layout_no_wrap(label.clone(), font.clone(), egui::Color32::WHITE).size().x);
            if rect.width() + 1.0 < needed {
                defects.push(format!("{view}: \"{label}\" is cut short ({:.0} of {:.0} px)", rect.width(), needed));
            }
        }
    }
    for (i, (layer_a, typ_a, label_a, _, a)) in widgets.iter().enumerate() {
        for (layer_b, typ_b, label_b, _, b) in &widgets[i + 1..] {
            let overlap = a.intersect(*b);
            let nested = a.contains_rect(*b) || b.contains_rect(*a);
            let involves_button = *typ_a == Role::Button || *typ_b == Role::Button;
            if layer_a == layer_b && involves_button && !nested && overlap.width() > 2.0 && overlap.height() > 2.0 {
                defects.push(format!("{view}: \"{label_a}\" and \"{label_b}\" overlap at {overlap:?}"));
            }
        }
    }
    defects
}

/// At the smallest window (1024×640), every view and the form with its compare panel
/// and a report open: nothing drawn over anything else, no button cut short — the
/// report's title beside "Copy report", the table's "Check folders" beside the form.
#[test]
fn at_1024_by_640_nothing_overlaps_and_no_button_is_cut_short() {
    let size = egui::vec2(1024.0, 640.0);
    let sandbox = Sandbox::new();
    let mut config: mailsettings::model::Config = toml::from_str(SAMPLE.split_once('\n').unwrap().1).unwrap();
    // A finished migration that kept the old setting Inactive: the table's "Check folders".
    config.setting_mut("old-basic").unwrap().active = false;
    for company in &mut config.companies {
        company.default_mail_setting = Some("new-m365".into());
    }
    config.migrations.push(mailsettings::model::Migration {
        old: "old-basic".into(),
        new: "new-m365".into(),
        target: "microsoft365".into(),
        started_at: "2026-12-01T09:00:00Z".parse().unwrap(),
        finished_at: Some("2026-12-02T09:00:00Z".parse().unwrap()),
        kept_old_inactive: true,
        ..mailsettings::model::Migration::default()
    });
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let mut harness = harness_at(workspace, size);
    // egui records each widget's words beside its rectangle only with this debug flag (test builds).
    harness.ctx.all_styles_mut(|style| style.debug.show_interactive_widgets = true);
    settle(&mut harness);
    let data: Vec<String> = config.mail_settings.iter().map(|s| s.description.clone()).collect();
    let mut defects = layout_defects(&harness, "Mail Settings", &data);
    // The form, a report (a test that fails at once: the example host is not reachable) and the compare panel.
    click(&mut harness, "Collections (Microsoft 365)");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    defects.extend(layout_defects(&harness, "the form and a report", &data));
    harness.get_by_label("Compare with").click();
    settle(&mut harness);
    harness
        .get_all_by_label("Collections (Basic)")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .unwrap()
        .click();
    settle(&mut harness);
    defects.extend(layout_defects(&harness, "the form and its compare panel", &data));
    press(&mut harness, "Close");
    click(&mut harness, "Cancel Esc");
    for view in ["Companies", "Migration", "Health", "Sign-in apps", "Bridge", "Audit log", "Mail Settings"] {
        harness.get_by_role_and_label(Role::Button, view).click();
        settle(&mut harness);
        defects.extend(layout_defects(&harness, view, &data));
    }
    assert!(defects.is_empty(), "{} defects at 1024×640:\n{}", defects.len(), defects.join("\n"));
}

#[test]
fn companies_pick_their_default_from_active_settings() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Companies");
    assert!(harness.query_by_label("Acme Ltd").is_some());
    harness.get_all_by_role(Role::ComboBox).next().unwrap().click();
    settle(&mut harness);
    harness.get_all_by_label("Collections (Microsoft 365)").last().unwrap().click();
    settle(&mut harness);
    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(config.contains("default_mail_setting = \"new-m365\""), "{config}");
    assert!(harness.query_by_label_contains("now uses \"Collections (Microsoft 365)\"").is_some());
    fill(&mut harness, "Company ID", "initech");
    fill(&mut harness, "Company name", "Initech");
    click(&mut harness, "Add company");
    assert!(std::fs::read_to_string(sandbox.config()).unwrap().contains("id = \"initech\""));
    // The guide's "recheck in case a Company still doesn't have a default": flagged in
    // the view and in the status bar until one is chosen.
    assert_eq!(harness.query_all_by_label("needs a default").count(), 1, "Initech only");
    assert!(harness.query_by_label("1 company(ies) without a default mail setting").is_some());
    harness.get_all_by_role(Role::ComboBox).last().unwrap().click();
    settle(&mut harness);
    harness.get_all_by_label("Collections (Microsoft 365)").last().unwrap().click();
    settle(&mut harness);
    assert!(harness.query_by_label("needs a default").is_none());
    assert!(harness.query_by_label_contains("without a default mail setting").is_none());
}

#[test]
fn the_window_does_not_repaint_while_idle() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    assert!(SAMPLE.contains("credential = \"microsoft365\""), "an OAuth setting is present (its scan ran)");
    // Real time passes, so timer and thread wake-ups would be seen (the start-up scan's
    // thread wakes the window once more after its result was taken).
    std::thread::sleep(Duration::from_secs(2));
    settle(&mut harness);
    std::thread::sleep(Duration::from_secs(2));
    for _ in 0..10 {
        harness.step();
        let causes = harness.ctx.repaint_causes();
        assert!(!harness.ctx.has_requested_repaint(), "an idle window asked for another frame: {causes:?}");
    }
}

/// A window with `count` settings, one of them with a description far wider than its column.
fn crowded_sandbox(count: usize) -> (Sandbox, String) {
    let sandbox = Sandbox::new();
    let mut config = mailsettings::model::Config::default();
    let long = "Accounts receivable mailbox of the northern region, collections and disputes desk".to_owned();
    for n in 0..count {
        let mut setting = mailsettings::model::MailSetting {
            id: format!("s{n}").into(),
            description: if n == 0 { long.clone() } else { format!("Mailbox {n}") },
            ..Default::default()
        };
        setting.smtp.server = format!("smtp{n}.example.com");
        setting.imap.server = format!("imap{n}.example.com");
        config.mail_settings.push(setting);
    }
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    (sandbox, long)
}

/// Each clip rectangle is a draw call of its own, and on software GL (remote
/// desktops, VMs) 180 of them — one per table cell — made the first frame 9 ms
/// slower: the table's cells share one, and text too long for its column ends in
/// "…" within it, its whole text still on hover and for a screen reader.
#[test]
fn the_table_is_drawn_in_few_draw_calls_and_long_text_stays_in_its_column() {
    let (sandbox, long) = crowded_sandbox(40);
    let harness = harness(&sandbox);
    let output = harness.output().clone();
    let primitives = harness.ctx.tessellate(output.shapes, output.pixels_per_point);
    assert!(primitives.len() <= 16, "{} draw calls for one screen of the table", primitives.len());
    let description = harness.get_by_label(&long).rect();
    let next_column = harness.get_by_label("Credential type").rect();
    assert!(
        description.right() <= next_column.left(),
        "the long description runs into the next column: {description:?} vs {next_column:?}"
    );
}

/// The window clears each frame to the panel colour and its panels draw no fill
/// of their own (a fill over the whole window costs ~3 ms of every frame on
/// software GL). Rendered here onto transparency and laid over the panel colour,
/// it must look exactly like the window whose panels fill themselves.
#[test]
fn the_window_without_panel_fills_looks_the_same_over_its_clear_colour() {
    let (sandbox, _) = crowded_sandbox(30);
    let build = |cleared: bool| {
        let workspace = Workspace::open_or_read_only(&sandbox.config(), Secrets::file(sandbox.secrets_file()));
        let mut harness =
            Harness::builder().with_size(egui::vec2(1024.0, 640.0)).with_max_steps(8).build_eframe(move |_| {
                let app = MailSettingsApp::new(workspace);
                if cleared { app.on_cleared_background() } else { app }
            });
        settle(&mut harness);
        harness
    };
    let mut filled = build(false);
    let mut cleared = build(true);
    let primitives = |harness: &Harness<'_, MailSettingsApp>| {
        let output = harness.output().clone();
        harness.ctx.tessellate(output.shapes, output.pixels_per_point).len()
    };
    let clear = mailsettings::ui::theme::panel_clear_colour(&cleared.ctx.global_style().visuals);
    let background = clear.map(|channel| (channel * 255.0).round());
    let (filled_image, cleared_image) = (filled.render().unwrap(), cleared.render().unwrap());
    let mut differing = 0;
    for (want, got) in filled_image.pixels().zip(cleared_image.pixels()) {
        let alpha = f32::from(got[3]) / 255.0;
        let over = |i: usize| f32::from(got[i]) + background[i] * (1.0 - alpha);
        if (0..3).any(|i| (over(i) - f32::from(want[i])).abs() > 2.0) {
            differing += 1;
        }
    }
    assert_eq!(differing, 0, "pixels that differ from the filled window");
    assert!(primitives(&cleared) <= primitives(&filled), "the fills were not left out");
    let (width, height) = cleared_image.dimensions();
    let transparent = cleared_image.pixels().filter(|p| p[3] == 0).count();
    assert!(transparent * 4 > (width * height) as usize, "most of the window is left to the clear colour");
}

/// The stripes, drawn a row at a time under the cells, lie under every other row
/// — the whole row, up to the next — wherever the table is scrolled to.
#[test]
fn every_other_row_is_striped_wherever_the_table_is_scrolled() {
    let (sandbox, long) = crowded_sandbox(60);
    let mut harness = harness(&sandbox);
    // In the table's order: by description, numbers by their value ("Mailbox 9" before "Mailbox 10").
    let on_screen: Vec<String> = (0..60).map(|n| if n == 0 { long.clone() } else { format!("Mailbox {n}") }).collect();
    let visuals = harness.ctx.global_style().visuals.clone();
    let (stripe, plain) = (visuals.faint_bg_color, visuals.panel_fill);
    let mut firsts = std::collections::HashSet::new();
    // Scrolled by amounts that are no multiple of a row, down to the end.
    for scrolled_by in [0.0, 45.0, 333.0, 5000.0] {
        if scrolled_by > 0.0 {
            harness.hover_at(egui::pos2(500.0, 400.0));
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -scrolled_by),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
                modifiers: egui::Modifiers::NONE,
            });
            // Past the end the scroll area springs back over a few frames.
            harness.run_steps(8);
            // Off the table, so no row is drawn hovered.
            harness.hover_at(egui::pos2(500.0, 710.0));
            harness.run();
        }
        let empty_column = harness.get_by_label("Default for").rect().center().x;
        let body_top = harness.get_by_label("Credential type").rect().bottom() + 16.0;
        let image = harness.render().unwrap();
        let body_bottom = image.height() as f32 - 60.0;
        let mut rows_seen = 0;
        let mut first_seen = None;
        for (index, description) in on_screen.iter().enumerate() {
            let Some(label) = harness.query_by_label(description) else { continue };
            let middle = label.rect().center().y;
            if middle < body_top || middle > body_bottom {
                continue;
            }
            rows_seen += 1;
            first_seen.get_or_insert(index);
            let want = if index % 2 == 0 { stripe } else { plain };
            for y in [middle - 13.0, middle, middle + 13.0] {
                let pixel = image.get_pixel(empty_column as u32, y as u32);
                let differs = (0..3).any(|i| pixel[i].abs_diff(want[i]) > 2);
                assert!(
                    !differs,
                    "row {index} ({description}) at y {y}: {pixel:?}, want {want:?} (scrolled by {scrolled_by})"
                );
            }
        }
        assert!(rows_seen >= 10, "only {rows_seen} rows checked (scrolled by {scrolled_by})");
        assert!(firsts.insert(first_seen), "scrolling by {scrolled_by} showed the same rows");
    }
}

/// A large config read the slow way (its TOML parsed) is kept in the parse cache
/// once the app's first frame is on screen, so the next start reads it fast.
#[test]
fn a_large_config_is_kept_parsed_after_the_first_frame() {
    use mailsettings::store::parse_cache::ParseCache;
    let (sandbox, _) = crowded_sandbox(4000);
    let bytes = std::fs::read(sandbox.config()).unwrap();
    assert!(bytes.len() >= ParseCache::WORTH_CACHING_FROM, "{} bytes", bytes.len());
    let cache = ParseCache::for_config(&sandbox.config()).expect("an OS cache folder");
    assert_eq!(cache.read(&bytes), None, "nothing kept before the window read it");
    let mut harness = harness(&sandbox);
    wait_until(&mut harness, "the parse cache entry", |_| cache.read(&bytes).is_some());
    assert!(cache.read(&bytes).as_ref() == Some(harness.state().workspace().config()), "the entry holds what was read");
}

#[test]
fn a_whole_migration_in_the_window() {
    let rig = crate::rig::rig();
    for folder in ["INBOX", "Mail Not Read", "Mail Not Filed"] {
        rig.empty("replies", folder);
    }
    let sandbox = Sandbox::new();
    let mut old = rig.basic_setting("win-old", "replies");
    old.description = "Win old (Basic)".to_owned();
    let mut config = rig.config_with(vec![old]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    config.companies = vec![
        mailsettings::model::Company {
            id: "acme".into(),
            name: "Acme".into(),
            default_mail_setting: Some("win-old".into()),
        },
        mailsettings::model::Company {
            id: "globex".into(),
            name: "Globex".into(),
            default_mail_setting: Some("win-old".into()),
        },
    ];
    let secrets = Secrets::file(sandbox.secrets_file());
    for kind in [mailsettings::store::SecretKind::SmtpPassword, mailsettings::store::SecretKind::ImapPassword] {
        secrets.set("win-old", kind, &mailsettings::Secret::new(rig.password.clone())).unwrap();
    }
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Migration");
    harness.get_by_label("Replace").click();
    settle(&mut harness);
    harness.get_all_by_label("Win old (Basic)").last().unwrap().click();
    settle(&mut harness);
    harness.get_by_label("with").click();
    settle(&mut harness);
    harness.get_all_by_label("rigidp").last().unwrap().click();
    settle(&mut harness);
    click(&mut harness, "Start migration");
    let new = "win-old-rigidp-oauth";
    assert!(harness.query_by_label_contains("Created \"Win old (rigidp OAuth)\"").is_some(), "named, not by id");

    // Connect from the checklist, through the copied link.
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    assert!(std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    wait_until(&mut harness, "connected", |h| h.query_all_by_label("Connected as replies@rig.test").count() > 0);

    // Both tests on the new setting.
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "Test Incoming", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    press(&mut harness, "Open the new setting");
    settle(&mut harness);
    fill(&mut harness, "Send test emails to", "admin@example.org");
    press(&mut harness, "Test Outgoing Settings");
    wait_until(&mut harness, "Test Outgoing", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Outgoing)
    });
    assert!(harness.state().shown_report().unwrap().passed);
    click(&mut harness, "Migration");

    // The guide's order: step 10 (new Active, old Inactive) moves the companies with it.
    press(&mut harness, "Set Active");
    press(&mut harness, "Set old Inactive");
    settle(&mut harness);
    let config_now = |sandbox: &Sandbox| std::fs::read_to_string(sandbox.config()).unwrap();
    assert_eq!(config_now(&sandbox).matches(&format!("default_mail_setting = \"{new}\"")).count(), 2);

    // Planted mail blocks the delete; once retrieved, the audit is clean and delete is allowed.
    rig.plant("replies", "Mail Not Filed", "still here");
    press(&mut harness, "Check leftover mail");
    wait_until(&mut harness, "the leftover check", |h| !h.state().is_busy());
    assert!(
        harness.query_all_by_label_contains("1 message(s) (1 unseen) still in").count() > 0,
        "the check found the planted mail"
    );
    let delete = harness.get_by_role_and_label(Role::Button, "Delete old setting");
    assert!(delete.accesskit_node().is_disabled(), "delete is blocked while mail is left");
    rig.empty("replies", "Mail Not Filed");
    press(&mut harness, "Check leftover mail");
    wait_until(&mut harness, "the second check", |h| {
        !h.state().is_busy() && h.query_all_by_label_contains("no mail left in").count() > 0
    });
    press(&mut harness, "Delete old setting");
    wait_until(&mut harness, "the delete's re-check", |h| !h.state().is_busy());
    let parsed = mailsettings::store::file::parse_config(config_now(&sandbox).as_bytes(), &sandbox.config()).unwrap();
    assert!(
        parsed.setting("win-old").is_none(),
        "the old setting is gone: {:?}",
        harness.state().workspace().config().migrations
    );
    assert!(parsed.trash.iter().any(|d| d.setting.id == "win-old"), "it is in the trash");
    settle(&mut harness);
    assert!(harness.query_by_label("moved to the trash").is_some());
    assert!(harness.query_by_label("Congratulations! You are now set up!").is_some(), "the guide's last line");

    // Roll back: the old setting and both defaults return.
    press(&mut harness, "Roll back");
    let text = config_now(&sandbox);
    assert_eq!(text.matches("default_mail_setting = \"win-old\"").count(), 2, "{text}");
}

#[test]
fn a_refused_sign_in_to_the_old_folders_offers_the_other_way() {
    let rig = crate::rig::rig();
    rig.empty("reroute", "INBOX");
    let sandbox = Sandbox::new();
    let mut config = rig.config_with(vec![rig.basic_setting("reroute-old", "reroute")]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let secrets = Secrets::file(sandbox.secrets_file());
    for kind in [mailsettings::store::SecretKind::SmtpPassword, mailsettings::store::SecretKind::ImapPassword] {
        secrets.set("reroute-old", kind, &mailsettings::Secret::new(rig.password.clone())).unwrap();
    }
    let mut workspace = Workspace::open(&sandbox.config(), secrets.clone()).unwrap();
    let target = mailsettings::migration::Target::Provider("rigidp".to_owned());
    let new = mailsettings::migration::start(&mut workspace, "reroute-old", &target).unwrap().new;
    // The new setting reaches the same mailbox, so the check tries its sign-in first;
    // its token is one the server no longer accepts.
    let now = time::OffsetDateTime::now_utc();
    let tokens = mailsettings::oauth::tokens::TokenSet {
        access_token: mailsettings::Secret::new("no-longer-accepted".to_owned()),
        refresh_token: None,
        expires_at: Some(now + time::Duration::hours(1)),
        connected_at: now,
        last_refresh: None,
        account: Some(rig.address("reroute")),
        scopes: Vec::new(),
        provider: "rigidp".to_owned(),
        needs_reconnect: None,
        refresh_issued_at: None,
        resource: None,
        other_resources: Default::default(),
    };
    tokens.save(&secrets, &new).unwrap();
    let mut harness = harness_at(workspace, egui::vec2(1024.0, 640.0));
    click(&mut harness, "Migration");
    press(&mut harness, "Check leftover mail");
    let refused = "The server refused the new setting's";
    wait_until(&mut harness, "the refused check", |h| {
        !h.state().is_busy() && h.query_by_label_contains(refused).is_some()
    });
    let node = harness.get_by_label_contains(refused);
    let notice = node.accesskit_node().label().or_else(|| node.accesskit_node().value()).unwrap_or_default();
    assert!(
        notice.starts_with(&format!(
            "The server refused the new setting's Custom OAuth2 provider sign-in as {}",
            rig.address("reroute")
        )),
        "{notice}"
    );
    assert!(notice.contains("token"), "the server's refusal, in a word: {notice}");
    assert!(!notice.contains(".."), "{notice}");
    assert!(notice.contains("Try the other way, the old setting's password as"), "{notice}");
    assert!(notice.ends_with("Check with the old password."), "{notice}");
    // Offered beside the step, within reach at the window's smallest size.
    harness.get_by_role_and_label(Role::Button, "Check with the old password").scroll_to_me();
    harness.run_steps(10);
    screenshot(&mut harness, "leftover-other-way");
    let offered = harness.get_by_role_and_label(Role::Button, "Check with the old password").rect();
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 640.0));
    assert!(screen.contains_rect(offered), "not in view at 1024×640: {offered:?}");

    press(&mut harness, "Check with the old password");
    wait_until(&mut harness, "the check the other way", |h| {
        !h.state().is_busy() && h.query_all_by_label_contains("no mail left in").count() > 0
    });
    assert!(harness.query_by_label("Check with the old password").is_none(), "offered only after a refusal");
    let text = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(text.contains("signed_in_with = \"old-sign-in\""), "the delete re-checks the way that worked: {text}");
}

/// A config that takes longer to read than the window to appear: the window says
/// it is reading, then becomes the app the moment the reading thread answers.
#[test]
fn the_window_says_it_is_reading_a_large_config_until_it_is_read() {
    use mailsettings::ui::startup::StartupApp;
    use std::sync::{Arc, OnceLock};
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let (loaded, loading) = std::sync::mpsc::sync_channel(1);
    let woken: Arc<OnceLock<egui::Context>> = Arc::default();
    let woken_for_app = woken.clone();
    let mut harness =
        Harness::builder().with_size(egui::vec2(1024.0, 640.0)).with_max_steps(4).build_eframe(move |creation| {
            let prefs = mailsettings::ui::app::Preferences::default();
            StartupApp::new(&creation.egui_ctx, loading, &woken_for_app, prefs, std::time::Instant::now(), None)
                .unwrap()
        });
    harness.step();
    assert!(harness.query_by_label("Reading the mail settings…").is_some());
    assert!(harness.query_by_label("Collections (Basic)").is_none());
    assert!(woken.get().is_some(), "the reading thread can wake the window");
    let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file()))
        .map_err(mailsettings::store::WorkspaceError::from);
    loaded.send(workspace).unwrap();
    for _ in 0..3 {
        harness.step();
    }
    assert!(harness.query_by_label("Reading the mail settings…").is_none());
    assert!(harness.query_by_label("Collections (Basic)").is_some(), "the table, once read");
}

#[test]
fn the_about_box_names_the_version_build_files_secret_store_and_licences() {
    let sandbox = Sandbox::new();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Help");
    click(&mut harness, "About Mail Settings…");
    assert!(harness.query_by_label(env!("CARGO_PKG_VERSION")).is_some());
    assert_eq!(harness.query_all_by_label(&sandbox.config().display().to_string()).count(), 2, "toolbar and About box");
    assert!(harness.query_by_label_contains("secret file").is_some());
    assert!(harness.query_by_label_contains("rustls 0.23").is_some(), "the licence list");
    assert!(harness.query_by_label_contains("eframe 0.37").is_some());

    // The support contact every report names is set here, saved and audited.
    assert!(harness.query_by_label_contains("whenever sending or receiving fails").is_some(), "when to contact");
    fill(&mut harness, "Support contact", "atcsupport@sage.com");
    press(&mut harness, "Save support contact");
    settle(&mut harness);
    assert!(harness.query_by_label("Reports now name atcsupport@sage.com").is_some());
    assert!(std::fs::read_to_string(sandbox.config()).unwrap().contains("contact = \"atcsupport@sage.com\""));
    let log = std::fs::read_to_string(mailsettings::store::audit::audit_path_for(&sandbox.config())).unwrap();
    assert!(log.contains("set-support-contact") && log.contains("atcsupport@sage.com"), "{log}");
}

// ---- snapshot images of the main screens (wgpu on lavapipe) ------------------

/// A harness on a fixed config path, so the path shown in the toolbar is the same on every machine.
fn snapshot_harness(config_text: &str) -> Harness<'static, MailSettingsApp> {
    let dir = std::path::Path::new("/tmp/mailsettings-snapshots");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.toml"), config_text).unwrap();
    let secrets = Secrets::file(dir.join("secrets.json"));
    secrets
        .set("old-basic", mailsettings::store::SecretKind::SmtpPassword, &mailsettings::Secret::new(CANARY))
        .unwrap();
    harness_for(Workspace::open(&dir.join("config.toml"), secrets).unwrap())
}

#[test]
fn snapshots_of_the_main_screens() {
    let mut harness = snapshot_harness(SAMPLE);
    harness.snapshot("main_table");
    click(&mut harness, "Collections (Basic)");
    harness.snapshot("edit_form");
    harness.get_by_label("Compare with").click();
    settle(&mut harness);
    harness
        .get_all_by_label("Collections (Microsoft 365)")
        .max_by(|a, b| a.rect().left().total_cmp(&b.rect().left()))
        .unwrap()
        .click();
    settle(&mut harness);
    harness.snapshot("compare_side_by_side");
    click(&mut harness, "Companies");
    harness.snapshot("companies");
    click(&mut harness, "Migration");
    harness.snapshot("migration_start");
    harness.get_by_label("Replace").click();
    settle(&mut harness);
    harness.get_all_by_label("Collections (Basic)").last().unwrap().click();
    settle(&mut harness);
    // "Collections (Microsoft 365)" is made for the same mailbox: offered first; a new Gmail one is chosen here.
    assert!(harness.query_by_role_and_label(Role::Button, "Use \"Collections (Microsoft 365)\"").is_some());
    harness.get_by_label("or create a new one with").click();
    settle(&mut harness);
    harness.get_all_by_label("Gmail").last().unwrap().click();
    settle(&mut harness);
    click(&mut harness, "Start migration");
    harness.snapshot("migration_checklist");
}

// ---- the setup guide, end to end ---------------------------------------------

/// Clicks a button by its words; counts it as one of the admin's clicks.
fn guide_click(harness: &mut Harness<'_, MailSettingsApp>, clicks: &mut u32, label: &str) {
    *clicks += 1;
    // As a user would: scroll it into view first (the report panel may cover the lower part).
    harness.get_by_role_and_label(Role::Button, label).scroll_to_me();
    for _ in 0..30 {
        harness.step(); // let the smooth scroll finish before aiming
    }
    harness.get_by_role_and_label(Role::Button, label).click();
    // Steps, not run(): a click may start a job, whose spinner keeps the window painting.
    for _ in 0..3 {
        harness.step();
    }
}

/// With MAILSETTINGS_SCREENSHOTS=DIR (the test command sets it to docs/screenshots),
/// saves what the window shows now as DIR/NAME.png — when it differs from the picture
/// there by more than a run's own details. Those are texts with a number or a temporary
/// path in them (a rig port, a stage's milliseconds, a certificate's days left, the
/// sandbox's config path): their pixels are left out of the comparison, and the picture
/// is new when more than 0.5% of the rest differ (anti-aliasing stays far below that).
fn screenshot(harness: &mut Harness<'_, MailSettingsApp>, name: &str) {
    let Some(dir) = std::env::var_os("MAILSETTINGS_SCREENSHOTS") else { return };
    harness.run_steps(3);
    let image = harness.render().expect("render the window");
    let path = std::path::Path::new(&dir).join(format!("{name}.png"));
    let per_point = harness.ctx.pixels_per_point();
    let volatile: Vec<egui::Rect> = harness
        .query_all(egui_kittest::kittest::by().predicate(|node| {
            let text = format!("{} {}", node.label().unwrap_or_default(), node.value().unwrap_or_default());
            let run_detail = text.chars().any(|c| c.is_ascii_digit()) || text.contains("/tmp") || text.contains(".tmp");
            run_detail && node.bounding_box().is_some()
        }))
        .map(|node| node.rect().expand(2.0))
        .collect();
    let steady = |x: u32, y: u32| {
        let at = egui::pos2(x as f32 / per_point, y as f32 / per_point);
        !volatile.iter().any(|rect| rect.contains(at))
    };
    let changed = match image::open(&path).map(|old| old.to_rgba8()) {
        Ok(old) if old.dimensions() == image.dimensions() => {
            let differing = old
                .enumerate_pixels()
                .zip(image.pixels())
                .filter(|((x, y, before), now)| before != now && steady(*x, *y))
                .count();
            differing * 1000 > image.pixels().len() * 5
        }
        _ => true,
    };
    if changed {
        image.save(&path).expect("save the screenshot");
    }
}

/// Microsoft 365's own scopes, which the rig grants as a consenting tenant does.
fn microsoft_scopes() -> Vec<String> {
    let sign_in = mailsettings::model::providers::MICROSOFT_365.sign_in.expect("Microsoft signs in with OAuth");
    sign_in.protocol_scopes().into_iter().map(str::to_owned).collect()
}

/// The form's field rows fully in view at the window's size: inputs, drop-downs and
/// check boxes from "Credential Type" down to the Save button (one per line of the form).
fn form_rows_in_view(harness: &Harness<'_, MailSettingsApp>) -> usize {
    let save_top = harness.get_by_role_and_label(Role::Button, "Save Ctrl+S").rect().top();
    let first = harness.get_by(|n| n.role() == Role::ComboBox && is_labelled(n, "Credential Type")).rect().top();
    let fields = [Role::TextInput, Role::PasswordInput, Role::ComboBox, Role::CheckBox];
    let lines: std::collections::BTreeSet<i32> = harness
        .query_all(egui_kittest::kittest::by().predicate(move |n| fields.contains(&n.role())))
        .map(|n| n.rect())
        .filter(|r| r.top() >= first - 1.0 && r.bottom() <= save_top && r.left() > 400.0)
        .map(|r| (r.center().y / 8.0).round() as i32)
        .collect();
    lines.len()
}

fn is_labelled(node: &egui_kittest::kittest::AccessKitNode<'_>, label: &str) -> bool {
    node.labelled_by().any(|labeller| labeller.value().as_deref() == Some(label))
}

/// Replaces the text of the input (select all, then type), as an admin would.
fn retype_in(harness: &mut Harness<'_, MailSettingsApp>, name: &str, label: &str, text: &str) {
    input_in(harness, name, label).focus();
    settle(harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(harness);
    input_in(harness, name, label).type_text(text);
    settle(harness);
}

/// The customer's setup guide (../shared/reference/seed-mail-settings.txt) in
/// the window, in its order — step 10 (new Active, old Inactive) before step 11
/// (company defaults) — from the existing Basic setting to "Congratulations",
/// with Connect through the Sign-in apps place (the client id typed in the
/// window, not in a file) against the rig's authorization server, which stands
/// in for Microsoft's endpoints here. Counts the clicks (typing aside).
#[test]
#[allow(clippy::too_many_lines, reason = "the whole guide, step by step, in one test")]
fn the_setup_guide_in_the_window_from_basic_to_congratulations() {
    let rig = crate::rig::rig();
    for folder in ["Mail Not Read", "Mail Not Filed"] {
        rig.empty("guide", folder);
    }
    // Old and new reach the same mailbox (a Microsoft-shaped one: "Sent Items", no "Sent"):
    // its inbox is live, read by the new setting, so mail there never blocks the migration.
    rig.plant("guide", "INBOX", "live mail the new setting goes on reading");
    let sandbox = Sandbox::new();
    let mut old = rig.basic_setting("guide-basic", "guide");
    old.description = "Guide (BasicAuth)".to_owned();
    let mut config = rig.config_with(vec![old]);
    config.companies = vec![mailsettings::model::Company {
        id: "acme".into(),
        name: "Acme".into(),
        default_mail_setting: Some("guide-basic".into()),
    }];
    // Microsoft's endpoints, pointed at the rig (a national-cloud style override); no client id yet.
    let mut endpoints = crate::oauth::provider_entry(rig, "microsoft365");
    endpoints.client_id.clear();
    endpoints.redirect_host = None;
    endpoints.scopes = microsoft_scopes();
    config.oauth_providers.push(endpoints);
    let secrets = Secrets::file(sandbox.secrets_file());
    for kind in [mailsettings::store::SecretKind::SmtpPassword, mailsettings::store::SecretKind::ImapPassword] {
        secrets.set("guide-basic", kind, &mailsettings::Secret::new(rig.password.clone())).unwrap();
    }
    let mut harness = rig_harness(&sandbox, &config);
    harness.set_size(egui::vec2(1024.0, 640.0));
    settle(&mut harness);
    let mut clicks = 0;

    // Steps 1–5: the Migration view replaces the screenshot and the second tab of steps 3–5. The one
    // Basic setting and Microsoft 365 — step 6, the CRITICAL choice — are already chosen.
    guide_click(&mut harness, &mut clicks, "Migration");
    let start = harness.get_by_role_and_label(Role::Button, "Start migration");
    assert!(!start.accesskit_node().is_disabled(), "the only Basic setting and Microsoft 365 are preselected");
    guide_click(&mut harness, &mut clicks, "Start migration");
    let migration = harness.state().workspace().config().migration("guide-basic").expect("a migration").clone();
    assert_eq!(migration.target, "microsoft365");
    let new = migration.new;
    let new = new.as_str();
    let sent = harness.state().workspace().config().setting(new).unwrap().imap.sent_folder.clone();
    assert_eq!(sent, "Sent Items", "Microsoft 365's own name, not the guide's general \"Sent\"");

    // Step 8: Connect. No sign-in app yet: the window opens Sign-in apps with the field focused,
    // and once the app is saved it goes back and signs in.
    guide_click(&mut harness, &mut clicks, "Connect");
    assert_eq!(harness.state().preferences().view, mailsettings::ui::commands::View::SignInApps);
    assert!(harness.query_by_label_contains("Connect needs your organisation's sign-in app first").is_some());
    // The screen-shared call need not stop: the registration steps go to IT as a message.
    let request = press_and_copy(&mut harness, "Copy message for your IT administrator (Microsoft 365)");
    assert!(
        request.contains("App registrations > New registration")
            && request.contains("Application (client) ID")
            && request.contains("adminconsent"),
        "{request}"
    );
    screenshot(&mut harness, "sign-in-apps");
    let client_id = input(&harness, "Application (client) ID");
    assert!(client_id.is_focused(), "the missing field has the focus");
    client_id.type_text("0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab");
    settle(&mut harness);
    guide_click(&mut harness, &mut clicks, "Save Microsoft 365 app");
    assert!(std::fs::read_to_string(sandbox.config()).unwrap().contains("0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab"));
    assert_eq!(
        harness.state().preferences().view,
        mailsettings::ui::commands::View::Migration,
        "back where Connect was"
    );
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    assert!(std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    wait_until(&mut harness, "connected", |h| h.query_all_by_label("Connected as guide@rig.test").count() > 0);

    // Only because the rig stands in for Microsoft: its mail servers replace Microsoft's in the form.
    // These clicks are counted apart; an admin on Microsoft 365 has nothing to change here.
    let mut rig_only_clicks = 0;
    guide_click(&mut harness, &mut rig_only_clicks, "Open the new setting");
    retype_in(&mut harness, OUTGOING, "Server Name", "localhost");
    retype_in(&mut harness, OUTGOING, "Port", &rig.smtp_port.to_string());
    retype_in(&mut harness, INCOMING, "Server Name", "localhost");
    retype_in(&mut harness, INCOMING, "Port", &rig.imaps_port.to_string());
    guide_click(&mut harness, &mut rig_only_clicks, "Save Ctrl+S");
    screenshot(&mut harness, "edit-microsoft365-connected");
    // Room at 1024×640: connected, with the sign-in's permission warning, the fields still show.
    let rows = form_rows_in_view(&harness);
    assert!(rows >= 8, "only {rows} field rows in view with a connected Microsoft 365 setting open");
    guide_click(&mut harness, &mut rig_only_clicks, "Migration");

    // Step 9, from the checklist: Test Outgoing Settings to a typed address, then Test Incoming Settings.
    fill(&mut harness, "to", "admin@example.org");
    guide_click(&mut harness, &mut clicks, "Test Outgoing Settings");
    wait_until(&mut harness, "Test Outgoing", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Outgoing)
    });
    assert!(harness.state().shown_report().unwrap().passed, "{}", harness.state().shown_report().unwrap().to_text());
    assert!(harness.query_by_label_contains("Test Outgoing Settings: OK").is_some(), "the guide's \"OK\"");
    screenshot(&mut harness, "test-outgoing-ok");
    // The report opens at the height it needs up to a third of the window, and never hides
    // the checklist's current step (now Test Incoming Settings).
    let report_top = harness.get_by_role_and_label(Role::Button, "Copy report").rect().top() - 12.0;
    let status_bar_top = harness.get_by_label_contains("mail setting(s)").rect().top() - 6.0;
    let report_height = status_bar_top - report_top;
    assert!(report_height <= 640.0 / 3.0 + 8.0, "the report panel takes {report_height} px of 640");
    let current = harness.get_by_role_and_label(Role::Button, "Test Incoming Settings").rect();
    assert!(current.top() >= 60.0 && current.bottom() <= report_top, "the current step is hidden: {current:?}");
    guide_click(&mut harness, &mut clicks, "Test Incoming Settings");
    wait_until(&mut harness, "Test Incoming", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Incoming)
    });
    assert!(harness.state().shown_report().unwrap().passed, "{}", harness.state().shown_report().unwrap().to_text());

    // Steps 10–13 in the Migration view, every action reached by scrolling at 1024×640.
    for (action, wait) in [
        ("Set Active", false),
        ("Set old Inactive", false),
        ("Check leftover mail", true),
        ("Delete old setting", true),
    ] {
        let button = harness.get_by_role_and_label(Role::Button, action);
        button.scroll_to_me();
        for _ in 0..30 {
            harness.step();
        }
        let button = harness.get_by_role_and_label(Role::Button, action);
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 640.0));
        assert!(screen.contains_rect(button.rect()), "\"{action}\" is not in view at 1024×640: {:?}", button.rect());
        guide_click(&mut harness, &mut clicks, action);
        if wait {
            wait_until(&mut harness, action, |h| !h.state().is_busy());
        }
    }
    let config_now = harness.state().workspace().config().clone();
    assert!(config_now.setting("guide-basic").is_none(), "the old setting is deleted (to the trash)");
    assert_eq!(config_now.company("acme").unwrap().default_mail_setting.as_deref(), Some(new), "step 11");
    assert!(config_now.setting(new).unwrap().active);
    assert!(harness.query_by_label("Congratulations! You are now set up!").is_some());
    harness.get_by_label("Congratulations! You are now set up!").scroll_to_me();
    screenshot(&mut harness, "migration-finished");
    println!(
        "the setup guide took {clicks} clicks (typing aside) and one sign-in, plus {rig_only_clicks} only because the rig stands in for Microsoft's servers"
    );
    assert!(clicks <= 12, "{clicks} clicks: the aim is at most 12");
}

// ---- the window never waits on the secret store or forgets to re-sort ----------

/// A secret store that blocks: the secret file is a FIFO, so every read waits
/// on `open` until a writer comes (as a locked keyring's unlock prompt would).
/// Opening a setting and saving a password must go on painting frames.
#[test]
fn a_blocking_secret_store_never_freezes_the_window() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let fifo = sandbox.path("secrets.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // A watchdog, so a regression fails the timing below instead of hanging the suite.
    let watchdog_fifo = fifo.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        for _ in 0..8 {
            let _ = std::fs::write(&watchdog_fifo, "{}");
        }
    });
    let workspace = Workspace::open_or_read_only(&sandbox.config(), Secrets::file(fifo));
    let mut harness =
        Harness::builder().with_size(egui::vec2(1280.0, 720.0)).build_eframe(move |_| MailSettingsApp::new(workspace));
    let started = Instant::now();
    for _ in 0..3 {
        harness.step(); // the start-up connection scan is blocked on its own thread
    }
    harness.get_by_role_and_label(Role::Button, "Collections (Basic)").click();
    for _ in 0..5 {
        harness.step();
    }
    assert!(harness.query_by_label("Edit \"Collections (Basic)\"").is_some(), "the form opened at once");
    assert!(harness.state().is_busy(), "the store is still being asked, off the UI thread");
    input_in(&harness, OUTGOING, "Password").focus();
    harness.step();
    input_in(&harness, OUTGOING, "Password").type_text(CANARY);
    harness.step();
    harness.get_by_role_and_label(Role::Button, "Save Ctrl+S").click();
    for _ in 0..5 {
        harness.step();
    }
    assert!(harness.query_by_label("Saving the passwords…").is_some(), "Save waits for the store, visibly");
    let frames_at = Instant::now();
    for _ in 0..30 {
        harness.step();
    }
    assert!(frames_at.elapsed() < Duration::from_secs(2), "frames kept coming while the store was blocked");
    assert!(started.elapsed() < Duration::from_secs(10), "nothing waited on the secret store");
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "nothing saved before the passwords are");
}

/// The table re-sorts when what it sorts by changes — here a test result,
/// which no config change accompanies.
#[test]
fn the_table_resorts_when_a_test_result_arrives() {
    let sandbox = Sandbox::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = SAMPLE.replace("port = 993", &format!("port = {port}")).replace("imap.example.com", "127.0.0.1");
    std::fs::write(sandbox.config(), &config).unwrap();
    Secrets::file(sandbox.secrets_file())
        .set("old-basic", mailsettings::store::SecretKind::ImapPassword, &mailsettings::Secret::new(CANARY))
        .unwrap();
    let mut harness = harness(&sandbox);
    let top = |h: &Harness<'_, MailSettingsApp>, name: &str| h.get_by_role_and_label(Role::Button, name).rect().top();
    click(&mut harness, "Last tests");
    assert!(
        top(&harness, "Collections (Basic)") < top(&harness, "Collections (Microsoft 365)"),
        "by description first"
    );
    click(&mut harness, "Collections (Basic)");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the failed test", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    settle(&mut harness);
    // "In FAILED hh:mm" sorts after an empty "Last tests".
    assert!(
        top(&harness, "Collections (Basic)") > top(&harness, "Collections (Microsoft 365)"),
        "the row moved after its test result"
    );
}

/// eframe's key-value storage, in memory (eframe writes it to app.ron in the OS data folder).
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// Zoom, theme, the last view and the test recipient come back after a restart.
#[test]
fn preferences_survive_a_restart() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "View");
    click(&mut harness, "Presentation size (for screen-sharing)");
    click(&mut harness, "View");
    click(&mut harness, "Dark");
    click(&mut harness, "Collections (Basic)");
    fill(&mut harness, "Send test emails to", "admin@example.org");
    click(&mut harness, "Companies");
    assert!((harness.ctx.zoom_factor() - 1.4).abs() < 1e-3, "zoom applied: {}", harness.ctx.zoom_factor());
    let mut storage = MemoryStorage::default();
    eframe::App::save(harness.state_mut(), &mut storage);

    let prefs = mailsettings::ui::app::load_preferences(Some(&storage));
    let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let mut restarted = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(move |_| MailSettingsApp::with_preferences(workspace, prefs));
    restarted.run();
    let prefs = restarted.state().preferences().clone();
    assert_eq!(prefs.view, mailsettings::ui::commands::View::Companies);
    assert_eq!(prefs.theme, mailsettings::ui::theme::ThemeChoice::Dark);
    assert_eq!(prefs.recipient, "admin@example.org");
    assert!((restarted.ctx.zoom_factor() - 1.4).abs() < 1e-3, "zoom restored");
    assert!(restarted.query_by_label("Add company").is_some(), "opens on the Companies view");
    // A fresh start with nothing stored: the defaults.
    assert_eq!(mailsettings::ui::app::load_preferences(None), mailsettings::ui::app::Preferences::default());
}

/// Test Outgoing Settings is never a grey button with a hover-only reason: with no
/// address it asks for one (focus + message), and sends nothing.
#[test]
fn test_outgoing_with_no_address_asks_for_one() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    let button = harness.get_by_role_and_label(Role::Button, "Test Outgoing Settings");
    assert!(!button.accesskit_node().is_disabled(), "clickable before an address is typed");
    click(&mut harness, "Test Outgoing Settings");
    assert!(harness.query_by_label_contains("Type the address the two test emails go to").is_some());
    assert!(input(&harness, "Send test emails to").is_focused(), "the address field has the focus");
    assert!(!harness.state().is_busy(), "no test started");
}

/// After Connect, a sign-in as another account than the outgoing user name is
/// pointed out (the server may refuse to send as that mailbox).
#[test]
fn connect_warns_when_the_signed_in_account_is_not_the_outgoing_user() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut setting = crate::oauth::oauth_setting(rig, "win-mismatch", "ar");
    setting.smtp.user_name = rig.address("collections");
    let mut config = rig.config_with(vec![setting]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Rig ar");
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    assert!(std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    wait_until(&mut harness, "connected", |h| h.query_by_role_and_label(Role::Button, "Disconnect").is_some());
    assert!(
        harness
            .query_by_label_contains("You signed in as ar@rig.test, but the outgoing user name is collections@rig.test")
            .is_some(),
        "the mismatch is pointed out"
    );
    // At 1024×640 the note takes one line ("more" opens it): the fields stay in view.
    harness.set_size(egui::vec2(1024.0, 640.0));
    settle(&mut harness);
    screenshot(&mut harness, "sign-in-note");
    let rows = form_rows_in_view(&harness);
    assert!(rows >= 8, "only {rows} field rows in view beside the sign-in note");
    press(&mut harness, "more");
    settle(&mut harness);
    assert!(harness.query_by_role_and_label(Role::Button, "less").is_some(), "the whole note on demand");
}

/// A shared mailbox in the window: "Signed in by" names the person with Full Access;
/// Connect signs them in without calling it "another account", and the shared
/// mailbox opens with their sign-in.
#[test]
fn a_shared_mailbox_is_signed_in_by_its_delegate_in_the_window() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut setting = crate::oauth::oauth_setting(rig, "win-shared", "collections");
    setting.smtp.user_name = rig.address("m365");
    setting.imap.sent_folder = "Sent Items".to_owned();
    let mut config = rig.config_with(vec![setting]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Rig collections");
    fill(&mut harness, "Signed in by", &rig.address("m365"));
    press(&mut harness, "Save Ctrl+S");
    wait_until(&mut harness, "the save", |h| !h.state().is_busy());
    let saved = harness.state().workspace().config().setting("win-shared").unwrap().delegate.clone();
    assert_eq!(saved.as_deref(), Some("m365@rig.test"));
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    assert!(url.contains("login_hint=m365%40rig.test"), "the delegate is asked to sign in: {url}");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    assert!(std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    wait_until(&mut harness, "connected", |h| h.query_by_role_and_label(Role::Button, "Disconnect").is_some());
    assert!(harness.query_by_label_contains("You signed in as").is_none(), "the delegate is expected");
    press(&mut harness, "Test Incoming Settings");
    wait_until(&mut harness, "the incoming report", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Incoming)
    });
    let report = harness.state().shown_report().unwrap().clone();
    assert!(report.passed, "{}", report.to_text());
    assert!(report.to_text().contains("signed in as collections@rig.test with XOAUTH2"), "{}", report.to_text());
}

/// The guide's step 10 in the form: making a company default Inactive moves its
/// companies to the proposed setting, then saves — one confirmation.
#[test]
fn making_a_default_inactive_moves_its_companies_after_one_confirmation() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Basic)");
    fill_in(&mut harness, OUTGOING, "Password", CANARY);
    fill_in(&mut harness, INCOMING, "Password", CANARY);
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    settle(&mut harness);
    click(&mut harness, "Save Ctrl+S");
    // The only other Active setting is proposed; one click confirms.
    harness.get_by_role_and_label(Role::Button, "Move and set Inactive").click();
    wait_until(&mut harness, "the save", |h| !h.state().is_busy());
    settle(&mut harness);
    let config = harness.state().workspace().config();
    assert!(!config.setting("old-basic").unwrap().active);
    assert_eq!(config.companies_defaulting_to("new-m365"), vec!["acme".to_owned(), "globex".to_owned()]);
    let text = std::fs::read_to_string(sandbox.config()).unwrap();
    assert_eq!(text.matches("default_mail_setting = \"new-m365\"").count(), 2, "{text}");
    assert!(!text.contains(CANARY), "passwords never in the config");
    assert!(Secrets::file(sandbox.secrets_file()).stored_passwords("old-basic").unwrap().smtp);
}

/// The guide's relay customers in the form: the outgoing section filled from
/// SendGrid signs in with its API key, the incoming one with Microsoft 365.
#[test]
fn a_relay_outgoing_beside_an_oauth_mailbox_shows_each_sections_own_sign_in() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Collections (Microsoft 365)");
    assert!(
        section(&harness, OUTGOING).query_by(|n| n.role() == Role::PasswordInput).is_none(),
        "an OAuth setting asks for no outgoing password"
    );
    section(&harness, OUTGOING).get_by_label("Fill servers from…").click();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::Button, "SendGrid").click();
    settle(&mut harness);
    assert_eq!(input_in(&harness, OUTGOING, "Server Name").value().as_deref(), Some("smtp.sendgrid.net"));
    assert_eq!(input_in(&harness, OUTGOING, "(From) User Name").value().as_deref(), Some("apikey"));
    assert!(harness.query_by_label_contains("the user name is the word apikey").is_some(), "explained");
    assert_eq!(input_in(&harness, INCOMING, "Server Name").value().as_deref(), Some("outlook.office365.com"));
    let signs_in_with = |harness: &Harness<'_, MailSettingsApp>, name: &str| {
        section(harness, name)
            .get_by(|n| {
                n.role() == Role::ComboBox && n.labelled_by().any(|l| l.value().as_deref() == Some("Signs in with"))
            })
            .accesskit_node()
            .value()
    };
    assert_eq!(signs_in_with(&harness, OUTGOING).as_deref(), Some("Basic (password)"), "signs in with a password");
    assert_eq!(signs_in_with(&harness, INCOMING).as_deref(), Some("Same as Credential Type"));
    assert_eq!(input_in(&harness, OUTGOING, "Password").accesskit_node().role(), Role::PasswordInput);
    assert!(section(&harness, INCOMING).query_by(|n| n.role() == Role::PasswordInput).is_none());
    assert!(section(&harness, INCOMING).query_by_label_contains("Typed on Microsoft's sign-in page").is_some());
    if std::env::var_os("MAILSETTINGS_SCREENSHOTS").is_some() {
        harness.set_size(egui::vec2(1024.0, 640.0));
        section(&harness, OUTGOING).get_by_label("Fill servers from…").scroll_to_me();
        screenshot(&mut harness, "relay-form");
        harness.set_size(egui::vec2(1280.0, 720.0));
        harness.run_steps(3);
    }
    assert!(harness.query_by_role_and_label(Role::Button, "Connect").is_some(), "Connect is for the mailbox");

    fill_in(&mut harness, OUTGOING, "Password", "SG.canary-api-key");
    click(&mut harness, "Save Ctrl+S");
    assert!(harness.query_by_label_contains("Saved").is_some(), "saved");
    assert!(harness.query_by_label("Microsoft 365 (MSO365) in / SendGrid out").is_some(), "the table names both");
    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(config.contains("server = \"smtp.sendgrid.net\""), "{config}");
    let smtp = config.split("[mail_setting.smtp]").nth(2).unwrap().split("[mail_setting.imap]").next().unwrap();
    assert!(smtp.contains("credential = \"basic\""), "the outgoing side's own sign-in is saved: {smtp}");
}

/// Sign in on another device from the window: the code in large type with Copy,
/// approved from "another device" (tests/rig/device-approve), then connected.
#[test]
fn sign_in_on_another_device_shows_the_code_and_connects() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut harness = rig_oauth_harness(&sandbox, "win-device");
    click(&mut harness, "Rig ar");
    press(&mut harness, "Sign in on another device");
    wait_until(&mut harness, "the code", |h| h.query_by_label("Copy code").is_some());
    assert!(harness.query_by_label("and enter the code").is_some());
    assert!(harness.query_by_label_contains("the code is good for").is_some(), "a countdown");
    screenshot(&mut harness, "device-code");
    let code = press_and_copy(&mut harness, "Copy code");
    let address = press_and_copy(&mut harness, "Copy address");
    let code_label = harness.get_by_label(&code);
    assert!(code_label.rect().height() >= 34.0, "the code is large enough to read over a screen-share");
    let approve =
        std::process::Command::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rig/device-approve"))
            .args([address.as_str(), code.as_str(), "approve"])
            .env("RIG_CA_FILE", &rig.ca_file)
            .output()
            .unwrap();
    assert!(approve.status.success(), "{}", String::from_utf8_lossy(&approve.stderr));
    wait_until(&mut harness, "the Disconnect button", |h| {
        h.query_by_role_and_label(Role::Button, "Disconnect").is_some()
    });
    assert!(harness.query_all_by_label("Connected as ar@rig.test").count() >= 1);
}

/// App-only access in the window: no Connect, a "Check app access" that opens the
/// mailbox with the app's own token.
#[test]
fn app_only_access_is_checked_not_connected() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut setting = crate::oauth::oauth_setting(rig, "win-app", "ar");
    setting.oauth_provider = Some("rigapp".to_owned());
    setting.oauth_flow = mailsettings::model::OAuthFlow::App;
    let mut config = rig.config_with(vec![setting]);
    let mut app = crate::oauth::provider_entry(rig, "rigapp");
    app.client_id = "mailsettings-app".to_owned();
    app.app_scopes = vec!["mail".to_owned()];
    config.oauth_providers.push(app);
    Secrets::file(sandbox.secrets_file())
        .set(
            mailsettings::store::SecretOwner::SignInApp("rigapp".to_owned()),
            mailsettings::store::SecretKind::ClientSecret,
            &mailsettings::Secret::new(crate::rig::APP_ONLY_SECRET),
        )
        .unwrap();
    let mut harness = rig_harness(&sandbox, &config);
    assert!(harness.query_by_label("App-only access").is_some(), "the table says how it signs in");
    click(&mut harness, "Rig ar");
    assert!(harness.query_by_role_and_label(Role::Button, "Connect").is_none(), "nobody signs in");
    press(&mut harness, "Check app access");
    wait_until(&mut harness, "the report", |h| !h.state().is_busy() && h.state().shown_report().is_some());
    let report = harness.state().shown_report().unwrap();
    assert!(report.passed, "{}", report.to_text());
    assert!(harness.query_by_label_contains(crate::rig::APP_ONLY_SECRET).is_none());
}

#[test]
fn sign_in_apps_write_out_the_app_only_steps_with_the_ids_filled_in() {
    let sandbox = Sandbox::new();
    let mut config: mailsettings::model::Config =
        mailsettings::store::file::parse_config(SAMPLE.as_bytes(), std::path::Path::new("c")).unwrap();
    config.mail_settings[1].oauth_flow = mailsettings::model::OAuthFlow::App;
    config.oauth_providers.push(mailsettings::model::OAuthProvider {
        id: "microsoft365".into(),
        client_id: "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab".into(),
        ..Default::default()
    });
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Sign-in apps");
    click(&mut harness, "App-only access, for an unattended automation");
    assert!(harness.query_by_label_contains("IMAP.AccessAsApp and SMTP.SendAsApp").is_some());
    let copied = press_and_copy(&mut harness, "Copy the PowerShell commands");
    assert!(copied.contains("New-ServicePrincipal -AppId 0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab"), "{copied}");
    assert!(copied.contains("Add-MailboxPermission -Identity replies@example.com"), "{copied}");
    assert!(copied.contains("Add-RecipientPermission -Identity collections@example.com"), "{copied}");
}

/// The Bridge view: a local password made and copied, the bridge started on free
/// ports, a password-only client signs in through it, and it stops.
#[test]
fn the_bridge_view_starts_a_bridge_a_password_only_client_can_use() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut harness = rig_oauth_harness(&sandbox, "win-bridge");
    // Connected first, as the CLI would (the window's Connect is tested elsewhere).
    let connect = std::process::Command::new(crate::support::BIN)
        .arg("--config")
        .arg(sandbox.config())
        .args(["connect", "win-bridge"])
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .env("BROWSER", crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn))
        .env("RIG_CA_FILE", &rig.ca_file)
        .output()
        .unwrap();
    assert!(connect.status.success(), "{}", String::from_utf8_lossy(&connect.stderr));
    click(&mut harness, "Bridge");
    press(&mut harness, "New local password");
    wait_until(&mut harness, "the local password", |h| h.query_by_label("Copy password").is_some());
    let password = press_and_copy(&mut harness, "Copy password");
    assert_eq!(password.len(), 64);
    assert!(harness.query_by_label_contains(&password).is_none(), "masked on screen");
    harness.get_all_by_role(Role::CheckBox).next().unwrap().click();
    settle(&mut harness);
    let local_tls = "Local TLS (STARTTLS with the bridge's own certificate)";
    let toggled = harness.get_by_label(local_tls).accesskit_node().toggled();
    assert_eq!(toggled, Some(egui::accesskit::Toggled::True), "on by default");
    click(&mut harness, local_tls); // plain text first, as a program that cannot do TLS
    for label in ["SMTP port", "IMAP port"] {
        retype(&mut harness, label, "0");
    }
    press(&mut harness, "Start bridge");
    wait_until(&mut harness, "the bridge to listen", |h| {
        h.query_by_label_contains("Running: SMTP on 127.0.0.1:").is_some()
    });
    screenshot(&mut harness, "bridge");
    let smtp = bridge_smtp_port(&harness);
    python_prints(
        &format!(
            "import smtplib\ns = smtplib.SMTP('127.0.0.1', {smtp}, timeout=20)\ns.login('ar@rig.test', '{password}')\n\
             s.noop()\ns.quit()\nprint('signed in')\n"
        ),
        "signed in",
    );
    press(&mut harness, "Stop bridge");
    wait_until(&mut harness, "the bridge to stop", |h| {
        h.query_by_role_and_label(Role::Button, "Start bridge").is_some()
    });

    // Again with local TLS: the certificate is named on screen and the client verifies it.
    click(&mut harness, local_tls);
    press(&mut harness, "Start bridge");
    let trust = "Programs trust the bridge's certificate: ";
    wait_until(&mut harness, "the bridge with local TLS", |h| {
        h.query_by_label_contains("Running: SMTP on 127.0.0.1:").is_some() && h.query_by_label_contains(trust).is_some()
    });
    let node = harness.get_by_label_contains(trust);
    let shown = node.accesskit_node().label().or_else(|| node.accesskit_node().value()).unwrap_or_default();
    let certificate = sandbox.dir.path().join("bridge-localhost.pem");
    assert!(shown.contains(&certificate.display().to_string()) && shown.contains("SHA-256 "), "{shown}");
    assert!(shown.contains("tls_fingerprint ") && shown.contains("--pinnedpubkey sha256//"), "{shown}");
    let smtp = bridge_smtp_port(&harness);
    python_prints(
        &format!(
            "import smtplib, ssl\ns = smtplib.SMTP('127.0.0.1', {smtp}, timeout=20)\n\
             s.starttls(context=ssl.create_default_context(cafile='{}'))\ns.login('ar@rig.test', '{password}')\n\
             s.noop()\ns.quit()\nprint('signed in over TLS')\n",
            certificate.display()
        ),
        "signed in over TLS",
    );
    press(&mut harness, "Stop bridge");
    wait_until(&mut harness, "the bridge to stop", |h| {
        h.query_by_role_and_label(Role::Button, "Start bridge").is_some()
    });
}

/// The SMTP port the Bridge view says its running bridge listens on.
fn bridge_smtp_port(harness: &Harness<'_, MailSettingsApp>) -> u16 {
    let node = harness.get_by_label_contains("Running: SMTP on 127.0.0.1:");
    let running = node.accesskit_node().label().or_else(|| node.accesskit_node().value()).unwrap_or_default();
    running.split("127.0.0.1:").nth(1).unwrap().split(',').next().unwrap().parse().unwrap()
}

/// Runs a Python program (a password-only mail client) and checks it printed `expected`.
fn python_prints(script: &str, expected: &str) {
    let output = std::process::Command::new("/usr/bin/python3").args(["-c", script]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains(expected), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Replaces the text of the input labelled `label` (used once in the window).
fn retype(harness: &mut Harness<'_, MailSettingsApp>, label: &str, text: &str) {
    input(harness, label).focus();
    settle(harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(harness);
    input(harness, label).type_text(text);
    settle(harness);
}

/// From the smallest window up (1024×640) every column of the table is in view
/// (the IMAP server column used to start past the window's edge), and the columns
/// grow back when the window does.
#[test]
fn every_column_of_the_table_is_in_view_from_the_smallest_window_up() {
    let (sandbox, _) = crowded_sandbox(5);
    let workspace = Workspace::open_or_read_only(&sandbox.config(), Secrets::file(sandbox.secrets_file()));
    let mut harness = harness_at(workspace, egui::vec2(1024.0, 640.0));
    let in_view = |harness: &Harness<'_, MailSettingsApp>, width: f32| {
        for label in ["IMAP server", "imap4.example.com", "SMTP server", "smtp4.example.com", "Last tests"] {
            let rect = harness.get_by_label(label).rect();
            assert!(rect.right() <= width, "\"{label}\" ends past the window's {width} px: {rect:?}");
            assert!(rect.width() >= 40.0, "\"{label}\" is squeezed to {rect:?}");
        }
        harness.get_by_label("SMTP server").rect().left()
    };
    let smtp_column_at_1024 = in_view(&harness, 1024.0);

    harness.set_size(egui::vec2(1440.0, 720.0));
    harness.run();
    let smtp_column_at_1440 = in_view(&harness, 1440.0);
    assert!(
        smtp_column_at_1440 > smtp_column_at_1024 + 100.0,
        "the columns did not grow with the window: SMTP server at {smtp_column_at_1024} then {smtp_column_at_1440}"
    );

    harness.set_size(egui::vec2(1024.0, 640.0));
    harness.run();
    // (Within a pixel: a label a fraction wider than its column widens it.)
    let again = in_view(&harness, 1024.0);
    assert!(
        (again - smtp_column_at_1024).abs() < 1.0,
        "the same width fits differently: {smtp_column_at_1024} then {again}"
    );
}

/// A column the admin drags wider keeps its width while the window keeps its size,
/// and fitting the columns to a new window size starts from the dragged widths.
#[test]
fn a_dragged_column_keeps_its_width_when_the_window_changes() {
    let (sandbox, _) = crowded_sandbox(5);
    let workspace = Workspace::open_or_read_only(&sandbox.config(), Secrets::file(sandbox.secrets_file()));
    let mut harness = harness_at(workspace, egui::vec2(1440.0, 720.0));
    let column_left = |harness: &Harness<'_, MailSettingsApp>, title: &str| harness.get_by_label(title).rect().left();
    let before = column_left(&harness, "Credential type");
    drag_left_edge_of_column(&mut harness, "Credential type", 60.0);
    let dragged = column_left(&harness, "Credential type");
    assert!((dragged - before - 60.0).abs() < 2.0, "the drag moved the column from {before} to {dragged}");
    harness.run();
    assert_eq!(column_left(&harness, "Credential type"), dragged, "the dragged width stays");

    // Narrower: everything is shrunk in proportion from the dragged widths, so the
    // description column stays wider than it started.
    harness.set_size(egui::vec2(1024.0, 640.0));
    harness.run();
    let narrow = column_left(&harness, "Credential type");
    harness.set_size(egui::vec2(1440.0, 720.0));
    harness.run();
    let back = column_left(&harness, "Credential type");
    assert!((back - dragged).abs() < 1.0, "back at the first size the dragged width is not: {dragged} then {back}");
    assert!(narrow < dragged, "the columns shrank with the window: {narrow} vs {dragged}");

    // A drag in the small window changes that column only: the others grow back.
    let smtp_wide = column_left(&harness, "SMTP server");
    harness.set_size(egui::vec2(1024.0, 640.0));
    harness.run();
    drag_left_edge_of_column(&mut harness, "Credential type", 20.0);
    harness.set_size(egui::vec2(1440.0, 720.0));
    harness.run();
    let smtp_after = column_left(&harness, "SMTP server");
    assert!(
        smtp_after > 0.9 * smtp_wide,
        "the columns stayed shrunk after a drag in the small window: SMTP server at {smtp_after}, was {smtp_wide}"
    );
}

/// Drags the edge left of the column titled `title` by `dx` points with the pointer.
fn drag_left_edge_of_column(harness: &mut Harness<'_, MailSettingsApp>, title: &str, dx: f32) {
    let header = harness.get_by_label(title).rect();
    let spacing = harness.ctx.style_of(harness.ctx.theme()).spacing.item_spacing.x;
    let edge = egui::pos2(header.left() - spacing / 2.0, header.center().y);
    let press = |pressed: bool, pos: egui::Pos2| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    harness.event(egui::Event::PointerMoved(edge));
    harness.step();
    harness.event(press(true, edge));
    harness.step();
    for step in 1..=6 {
        harness.event(egui::Event::PointerMoved(edge + egui::vec2(dx * step as f32 / 6.0, 0.0)));
        harness.step();
    }
    harness.event(press(false, edge + egui::vec2(dx, 0.0)));
    harness.run();
}

/// The table sorts text as people read it: "Mailbox 2" before "Mailbox 10", and by a
/// column's title ("SMTP server"), with a second click the other way round.
#[test]
fn the_table_sorts_numbers_in_names_by_their_value() {
    let (sandbox, _) = crowded_sandbox(12);
    let mut harness = harness(&sandbox);
    let above = |harness: &Harness<'_, MailSettingsApp>, upper: &str, lower: &str| {
        harness.get_by_label(upper).rect().top() < harness.get_by_label(lower).rect().top()
    };
    assert!(above(&harness, "Mailbox 2", "Mailbox 10"), "sorted by description, 2 comes before 10");
    assert!(above(&harness, "Mailbox 9", "Mailbox 11"));

    harness.get_by_label("SMTP server").click();
    harness.run();
    assert!(above(&harness, "smtp2.example.com", "smtp10.example.com"), "by SMTP server, smtp2 before smtp10");
    harness.get_by_label("SMTP server").click();
    harness.run();
    assert!(above(&harness, "smtp10.example.com", "smtp2.example.com"), "a second click sorts the other way");
}

/// Lists that offer settings by name follow the table's order: "Mailbox 2" before
/// "Mailbox 10", whatever order the config file has them in.
#[test]
fn lists_of_settings_are_in_the_order_people_read() {
    let sandbox = Sandbox::new();
    let mut config = mailsettings::model::Config::default();
    for (id, description) in
        [("s10", "Mailbox 10"), ("s9", "Mailbox 9"), ("other", "Other"), ("s2", "Mailbox 2"), ("s1", "Mailbox 1")]
    {
        config.mail_settings.push(mailsettings::model::MailSetting {
            id: id.into(),
            description: description.into(),
            ..Default::default()
        });
    }
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let mut harness = harness(&sandbox);
    // The open list's entries: those right of its label (the table's rows are further left).
    let offered_in_order = |harness: &Harness<'_, MailSettingsApp>, list: &str| {
        let left_edge = harness.get_by_label(list).rect().left();
        let top = |label: &str| {
            let entries: Vec<_> =
                harness.get_all_by_label(label).filter(|node| node.rect().left() >= left_edge).collect();
            assert_eq!(entries.len(), 1, "\"{label}\" is offered once in the open list");
            entries[0].rect().top()
        };
        top("Mailbox 1") < top("Mailbox 2")
            && top("Mailbox 2") < top("Mailbox 9")
            && top("Mailbox 9") < top("Mailbox 10")
    };
    click(&mut harness, "Migration");
    harness.get_by_label("Replace").click();
    settle(&mut harness);
    assert!(offered_in_order(&harness, "Replace"), "the settings to replace are not in order");
    harness.key_press(egui::Key::Escape);
    harness.run();

    // "Compare with" in the form of another setting lists the rest in order too.
    harness.get_by_role_and_label(Role::Button, "Mail Settings").click();
    settle(&mut harness);
    click(&mut harness, "Other");
    harness.get_by_label("Compare with").click();
    settle(&mut harness);
    assert!(offered_in_order(&harness, "Compare with"), "the settings to compare with are not in order");
}

/// Gmail's sign-in app in the window, client secret and all: typed masked, kept in
/// the OS credential store (the file store here) on a job thread, never in the
/// config — no terminal needed.
#[test]
fn gmails_client_secret_is_entered_in_the_window_and_kept_out_of_the_file() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Sign-in apps");
    fill(&mut harness, "Client ID", "1234-abc.apps.googleusercontent.com");
    fill(&mut harness, "Client secret", "GOCSPX-canary-client-secret");
    assert_eq!(input(&harness, "Client secret").accesskit_node().role(), Role::PasswordInput, "masked");
    press(&mut harness, "Save Gmail app");
    wait_until(&mut harness, "the app saved", |h| h.query_by_label_contains("Saved the Gmail sign-in app").is_some());
    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(config.contains("1234-abc.apps.googleusercontent.com"), "the client id is saved: {config}");
    assert!(!config.contains("canary-client-secret"), "the secret is not in the file: {config}");
    let stored = Secrets::file(sandbox.secrets_file())
        .get(
            mailsettings::store::SecretOwner::SignInApp("gmail".to_owned()),
            mailsettings::store::SecretKind::ClientSecret,
        )
        .unwrap()
        .expect("stored");
    assert_eq!(stored.expose(), "GOCSPX-canary-client-secret");
    assert!(harness.query_by_label_contains("GOCSPX").is_none(), "never on screen");
}

/// Tests before Active: the checklist offers "Set Active untested" while the new
/// setting is untested — a deliberate click, which the audit log records.
#[test]
fn the_checklist_sets_the_new_setting_active_untested_only_on_purpose() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let target = mailsettings::migration::Target::MICROSOFT_365;
    let new = mailsettings::migration::start(&mut workspace, "old-basic", &target).unwrap().new;
    let mut harness = harness_for(workspace);
    click(&mut harness, "Migration");
    assert!(harness.query_by_label("Set Active").is_none(), "no plain Set Active while untested");
    press(&mut harness, "Set Active untested");
    settle(&mut harness);
    let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    assert!(workspace.config().setting(&new).unwrap().active, "Active");
    let log = std::fs::read_to_string(workspace.audit_path()).unwrap();
    assert!(log.contains("activate-untested"), "audited: {log}");
}

/// The guide's literal path sets Active in the form: for a migration's untested
/// new setting, Save asks first; "Keep editing" saves nothing, "Set Active
/// untested" saves it Active and the audit log says so.
#[test]
fn the_form_asks_before_saving_a_migrations_untested_setting_active() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let target = mailsettings::migration::Target::MICROSOFT_365;
    let new = mailsettings::migration::start(&mut workspace, "old-basic", &target).unwrap().new;
    let name = workspace.config().setting_name(&new);
    let mut harness = harness_for(workspace);
    click(&mut harness, &name);
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    settle(&mut harness);
    click(&mut harness, "Save Ctrl+S");
    assert!(harness.query_by_label_contains("Active untested?").is_some(), "asked first");
    click(&mut harness, "Keep editing");
    let active = |sandbox: &Sandbox| {
        let workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
        workspace.config().setting(&new).unwrap().active
    };
    assert!(!active(&sandbox), "nothing saved while the admin keeps editing");
    click(&mut harness, "Save Ctrl+S");
    click(&mut harness, "Set Active untested");
    wait_until(&mut harness, "saved", |_| active(&sandbox));
    let log = std::fs::read_to_string(mailsettings::store::audit::audit_path_for(&sandbox.config())).unwrap();
    assert!(log.contains("activate-untested"), "audited: {log}");
}

/// The guide followed **literally** (../shared/reference/seed-mail-settings.txt), as
/// an admin who has only the guide: Edit the Basic setting and Cancel, "+ Add new
/// record" (Microsoft 365), fill it in, Save, Connect and both tests in the form —
/// then the form says which setting it replaces and opens the checklist with both
/// (no second new setting), Active, old Inactive (its companies move), the old
/// folders checked, and the old setting kept Inactive: "Congratulations". On a
/// Microsoft-shaped mailbox ("Sent Items", no "Sent"), at 1024×640. Counts the clicks.
#[test]
#[allow(clippy::too_many_lines, reason = "the guide followed literally, step by step, in one test")]
fn the_setup_guide_followed_literally_is_adopted_and_ends_in_congratulations() {
    let (sandbox, mut harness) = guide_start("literal", "Literal");
    let mut clicks = 0;

    // Steps 1–2: look at the Basic setting, then Cancel.
    guide_click(&mut harness, &mut clicks, "Edit");
    assert!(harness.query_by_label_contains("Edit \"Literal (BasicAuth)\"").is_some());
    guide_click(&mut harness, &mut clicks, "Cancel Esc");
    let new = add_record_connect_and_test(&mut harness, &mut clicks, &sandbox, "literal", "Literal");
    assert!(
        harness.query_by_label_contains("Replaces \"Literal (BasicAuth)\" (the same mailbox)").is_some(),
        "the form knows which setting this one replaces"
    );
    assert!(harness.query_by_role_and_label(Role::Button, "Replaces Basic").is_some(), "and so does the table");

    // The form's offer: the checklist with both settings, the tests already passed carried over.
    guide_click(&mut harness, &mut clicks, "Open the checklist");
    assert_eq!(harness.state().preferences().view, mailsettings::ui::commands::View::Migration);
    let config_now = harness.state().workspace().config().clone();
    assert_eq!(config_now.migration("literal-basic").map(|m| m.new.as_str()), Some(new.as_str()), "adopted");
    assert_eq!(config_now.mail_settings.len(), 2, "no duplicate was created");
    let adopted = config_now.migration("literal-basic").unwrap();
    assert!(adopted.outgoing_passed_at.is_some() && adopted.incoming_passed_at.is_some(), "{adopted:?}");
    // A new record is Active from the start ("ensure it is set to Active"), so step 10 goes on
    // with the old setting.
    assert!(
        harness.query_by_label_contains("Next — Old setting Inactive").is_some(),
        "connected, tested and Active already: nothing to run again"
    );

    // Steps 10–12, and the guide's other ending: the old setting kept Inactive.
    for action in ["Set old Inactive", "Check leftover mail", "Keep old Inactive"] {
        harness.get_by_role_and_label(Role::Button, action).scroll_to_me();
        for _ in 0..30 {
            harness.step();
        }
        let button = harness.get_by_role_and_label(Role::Button, action).rect();
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 640.0));
        assert!(screen.contains_rect(button), "\"{action}\" is not in view at 1024×640: {button:?}");
        guide_click(&mut harness, &mut clicks, action);
        wait_until(&mut harness, action, |h| !h.state().is_busy());
    }
    assert!(harness.query_by_label("Congratulations! You are now set up!").is_some());
    let config_now = harness.state().workspace().config().clone();
    let kept = config_now.setting("literal-basic").expect("kept, not deleted");
    assert!(!kept.active, "kept Inactive");
    assert!(config_now.setting(&new).unwrap().active);
    assert_eq!(config_now.company("acme").unwrap().default_mail_setting.as_deref(), Some(new.as_str()));
    assert!(config_now.migration("literal-basic").unwrap().kept_old_inactive);
    // The table reminds of the kept setting's folders, one click away.
    harness.get_by_role_and_label(Role::Button, "Mail Settings").click();
    settle(&mut harness);
    screenshot(&mut harness, "table-kept-inactive");
    press(&mut harness, "Check folders");
    wait_until(&mut harness, "the re-check from the table", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Leftover)
    });
    assert!(harness.state().shown_report().unwrap().passed, "the reminder in the table is one click");
    println!("the setup guide, followed literally, took {clicks} clicks (typing aside) and one sign-in");
}

/// The guide done by hand where it says so, no assistant entered: after "+ Add new
/// record", Connect and both tests, step 10 as written (Edit the former setting →
/// Inactive → Save, its company moved to the new one as step 11 selects it), then the
/// former setting deleted from the form. Every guard rail holds: the table still says
/// which setting replaces it, and the Delete checks the old folders for mail not yet
/// retrieved before it deletes, ending in "Congratulations".
#[test]
fn the_guide_done_by_hand_keeps_every_guard_rail_to_congratulations() {
    let (sandbox, mut harness) = guide_start("byhand", "ByHand");
    let mut clicks = 0;
    let new = add_record_connect_and_test(&mut harness, &mut clicks, &sandbox, "byhand", "ByHand");

    // Step 10 as the guide words it: Edit the former setting, Inactive, Save (its company
    // moves to the new setting — the guide's step 11 — in the same confirmation).
    guide_click(&mut harness, &mut clicks, "ByHand (BasicAuth)");
    assert!(harness.query_by_label("Edit \"ByHand (BasicAuth)\"").is_some());
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    settle(&mut harness);
    guide_click(&mut harness, &mut clicks, "Save Ctrl+S");
    guide_click(&mut harness, &mut clicks, "Move and set Inactive");
    wait_until(&mut harness, "the save", |h| !h.state().is_busy());
    let config_now = harness.state().workspace().config().clone();
    assert!(!config_now.setting("byhand-basic").unwrap().active, "Inactive, by hand");
    assert_eq!(config_now.company("acme").unwrap().default_mail_setting.as_deref(), Some(new.as_str()));
    assert!(config_now.migration("byhand-basic").is_none(), "no assistant entered");
    assert!(
        harness.query_by_role_and_label(Role::Button, "Replaces Basic").is_some(),
        "the table still says the new setting replaces the old one, Inactive as it is"
    );

    // The guide's last step, by hand: Delete the former setting from its form. It is not
    // a plain delete: the old folders are checked first, then "Congratulations".
    guide_click(&mut harness, &mut clicks, "ByHand (BasicAuth)");
    guide_click(&mut harness, &mut clicks, "Delete");
    assert!(harness.query_by_label_contains("is replaced by \"ByHand (Microsoft 365)\" (the same mailbox)").is_some());
    guide_click(&mut harness, &mut clicks, "Check folders and delete");
    wait_until(&mut harness, "the re-check and the delete", |h| {
        !h.state().is_busy() && h.state().workspace().config().setting("byhand-basic").is_none()
    });
    settle(&mut harness);
    assert!(harness.query_by_label("Congratulations! You are now set up!").is_some());
    let config_now = harness.state().workspace().config().clone();
    let migration = config_now.migrations.iter().find(|m| m.old == "byhand-basic").expect("recorded");
    assert!(migration.finished_at.is_some(), "{migration:?}");
    assert!(
        migration.leftover.as_ref().is_some_and(|check| check.total == 0),
        "the folders were checked: {migration:?}"
    );
    println!("the guide done by hand took {clicks} clicks (typing aside) and one sign-in");
}

/// The guide where SMTP AUTH is off for the mailbox (the rig's nosmtp@, refused in
/// Microsoft's words): the same journey with "Sends with" and "Reads with" set to
/// Microsoft Graph — the same two test mails and "OK", the old setting made Inactive
/// by hand, its folders re-checked through Graph, and "Congratulations".
#[test]
fn the_guide_through_microsoft_graph_where_smtp_auth_is_off_ends_in_congratulations() {
    let (sandbox, mut harness) = guide_start("nosmtp", "NoSmtp");
    let mut clicks = 0;
    let new = add_record_connect_and_test_by(&mut harness, &mut clicks, &sandbox, ("nosmtp", "NoSmtp"), true);
    let saved = harness.state().workspace().config().setting(&new).unwrap().clone();
    assert_eq!((saved.smtp.sends_with, saved.imap.reads_with), (Transport::Graph, Transport::Graph));
    let report = harness.state().shown_report().unwrap().to_text();
    assert!(report.contains("(Microsoft Graph) as nosmtp@rig.test"), "{report}");
    screenshot(&mut harness, "guide-through-graph");

    guide_click(&mut harness, &mut clicks, "NoSmtp (BasicAuth)");
    harness.get_by_role_and_label(Role::CheckBox, "Active").scroll_to_me();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::CheckBox, "Active").click();
    settle(&mut harness);
    guide_click(&mut harness, &mut clicks, "Save Ctrl+S");
    guide_click(&mut harness, &mut clicks, "Move and set Inactive");
    wait_until(&mut harness, "the save", |h| !h.state().is_busy());
    guide_click(&mut harness, &mut clicks, "NoSmtp (BasicAuth)");
    guide_click(&mut harness, &mut clicks, "Delete");
    guide_click(&mut harness, &mut clicks, "Check folders and delete");
    wait_until(&mut harness, "the re-check through Graph and the delete", |h| {
        !h.state().is_busy() && h.state().workspace().config().setting("nosmtp-basic").is_none()
    });
    settle(&mut harness);
    assert!(harness.query_by_label("Congratulations! You are now set up!").is_some());
    let config_now = harness.state().workspace().config().clone();
    let migration = config_now.migrations.iter().find(|m| m.old == "nosmtp-basic").expect("recorded");
    assert!(migration.leftover.as_ref().is_some_and(|check| check.total == 0), "{migration:?}");
    let requests = crate::rig::rig().api_requests("nosmtp");
    assert!(
        requests.iter().any(|r| r.starts_with("GET") && r.contains("displayName eq 'Mail Not Filed'")),
        "the old folders were counted through Graph: {requests:?}"
    );
}

/// The start of the guide on the rig's Microsoft-shaped `mailbox`: its Basic setting
/// `{mailbox}-basic` ("NAME (BasicAuth)", passwords stored) the default of Acme, its old
/// folders empty, Microsoft's endpoints pointed at the rig with the organisation's app
/// registered already, the window at 1024×640.
fn guide_start(mailbox: &str, name: &str) -> (Sandbox, Harness<'static, MailSettingsApp>) {
    let rig = crate::rig::rig();
    for folder in ["Mail Not Read", "Mail Not Filed"] {
        rig.empty(mailbox, folder);
    }
    let sandbox = Sandbox::new();
    let mut old = rig.basic_setting(&format!("{mailbox}-basic"), mailbox);
    old.description = format!("{name} (BasicAuth)");
    let mut config = rig.config_with(vec![old]);
    config.companies = vec![mailsettings::model::Company {
        id: "acme".into(),
        name: "Acme".into(),
        default_mail_setting: Some(format!("{mailbox}-basic").into()),
    }];
    // Microsoft's endpoints (sign-in and Graph), pointed at the rig; the organisation's app is
    // registered already and asks for what each setting's roads need (the catalogue's scopes).
    let mut endpoints = crate::oauth::provider_entry(rig, "microsoft365");
    endpoints.redirect_host = None;
    endpoints.scopes.clear();
    endpoints.api_url = Some(rig.graph_url.clone());
    config.oauth_providers.push(endpoints);
    let secrets = Secrets::file(sandbox.secrets_file());
    for kind in [mailsettings::store::SecretKind::SmtpPassword, mailsettings::store::SecretKind::ImapPassword] {
        secrets.set(&format!("{mailbox}-basic"), kind, &mailsettings::Secret::new(rig.password.clone())).unwrap();
    }
    let mut harness = rig_harness(&sandbox, &config);
    harness.set_size(egui::vec2(1024.0, 640.0));
    settle(&mut harness);
    (sandbox, harness)
}

/// The guide's steps 3–9 as written, beside the Basic setting `{mailbox}-basic`: "+ Add
/// new record" (Microsoft 365 by its Sent Items), the guide's fields, Save, Connect in
/// the form (signing in as `mailbox` on the rig), and both tests passing. The new id.
fn add_record_connect_and_test(
    harness: &mut Harness<'_, MailSettingsApp>,
    clicks: &mut u32,
    sandbox: &Sandbox,
    mailbox: &str,
    name: &str,
) -> String {
    add_record_connect_and_test_by(harness, clicks, sandbox, (mailbox, name), false)
}

/// As [`add_record_connect_and_test`]; with `graph`, both sides through Microsoft Graph
/// ("Sends with", "Reads with") instead of the rig's SMTP and IMAP servers.
fn add_record_connect_and_test_by(
    harness: &mut Harness<'_, MailSettingsApp>,
    clicks: &mut u32,
    sandbox: &Sandbox,
    (mailbox, name): (&str, &str),
    graph: bool,
) -> String {
    let rig = crate::rig::rig();
    let address = rig.address(mailbox);
    guide_click(harness, clicks, "+ Add new record Ctrl+N");
    fill(harness, "Description", &format!("{name} (Microsoft 365)"));
    fill(harness, "Subject Tag", "[LIT-AR]");
    fill(harness, "Default Send as Email", &address);
    fill(harness, "From Name", &format!("{name} AR Team"));
    fill(harness, "(From) User Name", &address);
    fill(harness, "(From) User Domain", &rig.domain);
    fill_in(harness, INCOMING, "User Name", &address);
    fill_in(harness, INCOMING, "User Domain", &rig.domain);
    let sent = input_in(harness, INCOMING, "Sent Items Folder").accesskit_node().value().unwrap_or_default();
    assert_eq!(sent, "Sent Items", "Microsoft 365's own name, filled by the type: nothing to retype");
    // Only because the rig stands in for Microsoft: its servers replace Microsoft's (typing only).
    // (Through Graph they are not used, and kept: the migration knows the old mailbox by them.)
    retype_in(harness, OUTGOING, "Server Name", "localhost");
    retype_in(harness, OUTGOING, "Port", &rig.smtp_port.to_string());
    retype_in(harness, INCOMING, "Server Name", "localhost");
    retype_in(harness, INCOMING, "Port", &rig.imaps_port.to_string());
    if graph {
        choose(harness, "Sends with", "Microsoft Graph");
        choose(harness, "Reads with", "Microsoft Graph");
        assert!(
            section(harness, OUTGOING).query_by_label("Server Name").is_none(),
            "through Graph there is no server to set"
        );
    }
    guide_click(harness, clicks, "Save Ctrl+S");
    let saved = harness.state().workspace().config().mail_settings.clone();
    assert_eq!(saved.len(), 2, "saved beside the Basic setting");
    let new = saved.iter().find(|s| s.id != format!("{mailbox}-basic")).unwrap().id.clone();

    // Step 8: Connect, in the form.
    guide_click(harness, clicks, "Connect");
    wait_until(harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    assert!(std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap().success());
    wait_until(harness, "connected", |h| h.query_all_by_label(&format!("Connected as {address}")).count() > 0);

    // Step 9: both tests, in the form.
    fill(harness, "Send test emails to", "admin@example.org");
    for (button, kind) in [
        ("Test Outgoing Settings", mailsettings::probe::ProbeKind::Outgoing),
        ("Test Incoming Settings", mailsettings::probe::ProbeKind::Incoming),
    ] {
        guide_click(harness, clicks, button);
        wait_until(harness, button, |h| {
            !h.state().is_busy() && h.state().shown_report().is_some_and(|r| r.kind == kind)
        });
        let report = harness.state().shown_report().unwrap();
        assert!(report.passed, "{}", report.to_text());
    }
    new.into()
}

/// Errors where the action was: a Connect started from the Migration view that
/// fails shows its reason and diagnosis under the checklist — no form is open to
/// "see" — and copies out for support.
#[test]
fn a_failed_connect_from_the_checklist_is_explained_in_the_checklist() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut old = rig.basic_setting("declined-basic", "ar");
    old.imap.user_name = "deny@rig.test".to_owned(); // the rig's user declines the sign-in
    let mut config = rig.config_with(vec![old]);
    config.oauth_providers.push(crate::oauth::provider_entry(rig, "rigidp"));
    std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
    let mut workspace = Workspace::open(&sandbox.config(), Secrets::file(sandbox.secrets_file())).unwrap();
    let target = mailsettings::migration::Target::Provider("rigidp".to_owned());
    mailsettings::migration::start(&mut workspace, "declined-basic", &target).unwrap();
    let mut harness = harness_at(workspace, egui::vec2(1024.0, 640.0));
    click(&mut harness, "Migration");
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap();
    wait_until(&mut harness, "the failed Connect", |h| {
        !h.state().is_busy() && h.query_by_label_contains("the reason is under the checklist").is_some()
    });
    assert!(harness.query_all_by_label_contains("declined").count() > 0, "the reason, in the Migration view");
    assert!(harness.query_all_by_label_contains("Press Connect again").count() > 0, "and what to do");
    let copied = press_and_copy(&mut harness, "Copy");
    assert!(copied.contains("access_denied") && copied.contains("Press Connect again"), "{copied}");
}

/// The welcome's migrate path starts from the guide, not from an export: the old
/// Basic setting is typed into the same form, and its Save goes straight on to the
/// migration assistant with it chosen.
#[test]
fn the_welcome_migrates_an_old_setting_typed_in() {
    let sandbox = Sandbox::new();
    let mut harness = harness(&sandbox);
    // Before the first Connect, the welcome has the message for IT ready.
    let request = press_and_copy(&mut harness, "Copy message for your IT administrator (Microsoft 365)");
    assert!(request.contains("sign-in app registered once") && request.contains("send it to me"), "{request}");
    click(&mut harness, "Migrate an existing Basic setting…");
    assert!(harness.query_by_label_contains("Type the old Basic setting as the old system shows it").is_some());
    // As the old system shows it, and the guide prints it: "office365.com", no passwords.
    fill(&mut harness, "Description", "Collections test");
    fill(&mut harness, "Subject Tag", "[TEST-AR]");
    fill_in(&mut harness, OUTGOING, "Server Name", "office365.com");
    fill(&mut harness, "Default Send as Email", "collections@example.com");
    fill(&mut harness, "From Name", "Example AR Team");
    fill(&mut harness, "(From) User Name", "collections@example.com");
    fill(&mut harness, "(From) User Domain", "example.com");
    fill_in(&mut harness, INCOMING, "Server Name", "outlook.office365.com");
    fill(&mut harness, "User Name", "replies@example.com");
    fill(&mut harness, "User Domain", "example.com");
    assert!(
        harness.query_by_label_contains("only needed when it is made Active").is_some(),
        "the guide's host and the missing passwords are said, not refused"
    );
    click(&mut harness, "Save Ctrl+S");
    assert_eq!(harness.state().preferences().view, mailsettings::ui::commands::View::Migration);
    assert!(harness.query_by_label_contains("choose what it moves to, then Start migration").is_some());
    let start = harness.get_by_role_and_label(Role::Button, "Start migration");
    assert!(!start.accesskit_node().is_disabled(), "the typed setting is the one to replace, a target chosen");
    press(&mut harness, "Start migration");
    settle(&mut harness);
    let config = harness.state().workspace().config().clone();
    let migration = config.migration("collections-test").expect("the migration of the typed setting started");
    let old = config.setting("collections-test").unwrap();
    assert_eq!(old.smtp.server, "office365.com", "kept as the old system holds it");
    assert!(!old.active, "a record to migrate from");
    assert_eq!(config.setting(&migration.new).unwrap().smtp.server, "smtp.office365.com", "corrected on the new one");
}

/// Admin approval in the window: a Connect refused because users may not consent
/// offers the request to forward (with the tenant's approval link), one click to copy.
#[test]
fn a_sign_in_needing_admin_approval_offers_the_request_to_forward() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let mut setting = rig.basic_setting("win-consent", "ar");
    setting.credential = mailsettings::model::CredentialKind::Microsoft365;
    setting.description = "Consent".to_owned();
    setting.imap.user_name = "consent-window@rig.test".to_owned();
    let mut config = rig.config_with(vec![setting]);
    let mut entry = crate::oauth::provider_entry(rig, "microsoft365");
    entry.client_id = "mailsettings-confidential".to_owned();
    entry.client_secret = Some("rig-desktop-client-secret".to_owned());
    entry.scopes = microsoft_scopes();
    entry.admin_consent_url =
        Some(format!("https://127.0.0.1:{}/adminconsent?client_id={{client_id}}", rig.oauth_port));
    config.oauth_providers.push(entry);
    let mut harness = rig_harness(&sandbox, &config);
    click(&mut harness, "Consent");
    press(&mut harness, "Connect");
    wait_until(&mut harness, "the sign-in link", |h| h.query_by_label("Copy link").is_some());
    let url = press_and_copy(&mut harness, "Copy link");
    let script = crate::oauth::browser_script(sandbox.dir.path(), crate::oauth::Browser::SignIn);
    std::process::Command::new(script).arg(&url).env("RIG_CA_FILE", &rig.ca_file).status().unwrap();
    wait_until(&mut harness, "the refused Connect", |h| {
        !h.state().is_busy() && h.query_by_role_and_label(Role::Button, "Copy request for your administrator").is_some()
    });
    let request = press_and_copy(&mut harness, "Copy request for your administrator");
    let link = format!("https://127.0.0.1:{}/adminconsent?client_id=mailsettings-confidential", rig.oauth_port);
    assert!(request.contains(&link) && request.contains("administrator"), "{request}");
}

/// A Basic setting that sends through Microsoft: the table and the form count down to
/// the day Microsoft switches Basic SMTP AUTH off by default, and one click opens the
/// migration with it chosen.
#[test]
fn a_basic_microsoft_setting_counts_down_to_the_end_of_basic_smtp() {
    let sandbox = Sandbox::new();
    let mut setting = crate::rig::rig().basic_setting("m365-basic", "ar");
    setting.description = "Microsoft Basic".to_owned();
    mailsettings::model::presets::MICROSOFT_365.apply(&mut setting);
    std::fs::write(
        sandbox.config(),
        mailsettings::store::file::to_toml(&mailsettings::model::Config {
            mail_settings: vec![setting],
            ..Default::default()
        })
        .unwrap(),
    )
    .unwrap();
    let mut harness = harness(&sandbox);
    let today = time::OffsetDateTime::now_utc().date();
    let days = (mailsettings::model::providers::MICROSOFT_BASIC_SMTP_OFF - today).whole_days();
    let label = if days > 0 { format!("Migrate ({days} days left)") } else { "Migrate now".to_owned() };
    assert!(harness.query_by_role_and_label(Role::Button, &label).is_some(), "the table counts down: {label}");
    click(&mut harness, "Microsoft Basic");
    assert!(harness.query_all_by_label_contains("sign-in for sending off by default on 31 December 2026").count() > 0);
    press(&mut harness, "Migrate this setting");
    settle(&mut harness);
    assert_eq!(harness.state().preferences().view, mailsettings::ui::commands::View::Migration);
    let start = harness.get_by_role_and_label(Role::Button, "Start migration");
    assert!(!start.accesskit_node().is_disabled(), "the setting is chosen, Microsoft 365 too: one click to start");
}

/// "Check readiness" in the form's More tests: the servers asked, the answer in the
/// report panel like any test's.
#[test]
fn check_readiness_in_the_window() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    Secrets::file(sandbox.secrets_file())
        .set(
            "ready-basic",
            mailsettings::store::SecretKind::SmtpPassword,
            &mailsettings::Secret::new(rig.password.clone()),
        )
        .unwrap();
    Secrets::file(sandbox.secrets_file())
        .set(
            "ready-basic",
            mailsettings::store::SecretKind::ImapPassword,
            &mailsettings::Secret::new(rig.password.clone()),
        )
        .unwrap();
    let mut harness = rig_harness(&sandbox, &rig.config_with(vec![rig.basic_setting("ready-basic", "ar")]));
    click(&mut harness, "Rig ar");
    click(&mut harness, "More tests…");
    click(&mut harness, "Check readiness");
    wait_until(&mut harness, "the readiness report", |h| {
        !h.state().is_busy()
            && h.state().shown_report().is_some_and(|r| r.kind == mailsettings::probe::ProbeKind::Readiness)
    });
    let report = harness.state().shown_report().unwrap();
    assert!(report.passed, "{}", report.to_text());
    assert!(harness.query_by_label_contains("Readiness").is_some());
    assert!(harness.query_all_by_label_contains("IMAP sign-in works").count() > 0);
}

/// "Check all now": every Active setting checked on a job thread; the status bar names
/// what is not working, the failing report opens, and each result lands in "Last tests".
#[test]
fn check_all_now_in_the_window_names_what_is_not_working() {
    let rig = crate::rig::rig();
    let sandbox = Sandbox::new();
    let good = rig.basic_setting("win-all-good", "ar");
    let mut wrong = rig.basic_setting("win-all-wrong", "ar");
    wrong.description = "Rig wrong password".to_owned();
    let secrets = Secrets::file(sandbox.secrets_file());
    for (id, password) in [("win-all-good", rig.password.as_str()), ("win-all-wrong", "not-the-password")] {
        for kind in [mailsettings::store::SecretKind::SmtpPassword, mailsettings::store::SecretKind::ImapPassword] {
            secrets.set(id, kind, &mailsettings::Secret::new(password)).unwrap();
        }
    }
    let mut config = rig.config_with(vec![good, wrong]);
    config.companies = vec![mailsettings::model::Company {
        id: "acme".into(),
        name: "Acme".into(),
        default_mail_setting: Some("win-all-wrong".into()),
    }];
    let mut harness = rig_harness(&sandbox, &config);
    press(&mut harness, "Check all now");
    wait_until(&mut harness, "the checks", |h| {
        !h.state().is_busy() && h.query_by_label_contains("Checked 2:").is_some()
    });
    assert!(harness.query_by_label_contains("Checked 2: 1 not working: Rig wrong password").is_some());
    assert!(harness.state().shown_report().is_some_and(|r| !r.passed), "the failing report is open");
    assert!(harness.query_all_by_label_contains("In OK").count() > 0, "the good one's Last tests");
    assert!(std::fs::read_to_string(sandbox.dir.path().join("checks.jsonl")).unwrap().lines().count() == 2);

    // Health at a glance: worst first, since when, and the company whose default fails.
    harness.get_by_role_and_label(Role::Button, "Health").click();
    settle(&mut harness);
    press(&mut harness, "Close");
    settle(&mut harness);
    let failing = harness.get_by_label("FAILING").rect();
    let ok = harness.get_by_label("OK").rect();
    assert!(failing.top() < ok.top(), "worst first");
    assert!(harness.query_by_label_contains("FAILING since").is_some());
    assert!(harness.query_by_label_contains("The default for Acme: their mail stops until this works").is_some());
    screenshot(&mut harness, "health");
}

/// Health view > Alerts: the channels typed in the window are checked and saved (a plain
/// http webhook to another host is refused), and "Send a test alert" reaches a real
/// local webhook receiver, its result shown per channel.
#[test]
fn alerts_are_set_in_the_window_and_a_test_alert_arrives() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    harness.get_by_role_and_label(Role::Button, "Health").click();
    settle(&mut harness);
    assert!(
        harness.get_by_role_and_label(Role::Button, "Send a test alert").accesskit_node().is_disabled(),
        "nothing to test before a channel is saved"
    );
    fill(&mut harness, "Webhook", "http://hooks.example.com/x");
    press(&mut harness, "Save alerts");
    settle(&mut harness);
    assert!(harness.query_by_label_contains("Alerts not saved: Webhook").is_some(), "plain http elsewhere refused");
    assert!(!std::fs::read_to_string(sandbox.config()).unwrap().contains("hooks.example.com"));

    let (url, bodies) = crate::oauth::webhook_receiver();
    input(&harness, "Webhook").focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(&mut harness);
    input(&harness, "Webhook").type_text(&url);
    harness.get_by_role_and_label(Role::CheckBox, "Desktop notification").click();
    settle(&mut harness);
    press(&mut harness, "Save alerts");
    wait_until(&mut harness, "the alerts saved", |h| h.query_by_label_contains("Alerts saved: webhook").is_some());
    // The address's path is the webhook's key: in the OS store, never in the config or on screen.
    let text = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(text.contains("webhook = \"http://127.0.0.1/…\"") && text.contains("desktop = true"), "{text}");
    assert!(!text.contains("WEBHOOKKEY"), "{text}");
    assert!(harness.query_by_label_contains("WEBHOOKKEY").is_none(), "the key is not shown");

    press(&mut harness, "Send a test alert");
    wait_until(&mut harness, "the test alert", |h| h.query_by_label_contains("Test alert — webhook: sent").is_some());
    let received = bodies.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].contains("this is a test alert"), "{received:?}");
    screenshot(&mut harness, "health-alerts");
}

/// Sign-in apps' Network section: the proxy typed in the window is saved to the config
/// (and a proxy address with a password in it is refused).
#[test]
fn the_proxy_is_set_in_the_window() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut harness = harness(&sandbox);
    click(&mut harness, "Sign-in apps");
    fill(&mut harness, "Proxy", "http://user:secret@proxy.corp.example:3128");
    press(&mut harness, "Save network");
    settle(&mut harness);
    let notice = harness.get_by_label_contains("store the password on its own (the Proxy password field)");
    let said = format!("{:?}", notice.accesskit_node().label());
    assert!(!said.contains("user:secret"), "the typed password is not echoed in the notice: {said}");
    assert!(!std::fs::read_to_string(sandbox.config()).unwrap().contains("proxy"));
    input(&harness, "Proxy").focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(&mut harness);
    input(&harness, "Proxy").type_text("http://proxy.corp.example:3128");
    fill(&mut harness, "Reach directly", ".corp.example");
    press(&mut harness, "Save network");
    settle(&mut harness);
    let text = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(
        text.contains("proxy = \"http://proxy.corp.example:3128\"") && text.contains("no_proxy = \".corp.example\""),
        "{text}"
    );

    // A proxy that asks for a password: the name in the address, the password (masked) to the OS store.
    input(&harness, "Proxy").focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(&mut harness);
    input(&harness, "Proxy").type_text("http://arteam@proxy.corp.example:3128");
    fill(&mut harness, "Proxy password", CANARY);
    assert!(harness.query_by_label_contains(CANARY).is_none(), "the password is masked");
    press(&mut harness, "Save network");
    wait_until(&mut harness, "the password stored", |h| {
        h.query_by_label_contains("its password in the OS credential store").is_some()
    });
    let text = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(text.contains("proxy = \"http://arteam@proxy.corp.example:3128\"") && !text.contains(CANARY), "{text}");
    let stored = Secrets::file(sandbox.secrets_file())
        .get(mailsettings::store::SecretOwner::Proxy, mailsettings::store::SecretKind::ProxyPassword)
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), CANARY);
    assert!(input(&harness, "Proxy password").value().is_none_or(|v| v.is_empty()), "the field is emptied");
}
