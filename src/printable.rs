//! Text that came from a peer — a server's reply, an authorization server's
//! error description, a redirect's query — made safe to show on screen, print to
//! a terminal or paste into a ticket: control characters (ESC, BEL, the rest of
//! C0 and C1) and bidirectional overrides are shown escaped (`\u{1b}`), so
//! they can neither run as terminal commands nor reorder what a reader sees.
//! Line breaks and tabs stay: replies are multi-line. [`PrintableWriter`] does
//! the same to everything written through it (the CLI's standard output).

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

/// A line a server sent, fit to quote in a report: printable, its line end dropped,
/// at most 300 characters (then "…") — a hostile server cannot flood a report.
pub(crate) fn server_line(text: &str) -> String {
    let text = text.trim_end();
    let mut out = printable(&text.chars().take(300).collect::<String>());
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// `value` as pretty JSON whose every dangerous character is a JSON escape (`\u007f`):
/// serde_json leaves DEL, C1 controls, bidirectional marks and U+2028 as they are, and
/// [`printable`]'s `\u{7f}` inside a JSON string would make the output invalid JSON.
/// Outside strings JSON holds only ASCII, so every such character is in a string.
pub(crate) fn json_text(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn is_dangerous(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(c, '\r')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        // The Arabic letter mark reorders like the marks above; the line and paragraph
        // separators break a line where a reader (and a ticket system) sees none coming.
        || matches!(c, '\u{61c}' | '\u{2028}' | '\u{2029}')
}

/// A writer that passes everything through [`printable`]: a command's output
/// cannot carry a terminal command or a reordering mark, whichever handler wrote
/// it and whatever imported text it quotes. A character split across two writes
/// waits for its last byte.
#[derive(Debug)]
pub struct PrintableWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> PrintableWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, pending: Vec::new() }
    }
}

impl<W: std::io::Write> std::io::Write for PrintableWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            // An incomplete character at the end waits; invalid bytes are shown escaped.
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let ready: Vec<u8> = self.pending.drain(..valid).collect();
        self.inner.write_all(printable(&String::from_utf8_lossy(&ready)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.inner.write_all(printable(&String::from_utf8_lossy(&rest)).as_bytes())?;
        }
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for PrintableWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_hostile_replies_as_valid_json_escapes() {
        let reply = "535 no\u{7f}\u{85}\u{9b}[31m\u{202e}gnp.exe\u{2028}next\u{1b}[0m\r\n";
        let text = json_text(&serde_json::json!({ "reply": reply })).unwrap();
        assert!(
            text.contains("\\u007f")
                && text.contains("\\u0085")
                && text.contains("\\u202e")
                && text.contains("\\u2028")
        );
        assert_eq!(printable(&text), text, "nothing left for the printable writer to change");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["reply"], reply, "the reply itself, exactly, once parsed");
    }

    #[test]
    fn terminal_commands_and_bidi_overrides_are_shown_not_run() {
        assert_eq!(printable("ok\u{1b}[2J done"), "ok\\u{1b}[2J done");
        assert_eq!(printable("\u{1b}]52;c;ZXZpbA==\u{7}"), "\\u{1b}]52;c;ZXZpbA==\\u{7}", "an OSC 52 clipboard write");
        assert_eq!(printable("a\u{202e}cba"), "a\\u{202e}cba");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m", "a C1 control");
        assert_eq!(printable("line 1\nline 2\ttab"), "line 1\nline 2\ttab", "line breaks and tabs stay");
        assert_eq!(printable("CRLF\r\n"), "CRLF\\u{d}\n", "a bare CR could overwrite a line");
        assert_eq!(printable("Grüße, 日本"), "Grüße, 日本");
        assert_eq!(printable("a\u{2028}b\u{2029}c\u{61c}"), "a\\u{2028}b\\u{2029}c\\u{61c}", "separators and the ALM");
    }

    #[test]
    fn the_writer_escapes_whatever_is_written_even_split_mid_character() {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut writer = PrintableWriter::new(&mut out);
            let text = "Grüße \u{1b}[2J\u{202e}done\n".as_bytes();
            let split = 3; // inside "ü"
            writer.write_all(&text[..split]).unwrap();
            writer.write_all(&text[split..]).unwrap();
            writer.flush().unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "Grüße \\u{1b}[2J\\u{202e}done\n");
    }
}
