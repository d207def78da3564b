-- What INAPROC says of each publication (list-produk-penyedia): its product
-- code on the catalogue, whether it is live ("tayang"), and the catalogue's
-- own words for its state. Model: live or not, plus the text (issue 18).
ALTER TABLE publications
    ADD COLUMN kd_produk TEXT,
    ADD COLUMN live BOOLEAN,
    ADD COLUMN status_produk TEXT,
    ADD COLUMN live_seen_at TIMESTAMPTZ;
CREATE INDEX publications_kd_produk_idx ON publications (seller, kd_produk) WHERE kd_produk IS NOT NULL;
