-- Stores, products, customer groups and their discounts, orders (lines, returns, status events),
-- checkout idempotency keys and the check-in queue.
-- Kept in lockstep with ../sqlite/0003_orders.sql (a test compares the two schemas).
-- Money is BIGINT cents; per-unit measures are BIGINT mg (weights), µg (THC), µL (volume).

CREATE TABLE stores (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    licensee      TEXT NOT NULL,
    licence_type  TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    enforcement   TEXT NOT NULL,
    history_scope TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE products (
    id             TEXT PRIMARY KEY,
    sku            TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    category       TEXT NOT NULL,
    net_weight_mg  BIGINT,
    concentrate_mg BIGINT,
    thc_ug         BIGINT,
    volume_ul      BIGINT,
    price_cents    BIGINT NOT NULL,
    archived_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE customer_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE group_discounts (
    id           TEXT PRIMARY KEY,
    group_id     TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    basis_points BIGINT,
    amount_cents BIGINT,
    categories   TEXT,
    starts_on    TEXT,
    ends_on      TEXT
);
CREATE INDEX group_discounts_by_group ON group_discounts (group_id);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (group_id, customer_id)
);
CREATE INDEX group_members_by_customer ON group_members (customer_id);

CREATE TABLE orders (
    seq                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     TEXT NOT NULL UNIQUE,
    customer_id            TEXT NOT NULL REFERENCES customers (id),
    store_id               TEXT NOT NULL REFERENCES stores (id),
    channel                TEXT NOT NULL,
    status                 TEXT NOT NULL,
    customer_class         TEXT NOT NULL,
    subtotal_cents         BIGINT NOT NULL,
    discount_cents         BIGINT NOT NULL,
    loyalty_redeemed_cents BIGINT NOT NULL,
    total_cents            BIGINT NOT NULL,
    refunded_cents         BIGINT NOT NULL DEFAULT 0,
    discounts              TEXT NOT NULL DEFAULT '[]',
    payments               TEXT NOT NULL DEFAULT '[]',
    staff_id               TEXT,
    staff_label            TEXT NOT NULL,
    external_ref           TEXT,
    limits_decision        TEXT NOT NULL,
    limits_override        TEXT,
    placed_at              BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id, placed_at);
CREATE INDEX orders_by_store ON orders (store_id, placed_at);

CREATE TABLE order_lines (
    order_id          TEXT NOT NULL REFERENCES orders (id),
    line_no           BIGINT NOT NULL,
    product_id        TEXT,
    sku               TEXT,
    name              TEXT NOT NULL,
    category          TEXT NOT NULL,
    quantity          BIGINT NOT NULL,
    returned_quantity BIGINT NOT NULL DEFAULT 0,
    net_weight_mg     BIGINT,
    concentrate_mg    BIGINT,
    thc_ug            BIGINT,
    volume_ul         BIGINT,
    unit_price_cents  BIGINT NOT NULL,
    subtotal_cents    BIGINT NOT NULL,
    discount_cents    BIGINT NOT NULL,
    loyalty_cents     BIGINT NOT NULL,
    total_cents       BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    reason      TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX order_events_by_order ON order_events (order_id, seq);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    status_code  BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE checkins (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    store_id    TEXT NOT NULL REFERENCES stores (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    closed_at   BIGINT,
    actor_label TEXT NOT NULL
);
CREATE INDEX checkins_waiting ON checkins (store_id, status, seq);
