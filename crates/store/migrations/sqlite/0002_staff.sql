-- Staff accounts, the stores they work at, browser sessions, integration API keys and failed sign-ins.
-- Kept in lockstep with ../postgres/0002_staff.sql (a test compares the two schemas).
-- Secrets are never stored: passwords as Argon2id PHC strings, session tokens and API keys as SHA-256 hex.

CREATE TABLE staff_users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,          -- lower-case
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,                 -- budtender | manager | admin
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Store ids as text until the stores table arrives with the orders work.
CREATE TABLE staff_stores (
    user_id  TEXT NOT NULL REFERENCES staff_users (id),
    store_id TEXT NOT NULL,
    PRIMARY KEY (user_id, store_id)
) WITHOUT ROWID;

-- One row per signed-in browser; deleted at sign-out, expiry, password reset or deactivation.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES staff_users (id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,                  -- space-separated scope names
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Failed sign-ins, counted per account and per address to rate-limit guessing (works across processes).
CREATE TABLE sign_in_failures (
    seq      INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    address  TEXT,
    at       INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_username ON sign_in_failures (username, at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);
