//! Turning scanner output into text the header and element scanners can trust.

use std::borrow::Cow;

/// Decodes raw scanner bytes.
///
/// PDF417 text defaults to ISO-8859-1, and keyboard-wedge scanners pass
/// single bytes such as `Ü` (0xDC) straight through, so bytes that are not
/// valid UTF-8 are read as Latin-1 instead of being rejected or replaced:
/// every byte then keeps its position, which the header scanner relies on.
pub(crate) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Removes characters that scanners and text pipelines add but that carry no
/// data: the UTF-8 byte-order mark and the C1 control range U+0080–U+009F
/// (IdParser's "undefined characters" CT fixture has U+0090 around every
/// separator). Borrows when there is nothing to remove, which is the usual case.
pub(crate) fn strip_noise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_noise) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|&c| !is_noise(c)).collect())
}

fn is_noise(c: char) -> bool {
    c == '\u{feff}' || ('\u{80}'..='\u{9f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_read_as_latin1() {
        assert_eq!(decode(b"@\n\xdcMANSI "), "@\n\u{dc}MANSI ");
    }

    #[test]
    fn bom_and_c1_controls_are_removed() {
        assert_eq!(strip_noise("\u{feff}@\u{90}\n\u{90}DAQ1"), "@\nDAQ1");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(strip_noise("@\nANSI "), Cow::Borrowed(_)));
    }
}
