//! API tests: a real server on a random port and a fresh database per test, on SQLite and PostgreSQL.

mod auth;
mod checkout_loyalty;
mod customer_list;
mod customers;
mod documents;
mod gate;
mod id;
mod limits_meter;
mod loyalty;
mod merges;
mod messaging;
mod ops;
mod orders;
mod permissions;
mod privacy;
mod search;
mod security;
mod ui;
