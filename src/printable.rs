//! Text that came from a peer — a server's reply, an authorization server's
//! error description, a redirect's query — made safe to show on screen, print to
//! a terminal or paste into a ticket: control characters (ESC, BEL, the rest of
//! C0 and C1) and bidirectional overrides are shown escaped (`\u{1b}`), so
//! they can neither run as terminal commands nor reorder what a reader sees.
//! Line breaks and tabs stay: replies are multi-line.

/// `text` with every dangerous character written as a visible escape.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_dangerous(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(c, '\r')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_commands_and_bidi_overrides_are_shown_not_run() {
        assert_eq!(printable("ok\u{1b}[2J done"), "ok\\u{1b}[2J done");
        assert_eq!(printable("\u{1b}]52;c;ZXZpbA==\u{7}"), "\\u{1b}]52;c;ZXZpbA==\\u{7}", "an OSC 52 clipboard write");
        assert_eq!(printable("a\u{202e}cba"), "a\\u{202e}cba");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m", "a C1 control");
        assert_eq!(printable("line 1\nline 2\ttab"), "line 1\nline 2\ttab", "line breaks and tabs stay");
        assert_eq!(printable("CRLF\r\n"), "CRLF\\u{d}\n", "a bare CR could overwrite a line");
        assert_eq!(printable("Grüße, 日本"), "Grüße, 日本");
    }
}
