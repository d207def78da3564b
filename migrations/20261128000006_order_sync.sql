-- Order sync: each package stored once per (source, order id) with its raw
-- JSON; its detail lines fetched afterwards (claimed, with a lease), routed to
-- the publication, product, member and cooperative they are for; each status
-- change an event, once per remote change; answers to orders go through an
-- outbox committed before they are sent.
ALTER TABLE purchase_orders
    ADD COLUMN deadline         TIMESTAMPTZ,            -- 3 working days after order_date, by mappings/calendar
    ADD COLUMN needs_detail     BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN detail_updated_at TIMESTAMPTZ,           -- the remote updated_at of the lines stored
    ADD COLUMN lines_total      NUMERIC(18,2),
    ADD COLUMN amount_mismatch  BOOLEAN NOT NULL DEFAULT false, -- lines plus shipping differ from the total: kept, flagged
    ADD COLUMN unrouted_lines   INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN detail_attempts  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN detail_error     TEXT,
    ADD COLUMN next_detail_at   TIMESTAMPTZ,
    ADD COLUMN claimed_by       TEXT,
    ADD COLUMN claimed_until    TIMESTAMPTZ;
CREATE INDEX purchase_orders_detail_idx ON purchase_orders (id) WHERE needs_detail;
CREATE INDEX purchase_orders_coop_idx ON purchase_orders (cooperative_id, status);
-- Order lines find their publication by the listing id the catalogue gave it.
CREATE INDEX publications_seller_remote_idx ON publications (seller, remote_id) WHERE remote_id IS NOT NULL;

ALTER TABLE order_lines
    ADD COLUMN listing_remote_id TEXT,                  -- the catalogue's listing id the line names
    ADD COLUMN sku               TEXT,
    ADD COLUMN publication_id    BIGINT REFERENCES publications(id) ON DELETE SET NULL,
    ADD COLUMN product_id        BIGINT REFERENCES products(id) ON DELETE SET NULL,
    ADD COLUMN member_id         BIGINT REFERENCES members(id) ON DELETE SET NULL;

ALTER TABLE order_events
    ADD COLUMN remote_change TEXT,
    ADD CONSTRAINT order_events_remote_change_key UNIQUE (order_id, remote_change);

CREATE TABLE order_responses (
    id               BIGSERIAL PRIMARY KEY,
    order_id         BIGINT NOT NULL UNIQUE REFERENCES purchase_orders(id) ON DELETE CASCADE,
    decision         TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
    reason           TEXT,
    as_ubl           BOOLEAN NOT NULL DEFAULT false,
    idempotency_key  TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'refused')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TIMESTAMPTZ,
    claimed_by       TEXT,
    claimed_until    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at          TIMESTAMPTZ
);
