-- Getting paid (issue 37): the credits of each cooperative's bank statements,
-- each matched to the order it pays (the payment then recorded as a `paid`
-- step), or left for the staff to assign. A line of a statement is kept
-- once (its key: the cooperative, the bank, the day, the amount, the words
-- and its place among identical lines), so importing a statement again
-- records nothing twice.
CREATE TABLE bank_statements (
    id              BIGSERIAL PRIMARY KEY,
    cooperative_id  BIGINT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    bank            TEXT NOT NULL CHECK (length(bank) <= 60),
    file_name       TEXT NOT NULL CHECK (length(file_name) <= 300),
    credits         INTEGER NOT NULL,
    new_credits     INTEGER NOT NULL,
    imported_by     TEXT NOT NULL CHECK (length(imported_by) <= 100),
    imported_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE bank_credits (
    id              BIGSERIAL PRIMARY KEY,
    cooperative_id  BIGINT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    line_key        TEXT NOT NULL,
    statement_id    BIGINT NOT NULL REFERENCES bank_statements(id) ON DELETE CASCADE,
    line            INTEGER NOT NULL,
    booked_on       DATE NOT NULL,
    amount          NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    description     TEXT NOT NULL CHECK (length(description) <= 1000),
    reference       TEXT CHECK (length(reference) <= 200),
    state           TEXT NOT NULL CHECK (state IN ('matched', 'ambiguous', 'unmatched', 'assigned')),
    order_id        BIGINT REFERENCES purchase_orders(id) ON DELETE SET NULL,
    -- The bank's fee kept from the transfer when matched less a known fee.
    fee             NUMERIC(20,2) NOT NULL DEFAULT 0,
    candidates      BIGINT[] NOT NULL DEFAULT '{}',
    why             TEXT,
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    UNIQUE (cooperative_id, line_key)
);
CREATE INDEX bank_credits_open ON bank_credits (cooperative_id, booked_on) WHERE state IN ('ambiguous', 'unmatched');
CREATE INDEX bank_credits_order ON bank_credits (order_id) WHERE order_id IS NOT NULL;
