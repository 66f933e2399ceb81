//! JSON strings, for plugins that build small JSON answers by hand: the
//! crate has no dependencies, so there is no serde to lean on.
//!
//! ```
//! use kerberus_plugin::json;
//! let name = "Ann \"the\" \\ \n";
//! assert_eq!(format!("{{\"name\":{}}}", json::string(name)), r#"{"name":"Ann \"the\" \\ \n"}"#);
//! ```

use std::fmt::Write;

/// `s` as a JSON string literal, quotes included. Every input gives valid
/// JSON: quotes, backslashes and control characters are escaped (the
/// text is already UTF-8, being a `str`; request data read with the lossy
/// accessors is too).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_string(&mut out, s);
    out
}

/// Appends `s` as a JSON string literal to `out`.
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // The rest of C0 and DEL; U+2028/2029 too, which JSON allows
            // raw but JavaScript source did not before ES2019.
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires_and_keeps_the_rest() {
        assert_eq!(string(""), "\"\"");
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
        assert_eq!(string("\n\r\t\u{8}\u{c}"), "\"\\n\\r\\t\\b\\f\"");
        assert_eq!(string("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\\u007f\"");
        assert_eq!(string("é€😀"), "\"é€😀\"");
        assert_eq!(string("\u{2028}"), "\"\\u2028\"");
    }
}
