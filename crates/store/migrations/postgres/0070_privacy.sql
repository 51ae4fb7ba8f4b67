-- Privacy: erasure (a marker on the kept customer row, a tombstone of keyed fingerprints, the secret they
-- are keyed with), the log of know and delete requests, and the one redaction the append-only tables allow.
-- Kept in lockstep with ../sqlite/0070_privacy.sql (a test compares the two schemas).

ALTER TABLE customers ADD COLUMN erased_at BIGINT;

CREATE TABLE privacy_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE erasure_tombstones (
    fingerprint TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    erased_at   BIGINT NOT NULL
);

CREATE TABLE privacy_requests (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    reason       TEXT,
    outcome      TEXT NOT NULL,
    detail       TEXT,
    handled_by   TEXT NOT NULL,
    handled_by_id TEXT,
    received_at  BIGINT NOT NULL
);
CREATE INDEX privacy_requests_by_customer ON privacy_requests (customer_id, received_at);
CREATE INDEX privacy_requests_by_age ON privacy_requests (received_at);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.changes = '{"redacted":"erasure"}'
       AND (NEW.seq, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.actor_label, NEW.action, NEW.entity,
            NEW.entity_id, NEW.address, NEW.user_agent)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.actor_label, OLD.action, OLD.entity,
            OLD.entity_id, OLD.address, OLD.user_agent) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE OR REPLACE FUNCTION consent_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.evidence IS NULL AND NEW.address IS NULL
       AND (NEW.seq, NEW.customer_id, NEW.channel, NEW.purpose, NEW.status, NEW.source,
            NEW.disclosure_version, NEW.actor_kind, NEW.actor_id, NEW.actor_label, NEW.recorded_at)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.customer_id, OLD.channel, OLD.purpose, OLD.status, OLD.source,
            OLD.disclosure_version, OLD.actor_kind, OLD.actor_id, OLD.actor_label, OLD.recorded_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent_entries is append-only';
END;
$$;
