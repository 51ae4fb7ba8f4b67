//! Lenient parser for the AAMVA DL/ID barcode (the PDF417 on the back of US
//! and Canadian driver licences and ID cards), versions 01–10. Pure: text in,
//! [`IdCard`] out, no I/O.
//!
//! # Why lenient
//!
//! The payload rarely reaches us as the standard describes it. Keyboard-wedge
//! scanners, web forms and line-ending conversion turn CR into LF or CRLF,
//! drop the record separator, replace every control character with `|`, add
//! a BOM or C1 control characters, and put junk inside the header (`@a\n`,
//! `@\n6M`). Jurisdictions add their own mistakes: wrong subfile offsets,
//! dates in the other version's layout, `NONE` for dates. A strict parser
//! reads 15 of the 108 readable payloads in our research corpus; a check-in
//! desk cannot live with that. So this parser keeps only what it can check
//! and reads the rest with fallbacks, and a bad optional field leaves that
//! field `None` rather than failing the scan.
//!
//! What is *not* lenient: a card without a readable date of birth or
//! licence/ID number is an error ([`ParseError::MissingFields`]), because
//! the profile would be unusable for the age check; and text without an AAMVA
//! header is [`ParseError::NotAamva`]. Both mean "rescan or type it in",
//! never a half-filled profile that looks verified.
//!
//! # How the data is found
//!
//! 1. Scanner noise is removed (BOM, U+0080–U+009F); bytes that are not
//!    UTF-8 are read as Latin-1 ([`parse_bytes`]).
//! 2. The header is found by its printable part, a file-type word (`ANSI `,
//!    `AAMVA`) followed by a run of digits, not by position or control
//!    characters. The length of that digit run tells the v01 layout (no
//!    jurisdiction version) from v02+.
//! 3. Subfile designators give the subfile *types* (and so the document type),
//!    but their offsets and lengths are never used to slice: they are wrong
//!    on many real cards and on almost all rescanned ones. Instead the body is
//!    split on any control character (or `|`), elements are recognised by the
//!    shape of their IDs (`D[A-D]?`, `Z??`), and subfile markers such as `DL`
//!    or `ZV` are recognised where they precede an element. A body whose
//!    separators were all stripped is scanned for known element IDs as a
//!    best effort.
//!
//! # Version-dependent fields
//!
//! Names: separate elements (`DCS`/`DAC`/`DAD`) when present, else v02–v03
//! `DCT` split at its first space or comma, else v01 `DAA` (`LAST,FIRST,
//! MIDDLE,SUFFIX`, or Pennsylvania's `FIRST MIDDLE LAST`); see `names`.
//!
//! Dates: the layout the version and country prescribe is tried first (v01
//! `CCYYMMDD`; v02 `MMDDCCYY`; v03+ `MMDDCCYY` in the US, `CCYYMMDD` in
//! Canada, country from `DCG` or else the IIN), then the other layout. Only a
//! real calendar date in 1900–2199 is accepted; `00000000`, `NONE` and other
//! junk read as absent. See `dates`.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod address;
mod bytes;
mod card;
mod dates;
mod elements;
mod error;
mod header;
mod input;
mod jurisdiction;
mod names;
mod raw;

pub use card::{CardProblem, DocumentType, IdCard, Sex, Summary};
pub use error::ParseError;
pub use header::SubfileDesignator;
pub use jiff::civil::Date;
pub use jurisdiction::Country;
pub use raw::Elements;

/// Longest input accepted, in bytes. Real payloads are 150–700 bytes; the
/// bound is generous enough for any scanner framing and keeps the worst-case
/// work of the element scanners small.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

/// Parses a decoded payload.
///
/// The text may carry anything a scanner adds around or inside the barcode
/// text (trailing newline from a keyboard wedge, CRLF, BOM…); none of it
/// needs stripping first.
pub fn parse(payload: &str) -> Result<IdCard, ParseError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ParseError::TooLong(payload.len()));
    }
    parse_text(payload)
}

fn parse_text(payload: &str) -> Result<IdCard, ParseError> {
    let text = input::strip_noise(payload);
    let header = header::find(&text).ok_or(ParseError::NotAamva)?;
    let z_types: Vec<[u8; 2]> = header
        .designators
        .iter()
        .filter_map(|d| <[u8; 2]>::try_from(d.subfile_type.as_bytes()).ok())
        .filter(|t| t.first() == Some(&b'Z'))
        .collect();
    let body_text = text.get(header.body_start..).unwrap_or_default();
    let separators = elements::Separators {
        pipes: header.pipes || uses_pipes(body_text),
    };
    let body = elements::split(body_text, separators, &z_types, header.version);
    card::assemble(header, &body)
}

/// Parses raw scanner bytes: UTF-8 when valid, otherwise Latin-1 (the PDF417
/// default character set).
pub fn parse_bytes(payload: &[u8]) -> Result<IdCard, ParseError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ParseError::TooLong(payload.len()));
    }
    parse_text(&input::decode(payload))
}

/// Parses raw scanner bytes into the `canopy id parse` output shape.
pub fn parse_summary(payload: &[u8]) -> Result<Summary, ParseError> {
    parse_bytes(payload).map(Summary::from)
}

/// A body with no line breaks but with pipes was put through a web form
/// that replaced the control characters, even if the header kept its own.
fn uses_pipes(body: &str) -> bool {
    !body.bytes().any(|c| c == b'\n' || c == b'\r') && body.contains('|')
}
