//! Text from outside (input files, the store, the review application) made safe to print on a
//! terminal: control characters and the characters that reorder bidirectional text are written as
//! visible escapes (`\u{1b}`, `\n`), so that a field can neither move the cursor, change colours or
//! rewrite what was printed before, nor make a line read differently from what it holds.
//!
//! Only human output goes through here; JSON output escapes control characters by itself.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| !unsafe_char(c) || (keep_newlines && c == '\n');
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if keep(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` on one line, every unsafe character escaped.
pub fn clean(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` over several lines: newlines kept, every other unsafe character escaped.
pub fn clean_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped() {
        assert!(matches!(clean("BRP é 😀"), Cow::Borrowed(_)));
        assert_eq!(clean("BR\u{1b}[2J\rP\n\t"), "BR\\u{1b}[2J\\rP\\n\\t");
        assert_eq!(clean("a\u{202e}b\u{7f}\u{85}"), "a\\u{202e}b\\u{7f}\\u{85}");
        assert_eq!(clean_lines("one\ntwo\u{1b}"), "one\ntwo\\u{1b}");
    }
}
