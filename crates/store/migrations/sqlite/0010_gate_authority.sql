-- The server is the authority for compliance facts: a price different from the catalogue's is
-- recorded with who allowed it and why (JSON), and an order whose lines were described by the
-- caller rather than the catalogue says so.
ALTER TABLE orders ADD COLUMN price_override TEXT;
ALTER TABLE orders ADD COLUMN caller_asserted INTEGER NOT NULL DEFAULT 0;
-- API keys may be limited to stores: space-separated store ids, NULL for every store.
ALTER TABLE api_keys ADD COLUMN stores TEXT;
