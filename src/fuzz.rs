//! Property ("fuzz") tests of every parser that reads untrusted bytes: server
//! replies (SMTP reply reader, IMAP greeting, capabilities), the XOAUTH2
//! challenge, the loopback redirect's request head, token-endpoint and userinfo
//! JSON, id_token claims, the config file, the audit log, the keyring chunk
//! header, the text made printable, and the redactor over any surrounding text. None may panic, hang or grow
//! without bound. `cargo test` runs a short round (proptest's default, or
//! PROPTEST_CASES); `scripts/fuzz` a long one. A failing input is minimised by
//! proptest and kept in tests/fuzz-regressions/, then replayed first on every run.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("tests/fuzz-regressions/parsers.txt"))),
        ..ProptestConfig::default()
    }
}

/// Bytes that look a little like protocol text (so the parsers go deep), or anything at all.
fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        "([0-9]{3}[ -][ -~]{0,80}\r\n){0,20}".prop_map(String::into_bytes),
        "(\\* [A-Z]{2,10} [ -~]{0,80}\r\n){0,10}".prop_map(String::into_bytes),
    ]
}

fn guarded(bytes: &[u8]) -> crate::probe::net::GuardedStream {
    crate::probe::net::GuardedStream::replaying(bytes)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_smtp_reply_reader_never_panics(bytes in wire_bytes()) {
        let mut stream = guarded(&bytes);
        for _ in 0..4 {
            if crate::probe::smtp_dialogue::read_reply(&mut stream).is_err() {
                break;
            }
        }
    }

    #[test]
    fn the_imap_greeting_and_capability_readers_never_panic(bytes in wire_bytes()) {
        let mut stream = guarded(&bytes);
        if let Ok(greeting) = crate::probe::imap_dialogue::read_untagged_greeting(&mut stream) {
            let _ = crate::probe::imap_dialogue::capabilities_in_greeting(&greeting);
            let _ = crate::probe::imap_dialogue::greeting_refusal(&greeting);
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = crate::probe::imap_dialogue::capabilities_in_greeting(&text);
        let _ = crate::probe::imap_dialogue::greeting_refusal(&text);
    }

    #[test]
    fn the_xoauth2_challenge_decoder_never_panics(text in "[A-Za-z0-9+/=\\s]{0,400}", raw in any::<String>()) {
        let _ = crate::probe::decode_base64(&text);
        let _ = crate::probe::decode_base64(&raw);
    }

    #[test]
    fn id_token_claims_never_panic(token in "[A-Za-z0-9_=.-]{0,400}", raw in any::<String>()) {
        let _ = crate::oauth::flow::id_token_claims(&token);
        let _ = crate::oauth::flow::id_token_claims(&raw);
    }

    #[test]
    fn the_config_parser_refuses_or_accepts_but_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        text in "(format = \"mailsettings/1\"\n)?(\\[\\[?[a-z_.]{1,20}\\]\\]?\n|[a-z_]{1,12} = (\"[ -~]{0,20}\"|[0-9]{1,25}|true|\\[\\])\n){0,30}",
    ) {
        let _ = crate::store::file::parse_config(&bytes, Path::new("fuzz.toml"));
        let _ = crate::store::file::parse_config(text.as_bytes(), Path::new("fuzz.toml"));
    }

    #[test]
    fn the_audit_reader_skips_what_it_cannot_read(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, &bytes).expect("write");
        let _ = crate::store::audit::read(&path);
    }

    #[test]
    fn the_keyring_chunk_header_is_bounded(text in "(\u{1}mailsettings-chunks:)?[0-9]{0,30}(@[0-9]{0,4})?") {
        if let Some(parts) = crate::store::secrets::Parts::of(&text) {
            prop_assert!(parts.count <= 4096);
            prop_assert!(parts.generation <= 2);
        }
    }

    #[test]
    fn the_loopback_request_handler_never_panics(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..4096),
            "(GET|POST|HEAD|get) [ -~]{0,200} HTTP/1\\.[01]\r\n([A-Za-z-]{1,20}: [ -~]{0,60}\r\n){0,10}\r\n"
                .prop_map(String::into_bytes),
            "GET /\\?((code|state|error|error_description)=[ -~&&[^ &#]]{0,40}&?){0,6} HTTP/1\\.1\r\n\r\n"
                .prop_map(String::into_bytes),
            // Our state, and states that are nearly ours (a prefix, longer, another case, empty).
            ("(fuzzstate|fuzzstat|fuzzstatex|FUZZSTATE|f|)", "(code=[a-z0-9]{1,8}|error=access_denied)")
                .prop_map(|(state, rest)| format!("GET /?{rest}&state={state} HTTP/1.1\r\n\r\n").into_bytes()),
        ],
    ) {
        let answer = crate::oauth::listener::answer(&bytes, "fuzzstate");
        prop_assert!(matches!(answer.status, 200 | 400 | 404), "{}", answer.status);
        if !matches!(answer.outcome, crate::oauth::listener::RedirectOutcome::Stray) {
            // The flow ends only on exactly our state, as the request's own query says it.
            let text = String::from_utf8_lossy(&bytes);
            let target = text.split(' ').nth(1).unwrap_or_default();
            let query = target.split_once('?').map_or("", |(_, query)| query);
            let ours = url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "state" && v == "fuzzstate");
            prop_assert!(ours, "the flow ended without exactly our state: {text:?}");
        }
    }

    #[test]
    fn token_responses_never_panic(
        expires_in in any::<u64>(),
        access in "[ -~]{0,40}",
        raw in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let json = format!(
            r#"{{"access_token":{},"token_type":"Bearer","expires_in":{expires_in},"refresh_token":"r","scope":"a b"}}"#,
            serde_json::Value::String(access),
        );
        for body in [json.as_bytes(), raw.as_slice()] {
            if let Ok(response) = serde_json::from_slice::<crate::oauth::tokens::Tokens>(body) {
                let tokens = crate::oauth::tokens::TokenSet::from_response(&response, "fuzz", None);
                prop_assert!(tokens.expires_at.is_none_or(|at| at > time::OffsetDateTime::UNIX_EPOCH));
            }
        }
    }

    #[test]
    fn userinfo_answers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..1024), name in any::<String>()) {
        let _ = crate::oauth::flow::account_from_userinfo(&raw);
        let named = serde_json::json!({ "email": name }).to_string();
        let account = crate::oauth::flow::account_from_userinfo(named.as_bytes());
        prop_assert!(account.is_some_and(|a| a.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())));
    }

    #[test]
    fn a_report_never_shows_a_secret_whatever_surrounds_it(
        secret in "[ -~]{4,24}",
        before in any::<String>(),
        after in any::<String>(),
    ) {
        let mut redactor = crate::probe::report::Redactor::new();
        redactor.add("ar@example.com", &crate::Secret::new(secret.clone()));
        let quoted = secret.replace('\\', "\\\\").replace('"', "\\\"");
        for text in [format!("{before}{secret}{after}"), format!("{before}\"{quoted}\"{after}")] {
            let shown = crate::printable::printable(&redactor.redact(&text));
            prop_assert!(!redactor.redact(&shown).contains(&secret), "{shown:?}");
            prop_assert!(!redactor.redact(&text).contains(&secret), "{text:?}");
        }
    }

    #[test]
    fn printable_text_has_no_control_characters(text in any::<String>()) {
        let shown = crate::printable::printable(&text);
        prop_assert!(shown.chars().all(|c| c == '\n' || c == '\t' || !c.is_control()), "{shown:?}");
        prop_assert!(!shown.contains('\u{202e}'), "a bidi override survived");
    }
}
