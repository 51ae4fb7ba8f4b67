-- Customers, staff notes, the name dictionary for typo-tolerant search, and the audit log.
-- Kept in lockstep with ../postgres/0001_customers.sql (a test compares the two schemas).
-- Instants are INTEGER microseconds since the Unix epoch (UTC); calendar dates are TEXT 'YYYY-MM-DD'.

CREATE TABLE customers (
    seq             INTEGER PRIMARY KEY,          -- stable rowid for the FTS index (survives VACUUM)
    id              TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL,
    middle_name     TEXT,
    last_name       TEXT NOT NULL,
    preferred_name  TEXT,
    name_text       TEXT NOT NULL,                -- lower-case name words, what search matches
    phone_e164      TEXT UNIQUE,
    phone_rev       TEXT,                         -- digits reversed: suffix search as a prefix range
    email           TEXT,
    email_key       TEXT UNIQUE,                  -- lower-case email
    date_of_birth   TEXT,
    customer_type   TEXT NOT NULL,
    addresses       TEXT NOT NULL DEFAULT '[]',   -- JSON array
    id_kind         TEXT,
    id_number       TEXT,
    id_number_key   TEXT,
    id_jurisdiction TEXT,
    id_expiry       TEXT,
    created_channel TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    ban_reason      TEXT,
    ban_note        TEXT,
    ban_since       INTEGER,
    ban_until       INTEGER,
    ban_by          TEXT
);
CREATE INDEX customers_phone_rev ON customers (phone_rev);
CREATE UNIQUE INDEX customers_id_document ON customers (id_number_key, id_jurisdiction);
CREATE INDEX customers_name_dob ON customers (last_name, date_of_birth);

CREATE VIRTUAL TABLE customers_fts USING fts5 (
    name_text, content = 'customers', content_rowid = 'seq', tokenize = 'trigram'
);
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, name_text) VALUES (new.seq, new.name_text);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name_text) VALUES ('delete', old.seq, old.name_text);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name_text ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name_text) VALUES ('delete', old.seq, old.name_text);
    INSERT INTO customers_fts (rowid, name_text) VALUES (new.seq, new.name_text);
END;

-- Deletion dictionary: every name word (4+ letters) and each string made by deleting one of its letters.
CREATE TABLE name_terms (
    variant TEXT NOT NULL,
    term    TEXT NOT NULL,
    PRIMARY KEY (variant, term)
) WITHOUT ROWID;

CREATE TABLE customer_notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX customer_notes_by_customer ON customer_notes (customer_id, created_at);

-- Append-only: the product never updates or deletes a row here (triggers refuse it).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
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
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
