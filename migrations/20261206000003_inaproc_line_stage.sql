-- INAPROC's product rows (e-purchasing-by-produk), staged against the order
-- they belong to as each page is read: a sync keeps no more than a page in
-- memory, and SQL says which orders have all their lines. Recomputable (read
-- again at the next run), so unlogged: a crash of the server empties it.
CREATE UNLOGGED TABLE inaproc_line_stage (
    order_id    BIGINT NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,              -- the order's status the row was listed under
    line_id     TEXT NOT NULL,              -- INAPROC's product id
    name        TEXT NOT NULL,
    line_total  NUMERIC(18,2) NOT NULL,
    raw         JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (order_id, status, line_id)
);
-- The orders whose lines are due, by what their product rows are queried with.
CREATE INDEX purchase_orders_due_detail_idx ON purchase_orders (source, kode_klpd, fiscal_year, status) WHERE needs_detail;
