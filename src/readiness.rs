//! Is this mailbox ready for the end of Basic SMTP AUTH at Microsoft? Asked of the
//! servers themselves, one question at a time: does sending sign in (and with what —
//! a password Microsoft is about to refuse, or OAuth with "Authenticated SMTP" on for
//! the mailbox), does IMAP sign in (enabled for the mailbox), were the mail
//! permissions granted. Each "no" carries the exact step for the IT admin (the
//! mailbox filled into the Exchange PowerShell line) in the report's facts, so Copy
//! report hands it on. One staged [`Report`], like every other check.

use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::checks::CheckError;
use crate::model::setting::Transport;
use crate::model::{Config, MailSetting, Protocol};
use crate::probe::report::{ProbeKind, Redactor, Report, StageName, StageOutcome};
use crate::probe::{self, ProbeOptions};
use crate::store::Secrets;

/// Asks the servers whether `setting`'s mailbox is ready, question by question.
pub fn check(
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    cancel: &CancelToken,
) -> Result<Report, CheckError> {
    let options = ProbeOptions::from_config(config)?;
    // The mail protocols asked first, whatever road the setting takes now.
    let protocols = with_roads(setting, Transport::Protocol);
    let (outgoing, incoming) = crate::checks::connection_inputs(&protocols, config, secrets, &options)?;
    let target = format!("{} ({} and {})", outgoing.user, outgoing.endpoint.host, incoming.endpoint.host);
    let mut report = Report::new(ProbeKind::Readiness, &setting.id, &target, Redactor::default());
    let graph = setting.oauth_credential() == Some(crate::model::CredentialKind::Microsoft365);
    if graph {
        roads(&mut report, setting, config, secrets, (&outgoing, &incoming), &options, cancel)?;
    } else {
        sending(&mut report, setting, &outgoing, &options, cancel);
        if !cancel.is_cancelled() {
            receiving(&mut report, &incoming, &options, cancel);
        }
    }
    permissions(&mut report, setting, config, secrets);
    let microsoft = graph || crate::model::providers::is_microsoft_host(&setting.smtp.server);
    if microsoft {
        microsoft_notes(&mut report, setting);
    }
    report.name_support(&config.support_contact());
    Ok(report)
}

/// `setting` with both sides on `road` (the protocols, or Microsoft Graph).
fn with_roads(setting: &MailSetting, road: Transport) -> MailSetting {
    let mut asked = setting.clone();
    asked.smtp.sends_with = road;
    asked.imap.reads_with = road;
    asked
}

/// A Microsoft 365 mailbox with an OAuth sign-in: each road asked — SMTP AUTH and
/// Microsoft Graph for sending, IMAP and Graph for reading — and the one that works
/// for this tenant recommended. A road that does not work is a "no" only when the
/// other one for that side does not work either; else a warning with its step.
fn roads(
    report: &mut Report,
    setting: &MailSetting,
    config: &Config,
    secrets: &Secrets,
    (outgoing, incoming): (&probe::OutgoingInput, &probe::IncomingInput),
    options: &ProbeOptions,
    cancel: &CancelToken,
) -> Result<(), CheckError> {
    let smtp_started = Instant::now();
    let smtp = probe::smtp::sign_in_to_pass_through(outgoing, options, cancel).map(drop);
    let smtp_took = smtp_started.elapsed();
    let imap_started = Instant::now();
    let imap = probe::imap::test_incoming(incoming, options, cancel);
    let imap_took = imap_started.elapsed();
    let imap_works =
        imap.stages.iter().any(|s| s.name == StageName::Authentication && s.outcome == StageOutcome::Passed);
    let through_graph = with_roads(setting, Transport::Graph);
    let (api_out, api_in) = crate::checks::connection_inputs(&through_graph, config, secrets, options)?;
    let route = crate::oauth::http::route_for(&config.network, secrets);
    let (graph_send, graph_read) = match (
        crate::checks::api_road(&through_graph, config, Protocol::Smtp),
        crate::checks::api_road(&through_graph, config, Protocol::Imap),
    ) {
        (Some(send_road), Some(read_road)) => (
            crate::mailapi::would_send(&send_road, &api_out, options, &route, cancel),
            crate::mailapi::would_read(&read_road, &api_in, options, &route, cancel),
        ),
        _ => return Ok(()),
    };
    let sends = [smtp.is_ok(), graph_send.passed];
    let reads = [imap_works, graph_read.passed];
    let outcome = |works: bool, other_works: bool| match (works, other_works) {
        (true, _) => StageOutcome::Passed,
        (false, true) => StageOutcome::Warning,
        (false, false) => StageOutcome::Failed,
    };
    match &smtp {
        Ok(()) => report.stage(
            StageName::SendingSignIn,
            smtp_took,
            StageOutcome::Passed,
            "OAuth sign-in for sending (SMTP AUTH) works",
            None,
        ),
        Err(failed) => {
            road_no(report, StageName::SendingSignIn, smtp_took, failed, outcome(false, sends[1]), "SMTP AUTH");
        }
    }
    if graph_send.passed {
        report.stage(StageName::ApiSending, Duration::ZERO, StageOutcome::Passed, &stage_detail(&graph_send), None);
    } else {
        road_no(
            report,
            StageName::ApiSending,
            Duration::ZERO,
            &graph_send,
            outcome(false, sends[0]),
            "Microsoft Graph",
        );
    }
    if imap_works {
        let detail = "IMAP sign-in works (IMAP is enabled for this mailbox)";
        report.stage(StageName::ReceivingSignIn, imap_took, StageOutcome::Passed, detail, None);
    } else {
        road_no(report, StageName::ReceivingSignIn, imap_took, &imap, outcome(false, reads[1]), "IMAP");
    }
    if graph_read.passed {
        report.stage(StageName::ApiReading, Duration::ZERO, StageOutcome::Passed, &stage_detail(&graph_read), None);
    } else {
        road_no(
            report,
            StageName::ApiReading,
            Duration::ZERO,
            &graph_read,
            outcome(false, reads[0]),
            "Microsoft Graph",
        );
    }
    recommend(report, setting, sends, reads);
    Ok(())
}

/// The detail of a report's last passed stage.
fn stage_detail(tested: &Report) -> String {
    tested.stages.iter().rev().find(|s| s.outcome == StageOutcome::Passed).map(|s| s.detail.clone()).unwrap_or_default()
}

/// A road that does not work: its words and the step for whoever acts, as a "no"
/// (`Failed`) or, where the side's other road works, a warning.
fn road_no(report: &mut Report, name: StageName, took: Duration, failed: &Report, outcome: StageOutcome, road: &str) {
    if outcome == StageOutcome::Failed {
        let side =
            if matches!(name, StageName::SendingSignIn | StageName::ApiSending) { "sending" } else { "receiving" };
        return answer_no(report, name, Instant::now().checked_sub(took).unwrap_or_else(Instant::now), failed, side);
    }
    let reply = failed.stages.iter().rev().find(|s| s.outcome == StageOutcome::Failed);
    let detail = format!("{road}: {} (the other road works)", failed.failure_summary());
    report.stage(name, took, outcome, &detail, reply.and_then(|s| s.server_reply.as_deref()));
    if let Some(diagnosis) = &failed.diagnosis {
        report.fact(&format!("To use {road} ({})", diagnosis.who.label()), diagnosis.next_step.clone());
    }
}

/// Which road to take for each side, said as the form and the CLI set it.
fn recommend(report: &mut Report, setting: &MailSetting, [smtp, graph_send]: [bool; 2], [imap, graph_read]: [bool; 2]) {
    let pick = |protocol: bool, graph: bool| match (protocol, graph) {
        (true, _) => Some(Transport::Protocol),
        (false, true) => Some(Transport::Graph),
        (false, false) => None,
    };
    let (send, read) = (pick(smtp, graph_send), pick(imap, graph_read));
    let words = |road: Option<Transport>, side: Protocol| {
        road.map_or_else(|| "no road works yet (see the steps)".to_owned(), |r| r.label(side).to_owned())
    };
    let mut text = format!("Sends with: {}; Reads with: {}", words(send, Protocol::Smtp), words(read, Protocol::Imap));
    let changes: Vec<String> = [
        send.filter(|r| *r != setting.smtp.sends_with)
            .map(|r| format!("--sends-with {}", r.config_name(Protocol::Smtp))),
        read.filter(|r| *r != setting.imap.reads_with)
            .map(|r| format!("--reads-with {}", r.config_name(Protocol::Imap))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !changes.is_empty() {
        text.push_str(&format!(
            " — set it in the form, or: mailsettings set-transport {} {}",
            setting.id,
            changes.join(" ")
        ));
    }
    report.fact("Recommended for this mailbox", text);
}

/// What the IT admin of a Microsoft 365 tenant needs beside the answers: how to read
/// the per-mailbox SMTP AUTH switch (empty is not "off"), and why Microsoft's other
/// ways of sending are no way out for invoices to customers.
fn microsoft_notes(report: &mut Report, setting: &MailSetting) {
    let mailbox = setting.smtp.user_name.trim();
    report.fact(
        "SMTP AUTH for this mailbox (mail administrator)",
        format!(
            "Get-CASMailbox {mailbox} | Format-List SmtpClientAuthenticationDisabled — empty ($null) means the mailbox \
             follows the organisation's setting (Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled), \
             which Microsoft turns off by default; $false turns it on for this mailbox whatever the organisation's \
             says: Set-CASMailbox {mailbox} -SmtpClientAuthenticationDisabled $false"
        ),
    );
    report.fact(
        "Not a way out",
        "High Volume Email and Direct Send reach only recipients inside your own organisation: invoices to \
         customers need this mailbox itself (signing in with OAuth, by SMTP or through Microsoft Graph), or a \
         connector to a relay service",
    );
}

/// Sending: a sign-in alone (no message), and what it means for the date Microsoft set.
fn sending(
    report: &mut Report,
    setting: &MailSetting,
    input: &probe::OutgoingInput,
    options: &ProbeOptions,
    cancel: &CancelToken,
) {
    let started = Instant::now();
    let oauth = setting.smtp_credential().uses_oauth();
    match probe::smtp::sign_in_to_pass_through(input, options, cancel) {
        Ok(signed_in) => {
            drop(signed_in);
            let today = time::OffsetDateTime::now_utc().date();
            if let Some((_, words)) = crate::model::providers::basic_smtp_ending(setting, today) {
                let detail = format!("Basic (password) sign-in for sending works today. {words}");
                report.stage(StageName::SendingSignIn, started.elapsed(), StageOutcome::Warning, &detail, None);
                report.fact(
                    "To do (you)",
                    format!("Migrate to OAuth: mailsettings migrate start {} --to microsoft365", setting.id),
                );
            } else {
                let how =
                    if oauth { "OAuth sign-in for sending (SMTP AUTH) works" } else { "sign-in for sending works" };
                report.stage(StageName::SendingSignIn, started.elapsed(), StageOutcome::Passed, how, None);
            }
        }
        Err(failed) => answer_no(report, StageName::SendingSignIn, started, &failed, "sending"),
    }
}

/// Receiving: Test Incoming's sign-in (IMAP enabled for the mailbox, the token accepted).
fn receiving(report: &mut Report, input: &probe::IncomingInput, options: &ProbeOptions, cancel: &CancelToken) {
    let started = Instant::now();
    let tested = probe::imap::test_incoming(input, options, cancel);
    let signed_in =
        tested.stages.iter().any(|s| s.name == StageName::Authentication && s.outcome == StageOutcome::Passed);
    if signed_in {
        let detail = "IMAP sign-in works (IMAP is enabled for this mailbox)";
        report.stage(StageName::ReceivingSignIn, started.elapsed(), StageOutcome::Passed, detail, None);
    } else {
        answer_no(report, StageName::ReceivingSignIn, started, &tested, "receiving");
    }
}

/// A "no": the server's words, the diagnosis, and the step for whoever must act.
fn answer_no(report: &mut Report, name: StageName, started: Instant, failed: &Report, side: &str) {
    let reply = failed.stages.iter().rev().find(|s| s.outcome == StageOutcome::Failed);
    let detail = format!("{side}: {}", failed.failure_summary());
    report.stage(name, started.elapsed(), StageOutcome::Failed, &detail, reply.and_then(|s| s.server_reply.as_deref()));
    if let Some(diagnosis) = &failed.diagnosis {
        report.fact(&format!("To do ({})", diagnosis.who.label()), diagnosis.next_step.clone());
        if report.diagnosis.is_none() {
            report.set_diagnosis(diagnosis.clone());
        }
    }
}

/// The mail permissions the sign-in was granted (a person's OAuth sign-in only).
fn permissions(report: &mut Report, setting: &MailSetting, config: &Config, secrets: &Secrets) {
    let started = Instant::now();
    if !setting.uses_oauth() || setting.oauth_flow == crate::model::OAuthFlow::App {
        return;
    }
    let Ok(provider) = crate::oauth::provider::resolve(setting, config) else { return };
    let Ok(Some(tokens)) = crate::oauth::tokens::TokenSet::load(secrets, &setting.id) else { return };
    if provider.mail_scopes.is_empty() {
        return; // a custom provider: nothing known to compare with
    }
    if tokens.scopes.is_empty() {
        let detail = "the provider did not say which permissions it granted";
        report.stage(StageName::Permissions, started.elapsed(), StageOutcome::Warning, detail, None);
        return;
    }
    let missing: Vec<&String> = provider.mail_scopes.iter().filter(|s| !tokens.scopes.contains(s)).collect();
    if missing.is_empty() {
        let detail = format!("granted: {}", provider.mail_scopes.join(", "));
        report.stage(StageName::Permissions, started.elapsed(), StageOutcome::Passed, &detail, None);
        return;
    }
    let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    let detail = format!("not granted: {}", missing.join(", "));
    report.stage(StageName::Permissions, started.elapsed(), StageOutcome::Failed, &detail, None);
    let request = crate::oauth::provider::admin_consent_request(&provider).unwrap_or_else(|| {
        "An administrator grants the app these permissions (admin consent), then press Connect again".to_owned()
    });
    report.fact("To do (mail administrator)", request);
}
