-- Sign-ins refused by the rate limit are counted here, one row per throttled account or address and
-- window, instead of one audit row each (anyone could otherwise grow the append-only audit log without
-- signing in). The first refusal of a window writes one audit row; pruned after a day with the failures.
CREATE TABLE sign_in_throttles (
    key      TEXT PRIMARY KEY,               -- 'account:<username>' or 'address:<ip>'
    count    INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);
