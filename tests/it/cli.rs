//! The CLI as support staff script it: exit codes 0/1/2, plain messages on
//! stderr, and no secret in any file or output.

use crate::support::{CANARY, SAMPLE, Sandbox, all_files_text, assert_exit, stderr, stdout};

#[test]
fn list_json_has_the_documented_fields() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run(&["list", "--json"]);
    assert_exit(&output, 0);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([
            {"id": "old-basic", "description": "Collections (Basic)", "credential": "basic", "smtp_credential": "basic", "imap_credential": "basic", "active": true, "default_for": ["acme", "globex"]},
            {"id": "new-m365", "description": "Collections (Microsoft 365)", "credential": "microsoft365", "smtp_credential": "microsoft365", "imap_credential": "microsoft365", "active": true, "default_for": []}
        ])
    );
    let text = sandbox.run(&["list"]);
    assert_exit(&text, 0);
    assert!(stdout(&text).contains("old-basic") && stdout(&text).contains("acme, globex"));
}

#[test]
fn an_empty_config_lists_nothing_and_creates_no_file() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["list", "--json"]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output).trim(), "[]");
    assert!(!sandbox.config().exists(), "reading must not create the file");
}

#[test]
fn guards_exit_1_and_name_the_companies() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run(&["deactivate", "old-basic"]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("\"Collections (Basic)\" is the default mail setting for Acme Ltd and Globex"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "a refused change writes nothing");
    let output = sandbox.run(&["delete", "old-basic"]);
    assert_exit(&output, 1);

    // Switch both companies, then the old one can be deactivated and deleted.
    assert_exit(&sandbox.run(&["set-default", "acme", "new-m365"]), 0);
    assert_exit(&sandbox.run(&["set-default", "globex", "new-m365"]), 0);
    assert_exit(&sandbox.run(&["deactivate", "old-basic"]), 0);
    let refused = sandbox.run(&["set-default", "acme", "old-basic"]);
    assert_exit(&refused, 1);
    assert!(stderr(&refused).contains("is inactive"), "{}", stderr(&refused));
    // Steps 10 and 11 done by hand: the old setting of the mailbox new-m365 replaces is
    // still deleted only through the migration, which checks its folders first.
    let refused = sandbox.run(&["delete", "old-basic"]);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains(
            "\"Collections (Basic)\" is replaced by \"Collections (Microsoft 365)\" (the same mailbox), so it is \
             deleted through its migration, which first checks its folders for mail not yet retrieved"
        ) && stderr(&refused)
            .contains("mailsettings migrate start old-basic --to-existing new-m365, then migrate finish"),
        "{}",
        stderr(&refused)
    );
    // A setting nothing replaces is deleted (and restored) at once.
    assert_exit(&sandbox.run(&["activate", "old-basic"]), 0);
    assert_exit(&sandbox.run(&["set-default", "acme", "old-basic"]), 0);
    assert_exit(&sandbox.run(&["set-default", "globex", "old-basic"]), 0);
    let deleted = sandbox.run(&["delete", "new-m365"]);
    assert_exit(&deleted, 0);
    assert!(stdout(&deleted).contains("mailsettings restore new-m365"));
    let listed: serde_json::Value = serde_json::from_slice(&sandbox.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_exit(&sandbox.run(&["restore", "new-m365"]), 0);
    let listed: serde_json::Value = serde_json::from_slice(&sandbox.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[test]
fn unknown_ids_and_bad_arguments_exit_2() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run(&["show", "nope"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("there is no mail setting with id \"nope\""));
    assert_exit(&sandbox.run(&["set-default", "nobody", "new-m365"]), 2);
    assert_exit(&sandbox.run(&["frobnicate"]), 2);
    assert_exit(&sandbox.run(&["set-password", "old-basic", "--smtp", "--imap"]), 2);
    assert_exit(&sandbox.run(&["show"]), 2);
}

#[test]
fn validate_reports_fields_and_exits_1_on_errors() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE.replace("server = \"smtp.example.com\"", "server = \"office365.com\""))
        .unwrap();
    let output = sandbox.run(&["validate", "old-basic"]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(
        text.contains(
            "old-basic: error: smtp.server: The setup guide writes \"office365.com\", but that is not a mail server"
        ),
        "{text}"
    );
    assert!(text.contains("use \"smtp.office365.com\""), "{text}");
    assert!(text.contains("smtp.password"), "Basic without a stored password: {text}");
    // The OAuth setting needs no password and is fine.
    let output = sandbox.run(&["validate", "new-m365"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("new-m365: OK"));
}

#[test]
fn validate_all_checks_company_defaults_too() {
    let sandbox = Sandbox::new();
    let broken = SAMPLE.replace(
        "name = \"Globex\"\ndefault_mail_setting = \"old-basic\"",
        "name = \"Globex\"\ndefault_mail_setting = \"ghost\"",
    );
    std::fs::write(sandbox.config(), broken).unwrap();
    let output = sandbox.run(&["validate"]);
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains("company \"globex\" uses mail setting \"ghost\", which does not exist"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn set_password_reads_stdin_and_secrets_never_reach_files_or_output() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run_with_stdin(&["set-password", "old-basic"], &format!("{CANARY}\n"));
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("outgoing and incoming passwords"), "{}", stdout(&output));
    let smtp_only = sandbox.run_with_stdin(&["set-password", "new-m365", "--smtp"], CANARY);
    assert_exit(&smtp_only, 0);
    // The commands that read the password say nothing of it, on stdout or in their log on stderr
    // (the sandbox runs them with MAILSETTINGS_LOG=trace).
    for reading in [&output, &smtp_only] {
        assert!(!stdout(reading).contains(CANARY) && !stderr(reading).contains(CANARY), "{}", stderr(reading));
    }
    assert!(stdout(&smtp_only).contains("signs in with OAuth"));

    // Now validation passes: both passwords exist.
    assert_exit(&sandbox.run(&["validate", "old-basic"]), 0);
    let shown = sandbox.run(&["show", "old-basic"]);
    let password =
        stdout(&shown).lines().find(|l| l.trim_start().starts_with("Password:")).unwrap_or_default().to_owned();
    assert!(password.contains("stored in the secret file"), "{}", stdout(&shown));
    let shown_json: serde_json::Value =
        serde_json::from_slice(&sandbox.run(&["show", "old-basic", "--json"]).stdout).unwrap();
    assert_eq!(shown_json["smtp_password_stored"], true);
    assert_eq!(shown_json["imap_password_stored"], true);
    assert_eq!(shown_json["default_for"], serde_json::json!(["acme", "globex"]));

    // A change, so a backup exists; an export; then search everything.
    assert_exit(&sandbox.run(&["activate", "new-m365"]), 0);
    let export = sandbox.path("export.toml");
    assert_exit(&sandbox.run(&["export", export.to_str().unwrap()]), 0);
    assert!(sandbox.config().with_file_name("config.toml.bak").exists());
    let outputs = [shown, sandbox.run(&["list", "--json"]), sandbox.run(&["show", "old-basic", "--json"])];
    for output in &outputs {
        assert!(!stdout(output).contains(CANARY) && !stderr(output).contains(CANARY));
    }
    for (path, text) in all_files_text(sandbox.dir.path()) {
        if path == sandbox.secrets_file() {
            continue;
        }
        assert!(!text.contains(CANARY), "the canary password leaked into {}", path.display());
    }
}

#[test]
fn an_empty_password_is_refused() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run_with_stdin(&["set-password", "old-basic"], "\n");
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("no password"));
}

#[test]
fn a_malformed_config_exits_1_with_line_and_column_and_stays_byte_identical() {
    let sandbox = Sandbox::new();
    let broken = SAMPLE.replace("port = 993", "port = \"nine-nine-three\"");
    std::fs::write(sandbox.config(), &broken).unwrap();
    for args in [&["list"][..], &["activate", "old-basic"], &["set-default", "acme", "new-m365"]] {
        let output = sandbox.run(args);
        assert_exit(&output, 1);
        assert!(stderr(&output).contains("line 21, column 8"), "{}", stderr(&output));
    }
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), broken);
    assert!(!sandbox.config().with_file_name("config.toml.bak").exists());
}

#[test]
fn a_newer_format_is_refused_untouched() {
    let sandbox = Sandbox::new();
    let newer = SAMPLE.replace("mailsettings/1", "mailsettings/2");
    std::fs::write(sandbox.config(), &newer).unwrap();
    let output = sandbox.run(&["activate", "old-basic"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("newer version of Mail Settings"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), newer);
}

#[test]
fn an_import_that_would_send_a_password_unencrypted_is_refused_whole() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let plain = SAMPLE
        .split("[[company]]")
        .next()
        .unwrap()
        .replace("old-basic", "plain-old")
        .replace("new-m365", "also-new")
        .replacen("security = \"starttls\"", "security = \"none\"", 1);
    let incoming = sandbox.write("plain.toml", &plain);
    let output = sandbox.run(&["import", incoming.to_str().unwrap()]);
    assert_exit(&output, 1);
    let error = stderr(&output);
    assert!(error.contains("nothing was saved, because:"), "{error}");
    assert!(error.contains("smtp.security: Passwords and tokens are never sent unencrypted"), "{error}");
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "not even the valid setting was added");
}

#[test]
fn import_adds_and_replaces_and_export_round_trips() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let incoming = sandbox.write(
        "incoming.toml",
        &[("new-m365", "Renamed", "microsoft365", "office365.com", "outlook.office365.com"), ("gmail-ar", "Gmail AR", "gmail", "gmail.com", "imap.gmail.com")]
            .iter()
            .fold(String::from("format = \"mailsettings/1\"\n"), |text, (id, description, credential, smtp, imap)| {
                let smtp = if *credential == "gmail" { "smtp.gmail.com".to_owned() } else { format!("smtp.{smtp}") };
                text + &format!(
                    "\n[[mail_setting]]\nid = \"{id}\"\ndescription = \"{description}\"\nsubject_tag = \"[AR]\"\n\
                     credential = \"{credential}\"\nactive = true\n\n[mail_setting.smtp]\nserver = \"{smtp}\"\n\
                     send_as = \"ar@example.com\"\nuser_name = \"ar@example.com\"\nuser_domain = \"example.com\"\n\n\
                     [mail_setting.imap]\nserver = \"{imap}\"\nuser_name = \"replies@example.com\"\nuser_domain = \"example.com\"\n"
                )
            }),
    );
    let output = sandbox.run(&["import", incoming.to_str().unwrap(), "--yes"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("1 setting(s) added, 1 replaced"), "{}", stdout(&output));
    let export = sandbox.path("out.toml");
    assert_exit(&sandbox.run(&["export", export.to_str().unwrap()]), 0);
    let exported = std::fs::read_to_string(&export).unwrap();
    assert!(exported.starts_with("format = \"mailsettings/1\""));
    assert!(exported.contains("Renamed") && exported.contains("gmail-ar"));

    // The export imports cleanly into an empty config.
    let other = Sandbox::new();
    assert_exit(&other.run(&["import", export.to_str().unwrap()]), 0);
    let listed: serde_json::Value = serde_json::from_slice(&other.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

/// An imported old Basic setting at Microsoft is told what the validation knows at
/// once: receiving with a password is refused already, sending ends on Microsoft's date.
#[test]
fn an_import_of_a_microsoft_basic_setting_warns_of_the_end_of_passwords() {
    let sandbox = Sandbox::new();
    let incoming = sandbox.write(
        "old.toml",
        "format = \"mailsettings/1\"\n\n[[mail_setting]]\nid = \"old\"\ndescription = \"Collections\"\n\
         subject_tag = \"[AR]\"\ncredential = \"basic\"\nactive = true\n\n[mail_setting.smtp]\n\
         server = \"smtp.office365.com\"\nport = 587\nsecurity = \"starttls\"\nsend_as = \"ar@example.com\"\n\
         user_name = \"ar@example.com\"\nuser_domain = \"example.com\"\n\n[mail_setting.imap]\n\
         server = \"outlook.office365.com\"\nport = 993\nsecurity = \"tls\"\nuser_name = \"ar@example.com\"\n\
         user_domain = \"example.com\"\n",
    );
    let output = sandbox.run(&["import", incoming.to_str().unwrap(), "--yes"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("1 setting(s) added"), "{text}");
    assert!(text.contains("old: warning: imap.server: Microsoft has refused every password"), "{text}");
    assert!(text.contains("old: warning: smtp.server: Microsoft switches Basic"), "{text}");
    assert!(!text.contains("enter the password"), "passwords come after an import: {text}");
}

#[test]
fn a_malformed_import_file_changes_nothing() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let bad = sandbox.write("bad.toml", "format = \"mailsettings/1\"\n[[mail_setting]\n");
    let output = sandbox.run(&["import", bad.to_str().unwrap()]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("bad.toml: line 2"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE);
}

#[test]
fn add_company_and_set_default() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    assert_exit(&sandbox.run(&["add-company", "initech", "--name", "Initech"]), 0);
    assert_exit(&sandbox.run(&["add-company", "initech", "--name", "Again"]), 1);
    assert_exit(&sandbox.run(&["set-default", "initech", "new-m365"]), 0);
    let listed: serde_json::Value = serde_json::from_slice(&sandbox.run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(listed[1]["default_for"], serde_json::json!(["initech"]));
}

#[test]
fn config_env_var_is_used_when_no_option_is_given() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut command = std::process::Command::new(crate::support::BIN);
    command
        .args(["list", "--json"])
        .env("MAILSETTINGS_CONFIG", sandbox.config())
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()));
    let output = crate::support::run_command(command, "");
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("old-basic"));
}

#[test]
fn paths_names_the_config_and_the_secret_store() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["paths"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains(&sandbox.config().display().to_string()), "{text}");
    assert!(text.contains("config.toml.bak") && text.contains("secret file"), "{text}");
}

#[test]
fn the_console_twin_runs_the_same_cli() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mailsettings-cli"));
    command
        .arg("--config")
        .arg(sandbox.config())
        .args(["list", "--json"])
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()));
    let twin = crate::support::run_command(command, "");
    assert_exit(&twin, 0);
    assert_eq!(twin.stdout, sandbox.run(&["list", "--json"]).stdout);
}

/// The guide's step 10 before step 11: making a company default Inactive moves
/// its companies to the named setting in the same change, audited.
#[test]
fn deactivate_can_switch_the_defaults_first() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let unknown = sandbox.run(&["deactivate", "old-basic", "--switch-defaults-to", "nope"]);
    assert_exit(&unknown, 2);
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "a refused change writes nothing");
    let output = sandbox.run(&["deactivate", "old-basic", "--switch-defaults-to", "new-m365"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("Acme Ltd, Globex now use \"Collections (Microsoft 365)\""),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("\"Collections (Basic)\" is inactive"));
    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert_eq!(config.matches("default_mail_setting = \"new-m365\"").count(), 2, "{config}");
    let log = stdout(&sandbox.run(&["log", "--json"]));
    let entries: serde_json::Value = serde_json::from_str(&log).unwrap();
    let actions: Vec<&str> = entries.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.iter().any(|a| a.starts_with("deactivate")), "{actions:?}");
}

/// Sign-in apps by CLI: checked (a Microsoft client id is a GUID), saved, shown, audited.
#[test]
fn oauth_app_set_and_show() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let shown = sandbox.run(&["oauth-app", "show"]);
    assert_exit(&shown, 0);
    assert!(stdout(&shown).contains("not set: mailsettings oauth-app set microsoft365"), "{}", stdout(&shown));
    let bad = sandbox.run(&["oauth-app", "set", "microsoft365", "--client-id", "my-app"]);
    assert_exit(&bad, 1);
    assert!(stderr(&bad).contains("is not a GUID"), "{}", stderr(&bad));
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE);
    let guid = "0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab";
    let set = sandbox.run(&["oauth-app", "set", "microsoft365", "--client-id", guid, "--tenant", "example.com"]);
    assert_exit(&set, 0);
    let shown = stdout(&sandbox.run(&["oauth-app", "show"]));
    assert!(shown.contains(guid) && shown.contains("tenant example.com"), "{shown}");
    let config = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(config.contains(&format!("client_id = \"{guid}\"")), "{config}");
    let log = stdout(&sandbox.run(&["log"]));
    assert!(log.contains("set-sign-in-app"), "{log}");
    let unknown = sandbox.run(&["oauth-app", "set", "corp-idp", "--client-id", "x"]);
    assert_exit(&unknown, 1);
}

/// Export never carries a client secret, even one still written in the config by hand.
#[test]
fn export_leaves_out_client_secrets() {
    let sandbox = Sandbox::new();
    let with_secret = format!(
        "{SAMPLE}\n[[oauth_provider]]\nid = \"gmail\"\nclient_id = \"1234-abc.apps.googleusercontent.com\"\nclient_secret = \"{CANARY}\"\n"
    );
    std::fs::write(sandbox.config(), &with_secret).unwrap();
    let export = sandbox.path("export.toml");
    assert_exit(&sandbox.run(&["export", export.to_str().unwrap()]), 0);
    let exported = std::fs::read_to_string(&export).unwrap();
    assert!(exported.contains("1234-abc.apps.googleusercontent.com"), "{exported}");
    assert!(!exported.contains(CANARY), "{exported}");
    let shown = stdout(&sandbox.run(&["oauth-app", "show"]));
    assert!(shown.contains("client secret in the config file: move it with --client-secret-stdin"), "{shown}");
}

/// Numbers typed by hand never panic: an out-of-range --timeout is a usage error,
/// and huge timeouts in the config are capped (the test still ends, with its diagnosis).
#[test]
fn huge_timeouts_give_a_clear_error_or_a_capped_wait_never_a_panic() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let output = sandbox.run(&["connect", "new-m365", "--no-browser", "--timeout", "18446744073709551615"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("18446744073709551615"), "{}", stderr(&output));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = SAMPLE.replace("port = 993", &format!("port = {port}")).replace("imap.example.com", "127.0.0.1")
        + "\n[probe]\nconnect_timeout_secs = 18446744073709551615\nstep_timeout_secs = 18446744073709551615\n";
    std::fs::write(sandbox.config(), config).unwrap();
    let output = sandbox.run_with_stdin(&["set-password", "old-basic", "--imap"], &format!("{CANARY}\n"));
    assert_exit(&output, 0);
    let output = sandbox.run(&["test", "incoming", "old-basic"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).contains("FAIL"), "a normal failed report: {}", stdout(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// The audit log is private to its owner, like the config, and names the OS
/// user from the OS, whatever $USER says.
#[test]
fn the_audit_log_is_private_and_names_the_os_user() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let mut command = std::process::Command::new(crate::support::BIN);
    command.arg("--config").arg(sandbox.config()).args(["deactivate", "new-m365"]).env("USER", "someone-else");
    command.env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()));
    assert_exit(&crate::support::run_command(command, ""), 0);
    let audit = sandbox.path("audit.jsonl");
    let mode = std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "audit.jsonl is {mode:o}");
    let me = std::process::Command::new("id").arg("-un").output().unwrap();
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains(&format!("\"user\":\"{me}\"")), "{log}");
    assert!(!log.contains("someone-else"), "{log}");
}

/// Sign-in endpoints must be https (loopback aside): an import carrying a plain
/// http endpoint is refused whole, validate names it, and Connect never sends to it.
#[test]
fn plain_http_sign_in_endpoints_are_refused_everywhere() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let insecure = "[[oauth_provider]]\nid = \"microsoft365\"\nclient_id = \"0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab\"\ntoken_url = \"http://idp.example.com/token\"\n";
    let file = sandbox.path("import.toml");
    std::fs::write(&file, format!("format = \"mailsettings/1\"\n{insecure}")).unwrap();
    let output = sandbox.run(&["import", file.to_str().unwrap()]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("token_url \"http://idp.example.com/token\" must use https"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "nothing imported");
    // A hand-edited file: validate names the problem, Connect refuses before any request.
    std::fs::write(sandbox.config(), format!("{SAMPLE}\n{insecure}")).unwrap();
    let output = sandbox.run(&["validate"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).contains("must use https"), "{}", stdout(&output));
    let output = sandbox.run(&["connect", "new-m365", "--no-browser", "--timeout", "5"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("must use https"), "{}", stderr(&output));
}

/// A server's words are shown, never run: ESC, BEL and bidi overrides in a
/// greeting or a reply reach neither stdout (text or JSON) nor the report raw.
#[test]
fn terminal_commands_in_server_replies_are_shown_escaped() {
    let server = crate::hostile::Hostile::start(crate::hostile::Behaviour::TerminalCommands);
    let sandbox = Sandbox::new();
    let config = SAMPLE
        .replace("port = 993", &format!("port = {}", server.port))
        .replace("imap.example.com", "127.0.0.1")
        // Nothing listens here: `check --all` fails to send at once, with no name to look up.
        .replace("smtp.example.com", "127.0.0.1")
        .replace("port = 587", "port = 1")
        .replacen("security = \"tls\"", "security = \"starttls\"", 1);
    std::fs::write(sandbox.config(), config).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "old-basic", "--imap"], &format!("{CANARY}\n")), 0);
    for args in [&["test", "incoming", "old-basic"][..], &["test", "incoming", "old-basic", "--json"][..]] {
        let output = sandbox.run(args);
        assert_exit(&output, 1);
        for byte in [0x1b_u8, 0x07] {
            assert!(!output.stdout.contains(&byte), "a raw {byte:#x} reached stdout: {:?}", stdout(&output));
            assert!(!output.stderr.contains(&byte), "a raw {byte:#x} reached stderr");
        }
        for raw in ['\u{202e}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}'] {
            assert!(!stdout(&output).contains(raw), "a raw {raw:?} reached stdout");
        }
        assert!(stdout(&output).contains("u{1b}[2J"), "shown escaped: {}", stdout(&output));
    }
    // JSON stays JSON whatever the server said: `test --json` and `check --all --json` parse.
    let json = sandbox.run(&["test", "incoming", "old-basic", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("test --json is JSON");
    assert_eq!(report["passed"], false);
    let check = sandbox.run(&["check", "--all", "--json"]);
    let text = stdout(&check);
    let results: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("check --all --json: {e}\n{text}"));
    assert!(results.to_string().contains("old-basic"), "{results}");
}

/// A hostile imported file cannot drive the terminal either: its descriptions
/// are printed escaped by list, show and log.
#[test]
fn values_from_an_imported_file_are_printed_escaped() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let hostile = SAMPLE.replace("Collections (Basic)", "Collections \\u001b[2J\\u0007(Basic)");
    let file = sandbox.path("hostile.toml");
    std::fs::write(&file, hostile).unwrap();
    assert_exit(&sandbox.run(&["import", file.to_str().unwrap()]), 0);
    for args in [&["list"][..], &["show", "old-basic"][..], &["log"][..]] {
        let output = sandbox.run(args);
        assert_exit(&output, 0);
        assert!(!output.stdout.contains(&0x1b) && !output.stdout.contains(&0x07), "{args:?}: {:?}", stdout(&output));
    }
    assert!(stdout(&sandbox.run(&["list"])).contains("\\u{1b}[2J"), "shown escaped");
    // An error naming the setting (a guard: it is two companies' default) too.
    let refused = sandbox.run(&["deactivate", "old-basic"]);
    assert_exit(&refused, 1);
    assert!(!refused.stderr.contains(&0x1b) && !refused.stderr.contains(&0x07), "{:?}", stderr(&refused));
    // Every command's success output too, whichever handler wrote it: here the one that
    // names the setting after moving its companies (U+2028 would break the line unseen).
    let hostile = SAMPLE.replace("Collections (Basic)", "Collections \\u001b[2J\\u2028(Basic)");
    std::fs::write(&file, hostile).unwrap();
    assert_exit(&sandbox.run(&["import", file.to_str().unwrap()]), 0);
    assert_exit(&sandbox.run(&["activate", "new-m365"]), 0);
    let moved = sandbox.run(&["deactivate", "old-basic", "--switch-defaults-to", "new-m365"]);
    assert_exit(&moved, 0);
    let text = stdout(&moved);
    assert!(text.contains("\\u{1b}[2J\\u{2028}(Basic)\" is inactive"), "{text}");
    assert!(!moved.stdout.contains(&0x1b) && !text.contains('\u{2028}'), "{text:?}");
}

/// Import says what it changes in trust: sign-in apps with their endpoints, CA files.
#[test]
fn import_lists_its_changes_of_trust() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let file = sandbox.path("import.toml");
    std::fs::write(
        &file,
        "format = \"mailsettings/1\"\n[tls]\nextra_ca_files = [\"/etc/ssl/corp-ca.pem\"]\n\n[[oauth_provider]]\nid = \"corp-idp\"\nauthorize_url = \"https://idp.example.com/authorize\"\ntoken_url = \"https://idp.example.com/token\"\nclient_id = \"desk\"\n",
    )
    .unwrap();
    let asked = sandbox.run(&["import", file.to_str().unwrap()]);
    assert_exit(&asked, 1);
    assert!(stdout(&asked).contains("Changes of trust:"), "listed, nothing imported: {}", stdout(&asked));
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE);
    let output = sandbox.run(&["import", file.to_str().unwrap(), "--yes"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("Changes of trust:"), "{text}");
    assert!(
        text.contains(
            "sign-in app \"corp-idp\" added: authorize_url none → https://idp.example.com/authorize; client_id none → \
             desk; token_url none → https://idp.example.com/token"
        ),
        "{text}"
    );
    assert!(text.contains("CA certificates in /etc/ssl/corp-ca.pem trusted"), "{text}");
    let again = stdout(&sandbox.run(&["import", file.to_str().unwrap()]));
    assert!(!again.contains("Changes of trust"), "nothing new the second time: {again}");
}

/// An import cannot quietly re-point a sign-in app: every field it changes is listed
/// (here only where Disconnect sends the refresh token), nothing is imported without
/// --yes, and with it the tokens of every setting signing in with that app are dropped
/// — the passwords of other settings stay.
#[test]
fn an_import_re_pointing_a_sign_in_app_lists_every_field_and_drops_its_tokens() {
    use mailsettings::store::{SecretKind, Secrets};
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let secrets = Secrets::file(sandbox.secrets_file());
    secrets
        .set("new-m365", SecretKind::OAuthTokens, &mailsettings::Secret::new(r#"{"refresh_token":"RT-CANARY"}"#))
        .unwrap();
    secrets.set("old-basic", SecretKind::ImapPassword, &mailsettings::Secret::new("kept-password")).unwrap();
    let file = sandbox.write(
        "repoint.toml",
        "format = \"mailsettings/1\"\n[[oauth_provider]]\nid = \"microsoft365\"\nrevoke_url = \"https://collector.example.net/revoke\"\n",
    );
    let asked = sandbox.run(&["import", file.to_str().unwrap()]);
    assert_exit(&asked, 1);
    assert!(
        stdout(&asked)
            .contains("sign-in app \"microsoft365\" added: revoke_url none → https://collector.example.net/revoke"),
        "{}",
        stdout(&asked)
    );
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "nothing imported without --yes");
    let imported = sandbox.run(&["import", file.to_str().unwrap(), "--yes"]);
    assert_exit(&imported, 0);
    assert!(stdout(&imported).contains("Dropped the sign-ins of new-m365"), "{}", stdout(&imported));
    assert_eq!(
        secrets.get("new-m365", SecretKind::OAuthTokens).unwrap(),
        None,
        "no refresh token goes to the new address"
    );
    assert!(secrets.get("old-basic", SecretKind::ImapPassword).unwrap().is_some(), "other settings keep theirs");
}

/// Ctrl+C ends a CLI probe at once and cleanly — a report saying it was
/// cancelled — even against a server that never answers and long timeouts.
#[test]
fn ctrl_c_cancels_a_cli_probe_cleanly() {
    let server = crate::hostile::Hostile::start(crate::hostile::Behaviour::Silent);
    let sandbox = Sandbox::new();
    let config =
        SAMPLE.replace("port = 993", &format!("port = {}", server.port)).replace("imap.example.com", "127.0.0.1")
            + "\n[probe]\nconnect_timeout_secs = 120\nstep_timeout_secs = 120\n";
    std::fs::write(sandbox.config(), config).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "old-basic", "--imap"], &format!("{CANARY}\n")), 0);
    let child = std::process::Command::new(crate::support::BIN)
        .arg("--config")
        .arg(sandbox.config())
        .args(["test", "incoming", "old-basic"])
        .env("MAILSETTINGS_SECRET_STORE", format!("file:{}", sandbox.secrets_file().display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let started = std::time::Instant::now();
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?} after Ctrl+C", started.elapsed());
    assert_exit(&output, 1);
    assert!(stdout(&output).to_lowercase().contains("cancel"), "a report that says so: {}", stdout(&output));
}

#[test]
fn a_migration_keeps_the_relay_for_sending_and_moves_the_mailbox_to_oauth() {
    let sandbox = Sandbox::new();
    let relayed = SAMPLE.replacen("server = \"smtp.example.com\"", "server = \"smtp.sendgrid.net\"", 1);
    assert_ne!(relayed, SAMPLE);
    std::fs::write(sandbox.config(), &relayed).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "old-basic"], "SG.canary-api-key\n"), 0);
    let started = sandbox.run(&["migrate", "start", "old-basic", "--to", "microsoft365"]);
    assert_exit(&started, 0);
    assert!(
        stdout(&started).contains("Sending stays with the relay smtp.sendgrid.net (password or API key copied)"),
        "{}",
        stdout(&started)
    );
    let new_id = "collections-microsoft-365-oauth";
    let show = stdout(&sandbox.run(&["show", new_id]));
    assert!(show.contains("Microsoft 365 (MSO365) in / SendGrid out"), "{show}");
    assert!(show.contains("smtp.sendgrid.net") && show.contains("outlook.office365.com"), "{show}");
    let outgoing_password = show.lines().find(|l| l.trim_start().starts_with("Password:")).unwrap_or_default();
    assert!(outgoing_password.contains("stored in the"), "the relay's API key went along: {show}");
}

/// A large config (thousands of settings) is read from the parse cache from the
/// second run on — and only while the file holds the same bytes.
#[test]
fn a_large_config_is_read_from_the_parse_cache_while_it_is_unchanged() {
    let sandbox = Sandbox::new();
    let mut config = mailsettings::model::Config::default();
    for n in 0..4000 {
        let mut setting = mailsettings::model::MailSetting {
            id: format!("s{n}").into(),
            description: format!("Mailbox {n}"),
            ..Default::default()
        };
        setting.smtp.server = format!("smtp{n}.example.com");
        config.mail_settings.push(setting);
    }
    let text = mailsettings::store::file::to_toml(&config).unwrap();
    assert!(text.len() >= mailsettings::store::parse_cache::ParseCache::WORTH_CACHING_FROM);
    std::fs::write(sandbox.config(), &text).unwrap();
    let from_cache = "config read from the parse cache";
    let first = sandbox.run(&["list"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(!String::from_utf8_lossy(&first.stderr).contains(from_cache));
    let entries: Vec<_> = std::fs::read_dir(sandbox.path("cache").join("mailsettings")).unwrap().flatten().collect();
    assert_eq!(entries.len(), 1, "one entry for the file: {entries:?}");
    let second = sandbox.run(&["list"]);
    assert!(String::from_utf8_lossy(&second.stderr).contains(from_cache));
    assert_eq!(second.stdout, first.stdout, "the same settings either way");
    // Changed by hand: the TOML is read again.
    std::fs::write(sandbox.config(), text + "\n[[mail_setting]]\nid = \"added-by-hand\"\n").unwrap();
    let third = sandbox.run(&["list"]);
    assert!(!String::from_utf8_lossy(&third.stderr).contains(from_cache));
    assert!(String::from_utf8_lossy(&third.stdout).contains("added-by-hand"));
    // Changed by a command of its own: kept parsed again, so the next run reads the cache.
    let deactivate = sandbox.run(&["deactivate", "s5"]);
    assert!(deactivate.status.success(), "{}", String::from_utf8_lossy(&deactivate.stderr));
    let fourth = sandbox.run(&["list", "--json"]);
    assert!(String::from_utf8_lossy(&fourth.stderr).contains(from_cache), "the saved config was not kept parsed");
    let listed: serde_json::Value = serde_json::from_slice(&fourth.stdout).unwrap();
    let s5 = listed.as_array().unwrap().iter().find(|setting| setting["id"] == "s5").unwrap();
    assert_eq!(s5["active"], false, "the cache holds the saved change: {s5}");
    // Someone who can write the cache folder changes a server in the entry, keeping its header
    // (anyone who can read the config can compute that): the app shows the TOML's value.
    let entry = std::fs::read_dir(sandbox.path("cache").join("mailsettings")).unwrap().flatten().next().unwrap().path();
    let stored = std::fs::read_to_string(&entry).unwrap();
    let forged = stored.replacen("smtp7.example.com", "smtp.attacker.example", 1);
    assert_ne!(forged, stored);
    std::fs::write(&entry, forged).unwrap();
    let fifth = sandbox.run(&["show", "s7", "--json"]);
    assert!(!String::from_utf8_lossy(&fifth.stderr).contains(from_cache), "a forged entry is not read");
    let shown = String::from_utf8_lossy(&fifth.stdout);
    assert!(shown.contains("smtp7.example.com") && !shown.contains("attacker"), "{shown}");
}

/// The support contact: set once, named by `support show` and About, audited, and
/// named in a failed report's diagnosis (see the report's unit test) — a line only.
#[test]
fn the_support_contact_is_set_shown_and_audited() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let shown = stdout(&sandbox.run(&["support", "show"]));
    assert!(shown.contains("Support: "), "{shown}");
    let set = sandbox.run(&["support", "set", "--contact", "help@vendor.example (+1 555 0100)"]);
    assert_exit(&set, 0);
    let shown = stdout(&sandbox.run(&["support", "show"]));
    assert!(shown.contains("help@vendor.example (+1 555 0100) (set in the config)"), "{shown}");
    let file = std::fs::read_to_string(sandbox.config()).unwrap();
    assert!(file.contains("[support]") && file.contains("help@vendor.example"), "{file}");
    let log = stdout(&sandbox.run(&["log"]));
    assert!(log.contains("support contact"), "{log}");
    assert_exit(&sandbox.run(&["support", "set", "--contact", "a\nb"]), 2);
    assert_exit(&sandbox.run(&["support", "set", "--contact", ""]), 0);
    assert!(!std::fs::read_to_string(sandbox.config()).unwrap().contains("[support]"), "removed");
}

/// `activate NEW --untested`: a migration's new setting made Active before its
/// tests, on purpose — allowed, said so, and in the audit log.
#[test]
fn a_migrations_new_setting_goes_active_untested_only_when_asked_and_audited() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    assert_exit(&sandbox.run(&["migrate", "start", "old-basic", "--to", "microsoft365"]), 0);
    let new = "collections-microsoft-365-oauth";
    assert_exit(&sandbox.run(&["activate", new]), 1);
    let done = sandbox.run(&["activate", new, "--untested"]);
    assert_exit(&done, 0);
    assert!(stdout(&done).contains("is active (untested)"), "{}", stdout(&done));
    assert!(stdout(&sandbox.run(&["log"])).contains("activate-untested"), "audited");
    // A setting that is no migration's new one is activated as ever.
    assert_exit(&sandbox.run(&["activate", "new-m365"]), 0);
}

/// The guide's literal path by CLI: the OAuth setting made already ("+ Add new
/// record") is adopted by `migrate start --to-existing` — nothing is created — and
/// `--to` says when one was made already.
#[test]
fn a_migration_adopts_the_setting_made_already() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    let created = sandbox.run(&["migrate", "start", "old-basic", "--to", "microsoft365"]);
    assert_exit(&created, 0);
    assert!(stdout(&created).contains("Note: new-m365 was made for the same mailbox already"), "{}", stdout(&created));
    assert_exit(&sandbox.run(&["migrate", "rollback", "old-basic"]), 0);

    let adopted = sandbox.run(&["migrate", "start", "old-basic", "--to-existing", "new-m365"]);
    assert_exit(&adopted, 0);
    assert!(stdout(&adopted).contains("nothing created"), "{}", stdout(&adopted));
    let status: serde_json::Value =
        serde_json::from_slice(&sandbox.run(&["migrate", "status", "old-basic", "--json"]).stdout).unwrap();
    assert_eq!(status["new"], "new-m365");
    let again = sandbox.run(&["migrate", "start", "old-basic", "--to-existing", "new-m365"]);
    assert_exit(&again, 1);
    assert!(stderr(&again).contains("is already being migrated"), "{}", stderr(&again));
    let neither = sandbox.run(&["migrate", "start", "old-basic"]);
    assert_exit(&neither, 2);
    let basic_as_new = sandbox.run(&["migrate", "start", "new-m365", "--to-existing", "old-basic"]);
    assert_exit(&basic_as_new, 1);
}

/// `show` and `validate` count down to the day Microsoft switches Basic SMTP AUTH off
/// by default, on a setting that sends with a password through Microsoft.
#[test]
fn show_and_validate_count_down_to_the_end_of_basic_smtp_at_microsoft() {
    let sandbox = Sandbox::new();
    let at_microsoft = SAMPLE.replacen("server = \"smtp.example.com\"", "server = \"smtp.office365.com\"", 1);
    assert_ne!(at_microsoft, SAMPLE);
    std::fs::write(sandbox.config(), &at_microsoft).unwrap();
    let shown = stdout(&sandbox.run(&["show", "old-basic"]));
    assert!(
        shown.contains(
            "Note: Microsoft switches Basic (password) sign-in for sending off by default on 31 December 2026"
        ),
        "{shown}"
    );
    assert!(shown.contains("mailsettings migrate start old-basic --to microsoft365"), "{shown}");
    let validated = sandbox.run(&["validate", "old-basic"]);
    assert!(stdout(&validated).contains("31 December 2026"), "{}", stdout(&validated));
    let shown = stdout(&sandbox.run(&["show", "new-m365"]));
    assert!(!shown.contains("31 December 2026"), "OAuth settings are not affected: {shown}");
}

/// An import that moves a setting to another host does not carry its stored password
/// there: the move is listed as a change of trust (nothing imported without --yes),
/// the password and sign-in are dropped, and a test afterwards sends nothing to the
/// new host — a recording server sees no credential — until one is entered for it.
#[test]
fn an_import_moving_a_setting_to_a_new_host_does_not_take_its_password_along() {
    use crate::hostile::{Behaviour, Hostile, TestCa};
    let ca = TestCa::new();
    let now = time::OffsetDateTime::now_utc();
    let recorder = Hostile::start(Behaviour::ImapEchoesLogin(ca.server(
        "localhost",
        now - time::Duration::DAY,
        now + time::Duration::DAY,
    )));
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.config(), SAMPLE).unwrap();
    assert_exit(&sandbox.run_with_stdin(&["set-password", "old-basic"], &format!("{CANARY}\n")), 0);
    let mut moved: mailsettings::model::Config = toml::from_str(SAMPLE.split_once('\n').unwrap().1).unwrap();
    moved.companies.clear();
    moved.mail_settings.retain(|s| s.id == "old-basic");
    moved.mail_settings[0].imap.server = "localhost".to_owned();
    moved.mail_settings[0].imap.port = recorder.port;
    moved.tls.extra_ca_files = vec![ca.pem_file.clone()];
    let file = sandbox.path("moved.toml");
    std::fs::write(&file, mailsettings::store::file::to_toml(&moved).unwrap()).unwrap();

    let asked = sandbox.run(&["import", file.to_str().unwrap()]);
    assert_exit(&asked, 1);
    assert!(
        stdout(&asked).contains(&format!("setting \"old-basic\": incoming imap.example.com:993 TLS on connect (SSL) as replies@example.com → localhost:{} ", recorder.port)),
        "{}",
        stdout(&asked)
    );
    assert!(stderr(&asked).contains("nothing imported") && stderr(&asked).contains("--yes"), "{}", stderr(&asked));
    assert_eq!(std::fs::read_to_string(sandbox.config()).unwrap(), SAMPLE, "nothing imported without --yes");

    let imported = sandbox.run(&["import", file.to_str().unwrap(), "--yes"]);
    assert_exit(&imported, 0);
    assert!(
        stdout(&imported).contains("Dropped the stored passwords and sign-ins of old-basic"),
        "{}",
        stdout(&imported)
    );
    let tested = sandbox.run(&["test", "incoming", "old-basic"]);
    assert_exit(&tested, 1);
    assert!(stdout(&tested).contains("no incoming password is stored"), "{}", stdout(&tested));
    assert!(!recorder.received().contains(CANARY), "the old password never reached the new host");
    assert!(
        !recorder.received().to_ascii_uppercase().contains("LOGIN"),
        "no sign-in was even tried: {}",
        recorder.received()
    );
}

/// docs/cli-reference.md is the program's own help — every command, at a fixed width —
/// and the shell completions and the manual page come from the same definition.
#[test]
fn the_command_reference_is_the_programs_own() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli-reference.md");
    let generated = mailsettings::cli::reference_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/cli-reference.md is behind the commands: run UPDATE_DOCS=1 cargo test --test it \
         cli::the_command_reference_is_the_programs_own"
    );
    assert!(generated.contains("## mailsettings migrate finish") && generated.contains("--keep-inactive"));
    let sandbox = Sandbox::new();
    let completions = sandbox.run(&["completions", "bash"]);
    assert_exit(&completions, 0);
    assert!(stdout(&completions).contains("set-password") && stdout(&completions).contains("--to-existing"));
    let manual = sandbox.run(&["manual"]);
    assert_exit(&manual, 0);
    assert!(stdout(&manual).contains(".TH mailsettings 1") && stdout(&manual).contains("migrate"));
    assert!(!sandbox.config().exists(), "neither needs nor writes a config");
}

/// Replies as providers really send them: the untagged lines before a refused sign-in
/// are kept in the report (Gmail's WEBALERT carries the unlock link), and a limit — too
/// many connections at once — is told apart from a wrong password: who acts, when to
/// try again, and a temporary failure in `--json`.
#[test]
fn untagged_alerts_before_a_refusal_are_kept_and_limits_are_told_apart() {
    use crate::hostile::{Behaviour, Hostile, TestCa};
    let ca = TestCa::new();
    let now = time::OffsetDateTime::now_utc();
    let tls = || ca.server("localhost", now - time::Duration::DAY, now + time::Duration::DAY);
    let cases = [
        (
            "* NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbt] Web login required.\r\n",
            "NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
            "gmail-web-login-required",
            "https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbt",
            "refused",
        ),
        (
            "* NO [ALERT] Too many simultaneous connections. (Failure)\r\n",
            "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
            "imap-too-many-connections",
            "Too many simultaneous connections",
            "temporary",
        ),
    ];
    for (untagged, refusal, signature, kept, failure) in cases {
        let server = Hostile::start(Behaviour::ImapRefuses { tls: tls(), untagged, refusal });
        let sandbox = Sandbox::new();
        let mut config: mailsettings::model::Config = toml::from_str(SAMPLE.split_once('\n').unwrap().1).unwrap();
        config.mail_settings.retain(|s| s.id == "old-basic");
        config.companies.clear();
        config.mail_settings[0].imap.server = "localhost".to_owned();
        config.mail_settings[0].imap.port = server.port;
        config.tls.extra_ca_files = vec![ca.pem_file.clone()];
        std::fs::write(sandbox.config(), mailsettings::store::file::to_toml(&config).unwrap()).unwrap();
        assert_exit(&sandbox.run_with_stdin(&["set-password", "old-basic"], "pw\n"), 0);
        let text = sandbox.run(&["test", "incoming", "old-basic"]);
        assert_exit(&text, 1);
        assert!(stdout(&text).contains(kept), "the untagged line is in the report: {}", stdout(&text));
        let json = sandbox.run(&["test", "incoming", "old-basic", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(report["diagnosis"]["signature"], signature, "{report:#}");
        assert_eq!(report["failure"], failure, "{report:#}");
    }
}
