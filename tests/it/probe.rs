//! Test Outgoing / Test Incoming / round trip / detect / leftover against the
//! real rig, and every hostile case: a clear diagnosis, no credential sent,
//! no hang past the timeout.

use std::path::Path;
use std::time::{Duration, Instant};

use mailsettings::Secret;
use mailsettings::cancel::CancelToken;
use mailsettings::model::{MailSetting, Security};
use mailsettings::probe::{self, IncomingInput, OutgoingInput, ProbeOptions, Report, StageName};

use crate::hostile::{Behaviour, Hostile, TestCa, self_signed_server};
use crate::rig::rig;

/// Probe inputs for a setting whose passwords are `password`.
fn inputs(setting: &MailSetting, password: &str) -> (OutgoingInput, IncomingInput) {
    let password = || probe::SignIn::Password(Secret::new(password));
    probe::inputs_for(setting, password(), password())
}

fn options_trusting(ca: &Path) -> ProbeOptions {
    ProbeOptions::new(mailsettings::tls::client_config(&[ca.to_owned()]).unwrap())
}

fn rig_options() -> ProbeOptions {
    options_trusting(&rig().ca_file)
}

fn stage_names(report: &Report) -> Vec<StageName> {
    report.stages.iter().map(|s| s.name).collect()
}

fn signature(report: &Report) -> &'static str {
    report.diagnosis.as_ref().map_or("none", |d| d.signature)
}

fn fact<'r>(report: &'r Report, name: &str) -> &'r str {
    report.facts.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
}

#[track_caller]
fn assert_passed(report: &Report) {
    assert!(report.passed, "{}", report.to_text());
}

fn wait_for(mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn test_outgoing_sends_two_messages_in_one_starttls_session() {
    let rig = rig();
    let setting = rig.basic_setting("out-starttls", "ar");
    let (outgoing, _) = inputs(&setting, &rig.password);
    let report = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &rig_options(), &CancelToken::new());
    assert_passed(&report);
    use StageName::*;
    assert_eq!(
        stage_names(&report),
        vec![Dns, Connect, Greeting, Capabilities, Starttls, Tls, Capabilities, Authentication, Send]
    );
    let tls = report.stages.iter().find(|s| s.name == Tls).unwrap();
    assert!(tls.detail.contains("TLS 1.") && tls.detail.contains("CN=localhost"), "{}", tls.detail);
    let run_id = fact(&report, "Test run").to_owned();
    // Both messages arrive (the rig delivers every outside address to "catchall").
    assert!(
        wait_for(|| rig.count_with_header("catchall", "INBOX", "X-Mailsettings-Run", &run_id) == 2),
        "two messages delivered"
    );
    let run = ("X-Mailsettings-Run", run_id.as_str());
    assert_eq!(
        rig.count_with_headers(
            "catchall",
            "INBOX",
            &[run, ("Subject", "Mail Settings test 1 of 2"), ("From", "Rig AR Team")]
        ),
        1
    );
    assert_eq!(
        rig.count_with_headers(
            "catchall",
            "INBOX",
            &[run, ("Subject", "[RIG-AR] Test message 2 of 2"), ("Reply-To", "ar@rig.test")]
        ),
        1
    );
    assert!(!report.to_text().contains(&rig.password));
}

#[test]
fn test_outgoing_over_tls_on_connect() {
    let rig = rig();
    let mut setting = rig.basic_setting("out-tls", "ar");
    setting.smtp.port = rig.smtps_port;
    setting.smtp.security = Security::Tls;
    let (outgoing, _) = inputs(&setting, &rig.password);
    let report = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &rig_options(), &CancelToken::new());
    assert_passed(&report);
    assert_eq!(report.stages[2].name, StageName::Tls);
}

#[test]
fn test_incoming_over_tls_and_starttls_checks_folders() {
    let rig = rig();
    for (port, security) in [(rig.imaps_port, Security::Tls), (rig.imap_port, Security::Starttls)] {
        let mut setting = rig.basic_setting("in", "ar");
        setting.imap.port = port;
        setting.imap.security = security;
        let (_, incoming) = inputs(&setting, &rig.password);
        let report = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
        assert_passed(&report);
        let names = stage_names(&report);
        assert!(names.contains(&StageName::Folders) && names.contains(&StageName::Authentication));
        assert_eq!(names.contains(&StageName::Starttls), security == Security::Starttls);
        assert!(fact(&report, "inbox folder \"Inbox\"").contains("messages"), "{}", report.to_text());
        assert!(fact(&report, "sent folder \"Sent\"").contains("messages"));
    }
}

#[test]
fn a_wrong_password_is_diagnosed_and_never_echoed() {
    let rig = rig();
    let setting = rig.basic_setting("wrong-pw", "ar");
    let canary = "canary-Wr0ng-pw-4242";
    let (outgoing, incoming) = inputs(&setting, canary);
    let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &rig_options(), &CancelToken::new());
    assert!(!smtp.passed);
    assert_eq!(signature(&smtp), "smtp-authentication-failed", "{}", smtp.to_text());
    let auth = smtp.stages.iter().find(|s| s.name == StageName::Authentication).unwrap();
    assert!(auth.server_reply.as_deref().unwrap_or("").contains("535"), "the server's words are kept");
    let imap = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
    assert_eq!(signature(&imap), "imap-authentication-failed", "{}", imap.to_text());
    for report in [&smtp, &imap] {
        assert!(!report.to_text().contains(canary));
        assert!(!serde_json::to_string(report).unwrap().contains(canary));
    }
}

#[test]
fn a_missing_sent_folder_names_the_servers_own() {
    let rig = rig();
    let mut setting = rig.basic_setting("sent-items", "ar");
    setting.imap.sent_folder = "Sent Items".to_owned();
    let (_, incoming) = inputs(&setting, &rig.password);
    let report = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
    assert_eq!(signature(&report), "folder-missing");
    let folders = report.stages.iter().find(|s| s.name == StageName::Folders).unwrap();
    assert!(folders.detail.contains("the server's sent folder is \"Sent\""), "{}", folders.detail);
    assert!(folders.server_reply.as_deref().unwrap().contains("Mail Not Read"), "lists the server's folders");
    let fix = report.folder_fix.clone().expect("a fix to offer");
    assert_eq!((fix.configured.as_str(), fix.server_folder.as_str()), ("Sent Items", "Sent"));
}

/// The rig's Gmail-shaped mailbox: the guide's "Sent" does not exist there; Gmail's
/// preset names its own, and the probe finds it (marked \Sent) when the setting still
/// says "Sent". (The Microsoft-shaped mailboxes take no password for IMAP — below — so
/// their "Sent Items" is found over OAuth, in tests/it/microsoft.rs.)
#[test]
fn provider_shaped_mailboxes_have_their_own_sent_folders() {
    let rig = rig();
    let (preset, sent) = (mailsettings::model::presets::GMAIL, "[Gmail]/Sent Mail");
    let setting = rig.basic_setting("shaped", "gmail");
    assert_eq!(setting.imap.sent_folder, "Sent", "the guide's general default");
    // Google takes an app password, never the account's own (tests/it/google.rs).
    let password = &rig.gmail_app_password;
    let (_, incoming) = inputs(&setting, password);
    let report = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
    assert_eq!(signature(&report), "folder-missing", "{}", report.to_text());
    let fix = report.folder_fix.clone().expect("the server's own sent folder");
    assert_eq!(fix.server_folder, sent, "{}", report.to_text());
    let listed = report.stages.iter().find(|s| s.name == StageName::Folders).unwrap();
    assert!(!listed.server_reply.as_deref().unwrap().contains("Sent,"), "no \"Sent\" here: {listed:?}");
    // The provider's preset names it from the start.
    let mut preset_setting = setting.clone();
    preset.apply_incoming(&mut preset_setting);
    preset_setting.imap.server = "localhost".to_owned();
    preset_setting.imap.port = rig.imaps_port;
    assert_eq!(preset_setting.imap.sent_folder, sent);
    let (_, incoming) = inputs(&preset_setting, password);
    let report = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
    assert_passed(&report);
    assert!(fact(&report, &format!("sent folder \"{sent}\"")).contains("messages"), "{}", report.to_text());
}

/// Exchange Online switched Basic authentication for IMAP off in 2022: every Microsoft-shaped
/// mailbox on the rig refuses its own, right password with Microsoft's "LOGIN failed." — the
/// sign-in stage fails with those words, and the password appears nowhere in the report.
#[test]
fn microsoft_shaped_imap_refuses_even_the_right_password() {
    let rig = rig();
    for user in ["m365", "guide", "cutover"] {
        let setting = rig.basic_setting("m365-password", user);
        let (_, incoming) = inputs(&setting, &rig.password);
        let report = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
        assert!(!report.passed, "{}", report.to_text());
        let sign_in = report.stages.iter().find(|s| s.name == StageName::Authentication).unwrap();
        assert_eq!(sign_in.outcome, probe::StageOutcome::Failed, "{}", report.to_text());
        assert!(sign_in.detail.contains("the server refused: NO [ALERT] LOGIN failed."), "{}", report.to_text());
        assert!(!report.to_text().contains(&rig.password));
    }
    // The same password for a mailbox elsewhere still opens it: the refusal is Microsoft's rule.
    let (_, incoming) = inputs(&rig.basic_setting("elsewhere", "ar"), &rig.password);
    let elsewhere = probe::imap::test_incoming(&incoming, &rig_options(), &CancelToken::new());
    assert!(
        elsewhere
            .stages
            .iter()
            .any(|s| s.name == StageName::Authentication && s.outcome == probe::StageOutcome::Passed),
        "{}",
        elsewhere.to_text()
    );
}

#[test]
fn the_round_trip_reports_the_delivery_time() {
    let rig = rig();
    let setting = rig.basic_setting("roundtrip", "roundtrip");
    let (outgoing, incoming) = inputs(&setting, &rig.password);
    let report = probe::imap::roundtrip(&outgoing, &incoming, &rig_options(), &CancelToken::new());
    assert_passed(&report);
    assert!(fact(&report, "Delivery time").ends_with(" ms"), "{}", report.to_text());
    assert_eq!(fact(&report, "Test message"), "removed from the inbox again");
    let run_id = fact(&report, "Test run");
    assert_eq!(rig.count_with_header("roundtrip", "INBOX", "X-Mailsettings-Run", run_id), 0);
}

#[test]
fn leftover_counts_messages_in_the_audited_folders() {
    let rig = rig();
    let setting = rig.basic_setting("leftover", "leftover");
    for folder in ["INBOX", "Mail Not Read", "Mail Not Filed"] {
        rig.empty("leftover", folder);
    }
    rig.plant("leftover", "Mail Not Read", "unread one");
    rig.plant("leftover", "Mail Not Read", "unread two");
    rig.plant("leftover", "Mail Not Filed", "not filed");
    let (_, incoming) = inputs(&setting, &rig.password);
    let folders = ["INBOX", "Mail Not Read", "Mail Not Filed", "Mail not filed ", "Does Not Exist"].map(str::to_owned);
    let result = probe::imap::leftover(&incoming, &folders, &rig_options(), &CancelToken::new());
    assert_passed(&result.report);
    let counts = result.counts.clone().unwrap();
    let by_name = |name: &str| counts.iter().find(|c| c.folder == name).unwrap().clone();
    assert_eq!((by_name("Mail Not Read").total, by_name("Mail Not Read").unseen), (2, 2));
    assert_eq!(by_name("Mail Not Filed").total, 1);
    assert_eq!(by_name("INBOX").total, 0);
    assert!(!by_name("Does Not Exist").exists, "not found, never counted as empty");
    let misspelt = by_name("Mail not filed");
    assert!(!misspelt.exists, "IMAP folder names are exact");
    assert_eq!(misspelt.closest[0], "Mail Not Filed", "the server's folders, closest first: {:?}", misspelt.closest);
    assert!(fact(&result.report, "Mail not filed").contains("not found on the server"), "{}", result.report.to_text());
    assert_eq!(result.missing().len(), 2);
    assert_eq!(result.total(), Some(3));
    for folder in ["Mail Not Read", "Mail Not Filed"] {
        rig.empty("leftover", folder);
    }
}

#[test]
fn a_wrong_security_mode_is_explained_within_two_seconds() {
    let rig = rig();
    let options = rig_options();
    // TLS on connect against STARTTLS ports: the server answers in plain text.
    let mut setting = rig.basic_setting("mode", "ar");
    setting.smtp.security = Security::Tls; // smtp_port speaks STARTTLS
    setting.imap.port = rig.imap_port;
    setting.imap.security = Security::Tls;
    let (outgoing, incoming) = inputs(&setting, &rig.password);
    let started = Instant::now();
    let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
    let imap = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(signature(&smtp), "tls-plain-reply", "{}", smtp.to_text());
    assert_eq!(signature(&imap), "tls-plain-reply", "{}", imap.to_text());
    // STARTTLS against TLS-on-connect ports: the server waits silently.
    let mut setting = rig.basic_setting("mode2", "ar");
    setting.smtp.port = rig.smtps_port;
    setting.imap.port = rig.imaps_port;
    setting.imap.security = Security::Starttls;
    let (outgoing, incoming) = inputs(&setting, &rig.password);
    for run in [
        Box::new(|| probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new()))
            as Box<dyn Fn() -> Report>,
        Box::new(|| probe::imap::test_incoming(&incoming, &options, &CancelToken::new())),
    ] {
        let started = Instant::now();
        let report = run();
        assert!(started.elapsed() < Duration::from_millis(2600), "{:?}", started.elapsed());
        assert_eq!(signature(&report), "silent-tls-port", "{}", report.to_text());
        assert!(report.diagnosis.as_ref().unwrap().next_step.contains("TLS on connect"));
    }
}

#[test]
fn a_server_certificate_from_an_unknown_ca_is_refused() {
    let rig = rig();
    let setting = rig.basic_setting("unknown-ca", "ar");
    let (outgoing, incoming) = inputs(&setting, &rig.password);
    let no_extra_ca = ProbeOptions::new(mailsettings::tls::client_config(&[]).unwrap());
    let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &no_extra_ca, &CancelToken::new());
    assert_eq!(signature(&smtp), "tls-unknown-issuer", "{}", smtp.to_text());
    assert!(!stage_names(&smtp).contains(&StageName::Authentication), "nothing after a failed TLS stage");
    let imap = probe::imap::test_incoming(&incoming, &no_extra_ca, &CancelToken::new());
    assert_eq!(signature(&imap), "tls-unknown-issuer");
}

#[test]
fn detect_finds_the_mode_of_every_port() {
    let rig = rig();
    let mut setting = rig.basic_setting("detect", "ar");
    setting.imap.port = rig.imap_port; // STARTTLS port, configured as TLS: detect says so
    let (outgoing, incoming) = inputs(&setting, &rig.password);
    let started = Instant::now();
    let report =
        probe::detect::detect("detect", &outgoing.endpoint, &incoming.endpoint, &rig_options(), &CancelToken::new());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        fact(&report, "Use for outgoing").starts_with(&format!("port {}, Start TLS (as configured)", rig.smtp_port)),
        "{}",
        report.to_text()
    );
    assert!(
        fact(&report, "Use for incoming").contains(&format!(
            "port {}, Start TLS (configured: port {}, TLS on connect",
            rig.imap_port, rig.imap_port
        )),
        "{}",
        report.to_text()
    );
}

// ---- hostile servers -------------------------------------------------------

fn hostile_setting(smtp_port: u16, smtp_security: Security, imap_port: u16, imap_security: Security) -> MailSetting {
    let mut setting = rig().basic_setting("hostile", "ar");
    setting.smtp.port = smtp_port;
    setting.smtp.security = smtp_security;
    setting.imap.port = imap_port;
    setting.imap.security = imap_security;
    setting
}

const HOSTILE_PASSWORD: &str = "canary-h0stile-secret";

fn fast_options(ca: &Path) -> ProbeOptions {
    let mut options = options_trusting(ca);
    options.step_timeout = Duration::from_secs(3);
    options.connect_timeout = Duration::from_secs(3);
    options.wrong_mode_after = Duration::from_secs(1);
    options
}

#[track_caller]
fn assert_nothing_secret_sent(server: &Hostile) {
    let received = server.received();
    assert!(!received.contains(HOSTILE_PASSWORD), "the password reached the server: {received}");
    assert!(!received.to_ascii_uppercase().contains("AUTH"), "AUTH was sent: {received}");
    assert!(!received.to_ascii_uppercase().contains("LOGIN"), "LOGIN was sent: {received}");
}

#[test]
fn no_starttls_offered_means_no_credentials_sent() {
    let smtp = Hostile::start(Behaviour::SmtpNoStarttls);
    let imap = Hostile::start(Behaviour::ImapNoStarttls);
    let setting = hostile_setting(smtp.port, Security::Starttls, imap.port, Security::Starttls);
    let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
    let options = fast_options(&rig().ca_file);
    let report = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
    assert_eq!(signature(&report), "starttls-not-offered", "{}", report.to_text());
    let report = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
    assert_eq!(signature(&report), "starttls-not-offered", "{}", report.to_text());
    assert_nothing_secret_sent(&smtp);
    assert_nothing_secret_sent(&imap);
}

#[test]
fn starttls_answered_then_plain_text_sends_no_credentials() {
    let smtp = Hostile::start(Behaviour::SmtpStarttlsThenPlain);
    let setting = hostile_setting(smtp.port, Security::Starttls, 1, Security::Tls);
    let (outgoing, _) = inputs(&setting, HOSTILE_PASSWORD);
    let started = Instant::now();
    let report =
        probe::smtp::test_outgoing(&outgoing, "admin@example.org", &fast_options(&rig().ca_file), &CancelToken::new());
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(signature(&report).starts_with("tls-"), "{}", report.to_text());
    assert_nothing_secret_sent(&smtp);
}

#[test]
fn bad_certificates_are_each_diagnosed() {
    let ca = TestCa::new();
    let now = time::OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let cases = [
        (self_signed_server("localhost"), "tls-unknown-issuer"),
        (ca.server("wrong.example", now - day, now + day * 30), "tls-name-mismatch"),
        (ca.server("localhost", now - day * 60, now - day), "tls-expired"),
        (ca.server("localhost", now + day * 30, now + day * 60), "tls-not-yet-valid"),
    ];
    for (config, expected) in cases {
        let server = Hostile::start(Behaviour::Tls(config));
        let setting = hostile_setting(server.port, Security::Tls, server.port, Security::Tls);
        let (outgoing, _) = inputs(&setting, HOSTILE_PASSWORD);
        let report = probe::smtp::test_outgoing(
            &outgoing,
            "admin@example.org",
            &fast_options(&ca.pem_file),
            &CancelToken::new(),
        );
        assert_eq!(signature(&report), expected, "{}", report.to_text());
        assert_nothing_secret_sent(&server);
    }
    // The same CA and a good certificate pass the TLS stage (the control case).
    let server = Hostile::start(Behaviour::Tls(ca.server("localhost", now - day, now + day * 30)));
    let setting = hostile_setting(server.port, Security::Tls, server.port, Security::Tls);
    let (outgoing, _) = inputs(&setting, HOSTILE_PASSWORD);
    let report =
        probe::smtp::test_outgoing(&outgoing, "admin@example.org", &fast_options(&ca.pem_file), &CancelToken::new());
    let tls = report.stages.iter().find(|s| s.name == StageName::Tls).unwrap();
    assert_eq!(tls.outcome, probe::StageOutcome::Passed, "{}", report.to_text());
}

/// A server that drips a TLS record one byte at a time keeps every socket read
/// "in time": the step's deadline must still end it (IMAPS and SMTPS).
#[test]
fn a_dripping_tls_server_ends_at_the_step_deadline() {
    let server = Hostile::start(Behaviour::Drip);
    let options = fast_options(&rig().ca_file);
    let setting = hostile_setting(server.port, Security::Tls, server.port, Security::Tls);
    let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
    // On its own thread, so a regression fails here instead of hanging the suite.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let imap = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
        let imap_took = started.elapsed();
        let started = Instant::now();
        let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
        let _ = sender.send((imap, imap_took, smtp, started.elapsed()));
    });
    let (imap, imap_took, smtp, smtp_took) =
        receiver.recv_timeout(Duration::from_secs(30)).expect("a dripping server kept the probes going past 30 s");
    assert!(imap_took < Duration::from_secs(8), "IMAPS ran {imap_took:?}: {}", imap.to_text());
    assert!(smtp_took < Duration::from_secs(8), "SMTPS ran {smtp_took:?}: {}", smtp.to_text());
    for report in [&imap, &smtp] {
        assert!(!report.passed);
        assert!(report.to_text().contains("did not answer in time"), "{}", report.to_text());
    }
    assert_nothing_secret_sent(&server);
}

/// The same in plain text (STARTTLS ports, before TLS): a greeting trickled for most of the
/// step and then stalled ends at the step's deadline — each read is armed with the time
/// left, not with a whole step again (which would run to 2.5 s + 3 s here).
#[test]
fn a_plain_text_trickle_then_silence_ends_at_the_step_deadline() {
    let options = fast_options(&rig().ca_file);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let imap_server = Hostile::start(Behaviour::PlainTrickleThenSilent);
        let smtp_server = Hostile::start(Behaviour::PlainTrickleThenSilent);
        let setting = hostile_setting(smtp_server.port, Security::Starttls, imap_server.port, Security::Starttls);
        let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
        let started = Instant::now();
        let imap = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
        let imap_took = started.elapsed();
        let started = Instant::now();
        let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
        let _ = sender.send((imap, imap_took, smtp, started.elapsed()));
        drop((imap_server, smtp_server));
    });
    let (imap, imap_took, smtp, smtp_took) =
        receiver.recv_timeout(Duration::from_secs(30)).expect("a trickling server kept the probes going past 30 s");
    let step = Duration::from_secs(3);
    let slack = Duration::from_millis(700);
    assert!(imap_took < step + slack, "IMAP ran {imap_took:?} for a {step:?} step: {}", imap.to_text());
    assert!(smtp_took < step + slack, "SMTP ran {smtp_took:?} for a {step:?} step: {}", smtp.to_text());
    for report in [&imap, &smtp] {
        assert!(!report.passed);
        assert!(report.to_text().contains("did not answer in time"), "{}", report.to_text());
    }
}

#[test]
fn a_silent_server_times_out_with_a_diagnosis() {
    let server = Hostile::start(Behaviour::Silent);
    let options = fast_options(&rig().ca_file);
    for security in [Security::Tls, Security::Starttls] {
        let setting = hostile_setting(server.port, security, server.port, security);
        let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
        let started = Instant::now();
        let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
        let imap = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(16), "{security:?}: {elapsed:?}");
        for report in [&smtp, &imap] {
            assert!(
                matches!(signature(report), "step-timed-out" | "silent-tls-port"),
                "{security:?}: {}",
                report.to_text()
            );
        }
    }
    assert_nothing_secret_sent(&server);
}

#[test]
fn garbage_endless_lines_and_web_servers_are_diagnosed() {
    for (behaviour, expected) in [
        (Behaviour::Garbage, "garbled-reply"),
        (Behaviour::EndlessLine, "garbled-reply"),
        (Behaviour::Http, "not-a-mail-server"),
    ] {
        let server = Hostile::start(behaviour);
        let setting = hostile_setting(server.port, Security::Starttls, server.port, Security::Starttls);
        let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
        let started = Instant::now();
        let smtp = probe::smtp::test_outgoing(
            &outgoing,
            "admin@example.org",
            &fast_options(&rig().ca_file),
            &CancelToken::new(),
        );
        let imap = probe::imap::test_incoming(&incoming, &fast_options(&rig().ca_file), &CancelToken::new());
        assert!(started.elapsed() < Duration::from_secs(8));
        assert_eq!(signature(&smtp), expected, "{}", smtp.to_text());
        assert_eq!(signature(&imap), expected, "{}", imap.to_text());
        assert_nothing_secret_sent(&server);
    }
}

#[test]
fn cancel_from_another_thread_stops_a_probe_at_once() {
    let server = Hostile::start(Behaviour::Silent);
    let mut options = fast_options(&rig().ca_file);
    options.step_timeout = Duration::from_secs(30);
    let setting = hostile_setting(server.port, Security::Tls, server.port, Security::Tls);
    let (outgoing, _) = inputs(&setting, HOSTILE_PASSWORD);
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let started = Instant::now();
    let job = std::thread::spawn(move || probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &cancel));
    std::thread::sleep(Duration::from_millis(300));
    canceller.cancel();
    let report = job.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(signature(&report), "cancelled", "{}", report.to_text());
}

#[test]
fn unknown_hosts_and_closed_ports_are_diagnosed() {
    let mut setting = hostile_setting(1, Security::Tls, 1, Security::Tls);
    setting.smtp.server = "no-such-host.invalid".to_owned();
    let (outgoing, incoming) = inputs(&setting, HOSTILE_PASSWORD);
    let options = fast_options(&rig().ca_file);
    let smtp = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &options, &CancelToken::new());
    assert_eq!(signature(&smtp), "dns-failed", "{}", smtp.to_text());
    let imap = probe::imap::test_incoming(&incoming, &options, &CancelToken::new());
    assert_eq!(signature(&imap), "connection-refused", "{}", imap.to_text());
}

// ---- the CLI on the rig -----------------------------------------------------

fn rig_config_text(setting_id: &str, user: &str) -> String {
    let rig = rig();
    let mut config = rig.config_with(vec![rig.basic_setting(setting_id, user)]);
    config.probe.step_timeout_secs = 10;
    mailsettings::store::file::to_toml(&config).unwrap()
}

#[test]
fn cli_test_commands_exit_0_on_pass_1_on_failure_2_on_bad_usage() {
    use crate::support::{Sandbox, assert_exit, stdout};
    let rig = rig();
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), rig_config_text("cli-rig", "ar")).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "cli-rig"], &format!("{}\n", rig.password)), 0);

    let outgoing = sandbox.run(&["test", "outgoing", "cli-rig", "--to", "admin@example.org"]);
    assert_exit(&outgoing, 0);
    assert!(stdout(&outgoing).contains("Test Outgoing — OK"), "{}", stdout(&outgoing));
    let incoming = sandbox.run(&["test", "incoming", "cli-rig", "--json"]);
    assert_exit(&incoming, 0);
    let json: serde_json::Value = serde_json::from_slice(&incoming.stdout).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["kind"], "incoming");
    assert!(json["stages"].as_array().unwrap().iter().any(|s| s["name"] == "folders" && s["outcome"] == "passed"));
    let roundtrip = sandbox.run(&["test", "roundtrip", "cli-rig"]);
    assert_exit(&roundtrip, 0);
    let leftover = sandbox.run(&["leftover", "cli-rig", "--folder", "Mail Not Read", "--json"]);
    assert_exit(&leftover, 0);
    let json: serde_json::Value = serde_json::from_slice(&leftover.stdout).unwrap();
    assert_eq!(json["counts"].as_array().unwrap().len(), 2);
    let detect = sandbox.run(&["detect", "cli-rig"]);
    assert_exit(&detect, 0);
    assert!(stdout(&detect).contains("Use for incoming: port"), "{}", stdout(&detect));

    assert_exit(&sandbox.run(&["test", "outgoing", "cli-rig", "--to", "not an address"]), 2);
    assert_exit(&sandbox.run(&["test", "incoming", "no-such-setting"]), 2);
    assert_exit(&sandbox.run(&["test", "outgoing", "cli-rig"]), 2);

    assert_exit(&sandbox.run_with_stdin(&["set-password", "cli-rig", "--imap"], "canary-not-the-password\n"), 0);
    let failed = sandbox.run(&["test", "incoming", "cli-rig"]);
    assert_exit(&failed, 1);
    let text = stdout(&failed);
    assert!(text.contains("FAILED") && text.contains("signature: imap-authentication-failed"), "{text}");
    assert!(!text.contains("canary-not-the-password"));
}

/// Mailboxes that sign in but may not send, answered in the providers' own words
/// (the rig's Postfix replies verbatim): each is diagnosed by its meaning — blocked
/// for spam, over Microsoft's quota, past Gmail's daily limit — naming who lifts it.
#[test]
fn sending_refused_after_sign_in_is_diagnosed_by_meaning() {
    let rig = rig();
    for (user, signature, words) in [
        ("spamblocked", "m365-sender-restricted", "OutboundSpamException"),
        ("overquota", "m365-sending-limit", "SubmissionQuotaExceededException"),
        ("dailylimit", "gmail-sending-limit", "Daily user sending limit exceeded"),
    ] {
        let setting = rig.basic_setting(user, user);
        let (outgoing, _) = inputs(&setting, &rig.password);
        let report = probe::smtp::test_outgoing(&outgoing, "admin@example.org", &rig_options(), &CancelToken::new());
        assert_eq!(self::signature(&report), signature, "{}", report.to_text());
        let signed_in = report
            .stages
            .iter()
            .any(|s| s.name == StageName::Authentication && s.outcome == mailsettings::probe::StageOutcome::Passed);
        assert!(signed_in, "the sign-in worked; sending did not: {}", report.to_text());
        assert!(report.to_text().contains(words), "the server's own words are kept: {}", report.to_text());
    }
}
