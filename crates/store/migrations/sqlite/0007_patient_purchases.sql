-- A caregiver's purchase for a patient: the order is the caregiver's, and it counts toward the
-- patient's purchase limits.
ALTER TABLE orders ADD COLUMN patient_id TEXT REFERENCES customers (id);
CREATE INDEX orders_patient_placed ON orders (patient_id, placed_at) WHERE patient_id IS NOT NULL;
