-- Loyalty: the program's settings, an append-only points ledger, and the lots and balances derived from it.
-- Kept in lockstep with ../postgres/0004_loyalty.sql (a test compares the two schemas).
--
-- The ledger (loyalty_entries, loyalty_allocations, loyalty_returns) is append-only: triggers refuse UPDATE
-- and DELETE. A customer's balance is the sum of their entries; loyalty_accounts and loyalty_lots are kept in
-- step in the same transaction (for locking and speed) and `canopy loyalty verify` checks them against it.

-- One program per installation: the JSON form of canopy_loyalty::Program.
CREATE TABLE loyalty_program (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- One row per customer with points history; every ledger write locks it first.
CREATE TABLE loyalty_accounts (
    customer_id TEXT PRIMARY KEY REFERENCES customers (id),
    balance     INTEGER NOT NULL,                       -- SUM(loyalty_entries.points)
    owed        INTEGER NOT NULL CHECK (owed >= 0),     -- points taken back after they were spent
    updated_at  INTEGER NOT NULL
);

CREATE TABLE loyalty_entries (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    kind          TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust', 'expire', 'reverse')),
    -- What caused the entry: the order id (earn, redeem), the return (reverse), the lot (expire), the entry
    -- itself (adjust). UNIQUE with kind, so a replayed order earns once and a lot expires once.
    cause_key     TEXT NOT NULL,
    points        INTEGER NOT NULL CHECK (points <> 0),
    balance_after INTEGER NOT NULL,
    unallocated   INTEGER NOT NULL CHECK (unallocated >= 0),  -- debit points no lot covered (became owed)
    order_id      TEXT,
    return_id     TEXT,
    lot_id        TEXT,
    amount_cents  INTEGER,           -- earn: cents earned on; redeem: value given; reverse: cents returned
    reason        TEXT,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    actor_label   TEXT NOT NULL,
    at            INTEGER NOT NULL,
    UNIQUE (kind, cause_key)
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (customer_id, seq);
CREATE INDEX loyalty_entries_order ON loyalty_entries (order_id);

-- Points that arrived together (from one credit entry) and share a pending period and an expiry.
CREATE TABLE loyalty_lots (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    entry_seq    INTEGER NOT NULL UNIQUE REFERENCES loyalty_entries (seq),
    points       INTEGER NOT NULL CHECK (points > 0),
    repaid       INTEGER NOT NULL CHECK (repaid >= 0),    -- points that paid off owed points on arrival
    remaining    INTEGER NOT NULL CHECK (remaining >= 0),  -- points - repaid - SUM(allocations)
    earned_at    INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    expires_at   INTEGER
);
CREATE INDEX loyalty_lots_customer ON loyalty_lots (customer_id, remaining);
CREATE INDEX loyalty_lots_expiry ON loyalty_lots (expires_at, remaining);

-- Which lots each debit entry consumed.
CREATE TABLE loyalty_allocations (
    entry_seq INTEGER NOT NULL REFERENCES loyalty_entries (seq),
    lot_id    TEXT NOT NULL REFERENCES loyalty_lots (id),
    points    INTEGER NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_seq, lot_id)
);
CREATE INDEX loyalty_allocations_lot ON loyalty_allocations (lot_id);

-- Every return reported for an order, so partial returns add up and a replayed return reverses once.
CREATE TABLE loyalty_returns (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL,
    return_id         TEXT NOT NULL,
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    returned_cents    INTEGER NOT NULL,
    order_total_cents INTEGER NOT NULL,
    at                INTEGER NOT NULL,
    UNIQUE (order_id, return_id)
);

CREATE TRIGGER loyalty_entries_no_update BEFORE UPDATE ON loyalty_entries BEGIN
    SELECT RAISE(ABORT, 'loyalty_entries is append-only');
END;
CREATE TRIGGER loyalty_entries_no_delete BEFORE DELETE ON loyalty_entries BEGIN
    SELECT RAISE(ABORT, 'loyalty_entries is append-only');
END;
CREATE TRIGGER loyalty_allocations_no_update BEFORE UPDATE ON loyalty_allocations BEGIN
    SELECT RAISE(ABORT, 'loyalty_allocations is append-only');
END;
CREATE TRIGGER loyalty_allocations_no_delete BEFORE DELETE ON loyalty_allocations BEGIN
    SELECT RAISE(ABORT, 'loyalty_allocations is append-only');
END;
CREATE TRIGGER loyalty_returns_no_update BEFORE UPDATE ON loyalty_returns BEGIN
    SELECT RAISE(ABORT, 'loyalty_returns is append-only');
END;
CREATE TRIGGER loyalty_returns_no_delete BEFORE DELETE ON loyalty_returns BEGIN
    SELECT RAISE(ABORT, 'loyalty_returns is append-only');
END;
