-- Privacy: erasure (a marker on the kept customer row, a tombstone of keyed fingerprints, the secret they
-- are keyed with), the log of know and delete requests, and the one redaction the append-only tables allow.
-- Kept in lockstep with ../postgres/0070_privacy.sql (a test compares the two schemas).

-- When a customer was erased: the row stays (orders, limits history and loyalty totals point at it) with
-- every personal field emptied.
ALTER TABLE customers ADD COLUMN erased_at INTEGER;

-- The installation's secret for tombstone fingerprints, made on first use.
CREATE TABLE privacy_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     TEXT NOT NULL,                    -- hex of 32 random bytes
    created_at INTEGER NOT NULL
);

-- Keyed fingerprints of erased people's identifiers (no customer id, no identifier in the clear).
CREATE TABLE erasure_tombstones (
    fingerprint TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,                   -- phone | email | id_document | name_and_birth_date
    erased_at   INTEGER NOT NULL
);

-- Right-to-know and right-to-delete requests: who handled them, when, and the outcome.
CREATE TABLE privacy_requests (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,                  -- know | delete
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    reason       TEXT,
    outcome      TEXT NOT NULL,                  -- completed | refused
    detail       TEXT,                           -- refusal code
    handled_by   TEXT NOT NULL,
    handled_by_id TEXT,
    received_at  INTEGER NOT NULL
);
CREATE INDEX privacy_requests_by_customer ON privacy_requests (customer_id, received_at);
CREATE INDEX privacy_requests_by_age ON privacy_requests (received_at);

-- The audit log stays append-only except for one change: an erasure replaces the details of a row with
-- the marker below, leaving who did what and when untouched.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (new.changes = '{"redacted":"erasure"}' AND new.seq = old.seq AND new.at = old.at
          AND new.actor_kind = old.actor_kind AND new.actor_id IS old.actor_id
          AND new.actor_label = old.actor_label AND new.action = old.action AND new.entity = old.entity
          AND new.entity_id IS old.entity_id AND new.address IS old.address
          AND new.user_agent IS old.user_agent)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Likewise the consent ledger: an erasure may blank the evidence and the address it came from, nothing else.
DROP TRIGGER consent_entries_no_update;
CREATE TRIGGER consent_entries_no_update BEFORE UPDATE ON consent_entries
WHEN NOT (new.evidence IS NULL AND new.address IS NULL AND new.seq = old.seq
          AND new.customer_id = old.customer_id AND new.channel = old.channel AND new.purpose = old.purpose
          AND new.status = old.status AND new.source = old.source
          AND new.disclosure_version IS old.disclosure_version AND new.actor_kind = old.actor_kind
          AND new.actor_id IS old.actor_id AND new.actor_label = old.actor_label
          AND new.recorded_at = old.recorded_at)
BEGIN
    SELECT RAISE(ABORT, 'consent_entries is append-only');
END;
