-- After the order: what the cooperative's staff record of delivery, hand-over
-- (BAST), tax invoice (faktur), payment invoice and payment. Entries are only
-- added: a correction is a new entry, and the newest of each kind is in force.
-- What the catalogue itself reports (shipment status, COMPLETED) is read from
-- the order, not copied here.
CREATE TABLE order_fulfilment (
    id           BIGSERIAL PRIMARY KEY,
    order_id     BIGINT NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('shipped', 'delivered', 'bast', 'faktur', 'invoice', 'paid', 'payment_way')),
    number       TEXT CHECK (length(number) <= 100),
    on_date      DATE,
    amount       NUMERIC(20, 2) CHECK (amount >= 0),
    detail       TEXT CHECK (length(detail) <= 500),
    recorded_by  TEXT NOT NULL CHECK (length(recorded_by) <= 100),
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_fulfilment_order_idx ON order_fulfilment (order_id, kind, id);
