//! Instants are stored as microseconds since the Unix epoch: exact, sortable and identical on both engines.

use jiff::Timestamp;

pub fn to_micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub fn from_micros(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}
