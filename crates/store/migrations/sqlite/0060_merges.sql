-- Duplicates and merges: merged-away profiles, the merges themselves (with what each moved, so it can
-- be undone), the bulk scan's review list and the pairs staff said are different people.
-- Kept in lockstep with ../postgres/0060_merges.sql (a test compares the two schemas).

-- A merged-away profile keeps its row (its id stays resolvable) and points at the survivor.
ALTER TABLE customers ADD COLUMN merged_into TEXT REFERENCES customers (id);
CREATE INDEX customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE customer_merges (
    id              TEXT PRIMARY KEY,
    survivor_id     TEXT NOT NULL REFERENCES customers (id),
    merged_id       TEXT NOT NULL REFERENCES customers (id),
    fields          TEXT NOT NULL,   -- JSON: the source chosen per field
    survivor_before TEXT NOT NULL,   -- JSON: both profiles as they were, and the survivor as it became
    survivor_after  TEXT NOT NULL,
    merged_before   TEXT NOT NULL,
    moved           TEXT NOT NULL,   -- JSON: the ids of every row the merge moved
    merged_at       INTEGER NOT NULL,
    merged_by       TEXT NOT NULL,
    undone_at       INTEGER,
    undone_by       TEXT
);
CREATE INDEX customer_merges_by_survivor ON customer_merges (survivor_id, merged_at);
CREATE INDEX customer_merges_by_merged ON customer_merges (merged_id, merged_at);

-- The review list: candidate pairs (customer_a < customer_b) found by the bulk scan.
CREATE TABLE duplicate_pairs (
    customer_a TEXT NOT NULL REFERENCES customers (id),
    customer_b TEXT NOT NULL REFERENCES customers (id),
    score      INTEGER NOT NULL,
    level      TEXT NOT NULL,
    reasons    TEXT NOT NULL,        -- JSON: the signals
    found_at   INTEGER NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);
CREATE INDEX duplicate_pairs_by_score ON duplicate_pairs (score, customer_a, customer_b);

-- "Not the same person", remembered so neither intake nor the scan asks again.
CREATE TABLE duplicate_dismissals (
    customer_a   TEXT NOT NULL REFERENCES customers (id),
    customer_b   TEXT NOT NULL REFERENCES customers (id),
    context      TEXT NOT NULL,      -- intake | review
    dismissed_at INTEGER NOT NULL,
    dismissed_by TEXT NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);

-- No new order or check-in may land on a merged-away profile (a register that read it just before the
-- merge committed): the write fails and the register retries on the survivor.
CREATE TRIGGER orders_not_for_merged BEFORE INSERT ON orders
WHEN (SELECT merged_into FROM customers WHERE id = NEW.customer_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'customer_merged');
END;
CREATE TRIGGER checkins_not_for_merged BEFORE INSERT ON checkins
WHEN (SELECT merged_into FROM customers WHERE id = NEW.customer_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'customer_merged');
END;
