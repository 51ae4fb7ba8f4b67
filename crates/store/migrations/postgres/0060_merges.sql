-- Duplicates and merges: merged-away profiles, the merges themselves (with what each moved, so it can
-- be undone), the bulk scan's review list and the pairs staff said are different people.
-- Kept in lockstep with ../sqlite/0060_merges.sql (a test compares the two schemas).

-- A merged-away profile keeps its row (its id stays resolvable) and points at the survivor.
ALTER TABLE customers ADD COLUMN merged_into TEXT REFERENCES customers (id);
CREATE INDEX customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE customer_merges (
    id              TEXT PRIMARY KEY,
    survivor_id     TEXT NOT NULL REFERENCES customers (id),
    merged_id       TEXT NOT NULL REFERENCES customers (id),
    fields          TEXT NOT NULL,
    survivor_before TEXT NOT NULL,
    survivor_after  TEXT NOT NULL,
    merged_before   TEXT NOT NULL,
    moved           TEXT NOT NULL,
    merged_at       BIGINT NOT NULL,
    merged_by       TEXT NOT NULL,
    undone_at       BIGINT,
    undone_by       TEXT
);
CREATE INDEX customer_merges_by_survivor ON customer_merges (survivor_id, merged_at);
CREATE INDEX customer_merges_by_merged ON customer_merges (merged_id, merged_at);

CREATE TABLE duplicate_pairs (
    customer_a TEXT NOT NULL REFERENCES customers (id),
    customer_b TEXT NOT NULL REFERENCES customers (id),
    score      BIGINT NOT NULL,
    level      TEXT NOT NULL,
    reasons    TEXT NOT NULL,
    found_at   BIGINT NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);
CREATE INDEX duplicate_pairs_by_score ON duplicate_pairs (score, customer_a, customer_b);

CREATE TABLE duplicate_dismissals (
    customer_a   TEXT NOT NULL REFERENCES customers (id),
    customer_b   TEXT NOT NULL REFERENCES customers (id),
    context      TEXT NOT NULL,
    dismissed_at BIGINT NOT NULL,
    dismissed_by TEXT NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);

-- No new order or check-in may land on a merged-away profile. FOR SHARE waits for a merge in progress
-- on that customer (which holds the row FOR UPDATE) and then reads what it committed, so a register
-- racing a merge fails instead of leaving an order behind on the merged-away profile.
CREATE FUNCTION refuse_merged_customer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    survivor TEXT;
BEGIN
    SELECT merged_into INTO survivor FROM customers WHERE id = NEW.customer_id FOR SHARE;
    IF survivor IS NOT NULL THEN
        RAISE EXCEPTION 'customer_merged';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER orders_not_for_merged BEFORE INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION refuse_merged_customer();
CREATE TRIGGER checkins_not_for_merged BEFORE INSERT ON checkins
    FOR EACH ROW EXECUTE FUNCTION refuse_merged_customer();
