-- Online customers' ID and medical-card submissions, the staff review queue and its per-store target.
-- Kept in lockstep with ../sqlite/0140_document_submissions.sql (a test compares the two schemas).

-- One row per submission. The proposed fields are what the barcode (or the customer's form) says;
-- whether they would pass is computed when read, against the store's rules on that day.
CREATE TABLE document_submissions (
    id                  TEXT PRIMARY KEY,
    customer_id         TEXT NOT NULL REFERENCES customers (id),
    store_id            TEXT NOT NULL REFERENCES stores (id),
    kind                TEXT NOT NULL,             -- id | medical_card
    status              TEXT NOT NULL,             -- pending | approved | rejected
    method              TEXT,                      -- scan | photo: how the proposal was read (id only)
    read_problem        TEXT,                      -- why nothing could be proposed
    document_kind       TEXT,
    number              TEXT,
    jurisdiction        TEXT,                      -- issuing state of a medical card
    expiry              TEXT,
    date_of_birth       TEXT,
    first_name          TEXT,
    last_name           TEXT,
    mismatches          TEXT NOT NULL,             -- JSON list of profile fields the document disagrees with
    submitted_by        TEXT NOT NULL,
    submitted_at        BIGINT NOT NULL,
    reviewed_by         TEXT,
    reviewed_by_id      TEXT,
    decided_at          BIGINT,
    reason_code         TEXT,                      -- rejections: one of a fixed list
    reason_text         TEXT,
    verification_id     TEXT REFERENCES id_verifications (id),
    images_deleted_at   BIGINT
);
CREATE INDEX document_submissions_queue ON document_submissions (status, submitted_at);
CREATE INDEX document_submissions_by_customer ON document_submissions (customer_id, submitted_at);

-- The photos, sealed like ID images: key_id || nonce || XChaCha20-Poly1305 ciphertext, AAD = customer id.
CREATE TABLE document_submission_images (
    submission_id TEXT NOT NULL REFERENCES document_submissions (id),
    position      BIGINT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    content_type  TEXT NOT NULL,
    sealed        BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (submission_id, position)
);

-- How long a submission may wait for a decision at each store; a store without a row uses the default.
CREATE TABLE document_review_targets (
    store_id       TEXT PRIMARY KEY REFERENCES stores (id),
    target_minutes BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL
);
