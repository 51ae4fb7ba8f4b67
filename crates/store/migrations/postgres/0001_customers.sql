-- Customers, staff notes, the name dictionary for typo-tolerant search, and the audit log.
-- Kept in lockstep with ../sqlite/0001_customers.sql (a test compares the two schemas).
-- Instants are BIGINT microseconds since the Unix epoch (UTC); calendar dates are TEXT 'YYYY-MM-DD'.
-- Columns searched by prefix range use COLLATE "C" so that >= / < compare bytes, as on SQLite.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customers (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL,
    middle_name     TEXT,
    last_name       TEXT NOT NULL,
    preferred_name  TEXT,
    name_text       TEXT NOT NULL,
    phone_e164      TEXT UNIQUE,
    phone_rev       TEXT COLLATE "C",
    email           TEXT,
    email_key       TEXT COLLATE "C" UNIQUE,
    date_of_birth   TEXT,
    customer_type   TEXT NOT NULL,
    addresses       TEXT NOT NULL DEFAULT '[]',
    id_kind         TEXT,
    id_number       TEXT,
    id_number_key   TEXT,
    id_jurisdiction TEXT,
    id_expiry       TEXT,
    created_channel TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ban_reason      TEXT,
    ban_note        TEXT,
    ban_since       BIGINT,
    ban_until       BIGINT,
    ban_by          TEXT
);
CREATE INDEX customers_phone_rev ON customers (phone_rev);
CREATE UNIQUE INDEX customers_id_document ON customers (id_number_key, id_jurisdiction);
CREATE INDEX customers_name_dob ON customers (last_name, date_of_birth);
CREATE INDEX customers_name_trgm ON customers USING gin (name_text gin_trgm_ops);

CREATE TABLE name_terms (
    variant TEXT NOT NULL,
    term    TEXT NOT NULL,
    PRIMARY KEY (variant, term)
);

CREATE TABLE customer_notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_notes_by_customer ON customer_notes (customer_id, created_at);

CREATE TABLE audit_log (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    address     TEXT,
    user_agent  TEXT,
    changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
