//! Customer segments without I/O.
//!
//! - [`bgnbd`]: the BG/NBD purchase model — fit to a store's order history, then per customer the probability
//!   they are still active and the purchases to expect, usable as segment fields.
//! - [`summary`]: the customer summary CSV the model is usually exchanged in.
//! - [`rules`]: the segment rule tree (format, size caps, field catalogue, validation).

pub mod bgnbd;
pub mod rules;
pub mod summary;
