//! # canopy-loyalty — loyalty arithmetic without I/O
//!
//! The rules of a store's points program and the arithmetic every ledger write relies on. The storage layer
//! (`canopy-store`, module `loyalty`) keeps an append-only ledger; this crate decides *how many* points an
//! order earns, what points are worth, how far a redemption may go, how much of an order's points a return
//! takes back, and which lots a spend or an expiry consumes.
//!
//! ## Architecture invariants
//!
//! * **No I/O, no clock.** "Now", the customer's lots and the order's history are arguments.
//! * **Integers only.** Money is integer cents, points are integer points; intermediate products are `i128`,
//!   so no amount a store can hold overflows and nothing is rounded twice.
//! * **Rounding never creates points.** Earning rounds as the program says; money value rounds down;
//!   returns take back earned points rounded *up* and give back redeemed points rounded *down*, computed on
//!   the cumulative share returned, so any sequence of partial returns adds up to exactly the full return.
//! * **Oldest points are spent first** (lots ordered by when they were earned), so expiry takes as little as
//!   possible.
//!
//! ## Entry points
//! [`Program`] (settings and their arithmetic), [`plan_spend`] / [`plan_expiry`] (lot selection),
//! [`reversal`] (returns), [`summarize`] (what a customer sees).

#![deny(missing_docs)]

mod error;
mod kind;
mod lots;
mod program;
mod reversal;

pub use error::LoyaltyError;
pub use kind::EntryKind;
pub use lots::{
    Allocation, BalanceSummary, Dated, Lot, Spend, SpendFrom, plan_expiry, plan_spend, summarize,
};
pub use program::{EarnBasis, OrderAmounts, Program, Rounding};
pub use reversal::{ReturnShare, Reversal, reversal};
