//! Panic-free byte look-ups shared by the scanners.
//!
//! Scanners probe a few bytes ahead of their position all the time; reading
//! through these helpers means a truncated payload yields "no match" instead
//! of an out-of-bounds panic.

/// The byte at `i`, or NUL past the end (NUL counts as a separator, so a
/// probe past the end never looks like data).
pub(crate) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

pub(crate) fn is_upper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

/// True when `n` ASCII digits start at `i`.
pub(crate) fn digits_at(b: &[u8], i: usize, n: usize) -> bool {
    b.get(i..i.saturating_add(n))
        .is_some_and(|s| s.len() == n && s.iter().all(u8::is_ascii_digit))
}

/// Number of consecutive ASCII digits starting at `i`.
pub(crate) fn digit_run(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// Parses `n` ASCII digits at `i` as a number.
pub(crate) fn number_at(b: &[u8], i: usize, n: usize) -> Option<u32> {
    if !digits_at(b, i, n) {
        return None;
    }
    b.get(i..i.saturating_add(n))?
        .iter()
        .try_fold(0u32, |acc, &c| {
            acc.checked_mul(10)?.checked_add(u32::from(c - b'0'))
        })
}
