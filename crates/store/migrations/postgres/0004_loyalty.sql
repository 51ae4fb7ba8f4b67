-- Loyalty: the program's settings, an append-only points ledger, and the lots and balances derived from it.
-- Kept in lockstep with ../sqlite/0004_loyalty.sql (a test compares the two schemas).
--
-- The ledger (loyalty_entries, loyalty_allocations, loyalty_returns) is append-only: triggers refuse UPDATE
-- and DELETE. A customer's balance is the sum of their entries; loyalty_accounts and loyalty_lots are kept in
-- step in the same transaction (for locking and speed) and `canopy loyalty verify` checks them against it.

CREATE TABLE loyalty_program (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Every ledger write locks the customer's row here first (SELECT … FOR UPDATE).
CREATE TABLE loyalty_accounts (
    customer_id TEXT PRIMARY KEY REFERENCES customers (id),
    balance     BIGINT NOT NULL,
    owed        BIGINT NOT NULL CHECK (owed >= 0),
    updated_at  BIGINT NOT NULL
);

CREATE TABLE loyalty_entries (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    kind          TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust', 'expire', 'reverse')),
    cause_key     TEXT NOT NULL,
    points        BIGINT NOT NULL CHECK (points <> 0),
    balance_after BIGINT NOT NULL,
    unallocated   BIGINT NOT NULL CHECK (unallocated >= 0),
    order_id      TEXT,
    return_id     TEXT,
    lot_id        TEXT,
    amount_cents  BIGINT,
    reason        TEXT,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    actor_label   TEXT NOT NULL,
    at            BIGINT NOT NULL,
    UNIQUE (kind, cause_key)
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (customer_id, seq);
CREATE INDEX loyalty_entries_order ON loyalty_entries (order_id);

CREATE TABLE loyalty_lots (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    entry_seq    BIGINT NOT NULL UNIQUE REFERENCES loyalty_entries (seq),
    points       BIGINT NOT NULL CHECK (points > 0),
    repaid       BIGINT NOT NULL CHECK (repaid >= 0),
    remaining    BIGINT NOT NULL CHECK (remaining >= 0),
    earned_at    BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    expires_at   BIGINT
);
CREATE INDEX loyalty_lots_customer ON loyalty_lots (customer_id, remaining);
CREATE INDEX loyalty_lots_expiry ON loyalty_lots (expires_at, remaining);

CREATE TABLE loyalty_allocations (
    entry_seq BIGINT NOT NULL REFERENCES loyalty_entries (seq),
    lot_id    TEXT NOT NULL REFERENCES loyalty_lots (id),
    points    BIGINT NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_seq, lot_id)
);
CREATE INDEX loyalty_allocations_lot ON loyalty_allocations (lot_id);

CREATE TABLE loyalty_returns (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL,
    return_id         TEXT NOT NULL,
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    returned_cents    BIGINT NOT NULL,
    order_total_cents BIGINT NOT NULL,
    at                BIGINT NOT NULL,
    UNIQUE (order_id, return_id)
);

CREATE FUNCTION loyalty_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER loyalty_entries_no_change BEFORE UPDATE OR DELETE ON loyalty_entries
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only();
CREATE TRIGGER loyalty_allocations_no_change BEFORE UPDATE OR DELETE ON loyalty_allocations
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only();
CREATE TRIGGER loyalty_returns_no_change BEFORE UPDATE OR DELETE ON loyalty_returns
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only();
