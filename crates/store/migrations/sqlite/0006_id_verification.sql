-- ID verification, encrypted ID images, medical cards and caregiver links.
-- Kept in lockstep with ../postgres/0006_id_verification.sql (a test compares the two schemas).

-- Every verification ever recorded; the newest per customer is the one in force. Whether it still
-- holds is computed from expiry against the store's date when read (nothing flips a flag).
CREATE TABLE id_verifications (
    id                TEXT PRIMARY KEY,
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    method            TEXT NOT NULL,             -- scan | photo | manual
    document_kind     TEXT NOT NULL,
    document_number   TEXT NOT NULL,
    document_number_key TEXT NOT NULL,
    jurisdiction      TEXT,
    expiry            TEXT,
    date_of_birth     TEXT NOT NULL,
    reason            TEXT,                      -- required for manual entries
    verified_by       TEXT NOT NULL,
    verified_by_id    TEXT,
    verified_at       INTEGER NOT NULL
);
CREATE INDEX id_verifications_by_customer ON id_verifications (customer_id, verified_at);

-- At most one ID image per customer: key_id || nonce || XChaCha20-Poly1305 ciphertext, AAD = customer id.
CREATE TABLE id_images (
    customer_id     TEXT PRIMARY KEY REFERENCES customers (id),
    verification_id TEXT REFERENCES id_verifications (id),
    content_type    TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE medical_cards (
    customer_id         TEXT PRIMARY KEY REFERENCES customers (id),
    number              TEXT NOT NULL,
    issuing_state       TEXT NOT NULL,
    expiry              TEXT NOT NULL,
    rec_amount          TEXT,                    -- exact decimal as text
    rec_unit            TEXT,
    rec_category        TEXT,
    rec_expiry          TEXT,
    rec_document_ref    TEXT,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE caregiver_patients (
    caregiver_id TEXT NOT NULL REFERENCES customers (id),
    patient_id   TEXT NOT NULL REFERENCES customers (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (caregiver_id, patient_id)
);
CREATE INDEX caregiver_patients_by_patient ON caregiver_patients (patient_id);

-- Matching a scanned card to a profile by name and date of birth.
CREATE INDEX customers_birth_date ON customers (date_of_birth);
