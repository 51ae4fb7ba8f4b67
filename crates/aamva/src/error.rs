//! Why a payload could not be read as a card.

/// A payload that cannot yield a usable profile. The check-in answer to all
/// of them is the same ("rescan or enter manually"); the variants say which
/// so the message can be specific.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// No `ANSI `/`AAMVA` file type followed by an issuer number: this is not
    /// an AAMVA barcode (or the scan lost its header).
    #[error(
        "not an AAMVA driver licence or ID barcode: no `ANSI`/`AAMVA` header with an issuer number"
    )]
    NotAamva,
    /// Far longer than any barcode can hold (a PDF417 symbol carries under
    /// 2 KB of text): refused up front so a pasted file or a hostile request
    /// cannot make the scanners work on megabytes.
    #[error("input is {0} bytes, longer than any ID barcode ({max} at most)", max = crate::MAX_PAYLOAD_BYTES)]
    TooLong(usize),
    /// A header was found but no data elements follow it.
    #[error("AAMVA header found but no data elements follow it; rescan the card")]
    NoElements,
    /// Data elements were read, but not the one a card is no use without:
    /// the date of birth, for the age check. Names are the output field
    /// names (`dob`). A missing document number is not fatal: the card is
    /// read with the problem named (`IdCard::problems`).
    #[error("card is missing or has unreadable mandatory fields: {}; rescan the card", .0.join(", "))]
    MissingFields(Vec<&'static str>),
}
