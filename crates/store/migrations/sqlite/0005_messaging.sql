-- Messaging: the consent ledger, order-status SMS (templates and outbox), and outbound webhooks
-- (endpoints, subscriptions, the event outbox, deliveries and every attempt).
-- Kept in lockstep with ../postgres/0005_messaging.sql (a test compares the two schemas).

-- Append-only: current consent is the latest entry per (customer, channel, purpose).
CREATE TABLE consent_entries (
    seq                INTEGER PRIMARY KEY,
    customer_id        TEXT NOT NULL REFERENCES customers (id),
    channel            TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    status             TEXT NOT NULL,
    source             TEXT NOT NULL,
    disclosure_version TEXT,
    address            TEXT,
    evidence           TEXT,
    actor_kind         TEXT NOT NULL,
    actor_id           TEXT,
    actor_label        TEXT NOT NULL,
    recorded_at        INTEGER NOT NULL
);
CREATE INDEX consent_entries_latest ON consent_entries (customer_id, channel, purpose, seq);
CREATE TRIGGER consent_entries_no_update BEFORE UPDATE ON consent_entries BEGIN
    SELECT RAISE(ABORT, 'consent_entries is append-only');
END;
CREATE TRIGGER consent_entries_no_delete BEFORE DELETE ON consent_entries BEGIN
    SELECT RAISE(ABORT, 'consent_entries is append-only');
END;

-- Admin-edited message text per order status; a status without a row uses the built-in default.
CREATE TABLE sms_templates (
    order_status TEXT PRIMARY KEY,
    body         TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT NOT NULL
);

-- One row per (order, status): the unique key is what makes a status change text at most once.
-- A worker claims a row by setting lease_owner/lease_until; another process skips leased rows.
CREATE TABLE sms_outbox (
    id                  TEXT PRIMARY KEY,
    order_id            TEXT NOT NULL,
    order_status        TEXT NOT NULL,
    customer_id         TEXT NOT NULL REFERENCES customers (id),
    to_phone            TEXT NOT NULL,
    body                TEXT NOT NULL,
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    lease_owner         TEXT,
    lease_until         INTEGER,
    last_error          TEXT,
    provider_message_id TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    UNIQUE (order_id, order_status)
);
CREATE INDEX sms_outbox_due ON sms_outbox (state, next_attempt_at);

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    description TEXT,
    secret      TEXT NOT NULL,
    disabled_at INTEGER,
    deleted_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_subscriptions (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_type  TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_subscriptions_by_event ON webhook_subscriptions (event_type);

-- The outbox: written in the same transaction as the change it describes, only when some endpoint
-- subscribes to its type.
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    entity_id  TEXT,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    replay_of       TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    seq         INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, seq);
